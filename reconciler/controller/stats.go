package controller

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// DefaultGroupGauges is the default of Options.GroupGauges.
const DefaultGroupGauges = 1000

// counters are what the controller counts since it started.
type counters struct {
	events, changes    atomic.Int64
	passes, passErrors atomic.Int64
	lastPass           atomic.Int64 // wall duration of the last pass, in ns
	queries            atomic.Int64 // metric source queries run
	fenced             atomic.Int64 // writes refused for a stale fencing token
}

// Stats is what the controller counts and holds live, for monitoring
// (the server renders it on /metrics).
type Stats struct {
	// Groups counts the groups this pesd manages by status, and Nodes
	// their nodes not yet terminated by state. Every status and state
	// has an entry, zero or not, so a dashboard's query never finds
	// nothing.
	Groups map[string]int
	Nodes  map[string]int
	// Active holds the quantities of each active group, in the order of
	// their IDs; nil when there are more active groups than
	// Options.GroupGauges, and then Limited is set.
	Active  []GroupQuantities
	Limited bool
	// Sum sums the quantities over the active groups.
	Sum Quantities

	EventsWritten, ChangesWritten int64 // records written since start
	Passes, PassErrors            int64 // reconcile passes since start, and those that failed
	LastPass                      time.Duration
	SourceQueries                 int64 // metric source queries run since start
	// FencedWrites are writes the store refused for a stale fencing
	// token: this replica had lost the group's lease (several replicas).
	FencedWrites int64
}

// Quantities are a group's desired, official and actual quantities.
type Quantities struct {
	Desired, Official, Actual int
}

// GroupQuantities are one active group's quantities.
type GroupQuantities struct {
	ID, Name string
	Quantities
}

// Stats returns the live counts: groups by status, nodes by state, the
// quantities of the active groups, the records written and the passes.
func (c *Controller) Stats(ctx context.Context) (Stats, error) {
	st := Stats{
		Groups: map[string]int{api.GroupActive: 0, api.GroupDeleted: 0},
		Nodes:  map[string]int{api.NodeLaunching: 0, api.NodeReady: 0, api.NodeUnavailable: 0, api.NodeInitFailed: 0, api.NodeTerminating: 0},
	}
	for _, gs := range c.snapshot() {
		if err := ctx.Err(); err != nil {
			return Stats{}, err
		}
		gs.mu.Lock()
		g := gs.st.group
		for _, n := range gs.st.nodes {
			st.Nodes[n.State]++
		}
		gs.mu.Unlock()
		st.Groups[g.Status]++
		if g.Status == api.GroupActive {
			st.Active = append(st.Active, GroupQuantities{g.ID, g.Name, Quantities{g.DesiredQuantity, g.OfficialQuantity, g.ActualQuantity}})
		}
	}
	for _, q := range st.Active {
		st.Sum.Desired += q.Desired
		st.Sum.Official += q.Official
		st.Sum.Actual += q.Actual
	}
	if len(st.Active) > c.opts.GroupGauges {
		st.Active, st.Limited = nil, true
	}
	st.EventsWritten = c.counts.events.Load()
	st.ChangesWritten = c.counts.changes.Load()
	st.Passes = c.counts.passes.Load()
	st.PassErrors = c.counts.passErrors.Load()
	st.LastPass = time.Duration(c.counts.lastPass.Load())
	st.SourceQueries = c.counts.queries.Load()
	st.FencedWrites = c.counts.fenced.Load()
	return st, nil
}
