package causality

import (
	"fmt"
	"strings"

	"github.com/pes-project/terraform-provider-pes/reconciler/engine"
)

// The reasons recorded on events that did not act: a suppressed trigger
// firing (engine.Admit's facts) and a trigger that was not evaluated.

// Suppression is why a trigger firing was suppressed, as its event's
// Reason: "lockdown: 3 nodes added by C7 are still launching (until
// 10:12:01 at the latest)" or "cooldown: 2m after C7 ended at 10:02:30,
// until 10:04:30". It is "" for an admitted firing.
func Suppression(a engine.Admission) string {
	switch {
	case !a.Suppressed:
		return ""
	case len(a.Launching) > 0:
		parts := make([]string, 0, len(a.Launching))
		total := 0
		for _, l := range a.Launching {
			total += l.Nodes
			if l.Change == "" {
				parts = append(parts, nodes(l.Nodes))
				continue
			}
			parts = append(parts, nodes(l.Nodes)+" added by "+l.Change)
		}
		verb := "are"
		if total == 1 {
			verb = "is"
		}
		return fmt.Sprintf("lockdown: %s %s still launching (until %s at the latest)",
			joinAnd(parts), verb, clock(a.LaunchingUntil))
	default:
		what := "the last scale-out"
		if a.LastScaleOut != "" {
			what = a.LastScaleOut
		}
		return fmt.Sprintf("cooldown: %s after %s ended at %s, until %s",
			a.Cooldown, what, clock(a.LastScaleOutEnd), clock(a.CooldownUntil))
	}
}

// NoSamples is why a trigger was not evaluated when metrics had no samples
// in its condition's window; observed is what the condition saw.
func NoSamples(metrics []string, observed string) string {
	return fmt.Sprintf("no samples of %s in the condition's window: the condition is not satisfied (%s)",
		strings.Join(metrics, ", "), observed)
}

// EvaluationFailed is why a trigger was not evaluated when its condition
// failed to evaluate.
func EvaluationFailed(err error) string {
	return fmt.Sprintf("the condition failed to evaluate: %v", err)
}
