package engine

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

func TestHarmonizePriorityTies(t *testing.T) {
	hi := func(e api.Event, p int) api.Event { e.Priority = p; return e }
	tests := []struct {
		name string
		reqs []api.Event
		want int
	}{
		{"highest priority wins regardless of size", []api.Event{
			hi(trigger("E1", "a", 1, by(9)), 10), hi(trigger("E2", "b", 2, by(1)), 90), hi(trigger("E3", "c", 3, by(5)), 20)}, 9},
		{"tie: the latest wins", []api.Event{
			hi(trigger("E1", "a", 1, by(9)), 50), hi(trigger("E2", "b", 2, by(1)), 50), hi(trigger("E3", "c", 3, by(5)), 40)}, 9},
		{"tie by time, not by input order", []api.Event{
			hi(trigger("E2", "b", 20, by(1)), 50), hi(trigger("E1", "a", 10, by(9)), 50)}, 9},
		{"user default outranks trigger default", []api.Event{
			trigger("E1", "a", 30, by(6)), user("E2", "bob", 10, by(-2))}, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Harmonize(HarmonizeInput{Config: cfg(api.PolicyPriority), DesiredBefore: 8, OfficialBefore: 8,
				Nodes: ready(8), Requests: tt.reqs})
			if d.Period.DesiredAfter != tt.want {
				t.Errorf("desired after = %d, want %d", d.Period.DesiredAfter, tt.want)
			}
		})
	}
}

func TestHarmonizeAggregationEdges(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		reqs   []api.Event
		want   int
	}{
		// (9+10)/2 = 9.5 rounds half away from zero to 10.
		{"average half rounds up", api.PolicyAverage, []api.Event{trigger("E1", "a", 1, by(1)), trigger("E2", "b", 2, by(2))}, 10},
		// (2+3)/2 = 2.5 → 3; min 2 does not interfere.
		{"average half rounds away from zero", api.PolicyAverage, []api.Event{trigger("E1", "a", 1, to(2)), trigger("E2", "b", 2, to(3))}, 3},
		{"sum mixes signs", api.PolicySum, []api.Event{trigger("E1", "a", 1, by(4)), trigger("E2", "b", 2, by(-6)), user("E3", "u", 3, to(10))}, 8},
		{"first/last by event time", api.PolicyFirst, []api.Event{trigger("E2", "b", 20, by(2)), trigger("E1", "a", 10, by(1))}, 9},
		{"last by event time", api.PolicyLast, []api.Event{trigger("E2", "b", 20, by(2)), trigger("E1", "a", 10, by(1))}, 10},
		{"largest of shrinking proposals", api.PolicyLargest, []api.Event{trigger("E1", "a", 1, by(-1)), trigger("E2", "b", 2, by(-3))}, 7},
		{"recorded proposal used when no form", api.PolicyLargest, []api.Event{{ID: "x", Label: "E1", Type: api.EventTriggerFired, ProposedQuantity: ptr(13)}}, 13},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Harmonize(HarmonizeInput{Config: cfg(tt.policy), DesiredBefore: 8, OfficialBefore: 8, Nodes: ready(8), Requests: tt.reqs})
			if d.Period.DesiredAfter != tt.want {
				t.Errorf("desired after = %d, want %d", d.Period.DesiredAfter, tt.want)
			}
		})
	}
}

func TestHarmonizeClamps(t *testing.T) {
	hour := func(h int) time.Time { return time.Date(2025, 3, 4, h, 0, 0, 0, time.UTC) }
	bounds := func(lo, hi int, enforce, instr bool) *Bounds {
		return &Bounds{Lower: lo, Upper: hi, Start: hour(10), End: hour(11), Enforce: enforce, GovernInstructions: instr}
	}
	fc := func(label string, from, to int, applied bool, lo, hi int) api.Clamp {
		return api.Clamp{Kind: api.ClampForecast, Bound: to, From: from, To: to, Applied: applied, EventID: "id-" + label}
	}
	tests := []struct {
		name       string
		policy     string
		reqs       []api.Event
		bounds     *Bounds
		wantAgg    *int
		wantAfter  int
		wantClamps []api.Clamp
	}{
		{
			name: "max", reqs: []api.Event{trigger("E1", "a", 1, to(30))},
			wantAgg: ptr(30), wantAfter: 20,
			wantClamps: []api.Clamp{{Kind: api.ClampMax, Bound: 20, From: 30, To: 20, Applied: true}},
		},
		{
			name: "min", reqs: []api.Event{user("E1", "u", 1, by(-7))},
			wantAgg: ptr(1), wantAfter: 2,
			wantClamps: []api.Clamp{{Kind: api.ClampMin, Bound: 2, From: 1, To: 2, Applied: true}},
		},
		{
			name: "forecast upper replaces a trigger's proposal before aggregation",
			reqs: []api.Event{trigger("E5", "cpu-high", 1, by(6)), trigger("E6", "net-high", 2, by(2))}, bounds: bounds(6, 11, true, false),
			wantAgg: ptr(11), wantAfter: 11,
			wantClamps: []api.Clamp{fc("E5", 14, 11, true, 6, 11)},
		},
		{
			name: "forecast lower", reqs: []api.Event{trigger("E8", "cpu-low", 1, by(-4))}, bounds: bounds(6, 11, true, false),
			wantAgg: ptr(6), wantAfter: 6,
			wantClamps: []api.Clamp{fc("E8", 4, 6, true, 6, 11)},
		},
		{
			name: "sum uses governed deltas", policy: api.PolicySum,
			reqs: []api.Event{trigger("E5", "cpu-high", 1, by(6)), trigger("E6", "net-high", 2, by(2))}, bounds: bounds(6, 11, true, false),
			wantAgg: ptr(13), wantAfter: 13, // 8 + (11-8) + 2
			wantClamps: []api.Clamp{fc("E5", 14, 11, true, 6, 11)},
		},
		{
			name: "forecast_only records without clamping",
			reqs: []api.Event{trigger("E5", "cpu-high", 1, by(6))}, bounds: bounds(6, 11, false, false),
			wantAgg: ptr(14), wantAfter: 14,
			wantClamps: []api.Clamp{fc("E5", 14, 11, false, 6, 11)},
		},
		{
			name: "instructions not governed by default",
			reqs: []api.Event{user("E4", "alice", 1, to(15))}, bounds: bounds(6, 11, true, false),
			wantAgg: ptr(15), wantAfter: 15,
		},
		{
			name: "instructions governed when asked",
			reqs: []api.Event{user("E4", "alice", 1, to(15))}, bounds: bounds(6, 11, true, true),
			wantAgg: ptr(11), wantAfter: 11,
			wantClamps: []api.Clamp{fc("E4", 15, 11, true, 6, 11)},
		},
		{
			name: "inside the range no clamp", reqs: []api.Event{trigger("E5", "cpu-high", 1, by(2))}, bounds: bounds(6, 11, true, false),
			wantAgg: ptr(10), wantAfter: 10,
		},
		{
			name: "forecast then max", reqs: []api.Event{trigger("E5", "cpu-high", 1, to(40))}, bounds: bounds(6, 30, true, false),
			wantAgg: ptr(30), wantAfter: 20,
			wantClamps: []api.Clamp{fc("E5", 40, 30, true, 6, 30),
				{Kind: api.ClampMax, Bound: 20, From: 30, To: 20, Applied: true}},
		},
		{
			name: "no request keeps desired", reqs: nil,
			wantAgg: nil, wantAfter: 8,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Harmonize(HarmonizeInput{Config: cfg(tt.policy), DesiredBefore: 8, OfficialBefore: 8, Nodes: ready(8),
				Requests: tt.reqs, Bounds: tt.bounds})
			p := d.Period
			if deref(p.AggregatedQuantity) != deref(tt.wantAgg) || p.DesiredAfter != tt.wantAfter {
				t.Errorf("aggregated %v desired %d, want %v %d", deref(p.AggregatedQuantity), p.DesiredAfter, deref(tt.wantAgg), tt.wantAfter)
			}
			if !clampsEqual(p.Clamps, tt.wantClamps) {
				t.Errorf("clamps = %+v\nwant %+v", p.Clamps, tt.wantClamps)
			}
		})
	}

	t.Run("unset max_quantity means the default", func(t *testing.T) {
		d := Harmonize(HarmonizeInput{Config: conf(api.GroupConfig{}), DesiredBefore: 8, OfficialBefore: 8, Nodes: ready(8),
			Requests: []api.Event{trigger("E1", "a", 1, to(150))}})
		if d.Period.DesiredAfter != api.DefaultMaxQuantity {
			t.Errorf("desired after = %d, want %d", d.Period.DesiredAfter, api.DefaultMaxQuantity)
		}
	})

	t.Run("raised min with no requests", func(t *testing.T) {
		c := cfg("")
		c.MinQuantity = 10
		d := Harmonize(HarmonizeInput{Config: c, DesiredBefore: 8, OfficialBefore: 8, Nodes: ready(8)})
		if d.Period.DesiredAfter != 10 || d.Launch != 2 || len(d.CauseEventIDs) != 0 {
			t.Errorf("desired %d launch %d causes %v, want 10 2 none", d.Period.DesiredAfter, d.Launch, d.CauseEventIDs)
		}
	})
}

func TestHarmonizeReplacements(t *testing.T) {
	lost := func(n int) []api.Node { return ready(n) }
	tests := []struct {
		name       string
		before     int
		reqs       []api.Event
		nodes      []api.Node
		wantLaunch int
		wantTerm   int
		wantCauses []string
	}{
		{"replacement alone restores desired", 8, []api.Event{replacement("E9b", 52, "n-6")}, lost(7), 1, 0, ids("E9b")},
		{"two lost, two replacements", 8, []api.Event{replacement("E9b", 50, "n-6"), replacement("E9c", 52, "n-7")}, lost(6), 2, 0, ids("E9b", "E9c")},
		{"replacement already covered by a launching node", 8, []api.Event{replacement("E9b", 52, "n-6")},
			append(lost(7), node(20, api.NodeLaunching, at(53))), 0, 0, nil},
		{"two replacements, one still needed", 8, []api.Event{replacement("E9b", 50, "n-6"), replacement("E9c", 52, "n-7")},
			append(lost(6), node(20, api.NodeLaunching, at(51))), 1, 0, ids("E9b")},
		{"shrink absorbs the loss: cause of the smaller removal", 12,
			[]api.Event{trigger("E8", "cpu-low", 10, by(-2)), replacement("E10b", 50, "n-9")}, lost(11), 0, 1, ids("E8", "E10b")},
		{"shrink absorbs the loss entirely: no change, no cause", 12,
			[]api.Event{trigger("E8", "cpu-low", 10, by(-1)), replacement("E10b", 50, "n-9")}, lost(11), 0, 0, nil},
		{"no loss: replacement not a cause of a scale-out", 8,
			[]api.Event{trigger("E5", "cpu-high", 10, by(2)), replacement("E9b", 50, "n-6")}, lost(8), 2, 0, ids("E5")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Harmonize(HarmonizeInput{Config: cfg(""), DesiredBefore: tt.before, OfficialBefore: tt.before,
				Nodes: tt.nodes, Requests: tt.reqs})
			if d.Launch != tt.wantLaunch || len(d.Terminate) != tt.wantTerm {
				t.Errorf("launch %d terminate %v, want %d and %d", d.Launch, d.Terminate, tt.wantLaunch, tt.wantTerm)
			}
			if !slices.Equal(d.CauseEventIDs, tt.wantCauses) {
				t.Errorf("causes %v, want %v", d.CauseEventIDs, tt.wantCauses)
			}
			if d.Period.AggregatedQuantity == nil && d.Period.DesiredAfter != tt.before {
				t.Errorf("replacements alone moved desired %d → %d", tt.before, d.Period.DesiredAfter)
			}
		})
	}
}

func BenchmarkHarmonize(b *testing.B) {
	many := make([]api.Event, 0, 200)
	for i := range 200 {
		many = append(many, trigger("E"+strconv.Itoa(i+1), "t", i%60, by(i%7-3)))
	}
	benches := []struct {
		name string
		in   HarmonizeInput
	}{
		{"seed H2 4 requests 7 nodes", HarmonizeInput{Config: cfg(""), DesiredBefore: 8, OfficialBefore: 8,
			Nodes: ready(7), Requests: h2Requests()}},
		{"200 requests 100 nodes", HarmonizeInput{Config: cfg(api.PolicyAverage), DesiredBefore: 100, OfficialBefore: 100,
			Nodes: ready(100), Requests: many}},
	}
	for _, bb := range benches {
		b.Run(bb.name, func(b *testing.B) {
			bb.in.Config.MaxQuantity = 200
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				Harmonize(bb.in)
				n++
			}
			// decisions/s bounds how many groups one pesd can harmonize
			// per second on one core.
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "decisions/s")
		})
	}
}

// TestChosen checks that reading a record back names the request the
// decision took, for every policy.
func TestChosen(t *testing.T) {
	b := &Bounds{Lower: 6, Upper: 11, Enforce: true}
	tests := []struct {
		policy string
		bounds *Bounds
		want   string
	}{
		{api.PolicyLargest, nil, "id-E5"},
		{api.PolicySmallest, nil, "id-E6"},
		{api.PolicyPriority, nil, "id-E4"},
		{api.PolicyFirst, nil, "id-E5"},
		{api.PolicyLast, nil, "id-E4"},
		{api.PolicyAverage, nil, ""},
		{api.PolicySum, nil, ""},
		// E5's 12 governed down to 11 ties E4's 11: largest keeps the first.
		{api.PolicyLargest, b, "id-E5"},
	}
	for _, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			d := Harmonize(HarmonizeInput{Config: cfg(tt.policy), DesiredBefore: 8, OfficialBefore: 8,
				Nodes: ready(7), Requests: h2Requests(), Bounds: tt.bounds})
			if got := Chosen(d.Period); got != tt.want {
				t.Errorf("Chosen = %q, want %q", got, tt.want)
			}
		})
	}
	if got := Chosen(api.Period{Policy: api.PolicyLargest}); got != "" {
		t.Errorf("Chosen of an empty record = %q", got)
	}
}

// TestHarmonizeNotReady: bounds without a forecast clamp nothing, and the
// record says so when a request would have been governed.
func TestHarmonizeNotReady(t *testing.T) {
	const why = "forecast needs 24h of history; the group has 3h"
	const note = "predictive governing did not clamp: " + why
	notReady := func(instr bool) *Bounds { return &Bounds{NotReady: why, Enforce: true, GovernInstructions: instr} }
	tests := []struct {
		name      string
		reqs      []api.Event
		bounds    *Bounds
		wantAfter int
		wantNotes []string
	}{
		{"trigger beyond any range is not clamped", []api.Event{trigger("E5", "cpu-high", 1, by(6))}, notReady(false), 14, []string{note}},
		{"one note for several triggers", []api.Event{trigger("E5", "cpu-high", 1, by(6)), trigger("E6", "net-high", 2, by(-6))},
			notReady(false), 14, []string{note}},
		{"ungoverned instruction needs no note", []api.Event{user("E4", "alice", 1, to(15))}, notReady(false), 15, nil},
		{"governed instruction gets the note", []api.Event{user("E4", "alice", 1, to(15))}, notReady(true), 15, []string{note}},
		{"no request, no note", nil, notReady(true), 8, nil},
		{"replacement alone, no note", []api.Event{replacement("E9b", 52, "n-6")}, notReady(true), 8, nil},
		{"off: no note", []api.Event{trigger("E5", "cpu-high", 1, by(6))}, nil, 14, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Harmonize(HarmonizeInput{Config: cfg(""), DesiredBefore: 8, OfficialBefore: 8, Nodes: ready(8),
				Requests: tt.reqs, Bounds: tt.bounds})
			p := d.Period
			if p.DesiredAfter != tt.wantAfter {
				t.Errorf("desired after = %d, want %d", p.DesiredAfter, tt.wantAfter)
			}
			if len(p.Clamps) != 0 {
				t.Errorf("clamps = %+v, want none", p.Clamps)
			}
			// The note itself is written by causality.WriteRecord.
			if d.ForecastNotReady != (len(tt.wantNotes) > 0) {
				t.Errorf("forecast not ready = %v, want notes %q", d.ForecastNotReady, tt.wantNotes)
			}
		})
	}
}

// Seed 004: of competing requests, the one the policy took is named as data,
// once, among the change's causes; a combining policy names none.
func TestHarmonizeDecisiveCause(t *testing.T) {
	hi := func(e api.Event, p int) api.Event { e.Priority = p; return e }
	reqs := []api.Event{
		hi(trigger("E1", "cpu", 1, by(2)), 60), trigger("E2", "queue", 2, by(5)),
		user("E3", "bob", 3, by(-1)), replacement("E4", 4, "n9"),
	}
	tests := []struct {
		policy string
		want   string // label of the decisive cause; "" for none
	}{
		{api.PolicyLargest, "E2"},
		{api.PolicySmallest, "E3"},
		{api.PolicyPriority, "E3"},
		{api.PolicyFirst, "E1"},
		{api.PolicyLast, "E3"},
		{api.PolicyAverage, ""},
		{api.PolicySum, ""},
	}
	for _, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			d := Harmonize(HarmonizeInput{Config: cfg(tt.policy), DesiredBefore: 8, OfficialBefore: 8,
				Nodes: ready(8), Requests: reqs})
			if d.Launch == 0 && len(d.Terminate) == 0 {
				t.Fatalf("no change decided (desired after %d)", d.Period.DesiredAfter)
			}
			n := 0
			for _, id := range d.CauseEventIDs {
				if id == d.DecisiveEventID {
					n++
				}
			}
			if tt.want == "" {
				if d.DecisiveEventID != "" {
					t.Errorf("decisive = %q, want none", d.DecisiveEventID)
				}
				return
			}
			if d.DecisiveEventID != "id-"+tt.want || n != 1 {
				t.Errorf("decisive = %q (%d among causes %v), want id-%s once", d.DecisiveEventID, n, d.CauseEventIDs, tt.want)
			}
			if got := Chosen(d.Period); got != d.DecisiveEventID {
				t.Errorf("Chosen(record) = %q, decision's decisive = %q", got, d.DecisiveEventID)
			}
		})
	}
	d := Harmonize(HarmonizeInput{Config: cfg(api.PolicyLargest), DesiredBefore: 8, OfficialBefore: 8,
		Nodes: ready(8), Requests: []api.Event{trigger("E1", "cpu", 1, by(0))}})
	if d.DecisiveEventID != "" {
		t.Errorf("no change, but decisive = %q", d.DecisiveEventID)
	}
}
