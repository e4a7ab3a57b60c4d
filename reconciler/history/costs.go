package history

import (
	"context"
	"fmt"
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
	nodes, err := h.r.ListNodes(ctx, g.ID, true)
	if err != nil {
		return api.Costs{}, fmt.Errorf("nodes of group %s: %w", g.ID, err)
	}
	rates := cost.ParseRates(g.BillingHistory)
	// Only the nodes with time in the window need their causes read.
	inWindow := nodes[:0:0]
	var changeIDs []string
	for _, n := range nodes {
		if len(rates.Spans(n, now, since, until)) > 0 {
			inWindow = append(inWindow, n)
			changeIDs = append(changeIDs, n.ChangeID)
		}
	}
	rec, err := h.costRecords(ctx, changeIDs)
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
// replacement requests.
func (h *Reader) costRecords(ctx context.Context, changeIDs []string) (cost.Records, error) {
	rs := newRecordSet(h.r)
	if err := rs.fetchChanges(ctx, changeIDs, false); err != nil {
		return cost.Records{}, fmt.Errorf("changes that launched nodes: %w", err)
	}
	var nexusIDs, periodIDs []string
	for _, c := range rs.Changes {
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
	return cost.Records{Changes: rs.Changes, Nexuses: rs.Nexuses, Events: rs.Events, Periods: periods}, nil
}

// Costed adds to a change's detail the node time and cost of the nodes it
// launched (so far at now, or final once they are gone), and the
// sentence that says it to its explanation.
func (h *Reader) Costed(ctx context.Context, d api.ChangeDetail, now time.Time) (api.ChangeDetail, error) {
	if d.Type != api.ChangeAddNodes {
		return d, nil
	}
	g, err := h.r.GetGroup(ctx, d.GroupID)
	if err != nil {
		return d, fmt.Errorf("group of change %s: %w", d.ID, err)
	}
	nodes, err := h.r.ListNodes(ctx, d.GroupID, true)
	if err != nil {
		return d, fmt.Errorf("nodes of change %s: %w", d.ID, err)
	}
	mine := nodes[:0:0]
	for _, n := range nodes {
		if n.ChangeID == d.ID {
			mine = append(mine, n)
		}
	}
	rates := cost.ParseRates(g.BillingHistory)
	c := cost.OfChange(mine, rates, now)
	nh := hours(c.NodeSeconds)
	d.NodeHours, d.CostFinal = &nh, &c.Final
	currency := rates.Currency()
	if currency != "" {
		d.Cost, d.Currency = api.FormatMoney(c.Micros), currency
		d.Explanation += " " + causality.ChangeCost(d.Change, c.NodeSeconds, c.Micros, currency, c.Final)
	}
	return d, nil
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
	nodes, err := h.r.ListNodes(ctx, groupID, true)
	if err != nil {
		return 0, 0, "", err
	}
	rates := cost.ParseRates(g.BillingHistory)
	c := cost.OfChange(nodes, rates, now)
	return c.NodeSeconds, c.Micros, rates.Currency(), nil
}
