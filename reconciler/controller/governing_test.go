package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/engine"
	"github.com/pes-project/terraform-provider-pes/reconciler/governor"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// stubGovernor answers fixed bounds and records what it was told to
// forget.
type stubGovernor struct {
	mu     sync.Mutex
	bounds engine.Bounds
	forgot []string
}

func (s *stubGovernor) Bounds(ctx context.Context, g api.Group, t time.Time) (*engine.Bounds, error) {
	b := s.bounds
	b.Enforce = g.Predictive.Mode == api.PredictiveEnforce
	b.GovernInstructions = slices.Contains(g.Predictive.Governs, api.GovernInstructions)
	return &b, nil
}

func (s *stubGovernor) Forecast(ctx context.Context, g api.Group) (api.Forecast, error) {
	return api.Forecast{GroupID: g.ID, Mode: g.Predictive.Mode}, nil
}

func (s *stubGovernor) Forget(id string) {
	s.mu.Lock()
	s.forgot = append(s.forgot, id)
	s.mu.Unlock()
}

// governWith restarts the harness's controller with gov as its Governor.
func (h *harness) governWith(gov Governor) {
	h.t.Helper()
	h.opts.Governor = gov
	opts := h.opts
	opts.Store = h.st
	c, err := New(opts)
	if err != nil {
		h.t.Fatalf("New: %v", err)
	}
	h.c = c
}

// TestImmediateRequestGoverned: an immediate request has no decision
// record, so how the forecast clamped it (or why it did not) is written
// into its event's reason, and both explanations show it.
func TestImmediateRequestGoverned(t *testing.T) {
	window := engine.Bounds{Lower: 2, Upper: 4, Start: t0, End: t0.Add(time.Hour)}
	notReady := engine.Bounds{NotReady: "forecast needs 24h of history; the group has 3h"}
	tests := []struct {
		name        string
		mode        string
		bounds      engine.Bounds
		instruction bool // an immediate instruction instead of a trigger
		governs     []string
		wantDesired int
		wantNote    string // what the event's notes say
	}{
		{"trigger clamped", api.PredictiveEnforce, window, false, nil, 4,
			"clamped by forecast 4: 8 → 4 (the forecast for 10:00–11:00 authorizes 2–4)"},
		{"trigger in forecast_only", api.PredictiveForecastOnly, window, false, nil, 8,
			"forecast would clamp 8 → 4 (forecast_only, not applied) (the forecast for 10:00–11:00 authorizes 2–4)"},
		{"trigger, forecast not ready", api.PredictiveEnforce, notReady, false, nil, 8,
			"predictive governing did not clamp: forecast needs 24h of history; the group has 3h"},
		{"governed instruction clamped", api.PredictiveEnforce, window, true, []string{api.GovernInstructions}, 4,
			"clamped by forecast 4: 8 → 4"},
		{"instruction not governed", api.PredictiveEnforce, window, true, nil, 8, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.governWith(&stubGovernor{bounds: tt.bounds})
			g := h.createGroup(api.GroupConfig{Name: "gov", DesiredQuantity: 2, MaxQuantity: 10, Sim: &api.SimConfig{BootTime: "1s"},
				Predictive: &api.Predictive{Mode: tt.mode, Governs: tt.governs}})
			h.runTo(2*time.Second, nil)
			var ev api.Event
			if tt.instruction {
				var err error
				ev, err = h.c.Instruct(h.ctx, g.ID, api.Instruction{Request: api.Request{SetTo: ptr(8)}, Immediate: true, Actor: "alice",
					Reason: "launch day"})
				if err != nil {
					t.Fatal(err)
				}
			} else {
				if _, err := h.c.CreateTrigger(h.ctx, g.ID, api.TriggerSpec{Name: ptr("spike"),
					Condition: ptr("last(queue_depth) > 100"), Request: api.Request{SetTo: ptr(8)}, Immediate: ptr(true)}); err != nil {
					t.Fatal(err)
				}
				h.push(g.ID, api.Sample{Name: "queue_depth", Value: 500})
				h.tick()
				fired := eventsOfType(h.events(g.ID), api.EventTriggerFired)
				if len(fired) != 1 {
					t.Fatalf("firings %v, want one", labelsOf(fired))
				}
				ev = fired[0]
			}
			if got := h.group(g.ID).DesiredQuantity; got != tt.wantDesired {
				t.Errorf("desired %d, want %d", got, tt.wantDesired)
			}
			// The reason is the requester's alone: pesd's words are notes.
			if wantReason := map[bool]string{true: "launch day"}[tt.instruction]; ev.Reason != wantReason {
				t.Errorf("reason %q, want %q", ev.Reason, wantReason)
			}
			notes := strings.Join(ev.Notes, "; ")
			if tt.wantNote == "" {
				if len(ev.Notes) > 0 {
					t.Errorf("notes %q, want none", ev.Notes)
				}
				return
			}
			if !strings.Contains(notes, tt.wantNote) {
				t.Errorf("notes %q, want %q in them", ev.Notes, tt.wantNote)
			}
			ed, err := h.hist().ExplainEvent(h.ctx, ev.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(ed.Explanation, tt.wantNote) {
				t.Errorf("event explanation lacks %q:\n%s", tt.wantNote, ed.Explanation)
			}
			if len(ed.Effects) != 1 {
				t.Fatalf("effects %+v, want one change", ed.Effects)
			}
			cd, err := h.hist().ExplainChange(h.ctx, ed.Effects[0].Change.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(cd.Explanation, tt.wantNote) {
				t.Errorf("change explanation lacks %q:\n%s", tt.wantNote, cd.Explanation)
			}
		})
	}
}

// TestDeleteForgetsForecast: a deleted group's cached fit is dropped.
func TestDeleteForgetsForecast(t *testing.T) {
	h := newHarness(t)
	gov := &stubGovernor{}
	h.governWith(gov)
	keep := h.createGroup(api.GroupConfig{Name: "keep", DesiredQuantity: 1, Predictive: &api.Predictive{Mode: api.PredictiveEnforce}})
	gone := h.createGroup(api.GroupConfig{Name: "gone", DesiredQuantity: 1, Predictive: &api.Predictive{Mode: api.PredictiveEnforce}})
	if err := h.c.DeleteGroup(h.ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	if len(gov.forgot) != 1 || gov.forgot[0] != gone.ID {
		t.Errorf("forgot %v, want only %s (not %s)", gov.forgot, gone.ID, keep.ID)
	}
}

// historyCSV is a CSV of desired quantities every 10 minutes in [from, to):
// 10 from 09:00 to 17:00 and 4 otherwise, each straying -1, 0, +1, so the
// forecast for 10:00 authorizes 9–11.
func historyCSV(from, to time.Time) string {
	var b strings.Builder
	b.WriteString("time,desired\n")
	for tm := from; tm.Before(to); tm = tm.Add(10 * time.Minute) {
		q := 4
		if h := tm.Hour(); h >= 9 && h < 17 {
			q = 10
		}
		q += tm.Minute()/10%3 - 1
		fmt.Fprintf(&b, "%s,%d\n", tm.Format(time.RFC3339), q)
	}
	return b.String()
}

// TestImportHistory: a new group governed from an imported past: the
// forecast is ready at once and clamps an immediate trigger; a deleted or
// unknown group, or a pesd without a forecaster, refuses the import.
func TestImportHistory(t *testing.T) {
	h := newHarness(t)
	h.governWith(governor.New(h.st, governor.WithClock(h.clk)))
	pred := &api.Predictive{Mode: api.PredictiveEnforce, Interval: "1h", MinHistory: "24h"}
	g := h.createGroup(api.GroupConfig{Name: "new", DesiredQuantity: 10, MaxQuantity: 30, Sim: &api.SimConfig{BootTime: "1s"}, Predictive: pred})

	f, err := h.c.Forecast(h.ctx, g.ID)
	if err != nil || f.Ready {
		t.Fatalf("before the import: forecast ready %v (%s), %v; want not ready", f.Ready, f.Reason, err)
	}
	csv := historyCSV(t0.Add(-3*24*time.Hour), t0)
	n, err := h.c.ImportHistory(h.ctx, g.ID, strings.NewReader(csv))
	if want := strings.Count(csv, "\n") - 1; err != nil || n != want {
		t.Fatalf("ImportHistory = %d, %v; want %d", n, err, want)
	}
	f, err = h.c.Forecast(h.ctx, g.ID)
	if err != nil || !f.Ready || len(f.Intervals) == 0 {
		t.Fatalf("after the import: forecast %+v, %v; want ready intervals", f, err)
	}
	if iv := f.Intervals[0]; iv.Lower != 9 || iv.Upper != 11 {
		t.Errorf("forecast for 10:00 authorizes %d–%d, want 9–11", iv.Lower, iv.Upper)
	}

	h.runTo(2*time.Second, nil)
	if _, err := h.c.CreateTrigger(h.ctx, g.ID, api.TriggerSpec{Name: ptr("spike"),
		Condition: ptr("last(queue_depth) > 100"), Request: api.Request{SetTo: ptr(25)}, Immediate: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	h.push(g.ID, api.Sample{Name: "queue_depth", Value: 500})
	h.tick()
	if got := h.group(g.ID).DesiredQuantity; got != 11 {
		t.Errorf("desired %d after a trigger asked for 25, want the forecast's 11", got)
	}
	fired := eventsOfType(h.events(g.ID), api.EventTriggerFired)
	if len(fired) != 1 || !strings.Contains(strings.Join(fired[0].Notes, "; "), "clamped by forecast 11: 25 → 11") {
		t.Errorf("firings %+v, want one clamped by the forecast", fired)
	}

	tests := []struct {
		name  string
		setup func() string
		check func(error) bool
	}{
		{"unknown group", func() string { return "0190aaaa-0000-7000-8000-000000000000" },
			func(err error) bool { return errors.Is(err, store.ErrNotFound) }},
		{"deleted group", func() string {
			d := h.createGroup(api.GroupConfig{Name: "deleted", DesiredQuantity: 0, Predictive: pred})
			if err := h.c.DeleteGroup(h.ctx, d.ID); err != nil {
				t.Fatal(err)
			}
			return d.ID
		}, func(err error) bool { var ae *api.Error; return errors.As(err, &ae) && ae.Code == api.CodeConflict }},
		{"bad history", func() string { return g.ID },
			func(err error) bool {
				var ae *api.Error
				return errors.As(err, &ae) && ae.Status == 400 && ae.Field == "history"
			}},
		{"no forecaster", func() string { h.governWith(nil); return g.ID },
			func(err error) bool { var ae *api.Error; return errors.As(err, &ae) && ae.Code == api.CodeConflict }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := h.c.ImportHistory(h.ctx, tt.setup(), strings.NewReader("time,desired\nyesterday,3\n"))
			if n != 0 || !tt.check(err) {
				t.Errorf("ImportHistory = %d, %v", n, err)
			}
		})
	}
}

// TestPredictiveSettingsChecked: settings each valid but giving no
// forecast together are refused at create and patch, naming the field.
func TestPredictiveSettingsChecked(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name  string
		p     api.Predictive
		field string
	}{
		{"min_history over history", api.Predictive{Mode: api.PredictiveEnforce, History: "1d", MinHistory: "2d"}, "predictive.min_history"},
		{"default min_history over history", api.Predictive{Mode: api.PredictiveEnforce, History: "12h"}, "predictive.min_history"},
		{"interval over a day", api.Predictive{Mode: api.PredictiveForecastOnly, Interval: "2d"}, "predictive.interval"},
	}
	g := h.createGroup(api.GroupConfig{Name: "ok", DesiredQuantity: 1})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := api.GroupConfig{Name: "bad", Driver: api.DriverSim, Program: api.Program{Command: "w"}, DesiredQuantity: 1, Predictive: &tt.p}
			if err := api.ResolveGroupConfig(&cfg); err != nil {
				t.Fatalf("api rejects it already: %v", err)
			}
			_, err := h.c.CreateGroup(h.ctx, cfg)
			var ae *api.Error
			if !errors.As(err, &ae) || ae.Status != 400 || ae.Field != tt.field {
				t.Errorf("CreateGroup: %v, want a 400 naming %s", err, tt.field)
			}
			p := tt.p
			_, err = h.c.UpdateGroup(h.ctx, g.ID, api.GroupPatch{Predictive: &p})
			if !errors.As(err, &ae) || ae.Status != 400 || ae.Field != tt.field {
				t.Errorf("UpdateGroup: %v, want a 400 naming %s", err, tt.field)
			}
		})
	}
	if got := h.group(g.ID); got.Predictive != nil {
		t.Errorf("a refused patch changed the group: %+v", got.Predictive)
	}
}
