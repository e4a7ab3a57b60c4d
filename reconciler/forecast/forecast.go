// Package forecast predicts a group's future quantities from its recorded
// history (SPEC §2.8, seed 001): for each future interval an expected
// quantity and a range [lower, upper] of authorized quantities, which
// predictive governing clamps trigger requests into.
//
// The model is seasonal and meant to be explained in one sentence. An
// interval's expected quantity is the weighted mean of the same interval
// one, two, ... seasons back, where a season is a week once the history
// holds two weeks and a day before that, and a season a week older weighs
// half as much. Its range is the expected quantity plus quantiles of the
// model's own misses at that time of day: every past interval is predicted
// from the other seasons of the history, and how far the recorded
// quantities strayed from that prediction is what the range allows.
//
// Days and weeks are UTC, like trigger schedules. The package does no I/O
// and reads no clock: the time of the forecast is an argument.
package forecast

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// Defaults of the predictive settings a group leaves empty.
const (
	DefaultHistory    = 14 * day
	DefaultInterval   = time.Hour
	DefaultConfidence = 0.9
	DefaultMinHistory = 24 * time.Hour
)

const (
	day  = 24 * time.Hour
	week = 7 * day

	// halfLife is how fast older seasons fade: a quantity recorded a week
	// before another counts half as much, so the forecast follows a group
	// whose level drifts without forgetting the shape of its week.
	halfLife = week
	horizon  = 10 * halfLife

	// minResiduals is how many out-of-season misses a quantile needs
	// before it is trusted; below it the range falls back to something
	// wider (the pooled misses, or the history's flat range).
	minResiduals = 30

	// slack absorbs float rounding so that a constant history of 5 gives
	// the range [5, 5], not [4, 5].
	slack = 1e-9
)

// ErrInsufficientHistory is wrapped by the error Fit returns when the
// history is shorter than the configured minimum.
var ErrInsufficientHistory = errors.New("insufficient history for a forecast")

// InsufficientHistoryError says how much history a forecast needs and how
// much there is. It wraps ErrInsufficientHistory.
type InsufficientHistoryError struct {
	Have, Need time.Duration
}

func (e *InsufficientHistoryError) Error() string {
	if e.Need == 0 {
		return "forecast needs some history; the group has none"
	}
	have := "none"
	if e.Have > 0 {
		have = api.FormatDuration(e.Have)
	}
	return fmt.Sprintf("forecast needs %s of history; the group has %s", api.FormatDuration(e.Need), have)
}

func (e *InsufficientHistoryError) Unwrap() error { return ErrInsufficientHistory }

// Config mirrors api.Predictive with the durations parsed. A zero field
// takes its default.
type Config struct {
	// History is how far back before the forecast time Fit looks.
	History time.Duration
	// Interval is the length of one forecast interval; intervals are
	// aligned to multiples of it since the Unix epoch (so 1h intervals
	// start on the hour, UTC).
	Interval time.Duration
	// Confidence is the share of recorded quantities a range is meant to
	// hold, e.g. 0.9.
	Confidence float64
	// MinHistory is the history needed before there is any forecast.
	MinHistory time.Duration
}

// ConfigFrom parses a group's predictive settings and applies the
// defaults. Its errors are *api.Error naming the predictive field.
func ConfigFrom(p api.Predictive) (Config, error) {
	d, err := api.ParsePredictive(p)
	if err != nil {
		return Config{}, err
	}
	c := Config{History: d.History, Interval: d.Interval, MinHistory: d.MinHistory}
	c.Confidence = p.Confidence
	return c.resolve()
}

// Check rejects predictive settings that api checks field by field but
// that give no forecast together (min_history longer than history, an
// interval over a day), naming the field, so a bad config is refused when
// it is given rather than noted in every later decision record. A nil p
// (no predictive settings) passes.
func Check(p *api.Predictive) error {
	if p == nil {
		return nil
	}
	_, err := ConfigFrom(*p)
	return err
}

// resolve applies the defaults and checks the settings against each other.
func (c Config) resolve() (Config, error) {
	if c.History == 0 {
		c.History = DefaultHistory
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Confidence == 0 {
		c.Confidence = DefaultConfidence
	}
	if c.MinHistory == 0 {
		c.MinHistory = DefaultMinHistory
	}
	switch {
	case c.History < 0:
		return c, api.Invalid("predictive.history", "must be positive; got %v", c.History)
	case c.Interval < 0:
		return c, api.Invalid("predictive.interval", "must be positive; got %v", c.Interval)
	case c.MinHistory < 0:
		return c, api.Invalid("predictive.min_history", "must be positive; got %v", c.MinHistory)
	case c.Interval > day:
		return c, api.Invalid("predictive.interval", "must be at most 24h, since forecasts follow daily and weekly seasons; got %s", api.FormatDuration(c.Interval))
	case !(c.Confidence > 0 && c.Confidence < 1):
		return c, api.Invalid("predictive.confidence", "must be between 0 and 1 exclusive (e.g. 0.9); got %v", c.Confidence)
	case c.MinHistory > c.History:
		// Otherwise the group would wait for history Fit never looks at.
		return c, api.Invalid("predictive.min_history", "must not exceed history (%s); got %s", api.FormatDuration(c.History), api.FormatDuration(c.MinHistory))
	}
	return c, nil
}

// Point is one recorded quantity.
type Point struct {
	Time  time.Time
	Value float64
}

// Interval is the forecast for [Start, End): the expected quantity and the
// authorized range, Lower floored and Upper ceiled to whole nodes, with
// 0 <= Lower <= Upper.
type Interval struct {
	Start, End time.Time
	Expected   float64
	Lower      int
	Upper      int
}

// Model is a fitted forecast. It is immutable, so one Model may serve many
// goroutines.
type Model struct {
	cfg    Config
	now    time.Time
	have   time.Duration
	season time.Duration

	// The history in time order, as Unix nanoseconds, with prefix sums of
	// the values so the mean of any window is two binary searches away.
	times  []int64
	values []float64
	prefix []float64
	mean   float64

	// lo and hi are the quantiles of the out-of-season misses for each
	// slot of the day (slot i starts i intervals after midnight); NaN
	// where a slot had too few misses and pooled applies.
	lo, hi             []float64
	pooledLo, pooledHi float64
	misses             int
	// flat is set when there were too few misses at all (one season of
	// history): every range is then the history's own range.
	flat           bool
	flatLo, flatHi float64
}

// Fit fits a model to the points recorded in the configured history window
// before now. Points after now are ignored: a forecast never sees the
// future. It returns an *InsufficientHistoryError (wrapping
// ErrInsufficientHistory) when the oldest point in the window is less than
// MinHistory before now.
func Fit(points []Point, cfg Config, now time.Time) (*Model, error) {
	cfg, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	from := now.Add(-cfg.History)
	kept := make([]Point, 0, len(points))
	for i, p := range points {
		if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) {
			return nil, fmt.Errorf("forecast: point %d at %s: value %v is not a number", i, p.Time.Format(time.RFC3339), p.Value)
		}
		if p.Time.Before(from) || p.Time.After(now) {
			continue
		}
		kept = append(kept, p)
	}
	slices.SortStableFunc(kept, func(a, b Point) int { return a.Time.Compare(b.Time) })

	var have time.Duration
	if len(kept) > 0 {
		have = now.Sub(kept[0].Time)
	}
	if len(kept) == 0 || have < cfg.MinHistory {
		return nil, &InsufficientHistoryError{Have: have, Need: cfg.MinHistory}
	}

	m := &Model{
		cfg:    cfg,
		now:    now,
		have:   have,
		season: day,
		times:  make([]int64, len(kept)),
		values: make([]float64, len(kept)),
		prefix: make([]float64, len(kept)+1),
	}
	// Weekly once every interval of the week has been seen twice; one
	// interval of slack because a history window of exactly 14d holds a
	// little less than 14d of recorded points.
	if have >= 2*week-cfg.Interval {
		m.season = week
	}
	for i, p := range kept {
		m.times[i] = p.Time.UnixNano()
		m.values[i] = p.Value
		m.prefix[i+1] = m.prefix[i] + p.Value
	}
	m.mean = m.prefix[len(kept)] / float64(len(kept))
	m.fitRanges()
	return m, nil
}

// fitRanges predicts every past interval from the other seasons and keeps
// the quantiles of the misses, per slot of the day.
func (m *Model) fitRanges() {
	step := int64(m.cfg.Interval)
	slots := int((int64(day) + step - 1) / step)
	bySlot := make([][]float64, slots)
	var pooled []float64
	for i := 0; i < len(m.times); {
		start := floorDiv(m.times[i], step) * step
		j := i
		for j < len(m.times) && m.times[j] < start+step {
			j++
		}
		if b, ok := m.baseline(start); ok {
			s := m.slot(start)
			for _, v := range m.values[i:j] {
				bySlot[s] = append(bySlot[s], v-b)
				pooled = append(pooled, v-b)
			}
		}
		i = j
	}
	qlo, qhi := (1-m.cfg.Confidence)/2, (1+m.cfg.Confidence)/2
	m.misses = len(pooled)
	m.flatLo, m.flatHi = quantiles(slices.Clone(m.values), qlo, qhi)
	if len(pooled) < minResiduals {
		m.flat = true
		return
	}
	m.pooledLo, m.pooledHi = quantiles(pooled, qlo, qhi)
	m.lo, m.hi = make([]float64, slots), make([]float64, slots)
	for s, r := range bySlot {
		if len(r) < minResiduals {
			m.lo[s], m.hi[s] = math.NaN(), math.NaN()
			continue
		}
		m.lo[s], m.hi[s] = quantiles(r, qlo, qhi)
	}
}

// baseline is the weighted mean of the windows [start, start+Interval)
// shifted by whole seasons, leaving out the window itself. For a future
// interval only earlier seasons exist; for a past one (fitting) later
// seasons count too. ok is false when no shifted window holds a point.
func (m *Model) baseline(start int64) (float64, bool) {
	if len(m.times) == 0 {
		return 0, false
	}
	step, p := int64(m.cfg.Interval), int64(m.season)
	first, last := m.times[0], m.times[len(m.times)-1]
	// Window k is [start-k*p, start-k*p+step); keep the k that overlap
	// [first, last].
	kmin := -floorDiv(last-start, p)
	kmax := floorDiv(start+step-1-first, p)
	// Seasons more than horizon further back than the nearest one weigh
	// under 1/1000 of it: skip them, so a long history costs no more than
	// ten weeks of it.
	nearest := int64(1)
	if kmin > 0 {
		nearest = kmin
	} else if kmax < 0 {
		nearest = -kmax
	}
	reach := nearest + int64(horizon)/p
	kmin, kmax = max(kmin, -reach), min(kmax, reach)
	var sum, weights float64
	for k := kmin; k <= kmax; k++ {
		if k == 0 {
			continue
		}
		lo := start - k*p
		i, _ := slices.BinarySearch(m.times, lo)
		j, _ := slices.BinarySearch(m.times, lo+step)
		if j == i {
			continue
		}
		mean := (m.prefix[j] - m.prefix[i]) / float64(j-i)
		age := k * p
		if age < 0 {
			age = -age
		}
		w := math.Exp2(-float64(age) / float64(halfLife))
		sum += w * mean
		weights += w
	}
	if weights == 0 {
		return 0, false
	}
	return sum / weights, true
}

// slot is the index of the interval starting at start within its UTC day.
func (m *Model) slot(start int64) int {
	off := start - floorDiv(start, int64(day))*int64(day)
	return int(off / int64(m.cfg.Interval))
}

// At returns the forecast for the interval holding t.
func (m *Model) At(t time.Time) Interval {
	step := int64(m.cfg.Interval)
	start := floorDiv(t.UnixNano(), step) * step
	return m.interval(start)
}

// Range returns n consecutive intervals, the first holding from.
func (m *Model) Range(from time.Time, n int) []Interval {
	if n <= 0 {
		return []Interval{}
	}
	step := int64(m.cfg.Interval)
	start := floorDiv(from.UnixNano(), step) * step
	out := make([]Interval, n)
	for i := range out {
		out[i] = m.interval(start + int64(i)*step)
	}
	return out
}

func (m *Model) interval(start int64) Interval {
	expected, lo, hi := m.band(start)
	lower := max(0, int(math.Floor(lo+slack)))
	upper := max(lower, int(math.Ceil(hi-slack)))
	return Interval{
		Start:    time.Unix(0, start).UTC(),
		End:      time.Unix(0, start+int64(m.cfg.Interval)).UTC(),
		Expected: max(0, expected),
		Lower:    lower,
		Upper:    upper,
	}
}

// band is the interval's expected quantity and its range before rounding
// to whole nodes.
func (m *Model) band(start int64) (expected, lo, hi float64) {
	expected, seasonal := m.baseline(start)
	if !seasonal {
		expected = m.mean
	}
	if m.flat || !seasonal {
		// Nothing says how this time of day varies from season to
		// season: authorize what the history has seen.
		return expected, min(m.flatLo, expected), max(m.flatHi, expected)
	}
	s := m.slot(start)
	qlo, qhi := m.lo[s], m.hi[s]
	if math.IsNaN(qlo) {
		qlo, qhi = m.pooledLo, m.pooledHi
	}
	return expected, expected + qlo, expected + qhi
}

// Config returns the resolved configuration the model was fitted with.
func (m *Model) Config() Config { return m.cfg }

// Describe says in one sentence how the model forecasts, for logs and
// explanations.
func (m *Model) Describe() string {
	season := "daily"
	if m.season == week {
		season = "weekly"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s seasonal forecast from %s of history (%d points) as of %s; %g%% ranges of %s intervals",
		season, api.FormatDuration(m.have), len(m.values), m.now.UTC().Format(time.RFC3339), m.cfg.Confidence*100, api.FormatDuration(m.cfg.Interval))
	if m.flat {
		b.WriteString(" span the history's own range: one season is too little to learn how seasons differ")
	} else {
		fmt.Fprintf(&b, " come from %d out-of-season misses by time of day", m.misses)
	}
	return b.String()
}

// quantiles sorts xs and takes its conformal order statistics: of n
// misses, the upper bound is the ceil((n+1)*qhi)-th smallest (the lower
// bound mirrors it), so a new value from the same distribution lies under
// it with probability at least qhi. Small samples widen the range rather
// than narrow it.
func quantiles(xs []float64, qlo, qhi float64) (lo, hi float64) {
	slices.Sort(xs)
	n := len(xs)
	at := func(k int) float64 { return xs[min(max(k, 0), n-1)] }
	return at(int(math.Floor(float64(n+1)*qlo)) - 1), at(int(math.Ceil(float64(n+1)*qhi)) - 1)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
