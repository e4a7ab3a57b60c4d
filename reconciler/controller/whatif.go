package controller

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
	"github.com/pes-project/terraform-provider-pes/reconciler/cost"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/sim"
	"github.com/pes-project/terraform-provider-pes/reconciler/forecast"
	"github.com/pes-project/terraform-provider-pes/reconciler/history"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlite"
	"github.com/pes-project/terraform-provider-pes/reconciler/window"
)

// WhatIf backtests a proposal (POST /v1/groups/{id}/whatif): the group's
// recorded samples of the window are replayed through a controller of
// its own — the same engine, evaluator and harmonization — on the sim
// driver and a fake clock, over a throwaway SQLite file, so nothing is
// written to the group's record. The replayed nodes boot in the time the
// group's own nodes took.
func (c *Controller) WhatIf(ctx context.Context, groupID string, req api.WhatIfRequest) (api.WhatIf, error) {
	since, until, err := c.whatIfWindow(req)
	if err != nil {
		return api.WhatIf{}, err
	}
	g, err := c.store.GetGroup(ctx, groupID)
	if err != nil {
		return api.WhatIf{}, err
	}
	cfg := g.GroupConfig
	if req.Group != nil {
		if cfg, err = api.ApplyGroupPatch(cfg, *req.Group); err != nil {
			return api.WhatIf{}, prefixField("group.", err)
		}
	}
	specs := req.Triggers
	if specs == nil {
		ts, err := c.store.ListTriggers(ctx, g.ID)
		if err != nil {
			return api.WhatIf{}, fmt.Errorf("whatif: triggers: %w", err)
		}
		for _, t := range ts {
			specs = append(specs, triggerSpec(t))
		}
	}
	rec, err := c.recorded(ctx, g, since, until)
	if err != nil {
		return api.WhatIf{}, err
	}
	boot := bootTime(rec.nodes)
	// The replay starts where the real period holding since started, with
	// the quantity it started with, so its periods fall as the real ones.
	start, quantity := since, g.DesiredQuantity
	if p := periodAt(rec.periods, since); p != nil {
		start, quantity = p.StartedAt, p.DesiredBefore
	} else if p := lastBefore(rec.periods, since); p != nil {
		quantity = p.DesiredAfter
	}
	// Samples from before the window fill the triggers' windows; those
	// of metric sources still in memory are stored first.
	if err := c.storePulled(ctx, c.clock.Now(), true); err != nil {
		return api.WhatIf{}, fmt.Errorf("whatif: %w", err)
	}
	samples, err := c.store.Samples(ctx, g.ID, start.Add(-c.windows.Retention()))
	if err != nil {
		return api.WhatIf{}, fmt.Errorf("whatif: samples: %w", err)
	}
	i := slices.IndexFunc(samples, func(s store.StoredSample) bool { return !s.Time.Before(until) })
	if i >= 0 {
		samples = samples[:i]
	}
	samples, queried, err := c.sourceRanges(ctx, cfg.MetricSources, samples, start.Add(-c.windows.Retention()), start, until)
	if err != nil {
		return api.WhatIf{}, err
	}

	dir, err := os.MkdirTemp("", "pes-whatif-")
	if err != nil {
		return api.WhatIf{}, fmt.Errorf("whatif: %w", err)
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.OpenScratch(filepath.Join(dir, "whatif.db"))
	if err != nil {
		return api.WhatIf{}, fmt.Errorf("whatif: %w", err)
	}
	defer st.Close()
	clk := clock.NewFake(start)
	gov, err := c.replayGovernor(cfg.Predictive, st)
	if err != nil {
		return api.WhatIf{}, err
	}
	if gov == nil {
		// Nothing reads the replay's store while it writes (a governor
		// would, inside a harmonization), so its updates need not commit
		// one by one: they commit when it is read.
		st.DeferCommits()
	}
	r, err := New(Options{Store: st, Clock: clk, Drivers: map[string]driver.Driver{api.DriverSim: sim.New(clk)},
		EvaluationInterval: c.opts.EvaluationInterval, LaunchWindow: c.opts.LaunchWindow,
		MetricRetention: c.opts.MetricRetention, MaxSeriesPerGroup: c.opts.MaxSeriesPerGroup,
		DataDir: dir, MetricHistory: c.opts.MetricHistory, Governor: gov, NotifyAllow: c.opts.NotifyAllow,
		observeOnPush: true, backtest: true})
	if err != nil {
		return api.WhatIf{}, fmt.Errorf("whatif: %w", err)
	}
	defer r.Close()
	cfg.Driver, cfg.Kubernetes, cfg.MetricSources = api.DriverSim, nil, nil
	cfg.Sim = &api.SimConfig{BootTime: api.FormatDuration(boot)}
	cfg.DesiredQuantity = quantity
	rg, err := r.CreateGroup(ctx, cfg)
	if err != nil {
		// The group's own settings passed: what fails is the proposal's.
		return api.WhatIf{}, prefixField("group.", err)
	}
	for i, s := range specs {
		if _, err := r.CreateTrigger(ctx, rg.ID, s); err != nil {
			return api.WhatIf{}, prefixField(fmt.Sprintf("triggers[%d].", i), err)
		}
	}
	if gov != nil {
		if err := c.seedQuantityHistory(ctx, st, g.ID, rg.ID, cfg.Predictive, start); err != nil {
			return api.WhatIf{}, err
		}
	}
	// What the group's creation recorded stands for the capacity the
	// group already had: it is not the proposal's doing.
	before, err := listChanges(ctx, st, store.ChangeFilter{GroupID: rg.ID})
	if err != nil {
		return api.WhatIf{}, err
	}
	skip := map[string]bool{}
	for _, ch := range before {
		skip[ch.ID] = true
	}
	if err := r.replay(ctx, clk, rg.ID, samples, until); err != nil {
		return api.WhatIf{}, fmt.Errorf("whatif: replay: %w", err)
	}

	out := api.WhatIf{Since: since, Until: until, BootTime: api.FormatDuration(boot), Samples: len(samples), Queried: queried,
		Periods: []api.Period{}, Changes: []api.ChangeDetail{}, Events: []api.Event{}}
	ps, err := listPeriods(ctx, st, rg.ID)
	if err != nil {
		return api.WhatIf{}, err
	}
	out.Periods = append(out.Periods, endedIn(ps, since, until)...)
	changes, err := listChanges(ctx, st, store.ChangeFilter{GroupID: rg.ID})
	if err != nil {
		return api.WhatIf{}, err
	}
	changes = slices.DeleteFunc(changes, func(ch api.Change) bool { return skip[ch.ID] || !inWindow(ch.StartedAt, since, until) })
	if out.Changes, err = history.New(st).ExplainChanges(ctx, changes); err != nil {
		return api.WhatIf{}, err
	}
	events, err := listEvents(ctx, st, store.EventFilter{GroupID: rg.ID, Since: since, Until: until})
	if err != nil {
		return api.WhatIf{}, err
	}
	out.Events = events
	out.Replayed = summarize(quantity, changes, out.Periods, since, until)
	out.Replayed.Notifications = notifications(events)
	out.Recorded = summarize(rec.quantityAt(since, g.DesiredQuantity), rec.changes, endedIn(rec.periods, since, until), since, until)
	out.Recorded.Notifications = rec.notifications
	// Both are priced at the group's real rates: the replayed nodes ran
	// when the recorded ones did, at the prices then in force.
	rates := cost.ParseRates(g.BillingHistory)
	if err := priceSummary(ctx, &out.Replayed, st, rg.ID, rates, since, until, until); err != nil {
		return api.WhatIf{}, err
	}
	if err := priceSummary(ctx, &out.Recorded, c.store, g.ID, rates, since, until, c.clock.Now()); err != nil {
		return api.WhatIf{}, err
	}
	return out, nil
}

// priceSummary sets s's cost: the money of the group's node time over
// [since, until) at rates, as GET /v1/groups/{id}/costs totals it (live
// nodes count until now). Without billing it leaves s unpriced.
func priceSummary(ctx context.Context, s *api.WhatIfSummary, r store.Reader, groupID string, rates cost.Rates, since, until, now time.Time) error {
	currency := rates.Currency()
	if currency == "" {
		return nil
	}
	nodes, err := r.NodeTimes(ctx, groupID, since.Add(-rates.Slack()), until)
	if err != nil {
		return fmt.Errorf("whatif: nodes of group %s: %w", groupID, err)
	}
	_, micros := cost.Total(nodes, rates, now, since, until)
	s.Cost, s.Currency = api.FormatMoney(micros), currency
	return nil
}

// replayGovernor is the Governor of a replay over st: nil when p does
// not govern or this pesd governs nothing (live decisions are then not
// governed either).
func (c *Controller) replayGovernor(p *api.Predictive, st store.Reader) (Governor, error) {
	if !governed(p) || c.opts.Governor == nil {
		return nil, nil
	}
	if c.opts.ReplayGovernor == nil {
		return nil, &api.Error{Code: api.CodeConflict, Field: "group.predictive",
			Message: "this pesd cannot govern a backtest's replay; replay with predictive mode off"}
	}
	return c.opts.ReplayGovernor(st), nil
}

// seedQuantityHistory gives the replay's group the real group's quantity
// history before start, as far back as its forecast reads, so the replay
// is governed by the forecast the group had then; from start on, the
// replay records its own.
func (c *Controller) seedQuantityHistory(ctx context.Context, st store.Store, groupID, replayID string, p *api.Predictive, start time.Time) error {
	fc, err := forecast.ConfigFrom(*p)
	if err != nil {
		return nil // the replay's decision records say why it is not governed
	}
	pts, err := c.store.QuantityHistory(ctx, groupID, start.Add(-fc.History))
	if err != nil {
		return fmt.Errorf("whatif: quantity history: %w", err)
	}
	pts = slices.DeleteFunc(pts, func(q store.QuantityPoint) bool { return !q.Time.Before(start) })
	if len(pts) == 0 {
		return nil
	}
	return st.Update(ctx, func(tx store.Tx) error { return tx.InsertQuantityPoints(replayID, pts) })
}

// prefixField makes an error about a field of the proposal name it as a
// field of the request.
func prefixField(prefix string, err error) error {
	var e *api.Error
	if errors.As(err, &e) && e.Field != "" {
		e.Field = prefix + e.Field
	}
	return err
}

// whatIfWindow checks the request's window against the metric history.
func (c *Controller) whatIfWindow(req api.WhatIfRequest) (since, until time.Time, err error) {
	now := c.clock.Now()
	until = now
	if req.Until != nil {
		until = req.Until.UTC()
	}
	if req.Since == nil {
		return since, until, &api.Error{Code: api.CodeInvalid, Field: "since", Message: "required: the start of the window to replay"}
	}
	since = req.Since.UTC()
	if !since.Before(until) {
		return since, until, &api.Error{Code: api.CodeInvalid, Field: "until",
			Message: fmt.Sprintf("must be after since (%s), got %s", since.Format(time.RFC3339), until.Format(time.RFC3339))}
	}
	if h := c.sampleHistory(); until.Sub(since) > h {
		return since, until, &api.Error{Code: api.CodeInvalid, Field: "since",
			Message: fmt.Sprintf("the window (%s) is longer than the metric history pesd keeps (%s, --metric-history)",
				api.FormatDuration(until.Sub(since)), api.FormatDuration(h))}
	}
	if oldest := now.Add(-c.sampleHistory()); since.Before(oldest) {
		return since, until, &api.Error{Code: api.CodeInvalid, Field: "since",
			Message: fmt.Sprintf("before the metric history pesd keeps (%s, --metric-history): the oldest usable time is %s",
				api.FormatDuration(c.sampleHistory()), oldest.Format(time.RFC3339))}
	}
	return since, until, nil
}

// sourceRanges adds to samples (the stored ones of [from, until), in time
// order) the values of Prometheus-sourced metrics where pesd kept none of
// them: from from on, up to the first kept sample of the metric, or until
// when none was kept. They are asked for with range queries at the times
// the replay's passes would query them (start ± whole evaluation
// intervals). It returns the samples and how many it added.
func (c *Controller) sourceRanges(ctx context.Context, srcs []api.MetricSource, samples []store.StoredSample, from, start, until time.Time) ([]store.StoredSample, int, error) {
	step := c.opts.EvaluationInterval
	from = start.Add(-(start.Sub(from) + step - 1) / step * step)
	var added []store.StoredSample
	for _, s := range srcs {
		if s.Prometheus == nil {
			continue
		}
		end := until
		if i := slices.IndexFunc(samples, func(x store.StoredSample) bool { return x.Name == s.Name && x.NodeID == "" }); i >= 0 {
			end = samples[i].Time
		}
		if !from.Before(end) {
			continue
		}
		times, values, err := c.queryRange(ctx, s.Prometheus, from, end.Add(-time.Nanosecond), step)
		if err != nil {
			return nil, 0, &api.Error{Code: api.CodeUnavailable, Message: fmt.Sprintf(
				"the range query of metric source %s (%s) failed: %v", s.Name, s.Prometheus.Query, err)}
		}
		for k, t := range times {
			if !t.Before(from) && t.Before(end) {
				added = append(added, store.StoredSample{Name: s.Name, Time: t, Value: values[k]})
			}
		}
	}
	if len(added) == 0 {
		return samples, 0, nil
	}
	samples = append(samples, added...)
	slices.SortStableFunc(samples, func(a, b store.StoredSample) int { return a.Time.Compare(b.Time) })
	return samples, len(added), nil
}

// replay moves the clock from its start to until, one evaluation
// interval at a time as the loop does, adding the samples of each step to
// the windows before its pass and harmonizing each period when it ends,
// as the loop's timers do. Samples go to the windows only: the replay's
// store needs none of them.
func (c *Controller) replay(ctx context.Context, clk *clock.Fake, groupID string, samples []store.StoredSample, until time.Time) error {
	step := c.opts.EvaluationInterval
	next := clk.Now()
	for now := clk.Now(); now.Before(until); now = clk.Now() {
		next = next.Add(step)
		if next.After(until) {
			next = until
		}
		// Periods that end before the next evaluation end on time.
		for {
			at := c.harmonizationDue(groupID)
			if at.IsZero() || !at.Before(next) || at.Before(clk.Now()) {
				break
			}
			clk.Set(at)
			c.addUpTo(groupID, &samples, at)
			if err := c.pass(ctx, false); err != nil {
				return err
			}
		}
		clk.Set(next)
		c.addUpTo(groupID, &samples, next)
		if err := c.pass(ctx, true); err != nil {
			return err
		}
	}
	return nil
}

// addUpTo adds the samples at or before t to the group's windows and
// drops them from *samples.
func (c *Controller) addUpTo(groupID string, samples *[]store.StoredSample, t time.Time) {
	n := slices.IndexFunc(*samples, func(s store.StoredSample) bool { return s.Time.After(t) })
	if n < 0 {
		n = len(*samples)
	}
	if n == 0 {
		return
	}
	ms := make([]window.Sample, n)
	for i, s := range (*samples)[:n] {
		ms[i] = window.Sample{Name: s.Name, Value: s.Value, NodeID: s.NodeID, Time: s.Time}
	}
	c.windows.Add(groupID, ms...)
	*samples = (*samples)[n:]
}

// harmonizationDue is when the group's open period ends (zero: none).
func (c *Controller) harmonizationDue(groupID string) time.Time {
	c.mu.Lock()
	gs := c.groups[groupID]
	c.mu.Unlock()
	if gs == nil {
		return time.Time{}
	}
	gs.mu.Lock()
	defer gs.mu.Unlock()
	if at := gs.st.group.NextHarmonizationAt; at != nil {
		return *at
	}
	return time.Time{}
}

// triggerSpec is the spec that creates t again.
func triggerSpec(t api.Trigger) api.TriggerSpec {
	s := api.TriggerSpec{Name: &t.Name, Request: t.Request, Notify: t.Notify, Priority: &t.Priority, Immediate: &t.Immediate, Enabled: &t.Enabled}
	if t.Condition != "" {
		s.Condition = &t.Condition
	}
	if t.For != "" {
		s.For = &t.For
	}
	if t.Schedule != "" {
		s.Schedule = &t.Schedule
	}
	return s
}

// record is what the group really recorded around a backtest's window.
type record struct {
	periods []api.Period
	changes []api.Change // started in the window
	// notifications counts the notify firings in the window.
	notifications int
	nodes         []api.Node
}

func (c *Controller) recorded(ctx context.Context, g api.Group, since, until time.Time) (record, error) {
	var r record
	var err error
	if r.periods, err = listPeriods(ctx, c.store, g.ID); err != nil {
		return r, err
	}
	all, err := listChanges(ctx, c.store, store.ChangeFilter{GroupID: g.ID})
	if err != nil {
		return r, err
	}
	for _, ch := range all {
		if inWindow(ch.StartedAt, since, until) {
			r.changes = append(r.changes, ch)
		}
	}
	firings, err := listEvents(ctx, c.store, store.EventFilter{GroupID: g.ID, Since: since, Until: until, Type: api.EventTriggerFired})
	if err != nil {
		return r, fmt.Errorf("whatif: events: %w", err)
	}
	r.notifications = notifications(firings)
	if r.nodes, err = c.store.ListNodes(ctx, g.ID, true); err != nil {
		return r, err
	}
	return r, nil
}

func inWindow(t, since, until time.Time) bool { return !t.Before(since) && t.Before(until) }

// quantityAt is the group's desired quantity at t, from the periods.
func (r record) quantityAt(t time.Time, fallback int) int {
	if p := periodAt(r.periods, t); p != nil {
		return p.DesiredBefore
	}
	if p := lastBefore(r.periods, t); p != nil {
		return p.DesiredAfter
	}
	return fallback
}

// endedIn are the periods of ps that ended in [since, until).
func endedIn(ps []api.Period, since, until time.Time) []api.Period {
	var out []api.Period
	for _, p := range ps {
		if p.EndedAt != nil && inWindow(*p.EndedAt, since, until) {
			out = append(out, p)
		}
	}
	return out
}

// periodAt is the period open at t.
func periodAt(ps []api.Period, t time.Time) *api.Period {
	for i := range ps {
		p := &ps[i]
		if !p.StartedAt.After(t) && (p.EndedAt == nil || p.EndedAt.After(t)) {
			return p
		}
	}
	return nil
}

// lastBefore is the last period that ended at or before t.
func lastBefore(ps []api.Period, t time.Time) *api.Period {
	var last *api.Period
	for i := range ps {
		p := &ps[i]
		if p.EndedAt != nil && !p.EndedAt.After(t) && (last == nil || p.EndedAt.After(*last.EndedAt)) {
			last = p
		}
	}
	return last
}

// bootTime is the median time the group's nodes took from launch to
// ready; 1s when none became ready.
func bootTime(ns []api.Node) time.Duration {
	var ds []time.Duration
	for _, n := range ns {
		if n.ReadyAt != nil && !n.ReadyAt.Before(n.LaunchedAt) {
			ds = append(ds, n.ReadyAt.Sub(n.LaunchedAt).Round(time.Second))
		}
	}
	if len(ds) == 0 {
		return time.Second
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// summarize sums up a record over [since, until): q is the quantity at
// since, changes the changes that started in the window (their quantity
// after applies from their start), periods those that ended in it.
func summarize(q int, changes []api.Change, periods []api.Period, since, until time.Time) api.WhatIfSummary {
	s := api.WhatIfSummary{Changes: len(changes), PeakQuantity: q}
	sorted := slices.SortedFunc(slices.Values(changes), func(a, b api.Change) int { return a.StartedAt.Compare(b.StartedAt) })
	var area float64 // quantity × hours
	at := since
	for _, ch := range sorted {
		area += float64(q) * ch.StartedAt.Sub(at).Hours()
		q, at = ch.QuantityAfter, ch.StartedAt
		s.PeakQuantity = max(s.PeakQuantity, q)
	}
	area += float64(q) * until.Sub(at).Hours()
	s.NodeHours = area
	if h := until.Sub(since).Hours(); h > 0 {
		s.MeanQuantity = area / h
	}
	for _, p := range periods {
		s.Suppressed += len(p.Suppressed)
		s.Ignored += len(p.Ignored)
		for _, cl := range p.Clamps {
			if cl.Kind == api.ClampForecast {
				s.ForecastClamps++
			}
		}
	}
	return s
}

// notifications counts the notify firings among events.
func notifications(events []api.Event) int {
	n := 0
	for _, e := range events {
		if e.NotifyFiring() {
			n++
		}
	}
	return n
}

// listPeriods reads every period of the group.
func listPeriods(ctx context.Context, r store.Reader, groupID string) ([]api.Period, error) {
	var all []api.Period
	p := store.Page{Limit: 1000}
	for {
		ps, next, err := r.ListPeriods(ctx, groupID, p)
		if err != nil {
			return nil, fmt.Errorf("list periods: %w", err)
		}
		all = append(all, ps...)
		if next == "" {
			return all, nil
		}
		p.Token = next
	}
}
