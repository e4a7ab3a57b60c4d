package causality

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/engine"
)

// ExplainChange answers "why did this change happen?". A direct change
// names its one event (and, for a replacement, the loss it replaced); an
// indirect one names every cause, the window they fell in, what the
// period's policy chose, the clamps, and how many nodes replaced lost
// ones. A part of a launch recorded in parts (its nodes became ready at
// different moments) says which part it is, and the causes are the
// launch's. period is the decision record of the change's period (nil for
// immediate changes); l may be nil (the parts are found through it). A
// change whose nodes became ready in parts within the launch window
// (Change.Parts) ends by saying when how many arrived.
func ExplainChange(c api.Change, causes []api.Cause, period *api.Period, l Lookup) string {
	s := explainChange(c, causes, period, l)
	// A change that is itself one part of a launch recorded in several
	// is named, so "its" cannot be read as the launch's.
	whose := "Its"
	if len(launchParts(c, l)) > 1 {
		whose = c.Label + "'s"
	}
	if p := partsSentence(c, whose); p != "" {
		s += " " + p
	}
	return s
}

func explainChange(c api.Change, causes []api.Cause, period *api.Period, l Lookup) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Change %s (%s)", c.Label, described(c))
	evs := make([]api.Event, 0, len(causes))
	for _, cs := range causes {
		evs = append(evs, cs.Event)
	}
	slices.SortStableFunc(evs, func(a, b api.Event) int { return a.Time.Compare(b.Time) })

	if len(evs) == 0 {
		if period != nil && harmonized(*period) {
			// A raised min_quantity or a dead node cleared: the
			// harmonization acted with no request behind it.
			fmt.Fprintf(&b, " at %s was made by the harmonization with no request behind it. %s.",
				cmp.Or(c.PeriodLabel, period.Label, clock(c.StartedAt)), policyClause(*period))
			return b.String()
		}
		fmt.Fprintf(&b, " at %s has no recorded cause.", clock(c.StartedAt))
		return b.String()
	}
	direct := isDirect(c, causes)
	where := clock(c.StartedAt)
	if !direct {
		where = cmp.Or(c.PeriodLabel, periodLabel(period), where)
	}
	// A launch whose nodes became ready at different moments is
	// recorded in parts (seed 000: C1 4 nodes, C2 3 nodes): each part
	// says which it is, and the causes are the launch's.
	launch := c
	if parts := launchParts(c, l); len(parts) > 1 {
		launch.Amount = 0
		var nth int
		var others []string
		for i, p := range parts {
			launch.Amount += p.Amount
			if p.ID == c.ID {
				nth = i + 1
			} else {
				others = append(others, p.Label)
			}
		}
		fmt.Fprintf(&b, " is the %s part of the %s launched at %s (with %s). The launch",
			ordinal(nth), nodes(launch.Amount), where, joinAnd(others))
	} else {
		b.WriteString(" at " + where)
	}
	if direct {
		e := evs[0]
		fmt.Fprintf(&b, " was directly caused by event %s: %s.", e.Label, what(e, l))
		if lost, cause, ok := loss(e, l); ok && cause.Label != "" {
			fmt.Fprintf(&b, " %s (%s) was directly caused by %s: %s.", lost.Label, described(lost), cause.Label, what(cause, l))
		}
		return b.String()
	}

	noun := "events"
	if len(evs) == 1 {
		noun = "event"
	}
	fmt.Fprintf(&b, " was indirectly caused by %s %s %s.", noun, joinAnd(labels(evs)), window(evs))
	for _, e := range evs {
		fmt.Fprintf(&b, " %s: %s.", e.Label, what(e, l))
	}
	if period == nil {
		return b.String()
	}
	// "Policy largest chose +4 → desired 12; 1 more node replaced the
	// lost one." as in SPEC §3.
	b.WriteString(" " + policyClause(*period))
	repl := 0
	for _, e := range evs {
		if e.Type == api.EventReplacementRequest {
			repl++
		}
	}
	if s := replacementClause(launch, *period, repl); s != "" {
		b.WriteString("; " + s)
	}
	b.WriteString(".")
	for _, cl := range period.Clamps {
		if cl.Kind != api.ClampForecast || cl.EventID == "" {
			continue
		}
		if i := slices.IndexFunc(evs, func(e api.Event) bool { return e.ID == cl.EventID }); i >= 0 {
			fmt.Fprintf(&b, " %s was governed by the forecast: %s", evs[i].Label, forecastSentence(evs[i], cl))
		}
	}
	for _, n := range period.Notes {
		b.WriteString(" " + capitalize(sentence(n)))
	}
	return b.String()
}

// partsSentence says in which parts the nodes of add_nodes change c
// became ready, when it records more than one: "Its 95 nodes became
// ready in 3 parts: 40 at 10:00:12, 30 at 10:00:13 and 25 at 10:00:14."
// whose starts the sentence ("Its", "C3's").
func partsSentence(c api.Change, whose string) string {
	if len(c.Parts) < 2 {
		return ""
	}
	ps := make([]string, 0, len(c.Parts))
	for _, p := range c.Parts {
		ps = append(ps, fmt.Sprintf("%d at %s", p.Amount, clock(p.ReadyAt)))
	}
	return fmt.Sprintf("%s %s became ready in %d parts: %s.", whose, nodes(c.Amount), len(c.Parts), joinAnd(ps))
}

// NeedsPeriod reports whether ExplainChange reads the decision record for
// c with these causes: not for a change caused directly by an event, so a
// page of them is explained without reading their periods.
func NeedsPeriod(c api.Change, causes []api.Cause) bool {
	return len(causes) == 0 || !isDirect(c, causes)
}

// ExplainEvent answers "what did this event do?" and, when it did
// nothing, "why not?": suppressed (lockdown, cooldown), ignored (missing
// data), aggregated without a change, lost to the policy, or clamped.
// period is the decision record of the event's period (nil if unknown);
// l may be nil.
func ExplainEvent(e api.Event, effects []api.Effect, period *api.Period, l Lookup) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Event %s at %s: %s.", e.Label, clock(e.Time), what(e, l))
	var direct, indirect []api.Change
	for _, ef := range effects {
		if ef.Attribution == api.AttributionIndirect {
			indirect = append(indirect, ef.Change)
		} else {
			direct = append(direct, ef.Change)
		}
	}
	if len(direct) > 0 {
		parts := make([]string, 0, len(direct))
		for _, c := range direct {
			parts = append(parts, fmt.Sprintf("%s (%s)", c.Label, described(c)))
		}
		fmt.Fprintf(&b, " It directly caused %s.", joinAnd(parts))
		for _, c := range direct {
			if p := partsSentence(c, c.Label+"'s"); p != "" {
				b.WriteString(" " + p)
			}
		}
	}
	for _, parts := range launches(indirect) {
		c := parts[0]
		at := c.PeriodLabel
		if at == "" {
			at = clock(c.StartedAt)
		}
		if len(parts) == 1 {
			fmt.Fprintf(&b, " At %s it caused %s (%s)", at, c.Label, described(c))
		} else {
			// One launch recorded in parts: said once, as the launch.
			var ls, ds []string
			for _, p := range parts {
				ls = append(ls, p.Label)
				ds = append(ds, fmt.Sprintf("%s (%s)", p.Label, described(p)))
				if p.ID != c.ID {
					c.Amount += p.Amount
				}
			}
			fmt.Fprintf(&b, " At %s it caused the launch of %s, recorded as %s", at, nodes(c.Amount), joinAnd(ds))
			c.Label = joinAnd(ls)
		}
		if others := together(e, c, period, l); len(others) > 0 {
			if len(parts) > 1 {
				b.WriteString(",") // after the list of parts
			}
			b.WriteString(" together with " + joinAnd(others))
		}
		b.WriteString(".")
		if period != nil {
			if s := roleSentence(e, c, *period); s != "" {
				b.WriteString(" " + s)
			}
		}
		for _, p := range parts {
			if s := partsSentence(p, p.Label+"'s"); s != "" {
				b.WriteString(" " + s)
			}
		}
	}
	if len(effects) == 0 {
		b.WriteString(" " + whyNot(e, period))
	}
	if period != nil {
		for _, cl := range period.Clamps {
			if cl.Kind == api.ClampForecast && cl.EventID == e.ID {
				b.WriteString(" " + capitalize(forecastSentence(e, cl)))
			}
		}
		if noted(e, *period) {
			for _, n := range period.Notes {
				b.WriteString(" " + capitalize(sentence(n)))
			}
		}
	}
	return b.String()
}

// noted reports whether the notes of record p concern event e. Notes are
// about predictive governing, which always covers triggers and covers
// instructions only when the group says so; the record does not keep that
// setting, so an instruction shares the notes only when no trigger of the
// period could have caused them.
func noted(e api.Event, p api.Period) bool {
	r, ok := request(p, e.ID)
	if !ok || len(p.Notes) == 0 {
		return false
	}
	switch r.Kind {
	case "trigger":
		return true
	case "user":
		return !slices.ContainsFunc(p.Requests, func(r api.PeriodRequest) bool { return r.Kind == "trigger" })
	}
	return false
}

// whyNot says why an event caused no change.
func whyNot(e api.Event, p *api.Period) string {
	switch {
	case e.Type == api.EventMetricsMissing:
		return "A condition over a metric with no samples is not satisfied, so nothing was asked and nothing changed: pesd does not scale on missing data. " +
			"It is recorded once when the data goes missing and once when it returns."
	case e.Type == api.EventMetricsReturned:
		return "The trigger's metrics have samples again, so its condition is evaluated again; this notice asks for nothing."
	case e.Type == api.EventOwnershipMoved:
		return OwnershipNoChange
	case e.Status == api.EventSuppressed:
		return "It was suppressed and caused no change: " + sentence(e.Reason)
	case e.Status == api.EventIgnored:
		if e.Reason == "" {
			return "It was ignored and caused no change."
		}
		return "It was ignored and caused no change: " + sentence(e.Reason)
	case e.Status == api.EventAggregated && (p == nil || !harmonized(*p)):
		label := e.PeriodLabel
		if label == "" && p != nil {
			label = p.Label
		}
		if label == "" {
			return "It waits for the harmonization at the end of its period."
		}
		return "It waits for the harmonization at the end of " + label + "."
	case p != nil && e.Type == api.EventReplacementRequest:
		return fmt.Sprintf("At %s no node was launched for it: desired went %d → %d, and the %s running or launching already met it.",
			p.Label, p.DesiredBefore, p.DesiredAfter, nodes(p.Actual+p.InFlight))
	case p != nil:
		s := fmt.Sprintf("At %s the %s", p.Label, policyPhrase(p.Policy))
		if p.DesiredAfter == p.DesiredBefore {
			s += fmt.Sprintf(" kept desired at %d; nothing to do.", p.DesiredAfter)
		} else {
			s += fmt.Sprintf(" set desired to %d; the nodes running or launching already matched it, nothing to do.", p.DesiredAfter)
		}
		if chosen := engine.Chosen(*p); chosen != "" && chosen != e.ID {
			if r, ok := request(*p, chosen); ok {
				s += fmt.Sprintf(" Policy %s chose %s's %d.", p.Policy, r.Label, governed(*p, r))
			}
		}
		return s
	}
	return "It caused no change."
}

// roleSentence says what part an aggregated event played in change c.
func roleSentence(e api.Event, c api.Change, p api.Period) string {
	if e.Type == api.EventReplacementRequest {
		switch c.Type {
		case api.ChangeAddNodes:
			return fmt.Sprintf("1 of the %s replaced the lost node %s.", nodes(c.Amount), node(e))
		case api.ChangeRemoveNodes:
			return fmt.Sprintf("The lost node %s counted as one of the removals, so %s removed %s instead of %d.",
				node(e), c.Label, nodes(c.Amount), c.Amount+1)
		}
		return ""
	}
	mine, ok := request(p, e.ID)
	if !ok {
		return ""
	}
	asked := fmt.Sprintf("%s asked for %s → %d", e.Label, ask(e), mine.ProposedQuantity)
	if e.Request != nil && e.Request.SetTo != nil {
		asked = fmt.Sprintf("%s asked for %s", e.Label, ask(e))
	}
	chosen := engine.Chosen(p)
	switch {
	case chosen == e.ID:
		return fmt.Sprintf("Policy %s chose its %d → desired %d.", p.Policy, governed(p, mine), p.DesiredAfter)
	case chosen != "":
		r, _ := request(p, chosen)
		return fmt.Sprintf("%s; policy %s chose %s's %d, so %s is a contributing cause of %s.",
			asked, p.Policy, r.Label, governed(p, r), e.Label, c.Label)
	case p.AggregatedQuantity != nil:
		return fmt.Sprintf("%s; policy %s combined the proposals into %d, so %s is a contributing cause of %s.",
			asked, p.Policy, *p.AggregatedQuantity, e.Label, c.Label)
	}
	return ""
}

// policyClause says what the policy chose and how min/max bounded it.
func policyClause(p api.Period) string {
	if p.AggregatedQuantity == nil {
		if p.DesiredAfter == p.DesiredBefore {
			return fmt.Sprintf("No request proposed a new quantity; desired stayed %d", p.DesiredAfter)
		}
		return fmt.Sprintf("No request proposed a new quantity; desired went %d → %d%s", p.DesiredBefore, p.DesiredAfter, bounded(p))
	}
	agg := *p.AggregatedQuantity
	if agg == p.DesiredBefore && p.DesiredAfter == agg {
		return fmt.Sprintf("Policy %s kept desired at %d", p.Policy, agg)
	}
	if b := bounded(p); b != "" {
		return fmt.Sprintf("Policy %s chose %+d → %d%s → desired %d", p.Policy, agg-p.DesiredBefore, agg, b, p.DesiredAfter)
	}
	return fmt.Sprintf("Policy %s chose %+d → desired %d", p.Policy, agg-p.DesiredBefore, p.DesiredAfter)
}

// bounded names the min/max clamps of a record: ", clamped to max_quantity 15".
func bounded(p api.Period) string {
	var s string
	for _, c := range p.Clamps {
		if c.EventID == "" && c.Applied && (c.Kind == api.ClampMin || c.Kind == api.ClampMax) {
			s += fmt.Sprintf(", clamped to %s %d", c.Kind, c.Bound)
		}
	}
	return s
}

// forecastSentence reads "trigger cpu-high asked for 14; the forecast for
// 10:00–11:00 authorizes 6–11; 11 was used."
func forecastSentence(e api.Event, c api.Clamp) string {
	detail := c.Detail
	if detail == "" {
		detail = fmt.Sprintf("the forecast bound is %d", c.Bound)
	}
	if !c.Applied {
		return fmt.Sprintf("%s asked for %d; %s; forecast_only, so %d was kept.", who(e), c.From, detail, c.From)
	}
	return fmt.Sprintf("%s asked for %d; %s; %d was used.", who(e), c.From, detail, c.To)
}

// replacementClause says how many nodes of change c replaced lost ones,
// from the record: what the change did beyond moving desired.
func replacementClause(c api.Change, p api.Period, repl int) string {
	if repl == 0 {
		return ""
	}
	switch c.Type {
	case api.ChangeAddNodes:
		n := min(max(c.Amount-(p.DesiredAfter-p.DesiredBefore), 0), repl, c.Amount)
		if n == 0 {
			return ""
		}
		more := ""
		if p.DesiredAfter > p.DesiredBefore {
			more = " more"
		}
		if n == 1 {
			return fmt.Sprintf("1%s node replaced the lost one", more)
		}
		return fmt.Sprintf("%d%s nodes replaced the lost ones", n, more)
	case api.ChangeRemoveNodes:
		n := min(max(p.DesiredBefore-p.DesiredAfter-c.Amount, 0), repl)
		if n == 0 {
			return ""
		}
		if n == 1 {
			return fmt.Sprintf("the lost node already counted as one of the removals, so %s removed instead of %d",
				wasWere(c.Amount), c.Amount+n)
		}
		return fmt.Sprintf("the %d lost nodes already counted as removals, so %s removed instead of %d",
			n, wasWere(c.Amount), c.Amount+n)
	}
	return ""
}

func wasWere(n int) string {
	if n == 1 {
		return "1 node was"
	}
	return fmt.Sprintf("%d nodes were", n)
}

// together names the other causes of change c besides e: from the nexus
// when it can be looked up, else the period's requests.
func together(e api.Event, c api.Change, p *api.Period, l Lookup) []string {
	var others []api.Event
	if l != nil && c.NexusID != "" {
		if n, ok := l.Nexus(c.NexusID); ok {
			for _, id := range n.EventIDs {
				if id == e.ID {
					continue
				}
				if o, ok := l.Event(id); ok {
					others = append(others, o)
				}
			}
			slices.SortStableFunc(others, func(a, b api.Event) int { return a.Time.Compare(b.Time) })
			return labels(others)
		}
	}
	if p == nil {
		return nil
	}
	var ls []string
	for _, r := range p.Requests {
		if r.EventID != e.ID && r.Kind != "replacement" {
			ls = append(ls, r.Label)
		}
	}
	return ls
}

func request(p api.Period, id string) (api.PeriodRequest, bool) {
	i := slices.IndexFunc(p.Requests, func(r api.PeriodRequest) bool { return r.EventID == id })
	if i < 0 {
		return api.PeriodRequest{}, false
	}
	return p.Requests[i], true
}

// governed is the quantity a request took part in aggregation with: its
// proposal, or the forecast bound that replaced it.
func governed(p api.Period, r api.PeriodRequest) int {
	for _, c := range p.Clamps {
		if c.Kind == api.ClampForecast && c.EventID == r.EventID && c.Applied {
			return c.To
		}
	}
	return r.ProposedQuantity
}

func harmonized(p api.Period) bool { return p.Harmonized || p.EndedAt != nil }

func isDirect(c api.Change, causes []api.Cause) bool {
	if c.Attribution != "" {
		return c.Attribution == api.AttributionDirect
	}
	return len(causes) == 1 && causes[0].Attribution == api.AttributionDirect
}

// policyPhrase names what a policy takes: "largest proposal".
func policyPhrase(policy string) string {
	switch cmp.Or(policy, api.DefaultAggregationPolicy) {
	case api.PolicySmallest:
		return "smallest proposal"
	case api.PolicyAverage:
		return "average of the proposals"
	case api.PolicySum:
		return "sum of the requests"
	case api.PolicyPriority:
		return "highest-priority proposal"
	case api.PolicyFirst:
		return "first proposal"
	case api.PolicyLast:
		return "last proposal"
	}
	return "largest proposal"
}

// window reads "between 10:01:05 and 10:01:52", or "at 10:01:05" when
// every event falls in one second (as people read the clock); evs are in
// time order.
func window(evs []api.Event) string {
	first, last := clock(evs[0].Time), clock(evs[len(evs)-1].Time)
	if first == last {
		return "at " + first
	}
	return fmt.Sprintf("between %s and %s", first, last)
}

// launches groups changes into launches: the parts of one launch
// together (in label order), every other change alone, in the order of
// their first change.
func launches(cs []api.Change) [][]api.Change {
	var out [][]api.Change
	for _, c := range cs {
		i := slices.IndexFunc(out, func(g []api.Change) bool { return samePart(g[0], c) })
		if i < 0 {
			out = append(out, []api.Change{c})
			continue
		}
		out[i] = append(out[i], c)
		slices.SortStableFunc(out[i], func(a, b api.Change) int { return compareLabels(a.Label, b.Label) })
	}
	return out
}

// launchParts returns the parts of the launch change c belongs to, in
// label order, when it was recorded in more than one: the add_nodes
// changes of c's nexus that started with it. Nil otherwise, or without
// the records to tell.
func launchParts(c api.Change, l Lookup) []api.Change {
	if l == nil || c.NexusID == "" || c.Type != api.ChangeAddNodes {
		return nil
	}
	n, ok := l.Nexus(c.NexusID)
	if !ok {
		return nil
	}
	var parts []api.Change
	for _, id := range n.ChangeIDs {
		o := c
		if id != c.ID {
			if o, ok = l.Change(id); !ok {
				continue
			}
		}
		if samePart(o, c) {
			parts = append(parts, o)
		}
	}
	if len(parts) < 2 {
		return nil
	}
	slices.SortStableFunc(parts, func(a, b api.Change) int { return compareLabels(a.Label, b.Label) })
	return parts
}

// samePart reports whether a and b are parts of one launch: the controller
// splits a launch into changes of one nexus that keep its start.
func samePart(a, b api.Change) bool {
	return a.Type == api.ChangeAddNodes && b.Type == api.ChangeAddNodes &&
		a.NexusID == b.NexusID && a.PeriodID == b.PeriodID && a.StartedAt.Equal(b.StartedAt)
}

// compareLabels orders sequence labels as people read them: C2 < C10.
func compareLabels(a, b string) int {
	na, nb := labelNumber(a), labelNumber(b)
	if na != nb {
		return cmp.Compare(na, nb)
	}
	return strings.Compare(a, b)
}

func labelNumber(s string) int {
	n, seen := 0, false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			n, seen = n*10+int(r-'0'), true
		case seen:
			return n
		}
	}
	return n
}

// ordinal reads 1 as "first", 12 as "12th".
func ordinal(n int) string {
	words := []string{"first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"}
	if n >= 1 && n <= len(words) {
		return words[n-1]
	}
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return fmt.Sprintf("%d%s", n, suffix)
}

func periodLabel(p *api.Period) string {
	if p == nil {
		return ""
	}
	return p.Label
}

func labels(evs []api.Event) []string {
	ls := make([]string, 0, len(evs))
	for _, e := range evs {
		ls = append(ls, e.Label)
	}
	return ls
}

func joinAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// sentence ends s with a period unless it has one.
func sentence(s string) string {
	if strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}
