package controller

import (
	"context"
	"fmt"
	"slices"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/causality"
	"github.com/pes-project/terraform-provider-pes/reconciler/engine"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// Harmonize ends the group's current period now and returns its decision
// record.
func (c *Controller) Harmonize(ctx context.Context, groupID string) (api.Period, error) {
	gs, err := c.lockGroup(ctx, groupID)
	if err != nil {
		return api.Period{}, err
	}
	defer gs.mu.Unlock()
	var p api.Period
	_, err = c.write(ctx, gs, func(w *work) error {
		p, err = w.harmonize()
		return err
	})
	return p, err
}

// harmonize closes the open period with its decision record: the engine
// aggregates the period's requests and decides the actions; the changes
// carrying them out are attributed indirectly, through one nexus, to the
// events the decision names; desired and official take the decided
// quantity; the next period opens.
func (w *work) harmonize() (api.Period, error) { return w.harmonizeEarly(0) }

// harmonizeEarly is harmonize with the number of requests waiting that
// ended the period before its time (0: on time, or asked for).
func (w *work) harmonizeEarly(waiting int) (api.Period, error) {
	s := w.s
	g := s.group
	bounds := w.c.bounds(w.ctx, g, w.now)
	d := engine.Harmonize(engine.HarmonizeInput{
		Config: s.config(), Now: w.now,
		DesiredBefore: g.DesiredQuantity, OfficialBefore: g.OfficialQuantity,
		Nodes: s.nodeList(), Requests: s.requests, Suppressed: s.suppressed,
		Bounds: bounds, PeriodLabel: s.period.Label, Rates: s.rates(), EndedEarly: waiting,
	})
	causality.WriteRecord(&d, bounds)
	// Firings a user instruction silenced are ignored, not requests.
	for _, sl := range d.Silenced {
		i := slices.IndexFunc(s.requests, func(e api.Event) bool { return e.ID == sl.EventID })
		if i < 0 {
			continue
		}
		e := s.requests[i]
		e.Status, e.Reason = api.EventIgnored, causality.Silenced(sl)
		if _, err := w.updateEvent(e); err != nil {
			return api.Period{}, err
		}
	}
	s = w.s
	requests := s.requests
	period := s.period
	changes, err := w.carryOut(d.Launch, d.Terminate, period.ID, period.Label, causality.HarmonizationChange(period.Label))
	if err != nil {
		return api.Period{}, err
	}
	if len(changes) > 0 {
		var causes []*api.Event
		byID := make(map[string]int, len(requests))
		for i, e := range requests {
			byID[e.ID] = i
		}
		for _, id := range d.CauseEventIDs {
			if i, ok := byID[id]; ok {
				e := requests[i]
				causes = append(causes, &e)
			}
		}
		if len(causes) > 0 {
			if _, err := w.linkDecided(api.AttributionIndirect, period.ID, d.DecisiveEventID, causes, changes); err != nil {
				return api.Period{}, err
			}
		} else {
			// Nothing asked for it (a raised min_quantity, a dead node
			// cleared): the change still belongs to the harmonization.
			for _, ch := range changes {
				ch.Attribution = api.AttributionIndirect
				if *ch, err = w.updateChange(*ch); err != nil {
					return api.Period{}, err
				}
			}
		}
	}

	p := d.Period
	p.ID, p.Label, p.GroupID, p.StartedAt = period.ID, period.Label, g.ID, period.StartedAt
	t := w.now
	p.EndedAt, p.Harmonized = &t, true
	recorded := make([]api.Change, 0, len(changes))
	for _, ch := range changes {
		p.ChangeIDs = append(p.ChangeIDs, ch.ID)
		recorded = append(recorded, *ch)
	}
	p.Summary = causality.Summary(p, requests, recorded)
	if err := w.tx.UpdatePeriod(p); err != nil {
		return p, fmt.Errorf("close period %s: %w", p.Label, err)
	}

	w.s.group.DesiredQuantity = p.DesiredAfter
	w.s.group.OfficialQuantity = p.OfficialAfter
	w.groupDirty = true
	if err := w.recordQuantity(p.DesiredAfter, p.Actual); err != nil {
		return p, err
	}
	if err := w.openPeriod(w.now); err != nil {
		return p, err
	}
	return p, nil
}

// recordQuantity adds a point to the group's quantity history, which
// forecasting reads: at every harmonization and immediate change.
func (w *work) recordQuantity(desired, actual int) error {
	if err := w.tx.InsertQuantityPoints(w.s.group.ID, []store.QuantityPoint{
		{Time: w.now, Desired: desired, Actual: actual},
	}); err != nil {
		return fmt.Errorf("record quantity history: %w", err)
	}
	return nil
}
