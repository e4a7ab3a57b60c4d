package engine

import (
	"cmp"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/cost"
)

// Admit decides whether a trigger firing is accepted now. A scale-out
// locks the group down while its nodes are launching (until ready, failed
// or past init_deadline); the cooldown follows the end of the last
// scale-out. A refused firing is recorded as suppressed with the reason
// causality writes from the Admission, so "why did it not scale?" has an
// answer. User instructions are not
// subject to Admit.
func Admit(in AdmitInput) Admission {
	if by := Silencer(in.Config, in.Requests); by != "" {
		return Admission{Suppressed: true, SilencedBy: by}
	}
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
	if in.Config.LockdownOnRemoval() {
		if removing := removing(in.Removals, in.Nodes); len(removing) > 0 {
			return Admission{Suppressed: true, Removing: removing}
		}
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

// removing counts, per removal, its nodes that are not gone yet (nodes
// holds the group's nodes that are not terminated).
func removing(removals []api.Change, nodes []api.Node) []Launching {
	left := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		if n.State != api.NodeTerminated {
			left[n.ID] = true
		}
	}
	var out []Launching
	for _, ch := range removals {
		if ch.Type != api.ChangeRemoveNodes || ch.Status != api.ChangeInProgress {
			continue
		}
		n := 0
		for _, id := range ch.NodeIDs {
			if left[id] {
				n++
			}
		}
		if n > 0 {
			out = append(out, Launching{Change: ch.Label, Nodes: n})
		}
	}
	return out
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
func ReplaceNow(in ReplaceInput) bool { return Replace(in).Now }

// Replace decides a lost node's replacement as ReplaceNow says and, when
// the group has a price and auto would defer, weighs paid time as seed
// 000 does ("the user having already paid for eight computing nodes until
// later time T3"): the group has paid for the lost node's capacity until
// the end of its increment in progress. When that paid time runs past the
// harmonization, deferring leaves capacity already paid for idle and
// saves nothing the harmonization could shrink, so the node is replaced
// at once. When it ends before the harmonization, a replacement launched
// now starts a new paid increment (at least MinimumBilled) that the
// harmonization may make unnecessary, so the replacement waits for it.
func Replace(in ReplaceInput) Replacement {
	switch cmp.Or(in.Config.Replacement, api.DefaultReplacement) {
	case api.ReplacementImmediate:
		return Replacement{Now: true}
	case api.ReplacementDeferred:
		return Replacement{}
	}
	if in.NextHarmonizationAt.IsZero() {
		return Replacement{Now: true} // no harmonization scheduled: nothing to wait for
	}
	window := in.Config.Durations.ReplacementDeferWindow
	if in.NextHarmonizationAt.Sub(in.Now) > window {
		return Replacement{Now: true}
	}
	rate := in.Rates.At(in.Now)
	if rate.PriceMicros == 0 {
		return Replacement{}
	}
	billed := max(rate.Increment, rate.Minimum)
	w := &PaidWeighed{
		Node:          cmp.Or(in.Lost.Name, in.Lost.ID),
		PaidUntil:     in.Rates.PaidUntil(in.Lost.LaunchedAt, in.Now),
		Harmonization: in.NextHarmonizationAt,
		MinimumBilled: billed,
		MinimumMicros: cost.Micros(rate.PriceMicros * int64(billed/time.Second)),
		Currency:      rate.Currency,
	}
	return Replacement{Now: w.PaidUntil.After(in.NextHarmonizationAt), Billing: w}
}

// Silencer is the label of the user instruction that silences a period's
// trigger firings under instructions_silence_triggers: the earliest among
// the period's requests, "" when none does or the option is off. Only a
// user instruction silences (seed 000: the user's word overrides the
// triggers'): admission and harmonization both ask here, so a firing is
// never admitted by one and silenced by the other.
func Silencer(cfg api.Config, requests []api.Event) string {
	if !cfg.InstructionsSilenceTriggers {
		return ""
	}
	var first *api.Event
	for i := range requests {
		e := &requests[i]
		if e.Type == api.EventUserInstruction && (first == nil || e.Time.Before(first.Time)) {
			first = e
		}
	}
	if first == nil {
		return ""
	}
	return first.Label
}
