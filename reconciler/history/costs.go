package history

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/causality"
	"github.com/pes-project/terraform-provider-pes/reconciler/cost"
)

// Costs answers GET /v1/groups/{id}/costs: g's node time and money over
// [since, until) grouped by by, with live nodes counted until now. The
// nodes are the group's durable record of node time (launched_at,
// terminated_at); package cost prices and attributes them.
func (h *Reader) Costs(ctx context.Context, g api.Group, since, until, now time.Time, by string) (api.Costs, error) {
	rates := cost.ParseRates(g.BillingHistory)
	nodes, err := h.r.NodeTimes(ctx, g.ID, since.Add(-rates.Slack()), until)
	if err != nil {
		return api.Costs{}, fmt.Errorf("nodes of group %s: %w", g.ID, err)
	}
	// Only the nodes with time in the window need their causes read.
	inWindow := nodes[:0] // in place: nodes is not read again
	var changeIDs []string
	seen := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		if len(rates.Spans(n, now, since, until)) > 0 {
			inWindow = append(inWindow, n)
			if !seen[n.ChangeID] { // a change launches several nodes
				seen[n.ChangeID] = true
				changeIDs = append(changeIDs, n.ChangeID)
			}
		}
	}
	rec, err := h.costRecords(ctx, changeIDs, now)
	if err != nil {
		return api.Costs{}, err
	}
	rep := cost.Compute(inWindow, rates, rec, cost.Query{Since: since, Until: until, Now: now, By: by})
	currency := rates.Currency()
	billed := currency != ""
	out := api.Costs{
		GroupID: g.ID, By: by, Since: since, Until: until, Currency: currency,
		Rule: causality.CostRule, Rows: make([]api.CostRow, 0, len(rep.Rows)),
		TotalNodeSeconds: rep.NodeSeconds, TotalNodeHours: hours(rep.NodeSeconds),
		TotalCostMicros: rep.Micros, TotalCost: api.FormatMoney(rep.Micros),
	}
	for _, r := range rep.Rows {
		row := api.CostRow{
			Key: r.Key, NodeSeconds: r.NodeSeconds, NodeHours: hours(r.NodeSeconds),
			CostMicros: r.Micros, Cost: api.FormatMoney(r.Micros),
			ChangeIDs: nonNil(r.ChangeIDs), EventIDs: nonNil(r.EventIDs),
		}
		row.Label = causality.CostRowLabel(by, r.Key, r.Cause, r.Change)
		switch {
		case by == api.CostsByChange && r.Change != nil:
			row.Type = r.Change.Type
		case by == api.CostsByCause && r.Cause != nil:
			row.Type, row.Name = r.Cause.Type, r.Cause.Source.Name
		case (by == api.CostsByTrigger || by == api.CostsByActor) && r.Cause != nil:
			row.Type = r.Cause.Source.Kind
			if by == api.CostsByActor || row.Type == api.SourceTrigger {
				row.Name = r.Cause.Source.Name
			}
		}
		row.Description = causality.CostRowDescription(by, row.Label, r.Cause, r.Change,
			r.NodeSeconds, r.Micros, currency, billed, len(r.ChangeIDs))
		out.Rows = append(out.Rows, row)
	}
	return out, nil
}

// costRecords reads what attribution follows from the changes that
// launched nodes: their nexuses, the causes and other changes they name,
// the decision records of their periods, and the failure chains of
// replacement requests. Settled changes come from the reader's cache with
// their shares and causes, and join it once read.
func (h *Reader) costRecords(ctx context.Context, changeIDs []string, now time.Time) (cost.Records, error) {
	rs := newRecordSet(h.r)
	cached := h.settled.get(changeIDs, rs.Records)
	var missing []string
	for _, id := range changeIDs {
		if _, ok := cached[id]; !ok {
			missing = append(missing, id)
		}
	}
	if err := rs.fetchChanges(ctx, missing, false); err != nil {
		return cost.Records{}, fmt.Errorf("changes that launched nodes: %w", err)
	}
	var nexusIDs, periodIDs []string
	for _, id := range missing {
		c, ok := rs.Changes[id]
		if !ok {
			continue
		}
		nexusIDs = append(nexusIDs, c.NexusID)
		periodIDs = append(periodIDs, c.PeriodID)
	}
	if err := rs.fetchNexuses(ctx, nexusIDs, false); err != nil {
		return cost.Records{}, err
	}
	var eventIDs, others []string
	for _, id := range nexusIDs {
		if nx, ok := rs.Nexuses[id]; ok {
			eventIDs = append(eventIDs, nx.EventIDs...)
			others = append(others, nx.ChangeIDs...)
		}
	}
	if err := rs.fetchEvents(ctx, eventIDs, false); err != nil {
		return cost.Records{}, err
	}
	if err := rs.fetchChanges(ctx, others, false); err != nil {
		return cost.Records{}, err
	}
	if err := rs.followLosses(ctx, eventIDs); err != nil {
		return cost.Records{}, err
	}
	periods, err := readPeriods(ctx, h.r, periodIDs)
	if err != nil {
		return cost.Records{}, err
	}
	rec := cost.Records{Changes: rs.Changes, Nexuses: rs.Nexuses, Events: rs.Events, Periods: periods, Shares: cached}
	h.settled.put(missing, rec, now)
	return rec, nil
}

// Costed adds to changes' details the node time and cost of the nodes
// each launched (so far at now, or final once they are gone), and the
// sentence that says it to their explanations. It reads each group's
// nodes once, over the page's time.
func (h *Reader) Costed(ctx context.Context, ds []api.ChangeDetail, now time.Time) ([]api.ChangeDetail, error) {
	type span struct{ since, until time.Time }
	groups := map[string]*span{}
	for _, d := range ds {
		if d.Type != api.ChangeAddNodes {
			continue
		}
		sp, ok := groups[d.GroupID]
		if !ok {
			sp = &span{since: d.StartedAt, until: d.StartedAt}
			groups[d.GroupID] = sp
		}
		sp.since = minTime(sp.since, d.StartedAt)
		sp.until = maxTime(sp.until, d.StartedAt)
	}
	for gid, sp := range groups {
		g, err := h.r.GetGroup(ctx, gid)
		if err != nil {
			return ds, fmt.Errorf("group %s: %w", gid, err)
		}
		// A change's nodes were launched when it started (a launch's late
		// part is a later change of the nodes launched with the first).
		nodes, err := h.r.NodeTimes(ctx, gid, sp.since, sp.until.Add(time.Nanosecond))
		if err != nil {
			return ds, fmt.Errorf("nodes of group %s: %w", gid, err)
		}
		byChange := map[string][]api.Node{}
		for _, n := range nodes {
			byChange[n.ChangeID] = append(byChange[n.ChangeID], n)
		}
		rates := cost.ParseRates(g.BillingHistory)
		currency := rates.Currency()
		for i := range ds {
			d := &ds[i]
			if d.GroupID != gid || d.Type != api.ChangeAddNodes {
				continue
			}
			c := cost.OfChange(byChange[d.ID], rates, now)
			nh, final := hours(c.NodeSeconds), c.Final
			d.NodeHours, d.CostFinal = &nh, &final
			if currency != "" {
				d.Cost, d.Currency = api.FormatMoney(c.Micros), currency
				d.Explanation += " " + causality.ChangeCost(d.Change, c.NodeSeconds, c.Micros, currency, c.Final)
			}
		}
	}
	return ds, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func hours(seconds int64) float64 { return float64(seconds) / 3600 }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// TotalCost is a group's node time and money since it was created, until
// now: what /metrics exports as counters.
func (h *Reader) TotalCost(ctx context.Context, groupID string, now time.Time) (seconds, micros int64, currency string, err error) {
	g, err := h.r.GetGroup(ctx, groupID)
	if err != nil {
		return 0, 0, "", err
	}
	nodes, err := h.r.NodeTimes(ctx, groupID, time.Time{}, time.Time{})
	if err != nil {
		return 0, 0, "", err
	}
	rates := cost.ParseRates(g.BillingHistory)
	c := cost.OfChange(nodes, rates, now)
	return c.NodeSeconds, c.Micros, rates.Currency(), nil
}

// settleAfter is how long after a change ended its attribution can still
// move (a launch's late nodes join its nexus within the launch window;
// this is far past it). Older changes are settled and cached.
const settleAfter = time.Hour

// maxSettled bounds the cache: past it, it starts again.
const maxSettled = 2_000_000

// settledCache holds the attribution of settled changes: the change, its
// shares and the events they name, so a costs query over months reads
// each change's nexus, causes and decision record once, not every time.
type settledCache struct {
	mu      sync.Mutex
	entries map[string]settledChange
}

type settledChange struct {
	change api.Change
	shares []cost.Share // with their cause events
}

// get returns the cached shares of ids and adds their changes to into.
func (c *settledCache) get(ids []string, into *causality.Records) map[string][]cost.Share {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string][]cost.Share, len(ids))
	// Sized once: a query over months holds a change for every id, and
	// growing the map step by step costs more than filling it.
	if len(into.Changes) == 0 {
		into.Changes = make(map[string]api.Change, len(ids))
	}
	for _, id := range ids {
		e, ok := c.entries[id]
		if !ok {
			continue
		}
		out[id] = e.shares
		into.Changes[id] = e.change
	}
	return out
}

// put caches the changes of ids that rec holds and that ended before
// now - settleAfter.
func (c *settledCache) put(ids []string, rec cost.Records, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries)+len(ids) > maxSettled {
		c.entries = make(map[string]settledChange, len(ids))
	}
	for _, id := range ids {
		ch, ok := rec.Changes[id]
		if !ok || ch.EndedAt == nil || !ch.EndedAt.Before(now.Add(-settleAfter)) {
			continue
		}
		shares := cost.Shares(ch, rec)
		for i, s := range shares {
			if e, ok := rec.Events[s.Cause]; ok {
				shares[i].Event = &e
			}
		}
		c.entries[id] = settledChange{change: ch, shares: shares}
	}
}
