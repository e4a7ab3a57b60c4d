package controller

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/causality"
	"github.com/pes-project/terraform-provider-pes/reconciler/engine"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
	"github.com/pes-project/terraform-provider-pes/reconciler/trigger"
	"github.com/pes-project/terraform-provider-pes/reconciler/window"
)

// Metrics pesd computes for every group with triggers (SPEC §2.6).
const (
	metricNodesReady   = "nodes_ready"
	metricNodesDesired = "nodes_desired"
)

// samplePruneEvery is how often a group's stored samples are pruned.
const samplePruneEvery = time.Minute

// CreateTrigger adds a trigger to a group: it is compiled, stored and
// evaluated from the next pass.
func (c *Controller) CreateTrigger(ctx context.Context, groupID string, spec api.TriggerSpec) (api.Trigger, error) {
	gs, err := c.lockGroup(ctx, groupID)
	if err != nil {
		return api.Trigger{}, err
	}
	defer gs.mu.Unlock()
	now := c.clock.Now()
	t := api.Trigger{
		ID: newID(), GroupID: groupID, Priority: api.DefaultTriggerPriority, Enabled: true,
		CreatedAt: now, UpdatedAt: now,
	}
	applyTriggerSpec(&t, spec)
	if err := c.checkTrigger(t); err != nil {
		return api.Trigger{}, err
	}
	if err := c.update(ctx, func(tx store.Tx) error { return tx.InsertTrigger(t) }); err != nil {
		return api.Trigger{}, triggerConflict(t, err)
	}
	if err := c.setTrigger(gs, t, now, true); err != nil {
		return t.Redacted(), err
	}
	t.Warnings = c.triggerWarnings(gs, t)
	return t.Redacted(), nil
}

// UpdateTrigger changes the fields present in spec. A request form given
// replaces the old one. Evaluation state carries over when the condition,
// for and schedule stay the same.
func (c *Controller) UpdateTrigger(ctx context.Context, id string, spec api.TriggerSpec) (api.Trigger, error) {
	stored, err := c.store.GetTrigger(ctx, id)
	if err != nil {
		return api.Trigger{}, fmt.Errorf("trigger %s: %w", id, err)
	}
	gs, err := c.lockGroup(ctx, stored.GroupID)
	if err != nil {
		return api.Trigger{}, err
	}
	defer gs.mu.Unlock()
	// Read again under the lock: another update may have landed.
	t, err := c.store.GetTrigger(ctx, id)
	if err != nil {
		return api.Trigger{}, fmt.Errorf("trigger %s: %w", id, err)
	}
	now := c.clock.Now()
	applyTriggerSpec(&t, spec)
	t.UpdatedAt = now
	if err := c.checkTrigger(t); err != nil {
		return api.Trigger{}, err
	}
	if err := c.update(ctx, func(tx store.Tx) error { return tx.UpdateTrigger(t) }); err != nil {
		return api.Trigger{}, triggerConflict(t, err)
	}
	if err := c.setTrigger(gs, t, now, true); err != nil {
		return t.Redacted(), err
	}
	t.Warnings = c.triggerWarnings(gs, t)
	return t.Redacted(), nil
}

// DeleteTrigger removes a trigger. Its past events stay.
func (c *Controller) DeleteTrigger(ctx context.Context, id string) error {
	t, err := c.store.GetTrigger(ctx, id)
	if err != nil {
		return fmt.Errorf("trigger %s: %w", id, err)
	}
	gs, err := c.lockGroup(ctx, t.GroupID)
	if err != nil {
		return err
	}
	defer gs.mu.Unlock()
	if err := c.update(ctx, func(tx store.Tx) error { return tx.DeleteTrigger(id) }); err != nil {
		return fmt.Errorf("delete trigger %s: %w", id, err)
	}
	delete(gs.triggers, id)
	c.eval.Remove(id)
	return nil
}

// triggerWarnings flags the metrics a trigger reads that the group has
// never had a sample of, from any source: a misspelt name would otherwise
// wait for data silently. "Never" is within the metric retention: the
// windows are what pesd remembers. The caller holds gs.mu.
func (c *Controller) triggerWarnings(gs *groupState, t api.Trigger) []string {
	spec, err := trigger.ParseTrigger(t)
	if err != nil {
		return nil
	}
	reads := spec.Condition.Metrics()
	if spec.Target != nil {
		reads = append(reads, spec.Target.Metric)
	}
	if len(reads) == 0 {
		return nil
	}
	known := map[string]bool{metricNodesReady: true, metricNodesDesired: true}
	for _, n := range c.windows.Names(gs.id) {
		known[n] = true
	}
	for _, s := range gs.st.group.MetricSources {
		known[s.Name] = true
	}
	var warnings []string
	for _, m := range reads {
		if !known[m] {
			warnings = append(warnings, causality.UnknownMetric(m, slices.Sorted(maps.Keys(known))))
			known[m] = true // once per metric
		}
	}
	return warnings
}

func applyTriggerSpec(t *api.Trigger, s api.TriggerSpec) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = strings.TrimSpace(*src)
		}
	}
	set(&t.Name, s.Name)
	set(&t.Condition, s.Condition)
	set(&t.For, s.For)
	set(&t.Schedule, s.Schedule)
	if s.ChangeBy != nil || s.ChangeByPercent != nil || s.SetTo != nil || s.Target != nil {
		t.Request, t.Notify = s.Request, nil
	}
	if s.Notify != nil {
		n := *s.Notify
		t.Request, t.Notify = api.Request{}, &n
	}
	if s.Priority != nil {
		t.Priority = *s.Priority
	}
	if s.Immediate != nil {
		t.Immediate = *s.Immediate
	}
	if s.Enabled != nil {
		t.Enabled = *s.Enabled
	}
}

// checkTrigger compiles the trigger and checks that pesd may reach its
// notify URL; the error names the field.
func (c *Controller) checkTrigger(t api.Trigger) error {
	if t.Notify != nil {
		if err := api.NotifyAllowed(t.Notify.URL, c.opts.NotifyAllow); err != nil {
			return err
		}
	}
	if _, err := trigger.ParseTrigger(t); err != nil {
		var fe *trigger.FieldError
		if errors.As(err, &fe) {
			return &api.Error{Code: api.CodeInvalid, Field: fe.Field, Message: fe.Err.Error()}
		}
		return &api.Error{Code: api.CodeInvalid, Field: "condition", Message: err.Error()}
	}
	return nil
}

func triggerConflict(t api.Trigger, err error) error {
	if errors.Is(err, store.ErrConflict) {
		return &api.Error{Code: api.CodeConflict, Field: "name",
			Message: fmt.Sprintf("the group already has a trigger named %q", t.Name)}
	}
	return fmt.Errorf("store trigger %s: %w", t.ID, err)
}

// setTrigger keeps the evaluator in step with a stored trigger. With
// ensure, the metric retention grows to the longest window in use (a scan
// of every trigger: start-up does it once at the end instead). The caller
// holds gs.mu.
func (c *Controller) setTrigger(gs *groupState, t api.Trigger, now time.Time, ensure bool) error {
	if err := c.eval.Set(t, now); err != nil {
		// The trigger compiled a moment ago: this is a bug, not bad input.
		return fmt.Errorf("evaluate trigger %s: %w", t.ID, err)
	}
	if !t.Enabled {
		delete(gs.triggers, t.ID)
		return nil
	}
	if gs.triggers == nil {
		gs.triggers = make(map[string]api.Trigger)
	}
	gs.triggers[t.ID] = t
	if ensure {
		c.windows.EnsureRetention(c.eval.MaxWindow())
	}
	return nil
}

// PushMetrics adds samples to the group's windows and stores them, so the
// windows survive a restart. Samples without a time are taken as now.
func (c *Controller) PushMetrics(ctx context.Context, groupID string, samples []api.Sample) (int, error) {
	gs, err := c.lockGroup(ctx, groupID)
	if err != nil {
		return 0, err
	}
	defer gs.mu.Unlock()
	if err := c.checkSeriesCap(gs.id, samples); err != nil {
		return 0, err
	}
	now := c.clock.Now()
	stored := make([]store.StoredSample, 0, len(samples))
	for _, s := range samples {
		t := now
		if s.Time != nil && !s.Time.IsZero() {
			t = s.Time.UTC()
		}
		stored = append(stored, store.StoredSample{Name: s.Name, NodeID: s.NodeID, Time: t, Value: s.Value})
	}
	n := c.addStored(gs.id, stored)
	prune := now.Sub(gs.samplesPrunedAt) >= samplePruneEvery
	err = c.update(ctx, func(tx store.Tx) error {
		if err := tx.InsertSamples(gs.id, stored); err != nil {
			return fmt.Errorf("store samples: %w", err)
		}
		if prune {
			return tx.DeleteSamplesBefore(gs.id, now.Add(-c.sampleHistory()))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if prune {
		gs.samplesPrunedAt = now
	}
	return n, nil
}

// checkSeriesCap refuses a push that would take the group past
// MaxSeriesPerGroup series. The caller holds the group's lock, so two
// pushes cannot both pass with the last free series.
func (c *Controller) checkSeriesCap(groupID string, samples []api.Sample) error {
	ws := make([]window.Sample, len(samples))
	for i, s := range samples {
		ws[i] = window.Sample{Name: s.Name}
	}
	have, fresh := c.windows.NewSeries(groupID, ws)
	limit := c.opts.MaxSeriesPerGroup
	if have+len(fresh) <= limit {
		return nil
	}
	return &api.Error{Code: api.CodeExhausted, Status: 429, Field: "samples",
		Message: causality.SeriesCapReached(limit, have, fresh, c.windows.Retention())}
}

// sampleHistory is how long stored samples are kept: the backtest
// history, or the longest window in use when that is longer.
func (c *Controller) sampleHistory() time.Duration {
	return max(c.opts.MetricHistory, c.windows.Retention())
}

// MetricHistory is how far back a backtest can replay samples.
func (c *Controller) MetricHistory() time.Duration { return c.sampleHistory() }

func (c *Controller) addStored(groupID string, ss []store.StoredSample) int {
	ms := make([]window.Sample, len(ss))
	for i, s := range ss {
		ms[i] = window.Sample{Name: s.Name, Value: s.Value, NodeID: s.NodeID, Time: s.Time}
	}
	return c.windows.Add(groupID, ms...)
}

// addSamples takes the samples of a driver observation into the group's
// windows and queues them for storage. The caller holds gs.mu.
func (c *Controller) addSamples(gs *groupState, samples []api.Sample, now time.Time) []store.StoredSample {
	stored := make([]store.StoredSample, len(samples))
	for i, s := range samples {
		t := now
		if s.Time != nil && !s.Time.IsZero() {
			t = s.Time.UTC()
		}
		stored[i] = store.StoredSample{Name: s.Name, NodeID: s.NodeID, Time: t, Value: s.Value}
	}
	c.addStored(gs.id, stored)
	return stored
}

// storeSamples persists observed samples of several groups in one
// transaction.
func (c *Controller) storeSamples(ctx context.Context, byGroup map[string][]store.StoredSample) error {
	return c.update(ctx, func(tx store.Tx) error {
		for id, ss := range byGroup {
			if err := tx.InsertSamples(id, ss); err != nil {
				return fmt.Errorf("store samples of group %s: %w", id, err)
			}
		}
		return nil
	})
}

// outcome records one trigger outcome: a firing (suppressed during
// lockdown or cooldown, else immediate or aggregated), or missing data.
func (w *work) outcome(o trigger.Outcome) error {
	t, ok := w.gs.triggers[o.TriggerID]
	if !ok {
		return nil // deleted meanwhile
	}
	src := api.Source{Kind: api.SourceTrigger, ID: t.ID, Name: t.Name}
	if o.Returned {
		// Data is back: the outage's end, recorded once (its start was).
		if _, err := w.newEvent(api.Event{
			Type: api.EventMetricsReturned, Source: src, Status: api.EventApplied,
			Observed: o.Observed, Priority: t.Priority,
		}); err != nil {
			return err
		}
	}
	if !o.Fired {
		reason := ""
		switch {
		case len(o.MissingData) > 0:
			reason = w.missingReason(o)
		case o.Err != nil:
			reason = causality.EvaluationFailed(o.Err)
		default:
			return nil
		}
		if w.s.inOutage(t.ID) {
			return nil // already recorded in this period, before a restart
		}
		_, err := w.newEvent(api.Event{
			Type: api.EventMetricsMissing, Source: src, Status: api.EventIgnored,
			Reason: reason, Observed: o.Observed, Priority: t.Priority,
		})
		return err
	}
	if o.Target != nil {
		return w.targetOutcome(t, src, o)
	}
	if w.s.reportedIn(t.ID, api.EventTriggerFired) {
		return nil // already in this period, before a restart
	}
	req := t.Request
	observed := o.Text
	if observed == "" {
		observed = o.Observed
	}
	observed += w.sourcesNote(o.Metrics)
	if t.Notify != nil {
		// The receiver decides the change; its answer goes through
		// admission like any instruction.
		return w.notifyFiring(t, src, observed)
	}
	e := api.Event{
		Type: api.EventTriggerFired, Source: src, Request: &req,
		Immediate: t.Immediate, Priority: t.Priority, Observed: observed,
		Notes: w.c.executionNotes(w.ctx, w.gs.id, t.Condition),
	}
	return w.fire(e)
}

// fire records an admitted trigger firing as a request, or a suppressed
// one during lockdown or cooldown, or an ignored one a user instruction
// of the period silences (instructions_silence_triggers).
func (w *work) fire(e api.Event) error {
	if adm := engine.Admit(w.admitInput()); adm.Suppressed {
		if e.ProposedQuantity == nil {
			proposed := engine.Propose(w.s.group.DesiredQuantity, *e.Request)
			e.ProposedQuantity = &proposed
		}
		e.Status, e.Reason = adm.Status(), causality.Suppression(adm)
		_, err := w.newEvent(e)
		return err
	}
	_, err := w.request(e)
	return err
}

// targetOutcome turns a target-tracking trigger's observation into a
// proposal (engine.ProposeTarget, then engine.Stabilize for a scale-in).
// Every pass's proposal joins the stabilization window; one that changes
// the desired quantity is recorded as a firing, at most once a period,
// and joins the period's requests like any other.
func (w *work) targetOutcome(t api.Trigger, src api.Source, o trigger.Outcome) error {
	tg := t.Target
	desired := w.s.group.DesiredQuantity
	in := engine.TargetInput{
		Value: tg.Value, Tolerance: deref(tg.Tolerance, api.DefaultTargetTolerance), Observed: o.Target.Mean,
		Current: desired,
	}
	// A metric the nodes report themselves (samples whose node_id is a
	// node of the group) has missing nodes: those ready that sent none
	// over the window, which the HPA's rule counts at the target on a
	// scale-in and at 0 on a scale-out. A group-wide metric (a Prometheus
	// query, samples without a node or naming none of the group's) is
	// over every ready node.
	seen := w.c.windows.Group(w.gs.id).LastSeen(tg.Metric)
	perNode := false
	for id := range w.s.nodes {
		if _, ok := seen[id]; ok {
			perNode = true
			break
		}
	}
	for _, n := range w.s.nodes {
		switch {
		case n.State == api.NodeLaunching:
			in.Unready++
		case n.State != api.NodeReady:
		case !perNode || seen[n.ID].After(o.Target.Since):
			in.Ready++
		default:
			in.Missing++
		}
	}
	p := engine.ProposeTarget(in)
	st := engine.Stabilize(w.now, o.Target.ScaleInStabilization, desired, p.Quantity, w.gs.targetRecs[t.ID])
	if w.gs.targetRecs == nil {
		w.gs.targetRecs = make(map[string][]engine.Recommendation)
	}
	w.gs.targetRecs[t.ID] = st.Keep
	if st.Quantity == desired || w.s.reportedIn(t.ID, api.EventTriggerFired) {
		return nil
	}
	req := t.Request
	q := st.Quantity
	e := api.Event{
		Type: api.EventTriggerFired, Source: src, Request: &req, ProposedQuantity: &q,
		Immediate: t.Immediate, Priority: t.Priority,
		Observed: causality.TargetObserved(*tg, in, p) + w.sourcesNote(o.Metrics),
	}
	if st.HeldBy != nil {
		e.Notes = append(e.Notes, causality.StabilizationHeld(cmp.Or(tg.ScaleInStabilization, api.DefaultScaleInStabilization), p.Quantity, *st.HeldBy))
	}
	return w.fire(e)
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// missingReason is why a trigger with missing data was not evaluated,
// naming the failing queries of metric sources with their errors.
func (w *work) missingReason(o trigger.Outcome) string {
	var (
		failed []causality.FailedQuery
		other  []string
	)
	for _, m := range o.MissingData {
		if f, ok := w.gs.sourceFailures[m]; ok {
			failed = append(failed, causality.FailedQuery{Metric: m, Query: f.query, Err: f.err})
		} else {
			other = append(other, m)
		}
	}
	if len(failed) == 0 {
		return causality.NoSamples(o.MissingData, o.Observed)
	}
	return causality.SourceFailed(failed, other, o.Observed)
}

// sourcesNote names the queries of the metric sources among metrics.
func (w *work) sourcesNote(metrics []string) string {
	qs := w.gs.sourceQueries()
	if len(qs) == 0 {
		return ""
	}
	var used []string
	for _, m := range metrics {
		if q, ok := qs[m]; ok {
			used = append(used, q)
		}
	}
	return causality.SourcesNote(used)
}

func (w *work) admitInput() engine.AdmitInput {
	in := engine.AdmitInput{
		Config: w.s.config(), Now: w.now, Nodes: w.s.nodeList(),
		ChangeLabels: make(map[string]string),
	}
	for id, ch := range w.s.open {
		in.ChangeLabels[id] = ch.Label
	}
	if l := w.s.lastOut; l.EndedAt != nil {
		in.LastScaleOutEnd, in.LastScaleOutID, in.LastScaleOutName = *l.EndedAt, l.ID, l.Label
	}
	for _, ch := range w.s.openList() {
		if ch.Type == api.ChangeRemoveNodes {
			in.Removals = append(in.Removals, ch)
		}
	}
	in.Requests = w.s.requests
	return in
}
