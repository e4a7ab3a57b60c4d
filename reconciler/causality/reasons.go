package causality

import (
	"cmp"
	"fmt"
	"strings"
	"time"

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
	case a.SilencedBy != "":
		return fmt.Sprintf("instructions_silence_triggers: user instruction %s in this period overrides the triggers", a.SilencedBy)
	case len(a.Removing) > 0:
		parts := make([]string, 0, len(a.Removing))
		total := 0
		for _, l := range a.Removing {
			total += l.Nodes
			parts = append(parts, nodes(l.Nodes)+" removed by "+cmp.Or(l.Change, "a removal"))
		}
		verb := "are"
		if total == 1 {
			verb = "is"
		}
		return fmt.Sprintf("lockdown after removal: %s %s still terminating", joinAnd(parts), verb)
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

// FailedQuery is a metric source's query that failed in a pass.
type FailedQuery struct {
	Metric, Query string
	Err           error
}

// SourceFailed is why a trigger was not evaluated when the query of a
// metric it reads failed or came back empty: "prometheus query for rps
// (sum(rate(http_requests_total[1m]))) failed: the query returned no
// series: the condition is not satisfied". Other missing metrics follow.
func SourceFailed(failed []FailedQuery, otherMissing []string, observed string) string {
	parts := make([]string, 0, len(failed)+1)
	for _, f := range failed {
		parts = append(parts, fmt.Sprintf("prometheus query for %s (%s) failed: %v", f.Metric, shortQuery(f.Query), f.Err))
	}
	if len(otherMissing) > 0 {
		parts = append(parts, "no samples of "+strings.Join(otherMissing, ", ")+" in the condition's window")
	}
	return fmt.Sprintf("%s: the condition is not satisfied (%s)", strings.Join(parts, "; "), observed)
}

// SourcesNote names the queries behind a firing's metrics, after what it
// observed: " (prometheus: sum(rate(http_requests_total[1m])))".
func SourcesNote(queries []string) string {
	if len(queries) == 0 {
		return ""
	}
	short := make([]string, len(queries))
	for i, q := range queries {
		short[i] = shortQuery(q)
	}
	return " (prometheus: " + strings.Join(short, "; ") + ")"
}

// shortQuery keeps a query readable in an event line.
func shortQuery(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	if r := []rune(q); len(r) > 80 {
		return string(r[:79]) + "…"
	}
	return q
}

// UnknownMetric warns of a trigger over a metric the group has never had
// a sample of: "metric cpu_utilisation has never been seen for this group;
// known: cpu_utilization, nodes_desired, nodes_ready".
func UnknownMetric(metric string, known []string) string {
	return fmt.Sprintf("metric %s has never been seen for this group; known: %s", metric, strings.Join(known, ", "))
}

// EvaluationFailed is why a trigger was not evaluated when its condition
// failed to evaluate.
func EvaluationFailed(err error) string {
	return fmt.Sprintf("the condition failed to evaluate: %v", err)
}

// The reasons the controller records on nodes, events and changes.

// DriverReports is what a node's driver says of it: "the driver reports
// it unavailable: process exited".
func DriverReports(state, reason string) string {
	s := "the driver reports it " + state
	if reason != "" && reason != state {
		s += ": " + reason
	}
	return s
}

// FailedBeforeReady is why a launching node failed when its driver
// reported it gone before it was ready.
func FailedBeforeReady(state, reason string) string {
	return DriverReports(state, reason) + " before it was ready"
}

// NotReadyWithin is why a launching node failed when it was not ready
// within init_deadline (deadline as configured); stateReason is what was
// known of it, if anything.
func NotReadyWithin(deadline, stateReason string) string {
	why := fmt.Sprintf("not ready within init_deadline %s", deadline)
	if stateReason != "" {
		why += " (" + stateReason + ")"
	}
	return why
}

// LaunchFailed is a node's reason when the driver could not launch it.
func LaunchFailed(msg string) string { return "launch failed: " + msg }

// NoReplacementNeeded is why a lost node's replacement request was
// ignored.
func NoReplacementNeeded(live, desired int) string {
	return fmt.Sprintf("no replacement needed: %d nodes ready or launching for desired %d", live, desired)
}

// ReplacementDeferred is why a replacement waits for the harmonization of
// period (at next, when known): the replacement policy is deferred, or the
// harmonization is within replacement_defer_window (window as configured).
func ReplacementDeferred(period string, next time.Time, policyDeferred bool, window string) string {
	at := ""
	if !next.IsZero() {
		at = " at " + clock(next)
	}
	if policyDeferred {
		return fmt.Sprintf("replacement deferred to the harmonization of %s%s (replacement policy deferred)", period, at)
	}
	return fmt.Sprintf("replacement deferred to the harmonization of %s%s, within replacement_defer_window %s", period, at, window)
}

// BoundsChanged is the reason of the instruction that moves desired into
// new bounds: bound (max_quantity or min_quantity) went from before to
// after.
func BoundsChanged(bound string, before, after int) string {
	return fmt.Sprintf("bounds changed: %s %d → %d", bound, before, after)
}

// HarmonizationChange and RequestedChange are the reasons of the changes
// that carry out a period's harmonization or an immediate request.
func HarmonizationChange(period string) string { return "harmonization " + period }

// RequestedChange: see HarmonizationChange.
func RequestedChange(event string) string { return "requested by " + event }

// Why a group has no forecast.
const (
	ForecastNotConfigured = "predictive governing is not configured"
	NoForecaster          = "predictive governing is configured but this pesd has no forecaster"
	ForecastOff           = "predictive governing is off"
)

// ForecastUnusable is why a group's predictive settings give no forecast.
func ForecastUnusable(err error) string {
	return "predictive settings give no forecast: " + err.Error()
}

// SeriesCapReached is why a metrics push was refused: it would take the
// group past its cap of metric series.
func SeriesCapReached(limit, have int, fresh []string, retention time.Duration) string {
	shown := fresh
	if len(shown) > 3 {
		shown = shown[:3]
	}
	more := ""
	if len(fresh) > len(shown) {
		more = fmt.Sprintf(" and %d more", len(fresh)-len(shown))
	}
	return fmt.Sprintf("the group holds %d metric series and this push would add %d new (%s%s), past the cap of %d series per group (--max-series-per-group); nothing was stored. A series no sample has reached for %s is forgotten",
		have, len(fresh), strings.Join(shown, ", "), more, limit, retention)
}

// CrashBackoff is why a replacement waits: the group's nodes failed early
// failures times in a row, the last as lastExit, so the next launch
// waits wait, until until.
func CrashBackoff(failures int, lastExit string, wait time.Duration, until time.Time) string {
	return fmt.Sprintf("crash-loop backoff: %s in a row failed within their first seconds (the last: %s); the next launch waits %s, until %s",
		nodes(failures), lastExit, wait, clock(until))
}

// Degraded is a group's status reason while its nodes keep failing early.
func Degraded(failures int, lastExit string, next time.Time) string {
	return fmt.Sprintf("%s in a row failed within their first seconds (the last: %s); launches back off, the next at %s",
		nodes(failures), lastExit, clock(next))
}
