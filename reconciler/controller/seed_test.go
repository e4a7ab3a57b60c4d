package controller

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

func ptr[T any](v T) *T { return &v }

// seedConfig is the group of seed 000: 8 nodes of which 4 boot in 2s, 3 in
// 4s and the eighth never (init_deadline 10s); periods of 60s; lost nodes
// replaced at once unless the harmonization is within 15s.
func seedConfig() api.GroupConfig {
	return api.GroupConfig{
		Name: "seed", DesiredQuantity: 8, MinQuantity: 1, MaxQuantity: 20,
		AggregationPeriod: "60s", AggregationPolicy: api.PolicyLargest,
		Replacement: api.ReplacementAuto, ReplacementDeferWindow: "15s",
		InitDeadline: "10s", Cooldown: "0s",
		Sim: &api.SimConfig{
			BootTime:     "2s",
			BootTimes:    []string{"2s", "2s", "2s", "2s", "4s", "4s", "4s"},
			InitFailures: 1,
		},
	}
}

// seedTriggers are TR-1 (cpu high, +4), TR-N (network high, +2) and TR-3
// (cpu low, -2).
func seedTriggers() []api.TriggerSpec {
	return []api.TriggerSpec{
		{Name: ptr("TR-1"), Condition: ptr("avg(cpu_utilization, '10s') > 80"), Request: api.Request{ChangeBy: ptr(4)}},
		{Name: ptr("TR-N"), Condition: ptr("avg(network_mbps, '10s') > 500"), Request: api.Request{ChangeBy: ptr(2)}},
		{Name: ptr("TR-3"), Condition: ptr("avg(cpu_utilization, '10s') < 20"), Request: api.Request{ChangeBy: ptr(-2)}},
	}
}

// seedLoad is the load of the seed's timeline graph: CPU rises in period
// 2 (TR-1), so does network traffic (TR-N), and CPU falls in period 3
// (TR-3).
func seedLoad(at time.Duration) []api.Sample {
	cpu, net := 50.0, 100.0
	switch {
	case at >= 65*time.Second && at < 95*time.Second:
		cpu = 90
	case at >= 135*time.Second:
		cpu = 10
	}
	if at >= 75*time.Second && at < 95*time.Second {
		net = 900
	}
	return []api.Sample{{Name: "cpu_utilization", Value: cpu}, {Name: "network_mbps", Value: net}}
}

// seedRun plays seed 000 from T1 to H3. at holds faults to inject: each
// runs at its second, before that second's pass.
func seedRun(t *testing.T, h *harness, at map[time.Duration]func()) api.Group {
	t.Helper()
	g := h.createGroup(seedConfig())
	h.push(g.ID, seedLoad(0)...)
	for _, s := range seedTriggers() {
		if _, err := h.c.CreateTrigger(h.ctx, g.ID, s); err != nil {
			t.Fatalf("CreateTrigger %s: %v", *s.Name, err)
		}
	}
	step := func(to time.Duration) {
		h.runTo(to, func(now time.Duration) {
			if f := at[now]; f != nil {
				f()
			}
			h.push(g.ID, seedLoad(now)...)
		})
	}
	step(30 * time.Second)
	h.failNode(g.ID) // E3a: lost mid-period, replaced at once (E3b → C5)
	step(90 * time.Second)
	if _, err := h.c.Instruct(h.ctx, g.ID, api.Instruction{Request: api.Request{ChangeBy: ptr(3)}, Actor: "alice"}); err != nil {
		t.Fatalf("Instruct: %v", err) // E4
	}
	step(110 * time.Second)
	h.failNode(g.ID) // E9a: 10s before H2, replacement deferred (E9b)
	step(170 * time.Second)
	h.failNode(g.ID) // E10a: 10s before H3, replacement deferred (E10b)
	step(185 * time.Second)
	return g
}

// timeline finds the seed's events and changes among the rows by what
// they are, since labels here follow creation order.
type timeline struct {
	E map[string]api.Event
	C map[string]api.Change
}

func seedTimeline(t *testing.T, h *harness, groupID string) timeline {
	t.Helper()
	tl := timeline{E: map[string]api.Event{}, C: map[string]api.Change{}}
	events, changes := h.events(groupID), h.changes(groupID)
	eventsOf := func(typ string) []api.Event {
		var out []api.Event
		for _, e := range events {
			if e.Type == typ {
				out = append(out, e)
			}
		}
		return out
	}
	byTrigger := func(name string) api.Event {
		for _, e := range eventsOf(api.EventTriggerFired) {
			if e.Source.Name == name {
				return e
			}
		}
		t.Fatalf("no firing of %s", name)
		return api.Event{}
	}
	changeByID := func(id string) api.Change {
		for _, c := range changes {
			if c.ID == id {
				return c
			}
		}
		t.Fatalf("no change %s", id)
		return api.Change{}
	}
	one := func(name string, es []api.Event) api.Event {
		if len(es) != 1 {
			t.Fatalf("%s: want 1 event, got %d: %v", name, len(es), labelsOf(es))
		}
		return es[0]
	}
	tl.E["E1"] = one("E1", eventsOf(api.EventGroupCreated))
	tl.E["E2a"] = one("E2a", eventsOf(api.EventNodeInitFailed))
	unavailable := eventsOf(api.EventNodeUnavailable)
	if len(unavailable) != 3 {
		t.Fatalf("want 3 node_unavailable events (E3a, E9a, E10a), got %v", labelsOf(unavailable))
	}
	tl.E["E3a"], tl.E["E9a"], tl.E["E10a"] = unavailable[0], unavailable[1], unavailable[2]
	tl.E["E4"] = one("E4", eventsOf(api.EventUserInstruction))
	tl.E["E5"], tl.E["E6"], tl.E["E8"] = byTrigger("TR-1"), byTrigger("TR-N"), byTrigger("TR-3")

	// Removals and losses are found through their events' nexus; the
	// replacement requests through their parent change.
	effect := func(e api.Event) api.Change {
		for _, c := range changes {
			if e.NexusID != "" && c.NexusID == e.NexusID {
				return c
			}
		}
		t.Fatalf("%s has no effect", e.Label)
		return api.Change{}
	}
	replacementOf := func(parent api.Change) api.Event {
		for _, e := range eventsOf(api.EventReplacementRequest) {
			if e.ParentChangeID == parent.ID {
				return e
			}
		}
		t.Fatalf("no replacement request for %s", parent.Label)
		return api.Event{}
	}
	tl.C["C10b"] = effect(tl.E["E2a"])
	tl.E["E2b"] = replacementOf(tl.C["C10b"])
	tl.C["C4"] = effect(tl.E["E3a"])
	tl.E["E3b"] = replacementOf(tl.C["C4"])
	tl.C["C6"] = effect(tl.E["E9a"])
	tl.E["E9b"] = replacementOf(tl.C["C6"])
	tl.C["C8"] = effect(tl.E["E10a"])
	tl.E["E10b"] = replacementOf(tl.C["C8"])
	tl.C["C3"] = effect(tl.E["E2b"])
	tl.C["C5"] = effect(tl.E["E3b"])

	// E1's launch of 8 became three rows: 4 ready, 3 ready, 1 failed.
	var e1 []api.Change
	for _, c := range changes {
		if c.NexusID == tl.E["E1"].NexusID {
			e1 = append(e1, c)
		}
	}
	if len(e1) != 3 {
		t.Fatalf("E1 caused %d changes, want 3 (C1, C2, C10a): %v", len(e1), changeLabels(e1))
	}
	tl.C["C1"], tl.C["C2"], tl.C["C10a"] = e1[0], e1[1], e1[2]

	ps := h.periods(groupID)
	if len(ps) < 3 {
		t.Fatalf("want at least 3 periods, got %d", len(ps))
	}
	if len(ps[1].ChangeIDs) != 1 || len(ps[2].ChangeIDs) != 1 {
		t.Fatalf("H2 and H3 must each make one change: %v, %v", ps[1].ChangeIDs, ps[2].ChangeIDs)
	}
	tl.C["C7"] = changeByID(ps[1].ChangeIDs[0])
	tl.C["C9"] = changeByID(ps[2].ChangeIDs[0])
	return tl
}

func labelsOf(es []api.Event) []string {
	var ls []string
	for _, e := range es {
		ls = append(ls, e.Label+":"+e.Type)
	}
	return ls
}

func changeLabels(cs []api.Change) []string {
	var ls []string
	for _, c := range cs {
		ls = append(ls, fmt.Sprintf("%s:%s %d", c.Label, c.Type, c.Amount))
	}
	return ls
}

// TestSeedTimeline plays the worked example of seed 000 (E1–E10, C1–C10,
// H1–H3) and checks every quantity and every nexus.
func TestSeedTimeline(t *testing.T) {
	h := newHarness(t)
	g := seedRun(t, h, nil)
	checkSeed(t, h, g.ID, true)
}

// checkSeed checks the timeline's rows. With exactTimes, changes must
// also start and end at the seed's instants (a restart may delay them).
func checkSeed(t *testing.T, h *harness, groupID string, exactTimes bool) {
	t.Helper()
	tl := seedTimeline(t, h, groupID)

	t.Run("changes", func(t *testing.T) {
		tests := []struct {
			name           string
			typ            string
			amount         int
			before, after  int
			status         string
			startAt, endAt time.Duration // after t0; endAt -1: not ended
		}{
			{"C1", api.ChangeAddNodes, 4, 0, 4, api.ChangeCompleted, 0, 2 * time.Second},
			{"C2", api.ChangeAddNodes, 3, 4, 7, api.ChangeCompleted, 0, 4 * time.Second},
			{"C10a", api.ChangeAddNodes, 1, 7, 7, api.ChangeFailed, 0, 10 * time.Second},
			{"C10b", api.ChangeRemoveNodes, 1, 7, 7, api.ChangeCompleted, 10 * time.Second, 10 * time.Second},
			{"C3", api.ChangeAddNodes, 1, 7, 8, api.ChangeCompleted, 10 * time.Second, 12 * time.Second},
			{"C4", api.ChangeNodeLost, 1, 8, 7, api.ChangeCompleted, 30 * time.Second, 30 * time.Second},
			{"C5", api.ChangeAddNodes, 1, 7, 8, api.ChangeCompleted, 30 * time.Second, 32 * time.Second},
			{"C6", api.ChangeNodeLost, 1, 8, 7, api.ChangeCompleted, 110 * time.Second, 110 * time.Second},
			{"C7", api.ChangeAddNodes, 5, 7, 12, api.ChangeCompleted, 120 * time.Second, 122 * time.Second},
			{"C8", api.ChangeNodeLost, 1, 12, 11, api.ChangeCompleted, 170 * time.Second, 170 * time.Second},
			{"C9", api.ChangeRemoveNodes, 1, 11, 10, api.ChangeCompleted, 180 * time.Second, 180 * time.Second},
		}
		for _, tt := range tests {
			c := tl.C[tt.name]
			got := fmt.Sprintf("%s %d %d→%d %s", c.Type, c.Amount, c.QuantityBefore, c.QuantityAfter, c.Status)
			want := fmt.Sprintf("%s %d %d→%d %s", tt.typ, tt.amount, tt.before, tt.after, tt.status)
			if got != want {
				t.Errorf("%s (%s): got %s, want %s", tt.name, c.Label, got, want)
			}
			if len(c.NodeIDs) != c.Amount {
				t.Errorf("%s (%s): %d node ids for amount %d", tt.name, c.Label, len(c.NodeIDs), c.Amount)
			}
			if c.Description == "" {
				t.Errorf("%s (%s): no description", tt.name, c.Label)
			}
			if c.EndedAt == nil {
				t.Errorf("%s (%s): not ended", tt.name, c.Label)
			}
			if !exactTimes {
				continue
			}
			if c.StartedAt.Sub(t0) != tt.startAt {
				t.Errorf("%s (%s): started at +%s, want +%s", tt.name, c.Label, c.StartedAt.Sub(t0), tt.startAt)
			}
			if c.EndedAt != nil && c.EndedAt.Sub(t0) != tt.endAt {
				t.Errorf("%s (%s): ended at +%s, want +%s", tt.name, c.Label, c.EndedAt.Sub(t0), tt.endAt)
			}
		}
	})

	labels := map[string]string{}
	for _, e := range h.events(groupID) {
		labels[e.ID] = e.Label
	}
	for _, c := range h.changes(groupID) {
		labels[c.ID] = c.Label
	}
	named := func(ids []string) []string {
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = labels[id]
		}
		return out
	}

	t.Run("nexus", func(t *testing.T) {
		tests := []struct {
			attribution string
			events      []string
			changes     []string
		}{
			{api.AttributionDirect, []string{"E1"}, []string{"C1", "C2", "C10a"}},
			{api.AttributionDirect, []string{"E2a"}, []string{"C10b"}},
			{api.AttributionDirect, []string{"E2b"}, []string{"C3"}},
			{api.AttributionDirect, []string{"E3a"}, []string{"C4"}},
			{api.AttributionDirect, []string{"E3b"}, []string{"C5"}},
			{api.AttributionDirect, []string{"E9a"}, []string{"C6"}},
			{api.AttributionDirect, []string{"E10a"}, []string{"C8"}},
			{api.AttributionIndirect, []string{"E4", "E5", "E6", "E9b"}, []string{"C7"}},
			{api.AttributionIndirect, []string{"E8", "E10b"}, []string{"C9"}},
		}
		for _, tt := range tests {
			e := tl.E[tt.events[0]]
			nx, err := h.st.GetNexus(h.ctx, e.NexusID)
			if err != nil {
				t.Errorf("nexus of %s (%s): %v", tt.events[0], e.Label, err)
				continue
			}
			var wantE, wantC []string
			for _, n := range tt.events {
				wantE = append(wantE, tl.E[n].ID)
			}
			for _, n := range tt.changes {
				wantC = append(wantC, tl.C[n].ID)
			}
			slices.Sort(wantE)
			slices.Sort(wantC)
			gotE, gotC := slices.Sorted(slices.Values(nx.EventIDs)), slices.Sorted(slices.Values(nx.ChangeIDs))
			if !slices.Equal(gotE, wantE) || !slices.Equal(gotC, wantC) || nx.Attribution != tt.attribution {
				t.Errorf("nexus of %v: got %s %v → %v, want %s %v → %v", tt.events,
					nx.Attribution, named(gotE), named(gotC), tt.attribution, named(wantE), named(wantC))
			}
			for _, n := range tt.changes {
				if c := tl.C[n]; c.NexusID != nx.ID || c.Attribution != tt.attribution {
					t.Errorf("%s (%s): nexus %q attribution %q, want %q %q", n, c.Label, c.NexusID, c.Attribution, nx.ID, tt.attribution)
				}
			}
			for _, n := range tt.events {
				if ev := tl.E[n]; ev.NexusID != nx.ID {
					t.Errorf("%s (%s): nexus %q, want %q", n, ev.Label, ev.NexusID, nx.ID)
				}
			}
		}
	})

	t.Run("events", func(t *testing.T) {
		tests := []struct {
			name     string
			typ      string
			source   string
			status   string
			proposed int // -1: none
			parent   string
		}{
			{"E1", api.EventGroupCreated, api.SourceUser, api.EventApplied, 8, ""},
			{"E2a", api.EventNodeInitFailed, api.SourceSystem, api.EventApplied, -1, ""},
			{"E2b", api.EventReplacementRequest, api.SourceSystem, api.EventApplied, -1, "C10b"},
			{"E3a", api.EventNodeUnavailable, api.SourceSystem, api.EventApplied, -1, ""},
			{"E3b", api.EventReplacementRequest, api.SourceSystem, api.EventApplied, -1, "C4"},
			{"E4", api.EventUserInstruction, api.SourceUser, api.EventAggregated, 11, ""},
			{"E5", api.EventTriggerFired, api.SourceTrigger, api.EventAggregated, 12, ""},
			{"E6", api.EventTriggerFired, api.SourceTrigger, api.EventAggregated, 10, ""},
			{"E8", api.EventTriggerFired, api.SourceTrigger, api.EventAggregated, 10, ""},
			{"E9a", api.EventNodeUnavailable, api.SourceSystem, api.EventApplied, -1, ""},
			{"E9b", api.EventReplacementRequest, api.SourceSystem, api.EventAggregated, -1, "C6"},
			{"E10a", api.EventNodeUnavailable, api.SourceSystem, api.EventApplied, -1, ""},
			{"E10b", api.EventReplacementRequest, api.SourceSystem, api.EventAggregated, -1, "C8"},
		}
		for _, tt := range tests {
			e := tl.E[tt.name]
			if e.Type != tt.typ || e.Source.Kind != tt.source || e.Status != tt.status {
				t.Errorf("%s (%s): %s from %s %s, want %s from %s %s", tt.name, e.Label,
					e.Type, e.Source.Kind, e.Status, tt.typ, tt.source, tt.status)
			}
			if tt.proposed >= 0 && (e.ProposedQuantity == nil || *e.ProposedQuantity != tt.proposed) {
				t.Errorf("%s (%s): proposed %v, want %d", tt.name, e.Label, e.ProposedQuantity, tt.proposed)
			}
			if tt.parent != "" && e.ParentChangeID != tl.C[tt.parent].ID {
				t.Errorf("%s (%s): parent change %q, want %s (%s)", tt.name, e.Label, e.ParentChangeID, tt.parent, tl.C[tt.parent].ID)
			}
			if e.Description == "" {
				t.Errorf("%s (%s): no description", tt.name, e.Label)
			}
		}
		if o := tl.E["E5"].Observed; !strings.Contains(o, "cpu_utilization") {
			t.Errorf("E5 observed %q, want the cpu value it saw", o)
		}
		if e := tl.E["E4"]; e.Source.Name != "alice" || e.Priority != api.DefaultInstructionPriority {
			t.Errorf("E4: source %q priority %d, want alice %d", e.Source.Name, e.Priority, api.DefaultInstructionPriority)
		}
	})

	t.Run("periods", func(t *testing.T) {
		ps := h.periods(groupID)
		tests := []struct {
			label                         string
			desiredBefore, desiredAfter   int
			officialBefore, officialAfter int
			actual                        int
			changes                       int
			requests                      []string
			endAt                         time.Duration
		}{
			{"H1", 8, 8, 8, 8, 8, 0, nil, 60 * time.Second},
			{"H2", 8, 12, 8, 12, 7, 1, []string{"E5", "E6", "E4", "E9b"}, 120 * time.Second},
			{"H3", 12, 10, 12, 10, 11, 1, []string{"E8", "E10b"}, 180 * time.Second},
		}
		for i, tt := range tests {
			p := ps[i]
			got := fmt.Sprintf("%s desired %d→%d official %d→%d actual %d changes %d harmonized %v",
				p.Label, p.DesiredBefore, p.DesiredAfter, p.OfficialBefore, p.OfficialAfter, p.Actual, len(p.ChangeIDs), p.Harmonized)
			want := fmt.Sprintf("%s desired %d→%d official %d→%d actual %d changes %d harmonized true",
				tt.label, tt.desiredBefore, tt.desiredAfter, tt.officialBefore, tt.officialAfter, tt.actual, tt.changes)
			if got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
			if p.EndedAt == nil || (exactTimes && p.EndedAt.Sub(t0) != tt.endAt) {
				t.Errorf("%s ended at %v, want +%s", p.Label, p.EndedAt, tt.endAt)
			}
			var gotReq, wantReq []string
			for _, r := range p.Requests {
				gotReq = append(gotReq, r.EventID)
			}
			for _, n := range tt.requests {
				wantReq = append(wantReq, tl.E[n].ID)
			}
			slices.Sort(gotReq)
			slices.Sort(wantReq)
			if !slices.Equal(gotReq, wantReq) {
				t.Errorf("%s requests %v, want %v", p.Label, named(gotReq), named(wantReq))
			}
			if p.Summary == "" || !strings.HasPrefix(p.Summary, "period "+p.Label) {
				t.Errorf("%s summary %q", p.Label, p.Summary)
			}
		}
		g := h.group(groupID)
		if g.DesiredQuantity != 10 || g.OfficialQuantity != 10 || g.ActualQuantity != 10 {
			t.Errorf("group after H3: desired/official/actual %d/%d/%d, want 10/10/10",
				g.DesiredQuantity, g.OfficialQuantity, g.ActualQuantity)
		}
		if n := h.simNodes(groupID); n[api.NodeReady] != 10 || n[api.NodeLaunching] != 0 || n[api.NodeUnavailable] != 0 {
			t.Errorf("sim nodes after H3: %v, want 10 ready and nothing else alive", n)
		}
	})

	t.Run("explain C7", func(t *testing.T) {
		d, err := h.hist().ExplainChange(h.ctx, tl.C["C7"].ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"E4", "E5", "E6", "E9b"} {
			if !strings.Contains(d.Explanation, tl.E[n].Label) {
				t.Errorf("explanation of C7 does not name %s (%s):\n%s", n, tl.E[n].Label, d.Explanation)
			}
		}
		for _, w := range []string{"largest", "replac", "indirect"} {
			if !strings.Contains(strings.ToLower(d.Explanation), w) {
				t.Errorf("explanation of C7 does not say %q:\n%s", w, d.Explanation)
			}
		}
		if len(d.Causes) != 4 {
			t.Errorf("C7 has %d causes, want 4", len(d.Causes))
		}
	})
}

// TestSeedCausesAndEffectsAgree checks, for every event and change of the
// timeline, that change → causes and event → effects are two views of the
// same nexus rows.
func TestSeedCausesAndEffectsAgree(t *testing.T) {
	h := newHarness(t)
	g := seedRun(t, h, nil)
	type link struct{ event, change, attribution string }
	var fromChanges, fromEvents []link
	for _, c := range h.changes(g.ID) {
		d, err := h.hist().ExplainChange(h.ctx, c.ID)
		if err != nil {
			t.Fatalf("ExplainChange %s: %v", c.Label, err)
		}
		if d.Explanation == "" {
			t.Errorf("%s: empty explanation", c.Label)
		}
		if c.NexusID == "" {
			t.Errorf("%s (%s) has no cause", c.Label, c.Description)
		}
		for _, cause := range d.Causes {
			fromChanges = append(fromChanges, link{cause.Event.Label, c.Label, cause.Attribution})
		}
	}
	for _, e := range h.events(g.ID) {
		d, err := h.hist().ExplainEvent(h.ctx, e.ID)
		if err != nil {
			t.Fatalf("ExplainEvent %s: %v", e.Label, err)
		}
		if d.Explanation == "" {
			t.Errorf("%s: empty explanation", e.Label)
		}
		for _, eff := range d.Effects {
			fromEvents = append(fromEvents, link{e.Label, eff.Change.Label, eff.Attribution})
		}
	}
	cmp := func(a, b link) int { return strings.Compare(a.event+" "+a.change, b.event+" "+b.change) }
	slices.SortFunc(fromChanges, cmp)
	slices.SortFunc(fromEvents, cmp)
	if !slices.Equal(fromChanges, fromEvents) {
		t.Errorf("causes and effects disagree:\nfrom changes %v\nfrom events  %v", fromChanges, fromEvents)
	}
	if len(fromChanges) != 15 {
		t.Errorf("%d cause links in the timeline, want 15: %v", len(fromChanges), fromChanges)
	}
}

// TestSeedTimelineSurvivesCrashes plays the seed while pesd is killed and
// restarted at awkward moments: mid-split, right after a failure was
// recorded, with launches that reached the driver but whose handles were
// never stored, with a termination that never happened. The timeline must
// converge to the same rows, with no node launched twice.
func TestSeedTimelineSurvivesCrashes(t *testing.T) {
	tests := []struct {
		name   string
		faults func(h *harness) map[time.Duration]func()
	}{
		{"restarts between passes", func(h *harness) map[time.Duration]func() {
			m := map[time.Duration]func(){}
			for _, s := range []int{1, 3, 11, 13, 31, 61, 73, 85, 95, 111, 121, 123, 145, 171, 181} {
				m[time.Duration(s)*time.Second] = h.crash
			}
			return m
		}},
		{"H2's launches not recorded", func(h *harness) map[time.Duration]func() {
			return map[time.Duration]func(){
				120 * time.Second: func() { h.drv.handleLost = 5 },
				121 * time.Second: h.crash,
			}
		}},
		{"replacement launch not recorded, lost node not terminated", func(h *harness) map[time.Duration]func() {
			return map[time.Duration]func(){
				10 * time.Second: func() { h.drv.handleLost = 1 },
				11 * time.Second: h.crash,
				30 * time.Second: func() { h.drv.terminateLost = 1 },
				31 * time.Second: h.crash,
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			g := seedRun(t, h, tt.faults(h))
			checkSeed(t, h, g.ID, false)
			// 8 at creation, 3 replacements and 5 at H2: nothing else.
			if n := h.simNodes(g.ID); n["total"] != 15 {
				t.Errorf("the sim driver ran %d nodes for the group, want 15: %v", n["total"], n)
			}
			for _, n := range h.nodes(g.ID, "") {
				if n.State != api.NodeReady && n.State != api.NodeTerminated {
					t.Errorf("node %s left %s (%s)", n.ID, n.State, n.StateReason)
				}
			}
		})
	}
}
