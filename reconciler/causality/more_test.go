package causality

import (
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/engine"
)

func TestDescribeEvent(t *testing.T) {
	pct := 50.0
	tests := []struct {
		name string
		e    api.Event
		want string
	}{
		{"trigger with observed", api.Event{Type: api.EventTriggerFired, Source: api.Source{Kind: api.SourceTrigger, Name: "cpu-high"},
			Request: by(4), Observed: "avg cpu_utilization 87.3 > 80 for 2m", Status: api.EventAggregated},
			"trigger cpu-high asked for +4 (avg cpu_utilization 87.3 > 80 for 2m)"},
		{"trigger suppressed", api.Event{Type: api.EventTriggerFired, Source: api.Source{Kind: api.SourceTrigger, Name: "cpu-high"},
			Request: by(4), Status: api.EventSuppressed, Reason: "cooldown: 2m after C7 ended at 10:02:30, until 10:04:30"},
			"trigger cpu-high asked for +4; suppressed (cooldown: 2m after C7 ended at 10:02:30, until 10:04:30)"},
		{"immediate percent", api.Event{Type: api.EventTriggerFired, Source: api.Source{Kind: api.SourceTrigger, Name: "burst"},
			Request: &api.Request{ChangeByPercent: &pct}, Immediate: true, Status: api.EventApplied},
			"trigger burst asked for +50% at once"},
		{"user with reason", api.Event{Type: api.EventUserInstruction, Source: api.Source{Kind: api.SourceUser, Name: "alice"},
			Request: by(-3), Reason: "night", Status: api.EventAggregated},
			`user alice asked for -3 ("night")`},
		{"terraform set_to", api.Event{Type: api.EventUserInstruction, Source: api.Source{Kind: api.SourceUser, Name: "terraform"},
			Request: to(6), Status: api.EventAggregated},
			"user terraform asked for 6 nodes"},
		{"anonymous user", api.Event{Type: api.EventUserInstruction, Source: api.Source{Kind: api.SourceUser}, Request: to(1)},
			"a user asked for 1 node"},
		{"init failed", api.Event{Type: api.EventNodeInitFailed, Source: api.Source{Kind: api.SourceSystem}, NodeID: "n-8",
			Reason: "not ready within 10m"}, "node n-8 failed to initialize (not ready within 10m)"},
		{"unavailable", api.Event{Type: api.EventNodeUnavailable, NodeID: "n-3"}, "node n-3 became unavailable"},
		{"replacement without lookup", api.Event{Type: api.EventReplacementRequest, NodeID: "n-6", ParentChangeID: "x"},
			"replacement of node n-6 requested"},
		{"user terminated", api.Event{Type: api.EventNodeTerminatedUser, Source: api.Source{Kind: api.SourceUser, Name: "alice"}, NodeID: "n-2"},
			"user alice terminated node n-2"},
		{"metrics missing", api.Event{Type: api.EventMetricsMissing, Source: api.Source{Kind: api.SourceTrigger, Name: "q"},
			Status: api.EventIgnored, Reason: "no samples of queue_depth in the last 1m"},
			"trigger q was not evaluated: no samples of queue_depth in the last 1m"},
		{"group created", api.Event{Type: api.EventGroupCreated, Source: api.Source{Kind: api.SourceUser, Name: "terraform"}, ProposedQuantity: ptr(4)},
			"user terraform created the group with 4 nodes"},
		{"group deleted", api.Event{Type: api.EventGroupDeleted, Source: api.Source{Kind: api.SourceUser, Name: "alice"}},
			"user alice deleted the group"},
		{"unknown type", api.Event{Type: "something_new", Reason: "why"}, "something new (why)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DescribeEvent(tt.e); got != tt.want {
				t.Errorf("DescribeEvent = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDescribeChange(t *testing.T) {
	tests := []struct {
		c    api.Change
		want string
	}{
		{api.Change{Type: api.ChangeAddNodes, Amount: 5, QuantityBefore: 7, QuantityAfter: 12}, "add 5 nodes, 7 → 12"},
		{api.Change{Type: api.ChangeAddNodes, Amount: 1, QuantityBefore: 7, QuantityAfter: 8, Status: api.ChangeFailed}, "add 1 node, 7 → 8 (failed)"},
		{api.Change{Type: api.ChangeRemoveNodes, Amount: 1, QuantityBefore: 11, QuantityAfter: 10}, "remove 1 node, 11 → 10"},
		{api.Change{Type: api.ChangeNodeLost, Amount: 1, QuantityBefore: 8, QuantityAfter: 7, NodeIDs: []string{"n-3"}}, "node n-3 lost, 8 → 7"},
		{api.Change{Type: api.ChangeNodeLost, Amount: 2, QuantityBefore: 8, QuantityAfter: 6, NodeIDs: []string{"n-3", "n-4"}}, "2 nodes lost, 8 → 6"},
	}
	for _, tt := range tests {
		if got := DescribeChange(tt.c, nil); got != tt.want {
			t.Errorf("DescribeChange(%+v) = %q, want %q", tt.c, got, tt.want)
		}
	}
}

// TestExplainClamped covers predictive governing in both explanations: a
// trigger asking beyond the forecast's upper bound, enforced and
// forecast_only, and a sum clamped by max_quantity.
func TestExplainClamped(t *testing.T) {
	e13 := api.Event{ID: "ev-E13", Label: "E13", Type: api.EventTriggerFired, Time: hms(10, 3, 20),
		Source: api.Source{Kind: api.SourceTrigger, Name: "cpu-high"}, Request: by(4), Priority: 50,
		Observed: "avg cpu_utilization 95 > 80 for 2m", Status: api.EventAggregated, PeriodLabel: "H4"}
	e14 := api.Event{ID: "ev-E14", Label: "E14", Type: api.EventUserInstruction, Time: hms(10, 3, 30),
		Source: api.Source{Kind: api.SourceUser, Name: "alice"}, Request: by(3), Priority: 100, Status: api.EventAggregated, PeriodLabel: "H4"}
	decide := func(policy string, max int, enforce bool, reqs ...api.Event) *api.Period {
		d := harmonize(engine.HarmonizeInput{
			Config:        api.Config{GroupConfig: api.GroupConfig{MaxQuantity: max, AggregationPolicy: policy}},
			DesiredBefore: 10, OfficialBefore: 10, Nodes: ready(10), Requests: reqs, PeriodLabel: "H4",
			Bounds: &engine.Bounds{Lower: 6, Upper: 11, Start: hms(10, 0, 0), End: hms(11, 0, 0), Enforce: enforce},
		})
		p := d.Period
		end := hms(10, 4, 0)
		p.EndedAt, p.Harmonized = &end, true
		return &p
	}
	c := func(amount, before, after int) api.Change {
		return api.Change{ID: "ch-C10", Label: "C10", Type: api.ChangeAddNodes, Amount: amount, QuantityBefore: before,
			QuantityAfter: after, StartedAt: hms(10, 4, 0), PeriodLabel: "H4", Attribution: api.AttributionIndirect}
	}
	cause := func(es ...api.Event) []api.Cause {
		var cs []api.Cause
		for _, e := range es {
			cs = append(cs, api.Cause{Attribution: api.AttributionIndirect, Event: e})
		}
		return cs
	}
	effect := func(ch api.Change) []api.Effect {
		return []api.Effect{{Attribution: api.AttributionIndirect, Change: ch}}
	}

	enforced := decide(api.PolicyLargest, 20, true, e13)
	fonly := decide(api.PolicyLargest, 20, false, e13)
	summed := decide(api.PolicySum, 15, true, e13, e14)
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"event enforced", ExplainEvent(e13, effect(c(1, 10, 11)), enforced, nil),
			"Event E13 at 10:03:20: trigger cpu-high asked for +4 (avg cpu_utilization 95 > 80 for 2m). " +
				"At H4 it caused C10 (add 1 node, 10 → 11). Policy largest chose its 11 → desired 11. " +
				"Trigger cpu-high asked for 14; the forecast for 10:00–11:00 authorizes 6–11; 11 was used."},
		{"change enforced", ExplainChange(c(1, 10, 11), cause(e13), enforced, nil),
			"Change C10 (add 1 node, 10 → 11) at H4 was indirectly caused by event E13 at 10:03:20. " +
				"E13: trigger cpu-high asked for +4 (avg cpu_utilization 95 > 80 for 2m). Policy largest chose +1 → desired 11. " +
				"E13 was governed by the forecast: trigger cpu-high asked for 14; the forecast for 10:00–11:00 authorizes 6–11; 11 was used."},
		{"event forecast_only", ExplainEvent(e13, effect(c(4, 10, 14)), fonly, nil),
			"Event E13 at 10:03:20: trigger cpu-high asked for +4 (avg cpu_utilization 95 > 80 for 2m). " +
				"At H4 it caused C10 (add 4 nodes, 10 → 14). Policy largest chose its 14 → desired 14. " +
				"Trigger cpu-high asked for 14; the forecast for 10:00–11:00 authorizes 6–11; forecast_only, so 14 was kept."},
		// sum: 10 + (11-10) + 3 = 14, then max_quantity 15 does not bite;
		// with max 12 it does.
		{"change sum", ExplainChange(c(4, 10, 14), cause(e13, e14), summed, nil),
			"Change C10 (add 4 nodes, 10 → 14) at H4 was indirectly caused by events E13 and E14 between 10:03:20 and 10:03:30. " +
				"E13: trigger cpu-high asked for +4 (avg cpu_utilization 95 > 80 for 2m). E14: user alice asked for +3. " +
				"Policy sum chose +4 → desired 14. " +
				"E13 was governed by the forecast: trigger cpu-high asked for 14; the forecast for 10:00–11:00 authorizes 6–11; 11 was used."},
		{"change sum clamped by max", ExplainChange(c(2, 10, 12), cause(e13, e14), decide(api.PolicySum, 12, true, e13, e14), nil),
			"Change C10 (add 2 nodes, 10 → 12) at H4 was indirectly caused by events E13 and E14 between 10:03:20 and 10:03:30. " +
				"E13: trigger cpu-high asked for +4 (avg cpu_utilization 95 > 80 for 2m). E14: user alice asked for +3. " +
				"Policy sum chose +4 → 14, clamped to max_quantity 12 → desired 12. " +
				"E13 was governed by the forecast: trigger cpu-high asked for 14; the forecast for 10:00–11:00 authorizes 6–11; 11 was used."},
		{"event combined by sum", ExplainEvent(e14, effect(c(4, 10, 14)), summed, nil),
			"Event E14 at 10:03:30: user alice asked for +3. At H4 it caused C10 (add 4 nodes, 10 → 14) together with E13. " +
				"E14 asked for +3 → 13; policy sum combined the proposals into 14, so E14 is a contributing cause of C10."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("\n got %s\nwant %s", tt.got, tt.want)
			}
		})
	}
}

// TestExplainRaisedMin: a harmonization that acts with no request (the
// user raised min_quantity) still explains itself from the record.
func TestExplainRaisedMin(t *testing.T) {
	d := harmonize(engine.HarmonizeInput{Config: api.Config{GroupConfig: api.GroupConfig{MinQuantity: 10, MaxQuantity: 20}},
		DesiredBefore: 8, OfficialBefore: 8, Nodes: ready(8), PeriodLabel: "H5"})
	p := d.Period
	end := hms(10, 5, 0)
	p.EndedAt = &end
	c := api.Change{Label: "C12", Type: api.ChangeAddNodes, Amount: d.Launch, QuantityBefore: 8, QuantityAfter: 10,
		StartedAt: end, PeriodLabel: "H5", Attribution: api.AttributionIndirect}
	want := "Change C12 (add 2 nodes, 8 → 10) at H5 was made by the harmonization with no request behind it. " +
		"No request proposed a new quantity; desired went 8 → 10, clamped to min_quantity 10."
	if got := ExplainChange(c, nil, &p, nil); got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
}

// TestExplainWithout checks explanations degrade without a Lookup or a
// decision record instead of failing.
func TestExplainWithout(t *testing.T) {
	s := newSeed(t)
	open := &api.Period{Label: "H2", Policy: api.PolicyLargest}
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"replacement without lookup", ExplainChange(s.changes["C5"], s.causes["C5"], nil, nil),
			"Change C5 (add 1 node, 7 → 8) at 10:00:12 was directly caused by event E3b: replacement of node n-3 requested."},
		{"indirect without record", ExplainChange(s.changes["C9"], s.causes["C9"], nil, nil),
			"Change C9 (remove 1 node, 11 → 10) at H3 was indirectly caused by events E8 and E10b between 10:02:40 and 10:02:50. " +
				"E8: trigger cpu-low asked for -2 (avg cpu_utilization 15.2 < 20 for 2m). E10b: replacement of node n-9 requested."},
		{"aggregated, period still open", ExplainEvent(s.events["E5"], nil, open, nil),
			"Event E5 at 10:01:05: trigger cpu-high asked for +4 (avg cpu_utilization 87.3 > 80 for 2m). " +
				"It waits for the harmonization at the end of H2."},
		{"no cause recorded", ExplainChange(api.Change{Label: "C99", Type: api.ChangeRemoveNodes, Amount: 1, QuantityBefore: 3,
			QuantityAfter: 2, StartedAt: time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)}, nil, nil, nil),
			"Change C99 (remove 1 node, 3 → 2) at 09:00:00 has no recorded cause."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("\n got %s\nwant %s", tt.got, tt.want)
			}
		})
	}
}
