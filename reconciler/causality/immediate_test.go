package causality

import (
	"strings"
	"testing"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// TestReasonNotes: pesd's notes follow the requester's words, and
// descriptions quote the words alone, whatever they hold.
func TestReasonNotes(t *testing.T) {
	const clamp = "clamped by max_quantity 10: 12 → 10"
	user := func(reason string, notes []string) api.Event {
		return api.Event{Type: api.EventUserInstruction, Source: api.Source{Kind: api.SourceUser, Name: "alice"},
			Request: to(12), Immediate: true, Status: api.EventApplied, Reason: reason, Notes: notes}
	}
	trig := func(reason string, notes []string) api.Event {
		return api.Event{Type: api.EventTriggerFired, Source: api.Source{Kind: api.SourceTrigger, Name: "spike"},
			Request: to(12), Immediate: true, Status: api.EventApplied, Reason: reason, Notes: notes}
	}
	tests := []struct {
		name  string
		words string
		notes []string
		event func(string, []string) api.Event
		want  string
	}{
		{"words and a clamp", "launch day", []string{clamp}, user,
			`user alice asked for 12 nodes at once ("launch day"); ` + clamp},
		{"words with a semicolon", "launch day; big push", []string{clamp}, user,
			`user alice asked for 12 nodes at once ("launch day; big push"); ` + clamp},
		{"words that look like the old mark", "launch day; pesd: big push", []string{clamp}, user,
			`user alice asked for 12 nodes at once ("launch day; pesd: big push"); ` + clamp},
		{"a clamp, no words", "", []string{clamp}, user,
			"user alice asked for 12 nodes at once; " + clamp},
		{"words, no notes", "launch day", nil, user,
			`user alice asked for 12 nodes at once ("launch day")`},
		{"two notes", "x", []string{clamp, "", "predictive governing did not clamp: no history"}, user,
			`user alice asked for 12 nodes at once ("x"); ` + clamp + "; predictive governing did not clamp: no history"},
		{"a trigger's clamp", "", []string{clamp}, trig,
			"trigger spike asked for 12 nodes at once; " + clamp},
		// Written before events had notes: a trigger's reason was its
		// clamp, and an instruction's words and clamp without a mark stay
		// quoted whole, since nothing tells them apart.
		{"a trigger's clamp in its reason", clamp, nil, trig,
			"trigger spike asked for 12 nodes at once; " + clamp},
		{"an instruction's clamp in its reason", "launch day; " + clamp, nil, user,
			`user alice asked for 12 nodes at once ("launch day; ` + clamp + `")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DescribeEvent(tt.event(tt.words, tt.notes)); got != tt.want {
				t.Errorf("DescribeEvent = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestExplainImmediateTriggerClamp: an immediate trigger firing has no
// decision record; how the forecast or min/max moved its request is in the
// event's notes, and every text about the event shows it. A user
// instruction's reason stays quoted, and a suppressed firing's reason is
// said once, as why it did nothing.
func TestExplainImmediateTriggerClamp(t *testing.T) {
	const clamp = "clamped by forecast 12: 20 → 12 (the forecast for 10:00–11:00 authorizes 8–12)"
	fired := api.Event{ID: "ev-E7", Label: "E7", Type: api.EventTriggerFired, Time: hms(10, 5, 0),
		Source: api.Source{Kind: api.SourceTrigger, Name: "queue-deep"}, Request: by(10), Immediate: true,
		Observed: "last(queue_depth) 900 > 100", Status: api.EventApplied, Notes: []string{clamp}}
	change := api.Change{ID: "ch-C4", Label: "C4", Type: api.ChangeAddNodes, Amount: 2, QuantityBefore: 10,
		QuantityAfter: 12, StartedAt: hms(10, 5, 0), Attribution: api.AttributionDirect}
	cause := []api.Cause{{Attribution: api.AttributionDirect, Event: fired}}
	effect := []api.Effect{{Attribution: api.AttributionDirect, Change: change}}

	user := fired
	user.Type, user.Source, user.Observed = api.EventUserInstruction, api.Source{Kind: api.SourceUser, Name: "alice"}, ""
	user.Reason = "launch day"
	suppressed := fired
	suppressed.Immediate, suppressed.Status, suppressed.Notes = false, api.EventSuppressed, nil
	suppressed.Reason = "cooldown 2m after C3 ended at 10:04:00"

	tests := []struct {
		name string
		got  string
		want string
		// count is how many times want must appear.
		count int
	}{
		{"change", ExplainChange(change, cause, nil, nil),
			"Change C4 (add 2 nodes, 10 → 12) at 10:05:00 was directly caused by event E7: trigger queue-deep asked for +10 at once " +
				"(last(queue_depth) 900 > 100); " + clamp + ".", 1},
		{"event", ExplainEvent(fired, effect, nil, nil),
			"Event E7 at 10:05:00: trigger queue-deep asked for +10 at once (last(queue_depth) 900 > 100); " + clamp +
				". It directly caused C4 (add 2 nodes, 10 → 12).", 1},
		{"description", DescribeEvent(fired), "; " + clamp, 1},
		{"user instruction", DescribeEvent(user), `user alice asked for +10 at once ("launch day"); ` + clamp, 1},
		{"user instruction explained", ExplainEvent(user, effect, nil, nil),
			`Event E7 at 10:05:00: user alice asked for +10 at once ("launch day"); ` + clamp + ". It directly caused C4 (add 2 nodes, 10 → 12).", 1},
		{"no mark shown", ExplainEvent(fired, effect, nil, nil) + ExplainEvent(user, effect, nil, nil) + DescribeEvent(user), "pesd:", 0},
		{"suppressed trigger", ExplainEvent(suppressed, nil, nil, nil), suppressed.Reason, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := strings.Count(tt.got, tt.want); n != tt.count {
				t.Errorf("%q appears %d times, want %d in:\n%s", tt.want, n, tt.count, tt.got)
			}
		})
	}
}
