package controller

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/sim"
	"github.com/pes-project/terraform-provider-pes/reconciler/history"
	"github.com/pes-project/terraform-provider-pes/reconciler/source/prometheus"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlite"
)

// t0 is where every scenario's fake clock starts.
var t0 = time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC)

// harness is a controller on a real SQLite file, the sim driver and a
// fake clock.
type harness struct {
	t    testing.TB
	ctx  context.Context
	clk  *clock.Fake
	sim  *sim.Driver
	drv  *faultyDriver // wraps sim, to inject crashes
	path string
	st   *sqlite.Store
	c    *Controller
	opts Options
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	clk := clock.NewFake(t0)
	s := sim.New(clk)
	h := &harness{
		t: t, ctx: context.Background(), clk: clk, sim: s,
		drv:  &faultyDriver{Driver: s},
		path: filepath.Join(t.TempDir(), "pes.db"),
	}
	h.opts = Options{Clock: clk, Drivers: map[string]driver.Driver{api.DriverSim: h.drv}, DataDir: t.TempDir(),
		Sources: SourceOptions{Client: &prometheus.Client{}}}
	h.open()
	t.Cleanup(func() { h.st.Close() })
	return h
}

// open opens the store and a fresh controller on it.
func (h *harness) open() {
	h.t.Helper()
	st, err := sqlite.Open(h.path)
	if err != nil {
		h.t.Fatalf("open store: %v", err)
	}
	h.st = st
	opts := h.opts
	opts.Store = st
	c, err := New(opts)
	if err != nil {
		h.t.Fatalf("New: %v", err)
	}
	h.c = c
}

// crash drops the controller without any shutdown, as kill -9 would, and
// starts a new one on the same database file. The sim driver's nodes
// survive, as local processes do.
func (h *harness) crash() {
	h.t.Helper()
	h.st.Close()
	h.drv.reset()
	h.open()
}

func (h *harness) tick() {
	h.t.Helper()
	if err := h.c.Tick(h.ctx); err != nil {
		h.t.Fatalf("Tick at +%s: %v", h.elapsed(), err)
	}
}

func (h *harness) elapsed() time.Duration { return h.clk.Now().Sub(t0) }

// runTo advances the clock second by second to t0+at, calling each (if
// not nil) then Tick at every second.
func (h *harness) runTo(at time.Duration, each func(now time.Duration)) {
	h.t.Helper()
	for h.elapsed() < at {
		h.clk.Advance(time.Second)
		if each != nil {
			each(h.elapsed())
		}
		h.tick()
	}
}

func (h *harness) createGroup(cfg api.GroupConfig) api.Group {
	h.t.Helper()
	if cfg.Driver == "" {
		cfg.Driver = api.DriverSim
	}
	if cfg.Program.Command == "" {
		cfg.Program.Command = "worker"
	}
	if err := api.ResolveGroupConfig(&cfg); err != nil {
		h.t.Fatalf("resolve config: %v", err)
	}
	g, err := h.c.CreateGroup(h.ctx, cfg)
	if err != nil {
		h.t.Fatalf("CreateGroup: %v", err)
	}
	return g
}

func (h *harness) group(id string) api.Group {
	h.t.Helper()
	g, err := h.st.GetGroup(h.ctx, id)
	if err != nil {
		h.t.Fatalf("GetGroup: %v", err)
	}
	return g
}

func (h *harness) events(groupID string) []api.Event {
	h.t.Helper()
	es, err := listEvents(h.ctx, h.st, store.EventFilter{GroupID: groupID})
	if err != nil {
		h.t.Fatalf("events: %v", err)
	}
	return es
}

func (h *harness) changes(groupID string) []api.Change {
	h.t.Helper()
	cs, err := listChanges(h.ctx, h.st, store.ChangeFilter{GroupID: groupID})
	if err != nil {
		h.t.Fatalf("changes: %v", err)
	}
	return cs
}

func (h *harness) periods(groupID string) []api.Period {
	h.t.Helper()
	ps, _, err := h.st.ListPeriods(h.ctx, groupID, store.Page{Limit: 1000})
	if err != nil {
		h.t.Fatalf("periods: %v", err)
	}
	return ps
}

func (h *harness) nodes(groupID string, state string) []api.Node {
	h.t.Helper()
	ns, err := h.st.ListNodes(h.ctx, groupID, true)
	if err != nil {
		h.t.Fatalf("nodes: %v", err)
	}
	return slices.DeleteFunc(ns, func(n api.Node) bool { return state != "" && n.State != state })
}

// simNodes counts the nodes the sim driver runs for the group by state.
func (h *harness) simNodes(groupID string) map[string]int {
	h.t.Helper()
	obs, err := h.sim.Observe(h.ctx, groupID)
	if err != nil {
		h.t.Fatalf("sim observe: %v", err)
	}
	n := map[string]int{"total": len(obs)}
	for _, o := range obs {
		n[o.State]++
	}
	return n
}

func (h *harness) push(groupID string, samples ...api.Sample) {
	h.t.Helper()
	if _, err := h.c.PushMetrics(h.ctx, groupID, samples); err != nil {
		h.t.Fatalf("PushMetrics: %v", err)
	}
}

func (h *harness) failNode(groupID string) string {
	h.t.Helper()
	ready := h.nodes(groupID, api.NodeReady)
	if len(ready) == 0 {
		h.t.Fatalf("no ready node to fail at +%s", h.elapsed())
	}
	id := ready[0].ID
	if err := h.c.FailNode(h.ctx, groupID, id); err != nil {
		h.t.Fatalf("FailNode: %v", err)
	}
	return id
}

var errCrash = errors.New("simulated crash")

// faultyDriver passes through to a driver, and can fail the next calls
// the way a pesd killed mid-call would leave things.
type faultyDriver struct {
	driver.Driver
	mu sync.Mutex
	// launchLost: launches fail without reaching the driver (killed
	// between recording the intent and launching).
	launchLost int
	// handleLost: launches reach the driver but the handle is not stored
	// (killed between launching and recording the handle).
	handleLost int
	// terminateLost: terminations fail without reaching the driver.
	terminateLost int
	launches      int
	name          string
}

func (d *faultyDriver) Name() string {
	if d.name != "" {
		return d.name
	}
	return d.Driver.Name()
}

func (d *faultyDriver) reset() {
	d.mu.Lock()
	d.launchLost, d.handleLost, d.terminateLost = 0, 0, 0
	d.mu.Unlock()
}

func (d *faultyDriver) Launch(ctx context.Context, spec driver.NodeSpec) (map[string]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.launches++
	switch {
	case d.launchLost > 0:
		d.launchLost--
		return nil, errCrash
	case d.handleLost > 0:
		d.handleLost--
		if _, err := d.Driver.Launch(ctx, spec); err != nil {
			return nil, err
		}
		return nil, errCrash
	}
	return d.Driver.Launch(ctx, spec)
}

func (d *faultyDriver) Terminate(ctx context.Context, groupID, nodeID string, grace time.Duration) error {
	d.mu.Lock()
	lost := d.terminateLost > 0
	if lost {
		d.terminateLost--
	}
	d.mu.Unlock()
	if lost {
		return errCrash
	}
	return d.Driver.Terminate(ctx, groupID, nodeID, grace)
}

// hist is the read side over the harness's store, as the API reads it.
func (h *harness) hist() *history.Reader { return history.New(h.st) }
