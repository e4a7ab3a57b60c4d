package forecast_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/forecast"
)

// monday is a Monday at midnight UTC, where the synthetic histories start.
var monday = time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// synthetic returns a quantity history recorded every step for days from
// start: a daily wave between about 10 and 30 nodes peaking at 15:00 UTC,
// weekends at 60% of weekdays, and Gaussian noise of sd noise, rounded to
// whole nodes as quantities are.
func synthetic(seed uint64, start time.Time, days int, step time.Duration, noise float64) []forecast.Point {
	rng := rand.New(rand.NewPCG(seed, 1))
	end := start.Add(time.Duration(days) * day)
	var points []forecast.Point
	for t := start; t.Before(end); t = t.Add(step) {
		hour := float64(t.Sub(t.Truncate(day))) / float64(time.Hour)
		level := 20 + 10*math.Sin(2*math.Pi*(hour-9)/24)
		if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
			level *= 0.6
		}
		v := math.Round(level + noise*rng.NormFloat64())
		points = append(points, forecast.Point{Time: t, Value: max(0, v)})
	}
	return points
}

// heldOut fits on the first trainDays of points and scores the forecast
// on the rest: the share of points inside their interval's range, the
// mean width of the ranges, and the width of the flat band [min, max] of
// the training data.
func heldOut(t testing.TB, points []forecast.Point, cfg forecast.Config, trainDays int) (coverage, width, flat float64, m *forecast.Model) {
	t.Helper()
	now := monday.Add(time.Duration(trainDays) * day)
	var train, test []forecast.Point
	for _, p := range points {
		if p.Time.Before(now) {
			train = append(train, p)
		} else {
			test = append(test, p)
		}
	}
	m, err := forecast.Fit(train, cfg, now)
	if err != nil {
		t.Fatalf("Fit: %v", err)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range train {
		lo, hi = min(lo, p.Value), max(hi, p.Value)
	}
	inside := 0
	for _, p := range test {
		iv := m.At(p.Time)
		if float64(iv.Lower) <= p.Value && p.Value <= float64(iv.Upper) {
			inside++
		}
	}
	last := test[len(test)-1].Time
	ivs := m.Range(now, int(last.Sub(now)/cfg.Interval)+1)
	for _, iv := range ivs {
		width += float64(iv.Upper - iv.Lower)
	}
	return float64(inside) / float64(len(test)), width / float64(len(ivs)), hi - lo, m
}

// TestHeldOutWeek is the acceptance test of seed 001's predictions: fit
// two weeks of a daily and weekly pattern with noise, forecast the third,
// and require the ranges to hold the configured share of what happened
// while being narrower than the training data's flat range.
func TestHeldOutWeek(t *testing.T) {
	cfg := forecast.Config{History: 14 * day, Interval: time.Hour, Confidence: 0.9, MinHistory: day}
	for _, tc := range []struct {
		name  string
		seed  uint64
		noise float64
		step  time.Duration
	}{
		{"5m steps, noise sd 1.5", 1, 1.5, 5 * time.Minute},
		{"5m steps, noise sd 1.5, other seed", 2, 1.5, 5 * time.Minute},
		{"5m steps, noise sd 3", 3, 3, 5 * time.Minute},
		{"1m steps, noise sd 1", 4, 1, time.Minute},
		{"no noise", 5, 0, 5 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			points := synthetic(tc.seed, monday, 21, tc.step, tc.noise)
			coverage, width, flat, m := heldOut(t, points, cfg, 14)
			t.Logf("coverage %.3f (want >= %.2f), mean range width %.2f nodes, flat band width %.0f; %s",
				coverage, cfg.Confidence, width, flat, m.Describe())
			if coverage < cfg.Confidence {
				t.Errorf("coverage %.3f < confidence %.2f", coverage, cfg.Confidence)
			}
			if width >= flat {
				t.Errorf("mean width %.2f does not beat the flat band's %.0f", width, flat)
			}
		})
	}
}

func TestInsufficientHistory(t *testing.T) {
	now := monday.Add(10 * day)
	hourly := func(from, to time.Duration) []forecast.Point {
		var ps []forecast.Point
		for d := from; d < to; d += time.Hour {
			ps = append(ps, forecast.Point{Time: now.Add(-d), Value: 4})
		}
		return ps
	}
	for _, tc := range []struct {
		name       string
		points     []forecast.Point
		cfg        forecast.Config
		want       string
		have, need time.Duration
	}{
		{"none", nil, forecast.Config{}, "forecast needs 24h of history; the group has none", 0, day},
		{"3h of 24h", hourly(0, 4*time.Hour), forecast.Config{}, "forecast needs 24h of history; the group has 3h", 3 * time.Hour, day},
		{"2d of 3d", hourly(0, 49*time.Hour), forecast.Config{MinHistory: 3 * day}, "forecast needs 3d of history; the group has 2d", 2 * day, 3 * day},
		{"36h of 2d", hourly(0, 37*time.Hour), forecast.Config{MinHistory: 2 * day}, "forecast needs 2d of history; the group has 36h", 36 * time.Hour, 2 * day},
		{"2d12h of 3d", hourly(0, 61*time.Hour), forecast.Config{MinHistory: 3 * day}, "forecast needs 3d of history; the group has 2d12h", 60 * time.Hour, 3 * day},
		// Points older than the history window do not count.
		{"old points outside the window", hourly(3*day, 4*day), forecast.Config{History: 2 * day}, "forecast needs 24h of history; the group has none", 0, day},
		// Points after now are the future: a forecast never sees them.
		{"future points", []forecast.Point{{Time: now.Add(time.Hour), Value: 3}, {Time: now.Add(-90 * time.Minute), Value: 3}},
			forecast.Config{}, "forecast needs 24h of history; the group has 1h30m", 90 * time.Minute, day},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := forecast.Fit(tc.points, tc.cfg, now)
			if err == nil {
				t.Fatalf("Fit succeeded (%s); want %q", m.Describe(), tc.want)
			}
			if !errors.Is(err, forecast.ErrInsufficientHistory) {
				t.Errorf("error %v does not wrap ErrInsufficientHistory", err)
			}
			if err.Error() != tc.want {
				t.Errorf("error %q; want %q", err, tc.want)
			}
			var ie *forecast.InsufficientHistoryError
			if !errors.As(err, &ie) || ie.Have != tc.have || ie.Need != tc.need {
				t.Errorf("error %#v; want have %v need %v", ie, tc.have, tc.need)
			}
		})
	}
}

// A group that never changed gets exactly its quantity as the range.
func TestConstantHistoryTightBand(t *testing.T) {
	for _, tc := range []struct {
		name  string
		value float64
		days  int
		step  time.Duration
	}{
		{"5 nodes for 3 days", 5, 3, 5 * time.Minute},
		{"5 nodes for 1 day (one season)", 5, 1, 5 * time.Minute},
		{"12 nodes for 15 days (weekly)", 12, 15, 10 * time.Minute},
		{"0 nodes", 0, 2, time.Minute},
		{"3 nodes for 100 days", 3, 100, time.Hour},
		{"7 nodes recorded each minute", 7, 2, time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ps []forecast.Point
			now := monday.Add(time.Duration(tc.days) * day)
			for at := monday; at.Before(now); at = at.Add(tc.step) {
				ps = append(ps, forecast.Point{Time: at, Value: tc.value})
			}
			m, err := forecast.Fit(ps, forecast.Config{History: 120 * day}, now)
			if err != nil {
				t.Fatal(err)
			}
			for _, iv := range m.Range(now.Add(-time.Hour), 24*8) {
				if iv.Lower != int(tc.value) || iv.Upper != int(tc.value) || math.Abs(iv.Expected-tc.value) > 1e-9 {
					t.Fatalf("interval %v: expected %v in [%d, %d]; want %v in [%v, %v]", iv.Start, iv.Expected, iv.Lower, iv.Upper, tc.value, tc.value, tc.value)
				}
			}
		})
	}
}

// A group that runs 10 nodes in office hours and 2 at night gets exactly
// those ranges at those hours, with no noise to widen them.
func TestStepPattern(t *testing.T) {
	var ps []forecast.Point
	now := monday.Add(4 * day)
	for at := monday; at.Before(now); at = at.Add(time.Minute) {
		v := 2.0
		if h := at.Hour(); h >= 8 && h < 18 {
			v = 10
		}
		ps = append(ps, forecast.Point{Time: at, Value: v})
	}
	m, err := forecast.Fit(ps, forecast.Config{}, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at           time.Time
		lower, upper int
	}{
		{now.Add(3 * time.Hour), 2, 2},
		{now.Add(12 * time.Hour), 10, 10},
		{now.Add(17*time.Hour + 59*time.Minute), 10, 10},
		{now.Add(18 * time.Hour), 2, 2},
		{now.Add(3*day + 9*time.Hour), 10, 10},
	} {
		iv := m.At(tc.at)
		if iv.Lower != tc.lower || iv.Upper != tc.upper {
			t.Errorf("At(%s) = [%d, %d]; want [%d, %d]", tc.at.Format(time.RFC3339), iv.Lower, iv.Upper, tc.lower, tc.upper)
		}
		if !iv.Start.Equal(tc.at.Truncate(time.Hour)) || iv.End.Sub(iv.Start) != time.Hour {
			t.Errorf("At(%s) covers %s–%s; want the hour holding it", tc.at.Format(time.RFC3339), iv.Start, iv.End)
		}
	}
}

// With two weeks the model learns the week: Saturday is forecast lower
// than Wednesday. With one week it cannot tell them apart, and its ranges
// must be wide enough to hold both.
func TestWeeklySeason(t *testing.T) {
	points := synthetic(7, monday, 14, 5*time.Minute, 1)
	for _, tc := range []struct {
		name       string
		days       int
		wantSeason string
	}{
		{"one week: daily", 7, "daily"},
		{"two weeks: weekly", 14, "weekly"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := monday.Add(time.Duration(tc.days) * day)
			m, err := forecast.Fit(points, forecast.Config{}, now)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(m.Describe(), tc.wantSeason) {
				t.Errorf("Describe() = %q; want a %s model", m.Describe(), tc.wantSeason)
			}
			wed := m.At(now.Add(2*day + 15*time.Hour)) // 15:00, the daily peak
			sat := m.At(now.Add(5*day + 15*time.Hour))
			t.Logf("Wednesday 15:00 %.1f [%d, %d]; Saturday 15:00 %.1f [%d, %d]", wed.Expected, wed.Lower, wed.Upper, sat.Expected, sat.Lower, sat.Upper)
			if tc.wantSeason == "weekly" {
				// Weekdays peak near 30 nodes, Saturdays near 18.
				if wed.Expected < 27 || sat.Expected > 21 {
					t.Errorf("weekly expectations Wednesday %.1f, Saturday %.1f; want about 30 and 18", wed.Expected, sat.Expected)
				}
				if sat.Upper >= wed.Lower {
					t.Errorf("Saturday's range [%d, %d] overlaps Wednesday's [%d, %d]", sat.Lower, sat.Upper, wed.Lower, wed.Upper)
				}
				return
			}
			for _, v := range []int{18, 30} {
				if v < wed.Lower || v > wed.Upper || v < sat.Lower || v > sat.Upper {
					t.Errorf("a daily model must authorize both %d (weekend) and 30 (weekday) at 15:00; got [%d, %d] and [%d, %d]", v, wed.Lower, wed.Upper, sat.Lower, sat.Upper)
				}
			}
		})
	}
}

// Recent seasons weigh more: after a week at 10 nodes and a week at 20,
// the forecast is nearer 20.
func TestRecentSeasonsWeighMore(t *testing.T) {
	var ps []forecast.Point
	now := monday.Add(14 * day)
	for at := monday; at.Before(now); at = at.Add(10 * time.Minute) {
		v := 10.0
		if at.Sub(monday) >= 7*day {
			v = 20
		}
		ps = append(ps, forecast.Point{Time: at, Value: v})
	}
	m, err := forecast.Fit(ps, forecast.Config{}, now)
	if err != nil {
		t.Fatal(err)
	}
	iv := m.At(now.Add(36 * time.Hour))
	if iv.Expected <= 15 || iv.Expected >= 20 {
		t.Errorf("expected %.2f; want between 15 (equal weights) and 20 (last week only)", iv.Expected)
	}
	if iv.Lower > 10 || iv.Upper < 20 {
		t.Errorf("range [%d, %d]: a level that moved by 10 in a week must keep both levels authorized", iv.Lower, iv.Upper)
	}
}

// Whatever the history, every interval is well formed and consecutive.
func TestIntervalsWellFormed(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	now := monday.Add(5 * day).Add(17 * time.Minute)
	var spiky []forecast.Point
	for at := monday; at.Before(now); at = at.Add(time.Duration(1+rng.IntN(30)) * time.Minute) {
		spiky = append(spiky, forecast.Point{Time: at, Value: float64(rng.IntN(3)) * float64(rng.IntN(40))})
	}
	for _, interval := range []time.Duration{time.Minute * 15, time.Hour, 7 * time.Hour, day} {
		for _, conf := range []float64{0.5, 0.9, 0.99} {
			m, err := forecast.Fit(spiky, forecast.Config{Interval: interval, Confidence: conf}, now)
			if err != nil {
				t.Fatal(err)
			}
			ivs := m.Range(now, 3*int(day/interval)+2)
			// Far outside the history every season is too old or too new
			// to weigh: the range is the history's own.
			ivs = append(ivs, m.At(now.Add(400*day)), m.At(monday.Add(-400*day)))
			for i, iv := range ivs {
				if iv.Lower < 0 || iv.Lower > iv.Upper || iv.Expected < 0 {
					t.Fatalf("interval %s conf %v: %+v is not 0 <= lower <= upper", interval, conf, iv)
				}
				if iv.End.Sub(iv.Start) != interval || iv.Start.UnixNano()%int64(interval) != 0 {
					t.Fatalf("interval %s: %s–%s is not one aligned interval", interval, iv.Start, iv.End)
				}
				if i > 0 && i < len(ivs)-2 && !iv.Start.Equal(ivs[i-1].End) {
					t.Fatalf("interval %s: %s does not follow %s", interval, iv.Start, ivs[i-1].End)
				}
			}
			if ivs[0].Start.After(now) || !ivs[0].End.After(now) {
				t.Fatalf("Range(now) starts at %s, not at the interval holding now", ivs[0].Start)
			}
		}
	}
	if got := len(mustFit(t, spiky, now).Range(now, 0)); got != 0 {
		t.Errorf("Range(now, 0) has %d intervals", got)
	}
}

func mustFit(t *testing.T, ps []forecast.Point, now time.Time) *forecast.Model {
	t.Helper()
	m, err := forecast.Fit(ps, forecast.Config{}, now)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// More confidence never narrows a range.
func TestConfidenceWidens(t *testing.T) {
	points := synthetic(11, monday, 14, 5*time.Minute, 2)
	now := monday.Add(14 * day)
	prev := -1.0
	for _, conf := range []float64{0.5, 0.8, 0.9, 0.99} {
		m, err := forecast.Fit(points, forecast.Config{Confidence: conf}, now)
		if err != nil {
			t.Fatal(err)
		}
		width := 0.0
		for _, iv := range m.Range(now, 168) {
			width += float64(iv.Upper - iv.Lower)
		}
		width /= 168
		t.Logf("confidence %.2f: mean width %.2f", conf, width)
		if width < prev {
			t.Errorf("confidence %.2f: width %.2f is narrower than %.2f at lower confidence", conf, width, prev)
		}
		prev = width
	}
}

func TestFitRejectsBadInput(t *testing.T) {
	now := monday.Add(3 * day)
	good := synthetic(1, monday, 3, time.Hour, 0)
	for _, tc := range []struct {
		name   string
		points []forecast.Point
		cfg    forecast.Config
		want   string
	}{
		{"negative interval", good, forecast.Config{Interval: -time.Hour}, "predictive.interval"},
		{"interval over a day", good, forecast.Config{Interval: 25 * time.Hour}, "must be at most 24h"},
		{"confidence 1", good, forecast.Config{Confidence: 1}, "predictive.confidence"},
		{"min_history beyond history", good, forecast.Config{History: 2 * day, MinHistory: 3 * day}, "must not exceed history (2d); got 3d"},
		{"NaN value", append([]forecast.Point{{Time: monday, Value: math.NaN()}}, good...), forecast.Config{}, "value NaN is not a number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := forecast.Fit(tc.points, tc.cfg, now)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Fit: %v; want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestConfigFrom(t *testing.T) {
	for _, tc := range []struct {
		name      string
		in        api.Predictive
		want      forecast.Config
		wantField string
	}{
		{"defaults", api.Predictive{Mode: api.PredictiveEnforce},
			forecast.Config{History: 14 * day, Interval: time.Hour, Confidence: 0.9, MinHistory: day}, ""},
		{"all set", api.Predictive{History: "21d", Interval: "30m", Confidence: 0.8, MinHistory: "1d12h"},
			forecast.Config{History: 21 * day, Interval: 30 * time.Minute, Confidence: 0.8, MinHistory: 36 * time.Hour}, ""},
		{"bad history", api.Predictive{History: "two weeks"}, forecast.Config{}, "predictive.history"},
		{"zero interval", api.Predictive{Interval: "0s"}, forecast.Config{}, "predictive.interval"},
		{"negative min_history", api.Predictive{MinHistory: "-1h"}, forecast.Config{}, "predictive.min_history"},
		{"confidence above 1", api.Predictive{Confidence: 1.5}, forecast.Config{}, "predictive.confidence"},
		{"min_history beyond history", api.Predictive{History: "1d", MinHistory: "2d"}, forecast.Config{}, "predictive.min_history"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := forecast.ConfigFrom(tc.in)
			if tc.wantField == "" {
				if err != nil || got != tc.want {
					t.Errorf("ConfigFrom = %+v, %v; want %+v", got, err, tc.want)
				}
				return
			}
			var ae *api.Error
			if !errors.As(err, &ae) || ae.Field != tc.wantField || ae.Status != 400 {
				t.Errorf("ConfigFrom error %#v; want a 400 naming %s", err, tc.wantField)
			}
		})
	}
}
