package history

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/causality"
	"github.com/pes-project/terraform-provider-pes/reconciler/cost"
)

// Costs answers GET /v1/groups/{id}/costs: g's node time and money over
// [since, until) grouped by by, with live nodes counted until now. The
// nodes are the group's durable record of node time (launched_at,
// terminated_at); package cost prices and attributes them. Settled node
// time comes from the reader's ledger as tallies per change, so a query
// over months cuts only the nodes at its edges and those not yet settled.
func (h *Reader) Costs(ctx context.Context, g api.Group, since, until, now time.Time, by string) (api.Costs, error) {
	rates := cost.ParseRates(g.BillingHistory)
	rep, err := h.costReport(ctx, g.ID, rates, cost.Query{Since: since, Until: until, Now: now, By: by})
	if err != nil {
		return api.Costs{}, err
	}
	currency := rates.Currency()
	out := api.Costs{
		GroupID: g.ID, By: by, Since: since, Until: until, Currency: currency,
		Rule: causality.CostRule, Rows: make([]api.CostRow, len(rep.Rows)),
		TotalNodeSeconds: rep.NodeSeconds, TotalNodeHours: hours(rep.NodeSeconds),
		TotalCostMicros: rep.Micros, TotalCost: api.FormatMoney(rep.Micros),
	}
	// The rows are written in parts side by side: by cause over months
	// they are 100,000 sentences, and each row is its own.
	parts := 1
	if len(rep.Rows) >= 20_000 {
		parts = runtime.GOMAXPROCS(0)
	}
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := p*len(rep.Rows)/parts, (p+1)*len(rep.Rows)/parts
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				out.Rows[i] = costRow(by, &rep.Rows[i], currency)
			}
		})
	}
	wg.Wait()
	return out, nil
}

// costReport is the report of the group's node time under q: the ledger's tallies
// within the window and the nodes cut at its edges or not yet settled.
// The ledger is locked only while it is read; the report holds only what
// the ledger no longer changes.
func (h *Reader) costReport(ctx context.Context, groupID string, rates cost.Rates, q cost.Query) (cost.Report, error) {
	gl := h.ledger.group(groupID)
	gl.mu.Lock()
	defer gl.mu.Unlock()
	pending, err := gl.advance(ctx, h.r, groupID, rates, q.Now)
	if err != nil {
		return cost.Report{}, fmt.Errorf("nodes of group %s: %w", groupID, err)
	}
	tallies, cut := gl.window(q.Since, q.Until)
	// Only the nodes with time in the window count, and need their causes.
	nodes := make([]api.Node, 0, len(cut)+len(pending))
	for _, n := range append(cut, pending...) {
		if len(rates.Spans(n, q.Now, q.Since, q.Until)) > 0 {
			nodes = append(nodes, n)
		}
	}
	inLaunchOrder(nodes)
	rec := cost.Records{Changes: map[string]api.Change{}, Shares: map[string][]cost.Share{}}
	var changeIDs []string
	seen := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		if seen[n.ChangeID] {
			continue // a change launches several nodes
		}
		seen[n.ChangeID] = true
		if lc := gl.byID[n.ChangeID]; lc != nil && lc.tally.Shares != nil {
			rec.Shares[n.ChangeID], rec.Changes[n.ChangeID] = lc.tally.Shares, *lc.tally.Change
			continue
		}
		changeIDs = append(changeIDs, n.ChangeID)
	}
	var unsettled []*cost.Tally
	for _, t := range tallies {
		if t.Shares == nil {
			unsettled = append(unsettled, t)
			if !seen[t.ChangeID] {
				changeIDs = append(changeIDs, t.ChangeID)
			}
		}
	}
	if err := h.costRecords(ctx, changeIDs, &rec); err != nil {
		return cost.Report{}, err
	}
	// Tallies whose change has settled keep its attribution from now on.
	for _, t := range unsettled {
		ch, ok := rec.Changes[t.ChangeID]
		if ok && ch.EndedAt != nil && ch.EndedAt.Before(q.Now.Add(-settleAfter)) {
			t.Shares, t.Change = sharesWithEvents(ch, rec), &ch
		}
	}
	return cost.ComputeTallied(nodes, tallies, rates, rec, q), nil
}

// costRow is a row of the answer in the API's words.
func costRow(by string, r *cost.Row, currency string) api.CostRow {
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
	head := r.Head
	if by != api.CostsByCause || head == "" {
		head = causality.CostRowHead(by, row.Label, r.Cause, r.Change)
	}
	row.Description = causality.CostRowDescribed(head, r.NodeSeconds, r.Micros, currency, currency != "", len(r.ChangeIDs))
	return row
}

// costRecords reads into rec what attribution follows from the changes
// that launched nodes: their nexuses, the causes and other changes they
// name, the decision records of their periods, and the failure chains of
// replacement requests.
func (h *Reader) costRecords(ctx context.Context, changeIDs []string, rec *cost.Records) error {
	rs := newRecordSet(h.r)
	if err := rs.fetchChanges(ctx, changeIDs, false); err != nil {
		return fmt.Errorf("changes that launched nodes: %w", err)
	}
	var nexusIDs, periodIDs []string
	for _, id := range changeIDs {
		c, ok := rs.Changes[id]
		if !ok {
			continue
		}
		nexusIDs = append(nexusIDs, c.NexusID)
		periodIDs = append(periodIDs, c.PeriodID)
	}
	if err := rs.fetchNexuses(ctx, nexusIDs, false); err != nil {
		return err
	}
	var eventIDs, others []string
	for _, id := range nexusIDs {
		if nx, ok := rs.Nexuses[id]; ok {
			eventIDs = append(eventIDs, nx.EventIDs...)
			others = append(others, nx.ChangeIDs...)
		}
	}
	if err := rs.fetchEvents(ctx, eventIDs, false); err != nil {
		return err
	}
	if err := rs.fetchChanges(ctx, others, false); err != nil {
		return err
	}
	if err := rs.followLosses(ctx, eventIDs); err != nil {
		return err
	}
	periods, err := readPeriods(ctx, h.r, periodIDs)
	if err != nil {
		return err
	}
	for id, c := range rs.Changes {
		rec.Changes[id] = c
	}
	rec.Nexuses, rec.Events, rec.Periods = rs.Nexuses, rs.Events, periods
	return nil
}

// sharesWithEvents is a settled change's attribution, each share with its
// cause's record, to be kept in the ledger without the records.
func sharesWithEvents(ch api.Change, rec cost.Records) []cost.Share {
	shares := cost.Shares(ch, rec)
	for i, s := range shares {
		if e, ok := rec.Events[s.Cause]; ok {
			// Its words by cause, written once rather than in every answer.
			shares[i].Event = &e
			shares[i].Head = causality.CostRowHead(api.CostsByCause, causality.CostRowLabel(api.CostsByCause, e.ID, &e, nil), &e, nil)
		}
	}
	return shares
}

// Costed adds to changes' details the node time and cost of the nodes
// each launched (so far at now, or final once they are gone), and the
// sentence that says it to their explanations. It reads each group's
// nodes once, over the page's time.
func (h *Reader) Costed(ctx context.Context, ds []api.ChangeDetail, now time.Time) ([]api.ChangeDetail, error) {
	// A group's launches in ds: their indices, ids and span of starts.
	type span struct {
		since, until time.Time
		at           []int
		changes      []string
	}
	groups := map[string]*span{}
	for i, d := range ds {
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
		sp.at = append(sp.at, i)
		sp.changes = append(sp.changes, d.ID)
	}
	for gid, sp := range groups {
		hist, err := h.r.BillingHistory(ctx, gid)
		if err != nil {
			return ds, fmt.Errorf("group %s: %w", gid, err)
		}
		// A change's nodes were launched when it started (a launch's late
		// part is a later change of the nodes launched with the first).
		nodes, err := h.r.NodeTimesOfChanges(ctx, gid, sp.changes, sp.since, sp.until.Add(time.Nanosecond))
		if err != nil {
			return ds, fmt.Errorf("nodes of group %s: %w", gid, err)
		}
		byChange := map[string][]api.Node{}
		for _, n := range nodes {
			byChange[n.ChangeID] = append(byChange[n.ChangeID], n)
		}
		rates := cost.ParseRates(hist)
		currency := rates.Currency()
		for _, i := range sp.at {
			d := &ds[i]
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
// now: what /metrics exports as counters. The ledger's settled total plus
// the nodes not yet settled, so a scrape reads only those.
func (h *Reader) TotalCost(ctx context.Context, groupID string, now time.Time) (seconds, micros int64, currency string, err error) {
	hist, err := h.r.BillingHistory(ctx, groupID)
	if err != nil {
		return 0, 0, "", err
	}
	rates := cost.ParseRates(hist)
	gl := h.ledger.group(groupID)
	gl.mu.Lock()
	defer gl.mu.Unlock()
	pending, err := gl.advance(ctx, h.r, groupID, rates, now)
	if err != nil {
		return 0, 0, "", err
	}
	c := cost.OfChange(pending, rates, now)
	seconds, units := gl.seconds+c.NodeSeconds, gl.units+c.Units
	return seconds, cost.Micros(units), rates.Currency(), nil
}
