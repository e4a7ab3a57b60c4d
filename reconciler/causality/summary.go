package causality

import (
	"fmt"
	"strings"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/engine"
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
	for _, l := range []struct {
		name string
		list []api.PeriodSuppressed
	}{{"suppressed", p.Suppressed}, {"ignored", p.Ignored}} {
		if len(l.list) == 0 {
			continue
		}
		b.WriteString("\n  " + l.name + ": ")
		for i, s := range l.list {
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
	case r.Target != nil:
		return fmt.Sprintf("target %s %s → %d", r.Target.Metric, num(r.Target.Value), proposed)
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

// WriteRecord puts into words what the engine decided as facts in d: the
// Detail of each clamp and, when predictive governing could not bound a
// request, the note saying why. b are the bounds d was decided with.
func WriteRecord(d *engine.Decision, b *engine.Bounds) {
	describeClamps(d.Period.Clamps, b)
	if d.ForecastNotReady {
		d.Period.Notes = append(d.Period.Notes, notReadyNote(b))
	}
	if n := PaidRemovals(d.Paid); n != "" {
		d.Period.Notes = append(d.Period.Notes, n)
	}
	if d.EndedEarly > 0 {
		d.Period.Notes = append(d.Period.Notes, fmt.Sprintf(
			"ended early: %d requests were waiting (harmonize_after_requests)", d.EndedEarly))
	}
	for _, s := range d.Silenced {
		for i, ig := range d.Period.Ignored {
			if ig.EventID == s.EventID {
				d.Period.Ignored[i].Reason = Silenced(s)
			}
		}
	}
	if len(d.Silenced) > 0 {
		labels := make([]string, 0, len(d.Silenced))
		for _, s := range d.Silenced {
			labels = append(labels, s.Label)
		}
		d.Period.Notes = append(d.Period.Notes, fmt.Sprintf(
			"instructions_silence_triggers: user instruction %s ignored trigger firings %s", d.Silenced[0].By, joinAnd(labels)))
	}
	if len(d.Outranked) > 0 {
		var labels []string
		for _, r := range d.Period.Requests {
			if r.Outranked {
				labels = append(labels, r.Label)
			}
		}
		d.Period.Notes = append(d.Period.Notes, fmt.Sprintf(
			"decreases_outrank_increases: the increases %s were set aside for the period's decreases", joinAnd(labels)))
	}
}

// Silenced is the reason of a trigger firing a user instruction of its
// period silenced (instructions_silence_triggers), at admission or at the
// harmonization: the same words either way.
func Silenced(s engine.Silenced) string {
	return Suppression(engine.Admission{Suppressed: true, SilencedBy: s.By})
}

// ImmediateNotes are an immediate request's notes (it has no decision
// record): how bounds changed it and why predictive governing did not.
func ImmediateNotes(d engine.ImmediateDecision, b *engine.Bounds) []string {
	describeClamps(d.Clamps, b)
	var notes []string
	for _, c := range d.Clamps {
		s := fmt.Sprintf("clamped by %s %d: %d → %d", c.Kind, c.Bound, c.From, c.To)
		if !c.Applied {
			s = fmt.Sprintf("%s would clamp %d → %d (forecast_only, not applied)", c.Kind, c.From, c.To)
		}
		if c.Detail != "" {
			s += " (" + c.Detail + ")"
		}
		notes = append(notes, s)
	}
	if d.ForecastNotReady {
		notes = append(notes, notReadyNote(b))
	}
	if n := PaidRemovals(d.Paid); n != "" {
		notes = append(notes, n)
	}
	return notes
}

// describeClamps sets each clamp's Detail: the bound it met.
func describeClamps(cs []api.Clamp, b *engine.Bounds) {
	for i, c := range cs {
		switch c.Kind {
		case api.ClampMax:
			cs[i].Detail = fmt.Sprintf("max_quantity is %d", c.Bound)
		case api.ClampMin:
			cs[i].Detail = fmt.Sprintf("min_quantity is %d", c.Bound)
		case api.ClampForecast:
			if b != nil {
				cs[i].Detail = fmt.Sprintf("the forecast for %s–%s authorizes %d–%d",
					hhmm(b.Start), hhmm(b.End), b.Lower, max(b.Upper, b.Lower))
			}
		}
	}
}

// notReadyNote is the note for bounds without a forecast.
func notReadyNote(b *engine.Bounds) string {
	return "predictive governing did not clamp: " + b.NotReady
}

// hhmm formats an interval boundary for people: 10:00, or 10:00:30 when
// it is not on a whole minute.
func hhmm(t time.Time) string {
	t = t.UTC()
	if t.Second() == 0 {
		return t.Format("15:04")
	}
	return t.Format("15:04:05")
}
