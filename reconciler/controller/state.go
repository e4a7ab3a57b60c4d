package controller

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/causality"
	"github.com/pes-project/terraform-provider-pes/reconciler/cost"
	"github.com/pes-project/terraform-provider-pes/reconciler/engine"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// groupState is one live group as the controller holds it.
type groupState struct {
	id string
	// tenant is the group's tenant, which never changes: the server asks
	// it without the lock (HasGroup).
	tenant string

	mu sync.Mutex // held for every write to the group, by the loop and the API
	st *state     // replaced only after the transaction that wrote it commits
	// triggers are the group's enabled triggers, for the events of their
	// firings; their evaluation state is in Controller.eval.
	triggers map[string]api.Trigger

	samplesPrunedAt time.Time
	// metricsNoticed: the group's events say its driver samples no
	// metrics (once per pesd start).
	metricsNoticed bool

	// dueAt is the instant of the harmonization timer the group is in
	// (scheduleHarmonization); under mu.
	dueAt time.Time
	// targetRecs are each target-tracking trigger's recent proposals, for
	// scale-in stabilization. In memory only, as the HPA keeps them: after
	// a restart the window starts empty.
	targetRecs map[string][]engine.Recommendation
	// sourceFailures are the metric sources whose query failed in the
	// last pass, by metric name (querySources).
	sourceFailures map[string]sourceFailure
}

// state is the group's live rows. A copy is taken for every write; the
// copy becomes st when the transaction commits, so a failed write leaves
// the cache as the store is.
type state struct {
	group api.Group
	// durations are the group's configured durations, parsed whenever
	// its configuration is set (setConfig), not at every use.
	durations api.Durations
	period    api.Period            // the open period
	nodes     map[string]api.Node   // nodes not terminated
	open      map[string]api.Change // changes in progress
	// The open period's events that harmonization reads: aggregated
	// requests, and suppressed or ignored ones for the record.
	requests   []api.Event
	suppressed []api.Event
	// The last add_nodes change that ended, for cooldown.
	lastOut api.Change
	// crash is the run of early node failures, for the launch backoff;
	// retry is the replacement held by it (zero when none). Both are
	// stored with the group (saveCrashLoop), so a restarted pesd goes on
	// backing off rather than relaunching a crash-looping group at once.
	crash engine.CrashLoop
	retry heldReplacement
	// reported holds "trigger id/event type" for the trigger events of
	// the open period, so a restarted pesd whose evaluator forgot them
	// still records a firing (or missing data) once per period.
	reported map[string]bool
	// labels are the numbers of the last labels issued. They live in
	// the copy a write takes, so a rolled-back write gives its labels
	// back and a committed one moves them on: labels stay gapless.
	labels store.Labels
	// shared are the maps above that this copy shares with the state it
	// was copied from (clone); a write copies one before its first change
	// to it (own), so the writes that change none (an instruction, most
	// passes) copy none.
	shared sharedMaps
}

// sharedMaps is a set of the state's maps.
type sharedMaps uint8

const (
	sharedNodes sharedMaps = 1 << iota
	sharedOpen
	sharedReported
)

// setConfig makes cfg the group's configuration. cfg has been resolved
// (api.ResolveGroupConfig, or read back from the store), so parsing it
// fails only on a store written behind pesd's back, and the defaults it
// writes in are already there.
func (s *state) setConfig(cfg api.GroupConfig) error {
	c, err := api.ParseConfig(cfg)
	if err != nil {
		return fmt.Errorf("group %s: configuration: %w", cmp.Or(s.group.ID, cfg.Name), err)
	}
	s.group.GroupConfig, s.durations = c.GroupConfig, c.Durations
	return nil
}

// rates are the group's billing history as the engine and package cost
// take it.
func (s *state) rates() cost.Rates { return cost.ParseRates(s.group.BillingHistory) }

// config is the group's configuration as the engine takes it.
func (s *state) config() api.Config {
	return api.Config{GroupConfig: s.group.GroupConfig, Durations: s.durations}
}

func (s *state) clone() *state {
	c := *s
	// The maps are copied on the copy's first change to them (own).
	c.shared = sharedNodes | sharedOpen | sharedReported
	// The period's events are shared, not copied: a period gathers
	// thousands of requests, and copying them for every write made each
	// write cost the whole period. Sharing is safe because the copy only
	// appends (past the end s sees) and copies before it removes (track);
	// a group has one copy being written at a time.
	return &c
}

// own makes the maps m of s its own, copying them if they are shared,
// before s changes them. Every change to nodes, open or reported goes
// after an own.
func (s *state) own(m sharedMaps) {
	copies := s.shared & m
	if copies&sharedNodes != 0 {
		s.nodes = maps.Clone(s.nodes)
	}
	if copies&sharedOpen != 0 {
		s.open = maps.Clone(s.open)
	}
	if copies&sharedReported != 0 {
		s.reported = maps.Clone(s.reported)
	}
	s.shared &^= m
}

// nodeList returns the nodes in launch order.
func (s *state) nodeList() []api.Node {
	ns := slices.Collect(maps.Values(s.nodes))
	slices.SortFunc(ns, func(a, b api.Node) int {
		return cmp.Or(a.LaunchedAt.Compare(b.LaunchedAt), strings.Compare(a.ID, b.ID))
	})
	return ns
}

// openList returns the changes in progress in the order they were made.
func (s *state) openList() []api.Change {
	cs := slices.Collect(maps.Values(s.open))
	slices.SortFunc(cs, func(a, b api.Change) int {
		return cmp.Or(a.StartedAt.Compare(b.StartedAt), strings.Compare(a.ID, b.ID))
	})
	return cs
}

func (s *state) ready() int {
	n := 0
	for _, nd := range s.nodes {
		if nd.State == api.NodeReady {
			n++
		}
	}
	return n
}

// work is one group's share of a transaction: the copy of its state being
// written, and the driver actions to take once the transaction commits.
type work struct {
	ctx context.Context
	c   *Controller
	gs  *groupState
	tx  store.Tx
	s   *state
	now time.Time

	launch []api.Node // to start after commit
	stop   []string   // node IDs to terminate after commit

	deliveries []delivery // notify firings to POST after commit

	groupDirty  bool // s.group changed and must be written
	configDirty bool // and more than its state: configuration or status (see store.Tx.UpdateGroupState)
	// register: the group is new; the controller takes it on when the
	// transaction commits, before the actions, so the driver's pushes
	// about its first nodes find it.
	register bool

	// events and changes written, counted into the controller's totals
	// once the transaction commits.
	events, changes int
}

// write runs fn on a copy of gs's state in one transaction, publishes the
// copy when it commits, then carries out the actions fn recorded. The
// caller holds gs.mu.
func (c *Controller) write(ctx context.Context, gs *groupState, fn func(w *work) error) (*work, error) {
	ws, err := c.writeBatch(ctx, []*groupState{gs}, fn)
	if err != nil {
		return nil, err
	}
	return ws[0], nil
}

// writeBatch is write for many groups in one transaction, the way a pass
// over thousands of groups stays fast. When the batch fails, each group is
// retried alone so one bad group does not hold the others back; the error
// returned joins the groups that still failed. The caller holds every
// gs.mu. The returned work has nil entries for groups that failed.
func (c *Controller) writeBatch(ctx context.Context, gss []*groupState, fn func(w *work) error) ([]*work, error) {
	return c.writeDecided(ctx, gss, fn, nil)
}

// writeDecided is writeBatch for groups whose shares were decided before
// the transaction (decide), one per group in pre, or none (nil). When
// the batch fails, each group is written alone with fn.
func (c *Controller) writeDecided(ctx context.Context, gss []*groupState, fn func(w *work) error, pre []decided) ([]*work, error) {
	ws, err := c.commit(ctx, gss, fn, pre)
	if err != nil && len(gss) > 1 && ctx.Err() == nil {
		ws = make([]*work, len(gss))
		var errs []error
		for i := range gss {
			one, err := c.commit(ctx, gss[i:i+1], fn, nil)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			ws[i] = one[0]
		}
		err = joinErrs(errs)
	}
	for _, w := range ws {
		if w != nil {
			w.gs.st = w.s
			if w.register {
				c.register(w.gs)
			}
			c.scheduleHarmonization(w.gs)
			c.watch.wrote(w.gs.id)
			c.noteDegraded(w.gs.id, w.s.crash)
			c.counts.events.Add(int64(w.events))
			c.counts.changes.Add(int64(w.changes))
		}
	}
	c.actuate(ctx, ws)
	c.deliver(ws)
	return ws, err
}

// commit runs fn for each group in one transaction, or replays the
// group's share decided in pre (when pre has one); nil work on failure.
func (c *Controller) commit(ctx context.Context, gss []*groupState, fn func(w *work) error, pre []decided) ([]*work, error) {
	var ws []*work
	err := c.update(ctx, func(tx store.Tx) error {
		ws = make([]*work, len(gss))
		now := c.clock.Now()
		for i, gs := range gss {
			if err := c.fence(tx, gs.id); err != nil {
				return fmt.Errorf("group %s: %w", gs.id, err)
			}
			if pre != nil && pre[i].w != nil {
				if err := pre[i].rec.replay(tx); err != nil {
					return fmt.Errorf("group %s: %w", gs.id, err)
				}
				ws[i] = pre[i].w
				continue
			}
			w := &work{ctx: ctx, c: c, gs: gs, tx: tx, s: gs.st.clone(), now: now}
			if err := fn(w); err != nil {
				return fmt.Errorf("group %s: %w", gs.id, err)
			}
			if err := w.finish(); err != nil {
				return fmt.Errorf("group %s: %w", gs.id, err)
			}
			ws[i] = w
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ws, nil
}

func joinErrs(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return fmt.Errorf("%w (and %d more groups failed)", errs[0], len(errs)-1)
}

// finish ends a group's share of a transaction: add_nodes changes settle
// against the nodes' new states and the group row follows actual.
func (w *work) finish() error {
	if err := w.settleAdds(); err != nil {
		return err
	}
	if a := w.s.ready(); a != w.s.group.ActualQuantity {
		w.s.group.ActualQuantity = a
		w.groupDirty = true
	}
	if err := w.saveCrashLoop(); err != nil {
		return err
	}
	if !w.groupDirty {
		return w.saveLabels()
	}
	w.s.group.UpdatedAt = w.now
	if w.configDirty {
		if err := w.tx.UpdateGroup(w.s.group); err != nil {
			return fmt.Errorf("update group: %w", err)
		}
		if err := w.saveLabels(); err != nil {
			return err
		}
	} else if err := w.tx.UpdateGroupState(w.s.group, w.s.labels); err != nil {
		return fmt.Errorf("update group: %w", err)
	}
	w.groupDirty, w.configDirty = false, false
	return nil
}

// saveCrashLoop stores the group's crash loop when the write changed it.
func (w *work) saveCrashLoop() error {
	if w.gs.st != nil && w.s.crash == w.gs.st.crash && w.s.retry == w.gs.st.retry {
		return nil
	}
	c, r := w.s.crash, w.s.retry
	err := w.tx.SetCrashLoop(w.s.group.ID, store.CrashLoop{Failures: c.Failures, LastFailure: c.LastFailure,
		LastExit: c.LastExit, Held: r.held, HeldChange: r.parent, HeldNode: r.node})
	if err != nil {
		return fmt.Errorf("store crash loop: %w", err)
	}
	return nil
}

// nextLabel issues the group's next label of kind "E", "C" or "H" from
// the counters in the state; saveLabels stores them with the rows.
func (w *work) nextLabel(kind string) string {
	var n *int
	switch kind {
	case "E":
		n = &w.s.labels.E
	case "C":
		n = &w.s.labels.C
	case "H":
		n = &w.s.labels.H
	default:
		panic("controller: label kind " + kind)
	}
	*n++
	return kind + strconv.Itoa(*n)
}

// saveLabels stores the counters, if change or period labels were
// issued, in the transaction that wrote the labelled rows. A write of the
// group's state stores them with it (store.Tx.UpdateGroupState), with no
// statement of their own. Event labels alone need no statement: each
// event row holds its label, and load finds the last one past the stored
// counter (lastEventLabel). That statement was about a tenth of the CPU
// of an instruction.
func (w *work) saveLabels() error {
	if l, was := w.s.labels, w.gs.st.labels; l.C == was.C && l.H == was.H {
		return nil
	}
	if err := w.tx.SetLabels(w.s.group.ID, w.s.labels); err != nil {
		return fmt.Errorf("store label counters: %w", err)
	}
	return nil
}

// labelNumber is the number of a label: 12 for "H12", 0 for "".
func labelNumber(label string) int {
	n, _ := strconv.Atoi(strings.TrimLeft(label, "ECH"))
	return n
}

func newID() string {
	// NewV7 fails only when the system's random source does.
	return uuid.Must(uuid.NewV7()).String()
}

// report remembers a trigger's event in the open period.
func (s *state) report(e api.Event) {
	if e.Source.Kind != api.SourceTrigger {
		return
	}
	s.own(sharedReported)
	if s.reported == nil {
		s.reported = make(map[string]bool)
	}
	s.reported[e.Source.ID+"/"+e.Type] = true
	switch e.Type {
	case api.EventMetricsMissing, api.EventMetricsReturned:
		s.reported[e.Source.ID+outageKey] = e.Type == api.EventMetricsMissing
	}
}

// outageKey marks, in reported, a trigger whose last missing-data event
// of the open period began an outage that has not ended.
const outageKey = "/outage"

// inOutage reports whether the trigger's missing data was recorded in the
// open period and its return was not.
func (s *state) inOutage(triggerID string) bool { return s.reported[triggerID+outageKey] }

func (s *state) reportedIn(triggerID, eventType string) bool {
	return s.reported[triggerID+"/"+eventType]
}

// putNode writes a node and keeps the state's node set to the nodes that
// are not terminated.
func (w *work) putNode(n api.Node) error {
	if err := w.tx.UpsertNode(n); err != nil {
		return fmt.Errorf("write node %s: %w", n.ID, err)
	}
	w.s.own(sharedNodes)
	if n.State == api.NodeTerminated {
		delete(w.s.nodes, n.ID)
	} else {
		w.s.nodes[n.ID] = n
	}
	return nil
}

// newEvent records e in the open period with an ID, a label and a
// description.
func (w *work) newEvent(e api.Event) (api.Event, error) {
	label := w.nextLabel("E")
	e.ID, e.Label, e.GroupID = newID(), label, w.s.group.ID
	if e.Time.IsZero() {
		e.Time = w.now
	}
	e.PeriodID, e.PeriodLabel = w.s.period.ID, w.s.period.Label
	if e.NodeID != "" && e.NodeName == "" {
		var err error
		if e.NodeName, err = w.nodeName(e.NodeID); err != nil {
			return e, err
		}
	}
	e.Description = describeEvent(e)
	if err := w.tx.InsertEvent(e); err != nil {
		return e, fmt.Errorf("insert event %s: %w", e.Label, err)
	}
	w.events++
	w.track(e, false)
	return e, nil
}

// updateEvent rewrites e and its description.
func (w *work) updateEvent(e api.Event) (api.Event, error) {
	e.Description = describeEvent(e)
	if err := w.tx.UpdateEvent(e); err != nil {
		return e, fmt.Errorf("update event %s: %w", e.Label, err)
	}
	w.track(e, true)
	return e, nil
}

// track keeps the open period's aggregated and suppressed events in the
// state, for harmonization. A new event is in neither list yet: no need
// to look for it, which would cost the whole period per event.
func (w *work) track(e api.Event, known bool) {
	if e.PeriodID != w.s.period.ID {
		return
	}
	w.s.report(e)
	if known {
		w.s.requests = without(w.s.requests, e.ID)
		w.s.suppressed = without(w.s.suppressed, e.ID)
	}
	switch e.Status {
	case api.EventAggregated:
		w.s.requests = append(w.s.requests, e)
	case api.EventSuppressed, api.EventIgnored:
		w.s.suppressed = append(w.s.suppressed, e)
	}
}

// without returns es without the event id, as a new slice when it was
// there: es may be shared with the state a write copied (see clone).
// Without the first, it is es past it, with no copy: a harmonization
// rewrites its period's requests in order, and copying the rest for each
// made that quadratic in the requests.
func without(es []api.Event, id string) []api.Event {
	i := slices.IndexFunc(es, func(x api.Event) bool { return x.ID == id })
	switch {
	case i < 0:
		return es
	case i == 0:
		return es[1:]
	}
	return slices.Concat(es[:i], es[i+1:])
}

// newChange records ch (in progress unless set) in the open period.
func (w *work) newChange(ch api.Change) (api.Change, error) {
	label := w.nextLabel("C")
	ch.ID, ch.Label, ch.GroupID = newID(), label, w.s.group.ID
	if ch.StartedAt.IsZero() {
		ch.StartedAt = w.now
	}
	if ch.PeriodID == "" {
		ch.PeriodID, ch.PeriodLabel = w.s.period.ID, w.s.period.Label
	}
	if ch.Status == "" {
		ch.Status = api.ChangeInProgress
	}
	if ch.NodeIDs == nil {
		ch.NodeIDs = []string{}
	}
	var err error
	if ch.Description, err = w.describeChange(ch); err != nil {
		return ch, err
	}
	if err := w.tx.InsertChange(ch); err != nil {
		return ch, fmt.Errorf("insert change %s: %w", ch.Label, err)
	}
	w.changes++
	w.trackChange(ch)
	return ch, nil
}

func (w *work) updateChange(ch api.Change) (api.Change, error) {
	var err error
	if ch.Description, err = w.describeChange(ch); err != nil {
		return ch, err
	}
	if err := w.tx.UpdateChange(ch); err != nil {
		return ch, fmt.Errorf("update change %s: %w", ch.Label, err)
	}
	w.trackChange(ch)
	return ch, nil
}

func (w *work) trackChange(ch api.Change) {
	w.s.own(sharedOpen)
	if ch.Status == api.ChangeInProgress {
		w.s.open[ch.ID] = ch
		return
	}
	delete(w.s.open, ch.ID)
	if ch.Type == api.ChangeAddNodes && ch.EndedAt != nil &&
		(w.s.lastOut.EndedAt == nil || !ch.EndedAt.Before(*w.s.lastOut.EndedAt)) {
		w.s.lastOut = ch
	}
}

// link records a nexus between events and changes already written, and
// sets their nexus_id.
func (w *work) link(attribution string, periodID string, events []*api.Event, changes []*api.Change) (api.Nexus, error) {
	return w.linkDecided(attribution, periodID, "", events, changes)
}

// linkDecided is link naming the decisive event among events (the one a
// harmonization's policy took), "" for none.
func (w *work) linkDecided(attribution, periodID, decisive string, events []*api.Event, changes []*api.Change) (api.Nexus, error) {
	nx := api.Nexus{
		ID: newID(), GroupID: w.s.group.ID, Attribution: attribution, PeriodID: periodID,
		EventIDs: make([]string, 0, len(events)), ChangeIDs: make([]string, 0, len(changes)),
		DecisiveEventID: decisive, CreatedAt: w.now,
	}
	events, err := w.withFirings(events)
	if err != nil {
		return nx, err
	}
	for _, e := range events {
		nx.EventIDs = append(nx.EventIDs, e.ID)
	}
	for _, ch := range changes {
		nx.ChangeIDs = append(nx.ChangeIDs, ch.ID)
	}
	if err := w.tx.InsertNexus(nx); err != nil {
		return nx, fmt.Errorf("insert nexus: %w", err)
	}
	for _, e := range events {
		e.NexusID = nx.ID
		var err error
		if *e, err = w.updateEvent(*e); err != nil {
			return nx, err
		}
	}
	for _, ch := range changes {
		ch.NexusID, ch.Attribution = nx.ID, attribution
		var err error
		if *ch, err = w.updateChange(*ch); err != nil {
			return nx, err
		}
	}
	return nx, nil
}

// launchNodes records n nodes launching for the change and schedules
// their launch after commit. It returns their IDs.
func (w *work) launchNodes(n int, changeID string) ([]string, error) {
	used := make(map[int]bool, len(w.s.nodes))
	for _, nd := range w.s.nodes {
		used[nd.Index] = true
	}
	ids := make([]string, 0, n)
	idx := 0
	for range n {
		for used[idx] {
			idx++
		}
		used[idx] = true
		nd := api.Node{
			ID: newID(), GroupID: w.s.group.ID, Index: idx, State: api.NodeLaunching,
			LaunchedAt: w.now, ChangeID: changeID,
		}
		if err := w.putNode(nd); err != nil {
			return nil, err
		}
		w.launch = append(w.launch, nd)
		ids = append(ids, nd.ID)
	}
	return ids, nil
}

// stopNodes marks nodes terminating and schedules their termination after
// commit.
func (w *work) stopNodes(ids []string, reason string) error {
	for _, id := range ids {
		nd, ok := w.s.nodes[id]
		if !ok {
			continue
		}
		nd.State = api.NodeTerminating
		if reason != "" {
			nd.StateReason = reason
		}
		if err := w.putNode(nd); err != nil {
			return err
		}
		w.stop = append(w.stop, id)
	}
	return nil
}

// addChange records an add_nodes change of n nodes and their launch.
func (w *work) addChange(n int, periodID, periodLabel string) (api.Change, error) {
	actual := w.s.ready()
	ch, err := w.newChange(api.Change{
		Type: api.ChangeAddNodes, Amount: n, QuantityBefore: actual, QuantityAfter: actual + n,
		PeriodID: periodID, PeriodLabel: periodLabel,
	})
	if err != nil {
		return ch, err
	}
	if ch.NodeIDs, err = w.launchNodes(n, ch.ID); err != nil {
		return ch, err
	}
	return w.updateChange(ch)
}

// removeChange records a change of type typ (remove_nodes or node_lost)
// removing the nodes, and their termination.
func (w *work) removeChange(typ string, ids []string, reason, periodID, periodLabel string) (api.Change, error) {
	// A launch whose window is still open ends first with the nodes that
	// arrived, so it adds them before this change takes one away.
	if err := w.closeLaunches(ids); err != nil {
		return api.Change{}, err
	}
	before := w.s.ready()
	lost := 0
	for _, id := range ids {
		if w.s.nodes[id].State == api.NodeReady {
			lost++
		}
	}
	if err := w.stopNodes(ids, reason); err != nil {
		return api.Change{}, err
	}
	return w.newChange(api.Change{
		Type: typ, Amount: len(ids), QuantityBefore: before, QuantityAfter: before - lost,
		NodeIDs: slices.Clone(ids), PeriodID: periodID, PeriodLabel: periodLabel,
	})
}

// noteDegraded keeps, for the API's reads, whether the group is degraded
// and why: the reads come from the store, and the crash loop lives here.
func (c *Controller) noteDegraded(id string, cl engine.CrashLoop) {
	if !cl.Degraded() {
		c.degraded.Delete(id)
		return
	}
	c.degraded.Store(id, causality.Degraded(cl.Failures, cl.LastExit, cl.NextLaunch()))
}

// Degraded says why a group is degraded (its nodes keep failing early);
// false when it is not.
func (c *Controller) Degraded(groupID string) (string, bool) {
	v, ok := c.degraded.Load(groupID)
	if !ok {
		return "", false
	}
	return v.(string), true
}
