package controller

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/source/prometheus/promtest"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// TestWhatIfPrometheusRange: a group whose load is a Prometheus metric
// source. pesd keeps the samples its instant queries answered, so a
// backtest replays them and asks Prometheus, with range queries at the
// passes' times, only for the times before the first kept one: none for
// a window they cover. Where pesd kept none, it asks for the whole
// window; either way it reproduces what the group recorded.
// Prometheus holds four hours of a load (every 10s, backfilled): 0.1,
// with 0.9 from +1h to +1h30m and from +2h to +2h20m.
func TestWhatIfPrometheusRange(t *testing.T) {
	// Hours in the past, within Prometheus's retention, on whole hours so
	// the passes fall on the points.
	base := time.Now().UTC().Truncate(time.Hour).Add(-5 * time.Hour)
	loadAt := func(at time.Time) float64 {
		switch d := at.Sub(base); {
		case d >= time.Hour && d < 90*time.Minute, d >= 2*time.Hour && d < 140*time.Minute:
			return 0.9
		}
		return 0.1
	}
	// The group runs from -20m, so pesd kept the load from -19m50s on.
	h, prom := promHarness(t, base.Add(-time.Hour), base.Add(3*time.Hour), 10*time.Second, loadAt, base.Add(-20*time.Minute))
	g := h.createGroup(api.GroupConfig{Name: "web", DesiredQuantity: 2, MinQuantity: 1, MaxQuantity: 10,
		AggregationPeriod: "10m", Cooldown: "5m", Sim: &api.SimConfig{BootTime: "30s"},
		MetricSources: []api.MetricSource{{Name: "load", Prometheus: &api.PrometheusSource{Query: "max(pes_test_load)"}}}})
	for _, s := range []api.TriggerSpec{
		{Name: ptr("busy"), Condition: ptr("avg(load, '5m') > 0.8"), Request: api.Request{ChangeBy: ptr(2)}},
		{Name: ptr("quiet"), Condition: ptr("avg(load, '5m') < 0.3"), Request: api.Request{ChangeBy: ptr(-1)}},
	} {
		if _, err := h.c.CreateTrigger(h.ctx, g.ID, s); err != nil {
			t.Fatal(err)
		}
	}
	for h.clk.Now().Before(base.Add(3 * time.Hour)) {
		h.clk.Advance(h.c.opts.EvaluationInterval)
		h.tick()
	}
	// The window starts in a quiet spell: the replay's group, created at
	// its start, is in cooldown for its first minutes.
	since, until := base.Add(50*time.Minute), base.Add(3*time.Hour)
	want := recordedByTrigger(t, h, g.ID, since, until)
	if len(want) < 4 {
		t.Fatalf("the record has %d changes, want the two busy spells and the quiet after each: %v", len(want), want)
	}

	// The windows are filled from an hour (the metric retention) before
	// the window: 3h10m of 10s steps, from -10m, all of them kept.
	got, err := h.c.WhatIf(h.ctx, g.ID, api.WhatIfRequest{Since: &since, Until: &until})
	if err != nil {
		t.Fatalf("WhatIf: %v", err)
	}
	if got.Queried != 0 || got.Samples != 1140 {
		t.Errorf("a window of kept samples: %d samples replayed, %d of them queried; want 1140, none queried", got.Samples, got.Queried)
	}
	if have := byTrigger(t, h, got.Changes); !slices.Equal(have, want) {
		t.Errorf("replay from kept samples:\n got %v\nwant %v", have, want)
	}

	// Kept from +20m on: Prometheus is asked for the 180 steps before.
	prune := func(before time.Time) {
		t.Helper()
		if err := h.st.Update(h.ctx, func(tx store.Tx) error { return tx.DeleteSamplesBefore(g.ID, before) }); err != nil {
			t.Fatal(err)
		}
	}
	prune(base.Add(20 * time.Minute))
	got, err = h.c.WhatIf(h.ctx, g.ID, api.WhatIfRequest{Since: &since, Until: &until})
	if err != nil {
		t.Fatalf("WhatIf: %v", err)
	}
	if got.Queried != 180 || got.Samples != 1140 {
		t.Errorf("kept from +20m: %d samples replayed, %d of them queried; want 1140, 180 queried", got.Samples, got.Queried)
	}
	if have := byTrigger(t, h, got.Changes); !slices.Equal(have, want) {
		t.Errorf("replay from range queries and kept samples:\n got %v\nwant %v", have, want)
	}

	// None kept (their history pruned): all of the window is asked of
	// Prometheus.
	prune(until.Add(time.Hour))
	got, err = h.c.WhatIf(h.ctx, g.ID, api.WhatIfRequest{Since: &since, Until: &until})
	if err != nil {
		t.Fatalf("WhatIf: %v", err)
	}
	if got.Queried != 1140 || got.Samples != 1140 {
		t.Errorf("%d samples replayed, %d of them queried; want 1140 queried", got.Samples, got.Queried)
	}
	if have := byTrigger(t, h, got.Changes); !slices.Equal(have, want) {
		t.Errorf("replay from range queries:\n got %v\nwant %v", have, want)
		for _, e := range h.events(g.ID) {
			if e.Time.After(since) {
				t.Logf("live %s %s %s %s", e.Time.Sub(base), e.Type, e.Status, e.Description)
			}
		}
		for _, e := range got.Events {
			t.Logf("replay %s %s %s %s", e.Time.Sub(base), e.Type, e.Status, e.Description)
		}
	}

	// pesd kept samples of load from +2h30m on (pushed under its name):
	// Prometheus is asked only for the times before.
	for at := base.Add(150 * time.Minute); at.Before(until); at = at.Add(10 * time.Second) {
		at := at
		h.push(g.ID, api.Sample{Name: "load", Value: loadAt(at), Time: &at})
	}
	got, err = h.c.WhatIf(h.ctx, g.ID, api.WhatIfRequest{Since: &since, Until: &until})
	if err != nil {
		t.Fatalf("WhatIf: %v", err)
	}
	if got.Queried != 960 || got.Samples != 1140 {
		t.Errorf("with 30m kept: %d samples replayed, %d of them queried; want 1140, 960 queried", got.Samples, got.Queried)
	}
	if have := byTrigger(t, h, got.Changes); !slices.Equal(have, want) {
		t.Errorf("replay from range queries and kept samples:\n got %v\nwant %v", have, want)
	}

	// A proposed threshold the load never passes: no busy changes.
	alt, err := h.c.WhatIf(h.ctx, g.ID, api.WhatIfRequest{Since: &since, Until: &until, Triggers: []api.TriggerSpec{
		{Name: ptr("busy"), Condition: ptr("avg(load, '5m') > 0.95"), Request: api.Request{ChangeBy: ptr(2)}},
	}})
	if err != nil {
		t.Fatalf("WhatIf: %v", err)
	}
	if len(alt.Changes) != 0 {
		t.Errorf("busy > 0.95 over a load of at most 0.9: %v, want no changes", byTrigger(t, h, alt.Changes))
	}

	// Prometheus gone: the backtest is unavailable, naming the source,
	// rather than replayed without its metric.
	prom.Stop()
	_, err = h.c.WhatIf(h.ctx, g.ID, api.WhatIfRequest{Since: &since, Until: &until})
	var e *api.Error
	if !errors.As(err, &e) || e.Code != api.CodeUnavailable || !strings.Contains(e.Message, "metric source load (max(pes_test_load))") ||
		!strings.Contains(e.Message, "connection refused") {
		t.Errorf("WhatIf with Prometheus stopped: %v, want unavailable naming the source and the error", err)
	}
}

// promHarness starts a Prometheus holding the load pes_test_load, at
// loadAt every step over [from, until) (backfilled), and a harness whose
// clock is at start, that passes every step and reads its groups'
// Prometheus metric sources from it.
func promHarness(t *testing.T, from, until time.Time, step time.Duration, loadAt func(time.Time) float64, start time.Time) (*harness, *promtest.Server) {
	t.Helper()
	var history []promtest.Point
	for at := from; at.Before(until); at = at.Add(step) {
		history = append(history, promtest.Point{Series: "pes_test_load", Time: at, Value: loadAt(at)})
	}
	prom := promtest.StartWithHistory(t, nil, history)
	h := newHarness(t)
	h.clk.Set(start)
	h.opts.EvaluationInterval = step
	h.opts.Sources.PrometheusURL = prom.URL
	h.crash() // reopen with the options
	return h, prom
}
