package trigger

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// Spec is the evaluable part of a trigger, checked.
type Spec struct {
	ID        string
	GroupID   string
	Condition *Condition
	For       time.Duration
	Schedule  Schedule
	forText   string
	// Target, for a target-tracking trigger, is the metric and window
	// whose mean it reports every pass; it has no condition, for or
	// schedule (Condition is then the always-true empty one).
	Target *TargetSpec
}

// TargetSpec is what a target-tracking trigger reads.
type TargetSpec struct {
	Metric               string
	Window               time.Duration
	ScaleInStabilization time.Duration
	text                 string // "1m"
}

// ParseTrigger checks the condition, for and schedule of t. An error is a
// *FieldError naming the field ("condition", "for" or "schedule"); for the
// condition it wraps a *CompileError.
func ParseTrigger(t api.Trigger) (Spec, error) {
	s := Spec{ID: t.ID, GroupID: t.GroupID}
	if t.Target != nil {
		return parseTarget(s, t)
	}
	if strings.TrimSpace(t.Schedule) != "" {
		sched, err := ParseSchedule(t.Schedule)
		if err != nil {
			return Spec{}, &FieldError{Field: "schedule", Err: err}
		}
		s.Schedule = sched
	}
	var err error
	if s.Schedule.IsZero() {
		s.Condition, err = Compile(t.Condition)
	} else {
		s.Condition, err = CompileScheduled(t.Condition)
	}
	if err != nil {
		return Spec{}, &FieldError{Field: "condition", Err: err}
	}
	if s.For, err = api.ParseTriggerFor(t.For); err != nil {
		return Spec{}, &FieldError{Field: "for", Err: err}
	}
	s.forText = strings.TrimSpace(t.For)
	return s, nil
}

// parseTarget checks a target-tracking trigger. Its condition, when
// given, gates the target: the target proposes only while it holds
// (empty, or pesd's "true", always). A for or schedule would have nothing
// to add that the tolerance band and the stabilization window do not.
func parseTarget(s Spec, t api.Trigger) (Spec, error) {
	for _, f := range []struct{ name, v string }{{"for", t.For}, {"schedule", t.Schedule}} {
		if strings.TrimSpace(f.v) != "" {
			return Spec{}, &FieldError{Field: f.name, Err: errors.New("must be empty for a target-tracking trigger: the target proposes from its metric every period")}
		}
	}
	var err error
	if s.Condition, err = CompileScheduled(t.Condition); err != nil {
		return Spec{}, &FieldError{Field: "condition", Err: err}
	}
	if t.Target.Metric == "" {
		return Spec{}, &FieldError{Field: "target.metric", Err: errors.New("is required")}
	}
	w := cmp.Or(strings.TrimSpace(t.Target.Window), api.DefaultTargetWindow)
	d, stab, err := api.ParseTargetDurations(*t.Target)
	if ae := (*api.Error)(nil); errors.As(err, &ae) {
		return Spec{}, &FieldError{Field: ae.Field, Err: errors.New(ae.Message)}
	}
	if d <= 0 || d > MaxWindowLimit {
		return Spec{}, &FieldError{Field: "target.window", Err: fmt.Errorf("must be more than 0 and at most %s; got %q", MaxWindowLimit, w)}
	}
	s.Target = &TargetSpec{Metric: t.Target.Metric, Window: d, ScaleInStabilization: stab, text: w}
	return s, nil
}

// same reports whether two specs evaluate alike, so that state carries over
// an update that only changed, say, the request form.
func (s Spec) same(o Spec) bool {
	return s.GroupID == o.GroupID && s.Condition.String() == o.Condition.String() &&
		s.For == o.For && s.Schedule.String() == o.Schedule.String() &&
		(s.Target == nil) == (o.Target == nil) && (s.Target == nil || *s.Target == *o.Target)
}

// Outcome is what one trigger's evaluation asks the caller to record.
type Outcome struct {
	TriggerID string
	// Fired: the trigger is satisfied (for its whole "for"), and this is
	// its first firing in the period. The caller records a trigger_fired
	// event, or a suppressed one during lockdown or cooldown: either way
	// the firing counts for the period.
	Fired bool
	// Observed lists the function values ("avg(cpu_utilization, 2m) = 87.3").
	Observed string
	// Text says why it fired, for the event description:
	// "avg cpu_utilization 87.3 > 80 over 2m for 5m".
	Text string
	// HeldFor is how long the condition has held (0 on the first pass).
	HeldFor time.Duration
	// MissingData names the metrics without samples; set only on the first
	// such pass of an outage, so the event log says it once.
	MissingData []string
	// Err is a run-time failure of the expression, reported like missing
	// data: once per outage.
	Err error
	// Metrics are the metrics a firing read (the condition's, or the
	// target's); shared, not to be modified.
	Metrics []string
	// Returned: the first pass with data (and without error) after an
	// outage; Observed then says what the condition sees again. It may
	// come with a firing.
	Returned bool
	// Target is set on every pass of a target-tracking trigger that has
	// data: the metric's mean over the target's window. Fired is then
	// true too; the caller computes the proposal (engine.TargetProposal).
	Target *TargetObservation
}

// TargetObservation is what a target-tracking trigger observed.
type TargetObservation struct {
	Metric string
	Mean   float64
	Window string
	// Since is where the window began: the nodes that reported since
	// then are those the mean is over.
	Since time.Time
	// ScaleInStabilization is the trigger's, parsed when it was compiled.
	ScaleInStabilization time.Duration
}

// Evaluator keeps the state of triggers between evaluation passes, keyed
// by trigger ID:
//
//   - since: when the current run of satisfied passes began ("for" is
//     measured from it; a pass that is false, misses data or fails resets
//     it);
//   - the period of the last firing (at most one per aggregation period
//     while the condition stays satisfied; a new period re-arms it);
//   - whether the trigger is in an outage (missing data or a failing
//     expression), reported when it begins and when it ends;
//   - the time of the previous pass, to tell whether the schedule ticked
//     since.
//
// A scheduled trigger is evaluated only in passes where its schedule
// ticked since the previous pass (missed ticks while pesd was down are not
// caught up). With a "for" as well, its condition is evaluated in every
// pass, so that "held for" is measured continuously, and it fires only at
// a tick.
//
// It is safe for concurrent use; passes over different groups may run in
// parallel.
type Evaluator struct {
	scratch sync.Pool // *evalScratch, so passes do not allocate per trigger

	mu     sync.RWMutex
	byID   map[string]*entry
	groups map[string]*groupEntries
}

type groupEntries struct {
	mu      sync.Mutex
	entries []*entry // sorted by trigger ID
}

// entry is one trigger; its state fields are guarded by its group's mu.
type entry struct {
	spec        Spec
	since       time.Time
	firedPeriod string
	// missing: the last pass could not decide (missing data or an
	// error), and that was reported; the next pass that can says so.
	missing  bool
	lastPass time.Time
}

// NewEvaluator returns an Evaluator without triggers.
func NewEvaluator() *Evaluator {
	return &Evaluator{byID: map[string]*entry{}, groups: map[string]*groupEntries{}}
}

// Set adds or updates a trigger as of now (the time its schedule is
// watched from). A disabled trigger is removed. An update that keeps the
// condition, for and schedule keeps the state; any other resets it.
func (e *Evaluator) Set(t api.Trigger, now time.Time) error {
	if t.ID == "" {
		return &FieldError{Field: "id", Err: errors.New("is empty")}
	}
	if !t.Enabled {
		e.Remove(t.ID)
		return nil
	}
	spec, err := ParseTrigger(t)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if old, ok := e.byID[t.ID]; ok {
		g := e.groups[old.spec.GroupID]
		g.mu.Lock()
		if old.spec.same(spec) {
			old.spec = spec
			g.mu.Unlock()
			return nil
		}
		g.mu.Unlock()
		e.removeLocked(t.ID)
	}
	en := &entry{spec: spec, lastPass: now}
	e.byID[t.ID] = en
	g := e.groups[spec.GroupID]
	if g == nil {
		g = &groupEntries{}
		e.groups[spec.GroupID] = g
	}
	g.mu.Lock()
	i, _ := slices.BinarySearchFunc(g.entries, t.ID, func(x *entry, id string) int { return strings.Compare(x.spec.ID, id) })
	g.entries = slices.Insert(g.entries, i, en)
	g.mu.Unlock()
	return nil
}

// MarkOutage sets a trigger as in an outage already reported (a restarted
// pesd read it from the event log): the next pass reports data returning,
// not missing. An unknown ID does nothing.
func (e *Evaluator) MarkOutage(triggerID string) {
	e.mu.RLock()
	en := e.byID[triggerID]
	var g *groupEntries
	if en != nil {
		g = e.groups[en.spec.GroupID]
	}
	e.mu.RUnlock()
	if g == nil {
		return
	}
	g.mu.Lock()
	en.missing = true
	g.mu.Unlock()
}

// Remove forgets a trigger. Removing an unknown ID does nothing.
func (e *Evaluator) Remove(triggerID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.removeLocked(triggerID)
}

func (e *Evaluator) removeLocked(id string) {
	en, ok := e.byID[id]
	if !ok {
		return
	}
	delete(e.byID, id)
	g := e.groups[en.spec.GroupID]
	g.mu.Lock()
	g.entries = slices.DeleteFunc(g.entries, func(x *entry) bool { return x == en })
	empty := len(g.entries) == 0
	g.mu.Unlock()
	if empty {
		delete(e.groups, en.spec.GroupID)
	}
}

// RemoveGroup forgets every trigger of a group.
func (e *Evaluator) RemoveGroup(groupID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	g, ok := e.groups[groupID]
	if !ok {
		return
	}
	g.mu.Lock()
	for _, en := range g.entries {
		delete(e.byID, en.spec.ID)
	}
	g.mu.Unlock()
	delete(e.groups, groupID)
}

// MaxWindow returns the longest window any trigger reads: the metric
// retention must be at least that.
func (e *Evaluator) MaxWindow() time.Duration {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var d time.Duration
	for _, en := range e.byID {
		d = max(d, en.spec.Condition.MaxWindow())
		if t := en.spec.Target; t != nil {
			d = max(d, t.Window)
		}
	}
	return d
}

// Len returns the number of triggers evaluated.
func (e *Evaluator) Len() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return len(e.byID)
}

// Evaluate runs one evaluation pass over a group's triggers at now, in
// the aggregation period periodID, reading samples from src. It returns
// an Outcome only for triggers that fired or have a problem to report, in
// trigger ID order.
func (e *Evaluator) Evaluate(now time.Time, groupID, periodID string, src Source) []Outcome {
	e.mu.RLock()
	g := e.groups[groupID]
	e.mu.RUnlock()
	if g == nil {
		return nil
	}
	s, _ := e.scratch.Get().(*evalScratch)
	if s == nil {
		s = new(evalScratch)
	}
	defer e.scratch.Put(s)
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []Outcome
	for _, en := range g.entries {
		if o, ok := en.evaluate(now, periodID, src, s); ok {
			out = append(out, o)
		}
	}
	return out
}

func (en *entry) evaluate(now time.Time, periodID string, src Source, s *evalScratch) (Outcome, bool) {
	sp := &en.spec
	scheduled := !sp.Schedule.IsZero()
	ticked := scheduled && sp.Schedule.Ticked(en.lastPass, now)
	if now.After(en.lastPass) {
		en.lastPass = now
	}
	if scheduled && !ticked && sp.For == 0 {
		return Outcome{}, false
	}

	res := sp.Condition.eval(now, src, s)
	var target *TargetObservation
	if t := sp.Target; t != nil && res.Satisfied {
		c := call{kind: fnAvg, metric: t.Metric, window: t.Window}
		if v, ok := aggregate(&c, now, src, &s.samples); ok {
			target = &TargetObservation{Metric: t.Metric, Mean: v, Window: t.text, Since: now.Add(-t.Window),
				ScaleInStabilization: t.ScaleInStabilization}
		} else {
			res.Satisfied, res.Missing = false, []string{t.Metric}
		}
	}
	if len(res.Missing) > 0 || res.Err != nil {
		en.since = time.Time{}
		return en.outage(res, s)
	}
	returned := en.missing
	en.missing = false
	var (
		o  Outcome
		ok bool
	)
	switch {
	case !res.Satisfied:
		en.since = time.Time{}
	case target != nil:
		// Every pass: the stabilization window needs every proposal,
		// and the caller decides whether it changes anything.
		o, ok = Outcome{TriggerID: sp.ID, Fired: true, Target: target, Metrics: []string{target.Metric},
			Observed: fmt.Sprintf("avg(%s, %s) = %s", target.Metric, target.Window, formatValue(target.Mean))}, true
	default:
		o, ok = en.fire(now, periodID, res, scheduled, ticked, s)
	}
	if returned {
		if !ok {
			sp.Condition.describe(&res, s)
			o = Outcome{TriggerID: sp.ID, Observed: res.Observed}
		}
		o.Returned, ok = true, true
	}
	return o, ok
}

// fire decides whether a satisfied condition fires: it has held for its
// "for", at a tick of its schedule, and not yet in this period.
func (en *entry) fire(now time.Time, periodID string, res Result, scheduled, ticked bool, s *evalScratch) (Outcome, bool) {
	sp := &en.spec
	// Without a "for", a scheduled trigger is only looked at on ticks: how
	// long it held between them is unknown.
	if en.since.IsZero() || (scheduled && sp.For == 0) {
		en.since = now
	}
	held := now.Sub(en.since)
	if held < sp.For || en.firedPeriod == periodID || (scheduled && !ticked) {
		return Outcome{}, false
	}
	en.firedPeriod = periodID
	sp.Condition.describe(&res, s)
	return Outcome{TriggerID: sp.ID, Fired: true, Observed: res.Observed, Text: sp.describe(res), HeldFor: held,
		Metrics: sp.Condition.metrics}, true
}

// outage reports a condition that cannot be decided, for want of data or
// because it failed to evaluate: once when the outage begins, not at every
// pass (a trigger over a metric that stopped would otherwise fill the
// event log, 1,440 times a day on a 60s period).
func (en *entry) outage(res Result, s *evalScratch) (Outcome, bool) {
	if en.missing {
		return Outcome{}, false
	}
	en.missing = true
	en.spec.Condition.describe(&res, s)
	o := Outcome{TriggerID: en.spec.ID, Observed: res.Observed, MissingData: res.Missing, Err: res.Err}
	if t := en.spec.Target; t != nil && res.Observed == "" {
		o.Observed = fmt.Sprintf("avg(%s, %s) = no data", t.Metric, t.text)
	}
	return o, true
}

// describe says why a trigger fired.
func (sp *Spec) describe(res Result) string {
	var parts []string
	if res.Text != "" {
		parts = append(parts, res.Text)
	}
	if sp.For > 0 {
		parts = append(parts, "for "+sp.forText)
	}
	if !sp.Schedule.IsZero() {
		parts = append(parts, fmt.Sprintf("at schedule %q", sp.Schedule.String()))
	}
	return strings.Join(parts, " ")
}
