package controller

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// Group commit: concurrent writes share transactions. Each write is a
// transaction callback; the writers queue them, and one of the waiting
// writers at a time, the leader, runs a batch of queued callbacks in one
// store transaction, then wakes their writers. A writer returns only once
// the transaction holding its callback has committed (its write is
// durable) or its callback failed. The reconcile loop's writes go first,
// so harmonizations stay on time under API load: they commit in a
// transaction of their own, and a batch of API writes being written when
// one arrives commits the callbacks it has run and leaves the rest for
// later, so a loop write waits for one API callback and a commit, not for
// a whole batch of up to maxBatch.
//
// A failed callback must not take the batch down with it: the batch is
// rolled back, the failed writer gets its error, and the rest run again
// in a new transaction. Callbacks are therefore written to run again
// (they write to copies of the group state; see commit).

// maxBatch bounds the API writes one transaction takes; the loop's are
// all taken.
const maxBatch = 256

// lane is a queue of writes; lower lanes are taken first.
type lane int

const (
	loopLane lane = iota // the reconcile loop's passes
	apiLane              // API requests
	lanes
)

type committer struct {
	st store.Store

	mu      sync.Mutex
	queue   [lanes][]*commitReq
	leading bool // a writer is committing batches
	// loopWaiting is len(queue[loopLane]), read without mu by the leader
	// between the callbacks of a batch.
	loopWaiting atomic.Int64
}

type commitReq struct {
	ctx  context.Context
	fn   func(tx store.Tx) error
	lane lane

	// Set by the leader before it wakes the writer.
	done     bool
	err      error
	panicked any
	wake     chan struct{} // buffered: done, or asked to lead
}

type loopKey struct{}

// loopWrites marks ctx as the reconcile loop's: its writes are taken
// before the API's.
func loopWrites(ctx context.Context) context.Context {
	return context.WithValue(ctx, loopKey{}, true)
}

// update runs fn in a transaction shared with other writers' and returns
// once that transaction has committed, or with fn's error (after rolling
// back fn's writes), as store.Update does.
func (c *Controller) update(ctx context.Context, fn func(tx store.Tx) error) error {
	return c.commits.update(ctx, fn)
}

func (g *committer) update(ctx context.Context, fn func(tx store.Tx) error) error {
	l := apiLane
	if ctx.Value(loopKey{}) != nil {
		l = loopLane
	}
	r := &commitReq{ctx: ctx, fn: fn, lane: l, wake: make(chan struct{}, 1)}
	g.mu.Lock()
	g.queue[l] = append(g.queue[l], r)
	if l == loopLane {
		g.loopWaiting.Add(1)
	}
	if g.leading {
		g.mu.Unlock()
		<-r.wake
	} else {
		g.leading = true
		g.mu.Unlock()
	}
	if !r.done {
		g.lead(r)
	}
	if r.panicked != nil {
		panic(r.panicked)
	}
	return r.err
}

// lead commits batches until r's is done, then hands the lead to the
// next queued writer.
func (g *committer) lead(r *commitReq) {
	defer func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		for l := range g.queue {
			if len(g.queue[l]) > 0 {
				g.queue[l][0].wake <- struct{}{}
				return
			}
		}
		g.leading = false
	}()
	for !r.done {
		// Let the writers that are ready queue up first, while more keep
		// coming: a bigger batch for the price of one commit. Not for the
		// loop's writes, which go alone (take): yielding would only let
		// the pass's other goroutines run ahead of its write.
		for n, queued := 0, g.queued(); n < 4 && g.loopWaiting.Load() == 0; n++ {
			runtime.Gosched()
			now := g.queued()
			if now == queued {
				break
			}
			queued = now
		}
		g.commitBatch(g.take())
	}
}

func (g *committer) queued() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.queue[loopLane]) + len(g.queue[apiLane])
}

// take dequeues the next batch: every loop write, alone, or else API
// writes up to maxBatch.
func (g *committer) take() []*commitReq {
	g.mu.Lock()
	defer g.mu.Unlock()
	if batch := g.queue[loopLane]; len(batch) > 0 {
		g.queue[loopLane] = nil
		g.loopWaiting.Store(0)
		return batch
	}
	api := g.queue[apiLane]
	n := min(len(api), maxBatch)
	batch := api[:n:n]
	g.queue[apiLane] = slices.Clone(api[n:])
	return batch
}

// putBack returns API writes a batch did not run to the head of their
// queue, in their order.
func (g *committer) putBack(rs []*commitReq) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.queue[apiLane] = append(slices.Clone(rs), g.queue[apiLane]...)
}

func (g *committer) finish(r *commitReq, err error) {
	r.done, r.err = true, err
	r.wake <- struct{}{}
}

// commitBatch runs the batch's callbacks in one transaction. A callback
// that fails (or panics) is answered with its error and dropped, and the
// others run again in a new transaction: their writes were rolled back
// with it.
func (g *committer) commitBatch(batch []*commitReq) {
	live := batch[:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			g.finish(r, err)
			continue
		}
		live = append(live, r)
	}
	for len(live) > 0 {
		failed, ran := -1, len(live)
		// The transaction outlives any one writer's context: a writer
		// that gives up must not roll back the others' writes.
		err := g.st.Update(context.WithoutCancel(live[0].ctx), func(tx store.Tx) error {
			ran = len(live)
			for i, r := range live {
				if err := run(r, tx); err != nil {
					failed = i
					return err
				}
				if r.lane == apiLane && i+1 < len(live) && g.loopWaiting.Load() > 0 {
					ran = i + 1 // a loop write waits: commit what ran
					break
				}
			}
			return nil
		})
		if failed < 0 {
			// Committed, or the transaction failed as a whole (begin or
			// commit): every writer that ran gets the outcome, and the
			// rest wait for a later batch.
			for _, r := range live[:ran] {
				g.finish(r, err)
			}
			if ran < len(live) {
				g.putBack(live[ran:])
			}
			return
		}
		g.finish(live[failed], err)
		live = slices.Delete(live, failed, failed+1)
	}
}

// run calls r's callback, turning a panic into an error for the batch;
// the writer panics with the value once it is woken.
func run(r *commitReq, tx store.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.panicked = p
			err = fmt.Errorf("panic in a write: %v", p)
		}
	}()
	return r.fn(tx)
}
