package history_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
	"github.com/pes-project/terraform-provider-pes/reconciler/history"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlite"
)

// TestObserved: a trigger's Observed holds, from the stored samples, the
// last sample of each metric its condition reads, and for a target the
// mean over its window ending at the metric's last sample; a metric with
// no sample, and a trigger of a schedule alone, have none. Samples older
// than ObservedLookback (and the target's window) are not read.
func TestObserved(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "pes.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	t0 := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	four, tol := 4, 0.1
	triggers := []api.Trigger{
		{ID: "t-cond", GroupID: "g", Name: "hot", Condition: "avg(cpu, '2m') > 80 && max(queue_depth, '1m') > 10 && last(rps) > 1",
			Request: api.Request{ChangeBy: &four}, Enabled: true, CreatedAt: t0, UpdatedAt: t0},
		{ID: "t-target", GroupID: "g", Name: "keep", Request: api.Request{Target: &api.Target{Metric: "cpu", Value: 60, Tolerance: &tol, Window: "30s"}},
			Enabled: true, CreatedAt: t0, UpdatedAt: t0},
		{ID: "t-sched", GroupID: "g", Name: "morning", Schedule: "0 9 * * *", Request: api.Request{ChangeBy: &four}, Enabled: true, CreatedAt: t0, UpdatedAt: t0},
	}
	err = st.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertGroup(api.Group{ID: "g", GroupConfig: api.GroupConfig{Name: "web", Driver: "sim", MaxQuantity: 5},
			Status: api.GroupActive, CreatedAt: t0, UpdatedAt: t0}); err != nil {
			return err
		}
		for _, tr := range triggers {
			if err := tx.InsertTrigger(tr); err != nil {
				return err
			}
		}
		// cpu from two nodes: 0 s (out of the 30 s window ending at 40 s),
		// then 20, 30 and 40 s; queue_depth at 10 s; rps long before.
		return tx.InsertSamples("g", []store.StoredSample{
			{Name: "rps", Time: at(-3600), Value: 5},
			{Name: "cpu", NodeID: "n1", Time: at(0), Value: 10},
			{Name: "cpu", NodeID: "n1", Time: at(20), Value: 50},
			{Name: "cpu", NodeID: "n2", Time: at(30), Value: 70},
			{Name: "cpu", NodeID: "n1", Time: at(40), Value: 90},
			{Name: "queue_depth", Time: at(10), Value: 12},
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	// Just under the lookback after the last cpu: rps, an hour before, is
	// past it.
	h := history.New(st, history.WithClock(clock.NewFake(at(30).Add(history.ObservedLookback))))
	list, err := h.ListTriggers(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]api.Observation{}
	for _, tr := range list {
		got[tr.Name] = tr.Observed
	}
	want := map[string][]api.Observation{
		"hot": {{Metric: "cpu", Value: 90, Time: at(40)}, {Metric: "queue_depth", Value: 12, Time: at(10)}},
		// (50 + 70 + 90) / 3: the sample at 0 s is outside (10 s, 40 s].
		"keep":    {{Metric: "cpu", Value: 70, Time: at(40), Window: "30s"}},
		"morning": nil,
	}
	for name, w := range want {
		if !equalObservations(got[name], w) {
			t.Errorf("%s: observed %+v, want %+v", name, got[name], w)
		}
	}
	one, err := h.GetTrigger(ctx, "t-target")
	if err != nil || !equalObservations(one.Observed, want["keep"]) {
		t.Errorf("GetTrigger: %+v, %v; want observed %+v", one.Observed, err, want["keep"])
	}
}

func equalObservations(a, b []api.Observation) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Metric != b[i].Metric || a[i].Value != b[i].Value || !a[i].Time.Equal(b[i].Time) || a[i].Window != b[i].Window {
			return false
		}
	}
	return true
}
