package controller

import (
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// recordLoad runs a group without triggers on the harness until t0+d,
// pushing load(at) once a minute and ticking each evaluation interval.
func recordLoad(t *testing.T, h *harness, cfg api.GroupConfig, d time.Duration, load func(at time.Duration) float64) api.Group {
	t.Helper()
	g := h.createGroup(cfg)
	for now := h.clk.Now(); now.Before(t0.Add(d)); now = h.clk.Now() {
		h.clk.Advance(h.c.opts.EvaluationInterval)
		now = h.clk.Now()
		if now.Second() < int(h.c.opts.EvaluationInterval/time.Second) {
			at := now.Truncate(time.Minute)
			h.push(g.ID, api.Sample{Name: "load", Value: load(at.Sub(t0)), Time: &at})
		}
		h.tick()
	}
	return g
}

// TestWhatIfCost: with billing, both summaries carry the money of the
// nodes' time over the window, as the costs endpoint totals it. The group
// really ran 2 nodes for the 2h window at 0.50 EUR a node-hour: 2.000000.
// The proposal sets 4 when the load passes 0.5 (at +1h25m); its period
// ends at +1h30m, so 2 more nodes run the last 1h30m: 2×2h + 2×1h30m =
// 7h of node time, 3.500000.
func TestWhatIfCost(t *testing.T) {
	h := newHarness(t)
	h.opts.EvaluationInterval = 10 * time.Second
	h.open()
	g := recordLoad(t, h, api.GroupConfig{Name: "web", DesiredQuantity: 2, MinQuantity: 1, MaxQuantity: 10,
		AggregationPeriod: "10m", Sim: &api.SimConfig{BootTime: "30s"},
		Billing: &api.Billing{PricePerNodeHour: "0.50", Currency: "EUR"}}, 3*time.Hour,
		func(at time.Duration) float64 {
			if at >= 85*time.Minute {
				return 0.9
			}
			return 0.1
		})
	since, until := t0.Add(time.Hour), t0.Add(3*time.Hour)
	costs, err := h.hist().Costs(h.ctx, h.group(g.ID), since, until, h.clk.Now(), api.CostsByDay)
	if err != nil {
		t.Fatal(err)
	}
	got, err := h.c.WhatIf(h.ctx, g.ID, api.WhatIfRequest{Since: &since, Until: &until, Triggers: []api.TriggerSpec{
		{Name: ptr("busy"), Condition: ptr("last(load) > 0.5"), Request: api.Request{SetTo: ptr(4)}},
	}})
	if err != nil {
		t.Fatalf("WhatIf: %v", err)
	}
	if len(got.Changes) != 1 || !got.Changes[0].StartedAt.Equal(t0.Add(90*time.Minute)) || got.Changes[0].QuantityAfter != 4 {
		t.Fatalf("replayed changes %v (%+v), want one to 4 at +1h30m", byTrigger(t, h, got.Changes), got.Changes)
	}
	if r := got.Recorded; r.Cost != "2.000000" || r.Currency != "EUR" || r.Cost != costs.TotalCost {
		t.Errorf("recorded cost %q %q, want 2.000000 EUR, as the costs endpoint says (%s)", r.Cost, r.Currency, costs.TotalCost)
	}
	if r := got.Replayed; r.Cost != "3.500000" || r.Currency != "EUR" {
		t.Errorf("replayed cost %q %q, want 3.500000 EUR", r.Cost, r.Currency)
	}

	// Without billing, no cost is claimed.
	h2 := newHarness(t)
	h2.opts.EvaluationInterval = 10 * time.Second
	h2.open()
	g2 := recordLoad(t, h2, api.GroupConfig{Name: "free", DesiredQuantity: 2, AggregationPeriod: "10m"}, 2*time.Hour,
		func(time.Duration) float64 { return 0.1 })
	since2 := t0.Add(time.Hour)
	free, err := h2.c.WhatIf(h2.ctx, g2.ID, api.WhatIfRequest{Since: &since2})
	if err != nil {
		t.Fatalf("WhatIf: %v", err)
	}
	if free.Replayed.Cost != "" || free.Replayed.Currency != "" || free.Recorded.Cost != "" || free.Recorded.Currency != "" {
		t.Errorf("without billing: replayed %+v, recorded %+v; want no cost", free.Replayed, free.Recorded)
	}
}
