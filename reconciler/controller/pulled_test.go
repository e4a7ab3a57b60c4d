package controller

import (
	"context"
	"database/sql"
	"slices"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// TestPulledSamplesSurviveRestart: the samples a group's Prometheus metric
// source answered are stored as pushed ones are, a minute's worth to a
// row, and a restarted pesd rebuilds its windows from them. A crash loses
// at most the last minute's; a stop loses none.
func TestPulledSamplesSurviveRestart(t *testing.T) {
	// A load that differs at every 5s step, in the past (backfilled), so
	// the fake clock's queries answer with the step's own value.
	base := time.Now().UTC().Truncate(time.Hour).Add(-2 * time.Hour)
	loadAt := func(at time.Time) float64 { return float64(at.Sub(base) / time.Second) }
	h, _ := promHarness(t, base.Add(-10*time.Minute), base.Add(20*time.Minute), 5*time.Second, loadAt, base)
	g := h.createGroup(api.GroupConfig{Name: "web", DesiredQuantity: 1, MaxQuantity: 5, AggregationPeriod: "10m",
		Sim:           &api.SimConfig{BootTime: "1s"},
		MetricSources: []api.MetricSource{{Name: "load", Prometheus: &api.PrometheusSource{Query: "max(pes_test_load)"}}}})
	var passes []time.Time
	for h.clk.Now().Before(base.Add(3 * time.Minute)) {
		h.clk.Advance(h.c.opts.EvaluationInterval)
		h.tick()
		passes = append(passes, h.clk.Now())
	}

	// kept is the load as the store and the windows have it.
	kept := func() (stored, windowed []store.StoredSample) {
		t.Helper()
		all, err := h.st.Samples(h.ctx, g.ID, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range all {
			if s.Name == "load" {
				stored = append(stored, store.StoredSample{Name: s.Name, Time: s.Time, Value: s.Value})
			}
		}
		h.c.windows.Group(g.ID).Scan("load", base, h.clk.Now().Add(time.Second), func(ts []int64, vs []float64) {
			for i := range ts {
				windowed = append(windowed, store.StoredSample{Name: "load", Time: time.Unix(0, ts[i]).UTC(), Value: vs[i]})
			}
		})
		return stored, windowed
	}
	// want is the load of the passes up to last.
	want := func(last time.Time) []store.StoredSample {
		var out []store.StoredSample
		for _, at := range passes {
			if !at.After(last) {
				out = append(out, store.StoredSample{Name: "load", Time: at, Value: loadAt(at)})
			}
		}
		return out
	}

	// kill -9: the restarted pesd has the samples stored up to the last
	// write, in its windows too; the ones after were at most a minute's.
	h.crash()
	stored, windowed := kept()
	if len(stored) == 0 {
		t.Fatalf("no sample of the metric source stored after %d passes over 3m", len(passes))
	}
	last := stored[len(stored)-1].Time
	if end := passes[len(passes)-1]; end.Sub(last) >= pulledFlushAfter {
		t.Errorf("the last stored sample is at %s, %s before the last pass: more than a minute's lost", last, end.Sub(last))
	}
	if w := want(last); !slices.Equal(stored, w) {
		t.Errorf("stored after a crash:\n got %v\nwant %v", stored, w)
	}
	if !slices.Equal(windowed, stored) {
		t.Errorf("the restarted windows:\n got %v\nwant the stored %v", windowed, stored)
	}
	// Written a minute's worth at a time: a row per write, not per pass.
	db, err := sql.Open("sqlite3", "file:"+h.path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows int
	if err := db.QueryRow(`SELECT count(*) FROM sample_batches WHERE group_id = ? AND name = 'load'`, g.ID).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows > len(stored)/10 {
		t.Errorf("%d samples stored in %d rows, want a row for a minute's (12 passes)", len(stored), rows)
	}

	// A stop: the loop stores what the source answered before it returns.
	h.opts.EvaluationInterval, h.opts.ObserveInterval = 50*time.Millisecond, 50*time.Millisecond
	h.crash() // reopen with the options
	h.clk.Set(base.Add(10 * time.Minute))
	q0 := h.c.counts.queries.Load()
	ctx, cancel := context.WithCancel(h.ctx)
	h.c.Start(ctx)
	t.Cleanup(func() { cancel(); h.c.Close() })
	waitFor(t, 10*time.Second, "a query of the loop", func() bool { return h.c.counts.queries.Load() > q0 })
	if err := h.c.Close(); err != nil {
		t.Fatal(err)
	}
	h.crash()
	stored, windowed = kept()
	at := h.clk.Now()
	if i := slices.IndexFunc(stored, func(s store.StoredSample) bool { return s.Time.Equal(at) }); i < 0 || stored[i].Value != loadAt(at) {
		t.Errorf("after a stop, the loop's answers at +10m are not stored: %v", stored)
	}
	if !slices.Equal(windowed, stored) {
		t.Errorf("the restarted windows:\n got %v\nwant the stored %v", windowed, stored)
	}
}
