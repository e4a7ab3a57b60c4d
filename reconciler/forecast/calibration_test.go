package forecast_test

import (
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/forecast"
)

// TestCalibration checks that the ranges are right, not merely wide:
// before rounding to whole nodes, the share of a held-out week inside
// them is close to the confidence. (Rounding, lower floored and upper
// ceiled, then only adds coverage; TestHeldOutWeek checks the result.)
func TestCalibration(t *testing.T) {
	for _, tc := range []struct {
		name       string
		noise      float64
		confidence float64
	}{
		{"noise sd 0.5, 90%", 0.5, 0.9},
		{"noise sd 1.5, 90%", 1.5, 0.9},
		{"noise sd 3, 90%", 3, 0.9},
		{"noise sd 1.5, 80%", 1.5, 0.8},
		{"noise sd 1.5, 95%", 1.5, 0.95},
	} {
		t.Run(tc.name, func(t *testing.T) {
			points := synthetic(31, monday, 21, 5*time.Minute, tc.noise)
			now := monday.Add(14 * day)
			var train []forecast.Point
			for _, p := range points {
				if p.Time.Before(now) {
					train = append(train, p)
				}
			}
			m, err := forecast.Fit(train, forecast.Config{Confidence: tc.confidence}, now)
			if err != nil {
				t.Fatal(err)
			}
			inside, n := 0, 0
			for _, p := range points[len(train):] {
				_, lo, hi := m.Band(p.Time)
				n++
				if lo <= p.Value && p.Value <= hi {
					inside++
				}
			}
			coverage := float64(inside) / float64(n)
			t.Logf("coverage before rounding %.3f at confidence %.2f", coverage, tc.confidence)
			if coverage < tc.confidence-0.03 || coverage > tc.confidence+0.05 {
				t.Errorf("coverage before rounding %.3f is not within [-0.03, +0.05] of the confidence %.2f", coverage, tc.confidence)
			}
		})
	}
}
