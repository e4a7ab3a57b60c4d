package causality

import (
	"testing"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

func TestSpanAndHours(t *testing.T) {
	for _, c := range []struct {
		sec  float64
		want string
	}{{0.5, "500ms"}, {1.374, "1.37s"}, {45, "45s"}, {390, "6m30s"}, {1756, "29m"}, {3600, "1h"}, {3900, "1h5m"}} {
		if got := span(c.sec); got != c.want {
			t.Errorf("span(%g) = %q, want %q", c.sec, got, c.want)
		}
	}
	for _, c := range []struct {
		v    float64
		want string
	}{{0.0011, "0.0011"}, {0.13, "0.13"}, {6.834, "6.83"}, {12, "12"}} {
		if got := hours(c.v); got != c.want {
			t.Errorf("hours(%g) = %q, want %q", c.v, got, c.want)
		}
	}
}

func TestRecommendationWords(t *testing.T) {
	r := api.Recommendation{ProgramType: "wordcount", Status: api.RecommendationOK, Runs: 7, NodeQuantity: 12,
		RunLabels:   []string{"X1", "X2", "X3", "X4", "X5", "X6", "X7"},
		WallSeconds: &api.Interval{Value: 2460, Low: 2100, High: 2880}, NodeHours: &api.Interval{Value: 8.2},
		Criterion: api.CriterionCheapestWithinDeadline, Deadline: "1h0m0s", Met: true, Model: &api.Model{R2: 0.97}}
	if got, want := Recommendation(r), "12 nodes: predicted 41m (35m–48m) and 8.2 node-hours, cheapest that meets the 1h deadline; based on 7 runs of wordcount, fit R² 0.97"; got != want {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
	if got, want := RecommendationNote(r), "set to 12 by the recommendation from 7 prior runs of wordcount (X1, X2, X3, X4, X5 and 2 more): "; got[:len(want)] != want {
		t.Errorf("note %q", got)
	}
	r.Criterion, r.Met, r.MaxNodeHours, r.MaxNodes = api.CriterionFastest, false, 5, 40
	if got, want := criterion(r), "the fastest possible: no quantity up to 40 meets the 1h deadline and the budget of 5 node-hours"; got != want {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
	if got := RunNote(api.Run{SuspendedSeconds: 90}); got != "wall time and node-hours exclude the 1m30s it was suspended" {
		t.Errorf("run note %q", got)
	}
	priced := 0.0
	if got := RunNote(api.Run{SuspendedSeconds: 90, Cost: &priced}); got != "wall time, node-hours and cost exclude the 1m30s it was suspended" {
		t.Errorf("run note of a priced run %q", got)
	}
}
