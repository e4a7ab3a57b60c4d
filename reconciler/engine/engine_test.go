package engine

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// t0 is the start of the seed's second aggregation period (H1 → H2).
var t0 = time.Date(2025, 3, 4, 10, 1, 0, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

func ptr[T any](v T) *T { return &v }

func cfg(policy string) api.Config {
	return conf(api.GroupConfig{
		Name: "web", Driver: api.DriverSim, DesiredQuantity: 8,
		MinQuantity: 2, MaxQuantity: 20,
		AggregationPeriod: "60s", AggregationPolicy: policy,
		Replacement: api.ReplacementAuto, ReplacementDeferWindow: "15s",
		InitDeadline: "10m", Cooldown: "2m", TerminationPolicy: api.TerminateNewest,
	})
}

// conf parses g as the controller does before handing it to the engine.
func conf(g api.GroupConfig) api.Config {
	c, err := api.ParseConfig(g)
	if err != nil {
		panic(err)
	}
	return c
}

// node makes a node launched at launched, ID n-<index>.
func node(index int, state string, launched time.Time) api.Node {
	return api.Node{ID: fmt.Sprintf("n-%d", index), GroupID: "g", Index: index, State: state, LaunchedAt: launched}
}

// ready makes n ready nodes n-1..n-n launched one second apart before t0.
func ready(n int) []api.Node {
	var ns []api.Node
	for i := 1; i <= n; i++ {
		ns = append(ns, node(i, api.NodeReady, t0.Add(-time.Hour+time.Duration(i)*time.Second)))
	}
	return ns
}

func trigger(label, name string, sec int, r api.Request) api.Event {
	return api.Event{ID: "id-" + label, Label: label, GroupID: "g", Type: api.EventTriggerFired,
		Source: api.Source{Kind: api.SourceTrigger, ID: "tr-" + name, Name: name}, Time: at(sec),
		Request: &r, Priority: api.DefaultTriggerPriority, Status: api.EventAggregated}
}

func user(label, name string, sec int, r api.Request) api.Event {
	return api.Event{ID: "id-" + label, Label: label, GroupID: "g", Type: api.EventUserInstruction,
		Source: api.Source{Kind: api.SourceUser, Name: name}, Time: at(sec),
		Request: &r, Priority: api.DefaultInstructionPriority, Status: api.EventAggregated}
}

func replacement(label string, sec int, nodeID string) api.Event {
	return api.Event{ID: "id-" + label, Label: label, GroupID: "g", Type: api.EventReplacementRequest,
		Source: api.Source{Kind: api.SourceSystem}, Time: at(sec), NodeID: nodeID,
		ParentChangeID: "id-C6", Status: api.EventAggregated}
}

func by(n int) api.Request      { return api.Request{ChangeBy: &n} }
func to(n int) api.Request      { return api.Request{SetTo: &n} }
func pct(p float64) api.Request { return api.Request{ChangeByPercent: &p} }
func ids(labels ...string) []string {
	var s []string
	for _, l := range labels {
		s = append(s, "id-"+l)
	}
	return s
}

// h2Requests are the seed's H2 requests, in the order they arrived:
// E5 trigger cpu-high +4 → 12, E6 trigger net-high +2 → 10, E4 user alice
// +3 → 11, and E9b, the deferred replacement of the node lost at E9.
func h2Requests() []api.Event {
	return []api.Event{
		trigger("E5", "cpu-high", 5, by(4)),
		trigger("E6", "net-high", 20, by(2)),
		user("E4", "alice", 40, by(3)),
		replacement("E9b", 52, "n-6"),
	}
}

func TestPropose(t *testing.T) {
	tests := []struct {
		name    string
		desired int
		r       api.Request
		want    int
	}{
		{"change_by up", 8, by(4), 12},
		{"change_by down", 8, by(-3), 5},
		{"change_by never below zero", 2, by(-5), 0},
		{"set_to", 8, to(3), 3},
		{"set_to zero", 8, to(0), 0},
		{"set_to negative is zero", 8, to(-1), 0},
		{"percent whole", 10, pct(50), 15},
		{"percent 10% of 10 is exactly 1 despite float noise", 10, pct(10), 11},
		{"percent rounds up when growing", 8, pct(10), 9},
		{"percent rounds down when shrinking", 8, pct(-10), 7},
		{"percent 30% of 8 is 2.4, up to 3", 8, pct(30), 11},
		{"percent -30% of 8 is -2.4, down to -3", 8, pct(-30), 5},
		{"percent moves at least one from zero", 0, pct(20), 1},
		{"percent shrinking from zero stays zero", 0, pct(-20), 0},
		{"percent -100% empties", 8, pct(-100), 0},
		{"percent -150% is zero", 8, pct(-150), 0},
		{"percent zero moves nothing", 8, pct(0), 8},
		{"no form proposes desired", 8, api.Request{}, 8},
		{"huge percent does not wrap", 8, pct(1e300), 8 + math.MaxInt32},
		{"huge negative percent is zero", 8, pct(-1e300), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Propose(tt.desired, tt.r); got != tt.want {
				t.Errorf("Propose(%d, %s) = %d, want %d", tt.desired, reqString(tt.r), got, tt.want)
			}
		})
	}
}

func reqString(r api.Request) string {
	switch {
	case r.SetTo != nil:
		return fmt.Sprintf("set_to %d", *r.SetTo)
	case r.ChangeBy != nil:
		return fmt.Sprintf("change_by %d", *r.ChangeBy)
	case r.ChangeByPercent != nil:
		return fmt.Sprintf("change_by_percent %g", *r.ChangeByPercent)
	}
	return "{}"
}

func TestHarmonizePolicies(t *testing.T) {
	tests := []struct {
		policy     string
		max        int
		wantAgg    int
		wantAfter  int
		wantLaunch int
		wantClamps []api.Clamp
	}{
		{api.PolicyLargest, 20, 12, 12, 5, nil},
		{"", 20, 12, 12, 5, nil}, // default is largest
		{api.PolicySmallest, 20, 10, 10, 3, nil},
		{api.PolicyAverage, 20, 11, 11, 4, nil},
		{api.PolicySum, 20, 17, 17, 10, nil},
		{api.PolicySum, 15, 17, 15, 8, []api.Clamp{{Kind: api.ClampMax, Bound: 15, From: 17, To: 15, Applied: true}}},
		{api.PolicyPriority, 20, 11, 11, 4, nil},
		{api.PolicyFirst, 20, 12, 12, 5, nil},
		{api.PolicyLast, 20, 11, 11, 4, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s max %d", tt.policy, tt.max), func(t *testing.T) {
			c := cfg(tt.policy)
			c.MaxQuantity = tt.max
			d := Harmonize(HarmonizeInput{Config: c, Now: at(60), DesiredBefore: 8, OfficialBefore: 8,
				Nodes: ready(7), Requests: h2Requests()})
			p := d.Period
			if p.AggregatedQuantity == nil || *p.AggregatedQuantity != tt.wantAgg {
				t.Errorf("AggregatedQuantity = %v, want %d", deref(p.AggregatedQuantity), tt.wantAgg)
			}
			if p.DesiredAfter != tt.wantAfter || p.OfficialAfter != tt.wantAfter {
				t.Errorf("desired/official after = %d/%d, want %d", p.DesiredAfter, p.OfficialAfter, tt.wantAfter)
			}
			if d.Launch != tt.wantLaunch || len(d.Terminate) != 0 {
				t.Errorf("launch %d terminate %v, want launch %d", d.Launch, d.Terminate, tt.wantLaunch)
			}
			if !clampsEqual(p.Clamps, tt.wantClamps) {
				t.Errorf("clamps = %+v, want %+v", p.Clamps, tt.wantClamps)
			}
			// Every policy raises desired with 7 of 8 ready: the lost
			// node's replacement is part of the change.
			if want := ids("E5", "E6", "E4", "E9b"); !slices.Equal(d.CauseEventIDs, want) {
				t.Errorf("causes = %v, want %v", d.CauseEventIDs, want)
			}
		})
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func clampsEqual(a, b []api.Clamp) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return slices.Equal(a, b)
}

// TestHarmonizeSeed replays the seed's three harmonizations.
func TestHarmonizeSeed(t *testing.T) {
	h3Nodes := ready(12)
	h3Nodes = slices.Delete(h3Nodes, 8, 9) // n-9 lost at E10
	tests := []struct {
		name                    string
		in                      HarmonizeInput
		wantDesired, wantActual int
		wantLaunch              int
		wantTerminate           []string
		wantCauses              []string
	}{
		{
			name: "H1 8/8/8 nothing to do",
			in: HarmonizeInput{Config: cfg(""), Now: t0, DesiredBefore: 8, OfficialBefore: 8,
				Nodes: ready(8), PeriodLabel: "H1"},
			wantDesired: 8, wantActual: 8,
		},
		{
			name: "H2 8→12 with 7 ready adds 5",
			in: HarmonizeInput{Config: cfg(""), Now: at(60), DesiredBefore: 8, OfficialBefore: 8,
				Nodes: ready(7), Requests: h2Requests(), PeriodLabel: "H2"},
			wantDesired: 12, wantActual: 7, wantLaunch: 5,
			wantCauses: ids("E5", "E6", "E4", "E9b"),
		},
		{
			name: "H3 12→10 with 11 ready removes 1",
			in: HarmonizeInput{Config: cfg(""), Now: at(180), DesiredBefore: 12, OfficialBefore: 12,
				Nodes: h3Nodes, PeriodLabel: "H3",
				Requests: []api.Event{trigger("E8", "cpu-low", 130, by(-2)), replacement("E10b", 170, "n-9")}},
			wantDesired: 10, wantActual: 11,
			wantTerminate: []string{"n-12"}, // newest
			wantCauses:    ids("E8", "E10b"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Harmonize(tt.in)
			p := d.Period
			if p.DesiredAfter != tt.wantDesired || p.OfficialAfter != tt.wantDesired {
				t.Errorf("desired/official after = %d/%d, want %d", p.DesiredAfter, p.OfficialAfter, tt.wantDesired)
			}
			if p.Actual != tt.wantActual {
				t.Errorf("actual = %d, want %d", p.Actual, tt.wantActual)
			}
			if d.Launch != tt.wantLaunch || !slices.Equal(d.Terminate, tt.wantTerminate) {
				t.Errorf("launch %d terminate %v, want %d %v", d.Launch, d.Terminate, tt.wantLaunch, tt.wantTerminate)
			}
			if !slices.Equal(d.CauseEventIDs, tt.wantCauses) {
				t.Errorf("causes = %v, want %v", d.CauseEventIDs, tt.wantCauses)
			}
		})
	}
}

func TestHarmonizeRecord(t *testing.T) {
	sup := trigger("E7", "cpu-high", 30, by(4))
	sup.Status, sup.Reason = api.EventSuppressed, "cooldown: 2m after C5 ended at 10:00:40, until 10:02:40"
	nodes := append(ready(6), node(7, api.NodeLaunching, at(10)))
	d := Harmonize(HarmonizeInput{Config: cfg(""), Now: at(60), DesiredBefore: 8, OfficialBefore: 8,
		Nodes: nodes, Requests: h2Requests(), Suppressed: []api.Event{sup}})
	p := d.Period
	if p.Policy != api.PolicyLargest || p.Actual != 6 || p.InFlight != 1 {
		t.Errorf("policy %q actual %d in flight %d, want largest 6 1", p.Policy, p.Actual, p.InFlight)
	}
	wantReqs := []api.PeriodRequest{
		{EventID: "id-E5", Label: "E5", ProposedQuantity: 12, Priority: 50, Kind: "trigger"},
		{EventID: "id-E6", Label: "E6", ProposedQuantity: 10, Priority: 50, Kind: "trigger"},
		{EventID: "id-E4", Label: "E4", ProposedQuantity: 11, Priority: 100, Kind: "user"},
		{EventID: "id-E9b", Label: "E9b", ProposedQuantity: 8, Priority: 0, Kind: "replacement"},
	}
	if !slices.Equal(p.Requests, wantReqs) {
		t.Errorf("requests = %+v\nwant %+v", p.Requests, wantReqs)
	}
	wantSup := []api.PeriodSuppressed{{EventID: "id-E7", Label: "E7", Reason: sup.Reason}}
	if !slices.Equal(p.Suppressed, wantSup) {
		t.Errorf("suppressed = %+v, want %+v", p.Suppressed, wantSup)
	}
	// 6 ready + 1 launching: the launching node is not launched twice.
	if d.Launch != 5 {
		t.Errorf("launch = %d, want 5 (12 - 6 ready - 1 in flight)", d.Launch)
	}
}
