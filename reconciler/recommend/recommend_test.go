package recommend_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/causality"
	"github.com/pes-project/terraform-provider-pes/reconciler/recommend"
)

// law is acceptance 1's known law: t = 30s + 0.6s·size/n + 2s·n.
func law(size float64, n int) float64 { return 30 + 0.6*size/float64(n) + 2*float64(n) }

// LawRuns are runs at 2, 4, 8, 16, 24 and 32 nodes following law, with
// Gaussian noise of sd seconds drawn from seed.
func lawRuns(size, sd float64, seed uint64) []api.Run {
	rng := rand.New(rand.NewPCG(seed, 3))
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var runs []api.Run
	for i, n := range []int{2, 4, 8, 16, 24, 32} {
		wall := law(size, n) + rng.NormFloat64()*sd
		start := t0.Add(time.Duration(i) * time.Hour)
		runs = append(runs, api.Run{ID: fmt.Sprintf("r%d", i), Label: fmt.Sprintf("X%d", i+1), ProgramType: "synthetic",
			Status: api.ExecutionCompleted, InputSize: size, NodesMean: float64(n), NodesMax: n,
			StartedAt: start, EndedAt: start.Add(time.Duration(wall * float64(time.Second))), WallSeconds: wall,
			NodeHours: float64(n) * wall / 3600})
	}
	return runs
}

// trueOptimum is the cheapest quantity whose true time meets the
// deadline: node-hours n·t(n) grow with n, so the fewest nodes that meet
// it.
func trueOptimum(size float64, deadline time.Duration) int {
	for n := 1; n < 10_000; n++ {
		if law(size, n) <= deadline.Seconds() {
			return n
		}
	}
	return -1
}

// TestModelRecovery is acceptance 1 on the model alone: from six noisy
// runs of a known law, the recommendation for a deadline is within one
// node of the true optimum, its predicted time within 10% of the true
// time at that quantity, and the interval covers the true time. Several
// noise draws, so one lucky draw cannot pass it.
func TestModelRecovery(t *testing.T) {
	const size = 5000
	for _, deadline := range []time.Duration{5 * time.Minute, 4 * time.Minute, 10 * time.Minute} {
		want := trueOptimum(size, deadline)
		for seed := uint64(1); seed <= 10; seed++ {
			t.Run(fmt.Sprintf("%s/seed%d", deadline, seed), func(t *testing.T) {
				runs := lawRuns(size, 5, seed)
				rec, f := recommend.Recommend("synthetic", runs, api.RecommendationQuery{InputSize: size, Deadline: deadline})
				if rec.Status != api.RecommendationOK || f == nil {
					t.Fatalf("status %q with %d runs", rec.Status, rec.Runs)
				}
				if rec.Criterion != api.CriterionCheapestWithinDeadline || !rec.Met {
					t.Errorf("criterion %q met %v, want %q met", rec.Criterion, rec.Met, api.CriterionCheapestWithinDeadline)
				}
				if d := rec.NodeQuantity - want; d < -1 || d > 1 {
					t.Errorf("recommended %d nodes; the true optimum is %d", rec.NodeQuantity, want)
				}
				truth := law(size, rec.NodeQuantity)
				w := rec.WallSeconds
				if math.Abs(w.Value-truth)/truth > 0.10 {
					t.Errorf("predicted %.1fs at %d nodes; the true time is %.1fs (more than 10%% off)", w.Value, rec.NodeQuantity, truth)
				}
				if truth < w.Low || truth > w.High {
					t.Errorf("interval %.1f–%.1fs at %d nodes misses the true time %.1fs", w.Low, w.High, rec.NodeQuantity, truth)
				}
				if rec.Model.R2 < 0.95 {
					t.Errorf("R² %.3f of a near-exact law", rec.Model.R2)
				}
				if len(rec.RunLabels) != 6 || rec.RunLabels[0] != "X1" {
					t.Errorf("based on %v, want the six runs oldest first", rec.RunLabels)
				}
			})
		}
	}
}

// TestExactLawCoefficients: without noise the fit returns the law.
func TestExactLawCoefficients(t *testing.T) {
	f, n := recommend.Fit(lawRuns(5000, 0, 1))
	if f == nil || n != 6 {
		t.Fatalf("fit of 6 runs: %v, %d", f, n)
	}
	m := f.Model
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"overhead", m.Overhead, 30}, {"per item", m.PerItem, 0.6}, {"per node", m.PerNode, 2}} {
		if math.Abs(c.got-c.want) > 1e-6*math.Max(1, c.want) {
			t.Errorf("%s %.9g, want %g", c.name, c.got, c.want)
		}
	}
	if m.R2 < 0.999999 || m.Spread > 1e-6 {
		t.Errorf("R² %g spread %g of an exact law", m.R2, m.Spread)
	}
}

// TestNonNegative: runs that get faster with more nodes and show no
// overhead would fit a negative constant by plain least squares; the fit
// keeps every coefficient at 0 or above.
func TestNonNegative(t *testing.T) {
	var runs []api.Run
	for i, n := range []int{1, 2, 4, 8} {
		wall := 1000/float64(n) - 20 // plain least squares: a = -20
		runs = append(runs, api.Run{ID: fmt.Sprint(i), Status: api.ExecutionCompleted, InputSize: 1000,
			NodesMean: float64(n), WallSeconds: wall})
	}
	f, _ := recommend.Fit(runs)
	if f == nil {
		t.Fatal("no fit of 4 runs")
	}
	if m := f.Model; m.Overhead < 0 || m.PerItem < 0 || m.PerNode < 0 {
		t.Errorf("negative coefficient: %+v", m)
	}
	if f.Model.PerItem <= 0 {
		t.Errorf("the parallel work is lost: %+v", f.Model)
	}
}

// TestNotEnoughHistory: fewer than 3 completed runs recommend nothing and
// say how many there are; failed and cancelled runs do not count.
func TestNotEnoughHistory(t *testing.T) {
	runs := lawRuns(5000, 0, 1)[:2]
	runs = append(runs, api.Run{ID: "c", Status: api.ExecutionCancelled, InputSize: 5000, NodesMean: 4, WallSeconds: 10})
	rec, f := recommend.Recommend("synthetic", runs, api.RecommendationQuery{InputSize: 5000})
	if f != nil || rec.Status != api.RecommendationNotEnoughRuns || rec.Runs != 2 || rec.NodeQuantity != 0 {
		t.Errorf("got status %q, %d runs, %d nodes; want not enough history with 2 runs", rec.Status, rec.Runs, rec.NodeQuantity)
	}
}

// TestCriteria: each criterion decides as documented.
func TestCriteria(t *testing.T) {
	const size = 5000
	f, _ := recommend.Fit(lawRuns(size, 0, 1))
	// The budget alone: the fastest within 1 node-hour.
	c := f.Choose(api.RecommendationQuery{InputSize: size, MaxNodeHours: 1})
	if c.Criterion != api.CriterionFastestWithinBudget || c.NodeHours.Value > 1 || !c.Met {
		t.Errorf("budget: %+v", c)
	}
	if next, nh := c.Nodes+1, law(size, c.Nodes+1)*float64(c.Nodes+1)/3600; next <= c.MaxNodes && nh <= 1 && law(size, next) < c.Wall.Value {
		t.Errorf("budget: %d nodes is faster and within it, chose %d", next, c.Nodes)
	}
	// Neither: the knee, within 10% of the fastest, fewest nodes.
	c = f.Choose(api.RecommendationQuery{InputSize: size})
	if c.Criterion != api.CriterionKnee || c.MaxNodes != 64 {
		t.Errorf("knee: %+v", c)
	}
	fastest := math.Inf(1)
	for n := 1; n <= 64; n++ {
		fastest = math.Min(fastest, law(size, n))
	}
	if law(size, c.Nodes) > fastest*1.1+1e-9 || law(size, c.Nodes-1) <= fastest*1.1 {
		t.Errorf("knee: %d nodes (%.1fs); fastest %.1fs", c.Nodes, law(size, c.Nodes), fastest)
	}
	// A deadline nothing meets: the fastest, not met.
	c = f.Choose(api.RecommendationQuery{InputSize: size, Deadline: time.Minute, MaxNodes: 40})
	if c.Met || c.Criterion != api.CriterionFastest || c.Nodes != 39 {
		t.Errorf("impossible deadline: %+v, want the fastest (39 nodes) not met", c)
	}
}

// guideRuns are the runs of the worked example in the recommendations
// guide (templates/guides/recommendations.md.tmpl).
const guideRuns = `label,input_size,nodes_mean,wall_seconds
wc-0301,1000000,4,5210
wc-0302,1000000,8,2725
wc-0303,2000000,8,5262
wc-0304,1000000,16,1598
wc-0305,500000,16,993
wc-0306,1000000,24,1321
wc-0307,1000000,32,1219
`

// TestGuideWorkedExample keeps the guide's worked example true: its
// coefficients, its three recommendations and its sentence.
func TestGuideWorkedExample(t *testing.T) {
	runs, err := recommend.ParseRuns(strings.NewReader(guideRuns), "wordcount", time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	rec, f := recommend.Recommend("wordcount", runs, api.RecommendationQuery{InputSize: 1e6, Deadline: 30 * time.Minute})
	m := rec.Model
	if math.Round(m.Overhead) != 98 || math.Abs(m.PerItem-0.0202) > 0.0001 || math.Abs(m.PerNode-15.56) > 0.01 ||
		math.Round(m.Spread*10) != 148 || m.IntervalWidth != 2.776 || m.R2 < 0.9999 {
		t.Errorf("model %+v", m)
	}
	if rec.NodeQuantity != 14 || math.Round(rec.WallSeconds.Value) != 1756 || math.Round(rec.NodeHours.Value*100) != 683 {
		t.Errorf("deadline 30m: %d nodes, %v, %v", rec.NodeQuantity, *rec.WallSeconds, *rec.NodeHours)
	}
	if w, _ := f.Predict(1e6, 13); math.Round(w.Value) != 1851 {
		t.Errorf("13 nodes: %v", w)
	}
	if got, want := causality.Recommendation(rec), "14 nodes: predicted 29m (28m–30m) and 6.83 node-hours, cheapest that meets the 30m deadline; based on 7 runs of wordcount, fit R² 1.00"; got != want {
		t.Errorf("sentence\n got %q\nwant %q", got, want)
	}
	for _, c := range []struct {
		q    api.RecommendationQuery
		want int
	}{{api.RecommendationQuery{InputSize: 1e6}, 23}, {api.RecommendationQuery{InputSize: 1e6, MaxNodeHours: 6}, 6}} {
		if r, _ := recommend.Recommend("wordcount", runs, c.q); r.NodeQuantity != c.want {
			t.Errorf("%+v: %d nodes, want %d", c.q, r.NodeQuantity, c.want)
		}
	}
}
