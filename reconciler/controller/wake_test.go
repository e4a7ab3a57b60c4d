package controller

import (
	"slices"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/engine"
)

// react runs the reactions the pushes queued, as the loop does when a
// push arrives.
func (h *harness) react() {
	h.t.Helper()
	if err := h.c.React(h.ctx); err != nil {
		h.t.Fatalf("React at +%s: %v", h.elapsed(), err)
	}
}

func TestWakeupsCoalesce(t *testing.T) {
	q := newWakeups()
	for _, id := range []string{"b", "a", "b", "b", "a"} {
		q.push(id)
	}
	if got := q.take(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("take after 5 pushes of 2 groups = %v, want [a b] once each", got)
	}
	if got := q.take(); got != nil {
		t.Errorf("second take = %v, want nothing", got)
	}
	select {
	case <-q.signal:
	default:
		t.Error("no signal after pushes")
	}
	select {
	case <-q.signal:
		t.Error("5 pushes left more than one signal")
	default:
	}
}

// TestReactOnBootPush: on the fake clock, a sim node's boot ending pushes
// its group, and React alone (no pass) records the node ready and the
// add_nodes change completed; a group nothing pushed is not touched.
func TestReactOnBootPush(t *testing.T) {
	h := newHarness(t)
	g := h.createGroup(api.GroupConfig{Name: "web", DesiredQuantity: 2, MaxQuantity: 5, Sim: &api.SimConfig{BootTime: "3s"}})
	slow := h.createGroup(api.GroupConfig{Name: "slow", DesiredQuantity: 1, MaxQuantity: 5, Sim: &api.SimConfig{BootTime: "1h"}})

	h.clk.Advance(2 * time.Second)
	h.react()
	if a := h.group(g.ID).ActualQuantity; a != 0 {
		t.Fatalf("actual %d before the boot ended, want 0", a)
	}
	h.clk.Advance(time.Second)
	h.react()
	if a := h.group(g.ID).ActualQuantity; a != 2 {
		t.Fatalf("actual %d once the boot ended and React ran, want 2", a)
	}
	cs := h.changes(g.ID)
	if len(cs) != 1 || cs[0].Status != api.ChangeCompleted || !cs[0].EndedAt.Equal(t0.Add(3*time.Second)) {
		t.Errorf("changes %+v, want C1 completed at +3s", cs)
	}
	if n := h.nodes(slow.ID, api.NodeLaunching); len(n) != 1 {
		t.Errorf("group slow has %d launching nodes, want its 1 still launching", len(n))
	}
}

// TestReactOnFailPush: a sim node failed behind the controller's back
// (through the driver, not FailNode) is pushed; React records the loss
// and launches the replacement, which its boot push then makes ready.
func TestReactOnFailPush(t *testing.T) {
	h := newHarness(t)
	g := h.createGroup(api.GroupConfig{Name: "web", DesiredQuantity: 2, MaxQuantity: 5,
		Replacement: api.ReplacementImmediate, Sim: &api.SimConfig{BootTime: "1s"}})
	h.clk.Advance(time.Second)
	h.react()
	ready := h.nodes(g.ID, api.NodeReady)
	if len(ready) != 2 {
		t.Fatalf("%d ready nodes, want 2", len(ready))
	}
	if err := h.sim.Fail(h.ctx, g.ID, ready[0].ID); err != nil {
		t.Fatal(err)
	}
	h.react()
	var lost, replace bool
	for _, e := range h.events(g.ID) {
		lost = lost || (e.Type == api.EventNodeUnavailable && e.NodeID == ready[0].ID)
		replace = replace || (e.Type == api.EventReplacementRequest && e.Status == api.EventApplied)
	}
	if !lost || !replace {
		t.Fatalf("after the push: node_unavailable %v, replacement applied %v; want both", lost, replace)
	}
	if n := h.nodes(g.ID, api.NodeLaunching); len(n) != 1 {
		t.Fatalf("%d launching nodes, want the replacement", len(n))
	}
	h.clk.Advance(time.Second)
	h.react()
	if a := h.group(g.ID).ActualQuantity; a != 2 {
		t.Errorf("actual %d after the replacement booted, want 2", a)
	}
}

// TestHarmonizationTimer: a period ends on the controller's clock: its
// timer pushes the group, and React harmonizes it with no pass.
func TestHarmonizationTimer(t *testing.T) {
	h := newHarness(t)
	g := h.createGroup(api.GroupConfig{Name: "web", DesiredQuantity: 1, MaxQuantity: 5,
		AggregationPeriod: "10s", Sim: &api.SimConfig{BootTime: "1s"}})
	two := 2
	if _, err := h.c.Instruct(h.ctx, g.ID, api.Instruction{Request: api.Request{SetTo: &two}}); err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(9 * time.Second)
	h.react()
	if ps := h.periods(g.ID); len(ps) != 1 {
		t.Fatalf("%d periods before the period ended, want 1", len(ps))
	}
	h.clk.Advance(time.Second)
	h.react()
	ps := h.periods(g.ID)
	if len(ps) != 2 {
		t.Fatalf("%d periods once H1 ended and React ran, want 2 (H1 harmonized, H2 open)", len(ps))
	}
	if d := h.group(g.ID).DesiredQuantity; d != 2 {
		t.Errorf("desired %d after H1's harmonization, want 2", d)
	}
}

// TestWatchGroup: a commit writing the group closes its watch channel;
// done releases a watch nobody needs any more.
func TestWatchGroup(t *testing.T) {
	h := newHarness(t)
	g := h.createGroup(api.GroupConfig{Name: "web", DesiredQuantity: 1, MaxQuantity: 5, Sim: &api.SimConfig{BootTime: "1s"}})
	other := h.createGroup(api.GroupConfig{Name: "other", DesiredQuantity: 1, MaxQuantity: 5, Sim: &api.SimConfig{BootTime: "1h"}})

	ch, done := h.c.WatchGroup(g.ID)
	defer done()
	otherCh, otherDone := h.c.WatchGroup(other.ID)
	select {
	case <-ch:
		t.Fatal("watch closed before any write")
	default:
	}
	h.clk.Advance(time.Second)
	h.react()
	select {
	case <-ch:
	default:
		t.Fatal("the commit that made the node ready did not close the watch")
	}
	select {
	case <-otherCh:
		t.Error("a write to one group closed another group's watch")
	default:
	}
	otherDone()
	if n := h.c.watch.n.Load(); n != 0 {
		t.Errorf("%d watches open after every reader is done or woken, want 0", n)
	}
}

// TestObserveDue: what a replay (Options.observeOnPush) observes without
// a push from the driver: whatever plan could find that no push
// announces.
func TestObserveDue(t *testing.T) {
	now := t0.Add(time.Hour)
	node := func(state string, launched time.Time) api.Node {
		return api.Node{ID: state, State: state, LaunchedAt: launched}
	}
	for _, c := range []struct {
		name  string
		nodes []api.Node
		crash engine.CrashLoop
		want  bool
	}{
		{"no nodes", nil, engine.CrashLoop{}, false},
		{"ready and booting", []api.Node{node(api.NodeReady, t0), node(api.NodeLaunching, now.Add(-time.Minute))}, engine.CrashLoop{}, false},
		{"booting past its init deadline", []api.Node{node(api.NodeLaunching, now.Add(-10*time.Minute))}, engine.CrashLoop{}, true},
		{"being stopped", []api.Node{node(api.NodeReady, t0), node(api.NodeTerminating, t0)}, engine.CrashLoop{}, true},
		{"failed before a crash", []api.Node{node(api.NodeInitFailed, t0)}, engine.CrashLoop{}, true},
		{"early failures to end", []api.Node{node(api.NodeReady, t0)}, engine.CrashLoop{Failures: 1, LastFailure: t0}, true},
	} {
		s := &state{nodes: map[string]api.Node{}, crash: c.crash, durations: api.Durations{InitDeadline: 10 * time.Minute}}
		for _, n := range c.nodes {
			s.nodes[n.ID] = n
		}
		if got := s.observeDue(now); got != c.want {
			t.Errorf("%s: observeDue = %v, want %v", c.name, got, c.want)
		}
	}
}
