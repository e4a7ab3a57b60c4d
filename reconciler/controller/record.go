package controller

import (
	"context"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// A pass decides each group's writes before its batch's transaction,
// on all cores, and the transaction, which SQLite runs on one, only
// replays them: the decisions (the engine, the records, the
// descriptions) are the larger part of a pass's work, and are
// independent from group to group.
//
// A group's share is decided by running the pass's callback against a
// recorder, a store.Tx that keeps the writes and runs none. A callback
// that reads from its transaction, or writes in a way the recorder does
// not keep, is decided again inside the transaction, as every write was
// before: the recorder then panics (its embedded Tx is nil) and decide
// reports that it could not. Replaying runs the same statements in the
// same order as the callback would have, so what is stored is the same.
// When the batch's transaction fails, its groups are written again one
// at a time with the callback, as any failed batch is (writeBatch).

// recorder is the store.Tx a share is decided against.
type recorder struct {
	store.Tx // nil: reads and unkept writes panic
	ops      []func(tx store.Tx) error
}

func (r *recorder) keep(op func(tx store.Tx) error) error {
	r.ops = append(r.ops, op)
	return nil
}

// replay runs the kept writes in tx, in their order.
func (r *recorder) replay(tx store.Tx) error {
	for _, op := range r.ops {
		if err := op(tx); err != nil {
			return err
		}
	}
	return nil
}

func (r *recorder) UpdateGroup(g api.Group) error {
	return r.keep(func(tx store.Tx) error { return tx.UpdateGroup(g) })
}

func (r *recorder) UpdateGroupState(g api.Group, l store.Labels) error {
	return r.keep(func(tx store.Tx) error { return tx.UpdateGroupState(g, l) })
}

func (r *recorder) UpsertNode(n api.Node) error {
	return r.keep(func(tx store.Tx) error { return tx.UpsertNode(n) })
}

func (r *recorder) SetLabels(groupID string, l store.Labels) error {
	return r.keep(func(tx store.Tx) error { return tx.SetLabels(groupID, l) })
}

func (r *recorder) SetCrashLoop(groupID string, c store.CrashLoop) error {
	return r.keep(func(tx store.Tx) error { return tx.SetCrashLoop(groupID, c) })
}

func (r *recorder) InsertEvent(e api.Event) error {
	return r.keep(func(tx store.Tx) error { return tx.InsertEvent(e) })
}

func (r *recorder) UpdateEvent(e api.Event) error {
	return r.keep(func(tx store.Tx) error { return tx.UpdateEvent(e) })
}

func (r *recorder) InsertChange(c api.Change) error {
	return r.keep(func(tx store.Tx) error { return tx.InsertChange(c) })
}

func (r *recorder) UpdateChange(c api.Change) error {
	return r.keep(func(tx store.Tx) error { return tx.UpdateChange(c) })
}

func (r *recorder) InsertNexus(n api.Nexus) error {
	return r.keep(func(tx store.Tx) error { return tx.InsertNexus(n) })
}

func (r *recorder) UpdateNexus(n api.Nexus) error {
	return r.keep(func(tx store.Tx) error { return tx.UpdateNexus(n) })
}

func (r *recorder) InsertPeriod(p api.Period) error {
	return r.keep(func(tx store.Tx) error { return tx.InsertPeriod(p) })
}

func (r *recorder) UpdatePeriod(p api.Period) error {
	return r.keep(func(tx store.Tx) error { return tx.UpdatePeriod(p) })
}

func (r *recorder) InsertSamples(groupID string, s []store.StoredSample) error {
	return r.keep(func(tx store.Tx) error { return tx.InsertSamples(groupID, s) })
}

func (r *recorder) DeleteSamplesBefore(groupID string, t time.Time) error {
	return r.keep(func(tx store.Tx) error { return tx.DeleteSamplesBefore(groupID, t) })
}

func (r *recorder) InsertQuantityPoints(groupID string, p []store.QuantityPoint) error {
	return r.keep(func(tx store.Tx) error { return tx.InsertQuantityPoints(groupID, p) })
}

// decided is a group's share of a pass, decided before the transaction:
// its work (state and actions, published once the transaction commits)
// and the writes to replay.
type decided struct {
	w   *work
	rec *recorder
}

// decide decides gs's share: fn and finish against a recorder, on a copy
// of gs's state, as commit runs them in a transaction. ok is false when
// the share must be decided in the transaction instead (it read, or
// failed: the transaction gives the error its context). The caller holds
// gs.mu.
func (c *Controller) decide(ctx context.Context, gs *groupState, fn func(w *work) error) (d decided, ok bool) {
	defer func() {
		if recover() != nil {
			d, ok = decided{}, false
		}
	}()
	rec := &recorder{}
	w := &work{ctx: ctx, c: c, gs: gs, tx: rec, s: gs.st.clone(), now: c.clock.Now()}
	if err := fn(w); err != nil {
		return decided{}, false
	}
	if err := w.finish(); err != nil {
		return decided{}, false
	}
	w.tx = nil // the transaction's, set when replayed
	return decided{w: w, rec: rec}, true
}
