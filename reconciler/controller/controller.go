// Package controller is pesd's reconcile loop. It owns every write: group
// lifecycle, monitoring and replacement of nodes, trigger evaluation,
// instructions, harmonization, and the causality records (events, changes
// and the nexus rows between them). It gathers inputs from the store and
// the drivers, asks the pure engine for decisions, records them, then acts
// through the drivers: intent is committed before any action, so a crash at
// any point converges at the next start.
//
// Each group has a mutex shared by the loop and the API methods, and an
// in-memory copy of its live state (group row, open period, nodes, changes
// in progress) that is replaced only after the transaction that wrote it
// commits.
package controller

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
	"github.com/pes-project/terraform-provider-pes/reconciler/engine"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
	"github.com/pes-project/terraform-provider-pes/reconciler/trigger"
	"github.com/pes-project/terraform-provider-pes/reconciler/window"
)

// Defaults of Options.
const (
	DefaultEvaluationInterval = 5 * time.Second
	// DefaultObserveInterval is the resync: drivers push the groups
	// whose nodes change (React), so the periodic pass is only the
	// level-based backstop for a push that never came.
	DefaultObserveInterval  = 5 * time.Second
	DefaultRetention        = 90 * 24 * time.Hour
	DefaultTerminationGrace = 10 * time.Second
	DefaultMetricRetention  = time.Hour
	// DefaultMetricHistory is how long stored samples are kept for
	// backtests (POST /v1/groups/{id}/whatif).
	DefaultMetricHistory = 14 * 24 * time.Hour
	DefaultBatchSize     = 500
	// DefaultLaunchWindow is pesd serve's --launch-window: a few seconds,
	// the spread of a launch's boot times on a busy host.
	DefaultLaunchWindow = 3 * time.Second
)

// Governor supplies predictive governing (SPEC §2.8, seed 001): the
// forecast range authorized at a time, and the forecast itself. A nil
// Governor means no group is governed. *governor.Governor implements it,
// and the optional Forgetter and HistoryImporter.
type Governor interface {
	// Bounds returns the authorized range for g at t: nil when g is not
	// governed; bounds with NotReady set (nothing clamped, the record
	// says why) when there is too little history or the settings give no
	// forecast. An error means the history could not be read.
	Bounds(ctx context.Context, g api.Group, t time.Time) (*engine.Bounds, error)
	Forecast(ctx context.Context, g api.Group) (api.Forecast, error)
}

// Forgetter is a Governor that caches per group and can drop a group's
// cache, e.g. once the group is deleted.
type Forgetter interface {
	Forget(groupID string)
}

// HistoryImporter is a Governor that records a quantity history exported
// from elsewhere as a group's past (CSV or JSON), returning how many
// points it recorded; see governor.ImportHistory.
type HistoryImporter interface {
	ImportHistory(ctx context.Context, st store.Store, groupID string, r io.Reader) (int, error)
}

// Options configure a Controller.
type Options struct {
	Store   store.Store
	Drivers map[string]driver.Driver
	// DisabledDrivers says, for a driver this pesd runs without (such as
	// kubernetes with no cluster configured), how to enable it: a group
	// asking for it is told.
	DisabledDrivers map[string]string
	Clock           clock.Clock  // default clock.Real
	Logger          *slog.Logger // default: discard
	// EvaluationInterval is how often triggers are evaluated.
	EvaluationInterval time.Duration
	// ObserveInterval is how often every group's nodes are observed
	// (the resync). Groups whose driver pushes a change, and groups whose
	// period ends, are observed and harmonized at once.
	ObserveInterval time.Duration
	// Retention is how long the history of a deleted group is kept.
	Retention time.Duration
	// TerminationGrace is passed to Driver.Terminate.
	TerminationGrace time.Duration
	// MetricRetention is how long metric samples are kept, in memory and
	// in the store; it bounds the longest usable window.
	MetricRetention time.Duration
	// MetricHistory is how long the store keeps samples, at the
	// resolution they were pushed, observed or pulled, for backtests (default
	// DefaultMetricHistory); never less than MetricRetention or the
	// longest window in use. It bounds a backtest's window.
	MetricHistory time.Duration
	// Governor is the predictive-governing seam; nil turns it off.
	Governor Governor
	// ReplayGovernor makes the Governor of a backtest's replay: the same
	// governing as Governor, over the replay's own store (which the
	// backtest fills with the group's real quantity history first). When
	// Governor is set and this is not, a backtest of a governed group is
	// refused rather than replayed ungoverned.
	ReplayGovernor func(st store.Reader) Governor
	// BatchSize is how many groups one transaction of a pass writes.
	BatchSize int
	// LaunchWindow is how close together the nodes of one launch must
	// become ready to be one change: those ready within it of the first
	// are one add_nodes change with its parts recorded, later ones make
	// another change of the same nexus. Zero records the nodes each
	// observation finds ready as a change of their own, as seed 000's
	// timeline is written (C1: 4 nodes, C2: 3 more two seconds later).
	// pesd serve sets it (--launch-window, DefaultLaunchWindow).
	LaunchWindow time.Duration
	// DataDir is where executions keep their inputs, checkpoints and
	// outputs (<DataDir>/executions); executions need it.
	DataDir string
	// GroupGauges bounds the active groups whose quantities Stats reports
	// one by one, as gauges of their own on /metrics (default
	// DefaultGroupGauges): each is three labelled
	// series, and 10,000 groups' worth would cost Prometheus more than it
	// tells anyone. Beyond it only the sums over all groups are exported,
	// and pes_group_gauges_limited says so.
	GroupGauges int
	// Sources configures groups' metric sources (Prometheus queries).
	Sources SourceOptions
	// MaxSeriesPerGroup caps the metric series (names) a group holds at
	// once (default DefaultMaxSeriesPerGroup): a push that would go past
	// it is refused whole, naming the cap, so one client cannot fill
	// memory and the store with unique names. Series expire with the
	// metric retention. There are no tenants yet, so no cap per tenant.
	MaxSeriesPerGroup int
	// Ownership shares the groups with other replicas on one database:
	// the controller reconciles and writes only the groups whose lease
	// its replica holds, each write carrying the lease's fencing token.
	// Nil: it owns every group.
	Ownership Ownership
	// NotifyAllow lists the hosts, besides loopback, that notify triggers
	// may POST to (pesd serve --notify-allow).
	NotifyAllow []string
	// NotifyAttempts is how many times a notify firing is POSTed before
	// its delivery is recorded failed (default DefaultNotifyAttempts);
	// NotifyBackoff the wait before the first retry, doubled for each
	// next one up to a minute (default DefaultNotifyBackoff).
	NotifyAttempts int
	NotifyBackoff  time.Duration

	// observeOnPush: a pass observes a group only when its driver pushed
	// it since the last pass (a harmonization timer's push is not
	// enough), or when an observation could find something no push
	// announces (observeDue). Only for a driver whose
	// pushes are complete on the controller's clock, as the sim's are on
	// a fake one: a backtest's replay (WhatIf), which would otherwise
	// observe unchanged nodes at each of its passes.
	observeOnPush bool
	// backtest: notify firings are recorded but not sent (a backtest's
	// replay, WhatIf).
	backtest bool
}

// DefaultMaxSeriesPerGroup is Options.MaxSeriesPerGroup's default.
const DefaultMaxSeriesPerGroup = 1000

// Controller is pesd's reconciler: the write side of the API (the read
// side is package history).
type Controller struct {
	opts  Options
	store store.Store
	// degraded: group id → why it is degraded (noteDegraded).
	degraded sync.Map
	clock    clock.Clock
	log      *slog.Logger

	eval    *trigger.Evaluator // every group's triggers, keyed by trigger ID
	windows *window.Store      // every group's metric windows

	mu       sync.Mutex
	groups   map[string]*groupState
	purgeAt  time.Time // last retention purge
	stop     context.CancelFunc
	stopped  chan struct{}
	passLock sync.Mutex // one pass at a time

	counts counters // for /metrics

	commits committer // every write goes through it (group commit)

	wakes *wakeups  // groups pushed by drivers and harmonization timers
	due   dueTimers // the harmonization timers
	watch watches   // readers waiting for a group to change
	// nodePushes are the groups pushed by drivers alone, for
	// Options.observeOnPush; nil otherwise.
	nodePushes *wakeups

	ex executions // distributed executions with work (executions.go)

	notify *notifier // notify triggers' deliveries, off the loop (notify.go)

	pulled  pulledSamples  // metric sources' samples not yet stored (sources.go)
	storing sync.WaitGroup // the loop's writes of them, off the loop
}

// New returns a controller over opts.Store and loads the live groups:
// their recorded nodes are re-adopted through their drivers (a node that
// died meanwhile is reported unavailable and replaced; a node recorded
// launching with no handle is launched now under the same ID unless its
// driver finds the launch) and their metric windows are rebuilt from
// stored samples.
func New(opts Options) (*Controller, error) {
	if opts.Store == nil {
		return nil, errors.New("controller: Options.Store is required")
	}
	if len(opts.Drivers) == 0 {
		return nil, errors.New("controller: Options.Drivers must name at least one driver")
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.EvaluationInterval <= 0 {
		opts.EvaluationInterval = DefaultEvaluationInterval
	}
	if opts.ObserveInterval <= 0 {
		opts.ObserveInterval = DefaultObserveInterval
	}
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.TerminationGrace <= 0 {
		opts.TerminationGrace = DefaultTerminationGrace
	}
	if opts.MetricRetention <= 0 {
		opts.MetricRetention = DefaultMetricRetention
	}
	if opts.MetricHistory <= 0 {
		opts.MetricHistory = DefaultMetricHistory
	}
	if opts.Sources.QueryTimeout <= 0 {
		opts.Sources.QueryTimeout = DefaultQueryTimeout
	}
	if opts.Sources.QueryConcurrency <= 0 {
		opts.Sources.QueryConcurrency = DefaultQueryConcurrency
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.GroupGauges <= 0 {
		opts.GroupGauges = DefaultGroupGauges
	}
	if opts.MaxSeriesPerGroup <= 0 {
		opts.MaxSeriesPerGroup = DefaultMaxSeriesPerGroup
	}
	c := &Controller{
		opts:    opts,
		store:   opts.Store,
		commits: committer{st: opts.Store},
		clock:   opts.Clock,
		log:     opts.Logger,
		groups:  make(map[string]*groupState),
		eval:    trigger.NewEvaluator(),
		wakes:   newWakeups(),
	}
	c.notify = newNotifier(opts)
	// Before recovery, so a node that changes while pesd adopts it is
	// pushed too.
	notify := c.wakes.push
	if opts.observeOnPush {
		c.nodePushes = newWakeups()
		notify = func(id string) {
			c.nodePushes.push(id)
			c.wakes.push(id)
		}
	}
	for _, d := range opts.Drivers {
		d.SetNotify(notify)
	}
	c.windows = window.New(opts.Clock, window.Options{Retention: opts.MetricRetention})
	// Start-up is bounded so a wedged driver cannot hang pesd forever.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := c.recover(ctx); err != nil {
		return nil, fmt.Errorf("controller: start-up: %w", err)
	}
	if err := c.recoverExecutions(ctx, c.owns); err != nil {
		return nil, fmt.Errorf("controller: start-up: %w", err)
	}
	return c, nil
}

// Start runs the loop in the background until ctx ends or Close is called.
func (c *Controller) Start(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	c.mu.Lock()
	c.stop, c.stopped = cancel, done
	c.mu.Unlock()
	go func() {
		defer close(done)
		if err := c.Run(ctx); err != nil {
			c.log.Error("controller loop ended", "err", err)
		}
	}()
}

// Run runs the loop on real time until ctx ends: groups pushed by their
// driver or whose period ended are observed (and harmonized) at once
// (React); every group is observed every ObserveInterval, and triggers
// are evaluated every EvaluationInterval, once the metric sources'
// queries of that evaluation have answered. It returns nil when ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	return c.loop(ctx)
}

// Close stops a loop started with Start and waits for it. It does not
// close the store or the drivers, which belong to the caller.
func (c *Controller) Close() error {
	c.mu.Lock()
	stop, stopped := c.stop, c.stopped
	c.stop, c.stopped = nil, nil
	c.mu.Unlock()
	if stop != nil {
		stop()
		<-stopped
	}
	c.notify.close()
	return nil
}

// Tick runs one full pass: query the metric sources, observe every
// group's nodes, evaluate every trigger, harmonize the groups whose period
// has ended, and purge expired history. Tests drive it on a fake clock;
// the loop runs the same two steps, the queries off the loop.
func (c *Controller) Tick(ctx context.Context) error {
	now := c.clock.Now()
	c.querySources(ctx, c.snapshot(), now)
	serr := c.storePulled(ctx, now, false)
	return errors.Join(c.pass(ctx, true), serr)
}

func (c *Controller) pass(ctx context.Context, evaluate bool) error {
	c.passLock.Lock()
	defer c.passLock.Unlock()
	now := c.clock.Now()
	start := time.Now() // wall time, for /metrics, whatever the clock
	ctx = loopWrites(ctx)
	err := c.passGroups(ctx, c.snapshot(), now, evaluate)
	if xerr := c.passExecutions(ctx); xerr != nil {
		err = errors.Join(err, fmt.Errorf("executions: %w", xerr))
	}
	if perr := c.purgeIfDue(ctx, now); perr != nil {
		err = errors.Join(err, fmt.Errorf("retention: %w", perr))
	}
	c.counts.lastPass.Store(int64(time.Since(start)))
	c.counts.passes.Add(1)
	if err != nil {
		c.counts.passErrors.Add(1)
	}
	return err
}

// snapshot returns the registered groups in a stable order (by ID, which
// sorts by creation time), the order batches lock them in.
func (c *Controller) snapshot() []*groupState {
	c.mu.Lock()
	gs := make([]*groupState, 0, len(c.groups))
	for _, g := range c.groups {
		gs = append(gs, g)
	}
	c.mu.Unlock()
	slices.SortFunc(gs, func(a, b *groupState) int { return strings.Compare(a.id, b.id) })
	return gs
}

func (c *Controller) register(gs *groupState) {
	c.mu.Lock()
	c.groups[gs.id] = gs
	c.mu.Unlock()
}

// HasGroup reports whether id is the id of a group the controller holds
// in tenant ("": in any) (server.Service): the server then resolves it
// without a read.
func (c *Controller) HasGroup(id, tenant string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	gs := c.groups[id]
	return gs != nil && (tenant == "" || gs.tenant == tenant)
}

func (c *Controller) unregister(id string) {
	c.mu.Lock()
	delete(c.groups, id)
	c.mu.Unlock()
}

// lockGroup returns the live group id locked, or an error the server
// maps: not found (404) or deleted (409).
func (c *Controller) lockGroup(ctx context.Context, id string) (*groupState, error) {
	if !c.owns(id) {
		return nil, c.errNotOwner(id)
	}
	c.mu.Lock()
	gs := c.groups[id]
	c.mu.Unlock()
	if gs == nil {
		g, err := c.store.GetGroup(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("group %s: %w", id, err)
		}
		if g.Status == api.GroupDeleted {
			return nil, errDeleted(id)
		}
		// A live group this controller has not loaded: load it now.
		if gs, err = c.load(ctx, g); err != nil {
			return nil, err
		}
		c.windows.EnsureRetention(c.eval.MaxWindow())
		if err := c.loadSamples(ctx, gs); err != nil {
			return nil, err
		}
		c.mu.Lock()
		if cur := c.groups[id]; cur != nil {
			gs = cur
		} else {
			c.groups[id] = gs
		}
		c.mu.Unlock()
	}
	gs.mu.Lock()
	if gs.st.group.Status == api.GroupDeleted {
		gs.mu.Unlock()
		return nil, errDeleted(id)
	}
	return gs, nil
}

func errDeleted(id string) error {
	return &api.Error{Code: api.CodeConflict, Field: "id",
		Message: fmt.Sprintf("group %s is deleted; its history stays readable but it takes no more changes", id)}
}

func (c *Controller) driverFor(g api.Group) (driver.Driver, error) {
	d, ok := c.opts.Drivers[g.Driver]
	if !ok {
		msg := fmt.Sprintf("driver %q is not enabled in this pesd (enabled: %s)", g.Driver, c.driverNames())
		if how := c.opts.DisabledDrivers[g.Driver]; how != "" {
			msg += ": " + how
		}
		return nil, &api.Error{Code: api.CodeInvalid, Field: "driver", Message: msg}
	}
	return d, nil
}

func (c *Controller) driverNames() string {
	names := make([]string, 0, len(c.opts.Drivers))
	for n := range c.opts.Drivers {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// governed reports whether predictive settings p govern at all
// (forecast_only or enforce).
func governed(p *api.Predictive) bool {
	return p != nil && p.Mode != "" && p.Mode != api.PredictiveOff
}

// bounds asks the governor for the authorized range of g at t.
func (c *Controller) bounds(ctx context.Context, g api.Group, t time.Time) *engine.Bounds {
	if c.opts.Governor == nil || !governed(g.Predictive) {
		return nil
	}
	b, err := c.opts.Governor.Bounds(ctx, g, t)
	if err != nil {
		c.log.Warn("forecast bounds unavailable; deciding without them", "group", g.ID, "err", err)
		return nil
	}
	return b
}
