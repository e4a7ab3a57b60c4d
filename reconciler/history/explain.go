package history

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/causality"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// ExplainChange answers change → causes: the events of the change's
// nexus, with the attribution, the period's decision record and the
// explanation written for a person.
func (h *Reader) ExplainChange(ctx context.Context, id string) (api.ChangeDetail, error) {
	ch, err := h.r.GetChange(ctx, id)
	if err != nil {
		return api.ChangeDetail{}, fmt.Errorf("change %s: %w", id, err)
	}
	ds, err := h.ExplainChanges(ctx, []api.Change{ch})
	if err != nil {
		return api.ChangeDetail{}, err
	}
	return ds[0], nil
}

// ExplainEvent answers event → effects: the changes of the event's nexus,
// with the attribution and the explanation.
func (h *Reader) ExplainEvent(ctx context.Context, id string) (api.EventDetail, error) {
	e, err := h.r.GetEvent(ctx, id)
	if err != nil {
		return api.EventDetail{}, fmt.Errorf("event %s: %w", id, err)
	}
	ds, err := h.ExplainEvents(ctx, []api.Event{e})
	if err != nil {
		return api.EventDetail{}, err
	}
	return ds[0], nil
}

// ExplainChanges answers change → causes for a page of changes, as
// ExplainChange does for one, in a fixed number of reads whatever the
// length of the page, or of each of its parts (inParts): the nexuses of
// the page, then the events and changes they name, then the replacement
// chains, then the periods whose decision records the explanations use.
func (h *Reader) ExplainChanges(ctx context.Context, changes []api.Change) ([]api.ChangeDetail, error) {
	return inParts(ctx, h.r, changes, explainChanges)
}

// ExplainEvents answers event → effects for a page of events, as
// ExplainEvent does for one, in a fixed number of reads.
func (h *Reader) ExplainEvents(ctx context.Context, events []api.Event) ([]api.EventDetail, error) {
	return inParts(ctx, h.r, events, explainEvents)
}

// minPart is the fewest records of a page explained apart from the rest:
// each part makes the page's fixed reads again, so only long pages (a
// list's page of 1,000) are split.
const minPart = 128

// inParts explains a long page in parts, one a core, at once: a page of
// 1,000 is answered in the time of its largest part rather than of all
// of it. Each part reads the records its own explanations follow, so an
// answer does not depend on the split; records two parts both follow
// (a shared period) are read by each.
func inParts[T, D any](ctx context.Context, r store.Reader, page []T, explain func(context.Context, store.Reader, []T) ([]D, error)) ([]D, error) {
	n := min(runtime.GOMAXPROCS(0), len(page)/minPart)
	if n < 2 {
		return explain(ctx, r, page)
	}
	out := make([][]D, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		part := page[i*len(page)/n : (i+1)*len(page)/n]
		wg.Go(func() { out[i], errs[i] = explain(ctx, r, part) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return slices.Concat(out...), nil
}

func explainChanges(ctx context.Context, r store.Reader, changes []api.Change) ([]api.ChangeDetail, error) {
	rs := newRecordSet(r)
	rs.addChanges(changes)
	nexusIDs := make([]string, 0, len(changes))
	for _, ch := range changes {
		nexusIDs = append(nexusIDs, ch.NexusID)
	}
	if err := rs.fetchNexuses(ctx, nexusIDs, true); err != nil {
		return nil, fmt.Errorf("nexus of change: %w", err)
	}
	// The causes, and the other parts of a launch recorded in parts.
	var eventIDs, changeIDs []string
	for _, id := range nexusIDs {
		if nx, ok := rs.Nexuses[id]; ok {
			eventIDs = append(eventIDs, nx.EventIDs...)
			changeIDs = append(changeIDs, nx.ChangeIDs...)
		}
	}
	if err := rs.fetchEvents(ctx, eventIDs, true); err != nil {
		return nil, fmt.Errorf("causes of change: %w", err)
	}
	if err := rs.fetchChanges(ctx, changeIDs, false); err != nil {
		return nil, err
	}
	if err := rs.followLosses(ctx, eventIDs); err != nil {
		return nil, err
	}
	out := make([]api.ChangeDetail, 0, len(changes))
	var periodIDs []string
	for _, ch := range changes {
		d := api.ChangeDetail{Change: ch, Causes: []api.Cause{}}
		if nx, ok := rs.Nexuses[ch.NexusID]; ok {
			for _, id := range nx.EventIDs {
				d.Causes = append(d.Causes, api.Cause{Attribution: nx.Attribution,
					Decisive: id == nx.DecisiveEventID, Event: rs.Events[id]})
			}
		}
		if causality.NeedsPeriod(ch, d.Causes) {
			periodIDs = append(periodIDs, ch.PeriodID)
		}
		out = append(out, d)
	}
	periods, err := readPeriods(ctx, r, periodIDs)
	if err != nil {
		return nil, err
	}
	for i, d := range out {
		out[i].Explanation = causality.ExplainChange(d.Change, d.Causes, periods[d.PeriodID], rs)
	}
	return out, nil
}

func explainEvents(ctx context.Context, r store.Reader, events []api.Event) ([]api.EventDetail, error) {
	rs := newRecordSet(r)
	rs.addEvents(events)
	nexusIDs := make([]string, 0, len(events))
	pageIDs := make([]string, 0, len(events))
	for _, e := range events {
		nexusIDs = append(nexusIDs, e.NexusID)
		pageIDs = append(pageIDs, e.ID)
	}
	if err := rs.fetchNexuses(ctx, nexusIDs, true); err != nil {
		return nil, fmt.Errorf("nexus of event: %w", err)
	}
	// The effects, and the events they were caused together with.
	var eventIDs, changeIDs []string
	for _, id := range nexusIDs {
		if nx, ok := rs.Nexuses[id]; ok {
			eventIDs = append(eventIDs, nx.EventIDs...)
			changeIDs = append(changeIDs, nx.ChangeIDs...)
		}
	}
	if err := rs.fetchChanges(ctx, changeIDs, true); err != nil {
		return nil, fmt.Errorf("effects of event: %w", err)
	}
	if err := rs.fetchEvents(ctx, eventIDs, false); err != nil {
		return nil, err
	}
	if err := rs.followLosses(ctx, pageIDs); err != nil {
		return nil, err
	}
	periodIDs := make([]string, 0, len(events))
	for _, e := range events {
		periodIDs = append(periodIDs, e.PeriodID)
	}
	periods, err := readPeriods(ctx, r, periodIDs)
	if err != nil {
		return nil, err
	}

	out := make([]api.EventDetail, 0, len(events))
	for _, e := range events {
		d := api.EventDetail{Event: e, Effects: []api.Effect{}}
		if nx, ok := rs.Nexuses[e.NexusID]; ok {
			for _, id := range nx.ChangeIDs {
				d.Effects = append(d.Effects, api.Effect{Attribution: nx.Attribution, Change: rs.Changes[id]})
			}
		}
		d.Explanation = causality.ExplainEvent(e, d.Effects, periods[e.PeriodID], rs)
		out = append(out, d)
	}
	return out, nil
}

// recordSet gathers the records explanations follow, reading each kind in
// one batch per step and never a record it already holds. It is the
// causality.Lookup the explanations read.
type recordSet struct {
	*causality.Records
	r store.Reader
}

func newRecordSet(r store.Reader) *recordSet {
	return &recordSet{Records: causality.NewRecords(nil, nil, nil), r: r}
}

func (rs *recordSet) addChanges(cs []api.Change) {
	for _, c := range cs {
		rs.Changes[c.ID] = c
	}
}

func (rs *recordSet) addEvents(es []api.Event) {
	for _, e := range es {
		rs.Events[e.ID] = e
	}
}

// missing returns the distinct non-empty ids that have is false for.
func missing(ids []string, have func(string) bool) []string {
	var out []string
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if id == "" || seen[id] || have(id) {
			continue
		}
		seen[id] = true
		out = append(out, id)
	}
	return out
}

// fetchNexuses, fetchEvents and fetchChanges read the records of ids not
// yet held, in one read. A record that must be there (required: the
// nexus of a record, the causes or effects it names) fails the call when
// it is missing; the others (parts, parent chains) only make an
// explanation name less, as a nil Lookup does.
func (rs *recordSet) fetchNexuses(ctx context.Context, ids []string, required bool) error {
	ids = missing(ids, func(id string) bool { _, ok := rs.Nexuses[id]; return ok })
	got, err := fetch(ctx, ids, required, rs.r.GetNexusesByID, rs.r.GetNexus)
	for _, n := range got {
		rs.Nexuses[n.ID] = n
	}
	return err
}

func (rs *recordSet) fetchEvents(ctx context.Context, ids []string, required bool) error {
	ids = missing(ids, func(id string) bool { _, ok := rs.Events[id]; return ok })
	got, err := fetch(ctx, ids, required, rs.r.GetEventsByID, rs.r.GetEvent)
	rs.addEvents(got)
	return err
}

func (rs *recordSet) fetchChanges(ctx context.Context, ids []string, required bool) error {
	ids = missing(ids, func(id string) bool { _, ok := rs.Changes[id]; return ok })
	got, err := fetch(ctx, ids, required, rs.r.GetChangesByID, rs.r.GetChange)
	rs.addChanges(got)
	return err
}

// fetch reads ids in one batch. A batch fails whole when one id is
// missing; when the records are optional it is read again one by one,
// keeping those found (a rare path: history is purged a group at a time).
func fetch[T any](ctx context.Context, ids []string, required bool,
	batch func(context.Context, []string) ([]T, error), one func(context.Context, string) (T, error)) ([]T, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	got, err := batch(ctx, ids)
	if err == nil || required || !errors.Is(err, store.ErrNotFound) {
		return got, err
	}
	got = got[:0]
	for _, id := range ids {
		v, err := one(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			continue
		case err != nil:
			return got, err
		}
		got = append(got, v)
	}
	return got, nil
}

// followLosses reads the replacement chains of the events of ids (a
// replacement request → the change that removed the lost node → the event
// that change was attributed to), so explanations can say what was
// replaced and why it was lost.
func (rs *recordSet) followLosses(ctx context.Context, ids []string) error {
	var parents []string
	for _, id := range ids {
		if e, ok := rs.Events[id]; ok && e.ParentChangeID != "" {
			parents = append(parents, e.ParentChangeID)
		}
	}
	if len(parents) == 0 {
		return nil
	}
	if err := rs.fetchChanges(ctx, parents, false); err != nil {
		return err
	}
	var nexusIDs []string
	for _, id := range parents {
		nexusIDs = append(nexusIDs, rs.Changes[id].NexusID)
	}
	if err := rs.fetchNexuses(ctx, nexusIDs, false); err != nil {
		return err
	}
	var first []string
	for _, id := range nexusIDs {
		if nx, ok := rs.Nexuses[id]; ok && len(nx.EventIDs) > 0 {
			first = append(first, nx.EventIDs[0])
		}
	}
	return rs.fetchEvents(ctx, first, false)
}

// readPeriods reads the decision record of every distinct period of ids
// in one read; a period that is gone leaves nil, as for an immediate
// change.
func readPeriods(ctx context.Context, r store.Reader, ids []string) (map[string]*api.Period, error) {
	ids = missing(ids, func(string) bool { return false }) // distinct, non-empty
	got, err := fetch(ctx, ids, false, r.GetPeriodsByID, r.GetPeriod)
	if err != nil {
		return nil, fmt.Errorf("periods: %w", err)
	}
	out := make(map[string]*api.Period, len(ids))
	for i := range got {
		out[got[i].ID] = &got[i]
	}
	return out, nil
}
