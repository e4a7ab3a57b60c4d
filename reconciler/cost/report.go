package cost

import (
	"cmp"
	"slices"
	"strings"
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
	Head   string      // the words a reader kept with Cause's share, if any
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
	lastOwn                 int // 1 + the change (of a query's) whose id it added last
}

// Report is the answer: rows, largest cost first (by=day: in time
// order), and the totals they add up to.
type Report struct {
	Rows        []Row
	NodeSeconds int64
	Units       int64
	Micros      int64
}

// Tally is the whole billed time of some terminated nodes of one change,
// added up ahead (a reader's ledger of settled node time): a query whose
// window holds all of it adds the sums instead of cutting every node again.
// The sums are those the nodes' spans give, so the answer is the same to
// the micro-unit.
type Tally struct {
	ChangeID string
	// First and FirstNode are the change's first node in launch order
	// (launch, then id): where the change stands among a query's nodes.
	// Last is when its nodes' billed time ends.
	First     time.Time
	FirstNode string
	Last      time.Time
	Seconds   int64
	Units     int64
	Days      []DayTime // by UTC day, in time order
	// Shares and Change are the change's attribution and record once they
	// are settled and kept with the tally; else Records has them.
	Shares []Share
	Change *api.Change
}

// DayTime is a tally's node time within one UTC day.
type DayTime struct {
	Day     string // 2026-12-07
	Seconds int64
	Units   int64
}

// Add adds a terminated node's whole billed time to the tally.
func (t *Tally) Add(n api.Node, rates Rates) {
	spans := rates.Spans(n, time.Time{}, time.Time{}, time.Time{})
	if len(spans) == 0 {
		return
	}
	if t.FirstNode == "" || LaunchOrder(n.LaunchedAt, n.ID, t.First, t.FirstNode) < 0 {
		t.First, t.FirstNode = n.LaunchedAt, n.ID
	}
	t.Last = maxTime(t.Last, spans[len(spans)-1].End)
	for _, s := range spans {
		t.Seconds += s.Seconds()
		t.Units += s.Units()
		for _, d := range splitDays(s) {
			day := d.Start.UTC().Format(time.DateOnly)
			i, found := slices.BinarySearchFunc(t.Days, day, func(x DayTime, day string) int { return cmp.Compare(x.Day, day) })
			if !found {
				t.Days = slices.Insert(t.Days, i, DayTime{Day: day})
			}
			t.Days[i].Seconds += d.Seconds()
			t.Days[i].Units += d.Units()
		}
	}
}

// Within reports whether all the tally's time lies in [since, until) (a
// zero until is no bound).
func (t *Tally) Within(since, until time.Time) bool {
	return !t.First.Before(since) && (until.IsZero() || !t.Last.After(until))
}

// LaunchOrder orders nodes by launch, then id (a tally at its first
// node): the order the store reads them in and a query takes them in.
func LaunchOrder(aAt time.Time, aID string, bAt time.Time, bID string) int {
	if c := aAt.Compare(bAt); c != 0 {
		return c
	}
	return strings.Compare(aID, bID)
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// sortKey is a row's place in the answer's order, small to move around
// (a row is large, and read through its index a cache miss each time).
type sortKey struct {
	units, seconds int64
	prefix         [4]uint64 // the key's first bytes: most ties end there
	row            int32
}

// sortedRows sorts keys by order and returns the rows in it. A long list
// is sorted in two halves side by side and merged: by cause over months it
// is 100,000 rows, and the sort the largest part of the answer's time.
func sortedRows(keys []sortKey, order func(a, b sortKey) int) []int32 {
	perm := make([]int32, 0, len(keys))
	if len(keys) < 20_000 {
		slices.SortFunc(keys, order)
		for _, k := range keys {
			perm = append(perm, k.row)
		}
		return perm
	}
	lo, hi := keys[:len(keys)/2], keys[len(keys)/2:]
	done := make(chan struct{})
	go func() {
		slices.SortFunc(lo, order)
		close(done)
	}()
	slices.SortFunc(hi, order)
	<-done
	for len(lo) > 0 && len(hi) > 0 {
		if order(hi[0], lo[0]) < 0 { // ties to lo: keys are distinct anyway
			perm, hi = append(perm, hi[0].row), hi[1:]
		} else {
			perm, lo = append(perm, lo[0].row), lo[1:]
		}
	}
	for _, k := range lo {
		perm = append(perm, k.row)
	}
	for _, k := range hi {
		perm = append(perm, k.row)
	}
	return perm
}

// acc is one change's node time in a query's window.
type acc struct {
	id             string
	seconds, units int64
	shares         []Share
	change         *api.Change
	days           []int // by=day: the rows of the days it has time in
}

// addDay notes that the change has time in day row i (a change has time
// in a day or two: a search, not a set).
func (a *acc) addDay(i int) {
	if !slices.Contains(a.days, i) {
		a.days = append(a.days, i)
	}
}

// Compute answers q over the nodes a group ever had, its rates and its
// causality records.
func Compute(nodes []api.Node, rates Rates, rec Records, q Query) Report {
	return ComputeTallied(nodes, nil, rates, rec, q)
}

// ComputeTallied is Compute over nodes and tallies of other nodes (every
// tally within q's window). Both come in launch order (a tally at its
// first node); a change may have both.
func ComputeTallied(nodes []api.Node, tallies []*Tally, rates Rates, rec Records, q Query) Report {
	// Rows live in one slice, found by key: a query by cause over months
	// has a row for nearly every cause, and a row each on the heap, in a
	// map grown step by step, cost more than the rest of it.
	var rows []Row
	rowOf := map[string]int{}
	index := func(key string) int {
		i, ok := rowOf[key]
		if !ok {
			i = len(rows)
			rows = append(rows, Row{Key: key})
			rowOf[key] = i
		}
		return i
	}
	get := func(key string) *Row { return &rows[index(key)] }
	var rep Report
	// Changes in the order their first node launched: the order of the
	// ids a row names.
	order := make([]acc, 0, len(tallies)+len(nodes)/2+1)
	byChange := map[string]int{} // the nodes' changes, and tallies of theirs
	for _, n := range nodes {
		if _, ok := byChange[n.ChangeID]; !ok {
			byChange[n.ChangeID] = -1
		}
	}
	at := func(id string) *acc {
		i, ok := byChange[id]
		if ok && i >= 0 {
			return &order[i]
		}
		order = append(order, acc{id: id})
		if ok {
			byChange[id] = len(order) - 1
		}
		return &order[len(order)-1]
	}
	ti := 0
	addTally := func(t *Tally) {
		a := at(t.ChangeID)
		a.seconds += t.Seconds
		a.units += t.Units
		if t.Shares != nil {
			a.shares = t.Shares
		}
		if t.Change != nil {
			a.change = t.Change
		}
		rep.NodeSeconds += t.Seconds
		rep.Units += t.Units
		if q.By == api.CostsByDay {
			for _, d := range t.Days {
				i := index(d.Day)
				rows[i].NodeSeconds += d.Seconds
				rows[i].Units += d.Units
				a.addDay(i)
			}
		}
	}
	for _, n := range nodes {
		for ; ti < len(tallies); ti++ {
			t := tallies[ti]
			if LaunchOrder(t.First, t.FirstNode, n.LaunchedAt, n.ID) > 0 {
				break
			}
			addTally(t)
		}
		spans := rates.Spans(n, q.Now, q.Since, q.Until)
		if len(spans) == 0 {
			continue
		}
		a := at(n.ChangeID)
		for _, s := range spans {
			a.seconds += s.Seconds()
			a.units += s.Units()
			if q.By == api.CostsByDay {
				for _, d := range splitDays(s) {
					i := index(d.Start.UTC().Format(time.DateOnly))
					rows[i].NodeSeconds += d.Seconds()
					rows[i].Units += d.Units()
					a.addDay(i)
				}
			}
		}
		rep.NodeSeconds += spansSeconds(spans)
		rep.Units += spansUnits(spans)
	}
	for ; ti < len(tallies); ti++ {
		addTally(tallies[ti])
	}
	for i := range order {
		a := &order[i]
		if a.change == nil {
			if ch, ok := rec.Changes[a.id]; ok {
				a.change = &ch
			}
		}
		if a.shares == nil {
			ch := api.Change{ID: a.id}
			if a.change != nil {
				ch = *a.change
			}
			a.shares = rec.SharesOf(ch)
		}
	}
	if q.By == api.CostsByCause || q.By == api.CostsByChange {
		n := 0 // rows at most: a change's, or one a share
		for _, a := range order {
			n += max(len(a.shares), 1)
		}
		rows = make([]Row, 0, n)
		rowOf = make(map[string]int, n)
	}
	var secs, units, ws []int64
	var kb []byte
	for i := range order {
		a := &order[i]
		ss := a.shares
		switch q.By {
		case api.CostsByDay:
			continue // rows made above; their events below
		case api.CostsByChange:
			r := get(a.id)
			r.Change = a.change
			r.NodeSeconds += a.seconds
			r.Units += a.units
			r.addChanges(a.id)
			for _, s := range ss {
				r.addEvents(s.Via...)
			}
			continue
		}
		ws = ws[:0]
		for _, s := range ss {
			ws = append(ws, s.Weight)
		}
		secs = apportionInto(secs[:0], a.seconds, ws)
		units = apportionInto(units[:0], a.units, ws)
		for k, s := range ss {
			cause := s.Event
			if cause == nil {
				if e, ok := rec.Events[s.Cause]; ok {
					cause = &e
				}
			}
			var r *Row
			if q.By == api.CostsByCause {
				r = get(s.Cause)
			} else {
				kb = appendKey(kb[:0], q.By, cause)
				if i, ok := rowOf[string(kb)]; ok { // looked up without a string made
					r = &rows[i]
				} else {
					r = get(string(kb))
				}
			}
			if r.Cause == nil {
				r.Cause, r.Head = cause, s.Head
			}
			r.NodeSeconds += secs[k]
			r.Units += units[k]
			r.addShareChanges(i+1, s.ChangeIDs)
			r.addEvents(s.Via...)
		}
	}
	if q.By == api.CostsByDay {
		// A day names each change with time in it once, in launch order,
		// and the events behind them.
		for i := range order {
			for _, d := range order[i].days {
				rows[d].ChangeIDs = append(rows[d].ChangeIDs, order[i].id)
				for _, s := range order[i].shares {
					rows[d].addEvents(s.Via...)
				}
			}
		}
	}
	// Sorted as a small key each (a row is too large to move around, and
	// read through its index it is a cache miss each comparison).
	keys := make([]sortKey, len(rows))
	for i := range rows {
		k := sortKey{units: rows[i].Units, seconds: rows[i].NodeSeconds, row: int32(i)}
		key := rows[i].Key
		for j := range 32 { // past a UUID v7's time: keys made in one millisecond differ
			k.prefix[j/8] <<= 8
			if j < len(key) {
				k.prefix[j/8] |= uint64(key[j])
			}
		}
		keys[i] = k
	}
	byKey := func(a, b sortKey) int {
		for j := range a.prefix {
			if a.prefix[j] != b.prefix[j] {
				return cmp.Compare(a.prefix[j], b.prefix[j])
			}
		}
		return cmp.Compare(rows[a.row].Key, rows[b.row].Key)
	}
	rank := byKey
	if q.By != api.CostsByDay {
		rank = func(a, b sortKey) int {
			switch {
			case a.units != b.units:
				return cmp.Compare(b.units, a.units)
			case a.seconds != b.seconds:
				return cmp.Compare(b.seconds, a.seconds)
			}
			return byKey(a, b)
		}
	}
	perm := sortedRows(keys, rank)

	// Put in that order in place, cycle by cycle: no second slice of rows.
	for i := range perm {
		if perm[i] == int32(i) {
			continue
		}
		held, k := rows[i], i
		for {
			j := int(perm[k])
			perm[k] = int32(k)
			if j == i {
				rows[k] = held
				break
			}
			rows[k] = rows[j]
			k = j
		}
	}
	for i := range rows {
		rows[i].seenChanges, rows[i].seenEvents = nil, nil
	}
	rep.Rows = rows
	// Money rows by largest remainder of their exact units, so they add
	// up to the total, rounded once.
	rep.Micros = Micros(rep.Units)
	ws = make([]int64, len(rep.Rows))
	for i, r := range rep.Rows {
		ws[i] = r.Units
	}
	for i, m := range apportion(rep.Micros, ws) {
		rep.Rows[i].Micros = m
	}
	return rep
}

// addShareChanges adds the changes of a share of change c (1 + its index
// in the query): the change itself first, then those of its failure chain.
// A change's shares are added one change after another, so the change is
// new to the row unless the row's last change was c: no set to look in.
// The chain's changes removed lost nodes and launched none, so they are
// never another share's first.
func (r *Row) addShareChanges(c int, ids []string) {
	if len(ids) == 0 {
		return
	}
	if len(r.ChangeIDs) == 0 {
		r.lastOwn = c
		r.addChanges(ids...)
		return
	}
	if r.lastOwn != c {
		r.lastOwn = c
		r.ChangeIDs = append(r.ChangeIDs, ids[0])
	}
	r.addChanges(ids[1:]...)
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
	if len(list) == 0 && distinct(ids) {
		// A new row takes the ids as they are (clipped: what it appends
		// later goes to a copy), as most rows of a query by cause name
		// only these.
		return slices.Clip(ids)
	}
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

// distinct reports whether ids, a few, are non-empty and differ.
func distinct(ids []string) bool {
	if len(ids) > 4 {
		return false
	}
	for i, id := range ids {
		if id == "" || slices.Contains(ids[:i], id) {
			return false
		}
	}
	return true
}

// appendKey appends the row key a cause's share goes to under by=trigger
// ("trigger:<name>", or the source kind for what no trigger caused) or
// by=actor ("<kind>:<name>" or "<kind>:<principal>/<on behalf of>"); by
// cause the key is the cause event's id.
func appendKey(b []byte, by string, e *api.Event) []byte {
	if e == nil {
		return b
	}
	switch by {
	case api.CostsByTrigger:
		if e.Source.Kind == api.SourceTrigger {
			return append(append(append(b, e.Source.Kind...), ':'), e.Source.Name...)
		}
		return append(b, e.Source.Kind...)
	case api.CostsByActor:
		b = append(append(append(b, e.Source.Kind...), ':'), e.Source.Name...)
		// The principal, and whom it acted for: a shared CI token's
		// instructions for alice and for bob are two actors' costs.
		if e.Source.OnBehalfOf != "" {
			b = append(append(b, '/'), e.Source.OnBehalfOf...)
		}
	}
	return b
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
	Units       int64 // exact: Micros is it rounded once
	Micros      int64
	Final       bool
}

// OfChange is ChangeCost for the nodes of a change.
func OfChange(nodes []api.Node, rates Rates, now time.Time) ChangeCost {
	c := ChangeCost{Final: !slices.ContainsFunc(nodes, func(n api.Node) bool { return n.TerminatedAt == nil })}
	c.NodeSeconds, c.Units = total(nodes, rates, now, time.Time{}, time.Time{})
	c.Micros = Micros(c.Units)
	return c
}

// Total is the node time and money of nodes over [since, until), as
// Compute totals them (a live node counts until now).
func Total(nodes []api.Node, rates Rates, now, since, until time.Time) (seconds, micros int64) {
	seconds, units := total(nodes, rates, now, since, until)
	return seconds, Micros(units)
}

// total is the node-seconds and exact money units of nodes over
// [since, until) (zero times: all of it).
func total(nodes []api.Node, rates Rates, now, since, until time.Time) (seconds, units int64) {
	for _, n := range nodes {
		spans := rates.Spans(n, now, since, until)
		seconds += spansSeconds(spans)
		units += spansUnits(spans)
	}
	return seconds, units
}

// Window is the time from Since until Until.
type Window struct{ Since, Until time.Time }

// TotalIn is Total over disjoint windows, rounded once: the node time and
// money of a run over the time it ran, without its suspensions.
func TotalIn(nodes []api.Node, rates Rates, now time.Time, ws []Window) (seconds, micros int64) {
	var units int64
	for _, w := range ws {
		s, u := total(nodes, rates, now, w.Since, w.Until)
		seconds, units = seconds+s, units+u
	}
	return seconds, Micros(units)
}
