package engine

import (
	"math"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// Propose returns the desired quantity request r proposes relative to
// desired. change_by adds N, set_to sets N, and change_by_percent moves by
// desired×P/100 rounded away from desired (up for a positive percent, down
// for a negative one), with at least one node of movement: otherwise +10%
// of a 4-node group would ask for nothing and the trigger would never act.
// The result is never below 0. A request with no form set proposes desired.
func Propose(desired int, r api.Request) int {
	var p int
	switch {
	case r.SetTo != nil:
		p = *r.SetTo
	case r.ChangeBy != nil:
		p = desired + *r.ChangeBy
	case r.ChangeByPercent != nil:
		p = desired + percentDelta(desired, *r.ChangeByPercent)
	default:
		p = desired
	}
	return max(p, 0)
}

// percentDelta is desired×pct/100 rounded away from zero, at least 1 node
// when pct is not zero.
func percentDelta(desired int, pct float64) int {
	if pct == 0 || math.IsNaN(pct) || math.IsInf(pct, 0) {
		return 0
	}
	// Bound the float before converting: a huge percent must not wrap.
	d := max(min(float64(desired)*pct/100, math.MaxInt32), -math.MaxInt32)
	// 10 × 10% is 1.0000000000000002 in floating point; snap values that
	// are whole up to rounding noise so they are not pushed one further.
	if r := math.Round(d); math.Abs(d-r) < 1e-9 {
		d = r
	}
	var n int
	if pct > 0 {
		n = max(int(math.Ceil(d)), 1)
	} else {
		n = min(int(math.Floor(d)), -1)
	}
	return n
}
