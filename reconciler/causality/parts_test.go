package causality

import (
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/engine"
)

// launchRecords is a harmonization whose 2 nodes became ready at
// different moments, so the controller recorded the launch as C2 and C3
// (one nexus, one start), and a group creation whose 8 nodes came as C1,
// C4 and C5. E2 and E3 fall within one second.
type launchRecords struct {
	events  map[string]api.Event
	changes map[string]api.Change
	period  *api.Period
	records *Records
}

func newLaunchRecords(t *testing.T) launchRecords {
	t.Helper()
	at := func(h, m, s, ms int) time.Time { return time.Date(2025, 3, 4, h, m, s, ms*1e6, time.UTC) }
	lr := launchRecords{events: map[string]api.Event{}, changes: map[string]api.Change{}}
	e1 := api.Event{ID: "ev-E1", Label: "E1", Type: api.EventGroupCreated, Time: at(17, 0, 0, 0),
		Source: api.Source{Kind: api.SourceUser, Name: "terraform"}, Request: to(8), ProposedQuantity: ptr(8),
		Status: api.EventApplied, NexusID: "nx-1"}
	e2 := api.Event{ID: "ev-E2", Label: "E2", Type: api.EventTriggerFired, Time: at(17, 12, 14, 200),
		Source: api.Source{Kind: api.SourceTrigger, Name: "cpu-high"}, Request: by(2), Priority: api.DefaultTriggerPriority,
		Observed: "avg cpu_utilization 91 > 80 for 2m", Status: api.EventAggregated, PeriodID: "p-H3", PeriodLabel: "H3", NexusID: "nx-H3"}
	e3 := api.Event{ID: "ev-E3", Label: "E3", Type: api.EventUserInstruction, Time: at(17, 12, 14, 700),
		Source: api.Source{Kind: api.SourceUser, Name: "alice"}, Request: by(1), Priority: api.DefaultInstructionPriority,
		Status: api.EventAggregated, PeriodID: "p-H3", PeriodLabel: "H3", NexusID: "nx-H3"}
	for _, e := range []api.Event{e1, e2, e3} {
		lr.events[e.Label] = e
	}

	d := harmonize(engine.HarmonizeInput{Config: api.Config{GroupConfig: api.GroupConfig{MaxQuantity: 20, AggregationPolicy: api.PolicyLargest}},
		Now: at(17, 13, 0, 0), DesiredBefore: 8, OfficialBefore: 8, Nodes: ready(8), Requests: []api.Event{e2, e3}, PeriodLabel: "H3"})
	p := d.Period
	end := at(17, 13, 0, 0)
	p.ID, p.StartedAt, p.EndedAt, p.Harmonized = "p-H3", at(17, 12, 0, 0), &end, true
	lr.period = &p

	change := func(label string, amount, before, after int, start time.Time, nexus, attribution, period string, status string) {
		c := api.Change{ID: "ch-" + label, Label: label, Type: api.ChangeAddNodes, Amount: amount, QuantityBefore: before,
			QuantityAfter: after, Status: status, StartedAt: start, NexusID: nexus, Attribution: attribution}
		if period != "" {
			c.PeriodID, c.PeriodLabel = "p-"+period, period
		}
		lr.changes[label] = c
	}
	direct, indirect := api.AttributionDirect, api.AttributionIndirect
	change("C1", 4, 0, 4, e1.Time, "nx-1", direct, "", api.ChangeCompleted)
	change("C4", 3, 4, 7, e1.Time, "nx-1", direct, "", api.ChangeCompleted)
	change("C5", 1, 7, 7, e1.Time, "nx-1", direct, "", api.ChangeFailed)
	change("C2", 1, 8, 9, end, "nx-H3", indirect, "H3", api.ChangeCompleted)
	change("C3", 1, 9, 10, end, "nx-H3", indirect, "H3", api.ChangeCompleted)
	// A change of the same nexus that is not a part of the launch.
	lr.changes["C6"] = api.Change{ID: "ch-C6", Label: "C6", Type: api.ChangeRemoveNodes, Amount: 1, QuantityBefore: 10,
		QuantityAfter: 9, StartedAt: end, NexusID: "nx-H3", PeriodID: "p-H3", PeriodLabel: "H3", Attribution: indirect}

	var evs []api.Event
	for _, e := range lr.events {
		evs = append(evs, e)
	}
	var chs []api.Change
	for _, c := range lr.changes {
		chs = append(chs, c)
	}
	lr.records = NewRecords(evs, chs, []api.Nexus{
		// Split parts are appended to the nexus as they are recorded.
		{ID: "nx-1", Attribution: direct, EventIDs: []string{"ev-E1"}, ChangeIDs: []string{"ch-C1", "ch-C4", "ch-C5"}},
		{ID: "nx-H3", Attribution: indirect, PeriodID: "p-H3", EventIDs: []string{"ev-E2", "ev-E3"}, ChangeIDs: []string{"ch-C6", "ch-C2", "ch-C3"}},
	})
	return lr
}

func (lr launchRecords) causes(labels ...string) []api.Cause {
	var cs []api.Cause
	for _, l := range labels {
		e := lr.events[l]
		attribution := api.AttributionIndirect
		if e.Type == api.EventGroupCreated {
			attribution = api.AttributionDirect
		}
		cs = append(cs, api.Cause{Attribution: attribution, Event: e})
	}
	return cs
}

func (lr launchRecords) effects(labels ...string) []api.Effect {
	var es []api.Effect
	for _, l := range labels {
		c := lr.changes[l]
		es = append(es, api.Effect{Attribution: c.Attribution, Change: c})
	}
	return es
}

// TestExplainLaunchParts: each part of a launch says which part it is and
// gives the launch's causes once, with the policy's delta as the launch's;
// an event that caused the launch names it once.
func TestExplainLaunchParts(t *testing.T) {
	lr := newLaunchRecords(t)
	const h3causes = "The launch was indirectly caused by events E2 and E3 at 17:12:14. " +
		"E2: trigger cpu-high asked for +2 (avg cpu_utilization 91 > 80 for 2m). E3: user alice asked for +1. " +
		"Policy largest chose +2 → desired 10."
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"first part", ExplainChange(lr.changes["C2"], lr.causes("E2", "E3"), lr.period, lr.records),
			"Change C2 (add 1 node, 8 → 9) is the first part of the 2 nodes launched at H3 (with C3). " + h3causes},
		{"second part", ExplainChange(lr.changes["C3"], lr.causes("E3", "E2"), lr.period, lr.records),
			"Change C3 (add 1 node, 9 → 10) is the second part of the 2 nodes launched at H3 (with C2). " + h3causes},
		{"direct parts", ExplainChange(lr.changes["C4"], lr.causes("E1"), nil, lr.records),
			"Change C4 (add 3 nodes, 4 → 7) is the second part of the 8 nodes launched at 17:00:00 (with C1 and C5). " +
				"The launch was directly caused by event E1: user terraform created the group with 8 nodes."},
		{"failed part", ExplainChange(lr.changes["C5"], lr.causes("E1"), nil, lr.records),
			"Change C5 (add 1 node, 7 → 7 (failed)) is the third part of the 8 nodes launched at 17:00:00 (with C1 and C4). " +
				"The launch was directly caused by event E1: user terraform created the group with 8 nodes."},
		{"without the records, the change alone", ExplainChange(lr.changes["C3"], lr.causes("E2", "E3"), lr.period, nil),
			"Change C3 (add 1 node, 9 → 10) at H3 was indirectly caused by events E2 and E3 at 17:12:14. " +
				"E2: trigger cpu-high asked for +2 (avg cpu_utilization 91 > 80 for 2m). E3: user alice asked for +1. " +
				"Policy largest chose +2 → desired 10."},
		{"chosen event", ExplainEvent(lr.events["E2"], lr.effects("C2", "C3"), lr.period, lr.records),
			"Event E2 at 17:12:14: trigger cpu-high asked for +2 (avg cpu_utilization 91 > 80 for 2m). " +
				"At H3 it caused the launch of 2 nodes, recorded as C2 (add 1 node, 8 → 9) and C3 (add 1 node, 9 → 10), " +
				"together with E3. Policy largest chose its 10 → desired 10."},
		{"contributing event", ExplainEvent(lr.events["E3"], lr.effects("C3", "C2"), lr.period, lr.records),
			"Event E3 at 17:12:14: user alice asked for +1. " +
				"At H3 it caused the launch of 2 nodes, recorded as C2 (add 1 node, 8 → 9) and C3 (add 1 node, 9 → 10), " +
				"together with E2. E3 asked for +1 → 9; policy largest chose E2's 10, so E3 is a contributing cause of C2 and C3."},
		{"direct event", ExplainEvent(lr.events["E1"], lr.effects("C1", "C4", "C5"), nil, lr.records),
			"Event E1 at 17:00:00: user terraform created the group with 8 nodes. " +
				"It directly caused C1 (add 4 nodes, 0 → 4), C4 (add 3 nodes, 4 → 7) and C5 (add 1 node, 7 → 7 (failed))."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("\n got %s\nwant %s", tt.got, tt.want)
			}
		})
	}
}

func TestWindow(t *testing.T) {
	at := func(s, ms int) api.Event { return api.Event{Time: time.Date(2025, 3, 4, 17, 12, s, ms*1e6, time.UTC)} }
	tests := []struct {
		evs  []api.Event
		want string
	}{
		{[]api.Event{at(14, 0)}, "at 17:12:14"},
		{[]api.Event{at(14, 100), at(14, 900)}, "at 17:12:14"},
		{[]api.Event{at(14, 900), at(15, 100)}, "between 17:12:14 and 17:12:15"},
	}
	for _, tt := range tests {
		if got := window(tt.evs); got != tt.want {
			t.Errorf("window(%v) = %q, want %q", tt.evs, got, tt.want)
		}
	}
}

func TestOrdinal(t *testing.T) {
	for n, want := range map[int]string{1: "first", 2: "second", 10: "tenth", 11: "11th", 12: "12th", 13: "13th",
		21: "21st", 22: "22nd", 23: "23rd", 101: "101st", 111: "111th"} {
		if got := ordinal(n); got != want {
			t.Errorf("ordinal(%d) = %q, want %q", n, got, want)
		}
	}
}
