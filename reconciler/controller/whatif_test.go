package controller

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// loadAt is a day's load: busy from 09:00 to 17:00, with a lunch dip.
func loadAt(t time.Time) float64 {
	switch h := t.Hour(); {
	case h == 12:
		return 0.5
	case h >= 9 && h < 17:
		return 0.9
	default:
		return 0.1
	}
}

// recordDays runs a group with two triggers on the harness for days,
// pushing a load sample a minute and ticking each evaluation interval, as
// pesd's loop does, and returns the group.
func recordDays(t *testing.T, h *harness, days int) api.Group {
	t.Helper()
	g := h.createGroup(api.GroupConfig{Name: "web", DesiredQuantity: 2, MinQuantity: 1, MaxQuantity: 10,
		AggregationPeriod: "10m", Cooldown: "5m", Sim: &api.SimConfig{BootTime: "30s"}})
	for _, s := range []api.TriggerSpec{
		{Name: ptr("busy"), Condition: ptr("avg(load, '5m') > 0.8"), Request: api.Request{ChangeBy: ptr(2)}},
		{Name: ptr("quiet"), Condition: ptr("avg(load, '5m') < 0.3"), Request: api.Request{ChangeBy: ptr(-1)}},
	} {
		if _, err := h.c.CreateTrigger(h.ctx, g.ID, s); err != nil {
			t.Fatalf("CreateTrigger: %v", err)
		}
	}
	end := t0.Add(time.Duration(days) * 24 * time.Hour)
	for now := h.clk.Now(); now.Before(end); now = h.clk.Now() {
		h.clk.Advance(h.c.opts.EvaluationInterval)
		now = h.clk.Now()
		if now.Second() < int(h.c.opts.EvaluationInterval/time.Second) {
			at := now.Truncate(time.Minute)
			h.push(g.ID, api.Sample{Name: "load", Value: loadAt(at), Time: &at})
		}
		h.tick()
	}
	return g
}

// byTrigger describes changes as "type amount quantity_after [trigger names]".
func byTrigger(t *testing.T, h *harness, cs []api.ChangeDetail) []string {
	t.Helper()
	var out []string
	for _, c := range cs {
		var names []string
		for _, cause := range c.Causes {
			names = append(names, cause.Event.Source.Name)
		}
		slices.Sort(names)
		out = append(out, fmt.Sprintf("%s %d→%d %v", c.Type, c.QuantityBefore, c.QuantityAfter, slices.Compact(names)))
	}
	return out
}

// recordedByTrigger is the group's real changes started in [since,
// until), as byTrigger writes them.
func recordedByTrigger(t *testing.T, h *harness, groupID string, since, until time.Time) []string {
	t.Helper()
	real, err := listChanges(h.ctx, h.st, storeChangesSince(groupID))
	if err != nil {
		t.Fatal(err)
	}
	real = slices.DeleteFunc(real, func(c api.Change) bool { return c.StartedAt.Before(since) || !c.StartedAt.Before(until) })
	realDetail, err := h.hist().ExplainChanges(h.ctx, real)
	if err != nil {
		t.Fatal(err)
	}
	return byTrigger(t, h, realDetail)
}

// TestWhatIfReproducesTheRecord: replaying three days of recorded samples
// with the group's own configuration reproduces its changes (count,
// quantities, causes by trigger name); a proposed threshold changes the
// answer, explained; the record is left alone.
func TestWhatIfReproducesTheRecord(t *testing.T) {
	h := newHarness(t)
	h.opts.EvaluationInterval = 10 * time.Second
	h.open()
	g := recordDays(t, h, 3)
	since := t0.Add(2 * time.Hour) // after the group's creation settled
	until := h.clk.Now()

	want := recordedByTrigger(t, h, g.ID, since, until)
	if len(want) < 6 {
		t.Fatalf("the record has %d changes over 3 days, want a few a day: %v", len(want), want)
	}
	eventsBefore := len(h.events(g.ID))

	got, err := h.c.WhatIf(h.ctx, g.ID, api.WhatIfRequest{Since: &since, Until: &until})
	if err != nil {
		t.Fatalf("WhatIf: %v", err)
	}
	if have := byTrigger(t, h, got.Changes); !slices.Equal(have, want) {
		t.Errorf("replay with the current configuration:\n got %d %v\nwant %d %v", len(have), have, len(want), want)
	}
	if got.Replayed.Changes != got.Recorded.Changes || got.Replayed.PeakQuantity != got.Recorded.PeakQuantity ||
		fmt.Sprintf("%.3f", got.Replayed.NodeHours) != fmt.Sprintf("%.3f", got.Recorded.NodeHours) {
		t.Errorf("summaries differ: replayed %+v, recorded %+v", got.Replayed, got.Recorded)
	}
	if got.BootTime != "30s" {
		t.Errorf("boot time %q, want 30s (the group's observed launches)", got.BootTime)
	}
	if n := len(h.events(g.ID)); n != eventsBefore {
		t.Errorf("the backtest wrote to the group's record: %d events, had %d", n, eventsBefore)
	}

	// A busier threshold: the scale-up trigger never fires at 0.9.
	proposed := []api.TriggerSpec{
		{Name: ptr("busy"), Condition: ptr("avg(load, '5m') > 0.95"), Request: api.Request{ChangeBy: ptr(2)}},
		{Name: ptr("quiet"), Condition: ptr("avg(load, '5m') < 0.3"), Request: api.Request{ChangeBy: ptr(-1)}},
	}
	alt, err := h.c.WhatIf(h.ctx, g.ID, api.WhatIfRequest{Since: &since, Until: &until, Triggers: proposed})
	if err != nil {
		t.Fatalf("WhatIf proposed: %v", err)
	}
	have := byTrigger(t, h, alt.Changes)
	if slices.Equal(have, want) {
		t.Fatalf("a proposed threshold change left the changes as they were: %v", have)
	}
	for _, c := range alt.Changes {
		if c.Explanation == "" || len(c.Causes) == 0 {
			t.Errorf("change %s of the replay is not explained: %+v", c.Label, c)
		}
		if strings.Contains(fmt.Sprint(byTrigger(t, h, []api.ChangeDetail{c})), "busy") {
			t.Errorf("busy (> 0.95) caused %s, and load never passes 0.9", c.Label)
		}
	}
	if alt.Replayed.NodeHours >= got.Replayed.NodeHours || alt.Replayed.Changes >= got.Replayed.Changes {
		t.Errorf("without scale-up: %+v, want fewer changes and node-hours than %+v", alt.Replayed, got.Replayed)
	}
	if alt.Recorded != got.Recorded {
		t.Errorf("the recorded summary changed with the proposal: %+v, was %+v", alt.Recorded, got.Recorded)
	}
}

// TestWhatIfWindow: a bad window is a 400 naming the field.
func TestWhatIfWindow(t *testing.T) {
	h := newHarness(t)
	h.opts.MetricHistory = 24 * time.Hour
	h.open()
	g := h.createGroup(api.GroupConfig{Name: "web", DesiredQuantity: 1})
	h.clk.Advance(72 * time.Hour)
	now := h.clk.Now()
	for _, tc := range []struct {
		name         string
		since, until *time.Time
		field, say   string
	}{
		{"no since", nil, nil, "since", "required"},
		{"since after until", ptr(now.Add(-time.Hour)), ptr(now.Add(-2 * time.Hour)), "until", "must be after since"},
		{"since equals until", ptr(now.Add(-time.Hour)), ptr(now.Add(-time.Hour)), "until", "must be after since"},
		{"longer than the history", ptr(now.Add(-48 * time.Hour)), nil, "since", "longer than the metric history"},
		{"before the history", ptr(now.Add(-36 * time.Hour)), ptr(now.Add(-30 * time.Hour)), "since", "before the metric history"},
	} {
		_, err := h.c.WhatIf(h.ctx, g.ID, api.WhatIfRequest{Since: tc.since, Until: tc.until})
		var e *api.Error
		if !errors.As(err, &e) || e.Code != api.CodeInvalid || e.Field != tc.field || !strings.Contains(e.Message, tc.say) {
			t.Errorf("%s: %v, want invalid_argument on %s saying %q", tc.name, err, tc.field, tc.say)
		}
	}
}

func storeChangesSince(groupID string) store.ChangeFilter {
	return store.ChangeFilter{GroupID: groupID}
}

// TestMetricHistory: stored samples outlive the triggers' windows for the
// metric history, and are pruned after it.
func TestMetricHistory(t *testing.T) {
	h := newHarness(t)
	h.opts.MetricHistory = 48 * time.Hour
	h.open()
	g := h.createGroup(api.GroupConfig{Name: "web", DesiredQuantity: 1})
	first := h.clk.Now()
	h.push(g.ID, api.Sample{Name: "load", Value: 1, Time: &first})
	stored := func() int {
		t.Helper()
		ss, err := h.st.Samples(h.ctx, g.ID, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		return len(ss)
	}
	h.clk.Advance(24 * time.Hour) // far past the windows' hour
	h.push(g.ID, api.Sample{Name: "load", Value: 2})
	h.tick()
	if n := stored(); n != 2 {
		t.Errorf("a day on: %d samples stored, want 2 (history 48h)", n)
	}
	h.clk.Advance(25 * time.Hour)
	h.push(g.ID, api.Sample{Name: "load", Value: 3})
	h.tick()
	if n := stored(); n != 2 {
		t.Errorf("49h on: %d samples stored, want 2 (the first pruned)", n)
	}
	if got := h.c.MetricHistory(); got != 48*time.Hour {
		t.Errorf("MetricHistory %s, want 48h", got)
	}
}

// TestWhatIfBadProposal: a proposal's mistakes are 400s naming the field
// of the request.
func TestWhatIfBadProposal(t *testing.T) {
	h := newHarness(t)
	g := h.createGroup(api.GroupConfig{Name: "web", DesiredQuantity: 1})
	h.clk.Advance(time.Hour)
	since := t0
	for _, tc := range []struct {
		name  string
		req   api.WhatIfRequest
		field string
	}{
		{"bad condition", api.WhatIfRequest{Since: &since, Triggers: []api.TriggerSpec{
			{Name: ptr("ok"), Condition: ptr("last(load) > 1"), Request: api.Request{ChangeBy: ptr(1)}},
			{Name: ptr("bad"), Condition: ptr("avg(load >"), Request: api.Request{ChangeBy: ptr(1)}},
		}}, "triggers[1].condition"},
		{"bad cooldown", api.WhatIfRequest{Since: &since, Group: &api.GroupPatch{Cooldown: ptr("soon")}}, "group.cooldown"},
		{"predictive settings that give no forecast together", api.WhatIfRequest{Since: &since, Group: &api.GroupPatch{
			Predictive: &api.Predictive{Mode: api.PredictiveEnforce, History: "1d", MinHistory: "2d"}}}, "group.predictive.min_history"},
	} {
		_, err := h.c.WhatIf(h.ctx, g.ID, tc.req)
		var e *api.Error
		if !errors.As(err, &e) || e.Code != api.CodeInvalid || e.Field != tc.field {
			t.Errorf("%s: %v, want invalid_argument on %s", tc.name, err, tc.field)
		}
	}
}
