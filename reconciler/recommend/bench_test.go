package recommend_test

import (
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/recommend"
)

// BenchmarkRecommend is a recommendation as the route makes it: a fit of
// the 200 runs a type keeps for its model, then every quantity up to
// max_nodes tried (64 by default for runs up to 32 nodes; 1,000 when the
// caller widens it).
func BenchmarkRecommend(b *testing.B) {
	var runs []api.Run
	for seed := uint64(1); len(runs) < 200; seed++ {
		runs = append(runs, lawRuns(5000, 5, seed)...)
	}
	runs = runs[:200]
	for _, c := range []struct {
		name string
		max  int
	}{{"200runs-64nodes", 0}, {"200runs-1000nodes", 1000}} {
		b.Run(c.name, func(b *testing.B) {
			q := api.RecommendationQuery{InputSize: 5000, Deadline: 5 * time.Minute, MaxNodes: c.max}
			for b.Loop() {
				if rec, _ := recommend.Recommend("synthetic", runs, q); rec.NodeQuantity == 0 {
					b.Fatal("no recommendation")
				}
			}
		})
	}
}
