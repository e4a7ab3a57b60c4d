package causality

import (
	"fmt"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/engine"
)

func hms(h, m, s int) time.Time { return time.Date(2025, 3, 4, h, m, s, 0, time.UTC) }

func ptr[T any](v T) *T { return &v }

func by(n int) *api.Request { return &api.Request{ChangeBy: &n} }

func to(n int) *api.Request { return &api.Request{SetTo: &n} }

// seed is the worked timeline of seed 000 as pesd records it: group
// creation, the E3 chain (node lost, replaced at once), the quiet H1, the
// four requests of H2 with the deferred replacement E9b, and H3's
// scale-in that the loss at E10 makes smaller.
type seed struct {
	events  map[string]api.Event // by label
	changes map[string]api.Change
	periods map[string]*api.Period
	causes  map[string][]api.Cause // change label → causes
	effects map[string][]api.Effect
	records *Records
}

func ready(n int) []api.Node {
	var ns []api.Node
	for i := 1; i <= n; i++ {
		ns = append(ns, api.Node{ID: fmt.Sprintf("n-%d", i), Index: i, State: api.NodeReady, LaunchedAt: hms(10, 0, i)})
	}
	return ns
}

func newSeed(t *testing.T) *seed {
	t.Helper()
	s := &seed{events: map[string]api.Event{}, changes: map[string]api.Change{}, periods: map[string]*api.Period{},
		causes: map[string][]api.Cause{}, effects: map[string][]api.Effect{}}
	ev := func(label, typ string, src api.Source, at time.Time, period string, f func(*api.Event)) {
		e := api.Event{ID: "ev-" + label, Label: label, GroupID: "g", Type: typ, Source: src, Time: at,
			PeriodID: "p-" + period, PeriodLabel: period, Status: api.EventApplied}
		switch typ {
		case api.EventTriggerFired:
			e.Priority = api.DefaultTriggerPriority
		case api.EventUserInstruction:
			e.Priority = api.DefaultInstructionPriority
		}
		if f != nil {
			f(&e)
		}
		s.events[label] = e
	}
	alice := api.Source{Kind: api.SourceUser, Name: "alice"}
	sys := api.Source{Kind: api.SourceSystem}
	trig := func(name string) api.Source { return api.Source{Kind: api.SourceTrigger, ID: "tr-" + name, Name: name} }
	aggregated := func(r *api.Request, observed string) func(*api.Event) {
		return func(e *api.Event) { e.Request, e.Observed, e.Status = r, observed, api.EventAggregated }
	}

	ev("E1", api.EventGroupCreated, alice, hms(10, 0, 0), "H1", func(e *api.Event) { e.Request = to(8) })
	ev("E3a", api.EventNodeUnavailable, sys, hms(10, 0, 12), "H1", func(e *api.Event) {
		e.NodeID, e.Reason = "n-3", "process exited with status 1"
	})
	ev("E3b", api.EventReplacementRequest, sys, hms(10, 0, 12), "H1", func(e *api.Event) {
		e.NodeID, e.ParentChangeID = "n-3", "ch-C4"
	})
	ev("E7", api.EventUserInstruction, api.Source{Kind: api.SourceUser, Name: "bob"}, hms(10, 0, 30), "H1", aggregated(to(8), ""))
	ev("E5", api.EventTriggerFired, trig("cpu-high"), hms(10, 1, 5), "H2", aggregated(by(4), "avg cpu_utilization 87.3 > 80 for 2m"))
	ev("E6", api.EventTriggerFired, trig("net-high"), hms(10, 1, 20), "H2", aggregated(by(2), ""))
	ev("E4", api.EventUserInstruction, alice, hms(10, 1, 40), "H2", aggregated(by(3), ""))
	ev("E9a", api.EventNodeUnavailable, sys, hms(10, 1, 52), "H2", func(e *api.Event) {
		e.NodeID, e.Reason = "n-6", "health check failed 3 times"
	})
	ev("E9b", api.EventReplacementRequest, sys, hms(10, 1, 52), "H2", func(e *api.Event) {
		e.NodeID, e.ParentChangeID, e.Status = "n-6", "ch-C6", api.EventAggregated
	})
	ev("E11", api.EventTriggerFired, trig("cpu-high"), hms(10, 2, 10), "H3", func(e *api.Event) {
		e.Request, e.Observed = by(4), "avg cpu_utilization 91 > 80 for 2m"
		e.Status, e.Reason = api.EventSuppressed, "lockdown: 5 nodes added by C7 are still launching (until 10:12:00 at the latest)"
	})
	ev("E12", api.EventMetricsMissing, trig("mem-high"), hms(10, 2, 30), "H3", func(e *api.Event) {
		e.Status, e.Reason = api.EventIgnored, "no samples of memory_bytes in the last 5m"
	})
	ev("E8", api.EventTriggerFired, trig("cpu-low"), hms(10, 2, 40), "H3", aggregated(by(-2), "avg cpu_utilization 15.2 < 20 for 2m"))
	ev("E10a", api.EventNodeUnavailable, sys, hms(10, 2, 50), "H3", func(e *api.Event) {
		e.NodeID, e.Reason = "n-9", "process exited with status 137"
	})
	ev("E10b", api.EventReplacementRequest, sys, hms(10, 2, 50), "H3", func(e *api.Event) {
		e.NodeID, e.ParentChangeID, e.Status = "n-9", "ch-C8", api.EventAggregated
	})

	// Periods decided by the engine, as the controller would.
	harmonize := func(label string, start, end time.Time, before int, nodes []api.Node, reqs ...string) {
		in := engine.HarmonizeInput{Config: api.Config{GroupConfig: api.GroupConfig{MinQuantity: 0, MaxQuantity: 20, AggregationPolicy: api.PolicyLargest}},
			Now: end, DesiredBefore: before, OfficialBefore: before, Nodes: nodes, PeriodLabel: label}
		for _, r := range reqs {
			in.Requests = append(in.Requests, s.events[r])
		}
		d := harmonize(in)
		p := d.Period
		p.ID, p.GroupID, p.StartedAt, p.EndedAt, p.Harmonized = "p-"+label, "g", start, &end, true
		s.periods[label] = &p
	}
	harmonize("H1", hms(10, 0, 0), hms(10, 1, 0), 8, ready(8), "E7")
	harmonize("H2", hms(10, 1, 0), hms(10, 2, 0), 8, ready(7), "E5", "E6", "E4", "E9b")
	h3 := append(ready(8), api.Node{ID: "n-10", State: api.NodeReady}, api.Node{ID: "n-11", State: api.NodeReady}, api.Node{ID: "n-12", State: api.NodeReady})
	harmonize("H3", hms(10, 2, 0), hms(10, 3, 0), 12, h3, "E8", "E10b")

	var nexuses []api.Nexus
	change := func(label, typ string, amount, before, after int, at time.Time, period, attribution string, nodeIDs []string, causes ...string) {
		c := api.Change{ID: "ch-" + label, Label: label, GroupID: "g", Type: typ, Amount: amount,
			QuantityBefore: before, QuantityAfter: after, Status: api.ChangeCompleted, StartedAt: at,
			PeriodID: "p-" + period, NexusID: "nx-" + label, Attribution: attribution, NodeIDs: nodeIDs}
		if attribution == api.AttributionIndirect {
			c.PeriodLabel = period
		}
		n := api.Nexus{ID: "nx-" + label, GroupID: "g", Attribution: attribution, ChangeIDs: []string{c.ID}}
		for _, l := range causes {
			e := s.events[l]
			e.NexusID = n.ID
			s.events[l] = e
			n.EventIDs = append(n.EventIDs, e.ID)
			s.effects[l] = append(s.effects[l], api.Effect{Attribution: attribution, Change: c})
		}
		for _, l := range causes {
			s.causes[label] = append(s.causes[label], api.Cause{Attribution: attribution, Event: s.events[l]})
		}
		s.changes[label] = c
		nexuses = append(nexuses, n)
	}
	direct, indirect := api.AttributionDirect, api.AttributionIndirect
	change("C1", api.ChangeAddNodes, 8, 0, 8, hms(10, 0, 0), "H1", direct, nil, "E1")
	change("C4", api.ChangeNodeLost, 1, 8, 7, hms(10, 0, 12), "H1", direct, []string{"n-3"}, "E3a")
	change("C5", api.ChangeAddNodes, 1, 7, 8, hms(10, 0, 12), "H1", direct, []string{"n-13"}, "E3b")
	change("C6", api.ChangeNodeLost, 1, 8, 7, hms(10, 1, 52), "H2", direct, []string{"n-6"}, "E9a")
	change("C7", api.ChangeAddNodes, 5, 7, 12, hms(10, 2, 0), "H2", indirect, nil, "E5", "E6", "E4", "E9b")
	change("C8", api.ChangeNodeLost, 1, 12, 11, hms(10, 2, 50), "H3", direct, []string{"n-9"}, "E10a")
	change("C9", api.ChangeRemoveNodes, 1, 11, 10, hms(10, 3, 0), "H3", indirect, []string{"n-12"}, "E8", "E10b")

	var evs []api.Event
	for _, e := range s.events {
		evs = append(evs, e)
	}
	var chs []api.Change
	for _, c := range s.changes {
		chs = append(chs, c)
	}
	s.records = NewRecords(evs, chs, nexuses)
	return s
}

func TestExplainChange(t *testing.T) {
	s := newSeed(t)
	tests := []struct {
		change string
		period string // "" for immediate changes
		want   string
	}{
		{"C7", "H2", "Change C7 (add 5 nodes, 7 → 12) at H2 was indirectly caused by events E5, E6, E4 and E9b " +
			"between 10:01:05 and 10:01:52. E5: trigger cpu-high asked for +4 (avg cpu_utilization 87.3 > 80 for 2m). " +
			"E6: trigger net-high asked for +2. E4: user alice asked for +3. E9b: replacement of node n-6 lost at " +
			"10:01:52 (E9a). Policy largest chose +4 → desired 12; 1 more node replaced the lost one."},
		{"C9", "H3", "Change C9 (remove 1 node, 11 → 10) at H3 was indirectly caused by events E8 and E10b " +
			"between 10:02:40 and 10:02:50. E8: trigger cpu-low asked for -2 (avg cpu_utilization 15.2 < 20 for 2m). " +
			"E10b: replacement of node n-9 lost at 10:02:50 (E10a). Policy largest chose -2 → desired 10; the lost node " +
			"already counted as one of the removals, so 1 node was removed instead of 2."},
		{"C4", "", "Change C4 (node n-3 lost, 8 → 7) at 10:00:12 was directly caused by event E3a: " +
			"node n-3 became unavailable (process exited with status 1)."},
		{"C5", "", "Change C5 (add 1 node, 7 → 8) at 10:00:12 was directly caused by event E3b: replacement of " +
			"node n-3 lost at 10:00:12 (E3a). C4 (node n-3 lost, 8 → 7) was directly caused by E3a: node n-3 became " +
			"unavailable (process exited with status 1)."},
		{"C1", "", "Change C1 (add 8 nodes, 0 → 8) at 10:00:00 was directly caused by event E1: user alice created the group with 8 nodes."},
	}
	for _, tt := range tests {
		t.Run(tt.change, func(t *testing.T) {
			got := ExplainChange(s.changes[tt.change], s.causes[tt.change], s.periods[tt.period], s.records)
			if got != tt.want {
				t.Errorf("ExplainChange(%s):\n got %s\nwant %s", tt.change, got, tt.want)
			}
		})
	}
}

func TestExplainEvent(t *testing.T) {
	s := newSeed(t)
	tests := []struct {
		event  string
		period string
		want   string
	}{
		{"E5", "H2", "Event E5 at 10:01:05: trigger cpu-high asked for +4 (avg cpu_utilization 87.3 > 80 for 2m). " +
			"At H2 it caused C7 (add 5 nodes, 7 → 12) together with E6, E4 and E9b. Policy largest chose its 12 → desired 12."},
		{"E6", "H2", "Event E6 at 10:01:20: trigger net-high asked for +2. At H2 it caused C7 (add 5 nodes, 7 → 12) " +
			"together with E5, E4 and E9b. E6 asked for +2 → 10; policy largest chose E5's 12, so E6 is a contributing cause of C7."},
		{"E9b", "H2", "Event E9b at 10:01:52: replacement of node n-6 lost at 10:01:52 (E9a). At H2 it caused C7 " +
			"(add 5 nodes, 7 → 12) together with E5, E6 and E4. 1 of the 5 nodes replaced the lost node n-6."},
		{"E10b", "H3", "Event E10b at 10:02:50: replacement of node n-9 lost at 10:02:50 (E10a). At H3 it caused C9 " +
			"(remove 1 node, 11 → 10) together with E8. The lost node n-9 counted as one of the removals, so C9 removed 1 node instead of 2."},
		{"E3a", "", "Event E3a at 10:00:12: node n-3 became unavailable (process exited with status 1). " +
			"It directly caused C4 (node n-3 lost, 8 → 7)."},
		{"E7", "H1", "Event E7 at 10:00:30: user bob asked for 8 nodes. At H1 the largest proposal kept desired at 8; nothing to do."},
		{"E11", "H3", "Event E11 at 10:02:10: trigger cpu-high asked for +4 (avg cpu_utilization 91 > 80 for 2m). " +
			"It was suppressed and caused no change: lockdown: 5 nodes added by C7 are still launching (until 10:12:00 at the latest)."},
		{"E12", "H3", "Event E12 at 10:02:30: trigger mem-high was not evaluated: no samples of memory_bytes in the last 5m. " +
			"A condition over a metric with no samples is not satisfied, so nothing was asked and nothing changed: pesd does not scale on missing data. " +
			"It is recorded once when the data goes missing and once when it returns."},
	}
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			got := ExplainEvent(s.events[tt.event], s.effects[tt.event], s.periods[tt.period], s.records)
			if got != tt.want {
				t.Errorf("ExplainEvent(%s):\n got %s\nwant %s", tt.event, got, tt.want)
			}
		})
	}
}
