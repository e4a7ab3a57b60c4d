package drivertest

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
	"github.com/pes-project/terraform-provider-pes/reconciler/controller"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlite"
)

// pushes is a consumer of a driver's pushes (SetNotify) that reads the
// driver only when pushed, as the controller's React does.
type pushes struct {
	mu      sync.Mutex
	pending map[string]bool
}

func watchPushes(d driver.Driver) *pushes {
	p := &pushes{pending: make(map[string]bool)}
	d.SetNotify(func(groupID string) {
		p.mu.Lock()
		p.pending[groupID] = true
		p.mu.Unlock()
	})
	return p
}

// take reports whether the group was pushed since the last take.
func (p *pushes) take(groupID string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	pushed := p.pending[groupID]
	delete(p.pending, groupID)
	return pushed
}

// awaitPushed lets time pass until a push of the group, followed by an
// Observe, shows the node in state want: a consumer that reads only on
// pushes would see the transition.
func awaitPushed(t *testing.T, h Harness, d driver.Driver, p *pushes, groupID, nodeID, want string) {
	t.Helper()
	seen := ""
	h.Eventually(t, fmt.Sprintf("a push showing node %s %s", nodeID, want), func() bool {
		if p.take(groupID) {
			seen = stateOf(t, d, groupID, nodeID)
		}
		return seen == want
	})
}

// testPushes: the driver pushes a node's group when the node becomes
// ready and when it dies out of band, and Observe shows the new state by
// then.
func testPushes(t *testing.T, h Harness) {
	d := open(t, h)
	p := watchPushes(d)
	g, n := newID(t), newID(t)
	handle := launch(t, d, h.BootSpec(g, n, 0))
	awaitPushed(t, h, d, p, g, n, api.NodeReady)
	h.Kill(t, d, g, n, handle)
	awaitPushed(t, h, d, p, g, n, api.NodeUnavailable)

	// A push names the group whose node changed, and no other.
	other := newID(t)
	launch(t, d, h.Spec(other, newID(t), 0))
	h.Eventually(t, "a push of the second group", func() bool { return p.take(other) })
	if p.take(g) {
		t.Errorf("a change in group %s was pushed as group %s", other, g)
	}
}

// testConvergeOnPushesAlone: a controller over the driver (a real SQLite
// file) that never runs its loop, never resyncs and never evaluates, only
// reacting to what the driver pushes (Controller.React), brings a group
// to its desired quantity and replaces a node that dies.
func testConvergeOnPushes(t *testing.T, h Harness) {
	ctx := ctx(t)
	d := open(t, h)
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "pes.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var clk clock.Clock = clock.Real{}
	if h.Clock != nil {
		clk = h.Clock(t)
	}
	c, err := controller.New(controller.Options{Store: st, Drivers: map[string]driver.Driver{d.Name(): d}, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	spec := h.Spec("", "", 0)
	cfg := api.GroupConfig{
		Name: "pushed", Driver: d.Name(), DesiredQuantity: 2, MaxQuantity: 4,
		Program: spec.Program, HealthCheck: spec.HealthCheck, Sim: spec.Sim, Kubernetes: spec.Kubernetes,
		Replacement: api.ReplacementImmediate,
		// No period ends within the suite's waits: its timer would wake
		// the group too, and only the driver's pushes may here.
		AggregationPeriod: "1000h", InitDeadline: "1000h",
	}
	if err := api.ResolveGroupConfig(&cfg); err != nil {
		t.Fatal(err)
	}
	g, err := c.CreateGroup(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.DeleteGroup(context.Background(), g.ID) })

	// ready returns the ready nodes once React has handled the pushes.
	ready := func() []api.Node {
		if err := c.React(ctx); err != nil {
			t.Fatalf("React: %v", err)
		}
		nodes, err := st.ListNodes(ctx, g.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		return slices.DeleteFunc(nodes, func(n api.Node) bool { return n.State != api.NodeReady })
	}
	h.Eventually(t, "2 ready nodes from pushes alone", func() bool { return len(ready()) == 2 })

	victim := ready()[0]
	h.Kill(t, d, g.ID, victim.ID, victim.Handle)
	h.Eventually(t, "the dead node replaced, from pushes alone", func() bool {
		now := ready()
		return len(now) == 2 && !slices.ContainsFunc(now, func(n api.Node) bool { return n.ID == victim.ID })
	})
	got, err := st.GetGroup(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ActualQuantity != 2 {
		t.Errorf("actual_quantity %d after the replacement, want 2", got.ActualQuantity)
	}
}
