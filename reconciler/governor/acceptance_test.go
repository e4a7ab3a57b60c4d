package governor_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/causality"
	"github.com/pes-project/terraform-provider-pes/reconciler/engine"
	"github.com/pes-project/terraform-provider-pes/reconciler/governor"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// TestGoverningAcceptance is seed 001 end to end without the controller:
// bounds from a model fitted to a group's recorded history (real SQLite),
// a harmonization deciding with them, and the explanations a person
// reads. At Thursday 12:20 the history says 9–11 nodes; the group has 10.
func TestGoverningAcceptance(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	at := noon.Add(-10 * time.Minute) // 12:20, inside the 12:00–13:00 interval
	gov := governor.New(st)

	tests := []struct {
		name    string
		mode    string
		history []store.QuantityPoint
		event   api.Event
		// The decision.
		wantDesired int
		wantClamps  []api.Clamp
		wantNotes   []string
		wantSummary string // a line of the record's summary
		// The change it made and the explanations.
		wantChange      string
		wantExplainedC  string
		wantExplainedE  string
		wantNoForecastC bool // the change's explanation must not mention the forecast
	}{
		{
			name: "trigger clamped to the upper bound", mode: api.PredictiveEnforce, history: daily(day0, at),
			event:       trigger("E5", "cpu-high", at.Add(-5*time.Minute), 6, "avg cpu_utilization 93 > 80 for 2m"),
			wantDesired: 11,
			wantClamps: []api.Clamp{{Kind: api.ClampForecast, Bound: 11, From: 16, To: 11, Applied: true, EventID: "id-E5",
				Detail: "the forecast for 12:00–13:00 authorizes 9–11"}},
			wantSummary: "policy largest → 11; clamps: forecast E5 16 → 11 (the forecast for 12:00–13:00 authorizes 9–11)",
			wantChange:  "add 1 node, 10 → 11",
			wantExplainedC: "Change C10 (add 1 node, 10 → 11) at H4 was indirectly caused by event E5 at 12:15:00. " +
				"E5: trigger cpu-high asked for +6 (avg cpu_utilization 93 > 80 for 2m). Policy largest chose +1 → desired 11. " +
				"E5 was governed by the forecast: trigger cpu-high asked for 16; the forecast for 12:00–13:00 authorizes 9–11; 11 was used.",
			wantExplainedE: "Event E5 at 12:15:00: trigger cpu-high asked for +6 (avg cpu_utilization 93 > 80 for 2m). " +
				"At H4 it caused C10 (add 1 node, 10 → 11). Policy largest chose its 11 → desired 11. " +
				"Trigger cpu-high asked for 16; the forecast for 12:00–13:00 authorizes 9–11; 11 was used.",
		},
		{
			name: "trigger clamped to the lower bound", mode: api.PredictiveEnforce, history: daily(day0, at),
			event:       trigger("E8", "cpu-low", at.Add(-5*time.Minute), -7, "avg cpu_utilization 12 < 20 for 2m"),
			wantDesired: 9,
			wantClamps: []api.Clamp{{Kind: api.ClampForecast, Bound: 9, From: 3, To: 9, Applied: true, EventID: "id-E8",
				Detail: "the forecast for 12:00–13:00 authorizes 9–11"}},
			wantSummary: "policy largest → 9; clamps: forecast E8 3 → 9 (the forecast for 12:00–13:00 authorizes 9–11)",
			wantChange:  "remove 1 node, 10 → 9",
			wantExplainedC: "Change C10 (remove 1 node, 10 → 9) at H4 was indirectly caused by event E8 at 12:15:00. " +
				"E8: trigger cpu-low asked for -7 (avg cpu_utilization 12 < 20 for 2m). Policy largest chose -1 → desired 9. " +
				"E8 was governed by the forecast: trigger cpu-low asked for 3; the forecast for 12:00–13:00 authorizes 9–11; 9 was used.",
			wantExplainedE: "Event E8 at 12:15:00: trigger cpu-low asked for -7 (avg cpu_utilization 12 < 20 for 2m). " +
				"At H4 it caused C10 (remove 1 node, 10 → 9). Policy largest chose its 9 → desired 9. " +
				"Trigger cpu-low asked for 3; the forecast for 12:00–13:00 authorizes 9–11; 9 was used.",
		},
		{
			name: "forecast_only records without clamping", mode: api.PredictiveForecastOnly, history: daily(day0, at),
			event:       trigger("E5", "cpu-high", at.Add(-5*time.Minute), 6, "avg cpu_utilization 93 > 80 for 2m"),
			wantDesired: 16,
			wantClamps: []api.Clamp{{Kind: api.ClampForecast, Bound: 11, From: 16, To: 11, Applied: false, EventID: "id-E5",
				Detail: "the forecast for 12:00–13:00 authorizes 9–11"}},
			wantSummary: "policy largest → 16; clamps: forecast E5 16 → 11 not applied (forecast_only) (the forecast for 12:00–13:00 authorizes 9–11)",
			wantChange:  "add 6 nodes, 10 → 16",
			wantExplainedC: "Change C10 (add 6 nodes, 10 → 16) at H4 was indirectly caused by event E5 at 12:15:00. " +
				"E5: trigger cpu-high asked for +6 (avg cpu_utilization 93 > 80 for 2m). Policy largest chose +6 → desired 16. " +
				"E5 was governed by the forecast: trigger cpu-high asked for 16; the forecast for 12:00–13:00 authorizes 9–11; forecast_only, so 16 was kept.",
			wantExplainedE: "Event E5 at 12:15:00: trigger cpu-high asked for +6 (avg cpu_utilization 93 > 80 for 2m). " +
				"At H4 it caused C10 (add 6 nodes, 10 → 16). Policy largest chose its 16 → desired 16. " +
				"Trigger cpu-high asked for 16; the forecast for 12:00–13:00 authorizes 9–11; forecast_only, so 16 was kept.",
		},
		{
			name: "too little history does not clamp and says so", mode: api.PredictiveEnforce,
			history:     daily(at.Add(-3*time.Hour), at),
			event:       trigger("E5", "cpu-high", at.Add(-5*time.Minute), 6, "avg cpu_utilization 93 > 80 for 2m"),
			wantDesired: 16,
			wantNotes:   []string{"predictive governing did not clamp: forecast needs 24h of history; the group has 3h"},
			wantSummary: "policy largest → 16; clamps: none\n  note: predictive governing did not clamp: forecast needs 24h of history; the group has 3h",
			wantChange:  "add 6 nodes, 10 → 16",
			wantExplainedC: "Change C10 (add 6 nodes, 10 → 16) at H4 was indirectly caused by event E5 at 12:15:00. " +
				"E5: trigger cpu-high asked for +6 (avg cpu_utilization 93 > 80 for 2m). Policy largest chose +6 → desired 16. " +
				"Predictive governing did not clamp: forecast needs 24h of history; the group has 3h.",
			wantExplainedE: "Event E5 at 12:15:00: trigger cpu-high asked for +6 (avg cpu_utilization 93 > 80 for 2m). " +
				"At H4 it caused C10 (add 6 nodes, 10 → 16). Policy largest chose its 16 → desired 16. " +
				"Predictive governing did not clamp: forecast needs 24h of history; the group has 3h.",
			wantNoForecastC: true,
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGroup(t, st, fmt.Sprintf("acc%d", i), day0, predictive(tt.mode), tt.history)
			bounds, err := gov.Bounds(ctx, g, at)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := api.ParseConfig(g.GroupConfig)
			if err != nil {
				t.Fatal(err)
			}
			d := engine.Harmonize(engine.HarmonizeInput{
				Config: cfg, Now: at, DesiredBefore: 10, OfficialBefore: 10, Nodes: readyNodes(10),
				Requests: []api.Event{tt.event}, Bounds: bounds, PeriodLabel: "H4",
			})
			causality.WriteRecord(&d, bounds) // as the controller does
			p := d.Period
			if p.DesiredAfter != tt.wantDesired {
				t.Errorf("desired after = %d, want %d", p.DesiredAfter, tt.wantDesired)
			}
			if fmt.Sprint(p.Clamps) != fmt.Sprint(nonNil(tt.wantClamps)) {
				t.Errorf("clamps = %+v\nwant %+v", p.Clamps, tt.wantClamps)
			}
			if fmt.Sprint(p.Notes) != fmt.Sprint(tt.wantNotes) {
				t.Errorf("notes = %q, want %q", p.Notes, tt.wantNotes)
			}
			// The record as the controller writes it (its changes do not
			// reach the lines checked).
			if summary := causality.Summary(p, []api.Event{tt.event}, nil); !strings.Contains(summary, tt.wantSummary) {
				t.Errorf("summary lacks %q:\n%s", tt.wantSummary, summary)
			}

			// Record what the controller would: the change of the
			// decision, attributed indirectly to the event.
			end := at.Add(40 * time.Second)
			p.EndedAt, p.Harmonized = &end, true
			c := api.Change{ID: "id-C10", Label: "C10", GroupID: g.ID, StartedAt: end, PeriodLabel: "H4",
				QuantityBefore: 10, QuantityAfter: p.DesiredAfter, Attribution: api.AttributionIndirect}
			switch {
			case d.Launch > 0:
				c.Type, c.Amount = api.ChangeAddNodes, d.Launch
			case len(d.Terminate) > 0:
				c.Type, c.Amount = api.ChangeRemoveNodes, len(d.Terminate)
			default:
				t.Fatalf("decision made no change: %+v", d)
			}
			if got := causality.DescribeChange(c, nil); got != tt.wantChange {
				t.Errorf("change = %q, want %q", got, tt.wantChange)
			}
			gotC := causality.ExplainChange(c, []api.Cause{{Attribution: api.AttributionIndirect, Event: tt.event}}, &p, nil)
			if gotC != tt.wantExplainedC {
				t.Errorf("change explanation\n got %s\nwant %s", gotC, tt.wantExplainedC)
			}
			if tt.wantNoForecastC && strings.Contains(gotC, "authorizes") {
				t.Errorf("change explanation names forecast bounds there were none of: %s", gotC)
			}
			gotE := causality.ExplainEvent(tt.event, []api.Effect{{Attribution: api.AttributionIndirect, Change: c}}, &p, nil)
			if gotE != tt.wantExplainedE {
				t.Errorf("event explanation\n got %s\nwant %s", gotE, tt.wantExplainedE)
			}
		})
	}
}

func trigger(label, name string, at time.Time, by int, observed string) api.Event {
	return api.Event{ID: "id-" + label, Label: label, Type: api.EventTriggerFired, Time: at,
		Source: api.Source{Kind: api.SourceTrigger, Name: name}, Request: &api.Request{ChangeBy: &by},
		Priority: api.DefaultTriggerPriority, Observed: observed,
		Status: api.EventAggregated, PeriodLabel: "H4"}
}

func readyNodes(n int) []api.Node {
	ns := make([]api.Node, n)
	for i := range ns {
		ns[i] = api.Node{ID: fmt.Sprintf("n-%d", i+1), Index: i + 1, State: api.NodeReady, LaunchedAt: day0.Add(time.Duration(i) * time.Second)}
	}
	return ns
}

func nonNil(cs []api.Clamp) []api.Clamp {
	if cs == nil {
		return []api.Clamp{}
	}
	return cs
}
