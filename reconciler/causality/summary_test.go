package causality

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/engine"
)

// The summaries of the engine's decision records: the engine decides, and
// Summary writes the record in the text form of SPEC §2.3. The inputs are
// those of the engine's own tests.

var sumT0 = time.Date(2025, 3, 4, 10, 1, 0, 0, time.UTC)

func sumAt(sec int) time.Time { return sumT0.Add(time.Duration(sec) * time.Second) }

func sumCfg(policy string) api.Config {
	c, err := api.ParseConfig(api.GroupConfig{
		Name: "web", Driver: api.DriverSim, DesiredQuantity: 8,
		MinQuantity: 2, MaxQuantity: 20,
		AggregationPeriod: "60s", AggregationPolicy: policy,
		Replacement: api.ReplacementAuto, ReplacementDeferWindow: "15s",
		InitDeadline: "10m", Cooldown: "2m", TerminationPolicy: api.TerminateNewest,
	})
	if err != nil {
		panic(err)
	}
	return c
}

func sumTrigger(label, name string, sec int, r *api.Request) api.Event {
	return api.Event{ID: "id-" + label, Label: label, GroupID: "g", Type: api.EventTriggerFired,
		Source: api.Source{Kind: api.SourceTrigger, ID: "tr-" + name, Name: name}, Time: sumAt(sec),
		Request: r, Priority: api.DefaultTriggerPriority, Status: api.EventAggregated}
}

func sumUser(label, name string, sec int, r *api.Request) api.Event {
	return api.Event{ID: "id-" + label, Label: label, GroupID: "g", Type: api.EventUserInstruction,
		Source: api.Source{Kind: api.SourceUser, Name: name}, Time: sumAt(sec),
		Request: r, Priority: api.DefaultInstructionPriority, Status: api.EventAggregated}
}

func sumReplacement(label string, sec int, nodeID string) api.Event {
	return api.Event{ID: "id-" + label, Label: label, GroupID: "g", Type: api.EventReplacementRequest,
		Source: api.Source{Kind: api.SourceSystem}, Time: sumAt(sec), NodeID: nodeID,
		ParentChangeID: "id-C6", Status: api.EventAggregated}
}

// planned is a decision's actions as changes without IDs or labels.
func planned(d engine.Decision) []api.Change {
	var cs []api.Change
	if len(d.Terminate) > 0 {
		cs = append(cs, api.Change{Type: api.ChangeRemoveNodes, Amount: len(d.Terminate), NodeIDs: d.Terminate})
	}
	if d.Launch > 0 {
		cs = append(cs, api.Change{Type: api.ChangeAddNodes, Amount: d.Launch})
	}
	return cs
}

// harmonize decides in and writes the record's words, as the controller
// does.
func harmonize(in engine.HarmonizeInput) engine.Decision {
	d := engine.Harmonize(in)
	WriteRecord(&d, in.Bounds)
	return d
}

// summarize decides in and writes the record, as the controller does with
// the changes it records.
func summarize(in engine.HarmonizeInput) (engine.Decision, string) {
	d := harmonize(in)
	return d, Summary(d.Period, in.Requests, planned(d))
}

func sumH2Requests() []api.Event {
	return []api.Event{
		sumTrigger("E5", "cpu-high", 5, by(4)),
		sumTrigger("E6", "net-high", 20, by(2)),
		sumUser("E4", "alice", 40, by(3)),
		sumReplacement("E9b", 52, "n-6"),
	}
}

func TestSummarySeed(t *testing.T) {
	h3Nodes := slices.Delete(ready(12), 8, 9) // n-9 lost at E10
	tests := []struct {
		name string
		in   engine.HarmonizeInput
		want string
	}{
		{
			name: "H1 8/8/8 nothing to do",
			in: engine.HarmonizeInput{Config: sumCfg(""), Now: sumT0, DesiredBefore: 8, OfficialBefore: 8,
				Nodes: ready(8), PeriodLabel: "H1"},
			want: "period H1: desired 8 → 8, official 8 → 8, actual 8 at harmonization\n" +
				"  requests: none\n" +
				"  policy largest: no proposals, desired stays 8; clamps: none\n" +
				"  changes: none",
		},
		{
			name: "H2 8→12 with 7 ready adds 5",
			in: engine.HarmonizeInput{Config: sumCfg(""), Now: sumAt(60), DesiredBefore: 8, OfficialBefore: 8,
				Nodes: ready(7), Requests: sumH2Requests(), PeriodLabel: "H2"},
			want: "period H2: desired 8 → 12, official 8 → 12, actual 7 at harmonization\n" +
				"  requests: E5 (+4 → 12, trigger cpu-high), E6 (+2 → 10, trigger net-high), E4 (+3 → 11, user alice), E9b (replacement)\n" +
				"  policy largest → 12; clamps: none\n" +
				"  changes: add 5 nodes",
		},
		{
			name: "H3 12→10 with 11 ready removes 1",
			in: engine.HarmonizeInput{Config: sumCfg(""), Now: sumAt(180), DesiredBefore: 12, OfficialBefore: 12,
				Nodes: h3Nodes, PeriodLabel: "H3",
				Requests: []api.Event{sumTrigger("E8", "cpu-low", 130, by(-2)), sumReplacement("E10b", 170, "n-9")}},
			want: "period H3: desired 12 → 10, official 12 → 10, actual 11 at harmonization\n" +
				"  requests: E8 (-2 → 10, trigger cpu-low), E10b (replacement)\n" +
				"  policy largest → 10; clamps: none\n" +
				"  changes: remove 1 node",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, got := summarize(tt.in); got != tt.want {
				t.Errorf("summary:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestSummaryInFlightAndSuppressed(t *testing.T) {
	sup := sumTrigger("E7", "cpu-high", 30, by(4))
	sup.Status, sup.Reason = api.EventSuppressed, "cooldown: 2m after C5 ended at 10:00:40, until 10:02:40"
	nodes := append(ready(6), api.Node{ID: "n-7", GroupID: "g", Index: 7, State: api.NodeLaunching, LaunchedAt: sumAt(10)})
	_, s := summarize(engine.HarmonizeInput{Config: sumCfg(""), Now: sumAt(60), DesiredBefore: 8, OfficialBefore: 8,
		Nodes: nodes, Requests: sumH2Requests(), Suppressed: []api.Event{sup}})
	if !strings.Contains(s, "actual 6 (+1 launching) at harmonization") ||
		!strings.Contains(s, "suppressed: E7 (cooldown: 2m after C5 ended at 10:00:40, until 10:02:40)") {
		t.Errorf("summary lacks in-flight or suppressed:\n%s", s)
	}
}

func TestSummaryClamps(t *testing.T) {
	hour := func(h int) time.Time { return time.Date(2025, 3, 4, h, 0, 0, 0, time.UTC) }
	bounds := func(lo, hi int, enforce, instr bool) *engine.Bounds {
		return &engine.Bounds{Lower: lo, Upper: hi, Start: hour(10), End: hour(11), Enforce: enforce, GovernInstructions: instr}
	}
	tests := []struct {
		name     string
		reqs     []api.Event
		bounds   *engine.Bounds
		wantText string
	}{
		{"max", []api.Event{sumTrigger("E1", "a", 1, to(30))}, nil, "policy largest → 30; clamps: max_quantity 30 → 20"},
		{"min", []api.Event{sumUser("E1", "u", 1, by(-7))}, nil, "policy largest → 1; clamps: min_quantity 1 → 2"},
		{"forecast upper replaces a trigger's proposal before aggregation",
			[]api.Event{sumTrigger("E5", "cpu-high", 1, by(6)), sumTrigger("E6", "net-high", 2, by(2))}, bounds(6, 11, true, false),
			"policy largest → 11; clamps: forecast E5 14 → 11 (the forecast for 10:00–11:00 authorizes 6–11)"},
		{"forecast_only records without clamping", []api.Event{sumTrigger("E5", "cpu-high", 1, by(6))}, bounds(6, 11, false, false),
			"clamps: forecast E5 14 → 11 not applied (forecast_only) (the forecast for 10:00–11:00 authorizes 6–11)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, s := summarize(engine.HarmonizeInput{Config: sumCfg(""), DesiredBefore: 8, OfficialBefore: 8, Nodes: ready(8),
				Requests: tt.reqs, Bounds: tt.bounds})
			if !strings.Contains(s, tt.wantText) {
				t.Errorf("summary lacks %q:\n%s", tt.wantText, s)
			}
		})
	}
}

func TestSummaryNotReady(t *testing.T) {
	const why = "forecast needs 24h of history; the group has 3h"
	const note = "predictive governing did not clamp: " + why
	notReady := func(instr bool) *engine.Bounds {
		return &engine.Bounds{NotReady: why, Enforce: true, GovernInstructions: instr}
	}
	tests := []struct {
		name     string
		reqs     []api.Event
		bounds   *engine.Bounds
		wantLine bool
	}{
		{"trigger beyond any range is not clamped", []api.Event{sumTrigger("E5", "cpu-high", 1, by(6))}, notReady(false), true},
		{"one note for several triggers", []api.Event{sumTrigger("E5", "cpu-high", 1, by(6)), sumTrigger("E6", "net-high", 2, by(-6))},
			notReady(false), true},
		{"ungoverned instruction needs no note", []api.Event{sumUser("E4", "alice", 1, to(15))}, notReady(false), false},
		{"governed instruction gets the note", []api.Event{sumUser("E4", "alice", 1, to(15))}, notReady(true), true},
		{"no request, no note", nil, notReady(true), false},
		{"replacement alone, no note", []api.Event{sumReplacement("E9b", 52, "n-6")}, notReady(true), false},
		{"off: no note", []api.Event{sumTrigger("E5", "cpu-high", 1, by(6))}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, s := summarize(engine.HarmonizeInput{Config: sumCfg(""), DesiredBefore: 8, OfficialBefore: 8, Nodes: ready(8),
				Requests: tt.reqs, Bounds: tt.bounds})
			d, s := summarize(engine.HarmonizeInput{Config: sumCfg(""), DesiredBefore: 8, OfficialBefore: 8, Nodes: ready(8),
				Requests: tt.reqs, Bounds: tt.bounds})
			var wantNotes []string
			if tt.wantLine {
				wantNotes = []string{note}
			}
			if !slices.Equal(d.Period.Notes, wantNotes) {
				t.Errorf("notes = %q, want %q", d.Period.Notes, wantNotes)
			}
			if hasLine := strings.Contains(s, "\n  note: "+note+"\n"); hasLine != tt.wantLine {
				t.Errorf("summary has the note line: %v, want %v:\n%s", hasLine, tt.wantLine, s)
			}
		})
	}
}

func TestDeletedPeriodSummary(t *testing.T) {
	if got, want := DeletedPeriodSummary("H7"), "period H7: ended without harmonization: the group was deleted"; got != want {
		t.Errorf("DeletedPeriodSummary = %q, want %q", got, want)
	}
}

// TestClampDetails: each clamp of a decision record says which bound it
// met (the engine's clamp cases).
func TestClampDetails(t *testing.T) {
	hour := func(h int) time.Time { return time.Date(2025, 3, 4, h, 0, 0, 0, time.UTC) }
	bounds := func(lo, hi int, enforce, instr bool) *engine.Bounds {
		return &engine.Bounds{Lower: lo, Upper: hi, Start: hour(10), End: hour(11), Enforce: enforce, GovernInstructions: instr}
	}
	fc := func(label string, from, to int, applied bool, lo, hi int) api.Clamp {
		return api.Clamp{Kind: api.ClampForecast, Bound: to, From: from, To: to, Applied: applied, EventID: "id-" + label,
			Detail: "the forecast for 10:00–11:00 authorizes " + strconv.Itoa(lo) + "–" + strconv.Itoa(hi)}
	}
	tests := []struct {
		name       string
		policy     string
		max        int
		reqs       []api.Event
		bounds     *engine.Bounds
		wantClamps []api.Clamp
	}{
		{name: "max", reqs: []api.Event{sumTrigger("E1", "a", 1, to(30))},
			wantClamps: []api.Clamp{{Kind: api.ClampMax, Bound: 20, From: 30, To: 20, Applied: true, Detail: "max_quantity is 20"}}},
		{name: "max of a sum", policy: api.PolicySum, max: 15, reqs: sumH2Requests()[:3],
			wantClamps: []api.Clamp{{Kind: api.ClampMax, Bound: 15, From: 17, To: 15, Applied: true, Detail: "max_quantity is 15"}}},
		{name: "min", reqs: []api.Event{sumUser("E1", "u", 1, by(-7))},
			wantClamps: []api.Clamp{{Kind: api.ClampMin, Bound: 2, From: 1, To: 2, Applied: true, Detail: "min_quantity is 2"}}},
		{name: "forecast upper", reqs: []api.Event{sumTrigger("E5", "cpu-high", 1, by(6)), sumTrigger("E6", "net-high", 2, by(2))},
			bounds: bounds(6, 11, true, false), wantClamps: []api.Clamp{fc("E5", 14, 11, true, 6, 11)}},
		{name: "forecast lower", reqs: []api.Event{sumTrigger("E8", "cpu-low", 1, by(-4))}, bounds: bounds(6, 11, true, false),
			wantClamps: []api.Clamp{fc("E8", 4, 6, true, 6, 11)}},
		{name: "sum uses governed deltas", policy: api.PolicySum,
			reqs:   []api.Event{sumTrigger("E5", "cpu-high", 1, by(6)), sumTrigger("E6", "net-high", 2, by(2))},
			bounds: bounds(6, 11, true, false), wantClamps: []api.Clamp{fc("E5", 14, 11, true, 6, 11)}},
		{name: "forecast_only", reqs: []api.Event{sumTrigger("E5", "cpu-high", 1, by(6))}, bounds: bounds(6, 11, false, false),
			wantClamps: []api.Clamp{fc("E5", 14, 11, false, 6, 11)}},
		{name: "instructions governed when asked", reqs: []api.Event{sumUser("E4", "alice", 1, to(15))}, bounds: bounds(6, 11, true, true),
			wantClamps: []api.Clamp{fc("E4", 15, 11, true, 6, 11)}},
		{name: "forecast then max", reqs: []api.Event{sumTrigger("E5", "cpu-high", 1, to(40))}, bounds: bounds(6, 30, true, false),
			wantClamps: []api.Clamp{fc("E5", 40, 30, true, 6, 30), {Kind: api.ClampMax, Bound: 20, From: 30, To: 20, Applied: true, Detail: "max_quantity is 20"}}},
		{name: "a boundary off the minute", reqs: []api.Event{sumTrigger("E5", "cpu-high", 1, by(6))},
			bounds: &engine.Bounds{Lower: 6, Upper: 11, Start: hour(10).Add(30 * time.Second), End: hour(11).Add(30 * time.Second), Enforce: true},
			wantClamps: []api.Clamp{{Kind: api.ClampForecast, Bound: 11, From: 14, To: 11, Applied: true, EventID: "id-E5",
				Detail: "the forecast for 10:00:30–11:00:30 authorizes 6–11"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := sumCfg(tt.policy)
			if tt.max > 0 {
				c.MaxQuantity = tt.max
			}
			d, _ := summarize(engine.HarmonizeInput{Config: c, DesiredBefore: 8, OfficialBefore: 8, Nodes: ready(8),
				Requests: tt.reqs, Bounds: tt.bounds})
			if !slices.Equal(d.Period.Clamps, tt.wantClamps) {
				t.Errorf("clamps = %+v\nwant %+v", d.Period.Clamps, tt.wantClamps)
			}
		})
	}
}

// TestImmediateNotes: an immediate request's notes (the engine's
// immediate cases that clamp or are not governed).
func TestImmediateNotes(t *testing.T) {
	b := &engine.Bounds{Lower: 6, Upper: 11, Start: time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC),
		End: time.Date(2025, 3, 4, 11, 0, 0, 0, time.UTC), Enforce: true}
	notReady := &engine.Bounds{NotReady: "forecast needs 24h of history; the group has none", Enforce: true}
	forecastOnly := *b
	forecastOnly.Enforce = false
	tests := []struct {
		name   string
		ev     api.Event
		bounds *engine.Bounds
		want   []string
	}{
		{"no clamp, no note", sumUser("E4", "alice", 40, by(3)), nil, nil},
		{"set_to below min clamps", sumUser("E4", "alice", 40, to(0)), nil, []string{"clamped by min_quantity 2: 0 → 2 (min_quantity is 2)"}},
		{"trigger governed by forecast", sumTrigger("E5", "cpu-high", 5, by(6)), b,
			[]string{"clamped by forecast 11: 14 → 11 (the forecast for 10:00–11:00 authorizes 6–11)"}},
		{"forecast_only", sumTrigger("E5", "cpu-high", 5, by(6)), &forecastOnly,
			[]string{"forecast would clamp 14 → 11 (forecast_only, not applied) (the forecast for 10:00–11:00 authorizes 6–11)"}},
		{"trigger with a forecast not ready is not clamped", sumTrigger("E5", "cpu-high", 5, by(6)), notReady,
			[]string{"predictive governing did not clamp: forecast needs 24h of history; the group has none"}},
		{"ungoverned user gets no not-ready note", sumUser("E4", "alice", 40, by(6)), notReady, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := engine.Immediate(engine.ImmediateInput{Config: sumCfg(""), Now: sumAt(60), DesiredBefore: 8, Nodes: ready(8),
				Event: tt.ev, Bounds: tt.bounds})
			if got := ImmediateNotes(d, tt.bounds); !slices.Equal(got, tt.want) {
				t.Errorf("notes = %q\nwant %q", got, tt.want)
			}
		})
	}
}
