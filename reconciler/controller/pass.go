package controller

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
	"github.com/pes-project/terraform-provider-pes/reconciler/trigger"
	"github.com/pes-project/terraform-provider-pes/reconciler/window"
)

// batch is a batch of groups going through a pass: locked and prepared
// (observed, triggers evaluated), then settled (recorded in one
// transaction, acted on) and unlocked.
type batch struct {
	groups   []*groupState
	now      time.Time
	plans    map[*groupState]*obsPlan
	outcomes map[*groupState][]trigger.Outcome
	samples  map[*groupState][]store.StoredSample
	errs     []error
	// todo are the groups with something to write, and decided their
	// shares as decide decided them (a nil work: decide in the
	// transaction).
	todo    []*groupState
	decided []decided
}

// passGroups runs one pass over groups, a batch at a time, as a two-stage
// pipeline: while one batch's transaction is written (SQLite has one
// writer), the next batch is observed and evaluated, which is pure
// computation, on the other cores. Each group still goes observe →
// evaluate → harmonize in order, under its lock.
func (c *Controller) passGroups(ctx context.Context, groups []*groupState, now time.Time, evaluate bool) error {
	var pushed map[string]bool // nil: observe every group
	if c.nodePushes != nil {
		pushed = nonePushed
		if ids := c.nodePushes.take(); len(ids) > 0 {
			pushed = make(map[string]bool, len(ids))
			for _, id := range ids {
				pushed[id] = true
			}
		}
	}
	if len(groups) <= c.opts.BatchSize {
		// One batch has nothing to overlap with: no goroutine.
		return joinErrs(c.settle(ctx, c.prepare(ctx, groups, now, evaluate, pushed), now))
	}
	prepared := make(chan *batch, 1)
	go func() {
		defer close(prepared)
		for start := 0; start < len(groups); start += c.opts.BatchSize {
			prepared <- c.prepare(ctx, groups[start:min(start+c.opts.BatchSize, len(groups))], now, evaluate, pushed)
		}
	}()
	var errs []error
	for b := range prepared {
		errs = append(errs, c.settle(ctx, b, now)...)
	}
	return joinErrs(errs)
}

// nonePushed is passGroups' pushed when no group was: never written.
var nonePushed = map[string]bool{}

// prepare locks a batch, observes its groups' nodes (those pushed or
// due, when pushed is not nil) and evaluates their triggers. Nothing is
// written yet.
func (c *Controller) prepare(ctx context.Context, groups []*groupState, now time.Time, evaluate bool, pushed map[string]bool) *batch {
	b := &batch{
		groups:   groups,
		now:      now,
		plans:    make(map[*groupState]*obsPlan),
		outcomes: make(map[*groupState][]trigger.Outcome),
		samples:  make(map[*groupState][]store.StoredSample),
	}
	for _, gs := range groups {
		gs.mu.Lock()
	}
	if ctx.Err() != nil {
		b.errs = append(b.errs, ctx.Err())
		return b
	}
	var eval []*groupState
	for _, gs := range groups {
		if pushed == nil || pushed[gs.id] || gs.st.observeDue(now) {
			p, err := c.observe(ctx, gs, now)
			if err != nil {
				b.errs = append(b.errs, err)
			}
			if len(p.samples) > 0 {
				b.samples[gs] = c.addSamples(gs, p.samples, now)
			}
			if !p.empty() {
				b.plans[gs] = &p
			}
		}
		if evaluate && len(gs.triggers) > 0 && gs.st.group.Status == api.GroupActive {
			eval = append(eval, gs)
		}
	}
	// Conditions are pure computation over in-memory windows: spread the
	// groups over the cores. The evaluator and the windows are safe for
	// concurrent use, and each group is evaluated by one goroutine.
	out := make([][]trigger.Outcome, len(eval))
	spread(len(eval), func(i int) {
		gs := eval[i]
		ready := gs.st.ready()
		if p := b.plans[gs]; p != nil {
			ready += len(p.ready) - len(p.lost)
		}
		c.windows.Add(gs.id,
			window.Sample{Name: metricNodesReady, Value: float64(ready), Time: now},
			window.Sample{Name: metricNodesDesired, Value: float64(gs.st.group.DesiredQuantity), Time: now})
		out[i] = c.eval.Evaluate(now, gs.id, gs.st.period.ID, c.evalSource(gs))
	})
	for i, gs := range eval {
		if len(out[i]) > 0 {
			b.outcomes[gs] = out[i]
		}
	}
	for _, gs := range groups {
		if b.plans[gs] != nil || len(b.outcomes[gs]) > 0 || len(b.samples[gs]) > 0 || due(gs.st.group, now) ||
			gs.st.launchDue(now, c.opts.LaunchWindow) || retryDue(gs.st, now) {
			b.todo = append(b.todo, gs)
		}
	}
	// Decide the writes on the cores too (decide, record.go); the transaction
	// replays them.
	b.decided = make([]decided, len(b.todo))
	spread(len(b.todo), func(i int) {
		if d, ok := c.decide(ctx, b.todo[i], b.write); ok {
			b.decided[i] = d
		}
	})
	return b
}

// write is a group's share of the batch's transaction: the samples, the
// observation, the held replacement, the trigger outcomes and the
// harmonization of a period that ended.
func (b *batch) write(w *work) error {
	if ss := b.samples[w.gs]; len(ss) > 0 {
		if err := w.tx.InsertSamples(w.gs.id, ss); err != nil {
			return fmt.Errorf("store samples: %w", err)
		}
	}
	if p := b.plans[w.gs]; p != nil {
		if err := w.applyPlan(p); err != nil {
			return err
		}
	}
	if retryDue(w.s, w.now) {
		if err := w.retryHeld(); err != nil {
			return err
		}
	}
	for _, o := range b.outcomes[w.gs] {
		if err := w.outcome(o); err != nil {
			return err
		}
	}
	if due(w.s.group, b.now) {
		if _, err := w.harmonize(); err != nil {
			return err
		}
	}
	return nil
}

// spread calls f for 0..n-1 over GOMAXPROCS goroutines, or on this one
// when there is one call or one core, and returns when all have.
func spread(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	for k := range workers {
		wg.Go(func() {
			for i := k; i < n; i += workers {
				f(i)
			}
		})
	}
	wg.Wait()
}

// due reports whether the group's period has ended at now.
func due(g api.Group, now time.Time) bool {
	return g.Status == api.GroupActive && g.NextHarmonizationAt != nil && !now.Before(*g.NextHarmonizationAt)
}

// settle records a prepared batch in one transaction — observations,
// trigger outcomes, harmonizations of the periods that ended, samples —
// acts on it, and unlocks the batch.
func (c *Controller) settle(ctx context.Context, b *batch, now time.Time) []error {
	defer func() {
		for _, gs := range b.groups {
			gs.mu.Unlock()
		}
	}()
	errs := b.errs
	if len(b.todo) > 0 && ctx.Err() == nil {
		if _, err := c.writeDecided(ctx, b.todo, b.write, b.decided); err != nil {
			errs = append(errs, err)
		}
	}
	for _, gs := range b.groups {
		if gs.st.group.Status == api.GroupDeleted && len(gs.st.nodes) == 0 {
			c.unregister(gs.id)
		}
	}
	return errs
}
