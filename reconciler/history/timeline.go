package history

import (
	"context"
	"slices"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// Timeline answers GET /v1/groups/{id}/timeline for g over [since, until]
// cut into buckets (api.Timeline says what it holds). The series come
// from the records: desired and official from the decision records (and
// immediate requests, which move desired between harmonizations), actual
// from where each change ended. The thinning happens here, next to the
// store, so a busy week crosses the network as a few hundred rows.
func (h *Reader) Timeline(ctx context.Context, g api.Group, since, until time.Time, buckets int) (api.Timeline, error) {
	tl := api.Timeline{GroupID: g.ID, Since: since, Until: until, Buckets: buckets,
		Harmonizations: []api.TimelineHarmonization{}}
	start := since
	if g.CreatedAt.After(start) {
		start = g.CreatedAt // no line before the group existed
	}
	if until.Before(start) {
		start = until
	}
	periods, err := all(func(p store.Page) ([]api.Period, string, error) { return h.r.ListPeriods(ctx, g.ID, p) })
	if err != nil {
		return tl, err
	}
	changes, err := all(func(p store.Page) ([]api.Change, string, error) {
		return h.r.ListChanges(ctx, store.ChangeFilter{GroupID: g.ID, Since: since, Until: until, Page: p})
	})
	if err != nil {
		return tl, err
	}
	events, err := all(func(p store.Page) ([]api.Event, string, error) {
		return h.r.ListEvents(ctx, store.EventFilter{GroupID: g.ID, Since: since, Until: until, Page: p})
	})
	if err != nil {
		return tl, err
	}

	// Desired and official: the value at start is what the last decision
	// before it left (or what the first one in the window started from).
	var before *api.Period
	var decided []api.Period
	for i, p := range periods {
		if !p.Harmonized || p.EndedAt == nil || p.EndedAt.After(until) {
			continue
		}
		if p.EndedAt.Before(start) {
			before = &periods[i]
		} else {
			decided = append(decided, p)
		}
	}
	d0, o0 := g.DesiredQuantity, g.OfficialQuantity
	switch {
	case before != nil:
		d0, o0 = before.DesiredAfter, before.OfficialAfter
	case len(decided) > 0:
		d0, o0 = decided[0].DesiredBefore, decided[0].OfficialBefore
	}
	desired := []api.TimelinePoint{{Time: start, Quantity: d0}}
	official := []api.TimelinePoint{{Time: start, Quantity: o0}}
	for _, p := range decided {
		desired = append(desired, api.TimelinePoint{Time: *p.EndedAt, Quantity: p.DesiredAfter})
		official = append(official, api.TimelinePoint{Time: *p.EndedAt, Quantity: p.OfficialAfter})
	}
	for _, e := range events {
		if e.Immediate && e.Status == api.EventApplied && e.ProposedQuantity != nil {
			desired = append(desired, api.TimelinePoint{Time: e.Time, Quantity: *e.ProposedQuantity})
		}
	}
	// Actual: where each change left the group when it ended (a lost node
	// is gone when it is noticed).
	a0 := g.ActualQuantity
	if len(changes) > 0 {
		a0 = changes[0].QuantityBefore
	}
	actual := []api.TimelinePoint{{Time: start, Quantity: a0}}
	for _, c := range changes {
		if at, ok := changeLanded(c); ok {
			actual = append(actual, api.TimelinePoint{Time: at, Quantity: c.QuantityAfter})
		}
	}
	tl.Desired, tl.Official, tl.Actual = steps(desired, until), steps(official, until), steps(actual, until)

	bucket := func(t time.Time) int {
		if !until.After(since) {
			return 0
		}
		return int(float64(t.Sub(since)) / float64(until.Sub(since)) * float64(buckets))
	}
	// Harmonizations: every one, unless there are more than buckets; then
	// one a bucket, one that changed something where there is one.
	tl.HarmonizationCount = len(decided)
	keepH := map[int]api.Period{}
	var orderH []int
	for _, p := range decided {
		b := bucket(*p.EndedAt)
		if len(decided) <= buckets {
			b = len(orderH) // every one its own slot
		}
		had, ok := keepH[b]
		if !ok {
			orderH = append(orderH, b)
		}
		if !ok || len(p.ChangeIDs) > 0 || len(had.ChangeIDs) == 0 {
			keepH[b] = p
		}
	}
	for _, b := range orderH {
		p := keepH[b]
		tl.Harmonizations = append(tl.Harmonizations, api.TimelineHarmonization{PeriodID: p.ID, Label: p.Label, Time: *p.EndedAt,
			Policy: p.Policy, DesiredBefore: p.DesiredBefore, DesiredAfter: p.DesiredAfter,
			OfficialBefore: p.OfficialBefore, OfficialAfter: p.OfficialAfter, Changes: len(p.ChangeIDs)})
	}

	// Changes: all when they fit, else the largest of each type in a
	// bucket. (The console lists them under the chart too, so a quiet
	// window loses none.)
	tl.ChangeCount, tl.Changes = len(changes), changes
	type changeKey struct {
		b   int
		typ string
	}
	if len(changes) > buckets {
		tl.Changes = thin(changes, func(c api.Change) changeKey { return changeKey{bucket(changeTime(c)), c.Type} },
			func(had, c api.Change) bool { return c.Amount >= had.Amount })
	}
	// Events: all when they fit, else the last of each type and status in
	// a bucket, so a suppressed firing is never hidden behind an applied
	// one.
	tl.EventCount, tl.Events = len(events), events
	type eventKey struct {
		b           int
		typ, status string
	}
	if len(events) > buckets {
		tl.Events = thin(events, func(e api.Event) eventKey { return eventKey{bucket(e.Time), e.Type, e.Status} },
			func(api.Event, api.Event) bool { return true })
	}
	return tl, nil
}

// changeTime is where a change is drawn: where it ended, or began while
// it runs.
func changeTime(c api.Change) time.Time {
	if c.EndedAt != nil {
		return *c.EndedAt
	}
	return c.StartedAt
}

// changeLanded says when a change moved the actual quantity, and whether
// it has.
func changeLanded(c api.Change) (time.Time, bool) {
	switch {
	case c.EndedAt != nil:
		return *c.EndedAt, true
	case c.Type == api.ChangeNodeLost:
		return c.StartedAt, true
	}
	return time.Time{}, false
}

// steps orders a series by time and drops points that repeat the
// quantity before them, then holds the last value to until.
func steps(pts []api.TimelinePoint, until time.Time) []api.TimelinePoint {
	slices.SortStableFunc(pts, func(a, b api.TimelinePoint) int { return a.Time.Compare(b.Time) })
	out := pts[:1]
	for _, p := range pts[1:] {
		if p.Quantity != out[len(out)-1].Quantity {
			out = append(out, p)
		}
	}
	if last := out[len(out)-1]; last.Time.Before(until) {
		out = append(out, api.TimelinePoint{Time: until, Quantity: last.Quantity})
	}
	return out
}

// thin keeps one item per key, in the order the keys first appear;
// replace says whether a later item takes the place of the one kept.
func thin[T any, K comparable](items []T, key func(T) K, replace func(had, it T) bool) []T {
	at := map[K]int{}
	out := []T{}
	for _, it := range items {
		k := key(it)
		i, ok := at[k]
		switch {
		case !ok:
			at[k] = len(out)
			out = append(out, it)
		case replace(out[i], it):
			out[i] = it
		}
	}
	return out
}

// all reads every page of a list.
func all[T any](list func(store.Page) ([]T, string, error)) ([]T, error) {
	out := []T{} // [] on the wire, never null
	p := store.Page{Limit: 1000}
	for {
		items, next, err := list(p)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if next == "" {
			return out, nil
		}
		p.Token = next
	}
}
