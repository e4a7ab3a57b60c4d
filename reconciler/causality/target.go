package causality

import (
	"fmt"
	"math"
	"strconv"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/engine"
)

// TargetObserved is what a target-tracking trigger saw and proposed, as
// its event's Observed: "target cpu_utilization 60: observed 84.2 over 5
// ready → 8", with the ready nodes that sent no sample over the window
// ("over 4 ready, 1 not reporting"), and why the formula's result was not
// taken when it was not ("…: observed 62 over 5 ready, within tolerance
// 0.1 → 5").
func TargetObserved(t api.Target, in engine.TargetInput, p engine.TargetProposal) string {
	s := fmt.Sprintf("target %s %s: observed %s over %d ready", t.Metric, num(t.Value), num(in.Observed), in.Ready)
	if in.Missing > 0 {
		s += fmt.Sprintf(", %d not reporting", in.Missing)
	}
	switch p.Held {
	case "":
	case engine.HeldTolerance:
		tol := api.DefaultTargetTolerance
		if t.Tolerance != nil {
			tol = *t.Tolerance
		}
		s += ", within tolerance " + num(tol)
	default:
		s += ", " + p.Held
	}
	return fmt.Sprintf("%s → %d", s, p.Quantity)
}

// StabilizationHeld is the note of a target-tracking scale-in that
// scale_in_stabilization held back: "scale-in held by
// scale_in_stabilization 5m: proposed 4, the largest proposal over it was
// 8 at 12:01:00".
func StabilizationHeld(window string, proposed int, by engine.Recommendation) string {
	return fmt.Sprintf("scale-in held by scale_in_stabilization %s: proposed %d, the largest proposal over it was %d at %s",
		window, proposed, by.Quantity, clock(by.At))
}

// num writes a metric value short: at most two decimals.
func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}
