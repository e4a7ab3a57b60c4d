package engine

import (
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// Admit decides whether a trigger firing is accepted now. A scale-out
// locks the group down while its nodes are launching (until ready, failed
// or past init_deadline); the cooldown follows the end of the last
// scale-out. A refused firing is recorded as suppressed with the reason
// causality writes from the Admission, so "why did it not scale?" has an
// answer. User instructions are not
// subject to Admit.
func Admit(in AdmitInput) Admission {
	deadline := in.Config.Durations.InitDeadline
	var (
		order []string // change IDs in order of first appearance
		per   = make(map[string]int)
		total int
		until time.Time
	)
	for _, n := range in.Nodes {
		if n.State != api.NodeLaunching {
			continue
		}
		end := n.LaunchedAt.Add(deadline)
		if !in.Now.Before(end) {
			continue // past init_deadline: it counts as failed
		}
		if _, seen := per[n.ChangeID]; !seen {
			order = append(order, n.ChangeID)
		}
		per[n.ChangeID]++
		total++
		if end.After(until) {
			until = end
		}
	}
	if total > 0 {
		a := Admission{Suppressed: true, LaunchingUntil: until}
		for _, id := range order {
			a.Launching = append(a.Launching, Launching{Change: in.changeLabel(id), Nodes: per[id]})
		}
		return a
	}

	cooldown := in.Config.Durations.Cooldown
	if cooldown > 0 && !in.LastScaleOutEnd.IsZero() {
		if end := in.LastScaleOutEnd.Add(cooldown); in.Now.Before(end) {
			return Admission{Suppressed: true, Cooldown: in.Config.Cooldown,
				LastScaleOut: in.changeLabel(in.LastScaleOutID), LastScaleOutEnd: in.LastScaleOutEnd, CooldownUntil: end}
		}
	}
	return Admission{}
}

func (in AdmitInput) changeLabel(id string) string {
	if l := in.ChangeLabels[id]; l != "" {
		return l
	}
	if id != "" && id == in.LastScaleOutID {
		return in.LastScaleOutName
	}
	return ""
}

// ReplaceNow says whether a lost node is replaced at once (true) or its
// replacement deferred to the next harmonization (false). auto defers when
// that harmonization is within replacement_defer_window, because it may
// shrink the group and the lost node then counts as one of the removals.
func ReplaceNow(in ReplaceInput) bool {
	switch cmpOr(in.Config.Replacement, api.DefaultReplacement) {
	case api.ReplacementImmediate:
		return true
	case api.ReplacementDeferred:
		return false
	}
	if in.NextHarmonizationAt.IsZero() {
		return true // no harmonization scheduled: nothing to wait for
	}
	window := in.Config.Durations.ReplacementDeferWindow
	return in.NextHarmonizationAt.Sub(in.Now) > window
}
