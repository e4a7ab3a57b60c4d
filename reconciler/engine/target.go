package engine

import (
	"math"
	"time"
)

// Target tracking follows the Kubernetes HPA's replica calculation
// (pkg/controller/podautoscaler/replica_calculator.go) so that a user
// coming from the HPA gets the same numbers. docs/guides/target-tracking.md
// lists each rule for users.

// TargetInput is what a target-tracking proposal depends on.
type TargetInput struct {
	// Value is the target (target.value), Tolerance its band (0.1: ±10%).
	Value, Tolerance float64
	// Observed is the metric's mean over the target's window.
	Observed float64
	// Current is the group's desired quantity: the HPA's currentReplicas,
	// which a proposal that changes nothing returns.
	Current int
	// Ready is the number of ready nodes whose samples make Observed (the
	// HPA's readyPodCount). For a group-wide metric (no node reports it,
	// as a Prometheus query's result) it is the group's ready nodes.
	Ready int
	// Missing is the number of ready nodes with no sample in the window
	// (the HPA's missingPods); 0 for a group-wide metric.
	Missing int
	// Unready is the number of nodes still launching (the HPA's
	// unreadyPods).
	Unready int
}

// TargetProposal is a target-tracking proposal and the facts behind it.
type TargetProposal struct {
	Quantity int
	// Ratio is Observed/Value, the HPA's usageRatio.
	Ratio float64
	// Held says why the proposal is Current rather than the formula's
	// result; "" when the formula decided.
	Held string
}

// Reasons a target proposal keeps the current quantity.
const (
	HeldTolerance = "within tolerance"
	HeldNoReady   = "no ready nodes"
	HeldReversed  = "counting unready and missing nodes reverses the direction"
)

// ProposeTarget is the HPA's formula: ceil(Ready × Observed / Value), with
// its rules:
//
//   - tolerance: when |Observed/Value − 1| ≤ Tolerance, no change (Current);
//   - missing metrics: ready nodes without samples count as using exactly
//     the target when scaling in and 0 when scaling out, so a node that
//     stopped reporting never drives a change on its own;
//   - not-yet-ready nodes: when scaling out, launching nodes count as
//     using 0, so capacity already on its way damps the scale-out;
//   - after counting those, a ratio back within tolerance, or one on the
//     other side of 1, changes nothing; a scale-out never proposes fewer
//     than Current, nor a scale-in more.
//
// With no ready node there is nothing to take the ratio of: the proposal
// is Current (the HPA reports an error and does not scale).
func ProposeTarget(in TargetInput) TargetProposal {
	ratio := in.Observed / in.Value
	p := TargetProposal{Quantity: in.Current, Ratio: ratio}
	if in.Ready <= 0 {
		p.Held = HeldNoReady
		return p
	}
	upWithUnready := in.Unready > 0 && ratio > 1
	if !upWithUnready && in.Missing == 0 {
		if math.Abs(ratio-1) <= in.Tolerance {
			p.Held = HeldTolerance
			return p
		}
		p.Quantity = ceilCount(ratio * float64(in.Ready))
		return p
	}
	// Recount the usage over every node taken into account, as the HPA
	// fills in the metrics of missing and unready pods.
	usage, n := in.Observed*float64(in.Ready), in.Ready
	if in.Missing > 0 {
		switch {
		case ratio < 1:
			usage += in.Value * float64(in.Missing)
			n += in.Missing
		case ratio > 1:
			n += in.Missing // at 0
		}
	}
	if upWithUnready {
		n += in.Unready // at 0
	}
	newRatio := usage / (float64(n) * in.Value)
	if math.Abs(newRatio-1) <= in.Tolerance {
		p.Held = HeldTolerance
		return p
	}
	if (ratio < 1 && newRatio > 1) || (ratio > 1 && newRatio < 1) {
		p.Held = HeldReversed
		return p
	}
	q := ceilCount(newRatio * float64(n))
	if (newRatio < 1 && q > in.Current) || (newRatio > 1 && q < in.Current) {
		p.Held = HeldReversed
		return p
	}
	p.Quantity = q
	return p
}

// ceilCount is ceil(x) as a node count, bounded so a huge ratio cannot
// wrap; values whole up to rounding noise are not pushed one further
// (5 × 1.2 is 6.000000000000001).
func ceilCount(x float64) int {
	if r := math.Round(x); math.Abs(x-r) < 1e-9 {
		x = r
	}
	return int(max(min(math.Ceil(x), math.MaxInt32), 0))
}

// Recommendation is one past target proposal, kept for scale-in
// stabilization.
type Recommendation struct {
	At       time.Time
	Quantity int
}

// Stabilized is a target proposal after scale-in stabilization.
type Stabilized struct {
	Quantity int
	// HeldBy is the past proposal that held a scale-in back (the largest
	// over the window); nil when nothing was held.
	HeldBy *Recommendation
	// Keep are the recommendations to remember for the next pass: those
	// still inside the window, and this one.
	Keep []Recommendation
}

// Stabilize applies the HPA's downscale stabilization to proposal: a
// scale-out acts at once; a scale-in goes no lower than the largest
// proposal made within window (this one included), and never above
// current. past are the earlier proposals (raw, before stabilization, as
// the HPA records them).
func Stabilize(now time.Time, window time.Duration, current, proposal int, past []Recommendation) Stabilized {
	from := now.Add(-window)
	s := Stabilized{Quantity: proposal, Keep: make([]Recommendation, 0, len(past)+1)}
	largest := Recommendation{At: now, Quantity: proposal}
	for _, r := range past {
		if !r.At.After(from) || r.At.After(now) {
			continue
		}
		s.Keep = append(s.Keep, r)
		if r.Quantity > largest.Quantity {
			largest = r
		}
	}
	s.Keep = append(s.Keep, Recommendation{At: now, Quantity: proposal})
	if proposal >= current {
		return s
	}
	s.Quantity = min(current, largest.Quantity)
	if s.Quantity != proposal {
		held := largest
		s.HeldBy = &held
	}
	return s
}
