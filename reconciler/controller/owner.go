package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/causality"
	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// Ownership is the seam of several replicas on one database
// (*replica.Keeper implements it): which groups this controller owns,
// and the fencing token each write for a group carries. With none, the
// controller owns every group (SQLite, one pesd).
type Ownership interface {
	// ID is this replica's id.
	ID() string
	// Fence is the token of the group's shard, if this replica holds it.
	Fence(groupID string) (store.Fence, bool)
	// LostFence is told of a token the store refused: the shard is
	// another replica's now.
	LostFence(f store.Fence)
	// Pin keeps a new group with this replica whatever its shard, before
	// its first write: a local group's nodes run on this host.
	Pin(ctx context.Context, groupID string) error
}

// ShardOf maps a group to its shard; set with Ownership.
type ShardOf func(groupID string) int

// owns reports whether this controller reconciles the group.
func (c *Controller) owns(groupID string) bool {
	if c.opts.Ownership == nil {
		return true
	}
	_, ok := c.opts.Ownership.Fence(groupID)
	return ok
}

// errNotOwner answers a write for a group another replica owns; the
// server forwards such writes to the owner, so this is seen only while a
// shard moves.
func (c *Controller) errNotOwner(groupID string) error {
	return &api.NotOwnerError{Message: fmt.Sprintf("replica %s does not own group %s (its shard is moving between replicas); nothing was changed: retry", c.opts.Ownership.ID(), groupID)}
}

// fence checks, in the transaction tx, that this replica still holds the
// group's lease at the generation it took it with. A stale token refuses
// the write, is logged, and the shard's groups are dropped.
func (c *Controller) fence(tx store.Tx, groupID string) error {
	if c.opts.Ownership == nil {
		return nil
	}
	f, ok := c.opts.Ownership.Fence(groupID)
	if !ok {
		return c.errNotOwner(groupID)
	}
	ft, ok := tx.(store.FencedTx)
	if !ok {
		return fmt.Errorf("the store checks no fencing tokens: several replicas need --store postgres")
	}
	err := ft.CheckFence(f)
	if errors.Is(err, store.ErrFenced) {
		c.log.Error("write refused: stale fencing token", "group", groupID, "shard", f.Shard,
			"generation", f.Generation, "err", err)
		c.counts.fenced.Add(1)
		// Not here: dropping the shard takes its groups' locks, one of
		// which the caller holds.
		go c.opts.Ownership.LostFence(f)
	}
	return err
}

// newGroupID is the id of a new group: one in a shard this replica owns,
// so the replica that creates a group reconciles it from its first write.
func (c *Controller) newGroupID(ctx context.Context, driverName string) (string, error) {
	if c.opts.Ownership == nil {
		return newID(), nil
	}
	if driverName == api.DriverLocal {
		// Its nodes are processes of this host: no other replica could
		// adopt them, so the group stays here (pinned), under this
		// replica's home lease.
		id := newID()
		if err := c.opts.Ownership.Pin(ctx, id); err != nil {
			return "", fmt.Errorf("pin the group to this replica: %w", err)
		}
		return id, nil
	}
	for range 10000 {
		if id := newID(); c.owns(id) {
			return id, nil
		}
	}
	return "", &api.NotOwnerError{Message: fmt.Sprintf("replica %s holds no shard of groups yet; nothing was changed: retry", c.opts.Ownership.ID())}
}

// AdoptShards takes on the groups of shards this replica has just
// leased (shard says which shard a group is in): they are loaded as at a
// start, their nodes adopted through their drivers (sim keeps its nodes'
// state in the node rows; kubernetes finds its pods by label), and an
// event records who owned each group before. Executions of those groups
// go on here.
func (c *Controller) AdoptShards(ctx context.Context, got []store.Acquired, shard ShardOf) error {
	by := make(map[int]store.Acquired, len(got))
	for _, a := range got {
		by[a.Shard] = a
	}
	keep := func(id string) bool { _, ok := by[shard(id)]; return ok }
	loaded, err := c.loadGroups(ctx, keep)
	if err != nil {
		return err
	}
	if err := c.recoverExecutions(ctx, keep); err != nil {
		return err
	}
	var moved []*groupState
	for _, gs := range loaded {
		if a := by[shard(gs.id)]; a.PreviousOwner != "" && gs.st.group.Status == api.GroupActive {
			moved = append(moved, gs)
		}
	}
	for start := 0; start < len(moved); start += c.opts.BatchSize {
		batch := moved[start:min(start+c.opts.BatchSize, len(moved))]
		for _, gs := range batch {
			gs.mu.Lock()
		}
		_, err := c.writeBatch(ctx, batch, func(w *work) error {
			a := by[shard(w.gs.id)]
			_, err := w.newEvent(api.Event{
				Type:   api.EventOwnershipMoved,
				Source: api.Source{Kind: api.SourceSystem, ID: a.Owner, Name: "replica " + a.Owner},
				Status: api.EventApplied,
				Reason: causality.OwnershipMoved(a.Owner, a.PreviousOwner, a.PreviousReleased),
			})
			return err
		})
		for _, gs := range batch {
			gs.mu.Unlock()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// DropShards lets go of the groups of shards this replica no longer
// holds: they leave memory (no node is stopped: the new owner adopts
// them). A write in flight for one of them finishes first, under its
// lock; any later one is refused by its fence.
func (c *Controller) DropShards(inShards func(groupID string) bool) {
	for _, gs := range c.snapshot() {
		if !inShards(gs.id) {
			continue
		}
		gs.mu.Lock()
		c.unregister(gs.id)
		c.forgetEvaluation(gs.id)
		if t, ok := c.clock.(clock.Timer); ok && !gs.dueAt.IsZero() {
			c.due.move(t, c.wakes, gs.id, gs.dueAt, time.Time{})
			gs.dueAt = time.Time{}
		}
		gs.mu.Unlock()
	}
	for id, ss := range c.ex.byGroup() {
		if inShards(id) {
			for _, s := range ss {
				c.ex.drop(s.x.ID)
			}
		}
	}
}
