package governor_test

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
	"github.com/pes-project/terraform-provider-pes/reconciler/engine"
	"github.com/pes-project/terraform-provider-pes/reconciler/forecast"
	"github.com/pes-project/terraform-provider-pes/reconciler/governor"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlite"
)

// day0 is a Monday; the synthetic history starts there.
var day0 = time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)

// noon is Thursday 12:30, three and a half days into the history.
var noon = day0.Add(3*24*time.Hour + 12*time.Hour + 30*time.Minute)

// openStore opens a real SQLite store in a temporary directory.
func openStore(t testing.TB) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "pes.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// newGroup records a live group created at created, with history.
func newGroup(t testing.TB, st store.Store, id string, created time.Time, p *api.Predictive, history []store.QuantityPoint) api.Group {
	t.Helper()
	g := api.Group{
		ID: id,
		GroupConfig: api.GroupConfig{
			Name: "g-" + id, Driver: api.DriverSim, Program: api.Program{Command: "sleep"},
			DesiredQuantity: 10, MaxQuantity: 50, AggregationPeriod: api.DefaultAggregationPeriod,
			AggregationPolicy: api.DefaultAggregationPolicy, Replacement: api.DefaultReplacement,
			ReplacementDeferWindow: api.DefaultReplacementDeferWindow, InitDeadline: api.DefaultInitDeadline,
			Cooldown: api.DefaultCooldown, TerminationPolicy: api.DefaultTerminationPolicy, Predictive: p,
		},
		OfficialQuantity: 10, Status: api.GroupActive, CreatedAt: created, UpdatedAt: created,
	}
	err := st.Update(context.Background(), func(tx store.Tx) error {
		if err := tx.InsertGroup(g); err != nil {
			return err
		}
		if len(history) == 0 {
			return nil
		}
		return tx.InsertQuantityPoints(id, history)
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// daily is a group's recorded desired quantity every 10 minutes in
// [from, to): 10 nodes from 09:00 to 17:00, 4 otherwise, each hour's
// samples straying -1, 0, +1 around that. Every day is the same, so a
// forecast's expected quantity is the level and its 90% range the level
// ±1.
func daily(from, to time.Time) []store.QuantityPoint {
	var ps []store.QuantityPoint
	for i, tm := 0, from; tm.Before(to); i, tm = i+1, tm.Add(10*time.Minute) {
		q := 4
		if h := tm.Hour(); h >= 9 && h < 17 {
			q = 10
		}
		q += tm.Minute()/10%3 - 1
		ps = append(ps, store.QuantityPoint{Time: tm, Desired: q, Actual: q})
	}
	return ps
}

func predictive(mode string, governs ...string) *api.Predictive {
	return &api.Predictive{Mode: mode, Interval: "1h", MinHistory: "24h", Governs: governs}
}

func TestBounds(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	history := daily(day0, noon)
	hour := func(h int) time.Time { return day0.Add(3*24*time.Hour + time.Duration(h)*time.Hour) }
	tests := []struct {
		name string
		p    *api.Predictive
		at   time.Time
		want *engine.Bounds
	}{
		{"no predictive settings", nil, noon, nil},
		{"off", predictive(api.PredictiveOff), noon, nil},
		{"enforce at noon", predictive(api.PredictiveEnforce), noon,
			&engine.Bounds{Lower: 9, Upper: 11, Start: hour(12), End: hour(13), Enforce: true}},
		{"enforce at night", predictive(api.PredictiveEnforce), hour(3).Add(20 * time.Minute),
			&engine.Bounds{Lower: 3, Upper: 5, Start: hour(3), End: hour(4), Enforce: true}},
		{"forecast_only", predictive(api.PredictiveForecastOnly), noon,
			&engine.Bounds{Lower: 9, Upper: 11, Start: hour(12), End: hour(13)}},
		{"governs instructions", predictive(api.PredictiveEnforce, api.GovernTriggers, api.GovernInstructions), noon,
			&engine.Bounds{Lower: 9, Upper: 11, Start: hour(12), End: hour(13), Enforce: true, GovernInstructions: true}},
		{"two-hour intervals", &api.Predictive{Mode: api.PredictiveEnforce, Interval: "2h", MinHistory: "24h"}, noon,
			&engine.Bounds{Lower: 9, Upper: 11, Start: hour(12), End: hour(14), Enforce: true}},
		{"settings that cannot forecast", &api.Predictive{Mode: api.PredictiveEnforce, History: "2d", MinHistory: "3d"}, noon,
			&engine.Bounds{Enforce: true, NotReady: "predictive settings give no forecast: predictive.min_history: must not exceed history (2d); got 3d"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGroup(t, st, "b"+string(rune('a'+i)), day0, tt.p, history)
			got, err := governor.New(st).Bounds(ctx, g, tt.at)
			if err != nil {
				t.Fatal(err)
			}
			if (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want {
				t.Errorf("Bounds = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestBoundsFollowModel checks the bounds at every hour of a day against
// the fitted model itself, so the mapping holds beyond the two hours the
// table names.
func TestBoundsFollowModel(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	history := daily(day0, noon)
	g := newGroup(t, st, "follow", day0, predictive(api.PredictiveEnforce), history)
	points := make([]forecast.Point, len(history))
	for i, p := range history {
		points[i] = forecast.Point{Time: p.Time, Value: float64(p.Desired)}
	}
	cfg, err := forecast.ConfigFrom(*g.Predictive)
	if err != nil {
		t.Fatal(err)
	}
	model, err := forecast.Fit(points, cfg, noon)
	if err != nil {
		t.Fatal(err)
	}
	gov := governor.New(st)
	for h := range 24 {
		at := noon.Add(time.Duration(h) * time.Hour)
		b, err := gov.Bounds(ctx, g, at)
		if err != nil {
			t.Fatal(err)
		}
		// The governor refits each hour on the same history, so its
		// model is the one fitted at noon, shifted by nothing new.
		want := model.At(at)
		if b.Lower != want.Lower || b.Upper != want.Upper || !b.Start.Equal(want.Start) || !b.End.Equal(want.End) {
			t.Errorf("at %s: bounds %d–%d %s–%s, want %d–%d %s–%s", at.Format("15:04"), b.Lower, b.Upper,
				b.Start.Format("15:04"), b.End.Format("15:04"), want.Lower, want.Upper, want.Start.Format("15:04"), want.End.Format("15:04"))
		}
	}
}

func TestBoundsNotReady(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	tests := []struct {
		name    string
		history []store.QuantityPoint
		want    string
	}{
		{"three hours", daily(noon.Add(-3*time.Hour), noon), "forecast needs 24h of history; the group has 3h"},
		{"none", nil, "forecast needs 24h of history; the group has none"},
		// Only the configured 14d window counts.
		{"too old", daily(noon.Add(-20*24*time.Hour), noon.Add(-15*24*time.Hour)), "forecast needs 24h of history; the group has none"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGroup(t, st, "nr"+string(rune('a'+i)), day0, predictive(api.PredictiveEnforce), tt.history)
			b, err := governor.New(st).Bounds(ctx, g, noon)
			if err != nil {
				t.Fatal(err)
			}
			want := engine.Bounds{Enforce: true, NotReady: tt.want}
			if b == nil || *b != want {
				t.Errorf("Bounds = %+v, want %+v", b, want)
			}
		})
	}
}

// countingFit counts the fits a Governor makes.
type countingFit struct{ n atomic.Int64 }

func (c *countingFit) fit(points []forecast.Point, cfg forecast.Config, now time.Time) (*forecast.Model, error) {
	c.n.Add(1)
	return forecast.Fit(points, cfg, now)
}

// TestCaching walks one group through a sequence of decisions and counts
// the fits: at most one per forecast interval, and one more when the
// settings change or the cache is dropped.
func TestCaching(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	g := newGroup(t, st, "cache", day0, predictive(api.PredictiveEnforce), daily(day0, noon.Add(3*time.Hour)))
	wider := g
	wider.Predictive = &api.Predictive{Mode: api.PredictiveEnforce, Interval: "1h", MinHistory: "24h", Confidence: 0.99}
	forgotten := func(gov *governor.Governor) { gov.Forget(g.ID) }
	mode := g
	mode.Predictive = predictive(api.PredictiveForecastOnly) // mode does not change the model

	var c countingFit
	gov := governor.New(st, governor.WithFit(c.fit))
	steps := []struct {
		name     string
		g        api.Group
		at       time.Time
		before   func(*governor.Governor)
		wantFits int64
	}{
		{"first decision fits", g, noon, nil, 1},
		{"same interval is cached", g, noon.Add(20 * time.Minute), nil, 1},
		{"mode change keeps the model", mode, noon.Add(25 * time.Minute), nil, 1},
		{"next interval refits", g, noon.Add(30 * time.Minute), nil, 2}, // 13:00
		{"and is then cached", g, noon.Add(80 * time.Minute), nil, 2},   // 13:50
		{"settings change refits", wider, noon.Add(85 * time.Minute), nil, 3},
		{"back to the old settings refits", g, noon.Add(86 * time.Minute), nil, 4},
		{"forget refits", g, noon.Add(87 * time.Minute), forgotten, 5},
		{"an earlier time refits", g, noon, nil, 6},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before(gov)
		}
		if _, err := gov.Bounds(ctx, s.g, s.at); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := c.n.Load(); got != s.wantFits {
			t.Errorf("%s: %d fits in all, want %d", s.name, got, s.wantFits)
		}
	}
}

// TestCachingNotReady: a group short of history is checked again as soon
// as it would have enough, not only at the next interval.
func TestCachingNotReady(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	// 23h30m of history before 12:10; recording goes on.
	at := noon.Add(-20 * time.Minute)
	start := at.Add(-23*time.Hour - 30*time.Minute)
	g := newGroup(t, st, "late", day0, predictive(api.PredictiveEnforce), daily(start, at.Add(time.Hour)))
	var c countingFit
	gov := governor.New(st, governor.WithFit(c.fit))
	steps := []struct {
		at        time.Time
		wantReady bool
		wantFits  int64
	}{
		{at, false, 1},
		{at.Add(29 * time.Minute), false, 1}, // ready at 12:40: still cached
		{at.Add(30 * time.Minute), true, 2},
		{at.Add(40 * time.Minute), true, 2}, // 12:50, same interval
	}
	for _, s := range steps {
		b, err := gov.Bounds(ctx, g, s.at)
		if err != nil {
			t.Fatal(err)
		}
		if ready := b.NotReady == ""; ready != s.wantReady || c.n.Load() != s.wantFits {
			t.Errorf("at %s: ready %v (%q) after %d fits, want ready %v after %d", s.at.Format("15:04"), ready, b.NotReady,
				c.n.Load(), s.wantReady, s.wantFits)
		}
	}
}

// TestConcurrent: many decisions for one group at once fit once, and
// other groups are served meanwhile. Run with -race.
func TestConcurrent(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	history := daily(day0, noon)
	groups := []api.Group{
		newGroup(t, st, "c1", day0, predictive(api.PredictiveEnforce), history),
		newGroup(t, st, "c2", day0, predictive(api.PredictiveEnforce), history),
		newGroup(t, st, "c3", day0, predictive(api.PredictiveEnforce), nil),
	}
	var c countingFit
	gov := governor.New(st, governor.WithFit(c.fit))
	var wg sync.WaitGroup
	errs := make(chan error, 30)
	for i := range 30 {
		wg.Go(func() {
			g := groups[i%len(groups)]
			b, err := gov.Bounds(ctx, g, noon)
			if err == nil && (b == nil || (b.NotReady == "") != (g.ID != "c3")) {
				err = &api.Error{Message: "group " + g.ID + ": unexpected bounds"}
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := c.n.Load(); got != int64(len(groups)) {
		t.Errorf("%d fits, want one per group (%d)", got, len(groups))
	}
}

func TestForecast(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	clk := clock.NewFake(noon)
	gov := governor.New(st, governor.WithClock(clk))

	t.Run("ready", func(t *testing.T) {
		g := newGroup(t, st, "f-ready", day0, predictive(api.PredictiveEnforce), daily(day0, noon))
		f, err := gov.Forecast(ctx, g)
		if err != nil {
			t.Fatal(err)
		}
		if !f.Ready || f.Mode != api.PredictiveEnforce || f.GroupID != g.ID || f.Confidence != 0.9 || f.History != "14d" {
			t.Fatalf("forecast = %+v", f)
		}
		if want := "daily seasonal forecast from 3d12h30m of history"; len(f.Reason) < len(want) || f.Reason[:len(want)] != want {
			t.Errorf("reason = %q, want it to start %q", f.Reason, want)
		}
		if len(f.Intervals) != governor.ForecastIntervals {
			t.Fatalf("%d intervals, want %d", len(f.Intervals), governor.ForecastIntervals)
		}
		for i, iv := range f.Intervals {
			start := noon.Truncate(time.Hour).Add(time.Duration(i) * time.Hour)
			lo, hi := 3, 5
			if h := start.Hour(); h >= 9 && h < 17 {
				lo, hi = 9, 11
			}
			if !iv.Start.Equal(start) || !iv.End.Equal(start.Add(time.Hour)) || iv.Lower != lo || iv.Upper != hi {
				t.Errorf("interval %d = %+v, want %s–%s %d–%d", i, iv, start.Format("15:04"), start.Add(time.Hour).Format("15:04"), lo, hi)
			}
		}
	})
	t.Run("not ready", func(t *testing.T) {
		g := newGroup(t, st, "f-short", day0, predictive(api.PredictiveForecastOnly), daily(noon.Add(-3*time.Hour), noon))
		f, err := gov.Forecast(ctx, g)
		if err != nil {
			t.Fatal(err)
		}
		if f.Ready || f.Reason != "forecast needs 24h of history; the group has 3h" || len(f.Intervals) != 0 || f.Intervals == nil ||
			f.Mode != api.PredictiveForecastOnly {
			t.Errorf("forecast = %+v", f)
		}
	})
	t.Run("off", func(t *testing.T) {
		g := newGroup(t, st, "f-off", day0, nil, daily(day0, noon))
		f, err := gov.Forecast(ctx, g)
		if err != nil {
			t.Fatal(err)
		}
		if f.Ready || f.Mode != api.PredictiveOff || f.Reason != "predictive governing is off" || f.Intervals == nil {
			t.Errorf("forecast = %+v", f)
		}
	})
}

// TestStoreError: a history that cannot be read is an error, not bounds
// that quietly allow everything.
func TestStoreError(t *testing.T) {
	st := openStore(t)
	g := newGroup(t, st, "gone", day0, predictive(api.PredictiveEnforce), daily(day0, noon))
	st.Close()
	if b, err := governor.New(st).Bounds(context.Background(), g, noon); err == nil {
		t.Errorf("Bounds on a closed store = %+v, nil; want an error", b)
	}
}
