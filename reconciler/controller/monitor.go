package controller

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/causality"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
	"github.com/pes-project/terraform-provider-pes/reconciler/engine"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// nodeFault is a node to be judged failed, with why.
type nodeFault struct {
	id, reason string
	// died: the node's process (or pod) ended or could not start, as
	// opposed to not being ready in time; only that counts toward a
	// crash loop.
	died bool
}

// obsPlan is what one observation of a group means for its rows.
type obsPlan struct {
	ready      map[string]time.Time // launching → ready, since
	initFailed []nodeFault          // launching that will never be ready
	lost       []nodeFault          // ready → unavailable or gone
	gone       []string             // stopping nodes the driver no longer runs
	// steady: a node has been ready past engine.EarlyFailure, which
	// ends a run of early failures.
	steady  bool
	restop  []string // stopping nodes still running
	samples []api.Sample
	// metricsMissing is why the driver samples no metrics, said once in
	// the group's events; driverName is the driver saying it.
	metricsMissing, driverName string
}

func (p *obsPlan) empty() bool {
	return len(p.ready) == 0 && len(p.initFailed) == 0 && len(p.lost) == 0 &&
		len(p.gone) == 0 && len(p.restop) == 0 && p.metricsMissing == "" && !p.steady
}

// plan reads the driver's observations against the recorded nodes,
// level-based: whatever the driver reports now is the truth.
func plan(s *state, obs []driver.Observation, now time.Time) obsPlan {
	byID := make(map[string]*driver.Observation, len(obs))
	for i := range obs {
		byID[obs[i].NodeID] = &obs[i]
	}
	deadline := s.durations.InitDeadline
	var p obsPlan
	for _, n := range s.nodeList() {
		o := byID[n.ID]
		if o != nil {
			p.samples = append(p.samples, o.Samples...)
		}
		switch n.State {
		case api.NodeLaunching:
			switch {
			case o != nil && o.State == api.NodeReady:
				if p.ready == nil {
					p.ready = make(map[string]time.Time)
				}
				since := o.Since
				if since.IsZero() || since.After(now) {
					since = now
				}
				p.ready[n.ID] = since
			case o != nil && (o.State == api.NodeUnavailable || o.State == api.NodeTerminated):
				p.initFailed = append(p.initFailed, nodeFault{n.ID, causality.FailedBeforeReady(o.State, o.Reason), true})
			case !now.Before(n.LaunchedAt.Add(deadline)):
				why := causality.NotReadyWithin(s.group.InitDeadline, n.StateReason)
				p.initFailed = append(p.initFailed, nodeFault{n.ID, why, false})
			}
		case api.NodeReady:
			if s.crash.Failures > 0 && n.ReadyAt != nil && now.Sub(*n.ReadyAt) >= engine.EarlyFailure &&
				o != nil && o.State == api.NodeReady {
				p.steady = true
			}
			switch {
			case o == nil:
				p.lost = append(p.lost, nodeFault{n.ID, "the driver no longer reports it", true})
			case o.State == api.NodeUnavailable || o.State == api.NodeTerminated:
				p.lost = append(p.lost, nodeFault{n.ID, causality.DriverReports(o.State, o.Reason), true})
			}
		default: // terminating, or judged failed before a crash
			if o == nil || o.State == api.NodeTerminated {
				p.gone = append(p.gone, n.ID)
			} else {
				p.restop = append(p.restop, n.ID)
			}
		}
	}
	return p
}

// observeDue reports whether an observation at now could find what a
// driver does not push: a node being stopped (gone or still running), a
// launch past its init deadline, a run of early failures that a node
// steady past engine.EarlyFailure ends. Every other finding of plan is a
// node's change of state, which a driver with complete pushes announces.
func (s *state) observeDue(now time.Time) bool {
	if s.crash.Failures > 0 {
		return true
	}
	for _, n := range s.nodes {
		switch n.State {
		case api.NodeReady:
		case api.NodeLaunching:
			if !now.Before(n.LaunchedAt.Add(s.durations.InitDeadline)) {
				return true
			}
		default:
			return true
		}
	}
	return false
}

// observe asks the group's driver for its nodes. The caller holds gs.mu.
func (c *Controller) observe(ctx context.Context, gs *groupState, now time.Time) (obsPlan, error) {
	if len(gs.st.nodes) == 0 {
		return obsPlan{}, nil
	}
	drv, ok := c.opts.Drivers[gs.st.group.Driver]
	if !ok {
		// Reported once at start-up: this pesd runs without the
		// group's driver, so its nodes cannot be observed.
		return obsPlan{}, nil
	}
	obs, err := drv.Observe(ctx, gs.id)
	if err != nil {
		return obsPlan{}, fmt.Errorf("observe group %s: %w", gs.id, err)
	}
	p := plan(gs.st, obs, now)
	if mn, ok := drv.(driver.MetricsNoticer); ok && !gs.metricsNoticed {
		if why := mn.MetricsMissing(); why != "" {
			gs.metricsNoticed = true
			p.metricsMissing, p.driverName = why, drv.Name()
		}
	}
	return p, nil
}

// observeNow observes one group and records what changed, for API calls
// that want their effect visible when they return. The caller holds gs.mu.
func (c *Controller) observeNow(ctx context.Context, gs *groupState) error {
	now := c.clock.Now()
	p, err := c.observe(ctx, gs, now)
	if err != nil {
		return err
	}
	if len(p.samples) > 0 {
		ss := c.addSamples(gs, p.samples, now)
		if err := c.storeSamples(ctx, map[string][]store.StoredSample{gs.id: ss}); err != nil {
			return err
		}
	}
	if p.empty() {
		return nil
	}
	_, err = c.write(ctx, gs, func(w *work) error { return w.applyPlan(&p) })
	return err
}

// applyPlan records an observation: nodes that became ready (and the
// add_nodes changes they complete), then failed inits and lost nodes, each
// an event, a change attributed directly to it, and a replacement request
// chained to that change (seed 000: E2a → C10b → E2b → C3).
func (w *work) applyPlan(p *obsPlan) error {
	for id, since := range p.ready {
		n := w.s.nodes[id]
		n.State, n.StateReason = api.NodeReady, ""
		t := since
		n.ReadyAt = &t
		if err := w.putNode(n); err != nil {
			return err
		}
	}
	for _, f := range p.initFailed {
		n := w.s.nodes[f.id]
		n.State, n.StateReason = api.NodeInitFailed, f.reason
		if err := w.putNode(n); err != nil {
			return err
		}
	}
	// Changes complete or fail before the failures are recorded, so C10a
	// fails before E2a asks for the node to go.
	if err := w.settleAdds(); err != nil {
		return err
	}
	// Early failures extend the group's run before their replacements
	// are asked for, so the first already backs off.
	if p.steady {
		w.s.crash = engine.CrashLoop{}
	}
	for _, f := range slices.Concat(p.initFailed, p.lost) {
		if n, ok := w.s.nodes[f.id]; ok && f.died && engine.FailedEarly(n.LaunchedAt, w.now) {
			w.s.crash = w.s.crash.Fail(w.now, f.reason)
		}
	}
	for _, f := range p.initFailed {
		if err := w.fault(api.EventNodeInitFailed, api.ChangeRemoveNodes, f); err != nil {
			return err
		}
	}
	for _, f := range p.lost {
		if err := w.fault(api.EventNodeUnavailable, api.ChangeNodeLost, f); err != nil {
			return err
		}
	}
	if err := w.terminated(p.gone); err != nil {
		return err
	}
	w.stop = append(w.stop, p.restop...)
	if p.metricsMissing != "" {
		_, err := w.newEvent(api.Event{
			Type: api.EventMetricsMissing, Source: api.Source{Kind: api.SourceSystem, Name: p.driverName + " driver"},
			Status: api.EventIgnored, Reason: p.metricsMissing,
		})
		return err
	}
	return nil
}

// fault records a failed node: the event, the change removing the node
// (direct), and the replacement that change requests.
func (w *work) fault(eventType, changeType string, f nodeFault) error {
	e, err := w.newEvent(api.Event{
		Type: eventType, Source: api.Source{Kind: api.SourceSystem, Name: "monitor"},
		NodeID: f.id, Reason: f.reason, Status: api.EventApplied,
	})
	if err != nil {
		return err
	}
	ch, err := w.removeChange(changeType, []string{f.id}, f.reason, "", "")
	if err != nil {
		return err
	}
	if _, err := w.link(api.AttributionDirect, "", []*api.Event{&e}, []*api.Change{&ch}); err != nil {
		return err
	}
	_, err = w.replace(ch, f.id)
	return err
}

// replace requests the replacement of a node removed by parent: at once
// (an add_nodes change attributed directly to the request) or deferred to
// the harmonization, which fulfils it (indirect), per the group's
// replacement policy. A group that still has its desired quantity ready
// or launching needs no replacement; the request says so.
func (w *work) replace(parent api.Change, nodeID string) (api.Event, error) {
	g := w.s.group
	e := api.Event{
		Type: api.EventReplacementRequest, Source: api.Source{Kind: api.SourceSystem, Name: "monitor"},
		NodeID: nodeID, ParentChangeID: parent.ID,
	}
	// Only the shortfall is used: which nodes a scale-in would pick (and
	// so the billing rates) does not matter here.
	launch, _ := engine.Reconcile(g.DesiredQuantity, w.s.nodeList(), engine.Removal{Policy: g.TerminationPolicy})
	lost, ok := w.s.nodes[nodeID]
	if !ok {
		// Already terminated: its launch time is in the store.
		if n, err := w.tx.GetNode(w.ctx, g.ID, nodeID); err == nil {
			lost = n
		}
	}
	decided := engine.Replace(engine.ReplaceInput{Config: w.s.config(), Now: w.now, NextHarmonizationAt: next(g),
		Lost: lost, Rates: w.s.rates()})
	now := decided.Now
	if decided.Billing != nil {
		e.Notes = append(e.Notes, causality.ReplacementPaid(*decided.Billing, now, w.now))
	}
	switch {
	case launch == 0:
		e.Status = api.EventIgnored
		e.Reason = causality.NoReplacementNeeded(w.s.live(), g.DesiredQuantity)
	case w.s.crash.Hold(w.now):
		// Held by the crash-loop backoff: the pass asks again when it
		// ends (retryHeld), unless a harmonization launched first.
		e.Status = api.EventAggregated
		e.Reason = causality.CrashBackoff(w.s.crash.Failures, w.s.crash.LastExit,
			engine.Backoff(w.s.crash.Failures), w.s.crash.NextLaunch())
		w.s.retry = heldReplacement{held: true, parent: parent.ID, node: nodeID}
	case now:
		e.Status = api.EventApplied
	default:
		e.Status = api.EventAggregated
		e.Reason = w.deferReason()
	}
	e, err := w.newEvent(e)
	if err != nil || e.Status != api.EventApplied {
		return e, err
	}
	ch, err := w.addChange(1, "", "")
	if err != nil {
		return e, err
	}
	if _, err := w.link(api.AttributionDirect, "", []*api.Event{&e}, []*api.Change{&ch}); err != nil {
		return e, err
	}
	return e, nil
}

func (w *work) deferReason() string {
	g := w.s.group
	return causality.ReplacementDeferred(w.s.period.Label, next(g), g.Replacement == api.ReplacementDeferred,
		g.ReplacementDeferWindow)
}

func next(g api.Group) time.Time {
	if g.NextHarmonizationAt == nil {
		return time.Time{}
	}
	return *g.NextHarmonizationAt
}

// live counts ready and launching nodes.
func (s *state) live() int {
	n := 0
	for _, nd := range s.nodes {
		if nd.State == api.NodeReady || nd.State == api.NodeLaunching {
			n++
		}
	}
	return n
}

// heldReplacement is a replacement the crash-loop backoff holds: the
// change that removed the node, and the node.
type heldReplacement struct {
	held         bool
	parent, node string // "" for a harmonization's launch
}

// retryDue says whether the group's held replacement may be asked for
// again at now.
func retryDue(s *state, now time.Time) bool {
	return s.retry.held && !s.crash.Hold(now) && s.group.Status == api.GroupActive
}

// holdLaunch records that a decided launch waits for the crash-loop
// backoff: the nodes are asked for again, one at a time, when it ends.
func (w *work) holdLaunch() error {
	cl := w.s.crash
	_, err := w.newEvent(api.Event{
		Type: api.EventReplacementRequest, Source: api.Source{Kind: api.SourceSystem, Name: "monitor"},
		Status: api.EventAggregated,
		Reason: causality.CrashBackoff(cl.Failures, cl.LastExit, engine.Backoff(cl.Failures), cl.NextLaunch()),
	})
	w.s.retry = heldReplacement{held: true}
	return err
}

// retryHeld asks again for the replacement the backoff held: a new
// replacement request, applied now (or deferred, or needless, as
// replace judges).
func (w *work) retryHeld() error {
	r := w.s.retry
	w.s.retry = heldReplacement{}
	_, err := w.replace(api.Change{ID: r.parent}, r.node)
	return err
}
