package controller

import (
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// BenchmarkWhatIf7Days: a backtest of 7 days of 10 s samples (60,480) of
// a group with 3 triggers, on pesd's 5 s evaluation interval: 120,960
// evaluations and the periods, events and changes they make, written to
// the replay's own SQLite file.
func BenchmarkWhatIf7Days(b *testing.B) {
	h := newHarness(b)
	g := h.createGroup(api.GroupConfig{Name: "web", DesiredQuantity: 2, MinQuantity: 1, MaxQuantity: 20,
		AggregationPeriod: "1m", Cooldown: "2m", Sim: &api.SimConfig{BootTime: "30s"}})
	for _, s := range []api.TriggerSpec{
		{Name: ptr("busy"), Condition: ptr("avg(load, '5m') > 0.8"), Request: api.Request{ChangeBy: ptr(2)}},
		{Name: ptr("quiet"), Condition: ptr("avg(load, '5m') < 0.3"), Request: api.Request{ChangeBy: ptr(-1)}},
		{Name: ptr("spike"), Condition: ptr("max(load, '1m') > 0.95"), Request: api.Request{SetTo: ptr(12)}},
	} {
		if _, err := h.c.CreateTrigger(h.ctx, g.ID, s); err != nil {
			b.Fatal(err)
		}
	}
	const days = 7
	var samples []store.StoredSample
	for at := t0; at.Before(t0.Add(days * 24 * time.Hour)); at = at.Add(10 * time.Second) {
		v := loadAt(at)
		if at.Minute() == 30 && at.Hour() == 15 {
			v = 0.97 // a spike a day
		}
		samples = append(samples, store.StoredSample{Name: "load", Time: at, Value: v})
	}
	if err := h.st.Update(h.ctx, func(tx store.Tx) error { return tx.InsertSamples(g.ID, samples) }); err != nil {
		b.Fatal(err)
	}
	h.clk.Set(t0.Add(days * 24 * time.Hour))
	since, until := t0, h.clk.Now()
	var r api.WhatIf
	cpu0 := cpuTime()
	for b.Loop() {
		var err error
		if r, err = h.c.WhatIf(h.ctx, g.ID, api.WhatIfRequest{Since: &since, Until: &until}); err != nil {
			b.Fatal(err)
		}
	}
	cpu := cpuTime() - cpu0
	n := float64(b.N)
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/n, "ms/replay")
	b.ReportMetric(float64(cpu.Milliseconds())/n, "cpu-ms/replay")
	b.ReportMetric(float64(r.Samples), "samples")
	b.ReportMetric(float64(r.Replayed.Changes), "changes")
	if r.Samples < days*24*360 || r.Replayed.Changes == 0 {
		b.Errorf("replayed %d samples into %d changes, want %d samples and some changes", r.Samples, r.Replayed.Changes, days*24*360)
	}
}
