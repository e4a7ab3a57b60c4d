package causality

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// Words of recommendations (seed 003): the sentence of a recommendation,
// the warning of an execution predicted to miss its criteria, and the
// note of a start that sized the group by the recommendation.

// Recommendation is a recommendation's explanation, e.g. "12 nodes:
// predicted 41m (35m–48m) and 8.2 node-hours, cheapest that meets the 1h
// deadline; based on 7 runs of wordcount, fit R² 0.97".
func Recommendation(r api.Recommendation) string {
	if r.Status == api.RecommendationNotEnoughRuns {
		return fmt.Sprintf("not enough history: %s of %s completed; a recommendation needs %d",
			plural(r.Runs, "run"), r.ProgramType, api.MinRuns)
	}
	s := fmt.Sprintf("%s: predicted %s and %s node-hours, %s; based on %s of %s, fit R² %.2f",
		nodes(r.NodeQuantity), interval(*r.WallSeconds), hours(r.NodeHours.Value), criterion(r), plural(r.Runs, "run"),
		r.ProgramType, r.Model.R2)
	if r.NodeType != "" {
		s += "; node type " + r.NodeType
	}
	return s
}

// RecommendationNote is the note of an execution's start event that sized
// the group by the recommendation: "set to 12 by the recommendation from
// 7 prior runs of wordcount (X1, X2, X3, ...)", and the recommendation.
func RecommendationNote(r api.Recommendation) string {
	return fmt.Sprintf("set to %d by the recommendation from %s of %s (%s): %s",
		r.NodeQuantity, plural(r.Runs, "prior run"), r.ProgramType, runList(r.RunLabels), Recommendation(r))
}

// ExecutionWarning is the warning of an execution created with n nodes
// predicted to miss its criterion (kind api.Warning*): its prediction,
// the criterion, and the recommendation beside it.
func ExecutionWarning(label, kind string, n int, wall, nodeHours api.Interval, deadline time.Duration, budget float64, r api.Recommendation) string {
	var s string
	switch kind {
	case api.WarningDeadline:
		if deadline <= 0 {
			s = fmt.Sprintf("execution %s: its deadline has passed already", label)
		} else {
			s = fmt.Sprintf("execution %s: %s predicted to take %s, past its deadline in %s",
				label, nodesAre(n), interval(wall), span(deadline.Seconds()))
		}
	default:
		s = fmt.Sprintf("execution %s: %s predicted to use %s node-hours (%s–%s), over its budget of %s",
			label, nodesAre(n), hours(nodeHours.Value), hours(nodeHours.Low), hours(nodeHours.High), hours(budget))
	}
	return s + "; recommended: " + Recommendation(r)
}

// RunNote says what a run record's figures leave out.
func RunNote(r api.Run) string {
	if r.SuspendedSeconds <= 0 {
		return ""
	}
	what := "wall time and node-hours"
	if r.Cost != nil {
		what = "wall time, node-hours and cost"
	}
	return fmt.Sprintf("%s exclude the %s it was suspended", what, span(r.SuspendedSeconds))
}

func criterion(r api.Recommendation) string {
	switch r.Criterion {
	case api.CriterionCheapestWithinDeadline:
		s := "cheapest that meets the " + shortDuration(r.Deadline) + " deadline"
		if r.MaxNodeHours > 0 {
			s += " within " + hours(r.MaxNodeHours) + " node-hours"
		}
		return s
	case api.CriterionFastestWithinBudget:
		return "fastest within " + hours(r.MaxNodeHours) + " node-hours"
	case api.CriterionKnee:
		return fmt.Sprintf("the knee of the curve (more nodes would save less than %d%% of the time)", int(api.KneeTolerance*100))
	}
	var miss []string
	if r.Deadline != "" {
		miss = append(miss, "the "+shortDuration(r.Deadline)+" deadline")
	}
	if r.MaxNodeHours > 0 {
		miss = append(miss, "the budget of "+hours(r.MaxNodeHours)+" node-hours")
	}
	return fmt.Sprintf("the fastest possible: no quantity up to %d meets %s", r.MaxNodes, strings.Join(miss, " and "))
}

// interval is "41m (35m–48m)".
func interval(i api.Interval) string {
	return fmt.Sprintf("%s (%s–%s)", span(i.Value), span(i.Low), span(i.High))
}

// span is seconds for people: "45s", "6m30s", "41m", "1h5m".
func span(sec float64) string {
	d := time.Duration(sec * float64(time.Second))
	switch {
	case d < 10*time.Second:
		d = d.Round(10 * time.Millisecond)
	case d < 10*time.Minute:
		d = d.Round(time.Second)
	default:
		d = d.Round(time.Minute)
	}
	return shortDuration(d.String())
}

// shortDuration drops a Go duration's zero tails: "1h0m0s" is "1h".
func shortDuration(s string) string {
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// hours is node-hours for people: two decimals, or two significant
// digits below 0.1 (a short run's 0.0011).
func hours(v float64) string {
	if v > 0 && v < 0.1 {
		return strconv.FormatFloat(v, 'g', 2, 64)
	}
	return num(v)
}

func nodesAre(n int) string {
	if n == 1 {
		return "1 node is"
	}
	return fmt.Sprintf("%d nodes are", n)
}

// runList names at most 5 runs.
func runList(ls []string) string {
	if len(ls) > 5 {
		return strings.Join(ls[:5], ", ") + fmt.Sprintf(" and %d more", len(ls)-5)
	}
	return strings.Join(ls, ", ")
}
