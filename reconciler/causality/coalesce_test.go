package causality

import (
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// TestLaunchInParts: one immediate launch whose 95 nodes became ready in
// three parts within the launch window is one change; its explanation,
// and the instruction's, say when how many nodes arrived.
func TestLaunchInParts(t *testing.T) {
	at := func(s int) time.Time { return time.Date(2025, 3, 4, 9, 0, s, 250e6, time.UTC) }
	e := api.Event{ID: "ev-E2", Label: "E2", Type: api.EventUserInstruction, Time: at(10), Immediate: true,
		Source: api.Source{Kind: api.SourceUser, Name: "alice"}, Request: by(95), Status: api.EventApplied, NexusID: "nx-2"}
	c := api.Change{ID: "ch-C2", Label: "C2", Type: api.ChangeAddNodes, Amount: 95, QuantityBefore: 5, QuantityAfter: 100,
		Status: api.ChangeCompleted, StartedAt: at(10), NexusID: "nx-2", Attribution: api.AttributionDirect,
		Parts: []api.ChangePart{{ReadyAt: at(12), Amount: 40}, {ReadyAt: at(13), Amount: 30}, {ReadyAt: at(14), Amount: 25}}}
	l := NewRecords([]api.Event{e}, []api.Change{c},
		[]api.Nexus{{ID: "nx-2", Attribution: api.AttributionDirect, EventIDs: []string{"ev-E2"}, ChangeIDs: []string{"ch-C2"}}})

	got := ExplainChange(c, []api.Cause{{Attribution: api.AttributionDirect, Event: e}}, nil, l)
	want := "Change C2 (add 95 nodes, 5 → 100) at 09:00:10 was directly caused by event E2: user alice asked for +95 at once. " +
		"Its 95 nodes became ready in 3 parts: 40 at 09:00:12, 30 at 09:00:13 and 25 at 09:00:14."
	if got != want {
		t.Errorf("change:\n got %s\nwant %s", got, want)
	}
	got = ExplainEvent(e, []api.Effect{{Attribution: api.AttributionDirect, Change: c}}, nil, l)
	want = "Event E2 at 09:00:10: user alice asked for +95 at once. It directly caused C2 (add 95 nodes, 5 → 100). " +
		"C2's 95 nodes became ready in 3 parts: 40 at 09:00:12, 30 at 09:00:13 and 25 at 09:00:14."
	if got != want {
		t.Errorf("event:\n got %s\nwant %s", got, want)
	}

	// One part says nothing more: all the nodes came at once.
	c.Parts = c.Parts[:1]
	got = ExplainChange(c, []api.Cause{{Attribution: api.AttributionDirect, Event: e}}, nil, l)
	want = "Change C2 (add 95 nodes, 5 → 100) at 09:00:10 was directly caused by event E2: user alice asked for +95 at once."
	if got != want {
		t.Errorf("one part:\n got %s\nwant %s", got, want)
	}
}

// TestHarmonizedLaunchInParts: the parts of an indirectly caused launch
// follow the policy's words, in the change's and in each cause's
// explanation.
func TestHarmonizedLaunchInParts(t *testing.T) {
	lr := newLaunchRecords(t)
	c := lr.changes["C2"]
	c.Amount, c.QuantityAfter = 2, 10
	c.Parts = []api.ChangePart{
		{ReadyAt: time.Date(2025, 3, 4, 17, 13, 2, 0, time.UTC), Amount: 1},
		{ReadyAt: time.Date(2025, 3, 4, 17, 13, 4, 0, time.UTC), Amount: 1},
	}
	got := ExplainChange(c, lr.causes("E2", "E3"), lr.period, nil)
	want := "Change C2 (add 2 nodes, 8 → 10) at H3 was indirectly caused by events E2 and E3 at 17:12:14." +
		" E2: trigger cpu-high asked for +2 (avg cpu_utilization 91 > 80 for 2m). E3: user alice asked for +1." +
		" Policy largest chose +2 → desired 10." +
		" Its 2 nodes became ready in 2 parts: 1 at 17:13:02 and 1 at 17:13:04."
	if got != want {
		t.Errorf("change:\n got %s\nwant %s", got, want)
	}
}

// TestSplitLaunchInParts: a launch whose nodes came up far apart is
// recorded in several changes, and one of them can have parts of its own:
// the sentence about them names the change, not the launch.
func TestSplitLaunchInParts(t *testing.T) {
	lr := newLaunchRecords(t)
	c := lr.changes["C1"]
	c.Parts = []api.ChangePart{
		{ReadyAt: time.Date(2025, 3, 4, 17, 0, 2, 0, time.UTC), Amount: 3},
		{ReadyAt: time.Date(2025, 3, 4, 17, 0, 3, 0, time.UTC), Amount: 1},
	}
	got := ExplainChange(c, lr.causes("E1"), nil, lr.records)
	want := "Change C1 (add 4 nodes, 0 → 4) is the first part of the 8 nodes launched at 17:00:00 (with C4 and C5). " +
		"The launch was directly caused by event E1: user terraform created the group with 8 nodes. " +
		"C1's 4 nodes became ready in 2 parts: 3 at 17:00:02 and 1 at 17:00:03."
	if got != want {
		t.Errorf("change:\n got %s\nwant %s", got, want)
	}
}

// TestNodeNames: node events and changes name the node as people read it
// (web-3, web-3.2 when the index was held before); records without a
// name fall back to the id, and a recorded change's description is the
// one written with it.
func TestNodeNames(t *testing.T) {
	named := func(e api.Event, name string) api.Event { e.NodeName = name; return e }
	lost := api.Event{Type: api.EventNodeUnavailable, NodeID: "0195-aaaa", Reason: "process exited"}
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"unavailable", DescribeEvent(named(lost, "web-3.2")), "node web-3.2 became unavailable (process exited)"},
		{"unavailable, no name recorded", DescribeEvent(lost), "node 0195-aaaa became unavailable (process exited)"},
		{"init failed", DescribeEvent(api.Event{Type: api.EventNodeInitFailed, NodeID: "x", NodeName: "web-0"}), "node web-0 failed to initialize"},
		{"terminated", DescribeEvent(api.Event{Type: api.EventNodeTerminatedUser, Source: api.Source{Kind: api.SourceUser, Name: "bob"},
			NodeID: "x", NodeName: "web-1"}), "user bob terminated node web-1"},
		{"replacement", DescribeEvent(api.Event{Type: api.EventReplacementRequest, NodeID: "x", NodeName: "web-4", ParentChangeID: "c"}),
			"replacement of node web-4 requested"},
		{"lost change", DescribeChange(api.Change{Type: api.ChangeNodeLost, Amount: 1, NodeIDs: []string{"x"}, QuantityBefore: 8, QuantityAfter: 7},
			func(id string) string { return map[string]string{"x": "web-3.2"}[id] }), "node web-3.2 lost, 8 → 7"},
		{"lost change, name unknown", DescribeChange(api.Change{Type: api.ChangeNodeLost, Amount: 1, NodeIDs: []string{"x"}, QuantityBefore: 8, QuantityAfter: 7},
			func(string) string { return "" }), "node x lost, 8 → 7"},
		{"explained by its recorded description", ExplainChange(api.Change{Label: "C4", Type: api.ChangeNodeLost, Amount: 1, NodeIDs: []string{"x"},
			QuantityBefore: 8, QuantityAfter: 7, StartedAt: time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC), Description: "node web-3.2 lost, 8 → 7"},
			[]api.Cause{{Attribution: api.AttributionDirect, Event: named(api.Event{Label: "E3", Type: api.EventNodeUnavailable, NodeID: "x"}, "web-3.2")}}, nil, nil),
			"Change C4 (node web-3.2 lost, 8 → 7) at 09:00:00 was directly caused by event E3: node web-3.2 became unavailable."},
		{"role of a lost node", roleSentence(named(api.Event{Type: api.EventReplacementRequest, NodeID: "x"}, "web-3"),
			api.Change{Label: "C7", Type: api.ChangeAddNodes, Amount: 5}, api.Period{}), "1 of the 5 nodes replaced the lost node web-3."},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, tt.got, tt.want)
		}
	}
}
