// Package recommend is the pure model behind recommended execution
// configurations (seed 003): it fits a program type's completed runs to
//
//	t = a + b·size/n + c·n
//
// (wall seconds: a fixed overhead, the parallel work, a coordination cost
// per node) by least squares with non-negative coefficients, predicts a
// run's wall time and node-hours with an interval, and chooses a node
// quantity by the caller's criteria. It does no I/O and reads no clock;
// the words for people are package causality's.
package recommend

import (
	"math"
	"slices"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// terms is the model's number of coefficients.
const terms = 3

// Fitted is a model fit to runs, able to predict.
type Fitted struct {
	Model api.Model
	// Runs are the completed runs it was fit to, oldest first.
	Runs []api.Run
	// NodeType is the node type most of the runs had ("" for local and
	// sim).
	NodeType string
	coef     [terms]float64
	// active are the coefficients the fit left free (the others are 0);
	// inv is (XᵀX)⁻¹ over them, for the interval's widening away from
	// the runs.
	active []int
	inv    [][]float64
	// quantile is Student's t at 97.5% for the residuals' degrees of
	// freedom: ± quantile·spread·√(1+leverage) covers about 95% of runs.
	quantile float64
	// largest is the largest node count among the runs.
	largest int
}

// row is one run's regressors: 1, size/n, n.
func row(size, n float64) [terms]float64 { return [terms]float64{1, size / n, n} }

// Fit fits the completed runs (api.Run.Completed) that have a positive
// input size, node count and wall time. It returns nil and how many such
// runs there are when they are fewer than api.MinRuns.
func Fit(runs []api.Run) (*Fitted, int) {
	var use []api.Run
	for _, r := range runs {
		if r.Completed() && r.InputSize > 0 && r.NodesMean > 0 && r.WallSeconds > 0 {
			use = append(use, r)
		}
	}
	if len(use) < api.MinRuns {
		return nil, len(use)
	}
	// The store answers in end order already; sorting costs only when not.
	byEnd := func(a, b api.Run) int { return a.EndedAt.Compare(b.EndedAt) }
	if !slices.IsSortedFunc(use, byEnd) {
		slices.SortStableFunc(use, byEnd)
	}
	xs := make([][terms]float64, len(use))
	ys := make([]float64, len(use))
	f := &Fitted{Runs: use}
	types := map[string]int{}
	for i, r := range use {
		xs[i], ys[i] = row(r.InputSize, r.NodesMean), r.WallSeconds
		f.largest = max(f.largest, r.NodesMax, int(math.Ceil(r.NodesMean)))
		types[r.NodeType]++
	}
	for t, n := range types {
		if n > types[f.NodeType] || (n == types[f.NodeType] && t < f.NodeType) {
			f.NodeType = t
		}
	}

	// Non-negative least squares over three terms, exactly: the optimum
	// is the unconstrained least-squares fit over some subset of the
	// terms, so try every subset and keep the best whose coefficients
	// are all non-negative.
	best := math.Inf(1)
	for mask := 1; mask < 1<<terms; mask++ {
		var act []int
		for k := range terms {
			if mask&(1<<k) != 0 {
				act = append(act, k)
			}
		}
		c, inv, ok := solve(xs, ys, act)
		if !ok {
			continue
		}
		var coef [terms]float64
		neg := false
		for i, k := range act {
			if c[i] < 0 {
				neg = true
			}
			coef[k] = c[i]
		}
		if neg {
			continue
		}
		ssr := 0.0
		for i := range xs {
			d := ys[i] - dot(coef, xs[i])
			ssr += d * d
		}
		// Ties (an exact fit by fewer terms) keep the simpler model.
		if f.active == nil || ssr < best-1e-9*(1+best) {
			best, f.coef, f.active, f.inv = ssr, coef, act, inv
		}
	}
	if f.active == nil {
		// Unreachable with positive times (the constant alone always
		// solves), kept so a bad input cannot panic.
		return nil, len(use)
	}
	mean := 0.0
	for _, y := range ys {
		mean += y
	}
	mean /= float64(len(ys))
	sst := 0.0
	for _, y := range ys {
		sst += (y - mean) * (y - mean)
	}
	df := max(1, len(use)-len(f.active))
	spread := math.Sqrt(best / float64(df))
	r2 := 1.0
	if sst > 0 {
		r2 = max(0, 1-best/sst)
	} else if best > 0 {
		r2 = 0
	}
	f.quantile = tQuantile(df)
	f.Model = api.Model{Overhead: f.coef[0], PerItem: f.coef[1], PerNode: f.coef[2],
		Spread: spread, IntervalWidth: f.quantile, R2: r2, Runs: len(use)}
	return f, len(use)
}

// Predict is a run's wall seconds and node-hours on n nodes, with
// intervals: ± t·spread·√(1+h), h the leverage of (size, n) among the
// runs, so the interval widens as the question moves away from them.
func (f *Fitted) Predict(size float64, n int) (wall, nodeHours api.Interval) {
	x := row(size, float64(n))
	t := dot(f.coef, x)
	xa := make([]float64, len(f.active))
	for i, k := range f.active {
		xa[i] = x[k]
	}
	h := 0.0
	for i := range xa {
		for j := range xa {
			h += xa[i] * f.inv[i][j] * xa[j]
		}
	}
	half := f.quantile * f.Model.Spread * math.Sqrt(1+max(0, h))
	wall = api.Interval{Value: t, Low: max(0, t-half), High: t + half}
	nh := float64(n) / 3600
	nodeHours = api.Interval{Value: wall.Value * nh, Low: wall.Low * nh, High: wall.High * nh}
	return wall, nodeHours
}

// Choice is a recommended quantity and why.
type Choice struct {
	Nodes     int
	Wall      api.Interval
	NodeHours api.Interval
	Criterion string // api.Criterion*
	// Met is false when no quantity up to the bound meets the deadline
	// or the budget.
	Met bool
	// MaxNodes is the bound searched.
	MaxNodes int
}

// Choose picks the node quantity for q among 1..q.MaxNodes (default
// twice the largest run's, since past it the model extrapolates):
//   - a deadline: the fewest predicted node-hours whose predicted time
//     meets it (and the budget, if given);
//   - a budget alone: the shortest predicted time within it;
//   - neither: the knee, the fewest nodes whose predicted time is within
//     api.KneeTolerance of the fastest;
//   - criteria no quantity meets: the fastest within the budget (or at
//     all), Met false.
//
// Ties go to fewer nodes.
func (f *Fitted) Choose(q api.RecommendationQuery) Choice {
	bound := q.MaxNodes
	if bound == 0 {
		bound = max(1, 2*f.largest)
	}
	type cand struct {
		n        int
		wall, nh api.Interval
	}
	cs := make([]cand, 0, bound)
	for n := 1; n <= bound; n++ {
		w, nh := f.Predict(q.InputSize, n)
		cs = append(cs, cand{n, w, nh})
	}
	budgetOK := func(c cand) bool { return q.MaxNodeHours == 0 || c.nh.Value <= q.MaxNodeHours }
	// pick is the first candidate of ok with the least key.
	pick := func(ok func(cand) bool, key func(cand) float64) (cand, bool) {
		var best cand
		found := false
		for _, c := range cs {
			if ok(c) && (!found || key(c) < key(best)) {
				best, found = c, true
			}
		}
		return best, found
	}
	wallKey := func(c cand) float64 { return c.wall.Value }
	out := func(c cand, crit string, met bool) Choice {
		return Choice{Nodes: c.n, Wall: c.wall, NodeHours: c.nh, Criterion: crit, Met: met, MaxNodes: bound}
	}
	switch {
	case q.Deadline > 0:
		d := q.Deadline.Seconds()
		if c, ok := pick(func(c cand) bool { return c.wall.Value <= d && budgetOK(c) },
			func(c cand) float64 { return c.nh.Value }); ok {
			return out(c, api.CriterionCheapestWithinDeadline, true)
		}
	case q.MaxNodeHours > 0:
		if c, ok := pick(budgetOK, wallKey); ok {
			return out(c, api.CriterionFastestWithinBudget, true)
		}
	default:
		fastest, _ := pick(func(cand) bool { return true }, wallKey)
		c, _ := pick(func(c cand) bool { return c.wall.Value <= fastest.wall.Value*(1+api.KneeTolerance) },
			func(c cand) float64 { return float64(c.n) })
		return out(c, api.CriterionKnee, true)
	}
	if c, ok := pick(budgetOK, wallKey); ok {
		return out(c, api.CriterionFastest, false)
	}
	c, _ := pick(func(cand) bool { return true }, wallKey)
	return out(c, api.CriterionFastest, false)
}

// Recommend fits runs and chooses for q: the whole answer but its
// explanation, which causality writes. Fewer than api.MinRuns completed
// runs answer api.RecommendationNotEnoughRuns with the count.
func Recommend(programType string, runs []api.Run, q api.RecommendationQuery) (api.Recommendation, *Fitted) {
	rec := api.Recommendation{ProgramType: programType, InputSize: q.InputSize, MaxNodeHours: q.MaxNodeHours,
		RunLabels: []string{}, RunIDs: []string{}}
	if q.Deadline > 0 {
		// A deadline given as a time arrives with the clock's fraction.
		rec.Deadline = q.Deadline.String()
		if q.Deadline >= time.Second {
			rec.Deadline = q.Deadline.Round(time.Second).String()
		}
	}
	f, n := Fit(runs)
	rec.Runs = n
	if f == nil {
		rec.Status = api.RecommendationNotEnoughRuns
		for _, r := range runs {
			if r.Completed() {
				rec.RunLabels, rec.RunIDs = append(rec.RunLabels, r.Label), append(rec.RunIDs, r.ID)
			}
		}
		return rec, nil
	}
	for _, r := range f.Runs {
		rec.RunLabels, rec.RunIDs = append(rec.RunLabels, r.Label), append(rec.RunIDs, r.ID)
	}
	c := f.Choose(q)
	m := f.Model
	rec.Status, rec.NodeQuantity, rec.NodeType = api.RecommendationOK, c.Nodes, f.NodeType
	rec.WallSeconds, rec.NodeHours = &c.Wall, &c.NodeHours
	rec.Criterion, rec.Met, rec.MaxNodes, rec.Model = c.Criterion, c.Met, c.MaxNodes, &m
	return rec, f
}

// solve is the least-squares fit of ys over the columns act of xs, by
// the normal equations (at most 3×3, Gauss-Jordan with pivoting); it
// returns the coefficients and (XᵀX)⁻¹, or false when XᵀX is singular.
func solve(xs [][terms]float64, ys []float64, act []int) ([]float64, [][]float64, bool) {
	k := len(act)
	// a is [XᵀX | I | Xᵀy].
	a := make([][]float64, k)
	for i := range k {
		a[i] = make([]float64, 2*k+1)
		for _, x := range xs {
			for j := range k {
				a[i][j] += x[act[i]] * x[act[j]]
			}
		}
		a[i][k+i] = 1
		for r, x := range xs {
			a[i][2*k] += x[act[i]] * ys[r]
		}
	}
	scale := 0.0
	for i := range k {
		scale = max(scale, math.Abs(a[i][i]))
	}
	for col := range k {
		p := col
		for r := col + 1; r < k; r++ {
			if math.Abs(a[r][col]) > math.Abs(a[p][col]) {
				p = r
			}
		}
		if math.Abs(a[p][col]) <= 1e-12*scale {
			return nil, nil, false
		}
		a[col], a[p] = a[p], a[col]
		piv := a[col][col]
		for j := range a[col] {
			a[col][j] /= piv
		}
		for r := range k {
			if r != col && a[r][col] != 0 {
				m := a[r][col]
				for j := range a[r] {
					a[r][j] -= m * a[col][j]
				}
			}
		}
	}
	c := make([]float64, k)
	inv := make([][]float64, k)
	for i := range k {
		c[i] = a[i][2*k]
		inv[i] = slices.Clone(a[i][k : 2*k])
	}
	return c, inv, true
}

func dot(a, b [terms]float64) float64 { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }

// tQuantile is Student's t at 97.5% for df degrees of freedom (a table;
// between rows, the row of fewer degrees, which is wider).
func tQuantile(df int) float64 {
	table := []struct {
		df int
		t  float64
	}{{1, 12.706}, {2, 4.303}, {3, 3.182}, {4, 2.776}, {5, 2.571}, {6, 2.447}, {7, 2.365}, {8, 2.306},
		{9, 2.262}, {10, 2.228}, {12, 2.179}, {15, 2.131}, {20, 2.086}, {30, 2.042}, {60, 2.000}, {120, 1.980}}
	t := 1.96
	for i := len(table) - 1; i >= 0; i-- {
		if df >= table[i].df {
			if i == len(table)-1 && df > table[i].df {
				return t
			}
			return table[i].t
		}
	}
	return table[0].t
}
