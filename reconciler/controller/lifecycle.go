package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/causality"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
)

// actResult is what the drivers did with one group's actions.
type actResult struct {
	handles   map[string]map[string]string // launched node → handle
	launchErr map[string]string            // node → why its launch failed
	// cannotStart: node → why its program cannot start (ErrCannotStart)
	cannotStart map[string]string
	stopped     []string // nodes terminated
}

// actuate carries out the actions of committed work through the drivers,
// then records the results (handles, terminated nodes, completed removals)
// in one more transaction. A failed launch leaves the node launching with
// the reason, to be judged against init_deadline like a slow boot, but a
// program that cannot start at all is the node's init failure at once,
// its replacement held by the crash-loop backoff; a failed termination
// leaves it terminating, retried by the next observation.
func (c *Controller) actuate(ctx context.Context, ws []*work) {
	var (
		gss     []*groupState
		results = make(map[*groupState]*actResult)
		stops   []stop
	)
	for _, w := range ws {
		if w == nil || (len(w.launch) == 0 && len(w.stop) == 0) {
			continue
		}
		g := w.s.group
		drv, err := c.driverFor(g)
		if err != nil {
			c.log.Error("no driver for group", "group", g.ID, "driver", g.Driver)
			continue
		}
		r := &actResult{handles: make(map[string]map[string]string), launchErr: make(map[string]string), cannotStart: make(map[string]string)}
		for _, n := range w.launch {
			h, err := drv.Launch(ctx, nodeSpec(g, n))
			if err != nil {
				c.log.Warn("launch failed", "group", g.ID, "node", n.ID, "err", err)
				if errors.Is(err, driver.ErrCannotStart) {
					r.cannotStart[n.ID] = err.Error()
					continue
				}
				r.launchErr[n.ID] = err.Error()
				continue
			}
			r.handles[n.ID] = h
		}
		for _, id := range w.stop {
			stops = append(stops, stop{drv: drv, group: g.ID, node: id, r: r})
		}
		gss = append(gss, w.gs)
		results[w.gs] = r
	}
	if len(gss) == 0 {
		return
	}
	c.terminate(ctx, stops)
	_, err := c.writeBatch(ctx, gss, func(w *work) error {
		return w.recordResults(results[w.gs])
	})
	if err != nil {
		// The nodes run; their rows say launching/terminating, which the
		// next observation and the next start converge from.
		c.log.Error("record driver results", "err", err)
	}
}

// stop is one node to terminate and where to report it.
type stop struct {
	drv         driver.Driver
	group, node string
	r           *actResult
}

// maxStopping bounds the terminations in flight at once.
const maxStopping = 32

// terminate stops nodes concurrently: a driver may wait up to the grace
// period for each, and a pass must not wait for them one after another.
func (c *Controller) terminate(ctx context.Context, stops []stop) {
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, maxStopping)
	)
	for _, s := range stops {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := s.drv.Terminate(ctx, s.group, s.node, c.opts.TerminationGrace); err != nil {
				c.log.Warn("terminate failed; will retry", "group", s.group, "node", s.node, "err", err)
				return
			}
			mu.Lock()
			s.r.stopped = append(s.r.stopped, s.node)
			mu.Unlock()
		})
	}
	wg.Wait()
}

func nodeSpec(g api.Group, n api.Node) driver.NodeSpec {
	return driver.NodeSpec{
		GroupID: g.ID, NodeID: n.ID, Index: n.Index,
		Program: g.Program, HealthCheck: g.HealthCheck, Sim: g.Sim, Kubernetes: g.Kubernetes,
	}
}

func (w *work) recordResults(r *actResult) error {
	for id, h := range r.handles {
		n, ok := w.s.nodes[id]
		if !ok || len(n.Handle) > 0 {
			continue
		}
		n.Handle = h
		if err := w.putNode(n); err != nil {
			return err
		}
	}
	for id, msg := range r.launchErr {
		n, ok := w.s.nodes[id]
		if !ok {
			continue
		}
		n.StateReason = causality.LaunchFailed(msg)
		if err := w.putNode(n); err != nil {
			return err
		}
	}
	// A program that cannot start (the command does not exist or may not
	// run) will not start by waiting: the node failed its init now.
	var failed obsPlan
	for id, msg := range r.cannotStart {
		if _, ok := w.s.nodes[id]; ok {
			failed.initFailed = append(failed.initFailed, nodeFault{id, causality.LaunchFailed(msg), true})
		}
	}
	if len(failed.initFailed) > 0 {
		if err := w.applyPlan(&failed); err != nil {
			return err
		}
	}
	if err := w.terminated(r.stopped); err != nil {
		return err
	}
	return nil
}

// terminated records nodes as terminated and completes the removals that
// have no node left to stop.
func (w *work) terminated(ids []string) error {
	for _, id := range ids {
		n, ok := w.s.nodes[id]
		if !ok {
			continue
		}
		n.State = api.NodeTerminated
		t := w.now
		n.TerminatedAt = &t
		if err := w.putNode(n); err != nil {
			return err
		}
	}
	for _, ch := range w.s.openList() {
		if ch.Type == api.ChangeAddNodes {
			continue
		}
		if slices.ContainsFunc(ch.NodeIDs, func(id string) bool { _, alive := w.s.nodes[id]; return alive }) {
			continue
		}
		ch.Status = api.ChangeCompleted
		t := w.now
		ch.EndedAt = &t
		if _, err := w.updateChange(ch); err != nil {
			return err
		}
	}
	return nil
}

// settleAdds brings each add_nodes change in progress in line with its
// nodes. A change whose nodes are all ready completes; all failed, it
// fails. When only some are done, the row ends with those (ready ones
// first) and a new row, same nexus, attribution and start, carries the
// rest: this is how one launch of 8 nodes becomes C1 (4 ready at T2), C2
// (3 at T3) and C10a (1 failed) in seed 000. With a launch window, nodes
// that become ready within it of the first are one change, its parts
// recorded (a launch reads as one change to a person); only nodes that
// come later make another row.
func (w *work) settleAdds() error {
	for _, ch := range w.s.openList() {
		if ch.Type != api.ChangeAddNodes {
			continue
		}
		if err := w.settleAdd(ch, false); err != nil {
			return err
		}
	}
	return nil
}

// closeLaunches settles now the add_nodes changes whose launch window is
// open and holds a node of ids that became ready: a node about to be
// removed or lost is first counted in.
func (w *work) closeLaunches(ids []string) error {
	if w.c.opts.LaunchWindow <= 0 {
		return nil
	}
	for _, ch := range w.s.openList() {
		if ch.Type != api.ChangeAddNodes || !slices.ContainsFunc(ch.NodeIDs, func(id string) bool {
			n, ok := w.s.nodes[id]
			return ok && n.ReadyAt != nil && slices.Contains(ids, id)
		}) {
			continue
		}
		if err := w.settleAdd(ch, true); err != nil {
			return err
		}
	}
	return nil
}

// settleAdd settles one add_nodes change; closing ends its launch window
// now.
func (w *work) settleAdd(ch api.Change, closing bool) error {
	window := w.c.opts.LaunchWindow
	for {
		var arrived, failed, pending []string
		for _, id := range ch.NodeIDs {
			n, ok := w.s.nodes[id]
			switch {
			case ok && n.ReadyAt != nil:
				arrived = append(arrived, id)
			case ok && n.State == api.NodeLaunching:
				pending = append(pending, id)
			default: // init_failed, or stopped before it was ever ready
				failed = append(failed, id)
			}
		}
		var done, rest []string
		status, ended := api.ChangeCompleted, w.now
		var parts []api.ChangePart
		switch {
		case len(arrived) == 0 && len(failed) == 0:
			return nil // nothing happened yet
		case len(arrived) > 0 && window > 0:
			in, late, closes := w.s.launchWindow(arrived, window)
			if len(pending) > 0 && w.now.Before(closes) && !closing {
				return nil // more nodes may join the change
			}
			done, rest = in, append(append(late, failed...), pending...)
			ended, parts = w.s.readyParts(done)
		case len(arrived) > 0:
			done, rest = arrived, append(failed, pending...)
		default:
			done, rest, status = failed, pending, api.ChangeFailed
		}
		before := w.runningActual(ch)
		ch.NodeIDs, ch.Amount, ch.Status, ch.Parts = done, len(done), status, parts
		ch.QuantityBefore, ch.QuantityAfter = before, before
		if status == api.ChangeCompleted {
			ch.QuantityAfter = before + len(done)
		}
		ch.EndedAt = &ended
		var err error
		if ch, err = w.updateChange(ch); err != nil {
			return err
		}
		if len(rest) == 0 {
			return nil
		}
		next, err := w.splitOff(ch, rest)
		if err != nil {
			return err
		}
		ch = next
	}
}

// launchWindow splits the ready nodes of one change into those within
// window of the first to become ready and those after, and says when the
// window closes.
func (s *state) launchWindow(ready []string, window time.Duration) (in, late []string, closes time.Time) {
	first := *s.nodes[ready[0]].ReadyAt
	for _, id := range ready[1:] {
		if t := *s.nodes[id].ReadyAt; t.Before(first) {
			first = t
		}
	}
	closes = first.Add(window)
	for _, id := range ready {
		if s.nodes[id].ReadyAt.After(closes) {
			late = append(late, id)
		} else {
			in = append(in, id)
		}
	}
	return in, late, closes
}

// readyParts returns when the last of the nodes became ready, and the
// parts they became ready in (nodes ready in the same second are one
// part) when there were more than one.
func (s *state) readyParts(ids []string) (time.Time, []api.ChangePart) {
	var parts []api.ChangePart
	times := make([]time.Time, 0, len(ids))
	for _, id := range ids {
		times = append(times, *s.nodes[id].ReadyAt)
	}
	slices.SortFunc(times, time.Time.Compare)
	for _, t := range times {
		if k := len(parts) - 1; k >= 0 && t.Truncate(time.Second).Equal(parts[k].ReadyAt.Truncate(time.Second)) {
			parts[k].ReadyAt, parts[k].Amount = t, parts[k].Amount+1
			continue
		}
		parts = append(parts, api.ChangePart{ReadyAt: t, Amount: 1})
	}
	last := times[len(times)-1]
	if len(parts) < 2 {
		return last, nil
	}
	return last, parts
}

// launchDue reports whether a launch window of an add_nodes change in
// progress has closed, so the change is settled even when no node
// changed state in the pass.
func (s *state) launchDue(now time.Time, window time.Duration) bool {
	closes := s.launchCloses(window)
	return !closes.IsZero() && !now.Before(closes)
}

// launchCloses is when the first open launch window closes: window after
// the first node of an add_nodes change in progress became ready. Zero
// when no window is open.
func (s *state) launchCloses(window time.Duration) time.Time {
	var closes time.Time
	if window <= 0 {
		return closes
	}
	for _, ch := range s.open {
		if ch.Type != api.ChangeAddNodes {
			continue
		}
		for _, id := range ch.NodeIDs {
			if n, ok := s.nodes[id]; ok && n.ReadyAt != nil {
				if t := n.ReadyAt.Add(window); closes.IsZero() || t.Before(closes) {
					closes = t
				}
			}
		}
	}
	return closes
}

// runningActual is the actual quantity before the nodes of ch that became
// ready are counted: the ready nodes, less those that arrived in changes
// still in progress, this one included.
func (w *work) runningActual(ch api.Change) int {
	a := w.s.ready()
	for _, o := range w.s.open {
		if o.Type != api.ChangeAddNodes {
			continue
		}
		for _, id := range o.NodeIDs {
			if n, ok := w.s.nodes[id]; ok && n.State == api.NodeReady && n.ReadyAt != nil {
				a--
			}
		}
	}
	return a
}

// splitOff creates the row that carries the nodes of ch still pending
// (and failed ones when ch completed with the ready ones), in ch's nexus.
func (w *work) splitOff(ch api.Change, ids []string) (api.Change, error) {
	next, err := w.newChange(api.Change{
		Type: api.ChangeAddNodes, Amount: len(ids),
		QuantityBefore: ch.QuantityAfter, QuantityAfter: ch.QuantityAfter + len(ids),
		StartedAt: ch.StartedAt, PeriodID: ch.PeriodID, PeriodLabel: ch.PeriodLabel,
		NexusID: ch.NexusID, Attribution: ch.Attribution, NodeIDs: slices.Clone(ids),
	})
	if err != nil {
		return next, err
	}
	if ch.NexusID != "" {
		nx, err := w.tx.GetNexus(w.ctx, ch.NexusID)
		if err != nil {
			return next, fmt.Errorf("nexus of %s: %w", ch.Label, err)
		}
		nx.ChangeIDs = append(nx.ChangeIDs, next.ID)
		if err := w.tx.UpdateNexus(nx); err != nil {
			return next, fmt.Errorf("update nexus of %s: %w", ch.Label, err)
		}
	}
	for _, id := range ids {
		if n, ok := w.s.nodes[id]; ok {
			n.ChangeID = next.ID
			if err := w.putNode(n); err != nil {
				return next, err
			}
		}
	}
	return next, nil
}
