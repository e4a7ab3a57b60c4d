package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/causality"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
	"github.com/pes-project/terraform-provider-pes/reconciler/forecast"
	"github.com/pes-project/terraform-provider-pes/reconciler/identity"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// CreateGroup creates a group as CreateGroupBy does, by the actor "api".
func (c *Controller) CreateGroup(ctx context.Context, cfg api.GroupConfig) (api.Group, error) {
	return c.CreateGroupBy(ctx, cfg, "")
}

// CreateGroupBy creates a group with its first period H1, records event E1
// (group_created, by the user actor: "terraform", a user name; "api" when
// empty) and one add_nodes change for the desired nodes, attributed
// directly to E1, and launches them.
func (c *Controller) CreateGroupBy(ctx context.Context, cfg api.GroupConfig, actor string) (api.Group, error) {
	if _, err := c.driverFor(api.Group{GroupConfig: cfg}); err != nil {
		return api.Group{}, err
	}
	if err := forecast.Check(cfg.Predictive); err != nil {
		return api.Group{}, err
	}
	if cfg.Tenant == "" {
		cfg.Tenant = api.DefaultTenant
	}
	id, err := c.newGroupID(ctx, cfg.Driver)
	if err != nil {
		return api.Group{}, err
	}
	gs := &groupState{id: id, tenant: cfg.Tenant, st: &state{
		nodes: make(map[string]api.Node), open: make(map[string]api.Change),
	}}
	gs.mu.Lock()
	defer gs.mu.Unlock()
	_, err = c.write(ctx, gs, func(w *work) error {
		g := api.Group{
			ID: id, GroupConfig: cfg, OfficialQuantity: cfg.DesiredQuantity,
			Status: api.GroupActive, CreatedAt: w.now, UpdatedAt: w.now,
			BillingHistory: api.NextBillingHistory(nil, cfg.Billing, w.now),
		}
		if err := w.tx.InsertGroup(g); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return &api.Error{Code: api.CodeConflict, Field: "name",
					Message: fmt.Sprintf("a live group named %q already exists", cfg.Name)}
			}
			return fmt.Errorf("insert group: %w", err)
		}
		w.s.group = g
		if err := w.s.setConfig(cfg); err != nil {
			return err
		}
		w.register = true
		if err := w.openPeriod(w.now); err != nil {
			return err
		}
		desired := cfg.DesiredQuantity
		e, err := w.newEvent(api.Event{
			Type: api.EventGroupCreated, Source: identity.Source(ctx, actor), Status: api.EventApplied,
			Request: &api.Request{SetTo: &desired}, ProposedQuantity: &desired,
		})
		if err != nil {
			return err
		}
		if desired == 0 {
			return nil
		}
		ch, err := w.addChange(desired, "", "")
		if err != nil {
			return err
		}
		_, err = w.link(api.AttributionDirect, "", []*api.Event{&e}, []*api.Change{&ch})
		return err
	})
	if err != nil {
		return api.Group{}, err
	}
	return gs.st.group, nil
}

// openPeriod opens the next aggregation period at start and schedules its
// harmonization.
func (w *work) openPeriod(start time.Time) error {
	g := &w.s.group
	label := w.nextLabel("H")
	p := api.Period{
		ID: newID(), Label: label, GroupID: g.ID, StartedAt: start,
		Policy: g.AggregationPolicy, DesiredBefore: g.DesiredQuantity, OfficialBefore: g.OfficialQuantity,
		Requests: []api.PeriodRequest{}, Suppressed: []api.PeriodSuppressed{},
		Clamps: []api.Clamp{}, ChangeIDs: []string{},
	}
	if err := w.tx.InsertPeriod(p); err != nil {
		return fmt.Errorf("insert period %s: %w", label, err)
	}
	length := w.s.durations.AggregationPeriod
	at := start.Add(length)
	if prev := next(*g); !prev.IsZero() && prev.Add(length).After(start) && !prev.After(start) {
		// Keep the cadence when the pass that harmonized ran a little late.
		at = prev.Add(length)
	}
	g.NextHarmonizationAt = &at
	g.CurrentPeriodID, g.CurrentPeriodLabel = p.ID, p.Label
	w.groupDirty = true
	w.s.period = p
	w.s.requests, w.s.suppressed, w.s.reported = nil, nil, nil
	return nil
}

// UpdateGroup changes a group's configuration. A new desired_quantity is a
// user instruction (set_to) with the patch's actor, reason and immediate
// flag; the other fields take effect at once. Bounds that no longer hold
// the live desired quantity move it at once, by an immediate set_to
// instruction of the patch's actor with reason "bounds changed", so the
// capacity that moves is attributed to the patch.
func (c *Controller) UpdateGroup(ctx context.Context, id string, patch api.GroupPatch) (api.Group, error) {
	gs, err := c.lockGroup(ctx, id)
	if err != nil {
		return api.Group{}, err
	}
	defer gs.mu.Unlock()
	cur := gs.st.group
	// The server checked the patch against the config it read; another
	// patch may have landed since, so check it again under the lock.
	cfg, err := api.ApplyGroupPatch(cur.GroupConfig, patch)
	if err != nil {
		return api.Group{}, err
	}
	if patch.Predictive != nil {
		if err := forecast.Check(cfg.Predictive); err != nil {
			return api.Group{}, err
		}
	}
	// The live desired quantity moves only through the instruction.
	cfg.DesiredQuantity = cur.DesiredQuantity
	if _, err := c.driverFor(api.Group{GroupConfig: cfg}); err != nil {
		return api.Group{}, err
	}
	_, err = c.write(ctx, gs, func(w *work) error {
		before := w.s.group.GroupConfig
		if err := w.s.setConfig(cfg); err != nil {
			return err
		}
		// A new price applies from now on; earlier node time keeps its own.
		w.s.group.BillingHistory = api.NextBillingHistory(w.s.group.BillingHistory, cfg.Billing, w.now)
		w.groupDirty, w.configDirty = true, true
		if err := w.boundsChanged(before, patch.Actor); err != nil {
			return err
		}
		if patch.DesiredQuantity == nil {
			return nil
		}
		in := api.Instruction{
			Request:   api.Request{SetTo: patch.DesiredQuantity},
			Immediate: patch.Immediate, Reason: patch.Reason, Actor: patch.Actor,
		}
		_, err := w.instruct(in)
		return err
	})
	if err != nil {
		return api.Group{}, err
	}
	return gs.st.group, nil
}

// boundsChanged brings the live desired quantity into the group's new
// min/max bounds (before were the old ones) with an immediate set_to
// instruction of actor.
func (w *work) boundsChanged(before api.GroupConfig, actor string) error {
	g := w.s.group
	q, to := g.DesiredQuantity, g.DesiredQuantity
	var why string
	switch {
	case g.MaxQuantity > 0 && q > g.MaxQuantity:
		to, why = g.MaxQuantity, causality.BoundsChanged("max_quantity", before.MaxQuantity, g.MaxQuantity)
	case q < g.MinQuantity:
		to, why = g.MinQuantity, causality.BoundsChanged("min_quantity", before.MinQuantity, g.MinQuantity)
	default:
		return nil
	}
	_, err := w.instruct(api.Instruction{
		Request: api.Request{SetTo: &to}, Immediate: true, Actor: actor,
		Reason: why,
	})
	return err
}

// DeleteGroup deletes a group as DeleteGroupBy does, by the actor "api".
func (c *Controller) DeleteGroup(ctx context.Context, id string) error {
	return c.DeleteGroupBy(ctx, id, "")
}

// DeleteGroupBy records event group_deleted by actor (a user name,
// "terraform"; "api" when empty), terminates every node with one
// remove_nodes change attributed to it, and marks the group deleted. The
// history stays queryable until Retention after the deletion.
func (c *Controller) DeleteGroupBy(ctx context.Context, id, actor string) error {
	gs, err := c.lockGroup(ctx, id)
	if err != nil {
		return err
	}
	defer gs.mu.Unlock()
	_, err = c.write(ctx, gs, func(w *work) error {
		e, err := w.newEvent(api.Event{Type: api.EventGroupDeleted, Source: identity.Source(ctx, actor), Status: api.EventApplied})
		if err != nil {
			return err
		}
		var ids []string
		for _, n := range w.s.nodeList() {
			if n.State != api.NodeTerminating {
				ids = append(ids, n.ID)
			}
		}
		if len(ids) > 0 {
			ch, err := w.removeChange(api.ChangeRemoveNodes, ids, "group deleted", "", "")
			if err != nil {
				return err
			}
			if _, err := w.link(api.AttributionDirect, "", []*api.Event{&e}, []*api.Change{&ch}); err != nil {
				return err
			}
		}
		p := w.s.period
		t := w.now
		p.EndedAt = &t
		p.Summary = causality.DeletedPeriodSummary(p.Label)
		if err := w.tx.UpdatePeriod(p); err != nil {
			return fmt.Errorf("close period %s: %w", p.Label, err)
		}
		w.s.period = p
		g := &w.s.group
		g.Status, g.DeletedAt, g.NextHarmonizationAt = api.GroupDeleted, &t, nil
		w.groupDirty, w.configDirty = true, true
		return nil
	})
	if err != nil {
		return err
	}
	c.forgetEvaluation(id)
	gs.triggers = nil
	if len(gs.st.nodes) == 0 {
		c.unregister(id)
	}
	return nil
}

// forgetEvaluation drops what the evaluation keeps of a group the
// controller no longer reconciles: its triggers' state, its windows and
// the governor's memory of it.
func (c *Controller) forgetEvaluation(id string) {
	c.eval.RemoveGroup(id)
	c.windows.DropGroup(id)
	if f, ok := c.opts.Governor.(Forgetter); ok {
		f.Forget(id)
	}
}

// TerminateNode terminates a node as TerminateNodeBy does, by the actor
// "api".
func (c *Controller) TerminateNode(ctx context.Context, groupID, nodeID string) (api.Event, error) {
	return c.TerminateNodeBy(ctx, groupID, nodeID, "")
}

// TerminateNodeBy terminates one node at the request of actor (a user
// name, "terraform"; "api" when empty): event node_terminated_by_user, a
// remove_nodes change attributed directly to it, then a replacement per
// the group's replacement policy (the desired quantity does not change).
// It returns the event.
func (c *Controller) TerminateNodeBy(ctx context.Context, groupID, nodeID, actor string) (api.Event, error) {
	gs, err := c.lockGroup(ctx, groupID)
	if err != nil {
		return api.Event{}, err
	}
	defer gs.mu.Unlock()
	if err := c.liveNode(ctx, gs, nodeID); err != nil {
		return api.Event{}, err
	}
	var ev api.Event
	_, err = c.write(ctx, gs, func(w *work) error {
		reason := "terminated by the user"
		e, err := w.newEvent(api.Event{
			Type: api.EventNodeTerminatedUser, Source: identity.Source(ctx, actor), NodeID: nodeID,
			Status: api.EventApplied, Reason: reason,
		})
		if err != nil {
			return err
		}
		ch, err := w.removeChange(api.ChangeRemoveNodes, []string{nodeID}, reason, "", "")
		if err != nil {
			return err
		}
		if _, err := w.link(api.AttributionDirect, "", []*api.Event{&e}, []*api.Change{&ch}); err != nil {
			return err
		}
		ev = e
		_, err = w.replace(ch, nodeID)
		return err
	})
	return ev, err
}

// liveNode checks that nodeID is a node of the group that can still be
// terminated or failed.
func (c *Controller) liveNode(ctx context.Context, gs *groupState, nodeID string) error {
	n, ok := gs.st.nodes[nodeID]
	if !ok {
		stored, err := c.store.GetNode(ctx, gs.id, nodeID)
		if err != nil {
			return fmt.Errorf("node %s of group %s: %w", nodeID, gs.id, err)
		}
		n = stored
	}
	switch n.State {
	case api.NodeTerminating, api.NodeTerminated:
		return &api.Error{Code: api.CodeConflict, Field: "node_id",
			Message: fmt.Sprintf("node %s is already %s", nodeID, n.State)}
	}
	return nil
}

// FailNode makes a ready sim node unavailable, then observes the group so
// the failure and its replacement are recorded when the call returns.
func (c *Controller) FailNode(ctx context.Context, groupID, nodeID string) error {
	gs, err := c.lockGroup(ctx, groupID)
	if err != nil {
		return err
	}
	defer gs.mu.Unlock()
	if err := c.liveNode(ctx, gs, nodeID); err != nil {
		return err
	}
	drv, err := c.driverFor(gs.st.group)
	if err != nil {
		return err
	}
	if err := drv.Fail(ctx, groupID, nodeID); err != nil {
		switch {
		case errors.Is(err, driver.ErrUnsupported):
			return &api.Error{Code: api.CodeConflict, Field: "driver",
				Message: fmt.Sprintf("only sim nodes can be failed on demand; group %s uses the %s driver", groupID, gs.st.group.Driver)}
		case errors.Is(err, driver.ErrNotReady):
			return &api.Error{Code: api.CodeConflict, Field: "node_id", Message: err.Error()}
		case errors.Is(err, driver.ErrUnknownNode):
			return fmt.Errorf("%w: %w", store.ErrNotFound, err)
		}
		return err
	}
	return c.observeNow(ctx, gs)
}
