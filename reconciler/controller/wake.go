package controller

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
)

// wakeups is the queue of groups to observe now: drivers push a group when
// one of its nodes changes (driver.Driver.SetNotify), and a group's
// harmonization timer pushes it when its period ends. A group is queued
// once however often it is pushed before the loop takes it, so a burst of
// pushes costs one observation. The push says only "look at this group":
// React reads the drivers and converges, level-based, as a full pass does.
type wakeups struct {
	mu      sync.Mutex
	pending map[string]struct{}
	signal  chan struct{} // holds one token while pending is not empty
}

func newWakeups() *wakeups {
	return &wakeups{pending: make(map[string]struct{}), signal: make(chan struct{}, 1)}
}

// push queues a group. It never blocks: drivers call it from their own
// goroutines.
func (q *wakeups) push(groupID string) {
	q.mu.Lock()
	q.pending[groupID] = struct{}{}
	q.mu.Unlock()
	q.wake()
}

// pushAll queues many groups at once.
func (q *wakeups) pushAll(ids map[string]struct{}) {
	q.mu.Lock()
	for id := range ids {
		q.pending[id] = struct{}{}
	}
	q.mu.Unlock()
	q.wake()
}

// wake leaves the loop a token, unless one is there already.
func (q *wakeups) wake() {
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// take empties the queue and returns what it held, sorted (the order
// batches lock groups in).
func (q *wakeups) take() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) == 0 {
		return nil
	}
	ids := make([]string, 0, len(q.pending))
	for id := range q.pending {
		ids = append(ids, id)
	}
	clear(q.pending)
	slices.Sort(ids)
	return ids
}

// React observes the groups pushed since the last React and
// records what changed: nodes ready, failed or gone, their replacements,
// harmonizations that came due. The loop calls it as soon as a push
// arrives; tests on a fake clock call it to run exactly the reactions the
// pushes asked for. Triggers are not evaluated here: that stays on the
// evaluation interval.
func (c *Controller) React(ctx context.Context) error {
	ids := c.wakes.take()
	if len(ids) == 0 {
		return nil
	}
	c.passLock.Lock()
	defer c.passLock.Unlock()
	c.mu.Lock()
	gs := make([]*groupState, 0, len(ids))
	for _, id := range ids {
		// A group gone since its push (deleted, its nodes stopped)
		// has nothing left to observe.
		if g := c.groups[id]; g != nil {
			gs = append(gs, g)
		}
	}
	c.mu.Unlock()
	// A reaction is the loop's, as a pass is: its harmonizations must not
	// queue behind API writes.
	ctx = loopWrites(ctx)
	err := c.passGroups(ctx, gs, c.clock.Now(), false)
	if xerr := c.reactExecutions(ctx, ids); xerr != nil {
		err = errors.Join(err, xerr)
	}
	return err
}

// scheduleHarmonization keeps the group's next harmonization in the
// timers on the controller's clock, so a period ends on time rather than
// at the next resync; and, sooner, the close of a launch window, so a
// launch whose last nodes are still booting ends its change on time
// though no push comes. The caller holds gs.mu.
func (c *Controller) scheduleHarmonization(gs *groupState) {
	t, ok := c.clock.(clock.Timer)
	if !ok {
		return
	}
	at := next(gs.st.group)
	if closes := gs.st.launchCloses(c.opts.LaunchWindow); !closes.IsZero() && (at.IsZero() || closes.Before(at)) {
		at = closes
	}
	if at.Equal(gs.dueAt) {
		return
	}
	c.due.move(t, c.wakes, gs.id, gs.dueAt, at)
	gs.dueAt = at
}

// dueTimers holds one timer per instant at which periods end, with the
// groups whose period ends then: periods of equal length started together
// end together, so 10,000 groups share a few timers rather than each
// setting its own at every harmonization.
type dueTimers struct {
	mu sync.Mutex
	at map[int64]*dueBucket // by the instant in Unix nanoseconds
}

type dueBucket struct {
	ids  map[string]struct{}
	stop func() bool
}

// move takes the group from the timer of from (zero: none) to the timer
// of to (zero: none), setting a timer when to has none yet.
func (d *dueTimers) move(t clock.Timer, q *wakeups, id string, from, to time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !from.IsZero() {
		if b := d.at[from.UnixNano()]; b != nil {
			delete(b.ids, id)
			if len(b.ids) == 0 {
				b.stop()
				delete(d.at, from.UnixNano())
			}
		}
	}
	if to.IsZero() {
		return
	}
	key := to.UnixNano()
	b := d.at[key]
	if b == nil {
		if d.at == nil {
			d.at = make(map[int64]*dueBucket)
		}
		b = &dueBucket{ids: make(map[string]struct{})}
		b.stop = t.AfterFunc(to.Sub(t.Now()), func() { d.fire(q, key) })
		d.at[key] = b
	}
	b.ids[id] = struct{}{}
}

// fire pushes the groups whose period ends at the instant.
func (d *dueTimers) fire(q *wakeups, at int64) {
	d.mu.Lock()
	b := d.at[at]
	delete(d.at, at)
	d.mu.Unlock()
	if b == nil {
		return
	}
	q.pushAll(b.ids)
}

// watches wakes the readers waiting for a group to change (the API's
// long-poll reads): they wait on a channel that the next commit writing
// the group closes.
type watches struct {
	n  atomic.Int64 // open watches, so a commit with none skips the lock
	mu sync.Mutex
	w  map[string]*watch
}

type watch struct {
	ch      chan struct{}
	readers int
}

// WatchGroup returns a channel closed by the next committed write to the
// group (its row, nodes, events or changes), so a reader re-reads the
// group then instead of polling, and a function to call once the reader
// stops waiting. Read the group after calling it, not before, or a change
// in between is missed.
func (c *Controller) WatchGroup(id string) (<-chan struct{}, func()) {
	ws := &c.watch
	ws.mu.Lock()
	defer ws.mu.Unlock()
	w, ok := ws.w[id]
	if !ok {
		if ws.w == nil {
			ws.w = make(map[string]*watch)
		}
		w = &watch{ch: make(chan struct{})}
		ws.w[id] = w
		ws.n.Add(1)
	}
	w.readers++
	var once sync.Once
	return w.ch, func() {
		once.Do(func() {
			ws.mu.Lock()
			defer ws.mu.Unlock()
			if w.readers--; w.readers == 0 && ws.w[id] == w {
				delete(ws.w, id)
				ws.n.Add(-1)
			}
		})
	}
}

// wrote wakes the watchers of a group that a commit wrote.
func (ws *watches) wrote(id string) {
	if ws.n.Load() == 0 {
		return
	}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if w, ok := ws.w[id]; ok {
		close(w.ch)
		delete(ws.w, id)
		ws.n.Add(-1)
	}
}

// loop is Run's schedule on real time: a resync pass every observe
// interval (with trigger evaluation when it is due), reactions as soon as
// they are pushed.
func (c *Controller) loop(ctx context.Context) error {
	now := time.Now()
	nextResync := now.Add(c.opts.ObserveInterval)
	nextEval := now.Add(c.opts.EvaluationInterval)
	// queried is closed when the metric sources' queries of the next
	// evaluation have answered; nil when none run. They run off the loop,
	// so a slow or silent Prometheus (up to the query timeout) holds up
	// only the evaluation, not the reactions to nodes.
	var queried chan struct{}
	defer func() {
		if queried != nil {
			<-queried // ctx is done: the queries end at once
		}
		// What the sources answered is kept across a restart: stored
		// before the caller closes the store.
		c.storing.Wait()
		if err := c.storePulled(context.WithoutCancel(ctx), time.Now(), true); err != nil {
			c.log.Error("stopping", "err", err)
		}
	}()
	timer := time.NewTimer(time.Until(earliest(nextResync, nextEval)))
	defer timer.Stop()
	rearm := func() {
		next := nextResync
		if queried == nil {
			next = earliest(nextResync, nextEval)
		}
		timer.Reset(time.Until(next))
	}
	for {
		var err error
		select {
		case <-ctx.Done():
			return nil
		case <-c.wakes.signal:
			err = c.React(ctx)
		case <-queried:
			queried = nil
			err = c.pass(ctx, true)
			nextResync = time.Now().Add(c.opts.ObserveInterval)
			rearm()
		case <-timer.C:
			now := time.Now()
			switch {
			case queried == nil && !now.Before(nextEval):
				// Keep the cadence; after a pass that overran, start
				// again from now.
				if nextEval = nextEval.Add(c.opts.EvaluationInterval); nextEval.Before(now) {
					nextEval = now.Add(c.opts.EvaluationInterval)
				}
				queried = c.queryAsync(ctx)
				// The evaluation pass observes every group too.
				nextResync = nextEval
			case !now.Before(nextResync):
				err = c.pass(ctx, false)
				nextResync = time.Now().Add(c.opts.ObserveInterval)
			}
			rearm()
		}
		if err != nil && ctx.Err() == nil {
			c.log.Error("reconcile pass", "err", err)
		}
	}
}

// queryAsync runs the metric sources' queries in the background and
// returns a channel closed when they have answered.
func (c *Controller) queryAsync(ctx context.Context) chan struct{} {
	done := make(chan struct{})
	c.storing.Add(1)
	go func() {
		defer c.storing.Done()
		now := c.clock.Now()
		c.querySources(ctx, c.snapshot(), now)
		close(done)
		// The evaluation has its answers: storing them holds it up no
		// more. The write finishes even when ctx ends meanwhile; the
		// loop waits for it before it returns.
		if err := c.storePulled(context.WithoutCancel(ctx), now, false); err != nil {
			c.log.Error("metric sources", "err", err)
		}
	}()
	return done
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
