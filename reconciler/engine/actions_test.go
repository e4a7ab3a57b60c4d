package engine

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

func TestSelectForRemoval(t *testing.T) {
	nodes := []api.Node{
		node(1, api.NodeReady, at(-300)),
		node(2, api.NodeReady, at(-200)),
		node(3, api.NodeReady, at(-100)),
		node(4, api.NodeLaunching, at(-20)),
		node(5, api.NodeLaunching, at(-10)),
		node(6, api.NodeUnavailable, at(-400)),
		node(7, api.NodeInitFailed, at(-50)),
		node(8, api.NodeTerminating, at(-1)),
		node(9, api.NodeTerminated, at(-1)),
	}
	tests := []struct {
		name   string
		n      int
		policy string
		want   []string
	}{
		{"none", 0, api.TerminateNewest, nil},
		{"failed first, newest failed first", 2, api.TerminateNewest, []string{"n-7", "n-6"}},
		{"then launching, newest first", 4, api.TerminateNewest, []string{"n-7", "n-6", "n-5", "n-4"}},
		{"then ready newest", 6, api.TerminateNewest, []string{"n-7", "n-6", "n-5", "n-4", "n-3", "n-2"}},
		{"default policy is newest", 5, "", []string{"n-7", "n-6", "n-5", "n-4", "n-3"}},
		{"then ready oldest", 6, api.TerminateOldest, []string{"n-7", "n-6", "n-5", "n-4", "n-1", "n-2"}},
		{"never terminating or terminated", 20, api.TerminateOldest, []string{"n-7", "n-6", "n-5", "n-4", "n-1", "n-2", "n-3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SelectForRemoval(nodes, tt.n, Removal{Policy: tt.policy}); !slices.Equal(got, tt.want) {
				t.Errorf("SelectForRemoval(%d, %q) = %v, want %v", tt.n, tt.policy, got, tt.want)
			}
		})
	}
}

func TestReconcile(t *testing.T) {
	base := append(ready(3), node(4, api.NodeLaunching, at(-10)), node(5, api.NodeLaunching, at(-5)))
	withFailed := append(slices.Clone(base), node(6, api.NodeUnavailable, at(-100)))
	tests := []struct {
		name          string
		desired       int
		nodes         []api.Node
		policy        string
		wantLaunch    int
		wantTerminate []string
	}{
		{"in flight counts: 3 ready + 2 launching = 5", 5, base, "", 0, nil},
		{"launch only the shortfall beyond in-flight", 8, base, "", 3, nil},
		{"scale in takes launching first", 4, base, "", 0, []string{"n-5"}},
		{"scale in past launching takes newest ready", 2, base, "", 0, []string{"n-5", "n-4", "n-3"}},
		{"scale in oldest", 2, base, api.TerminateOldest, 0, []string{"n-5", "n-4", "n-1"}},
		{"failed node removed and replaced", 5, withFailed, "", 0, []string{"n-6"}},
		{"failed node removed even when growing", 7, withFailed, "", 2, []string{"n-6"}},
		{"failed first then excess", 4, withFailed, "", 0, []string{"n-6", "n-5"}},
		{"negative desired is zero", -1, ready(2), "", 0, []string{"n-2", "n-1"}},
		{"empty group", 3, nil, "", 3, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, term := Reconcile(tt.desired, tt.nodes, Removal{Policy: tt.policy})
			if l != tt.wantLaunch || !slices.Equal(term, tt.wantTerminate) {
				t.Errorf("Reconcile(%d) = %d %v, want %d %v", tt.desired, l, term, tt.wantLaunch, tt.wantTerminate)
			}
		})
	}
}

func TestImmediate(t *testing.T) {
	b := &Bounds{Lower: 6, Upper: 11, Start: time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC),
		End: time.Date(2025, 3, 4, 11, 0, 0, 0, time.UTC), Enforce: true}
	tests := []struct {
		name       string
		ev         api.Event
		bounds     *Bounds
		nodes      []api.Node
		want       ImmediateDecision
		wantClamps []api.Clamp
	}{
		{
			name: "user +3 at once", ev: user("E4", "alice", 40, by(3)), nodes: ready(8),
			want: ImmediateDecision{ProposedQuantity: 11, DesiredAfter: 11, Launch: 3},
		},
		{
			name: "set_to below min clamps", ev: user("E4", "alice", 40, to(0)), nodes: ready(8),
			want:       ImmediateDecision{ProposedQuantity: 0, DesiredAfter: 2, Terminate: []string{"n-8", "n-7", "n-6", "n-5", "n-4", "n-3"}},
			wantClamps: []api.Clamp{{Kind: api.ClampMin, Bound: 2, From: 0, To: 2, Applied: true}},
		},
		{
			name: "trigger governed by forecast", ev: trigger("E5", "cpu-high", 5, by(6)), bounds: b, nodes: ready(8),
			want:       ImmediateDecision{ProposedQuantity: 14, DesiredAfter: 11, Launch: 3},
			wantClamps: []api.Clamp{{Kind: api.ClampForecast, Bound: 11, From: 14, To: 11, Applied: true, EventID: "id-E5"}},
		},
		{
			name: "user not governed by default", ev: user("E4", "alice", 40, by(6)), bounds: b, nodes: ready(8),
			want: ImmediateDecision{ProposedQuantity: 14, DesiredAfter: 14, Launch: 6},
		},
		{
			name: "trigger with a forecast not ready is not clamped", ev: trigger("E5", "cpu-high", 5, by(6)),
			bounds: &Bounds{NotReady: "forecast needs 24h of history; the group has none", Enforce: true}, nodes: ready(8),
			want: ImmediateDecision{ProposedQuantity: 14, DesiredAfter: 14, Launch: 6,
				ForecastNotReady: true},
		},
		{
			name: "ungoverned user gets no not-ready note", ev: user("E4", "alice", 40, by(6)),
			bounds: &Bounds{NotReady: "forecast needs 24h of history; the group has none", Enforce: true}, nodes: ready(8),
			want: ImmediateDecision{ProposedQuantity: 14, DesiredAfter: 14, Launch: 6},
		},
		{
			name: "in flight counted", ev: user("E4", "alice", 40, by(2)),
			nodes: append(ready(8), node(9, api.NodeLaunching, at(30))),
			want:  ImmediateDecision{ProposedQuantity: 10, DesiredAfter: 10, Launch: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Immediate(ImmediateInput{Config: cfg(""), Now: at(60), DesiredBefore: 8, Nodes: tt.nodes, Event: tt.ev, Bounds: tt.bounds})
			if got.ProposedQuantity != tt.want.ProposedQuantity || got.DesiredAfter != tt.want.DesiredAfter ||
				got.Launch != tt.want.Launch || !slices.Equal(got.Terminate, tt.want.Terminate) ||
				got.ForecastNotReady != tt.want.ForecastNotReady {
				t.Errorf("Immediate = %+v, want %+v", got, tt.want)
			}
			if !clampsEqual(got.Clamps, tt.wantClamps) {
				t.Errorf("clamps = %+v, want %+v", got.Clamps, tt.wantClamps)
			}
		})
	}
}

func TestAdmit(t *testing.T) {
	launchedByC7 := func(i int, state string, launched time.Time) api.Node {
		n := node(i, state, launched)
		n.ChangeID = "id-C7"
		return n
	}
	now := at(120) // 10:03:00
	tests := []struct {
		name string
		in   AdmitInput
		want Admission
	}{
		{
			name: "quiet group admits",
			in:   AdmitInput{Nodes: ready(8)},
			want: Admission{},
		},
		{
			name: "lockdown while C7's nodes launch",
			in: AdmitInput{Nodes: []api.Node{
				launchedByC7(9, api.NodeLaunching, at(60)),
				launchedByC7(10, api.NodeLaunching, at(60)),
				launchedByC7(11, api.NodeReady, at(60)),
				launchedByC7(12, api.NodeLaunching, at(61)),
			}, LastScaleOutID: "id-C7", LastScaleOutName: "C7"},
			want: Admission{Suppressed: true, Launching: []Launching{{"C7", 3}}, LaunchingUntil: at(61).Add(10 * time.Minute)},
		},
		{
			name: "lockdown names every change",
			in: AdmitInput{Nodes: []api.Node{
				launchedByC7(9, api.NodeLaunching, at(60)),
				{ID: "n-13", State: api.NodeLaunching, LaunchedAt: at(100), ChangeID: "id-C8"},
			}, ChangeLabels: map[string]string{"id-C7": "C7", "id-C8": "C8"}},
			want: Admission{Suppressed: true, Launching: []Launching{{"C7", 1}, {"C8", 1}}, LaunchingUntil: at(100).Add(10 * time.Minute)},
		},
		{
			name: "one unlabelled node",
			in:   AdmitInput{Nodes: []api.Node{node(9, api.NodeLaunching, at(60))}},
			want: Admission{Suppressed: true, Launching: []Launching{{"", 1}}, LaunchingUntil: at(60).Add(10 * time.Minute)},
		},
		{
			name: "lockdown ends at init_deadline",
			in:   AdmitInput{Nodes: []api.Node{launchedByC7(9, api.NodeLaunching, now.Add(-10*time.Minute))}},
			want: Admission{},
		},
		{
			name: "cooldown after C7 ended",
			in:   AdmitInput{LastScaleOutEnd: at(90), LastScaleOutID: "id-C7", LastScaleOutName: "C7"},
			want: Admission{Suppressed: true, Cooldown: "2m", LastScaleOut: "C7", LastScaleOutEnd: at(90), CooldownUntil: at(90).Add(2 * time.Minute)},
		},
		{
			name: "cooldown over",
			in:   AdmitInput{LastScaleOutEnd: now.Add(-2 * time.Minute), LastScaleOutName: "C7"},
			want: Admission{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Config, tt.in.Now = cfg(""), now
			if got := Admit(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Admit = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestReplaceNow(t *testing.T) {
	now := at(0)
	tests := []struct {
		mode   string
		window string
		next   time.Time
		want   bool
	}{
		{api.ReplacementImmediate, "", now.Add(time.Second), true},
		{api.ReplacementDeferred, "", now.Add(time.Hour), false},
		{api.ReplacementAuto, "15s", now.Add(10 * time.Second), false},
		{api.ReplacementAuto, "15s", now.Add(15 * time.Second), false},
		{api.ReplacementAuto, "15s", now.Add(16 * time.Second), true},
		{api.ReplacementAuto, "", now.Add(10 * time.Second), false}, // default window 15s
		{api.ReplacementAuto, "1m", now.Add(50 * time.Second), false},
		{"", "15s", now.Add(40 * time.Second), true}, // default mode auto
		{api.ReplacementAuto, "15s", time.Time{}, true},
	}
	for _, tt := range tests {
		c := cfg("")
		c.Replacement, c.ReplacementDeferWindow = tt.mode, tt.window
		c = conf(c.GroupConfig)
		got := ReplaceNow(ReplaceInput{Config: c, Now: now, NextHarmonizationAt: tt.next})
		if got != tt.want {
			t.Errorf("ReplaceNow(%q, window %q, next in %v) = %v, want %v", tt.mode, tt.window, tt.next.Sub(now), got, tt.want)
		}
	}
}
