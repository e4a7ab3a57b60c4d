package forecast_test

import (
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/forecast"
)

// BenchmarkForecastCoverage fits two weeks of a 5-minute synthetic history
// (daily wave, lower weekends, noise) and scores the forecast of the third
// week: coverage (share of held-out quantities inside their range), the
// mean range width, the flat band's width for comparison, and the fit
// time (ns/op, and fit-ms).
func BenchmarkForecastCoverage(b *testing.B) {
	cfg := forecast.Config{History: 14 * day, Interval: time.Hour, Confidence: 0.9, MinHistory: day}
	points := synthetic(1, monday, 21, 5*time.Minute, 1.5)
	now := monday.Add(14 * day)
	var train []forecast.Point
	for _, p := range points {
		if p.Time.Before(now) {
			train = append(train, p)
		}
	}
	start := time.Now()
	for b.Loop() {
		if _, err := forecast.Fit(train, cfg, now); err != nil {
			b.Fatal(err)
		}
	}
	fit := time.Since(start) / time.Duration(b.N)
	b.StopTimer()
	coverage, width, flat, _ := heldOut(b, points, cfg, 14)
	b.ReportMetric(coverage, "coverage")
	b.ReportMetric(width, "width-nodes")
	b.ReportMetric(flat, "flat-width-nodes")
	b.ReportMetric(float64(fit)/float64(time.Millisecond), "fit-ms")
	b.ReportMetric(float64(len(train)), "points")
}

// BenchmarkFitMinuteHistory fits the default 14 days recorded at pesd's
// default 60s aggregation period (20,160 points), what a Governor does
// for a group when its forecast is refreshed.
func BenchmarkFitMinuteHistory(b *testing.B) {
	points := synthetic(2, monday, 14, time.Minute, 1.5)
	now := monday.Add(14 * day)
	for b.Loop() {
		if _, err := forecast.Fit(points, forecast.Config{}, now); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(points)), "points")
}

// BenchmarkRangeWeek computes a week of hourly intervals from a fitted
// model, what GET /v1/groups/{id}/forecast shows.
func BenchmarkRangeWeek(b *testing.B) {
	points := synthetic(3, monday, 14, time.Minute, 1.5)
	now := monday.Add(14 * day)
	m, err := forecast.Fit(points, forecast.Config{}, now)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ivs := m.Range(now, 168); len(ivs) != 168 {
			b.Fatalf("%d intervals", len(ivs))
		}
	}
}
