package controller

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// TestWhatIfNotifyTriggers: a notify trigger requests no capacity, and a
// replay sends no webhooks. Replayed, with the group's own triggers or a
// proposed one, its firings are notify firings (no request), noted as not
// sent, counted as notifications beside the record's, and its receiver
// hears nothing from the backtest.
func TestWhatIfNotifyTriggers(t *testing.T) {
	var posts atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	h := newHarness(t)
	h.opts.EvaluationInterval = 10 * time.Second
	h.open()
	defer h.c.Close()
	ask := api.TriggerSpec{Name: ptr("ask"), Condition: ptr("last(load) > 0.5"), Notify: &api.Notify{URL: recv.URL, Secret: "k"}}
	g := h.createGroup(api.GroupConfig{Name: "web", DesiredQuantity: 2, MinQuantity: 1, MaxQuantity: 10, AggregationPeriod: "10m"})
	if _, err := h.c.CreateTrigger(h.ctx, g.ID, ask); err != nil {
		t.Fatal(err)
	}
	for now := h.clk.Now(); now.Before(t0.Add(2 * time.Hour)); now = h.clk.Now() {
		h.clk.Advance(h.c.opts.EvaluationInterval)
		if now = h.clk.Now(); now.Second() < 10 {
			at, v := now.Truncate(time.Minute), 0.1
			if at.Sub(t0) >= 85*time.Minute {
				v = 0.9
			}
			h.push(g.ID, api.Sample{Name: "load", Value: v, Time: &at})
		}
		h.tick()
	}
	since, until := t0.Add(time.Hour), t0.Add(2*time.Hour)
	live := 0
	for _, e := range h.events(g.ID) {
		if e.NotifyFiring() && !e.Time.Before(since) && e.Time.Before(until) {
			live++
		}
	}
	if live == 0 {
		t.Fatal("the notify trigger never fired live")
	}
	// The live deliveries are done when their notified events are.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		n := 0
		for _, e := range h.events(g.ID) {
			if e.Type == api.EventNotified {
				n++
			}
		}
		if n == live {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d notified events, want %d", n, live)
		}
	}
	sent := posts.Load()

	for _, tc := range []struct {
		name     string
		triggers []api.TriggerSpec
	}{{"own", nil}, {"proposed", []api.TriggerSpec{ask}}} {
		got, err := h.c.WhatIf(h.ctx, g.ID, api.WhatIfRequest{Since: &since, Until: &until, Triggers: tc.triggers})
		if err != nil {
			t.Fatalf("%s: WhatIf: %v", tc.name, err)
		}
		firings := 0
		for _, e := range got.Events {
			if e.Type != api.EventTriggerFired {
				continue
			}
			if !e.NotifyFiring() {
				t.Errorf("%s: replayed firing %s requests %+v: a notify trigger requests nothing", tc.name, e.Label, e.Request)
				continue
			}
			firings++
			if len(e.Notes) != 1 || !strings.Contains(e.Notes[0], "a backtest sends nothing") {
				t.Errorf("%s: firing %s notes %q; want one saying the backtest sent nothing", tc.name, e.Label, e.Notes)
			}
		}
		if firings != live || got.Replayed.Notifications != live || got.Recorded.Notifications != live {
			t.Errorf("%s: %d notify firings replayed, summaries %d replayed, %d recorded; want %d each",
				tc.name, firings, got.Replayed.Notifications, got.Recorded.Notifications, live)
		}
		if got.Replayed.Changes != 0 {
			t.Errorf("%s: the replay made %d changes from notifications alone", tc.name, got.Replayed.Changes)
		}
	}
	if n := posts.Load(); n != sent {
		t.Errorf("the receiver got %d posts from the backtests; want none", n-sent)
	}
}
