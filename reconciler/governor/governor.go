// Package governor wires predictive governing (SPEC §2.8, seed 001): it
// reads a group's recorded quantities from the store, fits a forecast
// (package forecast) and hands the engine the range of authorized
// quantities for the time of a decision. It implements the controller's
// Governor seam.
//
// Fitting reads up to two weeks of history, so a fitted model is cached
// per group and refitted at most once per forecast interval, or at once
// when the group's predictive settings change. A model is immutable; the
// Governor is safe for concurrent use.
package governor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/causality"
	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
	"github.com/pes-project/terraform-provider-pes/reconciler/engine"
	"github.com/pes-project/terraform-provider-pes/reconciler/forecast"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// ForecastIntervals is how many intervals Forecast returns, from the one
// holding the current time.
const ForecastIntervals = 24

// FitFunc fits a forecast model; forecast.Fit is the one used unless
// WithFit says otherwise.
type FitFunc func(points []forecast.Point, cfg forecast.Config, now time.Time) (*forecast.Model, error)

// Option configures a Governor.
type Option func(*Governor)

// WithClock sets the clock Forecast reads (default clock.Real). Bounds
// takes its time as an argument.
func WithClock(c clock.Clock) Option { return func(g *Governor) { g.clock = c } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(g *Governor) { g.log = l } }

// WithFit replaces forecast.Fit, e.g. to count fits in a test.
func WithFit(f FitFunc) Option { return func(g *Governor) { g.fit = f } }

// Governor turns recorded history into forecast bounds.
type Governor struct {
	st    store.Reader
	clock clock.Clock
	log   *slog.Logger
	fit   FitFunc

	mu     sync.Mutex
	groups map[string]*slot
}

// slot is one group's cached fit. Its own lock serializes fits of that
// group, so concurrent decisions fit once, while other groups go on.
type slot struct {
	mu   sync.Mutex
	last *cached // nil until the first fit
}

// cached is a fit and what it is good for.
type cached struct {
	fit
	// cfg is the configuration of the fit; another one refits.
	cfg forecast.Config
	// The fit serves times in [from, until).
	from, until time.Time
}

// New returns a Governor reading history from st.
func New(st store.Reader, opts ...Option) *Governor {
	g := &Governor{
		st:     st,
		clock:  clock.Real{},
		log:    slog.New(slog.DiscardHandler),
		fit:    forecast.Fit,
		groups: make(map[string]*slot),
	}
	for _, o := range opts {
		o(g)
	}
	return g
}

// Bounds returns the authorized range of quantities for grp at t: nil
// when predictive governing is off, bounds with NotReady set (so nothing
// is clamped and the decision record says why) when there is too little
// history or the settings cannot give a forecast. An error means the
// history could not be read.
func (g *Governor) Bounds(ctx context.Context, grp api.Group, t time.Time) (*engine.Bounds, error) {
	p := grp.Predictive
	if !governing(p) {
		return nil, nil
	}
	b := &engine.Bounds{
		Enforce:            p.Mode == api.PredictiveEnforce,
		GovernInstructions: slices.Contains(p.Governs, api.GovernInstructions),
	}
	f, err := g.fitted(ctx, grp, t)
	if err != nil {
		return nil, err
	}
	if f.model == nil {
		b.NotReady = f.notReady
		return b, nil
	}
	iv := f.model.At(t)
	b.Lower, b.Upper, b.Start, b.End = iv.Lower, iv.Upper, iv.Start, iv.End
	return b, nil
}

// Forecast returns grp's forecast for the next ForecastIntervals
// intervals from now. When there is none it says why (Ready false,
// Reason); when there is, Reason says how it was made.
func (g *Governor) Forecast(ctx context.Context, grp api.Group) (api.Forecast, error) {
	f := api.Forecast{GroupID: grp.ID, Mode: api.PredictiveOff, Intervals: []api.ForecastInterval{}}
	p := grp.Predictive
	if !governing(p) {
		f.Reason = causality.ForecastOff
		return f, nil
	}
	f.Mode = p.Mode
	cfg, err := forecast.ConfigFrom(*p)
	if err != nil {
		f.Confidence, f.History = p.Confidence, p.History
		f.Reason = unusable(err)
		return f, nil
	}
	f.Confidence, f.History = cfg.Confidence, api.FormatDuration(cfg.History)
	now := g.clock.Now()
	fit, err := g.fitted(ctx, grp, now)
	if err != nil {
		return f, err
	}
	if fit.model == nil {
		f.Reason = fit.notReady
		return f, nil
	}
	f.Ready, f.Reason = true, fit.model.Describe()
	for _, iv := range fit.model.Range(now, ForecastIntervals) {
		f.Intervals = append(f.Intervals, api.ForecastInterval{
			Start: iv.Start, End: iv.End, Expected: iv.Expected, Lower: iv.Lower, Upper: iv.Upper,
		})
	}
	return f, nil
}

// Forget drops the cached fit of a group, e.g. once it is deleted or its
// history changed behind the Governor's back.
func (g *Governor) Forget(groupID string) {
	g.mu.Lock()
	delete(g.groups, groupID)
	g.mu.Unlock()
}

// ImportHistory is the package's ImportHistory followed by Forget, so the
// next decision fits the imported past at once.
func (g *Governor) ImportHistory(ctx context.Context, st store.Store, groupID string, r io.Reader) (int, error) {
	n, err := ImportHistory(ctx, st, groupID, r)
	if n > 0 {
		g.Forget(groupID)
	}
	return n, err
}

// fit is what a decision at some time gets: a model, or why not.
type fit struct {
	model    *forecast.Model
	notReady string
}

// fitted returns the cached fit of grp if it serves t under the group's
// current settings, else fits anew.
func (g *Governor) fitted(ctx context.Context, grp api.Group, t time.Time) (fit, error) {
	cfg, err := forecast.ConfigFrom(*grp.Predictive)
	if err != nil {
		// The API checks each setting alone; some only fail together
		// (min_history longer than history). Say so in the record
		// rather than fail the decision.
		return fit{notReady: unusable(err)}, nil
	}

	g.mu.Lock()
	s := g.groups[grp.ID]
	if s == nil {
		s = &slot{}
		g.groups[grp.ID] = s
	}
	g.mu.Unlock()

	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.last; c != nil && c.cfg == cfg && !t.Before(c.from) && t.Before(c.until) {
		return c.fit, nil
	}

	rows, err := g.st.QuantityHistory(ctx, grp.ID, t.Add(-cfg.History))
	if err != nil {
		return fit{}, fmt.Errorf("governor: history of group %s: %w", grp.ID, err)
	}
	points := make([]forecast.Point, len(rows))
	for i, r := range rows {
		points[i] = forecast.Point{Time: r.Time, Value: float64(r.Desired)}
	}
	// Refit when the next interval starts: its history then holds the
	// interval just ended.
	step := int64(cfg.Interval)
	from := time.Unix(0, floorDiv(t.UnixNano(), step)*step).UTC()
	until := from.Add(cfg.Interval)

	m, err := g.fit(points, cfg, t)
	var short *forecast.InsufficientHistoryError
	switch {
	case errors.As(err, &short):
		// Ready as soon as the oldest point is old enough, if recording
		// goes on; no need to wait for the interval to end.
		if ready := t.Add(short.Need - short.Have); ready.Before(until) {
			until = ready
		}
		s.last = &cached{fit: fit{notReady: err.Error()}, cfg: cfg, from: from, until: until}
	case err != nil:
		return fit{}, fmt.Errorf("governor: fit group %s: %w", grp.ID, err)
	default:
		s.last = &cached{fit: fit{model: m}, cfg: cfg, from: from, until: until}
		g.log.DebugContext(ctx, "forecast fitted", "group", grp.ID, "points", len(points), "model", m.Describe())
	}
	return s.last.fit, nil
}

// governing reports whether settings p govern at all (forecast_only or
// enforce).
func governing(p *api.Predictive) bool {
	return p != nil && p.Mode != "" && p.Mode != api.PredictiveOff
}

func unusable(err error) string { return causality.ForecastUnusable(err) }

// floorDiv divides rounding toward minus infinity, so intervals align the
// way package forecast aligns them (multiples of the interval since the
// Unix epoch) before 1970 too.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
