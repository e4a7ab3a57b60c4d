package controller

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
	"github.com/pes-project/terraform-provider-pes/reconciler/trigger"
)

// Metric sources: the Prometheus queries of groups' metric_sources, run by
// pesd at every evaluation pass. A value joins the group's windows like a
// pushed sample, and is stored like one (storePulled), a minute's worth
// at a time; a failing or empty query hides the metric from that
// pass's evaluation, so conditions and targets over it are not satisfied
// and the outage is recorded once (trigger.Evaluator), with the query's
// error.

// Defaults of the source options.
const (
	DefaultQueryConcurrency = 16
	DefaultQueryTimeout     = 5 * time.Second
)

// SourceOptions configures metric sources.
type SourceOptions struct {
	// PrometheusURL is the server of sources that name no address.
	PrometheusURL string
	// QueryTimeout bounds each query (default DefaultQueryTimeout, and at
	// most the evaluation interval).
	QueryTimeout time.Duration
	// QueryConcurrency bounds the queries in flight (default
	// DefaultQueryConcurrency).
	QueryConcurrency int
	// Client runs the queries (pesd serve gives the Prometheus client).
	// Without one, a group's metric sources fail, said once per outage.
	Client Querier
}

// Querier runs a metric source's queries against its server: one instant
// query at each evaluation, and range queries for backtests (the values
// at start, start+step, … up to end, in time order). It is declared here
// so the controller needs no HTTP client of its own.
type Querier interface {
	Query(ctx context.Context, address, query string, at time.Time) (float64, error)
	QueryRange(ctx context.Context, address, query string, start, end time.Time, step time.Duration) ([]time.Time, []float64, error)
}

var errNoQuerier = errors.New("this pesd has no metric source client")

// sourceFailure is a metric source's failing query, for the event that
// records the outage.
type sourceFailure struct {
	query string
	err   error
}

// sourceQuery is one query of one group's pass.
type sourceQuery struct {
	gs      *groupState
	name    string
	address string
	query   string
	value   float64
	err     error
}

// querySources runs the metric sources of groups at now and records the
// results in their windows and failures. The queries run without group
// locks: a slow Prometheus must not hold the API up.
func (c *Controller) querySources(ctx context.Context, groups []*groupState, now time.Time) {
	var qs []*sourceQuery
	for _, gs := range groups {
		gs.mu.Lock()
		g := gs.st.group
		gs.mu.Unlock()
		if g.Status != api.GroupActive {
			continue
		}
		for _, s := range g.MetricSources {
			if s.Prometheus == nil {
				continue
			}
			qs = append(qs, &sourceQuery{gs: gs, name: s.Name, address: c.sourceAddress(s.Prometheus), query: s.Prometheus.Query})
		}
	}
	if len(qs) == 0 {
		return
	}
	timeout := min(c.opts.Sources.QueryTimeout, c.opts.EvaluationInterval)
	sem := make(chan struct{}, c.opts.Sources.QueryConcurrency)
	var wg sync.WaitGroup
	for _, q := range qs {
		if q.address == "" {
			q.err = errNoPrometheusURL
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			qctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			if c.opts.Sources.Client == nil {
				q.err = errNoQuerier
			} else {
				q.value, q.err = c.opts.Sources.Client.Query(qctx, q.address, q.query, now)
			}
			c.counts.queries.Add(1)
		})
	}
	wg.Wait()

	byGroup := make(map[*groupState][]*sourceQuery)
	for _, q := range qs {
		byGroup[q.gs] = append(byGroup[q.gs], q)
	}
	for gs, qs := range byGroup {
		// Nil unless a query failed: every evaluation runs this for each
		// group with sources, and failures are rare.
		var failed map[string]sourceFailure
		var samples []store.StoredSample
		for _, q := range qs {
			if q.err != nil {
				if failed == nil {
					failed = make(map[string]sourceFailure)
				}
				failed[q.name] = sourceFailure{query: q.query, err: q.err}
				continue
			}
			samples = append(samples, store.StoredSample{Name: q.name, Value: q.value, Time: now})
		}
		c.addStored(gs.id, samples)
		c.pulled.add(gs.id, samples, now)
		gs.mu.Lock()
		gs.sourceFailures = failed
		gs.mu.Unlock()
	}
}

// pulledFlushAfter is how long the samples of metric sources wait in
// memory before they are stored: a row of the store holds a series'
// samples of one write, so a minute's in one row instead of one a pass.
// A crash loses at most this much of them; Prometheus still has them.
const pulledFlushAfter = time.Minute

// pulledSamples holds the samples of metric sources not yet stored.
type pulledSamples struct {
	mu      sync.Mutex
	byGroup map[string][]store.StoredSample
	oldest  time.Time // of the samples held; zero when none
}

func (p *pulledSamples) add(groupID string, ss []store.StoredSample, now time.Time) {
	if len(ss) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byGroup == nil {
		p.byGroup = make(map[string][]store.StoredSample)
	}
	p.byGroup[groupID] = append(p.byGroup[groupID], ss...)
	if p.oldest.IsZero() {
		p.oldest = now
	}
}

// take empties the buffer and returns what it held: all of it, or,
// without all, nothing until its oldest sample is pulledFlushAfter old.
func (p *pulledSamples) take(now time.Time, all bool) map[string][]store.StoredSample {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.oldest.IsZero() || !all && now.Sub(p.oldest) < pulledFlushAfter {
		return nil
	}
	out := p.byGroup
	p.byGroup, p.oldest = nil, time.Time{}
	return out
}

// storePulled writes the samples of metric sources held in memory, as
// pushed ones are stored (storeSamples: one transaction, a row per
// series of each group), once they are due or, with all, at once. It
// writes on the API's lane: the loop's writes go first.
func (c *Controller) storePulled(ctx context.Context, now time.Time, all bool) error {
	byGroup := c.pulled.take(now, all)
	if len(byGroup) == 0 {
		return nil
	}
	if err := c.storeSamples(ctx, byGroup); err != nil {
		return fmt.Errorf("store the samples of metric sources: %w", err)
	}
	return nil
}

// sourceAddress is the server a Prometheus source queries.
func (c *Controller) sourceAddress(p *api.PrometheusSource) string {
	if p.Address != "" {
		return p.Address
	}
	return c.opts.Sources.PrometheusURL
}

// queryRange runs a source's query over [start, end] at step (a
// backtest's replay).
func (c *Controller) queryRange(ctx context.Context, p *api.PrometheusSource, start, end time.Time, step time.Duration) ([]time.Time, []float64, error) {
	addr := c.sourceAddress(p)
	switch {
	case addr == "":
		return nil, nil, errNoPrometheusURL
	case c.opts.Sources.Client == nil:
		return nil, nil, errNoQuerier
	}
	return c.opts.Sources.Client.QueryRange(ctx, addr, p.Query, start, end, step)
}

type noPrometheusURL struct{}

func (noPrometheusURL) Error() string {
	return "the source names no address and pesd runs without --prometheus-url"
}

var errNoPrometheusURL error = noPrometheusURL{}

// hidingSource is a group's windows without the metrics whose source
// failed this pass: their older samples must not keep a condition true.
type hidingSource struct {
	trigger.Source
	hidden map[string]sourceFailure
}

func (h hidingSource) Scan(metric string, from, to time.Time, fn func(times []int64, values []float64)) {
	if _, ok := h.hidden[metric]; !ok {
		h.Source.Scan(metric, from, to, fn)
	}
}

func (h hidingSource) Last(metric string, at time.Time) (float64, bool) {
	if _, ok := h.hidden[metric]; ok {
		return 0, false
	}
	return h.Source.Last(metric, at)
}

// evalSource is what a group's triggers are evaluated against. The caller
// holds gs.mu.
func (c *Controller) evalSource(gs *groupState) trigger.Source {
	v := c.windows.Group(gs.id)
	if len(gs.sourceFailures) == 0 {
		return v
	}
	return hidingSource{Source: v, hidden: gs.sourceFailures}
}

// sourceQueries maps the group's Prometheus-sourced metric names to their
// queries. The caller holds gs.mu.
func (gs *groupState) sourceQueries() map[string]string {
	srcs := gs.st.group.MetricSources
	if len(srcs) == 0 {
		return nil
	}
	m := make(map[string]string, len(srcs))
	for _, s := range srcs {
		if s.Prometheus != nil {
			m[s.Name] = s.Prometheus.Query
		}
	}
	return m
}
