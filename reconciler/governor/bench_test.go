package governor_test

import (
	"context"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/governor"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// minutely is two weeks of daily() recorded once a minute, what pesd's
// default 60s aggregation period records for the default 14d history.
func minutely(to time.Time) []store.QuantityPoint {
	var ps []store.QuantityPoint
	for _, p := range daily(to.Add(-14*24*time.Hour), to) {
		for m := range 10 {
			ps = append(ps, store.QuantityPoint{Time: p.Time.Add(time.Duration(m) * time.Minute), Desired: p.Desired, Actual: p.Actual})
		}
	}
	return ps
}

// BenchmarkBoundsRefit is what one group costs once per forecast
// interval: read 14 days of minute history from SQLite and fit it.
func BenchmarkBoundsRefit(b *testing.B) {
	st := openStore(b)
	ctx := context.Background()
	now := day0.Add(20 * 24 * time.Hour)
	history := minutely(now)
	g := newGroup(b, st, "bench", day0, &api.Predictive{Mode: api.PredictiveEnforce}, history)
	gov := governor.New(st)
	for b.Loop() {
		gov.Forget(g.ID)
		if bd, err := gov.Bounds(ctx, g, now); err != nil || bd.NotReady != "" {
			b.Fatal(bd, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/refit")
	b.ReportMetric(float64(len(history)), "points")
}

// BenchmarkBoundsCached is what every other decision costs.
func BenchmarkBoundsCached(b *testing.B) {
	st := openStore(b)
	ctx := context.Background()
	now := day0.Add(20 * 24 * time.Hour)
	g := newGroup(b, st, "bench", day0, &api.Predictive{Mode: api.PredictiveEnforce}, minutely(now))
	gov := governor.New(st)
	if _, err := gov.Bounds(ctx, g, now); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := gov.Bounds(ctx, g, now.Add(time.Minute)); err != nil {
			b.Fatal(err)
		}
	}
}
