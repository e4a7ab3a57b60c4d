package causality

import (
	"strings"
	"testing"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/engine"
)

// TestExplainNotReady: with too little history, predictive governing does
// not clamp, and the explanations of what the period did say so.
func TestExplainNotReady(t *testing.T) {
	const note = "Predictive governing did not clamp: forecast needs 24h of history; the group has 3h."
	e13 := api.Event{ID: "ev-E13", Label: "E13", Type: api.EventTriggerFired, Time: hms(10, 3, 20),
		Source: api.Source{Kind: api.SourceTrigger, Name: "cpu-high"}, Request: by(4), Priority: 50,
		Status: api.EventAggregated, PeriodLabel: "H4"}
	e14 := api.Event{ID: "ev-E14", Label: "E14", Type: api.EventUserInstruction, Time: hms(10, 3, 30),
		Source: api.Source{Kind: api.SourceUser, Name: "alice"}, Request: by(3), Priority: 100,
		Status: api.EventAggregated, PeriodLabel: "H4"}
	decide := func(instructions bool, reqs ...api.Event) *api.Period {
		d := harmonize(engine.HarmonizeInput{
			Config:        api.Config{GroupConfig: api.GroupConfig{MaxQuantity: 20}},
			DesiredBefore: 10, OfficialBefore: 10, Nodes: ready(10), Requests: reqs, PeriodLabel: "H4",
			Bounds: &engine.Bounds{NotReady: "forecast needs 24h of history; the group has 3h", Enforce: true,
				GovernInstructions: instructions},
		})
		p := d.Period
		end := hms(10, 4, 0)
		p.EndedAt, p.Harmonized = &end, true
		return &p
	}
	change := func(amount int) api.Change {
		return api.Change{ID: "ch-C10", Label: "C10", Type: api.ChangeAddNodes, Amount: amount, QuantityBefore: 10,
			QuantityAfter: 10 + amount, StartedAt: hms(10, 4, 0), PeriodLabel: "H4", Attribution: api.AttributionIndirect}
	}
	effect := []api.Effect{{Attribution: api.AttributionIndirect, Change: change(4)}}
	both := decide(false, e13, e14)
	userOnly := decide(true, e14)
	tests := []struct {
		name     string
		got      string
		want     string
		wantNote bool
	}{
		{"change", ExplainChange(change(4), []api.Cause{{Attribution: api.AttributionIndirect, Event: e13},
			{Attribution: api.AttributionIndirect, Event: e14}}, both, nil),
			"Change C10 (add 4 nodes, 10 → 14) at H4 was indirectly caused by events E13 and E14 between 10:03:20 and 10:03:30. " +
				"E13: trigger cpu-high asked for +4. E14: user alice asked for +3. Policy largest chose +4 → desired 14. " + note, true},
		{"trigger", ExplainEvent(e13, effect, both, nil),
			"Event E13 at 10:03:20: trigger cpu-high asked for +4. At H4 it caused C10 (add 4 nodes, 10 → 14) together with E14. " +
				"Policy largest chose its 14 → desired 14. " + note, true},
		// Instructions are not governed here; the note is the trigger's.
		{"instruction beside a trigger", ExplainEvent(e14, effect, both, nil), "", false},
		{"governed instruction", ExplainEvent(e14, []api.Effect{{Attribution: api.AttributionIndirect, Change: change(3)}}, userOnly, nil),
			"Event E14 at 10:03:30: user alice asked for +3. At H4 it caused C10 (add 3 nodes, 10 → 13). " +
				"Policy largest chose its 13 → desired 13. " + note, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.want != "" && tt.got != tt.want {
				t.Errorf("\n got %s\nwant %s", tt.got, tt.want)
			}
			if strings.Contains(tt.got, note) != tt.wantNote {
				t.Errorf("mentions the note: %v, want %v: %s", !tt.wantNote, tt.wantNote, tt.got)
			}
		})
	}
}
