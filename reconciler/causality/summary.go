package causality

import (
	"fmt"
	"strings"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// Summary renders a decision record in the text form of SPEC §2.3:
//
//	period H2: desired 8 → 12, official 8 → 12, actual 7 at harmonization
//	  requests: E5 (+4 → 12, trigger cpu-high), E4 (+3 → 11, user alice), E9b (replacement)
//	  policy largest → 12; clamps: none
//	  changes: C7 add 5 nodes
//
// A record with notes (api.Period.Notes) has a "note:" line for each
// before the changes.
//
// requests are the period's events (for their forms and sources); changes
// are the changes carried out, labelled once the controller has recorded
// them (without labels, the planned ones read as well).
func Summary(p api.Period, requests []api.Event, changes []api.Change) string {
	byID := make(map[string]*api.Event, len(requests))
	for i := range requests {
		byID[requests[i].ID] = &requests[i]
	}
	var b strings.Builder
	b.WriteString("period")
	if p.Label != "" {
		b.WriteString(" " + p.Label)
	}
	fmt.Fprintf(&b, ": desired %d → %d, official %d → %d, actual %d", p.DesiredBefore, p.DesiredAfter,
		p.OfficialBefore, p.OfficialAfter, p.Actual)
	if p.InFlight > 0 {
		fmt.Fprintf(&b, " (+%d launching)", p.InFlight)
	}
	b.WriteString(" at harmonization\n  requests: ")
	if len(p.Requests) == 0 {
		b.WriteString("none")
	}
	for i, r := range p.Requests {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(requestSummary(r, byID[r.EventID]))
	}
	if len(p.Suppressed) > 0 {
		b.WriteString("\n  suppressed: ")
		for i, s := range p.Suppressed {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s (%s)", s.Label, s.Reason)
		}
	}
	if p.AggregatedQuantity != nil {
		fmt.Fprintf(&b, "\n  policy %s → %d; clamps: ", p.Policy, *p.AggregatedQuantity)
	} else {
		fmt.Fprintf(&b, "\n  policy %s: no proposals, desired stays %d; clamps: ", p.Policy, p.DesiredBefore)
	}
	if len(p.Clamps) == 0 {
		b.WriteString("none")
	}
	for i, c := range p.Clamps {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(clampSummary(c, p.Requests))
	}
	for _, n := range p.Notes {
		b.WriteString("\n  note: " + n)
	}
	b.WriteString("\n  changes: ")
	if len(changes) == 0 {
		b.WriteString("none")
	}
	for i, c := range changes {
		if i > 0 {
			b.WriteString(", ")
		}
		if c.Label != "" {
			b.WriteString(c.Label + " ")
		}
		b.WriteString(changeVerb(c))
	}
	return b.String()
}

func requestSummary(r api.PeriodRequest, e *api.Event) string {
	if r.Kind == "replacement" {
		return r.Label + " (replacement)"
	}
	ask := fmt.Sprintf("→ %d", r.ProposedQuantity)
	if e != nil && e.Request != nil {
		ask = proposalText(*e.Request, r.ProposedQuantity)
	}
	who := r.Kind
	if e != nil && e.Source.Name != "" {
		who += " " + e.Source.Name
	}
	return fmt.Sprintf("%s (%s, %s)", r.Label, ask, who)
}

// proposalText reads "+4 → 12", "-2 → 10", "+50% → 12" or "set to 12".
func proposalText(r api.Request, proposed int) string {
	switch {
	case r.SetTo != nil:
		return fmt.Sprintf("set to %d", *r.SetTo)
	case r.ChangeBy != nil:
		return fmt.Sprintf("%+d → %d", *r.ChangeBy, proposed)
	case r.ChangeByPercent != nil:
		return fmt.Sprintf("%+g%% → %d", *r.ChangeByPercent, proposed)
	}
	return fmt.Sprintf("→ %d", proposed)
}

func clampSummary(c api.Clamp, reqs []api.PeriodRequest) string {
	s := fmt.Sprintf("%s %d → %d", c.Kind, c.From, c.To)
	if c.EventID != "" {
		for _, r := range reqs {
			if r.EventID == c.EventID {
				s = fmt.Sprintf("%s %s %d → %d", c.Kind, r.Label, c.From, c.To)
			}
		}
	}
	if !c.Applied {
		s += " not applied (forecast_only)"
	}
	if c.Kind == api.ClampForecast && c.Detail != "" {
		s += " (" + c.Detail + ")"
	}
	return s
}

func changeVerb(c api.Change) string {
	switch c.Type {
	case api.ChangeAddNodes:
		return "add " + nodes(c.Amount)
	case api.ChangeRemoveNodes:
		return "remove " + nodes(c.Amount)
	default:
		return nodes(c.Amount) + " lost"
	}
}

// DeletedPeriodSummary is the summary of a period closed because its group
// was deleted.
func DeletedPeriodSummary(label string) string {
	return fmt.Sprintf("period %s: ended without harmonization: the group was deleted", label)
}
