package controller

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/governor"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
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

// TestWhatIfGoverned: the replay is governed as live decisions are, by a
// forecast of the group's real quantity history (three imported days:
// 10 ± 1 from 09:00 to 17:00, so 9–11 at 11:00). A proposed trigger that
// sets 25 when the load passes 0.5 (at +1h15m) is held to 11 under a
// proposed predictive enforce, and the summary counts the clamps; the
// same proposal ungoverned goes to 25. The group's own predictive
// settings govern a replay that proposes none, and a proposal can turn
// them off.
func TestWhatIfGoverned(t *testing.T) {
	h := newHarness(t)
	h.opts.EvaluationInterval = 10 * time.Second
	h.opts.ReplayGovernor = func(st store.Reader) Governor { return governor.New(st) }
	h.governWith(governor.New(h.st, governor.WithClock(h.clk)))
	cfg := api.GroupConfig{Name: "web", DesiredQuantity: 10, MaxQuantity: 30, AggregationPeriod: "10m",
		Sim: &api.SimConfig{BootTime: "1s"}}
	g := h.createGroup(cfg)
	if _, err := h.c.ImportHistory(h.ctx, g.ID, strings.NewReader(historyCSV(t0.Add(-3*24*time.Hour), t0))); err != nil {
		t.Fatal(err)
	}
	for now := h.clk.Now(); now.Before(t0.Add(2 * time.Hour)); now = h.clk.Now() {
		h.clk.Advance(h.c.opts.EvaluationInterval)
		if now = h.clk.Now(); now.Second() == 0 {
			load := 0.1
			if now.Sub(t0) >= 75*time.Minute {
				load = 0.9
			}
			h.push(g.ID, api.Sample{Name: "load", Value: load, Time: &now})
		}
		h.tick()
	}
	since, until := t0.Add(time.Hour), t0.Add(2*time.Hour)
	spike := []api.TriggerSpec{{Name: ptr("spike"), Condition: ptr("last(load) > 0.5"), Request: api.Request{SetTo: ptr(25)}}}
	enforce := &api.Predictive{Mode: api.PredictiveEnforce, Interval: "1h", MinHistory: "24h"}
	whatif := func(p *api.Predictive) api.WhatIf {
		t.Helper()
		req := api.WhatIfRequest{Since: &since, Until: &until, Triggers: spike}
		if p != nil {
			req.Group = &api.GroupPatch{Predictive: p}
		}
		w, err := h.c.WhatIf(h.ctx, g.ID, req)
		if err != nil {
			t.Fatalf("WhatIf: %v", err)
		}
		return w
	}
	quantities := func(w api.WhatIf) []int {
		var qs []int
		for _, c := range w.Changes {
			qs = append(qs, c.QuantityAfter)
		}
		return qs
	}

	free := whatif(nil)
	if qs := quantities(free); !slices.Equal(qs, []int{25}) || free.Replayed.ForecastClamps != 0 {
		t.Fatalf("ungoverned replay: changes to %v, %d forecast clamps; want to 25, none", qs, free.Replayed.ForecastClamps)
	}
	held := whatif(enforce)
	if qs := quantities(held); !slices.Equal(qs, []int{11}) {
		t.Fatalf("governed replay: changes to %v, want to 11, the forecast's upper bound", qs)
	}
	// The trigger fires once a period while the load is high: in each of
	// the four periods that end in the window from +1h15m on (at +1h20m,
	// +1h30m, +1h40m, +1h50m) it asks for 25 and is held to 11.
	if n := held.Replayed.ForecastClamps; n != 4 {
		t.Errorf("governed replay: %d forecast clamps, want 4", n)
	}
	if !strings.Contains(held.Changes[0].Explanation, "forecast") {
		t.Errorf("the governed change's explanation does not name the forecast: %s", held.Changes[0].Explanation)
	}
	if held.Recorded != free.Recorded || held.Recorded.ForecastClamps != 0 {
		t.Errorf("recorded summaries differ: %+v and %+v", held.Recorded, free.Recorded)
	}

	// The group's own settings govern its replay, unless the proposal
	// turns them off.
	if _, err := h.c.UpdateGroup(h.ctx, g.ID, api.GroupPatch{Predictive: enforce}); err != nil {
		t.Fatal(err)
	}
	if qs := quantities(whatif(nil)); !slices.Equal(qs, []int{11}) {
		t.Errorf("replay of a governed group: changes to %v, want to 11", qs)
	}
	if qs := quantities(whatif(&api.Predictive{Mode: api.PredictiveOff})); !slices.Equal(qs, []int{25}) {
		t.Errorf("replay proposing predictive off: changes to %v, want to 25", qs)
	}

	// A pesd that cannot govern a replay says so rather than replay
	// ungoverned.
	h.opts.ReplayGovernor = nil
	h.governWith(h.opts.Governor)
	_, err := h.c.WhatIf(h.ctx, g.ID, api.WhatIfRequest{Since: &since, Until: &until})
	var e *api.Error
	if !errors.As(err, &e) || e.Code != api.CodeConflict || e.Field != "group.predictive" {
		t.Errorf("WhatIf without a replay governor: %v, want a conflict on group.predictive", err)
	}
}
