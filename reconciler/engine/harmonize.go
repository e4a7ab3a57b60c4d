package engine

import (
	"cmp"
	"math"
	"slices"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// Request kinds in the decision record.
const (
	kindUser        = "user"
	kindTrigger     = "trigger"
	kindReplacement = "replacement"
)

// proposal is one proposing request of a period.
type proposal struct {
	id       string
	priority int
	kind     string
	quantity int // what aggregation uses: the proposal after forecast governing
}

// Harmonize decides the end of an aggregation period: it aggregates the
// proposing requests by the group's policy, clamps the result, and
// computes the actions that bring ready+in-flight nodes to the new desired
// quantity. Deferred replacement requests propose nothing; they are
// fulfilled by that same reconciliation and become causes when they
// counted toward the change.
func Harmonize(in HarmonizeInput) Decision {
	cfg := in.Config
	policy := cmp.Or(cfg.AggregationPolicy, api.DefaultAggregationPolicy)
	reqs := byTime(in.Requests)

	p := api.Period{
		Label:          in.PeriodLabel,
		Policy:         policy,
		DesiredBefore:  in.DesiredBefore,
		OfficialBefore: in.OfficialBefore,
		Requests:       make([]api.PeriodRequest, 0, len(in.Requests)),
		Suppressed:     []api.PeriodSuppressed{},
		Ignored:        []api.PeriodSuppressed{},
		Clamps:         []api.Clamp{},
		ChangeIDs:      []string{},
	}
	p.Actual, p.InFlight = counts(in.Nodes)

	silencer := Silencer(cfg, reqs)
	var silenced []Silenced

	props := make([]proposal, 0, len(reqs))
	var repls []api.Event
	ungoverned := false // a request governing would have bounded, had it been ready
	for i := range reqs {
		e := &reqs[i]
		if e.Type == api.EventReplacementRequest {
			repls = append(repls, *e)
			// Why it was deferred, paid time weighed, belongs in the record.
			for _, n := range e.Notes {
				p.Notes = append(p.Notes, e.Label+": "+n)
			}
			p.Requests = append(p.Requests, api.PeriodRequest{
				EventID: e.ID, Label: e.Label, ProposedQuantity: in.DesiredBefore,
				Priority: e.Priority, Kind: kindReplacement,
			})
			continue
		}
		asked, ok := proposalOf(*e, in.DesiredBefore)
		if !ok {
			continue // an event with no request form proposes nothing
		}
		pr := proposal{id: e.ID, priority: e.Priority, kind: requestKind(*e), quantity: asked}
		if silencer != "" && pr.kind == kindTrigger {
			silenced = append(silenced, Silenced{EventID: e.ID, Label: e.Label, By: silencer})
			p.Ignored = append(p.Ignored, api.PeriodSuppressed{EventID: e.ID, Label: e.Label})
			continue
		}
		ungoverned = ungoverned || notReady(pr.kind, in.Bounds)
		if governed(pr.kind, in.Bounds) {
			q, c, clamped := forecastClamp(in.Bounds, asked, e.ID)
			if clamped {
				p.Clamps = append(p.Clamps, c)
				pr.quantity = q
			}
		}
		props = append(props, pr)
		if e.Request != nil && e.Request.Target != nil {
			// A target's stabilization note belongs in the record: it
			// says why the proposal is not the formula's.
			for _, n := range e.Notes {
				p.Notes = append(p.Notes, e.Label+": "+n)
			}
		}
		p.Requests = append(p.Requests, api.PeriodRequest{
			EventID: e.ID, Label: e.Label, ProposedQuantity: asked,
			Priority: e.Priority, Kind: pr.kind,
		})
	}
	for _, e := range in.Suppressed {
		s := api.PeriodSuppressed{EventID: e.ID, Label: e.Label, Reason: e.Reason}
		if e.Status == api.EventIgnored {
			p.Ignored = append(p.Ignored, s)
		} else {
			p.Suppressed = append(p.Suppressed, s)
		}
	}

	var outranked []string
	if cfg.DecreasesOutrankIncreases {
		props, outranked = outrank(props, in.DesiredBefore)
		for i := range p.Requests {
			p.Requests[i].Outranked = slices.Contains(outranked, p.Requests[i].EventID)
		}
	}

	desired := in.DesiredBefore
	chosen := -1
	if len(props) > 0 {
		var agg int
		agg, chosen = aggregate(policy, in.DesiredBefore, props)
		p.AggregatedQuantity = &agg
		desired = agg
	}
	// Bounds apply even with no request: a raised min_quantity takes
	// effect at the next harmonization.
	desired, mm := limit(cfg, desired)
	p.Clamps = append(p.Clamps, mm...)
	p.DesiredAfter = desired
	p.OfficialAfter = desired

	d := Decision{Period: p, ForecastNotReady: ungoverned, Silenced: silenced, Outranked: outranked, EndedEarly: in.EndedEarly}
	rm := Removal{Policy: cfg.TerminationPolicy, Now: in.Now, Rates: in.Rates}
	d.Launch, d.Terminate = Reconcile(desired, in.Nodes, rm)
	d.Paid = paidOf(in.Nodes, d.Terminate, rm)
	if d.Launch > 0 || len(d.Terminate) > 0 {
		fulfilled := min(len(repls), max(in.DesiredBefore-(p.Actual+p.InFlight), 0))
		causes := make(map[string]bool)
		for _, pr := range props {
			causes[pr.id] = true
		}
		for _, e := range repls[:fulfilled] {
			causes[e.ID] = true
		}
		for _, e := range reqs {
			if causes[e.ID] {
				d.CauseEventIDs = append(d.CauseEventIDs, e.ID)
			}
		}
		if chosen >= 0 {
			d.DecisiveEventID = props[chosen].id
		}
	}
	return d
}

// Immediate decides an immediate request: its proposal relative to the
// live desired quantity, governed and clamped like a harmonization, and
// the actions that reach it at once.
func Immediate(in ImmediateInput) ImmediateDecision {
	asked, ok := proposalOf(in.Event, in.DesiredBefore)
	if !ok {
		asked = in.DesiredBefore
	}
	d := ImmediateDecision{ProposedQuantity: asked, Clamps: []api.Clamp{}}
	d.ForecastNotReady = notReady(requestKind(in.Event), in.Bounds)
	q := asked
	if governed(requestKind(in.Event), in.Bounds) {
		fq, c, clamped := forecastClamp(in.Bounds, q, in.Event.ID)
		if clamped {
			d.Clamps = append(d.Clamps, c)
			q = fq
		}
	}
	q, mm := limit(in.Config, q)
	d.Clamps = append(d.Clamps, mm...)
	d.DesiredAfter = q
	rm := Removal{Policy: in.Config.TerminationPolicy, Now: in.Now, Rates: in.Rates}
	d.Launch, d.Terminate = Reconcile(q, in.Nodes, rm)
	d.Paid = paidOf(in.Nodes, d.Terminate, rm)
	return d
}

// Chosen returns the ID of the request whose proposal a decision record's
// policy took (largest, smallest, priority, first, last), or "" when the
// policy combines proposals (average, sum) or none was made. It reads the
// record with the same aggregate function Harmonize used, so an
// explanation names the request the decision really chose.
func Chosen(p api.Period) string {
	governedTo := make(map[string]int)
	for _, c := range p.Clamps {
		if c.Kind == api.ClampForecast && c.EventID != "" && c.Applied {
			governedTo[c.EventID] = c.To
		}
	}
	var props []proposal
	for _, r := range p.Requests {
		if r.Kind == kindReplacement || r.Outranked {
			continue
		}
		q := r.ProposedQuantity
		if to, ok := governedTo[r.EventID]; ok {
			q = to
		}
		props = append(props, proposal{id: r.EventID, priority: r.Priority, kind: r.Kind, quantity: q})
	}
	if _, i := aggregate(cmp.Or(p.Policy, api.DefaultAggregationPolicy), p.DesiredBefore, props); i >= 0 {
		return props[i].id
	}
	return ""
}

// outrank sets the increases aside when there are decreases among the
// proposals (decreases_outrank_increases); it returns the proposals kept
// and the IDs set aside.
func outrank(ps []proposal, desired int) ([]proposal, []string) {
	if !slices.ContainsFunc(ps, func(p proposal) bool { return p.quantity < desired }) {
		return ps, nil
	}
	var kept []proposal
	var aside []string
	for _, p := range ps {
		if p.quantity > desired {
			aside = append(aside, p.id)
			continue
		}
		kept = append(kept, p)
	}
	return kept, aside
}

// HarmonizeEarly says whether the open period should end now: with
// harmonize_after_requests N above 0, once N requests (instructions and
// trigger firings; replacements propose nothing) wait in it. It returns
// how many wait.
func HarmonizeEarly(cfg api.Config, requests []api.Event) (int, bool) {
	if cfg.HarmonizeAfterRequests <= 0 {
		return 0, false
	}
	n := 0
	for _, e := range requests {
		if e.Type != api.EventReplacementRequest && e.Status == api.EventAggregated {
			n++
		}
	}
	return n, n >= cfg.HarmonizeAfterRequests
}

// proposalOf is the quantity an event proposes relative to desired: the
// request form recomputed against the period's starting quantity (so every
// proposal in a record shares one base), else the recorded proposal.
func proposalOf(e api.Event, desired int) (int, bool) {
	switch {
	case e.Request != nil && (e.Request.SetTo != nil || e.Request.ChangeBy != nil || e.Request.ChangeByPercent != nil):
		return Propose(desired, *e.Request), true
	case e.ProposedQuantity != nil:
		return max(*e.ProposedQuantity, 0), true
	}
	return 0, false
}

func requestKind(e api.Event) string {
	if e.Type == api.EventUserInstruction || (e.Type != api.EventTriggerFired && e.Source.Kind == api.SourceUser) {
		return kindUser
	}
	return kindTrigger
}

// governed reports whether forecast bounds govern a request of this kind.
func governed(kind string, b *Bounds) bool {
	return b != nil && b.NotReady == "" && (kind == kindTrigger || b.GovernInstructions)
}

// notReady reports whether bounds would govern a request of this kind but
// have no forecast yet.
func notReady(kind string, b *Bounds) bool {
	return b != nil && b.NotReady != "" && (kind == kindTrigger || b.GovernInstructions)
}

// forecastClamp moves q to the nearest authorized quantity of b. With
// forecast_only the clamp is recorded (Applied false) but q is kept.
func forecastClamp(b *Bounds, q int, eventID string) (int, api.Clamp, bool) {
	lo, hi := b.Lower, max(b.Upper, b.Lower)
	var bound int
	switch {
	case q < lo:
		bound = lo
	case q > hi:
		bound = hi
	default:
		return q, api.Clamp{}, false
	}
	c := api.Clamp{
		Kind: api.ClampForecast, Bound: bound, From: q, To: bound,
		Applied: b.Enforce, EventID: eventID,
	}
	if !b.Enforce {
		return q, c, true
	}
	return bound, c, true
}

// limit clamps q into [min_quantity, max_quantity]. A max_quantity of 0
// means unset, as in api (a group can never have max_quantity 0).
func limit(cfg api.Config, q int) (int, []api.Clamp) {
	hi := cfg.MaxQuantity
	if hi <= 0 {
		hi = api.DefaultMaxQuantity
	}
	var cs []api.Clamp
	if hi >= cfg.MinQuantity && q > hi {
		cs = append(cs, api.Clamp{Kind: api.ClampMax, Bound: hi, From: q, To: hi, Applied: true})
		q = hi
	}
	if q < cfg.MinQuantity {
		cs = append(cs, api.Clamp{Kind: api.ClampMin, Bound: cfg.MinQuantity, From: q, To: cfg.MinQuantity, Applied: true})
		q = cfg.MinQuantity
	}
	return q, cs
}

// aggregate combines the proposals (in time order) by policy. It returns
// the aggregate and the index of the chosen proposal, -1 when the result
// combines several (average, sum).
func aggregate(policy string, desired int, ps []proposal) (int, int) {
	if len(ps) == 0 {
		return desired, -1
	}
	pick := func(better func(a, b proposal) bool) (int, int) {
		best := 0
		for i := 1; i < len(ps); i++ {
			if better(ps[i], ps[best]) {
				best = i
			}
		}
		return ps[best].quantity, best
	}
	switch policy {
	case api.PolicySmallest:
		return pick(func(a, b proposal) bool { return a.quantity < b.quantity })
	case api.PolicyAverage:
		sum := 0
		for _, p := range ps {
			sum += p.quantity
		}
		// math.Round rounds half away from zero.
		return int(math.Round(float64(sum) / float64(len(ps)))), -1
	case api.PolicySum:
		q := desired
		for _, p := range ps {
			q += p.quantity - desired
		}
		return max(q, 0), -1
	case api.PolicyPriority:
		// >= so that among equal priorities the latest wins.
		return pick(func(a, b proposal) bool { return a.priority >= b.priority })
	case api.PolicyFirst:
		return ps[0].quantity, 0
	case api.PolicyLast:
		return ps[len(ps)-1].quantity, len(ps) - 1
	default: // largest
		return pick(func(a, b proposal) bool { return a.quantity > b.quantity })
	}
}

// byTime returns the events in time order (stable). Events are large, so
// it sorts positions rather than moving the events around.
func byTime(evs []api.Event) []api.Event {
	cmpTime := func(a, b api.Event) int { return a.Time.Compare(b.Time) }
	if slices.IsSortedFunc(evs, cmpTime) {
		return slices.Clone(evs)
	}
	pos := make([]int, len(evs))
	for i := range pos {
		pos[i] = i
	}
	slices.SortStableFunc(pos, func(a, b int) int { return cmpTime(evs[a], evs[b]) })
	out := make([]api.Event, len(evs))
	for i, p := range pos {
		out[i] = evs[p]
	}
	return out
}
