package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
	"github.com/pes-project/terraform-provider-pes/reconciler/engine"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// recover loads every group that still has work and converges it with
// what its driver runs. It is level-based: whatever the last pesd did or
// did not finish, the rows say what was intended and the drivers say what
// is, and the normal observation path reconciles the two.
func (c *Controller) recover(ctx context.Context) error {
	_, err := c.loadGroups(ctx, c.owns)
	return err
}

// loadGroups loads the groups keep wants that still have work and this
// controller has not loaded, adopts their nodes, and returns them.
func (c *Controller) loadGroups(ctx context.Context, keep func(groupID string) bool) ([]*groupState, error) {
	var loaded []*groupState
	f := store.GroupFilter{IncludeDeleted: true, Page: store.Page{Limit: 1000}}
	for {
		groups, nextToken, err := c.store.ListGroups(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("list groups: %w", err)
		}
		for _, g := range groups {
			if !keep(g.ID) || c.HasGroup(g.ID, "") {
				continue
			}
			// A deleted group is loaded only while nodes are left to stop.
			if g.Status == api.GroupDeleted {
				nodes, err := c.store.ListNodes(ctx, g.ID, false)
				if err != nil {
					return nil, fmt.Errorf("load nodes of group %s: %w", g.ID, err)
				}
				if !slices.ContainsFunc(nodes, func(n api.Node) bool { return n.State != api.NodeTerminated }) {
					continue
				}
			}
			gs, err := c.load(ctx, g)
			if err != nil {
				return nil, err
			}
			c.register(gs)
			c.scheduleHarmonization(gs)
			loaded = append(loaded, gs)
		}
		if nextToken == "" {
			break
		}
		f.Token = nextToken
	}
	// Once for all triggers: the longest window decides the retention.
	c.windows.EnsureRetention(c.eval.MaxWindow())
	for _, gs := range loaded {
		if err := c.loadSamples(ctx, gs); err != nil {
			return nil, err
		}
	}
	return loaded, c.adopt(ctx, loaded)
}

// load reads a group's live rows and triggers. The caller then ensures
// the metric retention and loads the samples (loadSamples).
func (c *Controller) load(ctx context.Context, g api.Group) (*groupState, error) {
	st := &state{group: g, nodes: make(map[string]api.Node), open: make(map[string]api.Change)}
	if err := st.setConfig(g.GroupConfig); err != nil {
		return nil, err
	}
	labels, err := c.store.Labels(ctx, g.ID)
	if err != nil {
		return nil, fmt.Errorf("load label counters of group %s: %w", g.ID, err)
	}
	// The group row names its open period, the last one opened: its
	// label is never issued again, whatever the counter says.
	labels.H = max(labels.H, labelNumber(g.CurrentPeriodLabel))
	// The event counter is stored only with other writes (saveLabels).
	if labels.E, err = c.lastEventLabel(ctx, g.ID, labels.E); err != nil {
		return nil, fmt.Errorf("load label counters of group %s: %w", g.ID, err)
	}
	st.labels = labels
	cl, err := c.store.CrashLoop(ctx, g.ID)
	if err != nil {
		return nil, fmt.Errorf("load crash loop of group %s: %w", g.ID, err)
	}
	st.crash = engine.CrashLoop{Failures: cl.Failures, LastFailure: cl.LastFailure, LastExit: cl.LastExit}
	st.retry = heldReplacement{held: cl.Held, parent: cl.HeldChange, node: cl.HeldNode}
	c.noteDegraded(g.ID, st.crash)
	nodes, err := c.store.ListNodes(ctx, g.ID, false)
	if err != nil {
		return nil, fmt.Errorf("load nodes of group %s: %w", g.ID, err)
	}
	for _, n := range nodes {
		if n.State != api.NodeTerminated {
			st.nodes[n.ID] = n
		}
	}
	open, err := listChanges(ctx, c.store, store.ChangeFilter{GroupID: g.ID, Status: api.ChangeInProgress})
	if err != nil {
		return nil, fmt.Errorf("load changes of group %s: %w", g.ID, err)
	}
	for _, ch := range open {
		st.open[ch.ID] = ch
	}
	// The last scale-out that ended, for cooldown: it started at most
	// init_deadline before it ended.
	now := c.clock.Now()
	since := now.Add(-st.durations.Cooldown - st.durations.InitDeadline - c.opts.EvaluationInterval)
	adds, err := listChanges(ctx, c.store, store.ChangeFilter{GroupID: g.ID, Type: api.ChangeAddNodes, Since: since})
	if err != nil {
		return nil, fmt.Errorf("load changes of group %s: %w", g.ID, err)
	}
	for _, ch := range adds {
		if ch.EndedAt != nil && (st.lastOut.EndedAt == nil || !ch.EndedAt.Before(*st.lastOut.EndedAt)) {
			st.lastOut = ch
		}
	}
	if g.CurrentPeriodID != "" {
		if st.period, err = c.store.GetPeriod(ctx, g.CurrentPeriodID); err != nil {
			return nil, fmt.Errorf("load period of group %s: %w", g.ID, err)
		}
		events, err := c.openPeriodEvents(ctx, g.ID, st.period, st.labels.E)
		if err != nil {
			return nil, fmt.Errorf("load events of group %s: %w", g.ID, err)
		}
		for _, e := range events {
			st.report(e)
			switch e.Status {
			case api.EventAggregated:
				st.requests = append(st.requests, e)
			case api.EventSuppressed, api.EventIgnored:
				st.suppressed = append(st.suppressed, e)
			}
		}
	}
	gs := &groupState{id: g.ID, tenant: g.Tenant, st: st}
	if g.Status != api.GroupActive {
		return gs, nil
	}
	triggers, err := c.store.ListTriggers(ctx, g.ID)
	if err != nil {
		return nil, fmt.Errorf("load triggers of group %s: %w", g.ID, err)
	}
	for _, t := range triggers {
		if !t.Enabled {
			continue
		}
		if err := c.setTrigger(gs, t, now, false); err != nil {
			// A stored trigger that no longer compiles must not keep
			// the group from running.
			c.log.Error("trigger skipped", "group", g.ID, "trigger", t.ID, "err", err)
			continue
		}
		// An outage recorded in the open period goes on: its return is
		// what is recorded next. (One that began in an earlier period is
		// recorded again once after a restart.)
		if st.inOutage(t.ID) {
			c.eval.MarkOutage(t.ID)
		}
	}
	return gs, nil
}

// loadSamples rebuilds a group's metric windows from stored samples. It
// runs once the triggers are set, whose windows decide the retention.
func (c *Controller) loadSamples(ctx context.Context, gs *groupState) error {
	samples, err := c.store.Samples(ctx, gs.id, c.clock.Now().Add(-c.windows.Retention()))
	if err != nil {
		return fmt.Errorf("load samples of group %s: %w", gs.id, err)
	}
	c.addStored(gs.id, samples)
	return nil
}

// adopt re-attaches the recorded nodes through their drivers, and the
// adoption report goes through the observation path, so a node that died
// while pesd was down is lost and replaced. A node recorded launching
// without a handle was recorded but perhaps never launched, or launched
// with its handle never stored: it is adopted first (a driver that finds
// the launch reports it) and launched now under the same ID only when the
// driver does not report it, so no node runs twice.
func (c *Controller) adopt(ctx context.Context, groups []*groupState) error {
	specs := make(map[string][]driver.AdoptSpec)
	unsure := make(map[*groupState][]api.Node)
	for _, gs := range groups {
		g := gs.st.group
		if _, err := c.driverFor(g); err != nil {
			c.log.Error("group's driver is not enabled; its nodes are not monitored", "group", g.ID, "driver", g.Driver)
			continue
		}
		for _, n := range gs.st.nodeList() {
			if n.State == api.NodeLaunching && len(n.Handle) == 0 {
				unsure[gs] = append(unsure[gs], n)
			}
			specs[g.Driver] = append(specs[g.Driver], driver.AdoptSpec{
				NodeSpec: nodeSpec(g, n), State: n.State, Handle: n.Handle,
			})
		}
	}
	obs := make(map[string][]driver.Observation)
	reported := make(map[string]bool) // node IDs the drivers reported
	for name, ss := range specs {
		got, err := c.opts.Drivers[name].Adopt(ctx, ss)
		if err != nil {
			return fmt.Errorf("adopt %d nodes of the %s driver: %w", len(ss), name, err)
		}
		// Observations name nodes, not groups: map them back.
		group := make(map[string]string, len(ss))
		for _, s := range ss {
			group[s.NodeID] = s.GroupID
		}
		for _, o := range got {
			obs[group[o.NodeID]] = append(obs[group[o.NodeID]], o)
			reported[o.NodeID] = true
		}
	}
	relaunch := make(map[*groupState][]api.Node)
	for gs, ns := range unsure {
		for _, n := range ns {
			if !reported[n.ID] {
				relaunch[gs] = append(relaunch[gs], n)
			}
		}
	}
	now := c.clock.Now()
	var errs []error
	for start := 0; start < len(groups); start += c.opts.BatchSize {
		batch := groups[start:min(start+c.opts.BatchSize, len(groups))]
		for _, gs := range batch {
			gs.mu.Lock()
		}
		_, err := c.writeBatch(ctx, batch, func(w *work) error {
			// Relaunched nodes are not in the observations and keep
			// their recorded state.
			o := obs[w.gs.id]
			// A launch found again by its driver: store the handle the
			// crash lost.
			for _, ob := range o {
				if n, ok := w.s.nodes[ob.NodeID]; ok && len(n.Handle) == 0 && len(ob.Handle) > 0 {
					n.Handle = ob.Handle
					if err := w.putNode(n); err != nil {
						return err
					}
				}
			}
			for _, n := range relaunch[w.gs] {
				o = append(o, driver.Observation{NodeID: n.ID, State: api.NodeLaunching, Since: n.LaunchedAt})
			}
			p := plan(w.s, o, now)
			if err := w.applyPlan(&p); err != nil {
				return err
			}
			for _, n := range relaunch[w.gs] {
				if cur, ok := w.s.nodes[n.ID]; ok && cur.State == api.NodeLaunching {
					w.launch = append(w.launch, cur)
				}
			}
			return nil
		})
		for _, gs := range batch {
			gs.mu.Unlock()
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return joinErrs(errs)
}

// listChanges reads every page of a change query.
func listChanges(ctx context.Context, r store.Reader, f store.ChangeFilter) ([]api.Change, error) {
	var all []api.Change
	f.Limit = 1000
	for {
		cs, next, err := r.ListChanges(ctx, f)
		if err != nil {
			return nil, err
		}
		all = append(all, cs...)
		if next == "" {
			return all, nil
		}
		f.Token = next
	}
}

// listEvents reads every page of an event query.
func listEvents(ctx context.Context, r store.Reader, f store.EventFilter) ([]api.Event, error) {
	var all []api.Event
	f.Limit = 1000
	for {
		es, next, err := r.ListEvents(ctx, f)
		if err != nil {
			return nil, err
		}
		all = append(all, es...)
		if next == "" {
			return all, nil
		}
		f.Token = next
	}
}

// openPeriodEvents returns the events of the group's open period p, in
// time order; last is the number of the group's last event label. A new
// event always goes to the open period, and labels are issued in order
// and gapless, so p's events are the last ones issued: E<first> to
// E<last>, for some first. They are read from p's start by the group's
// time index (no index leads with an event's period: it cost a page per
// instruction's commit), and
// their labels say whether that was all of them: all from first to last,
// and E<first-1> of another period. A clock that stepped back may have
// put some before p's start: then the group's events are read through.
func (c *Controller) openPeriodEvents(ctx context.Context, groupID string, p api.Period, last int) ([]api.Event, error) {
	since, err := listEvents(ctx, c.store, store.EventFilter{GroupID: groupID, Since: p.StartedAt})
	if err != nil {
		return nil, err
	}
	var in []api.Event
	first := last + 1 // with none in p: E<last> must be another period's
	for _, e := range since {
		if e.PeriodID == p.ID {
			in = append(in, e)
			first = min(first, labelNumber(e.Label))
		}
	}
	if len(in) == last-first+1 {
		before := first - 1
		if before < 1 {
			return in, nil
		}
		e, err := c.store.GetEventByLabel(ctx, groupID, "E"+strconv.Itoa(before))
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if err == nil && e.PeriodID != p.ID {
			return in, nil
		}
	}
	return listEvents(ctx, c.store, store.EventFilter{GroupID: groupID, PeriodID: p.ID})
}

// lastEventLabel is the number of the group's last event label, found
// from stored, the counter as last stored, which may lag the events.
// Event labels are gapless (a label is issued in the transaction that
// writes its event, and given back when it rolls back), so E<n> exists
// for every n up to the last: the search doubles its step past stored
// until a label is missing, then halves it, a few point reads in all.
func (c *Controller) lastEventLabel(ctx context.Context, groupID string, stored int) (int, error) {
	exists := func(n int) (bool, error) {
		_, err := c.store.GetEventByLabel(ctx, groupID, "E"+strconv.Itoa(n))
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	}
	// last exists (or is 0); past does not.
	last, past := stored, 0
	for step := 1; past == 0; step *= 2 {
		ok, err := exists(last + step)
		switch {
		case err != nil:
			return 0, err
		case ok:
			last += step
		default:
			past = last + step
		}
	}
	for past-last > 1 {
		mid := last + (past-last)/2
		ok, err := exists(mid)
		if err != nil {
			return 0, err
		}
		if ok {
			last = mid
		} else {
			past = mid
		}
	}
	return last, nil
}
