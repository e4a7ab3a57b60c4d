package cost

import (
	"cmp"
	"slices"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// Query is a costs question: the window [Since, Until), the grouping, and
// the time now (live nodes count until now).
type Query struct {
	Since, Until, Now time.Time
	By                string
}

// Row is one key's node time and money over the window, exact.
type Row struct {
	Key    string
	Cause  *api.Event  // by=cause: the cause; by=trigger, by=actor: the first cause seen
	Change *api.Change // by=change
	// NodeSeconds and Units (price × seconds per hour) are exact; Micros
	// is the row's money, set by Compute by largest remainder over the
	// rows so they add up to the total.
	NodeSeconds int64
	Units       int64
	Micros      int64
	ChangeIDs   []string
	EventIDs    []string

	seenChanges, seenEvents map[string]bool
}

// Report is the answer: rows, largest cost first (by=day: in time
// order), and the totals they add up to.
type Report struct {
	Rows        []Row
	NodeSeconds int64
	Units       int64
	Micros      int64
}

// Compute answers q over the nodes a group ever had, its rates and its
// causality records.
func Compute(nodes []api.Node, rates Rates, rec Records, q Query) Report {
	rows := map[string]*Row{}
	get := func(key string) *Row {
		r, ok := rows[key]
		if !ok {
			r = &Row{Key: key}
			rows[key] = r
		}
		return r
	}
	var rep Report
	type acc struct {
		seconds, units int64
		shares         []Share
	}
	byChange := map[string]*acc{}
	var order []*acc
	var orderIDs []string
	for _, n := range nodes {
		spans := rates.Spans(n, q.Now, q.Since, q.Until)
		if len(spans) == 0 {
			continue
		}
		a, ok := byChange[n.ChangeID]
		if !ok {
			a = &acc{}
			byChange[n.ChangeID] = a
			order = append(order, a)
			orderIDs = append(orderIDs, n.ChangeID)
		}
		for _, s := range spans {
			a.seconds += s.Seconds()
			a.units += s.Units()
			if q.By == api.CostsByDay {
				for _, d := range splitDays(s) {
					r := get(d.Start.UTC().Format(time.DateOnly))
					r.NodeSeconds += d.Seconds()
					r.Units += d.Units()
					r.addChanges(n.ChangeID)
				}
			}
		}
		rep.NodeSeconds += spansSeconds(spans)
		rep.Units += spansUnits(spans)
	}
	for i, chID := range orderIDs {
		ch, ok := rec.Changes[chID]
		if !ok {
			ch = api.Change{ID: chID}
		}
		order[i].shares = rec.SharesOf(ch)
	}
	for i, chID := range orderIDs {
		a, ss := order[i], order[i].shares
		switch q.By {
		case api.CostsByDay:
			continue // rows made above; their events below
		case api.CostsByChange:
			r := get(chID)
			if ch, ok := rec.Changes[chID]; ok {
				r.Change = &ch
			}
			r.NodeSeconds += a.seconds
			r.Units += a.units
			r.addChanges(chID)
			for _, s := range ss {
				r.addEvents(s.Via...)
			}
			continue
		}
		ws := make([]int64, len(ss))
		for i, s := range ss {
			ws[i] = s.Weight
		}
		secs, units := apportion(a.seconds, ws), apportion(a.units, ws)
		for i, s := range ss {
			cause := s.Event
			if e, ok := rec.Events[s.Cause]; ok && cause == nil {
				cause = &e
			}
			r := get(key(q.By, s.Cause, cause))
			if r.Cause == nil {
				r.Cause = cause
			}
			r.NodeSeconds += secs[i]
			r.Units += units[i]
			r.addChanges(s.ChangeIDs...)
			r.addEvents(s.Via...)
		}
	}
	if q.By == api.CostsByDay {
		for _, r := range rows {
			for _, chID := range r.ChangeIDs {
				for _, s := range byChange[chID].shares {
					r.addEvents(s.Via...)
				}
			}
		}
	}
	rep.Rows = make([]Row, 0, len(rows))
	for _, r := range rows {
		r.seenChanges, r.seenEvents = nil, nil
		rep.Rows = append(rep.Rows, *r)
	}
	slices.SortFunc(rep.Rows, func(a, b Row) int {
		if q.By == api.CostsByDay {
			return cmp.Compare(a.Key, b.Key)
		}
		return cmp.Or(cmp.Compare(b.Units, a.Units), cmp.Compare(b.NodeSeconds, a.NodeSeconds), cmp.Compare(a.Key, b.Key))
	})
	// Money rows by largest remainder of their exact units, so they add
	// up to the total, rounded once.
	rep.Micros = Micros(rep.Units)
	ws := make([]int64, len(rep.Rows))
	for i, r := range rep.Rows {
		ws[i] = r.Units
	}
	for i, m := range apportion(rep.Micros, ws) {
		rep.Rows[i].Micros = m
	}
	return rep
}

func (r *Row) addChanges(ids ...string) {
	r.ChangeIDs = addNew(r.ChangeIDs, &r.seenChanges, ids)
}

func (r *Row) addEvents(ids ...string) {
	r.EventIDs = addNew(r.EventIDs, &r.seenEvents, ids)
}

// addNew appends to list the non-empty ids it does not hold yet. Most
// rows name a change or two: those are searched, and a set is built only
// for a long list (a row of a query over months can name thousands).
func addNew(list []string, seen *map[string]bool, ids []string) []string {
	const short = 8
	for _, id := range ids {
		if id == "" {
			continue
		}
		if *seen == nil {
			if slices.Contains(list, id) {
				continue
			}
			list = append(list, id)
			if len(list) > short {
				*seen = make(map[string]bool, 2*len(list))
				for _, v := range list {
					(*seen)[v] = true
				}
			}
			continue
		}
		if !(*seen)[id] {
			(*seen)[id] = true
			list = append(list, id)
		}
	}
	return list
}

// key is the row a cause's share goes to under by: the cause event
// (by=cause), "trigger:<name>" or the source kind for what no trigger
// caused (by=trigger), "<kind>:<name>" or "<kind>:<principal>/<on behalf
// of>" (by=actor).
func key(by, cause string, e *api.Event) string {
	switch by {
	case api.CostsByTrigger:
		if e == nil {
			return ""
		}
		if e.Source.Kind == api.SourceTrigger {
			return e.Source.Kind + ":" + e.Source.Name
		}
		return e.Source.Kind
	case api.CostsByActor:
		if e == nil {
			return ""
		}
		// The principal, and whom it acted for: a shared CI token's
		// instructions for alice and for bob are two actors' costs.
		if e.Source.OnBehalfOf != "" {
			return e.Source.Kind + ":" + e.Source.Name + "/" + e.Source.OnBehalfOf
		}
		return e.Source.Kind + ":" + e.Source.Name
	}
	return cause
}

// splitDays cuts a span at UTC midnights.
func splitDays(s Span) []Span {
	var out []Span
	for start := s.Start; start.Before(s.End); {
		next := start.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
		if next.After(s.End) {
			next = s.End
		}
		out = append(out, Span{Start: start, End: next, PriceMicros: s.PriceMicros, Origin: s.Origin})
		start = next
	}
	return out
}

func spansSeconds(ss []Span) int64 {
	var n int64
	for _, s := range ss {
		n += s.Seconds()
	}
	return n
}

func spansUnits(ss []Span) int64 {
	var n int64
	for _, s := range ss {
		n += s.Units()
	}
	return n
}

// ChangeCost is the node time and money of the nodes one change launched,
// so far (Final once they are all terminated).
type ChangeCost struct {
	NodeSeconds int64
	Micros      int64
	Final       bool
}

// OfChange is ChangeCost for the nodes of a change.
func OfChange(nodes []api.Node, rates Rates, now time.Time) ChangeCost {
	c := ChangeCost{Final: true}
	var units int64
	for _, n := range nodes {
		spans := rates.Spans(n, now, time.Time{}, time.Time{})
		c.NodeSeconds += spansSeconds(spans)
		units += spansUnits(spans)
		if n.TerminatedAt == nil {
			c.Final = false
		}
	}
	c.Micros = Micros(units)
	return c
}

// Total is the node time and money of nodes over [since, until), as
// Compute totals them (a live node counts until now).
func Total(nodes []api.Node, rates Rates, now, since, until time.Time) (seconds, micros int64) {
	var units int64
	for _, n := range nodes {
		spans := rates.Spans(n, now, since, until)
		seconds += spansSeconds(spans)
		units += spansUnits(spans)
	}
	return seconds, Micros(units)
}
