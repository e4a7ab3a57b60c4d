package controller

import (
	"context"
	"errors"
	"fmt"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/causality"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// ExplainChange answers change → causes: the events of the change's
// nexus, with the attribution, the period's decision record and the
// explanation written for a person.
func (c *Controller) ExplainChange(ctx context.Context, id string) (api.ChangeDetail, error) {
	ch, err := c.store.GetChange(ctx, id)
	if err != nil {
		return api.ChangeDetail{}, fmt.Errorf("change %s: %w", id, err)
	}
	d := api.ChangeDetail{Change: ch, Causes: []api.Cause{}}
	if ch.NexusID != "" {
		nx, err := c.store.GetNexus(ctx, ch.NexusID)
		if err != nil {
			return d, fmt.Errorf("nexus of change %s: %w", ch.Label, err)
		}
		events, err := c.store.GetEventsByID(ctx, nx.EventIDs)
		if err != nil {
			return d, fmt.Errorf("causes of change %s: %w", ch.Label, err)
		}
		for _, e := range events {
			d.Causes = append(d.Causes, api.Cause{Attribution: nx.Attribution, Event: e})
		}
	}
	period, err := c.period(ctx, ch.PeriodID)
	if err != nil {
		return d, err
	}
	d.Explanation = causality.ExplainChange(ch, d.Causes, period, &lookup{ctx: ctx, r: c.store})
	return d, nil
}

// ExplainEvent answers event → effects: the changes of the event's nexus,
// with the attribution and the explanation.
func (c *Controller) ExplainEvent(ctx context.Context, id string) (api.EventDetail, error) {
	e, err := c.store.GetEvent(ctx, id)
	if err != nil {
		return api.EventDetail{}, fmt.Errorf("event %s: %w", id, err)
	}
	d := api.EventDetail{Event: e, Effects: []api.Effect{}}
	if e.NexusID != "" {
		nx, err := c.store.GetNexus(ctx, e.NexusID)
		if err != nil {
			return d, fmt.Errorf("nexus of event %s: %w", e.Label, err)
		}
		changes, err := c.store.GetChangesByID(ctx, nx.ChangeIDs)
		if err != nil {
			return d, fmt.Errorf("effects of event %s: %w", e.Label, err)
		}
		for _, ch := range changes {
			d.Effects = append(d.Effects, api.Effect{Attribution: nx.Attribution, Change: ch})
		}
	}
	period, err := c.period(ctx, e.PeriodID)
	if err != nil {
		return d, err
	}
	d.Explanation = causality.ExplainEvent(e, d.Effects, period, &lookup{ctx: ctx, r: c.store})
	return d, nil
}

// period reads a period record; nil when there is none.
func (c *Controller) period(ctx context.Context, id string) (*api.Period, error) {
	if id == "" {
		return nil, nil
	}
	p, err := c.store.GetPeriod(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("period %s: %w", id, err)
	}
	return &p, nil
}

// lookup is a causality.Lookup backed by the store, for the parent chains
// an explanation follows (replacement → removal → failure).
type lookup struct {
	ctx context.Context
	r   store.Reader
}

func (l *lookup) Event(id string) (api.Event, bool) {
	e, err := l.r.GetEvent(l.ctx, id)
	return e, err == nil
}

func (l *lookup) Change(id string) (api.Change, bool) {
	ch, err := l.r.GetChange(l.ctx, id)
	return ch, err == nil
}

func (l *lookup) Nexus(id string) (api.Nexus, bool) {
	nx, err := l.r.GetNexus(l.ctx, id)
	return nx, err == nil
}
