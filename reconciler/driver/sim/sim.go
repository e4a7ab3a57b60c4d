// Package sim is the sim driver: virtual nodes that boot, fail and end on
// the driver's clock, with no process behind them. Tests, benchmarks, demos
// and what-if runs use it to get boot delays and failures on demand.
//
// A node's state is not stored but computed from the clock when observed
// (launched + boot time ≤ now means ready), so nothing runs in the
// background and one process holds 100,000 nodes.
//
// Launches of a group are numbered in order from 0. Launch n becomes ready
// after SimConfig.BootTimes[n] while n < len(BootTimes). The launches after
// those fail to initialize (stay launching forever) until the group has had
// SimConfig.InitFailures of them; later launches become ready after
// SimConfig.BootTime (default api.DefaultSimBootTime). So boot_times of 7
// entries and init_failures 1 make the eighth launch the one that fails.
//
// Handles: {"boot_time": "2s"} or {"init_failure": "true"}. The handles in
// observations are shared between nodes and must not be modified.
//
// Pushes (driver.Driver.SetNotify): a boot that ends is pushed by a timer
// on the driver's clock (when it is a clock.Timer), one timer per group and
// instant however many nodes boot then; a boot of 0s and Fail are pushed
// at once.
package sim

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
)

// Handle keys.
const (
	HandleBootTime    = "boot_time"
	HandleInitFailure = "init_failure"
)

// Reasons reported with states.
const (
	ReasonFailed     = "failed on demand"
	ReasonTerminated = "terminated"
)

var _ driver.Driver = (*Driver)(nil)

// Driver runs virtual nodes. It is safe for concurrent use.
type Driver struct {
	driver.Notifier
	clk clock.Clock

	mu      sync.Mutex
	groups  map[string]*group
	handles map[string]map[string]string // interned, read-only
	// booting holds the boot ends a timer will push, per group, so the
	// nodes of one launch share a timer.
	booting map[string]map[int64]bool

	jobs map[string]map[string]*simJob // execution jobs (jobs.go): group → attempt id
}

// group holds one group's nodes in launch order.
type group struct {
	nodes    []node
	byID     map[string]int32
	launches int // launches so far, numbering BootTimes
	failed   int // launches that were made to fail init
}

// never is a time that does not come, so "t <= now" reads "has happened".
const never = math.MaxInt64

// node is one virtual node. Times are Unix nanoseconds (never: not yet) to
// keep a node small.
type node struct {
	id         string
	handle     map[string]string
	since      int64 // launched, or adopted
	readyAt    int64
	failedAt   int64
	terminated int64
	adoptState string // the state an adopted node started in, "" for launches
}

func newNode(id string, now int64) node {
	return node{id: id, since: now, readyAt: never, failedAt: never, terminated: never}
}

// New returns a sim driver on clk.
func New(clk clock.Clock) *Driver {
	return &Driver{
		clk:     clk,
		groups:  make(map[string]*group),
		handles: make(map[string]map[string]string),
		booting: make(map[string]map[int64]bool),
	}
}

// pushAt pushes a change of the group when the clock reaches at (Unix
// nanoseconds): at once when it has, else by a timer shared by every boot
// of the group ending then. It reports whether to push at once, which the
// caller does after unlocking d.mu. Called with d.mu held.
func (d *Driver) pushAt(groupID string, at, now int64) (pushNow bool) {
	if !d.Notifying() || at == never {
		return false
	}
	if at <= now {
		return true
	}
	t, ok := d.clk.(clock.Timer)
	if !ok {
		return false // no timer on this clock: the controller's resync sees it
	}
	if d.booting[groupID][at] {
		return false
	}
	if d.booting[groupID] == nil {
		d.booting[groupID] = make(map[int64]bool)
	}
	d.booting[groupID][at] = true
	t.AfterFunc(time.Duration(at-now), func() {
		d.mu.Lock()
		delete(d.booting[groupID], at)
		if len(d.booting[groupID]) == 0 {
			delete(d.booting, groupID)
		}
		d.mu.Unlock()
		d.Notify(groupID)
	})
	return false
}

// Name returns "sim".
func (d *Driver) Name() string { return api.DriverSim }

// Launch creates a virtual node. Launching a node ID the group already has
// creates nothing and returns the existing handle, so a retried launch
// never doubles a node.
func (d *Driver) Launch(ctx context.Context, spec driver.NodeSpec) (map[string]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if spec.GroupID == "" {
		return nil, fmt.Errorf("sim: launch: group_id is required")
	}
	if spec.NodeID == "" {
		return nil, fmt.Errorf("sim: launch: node_id is required")
	}
	cfg := api.SimConfig{}
	if spec.Sim != nil {
		cfg = *spec.Sim
	}
	if cfg.InitFailures < 0 {
		return nil, fmt.Errorf("sim: launch: sim.init_failures must be ≥ 0; got %d", cfg.InitFailures)
	}
	// Boot times as the API validated them (days included), so a config
	// the API accepts always launches.
	bt, err := api.ParseSim(cfg)
	if err != nil {
		return nil, fmt.Errorf("sim: launch: %w", err)
	}

	d.mu.Lock()
	g := d.group(spec.GroupID)
	if i, ok := g.byID[spec.NodeID]; ok {
		defer d.mu.Unlock()
		return cloneHandle(g.nodes[i].handle), nil
	}
	h, pushNow := d.launch(g, spec, cfg, bt)
	d.mu.Unlock()
	if pushNow {
		d.Notify(spec.GroupID)
	}
	return h, nil
}

// launch creates the node of a new launch, and reports whether its boot
// has ended already (to push once d.mu is released). Called with d.mu
// held.
func (d *Driver) launch(g *group, spec driver.NodeSpec, cfg api.SimConfig, bt api.SimDurations) (map[string]string, bool) {
	n := g.launches
	var (
		boot time.Duration
		fail bool
	)
	switch {
	case n < len(bt.BootTimes):
		boot = bt.BootTimes[n]
	case g.failed < cfg.InitFailures:
		fail = true
	default:
		boot = bt.BootTime
	}
	g.launches++
	if fail {
		g.failed++
	}

	now := d.clk.Now().UnixNano()
	nd := newNode(spec.NodeID, now)
	nd.handle = d.handle(boot, fail)
	if !fail {
		nd.readyAt = now + int64(boot)
	}
	g.add(nd)
	return cloneHandle(nd.handle), d.pushAt(spec.GroupID, nd.readyAt, now)
}

// Terminate ends a node at once; grace does not apply to a virtual node.
// Unknown and already terminated nodes are not an error.
func (d *Driver) Terminate(ctx context.Context, groupID, nodeID string, grace time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	g, ok := d.groups[groupID]
	if !ok {
		return nil
	}
	i, ok := g.byID[nodeID]
	if !ok {
		return nil
	}
	if g.nodes[i].terminated == never {
		g.nodes[i].terminated = d.clk.Now().UnixNano()
	}
	return nil
}

// Observe reports every node of the group, in launch order, including
// terminated ones.
func (d *Driver) Observe(ctx context.Context, groupID string) ([]driver.Observation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	g, ok := d.groups[groupID]
	if !ok {
		return nil, nil
	}
	now := d.clk.Now().UnixNano()
	obs := make([]driver.Observation, len(g.nodes))
	for i := range g.nodes {
		obs[i] = g.nodes[i].observe(now)
	}
	return obs, nil
}

// Fail makes a ready node unavailable.
func (d *Driver) Fail(ctx context.Context, groupID, nodeID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	err := d.fail(groupID, nodeID)
	d.mu.Unlock()
	if err == nil {
		d.Notify(groupID)
	}
	return err
}

// fail marks a ready node failed. Called with d.mu held.
func (d *Driver) fail(groupID, nodeID string) error {
	g, ok := d.groups[groupID]
	if !ok {
		return fmt.Errorf("sim: fail node %s of group %s: %w", nodeID, groupID, driver.ErrUnknownNode)
	}
	i, ok := g.byID[nodeID]
	if !ok {
		return fmt.Errorf("sim: fail node %s of group %s: %w", nodeID, groupID, driver.ErrUnknownNode)
	}
	now := d.clk.Now().UnixNano()
	if st := g.nodes[i].state(now); st != api.NodeReady {
		return fmt.Errorf("sim: fail node %s: it is %s, and only a ready node can fail: %w", nodeID, st, driver.ErrNotReady)
	}
	g.nodes[i].failedAt = now
	return nil
}

// Adopt recreates recorded nodes after a restart: a ready node stays
// ready, an unavailable one stays unavailable, a launching one boots from
// now (with the boot time its handle records), a terminated or terminating
// one is terminated. Adopting a node the driver already has reports it as
// it is.
func (d *Driver) Adopt(ctx context.Context, specs []driver.AdoptSpec) ([]driver.Observation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.clk.Now().UnixNano()
	obs := make([]driver.Observation, 0, len(specs))
	// Adopt reports every node it adopts; only boots still to end need a
	// push, which a timer gives.
	for _, s := range specs {
		if s.GroupID == "" || s.NodeID == "" {
			return nil, fmt.Errorf("sim: adopt: group_id and node_id are required (got %q, %q)", s.GroupID, s.NodeID)
		}
		g := d.group(s.GroupID)
		if i, ok := g.byID[s.NodeID]; ok {
			obs = append(obs, g.nodes[i].observe(now))
			continue
		}
		if !recordedState(s.State) {
			return nil, fmt.Errorf("sim: adopt node %s: recorded state %q is not a node state", s.NodeID, s.State)
		}
		if len(s.Handle) == 0 {
			// Never launched here (or its launch is lost with the old
			// driver): left out, for the caller to launch, so it gets
			// the boot time and init failure of a launch.
			continue
		}
		nd, err := d.adopted(s, now)
		if err != nil {
			return nil, fmt.Errorf("sim: adopt node %s: %w", s.NodeID, err)
		}
		// Adopted launches count, so boot_times and init_failures are not
		// spent a second time after a restart.
		g.launches++
		if nd.handle[HandleInitFailure] == "true" {
			g.failed++
		}
		g.add(nd)
		if nd.readyAt > now {
			d.pushAt(s.GroupID, nd.readyAt, now)
		}
		obs = append(obs, nd.observe(now))
	}
	return obs, nil
}

// Close does nothing: virtual nodes hold no resources.
func (d *Driver) Close() error { return nil }

func (d *Driver) adopted(s driver.AdoptSpec, now int64) (node, error) {
	nd := newNode(s.NodeID, now)
	fail := s.Handle[HandleInitFailure] == "true"
	var boot time.Duration
	switch h := s.Handle[HandleBootTime]; {
	case fail:
	case h != "":
		// The boot time this driver recorded at launch (Duration.String).
		d, err := api.ParseDuration(h)
		if err != nil {
			return node{}, fmt.Errorf("handle.boot_time: %w; got %q", err, h)
		}
		boot = d
	default:
		var cfg api.SimConfig
		if s.Sim != nil {
			cfg = *s.Sim
		}
		bt, err := api.ParseSim(cfg)
		if err != nil {
			return node{}, err
		}
		boot = bt.BootTime
	}
	nd.handle = d.handle(boot, fail)
	switch s.State {
	case api.NodeReady:
		nd.adoptState = api.NodeReady
		nd.readyAt = now
	case api.NodeUnavailable:
		nd.adoptState = api.NodeUnavailable
		nd.failedAt = now
	case api.NodeTerminated, api.NodeTerminating:
		nd.adoptState = api.NodeTerminated
		nd.terminated = now
	case api.NodeLaunching, api.NodeInitFailed, "":
		// init_failed is the controller's judgement; the node itself
		// is still one that never became ready.
		if !fail && s.State != api.NodeInitFailed {
			nd.readyAt = now + int64(boot)
		}
	default:
		return node{}, fmt.Errorf("recorded state %q is not a node state", s.State)
	}
	return nd, nil
}

// recordedState reports whether Adopt accepts state ("" for a node
// recorded before states were).
func recordedState(state string) bool {
	switch state {
	case api.NodeLaunching, api.NodeReady, api.NodeUnavailable, api.NodeInitFailed,
		api.NodeTerminating, api.NodeTerminated, "":
		return true
	}
	return false
}

func (d *Driver) group(id string) *group {
	g, ok := d.groups[id]
	if !ok {
		g = &group{byID: make(map[string]int32)}
		d.groups[id] = g
	}
	return g
}

// handle returns the interned handle for a boot time, so 100,000 nodes
// share a few maps.
func (d *Driver) handle(boot time.Duration, fail bool) map[string]string {
	key := "fail"
	if !fail {
		key = boot.String()
	}
	h, ok := d.handles[key]
	if !ok {
		if fail {
			h = map[string]string{HandleInitFailure: "true"}
		} else {
			h = map[string]string{HandleBootTime: key}
		}
		d.handles[key] = h
	}
	return h
}

func (g *group) add(nd node) {
	g.byID[nd.id] = int32(len(g.nodes))
	g.nodes = append(g.nodes, nd)
}

func (n *node) state(now int64) string {
	switch {
	case n.terminated <= now:
		return api.NodeTerminated
	case n.failedAt <= now:
		return api.NodeUnavailable
	case n.readyAt <= now:
		return api.NodeReady
	default:
		return api.NodeLaunching
	}
}

func (n *node) observe(now int64) driver.Observation {
	o := driver.Observation{NodeID: n.id, State: n.state(now), Handle: n.handle}
	switch o.State {
	case api.NodeTerminated:
		o.Since = unix(n.terminated)
		o.Reason = ReasonTerminated
	case api.NodeUnavailable:
		o.Since = unix(n.failedAt)
		o.Reason = ReasonFailed
		if n.adoptState == api.NodeUnavailable {
			o.Reason = "unavailable before pesd restarted"
		}
	case api.NodeReady:
		o.Since = unix(n.readyAt)
	default:
		o.Since = unix(n.since)
	}
	return o
}

func unix(ns int64) time.Time { return time.Unix(0, ns).UTC() }

func cloneHandle(h map[string]string) map[string]string {
	c := make(map[string]string, len(h))
	for k, v := range h {
		c[k] = v
	}
	return c
}
