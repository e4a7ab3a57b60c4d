package controller

import (
	"context"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/causality"
	"github.com/pes-project/terraform-provider-pes/reconciler/engine"
	"github.com/pes-project/terraform-provider-pes/reconciler/identity"
)

// Instruct records a user instruction. Immediate ones act at once and are
// the direct cause of the change; others are aggregated into the current
// period. Instructions are not subject to lockdown or cooldown.
func (c *Controller) Instruct(ctx context.Context, groupID string, in api.Instruction) (api.Event, error) {
	gs, err := c.lockGroup(ctx, groupID)
	if err != nil {
		return api.Event{}, err
	}
	defer gs.mu.Unlock()
	var ev api.Event
	_, err = c.write(ctx, gs, func(w *work) error {
		ev, err = w.instruct(in)
		return err
	})
	return ev, err
}

func (w *work) instruct(in api.Instruction) (api.Event, error) {
	prio := api.DefaultInstructionPriority
	if in.Priority != nil {
		prio = *in.Priority
	}
	req := in.Request
	e := api.Event{
		Type: api.EventUserInstruction, Source: identity.Source(w.ctx, in.Actor),
		Request: &req, Immediate: in.Immediate, Priority: prio, Reason: in.Reason,
	}
	if in.InReplyTo != "" {
		firing, err := w.replyTo(in.InReplyTo)
		if err != nil {
			return api.Event{}, err
		}
		e.ParentEventID = firing.ID
	}
	return w.request(e)
}

// request records a request (an instruction or an admitted trigger
// firing) with its proposal: immediate ones act now, the others wait for
// the harmonization.
func (w *work) request(e api.Event) (api.Event, error) {
	// A target-tracking firing comes with its proposal: the request form
	// alone does not say it.
	if e.Request.Target == nil || e.ProposedQuantity == nil {
		proposed := engine.Propose(w.s.group.DesiredQuantity, *e.Request)
		e.ProposedQuantity = &proposed
	}
	if !e.Immediate {
		e.Status = api.EventAggregated
		e, err := w.newEvent(e)
		if err != nil {
			return e, err
		}
		if n, early := engine.HarmonizeEarly(w.s.config(), w.s.requests); early {
			if _, err := w.harmonizeEarly(n); err != nil {
				return e, err
			}
		}
		return e, nil
	}
	return w.immediate(e)
}

// immediate carries out a request at once: desired and official follow
// the decision, and the change is attributed directly to the event.
func (w *work) immediate(e api.Event) (api.Event, error) {
	g := w.s.group
	bounds := w.c.bounds(w.ctx, g, w.now)
	d := engine.Immediate(engine.ImmediateInput{
		Config: w.s.config(), Now: w.now, DesiredBefore: g.DesiredQuantity,
		Nodes: w.s.nodeList(), Event: e, Bounds: bounds, Rates: w.s.rates(),
	})
	e.Status = api.EventApplied
	e.ProposedQuantity = &d.ProposedQuantity
	// An immediate request has no decision record: its clamps and notes
	// are the event's notes, beside the requester's reason, where
	// explanations read them.
	e.Notes = append(e.Notes, causality.ImmediateNotes(d, bounds)...)
	e, err := w.newEvent(e)
	if err != nil {
		return e, err
	}
	actual := w.s.ready()
	w.s.group.DesiredQuantity = d.DesiredAfter
	w.s.group.OfficialQuantity = d.DesiredAfter
	w.groupDirty = true
	if err := w.recordQuantity(d.DesiredAfter, actual); err != nil {
		return e, err
	}
	changes, err := w.carryOut(d.Launch, d.Terminate, "", "", causality.RequestedChange(e.Label))
	if err != nil || len(changes) == 0 {
		return e, err
	}
	if _, err := w.link(api.AttributionDirect, "", []*api.Event{&e}, changes); err != nil {
		return e, err
	}
	return e, nil
}

// carryOut records the changes for a decision's actions: removals first
// (failed nodes go before anything is added), then the launch.
func (w *work) carryOut(launch int, terminate []string, periodID, periodLabel, reason string) ([]*api.Change, error) {
	var changes []*api.Change
	if len(terminate) > 0 {
		ch, err := w.removeChange(api.ChangeRemoveNodes, terminate, reason, periodID, periodLabel)
		if err != nil {
			return nil, err
		}
		changes = append(changes, &ch)
	}
	if launch > 0 && w.s.crash.Hold(w.now) {
		// The group's nodes keep failing at once: launching more now
		// would only fail again.
		if err := w.holdLaunch(); err != nil {
			return nil, err
		}
		launch = 0
	}
	if launch > 0 {
		ch, err := w.addChange(launch, periodID, periodLabel)
		if err != nil {
			return nil, err
		}
		changes = append(changes, &ch)
	}
	return changes, nil
}
