package controller

import (
	"context"
	"maps"
	"slices"
	"sync/atomic"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/server"
)

var _ server.MetricsSource = (*Controller)(nil)

// DefaultGroupGauges is the default of Options.GroupGauges.
const DefaultGroupGauges = 1000

// counters are what the controller counts for /metrics since it started.
type counters struct {
	events, changes    atomic.Int64
	passes, passErrors atomic.Int64
	lastPass           atomic.Int64 // wall duration of the last pass, in ns
}

// Gauges implements server.MetricsSource: the groups this pesd manages by
// status, their nodes by state, the desired, official and actual
// quantities (per group up to Options.GroupGauges active groups, and
// summed),
// the events and changes written, and the reconcile passes.
func (c *Controller) Gauges(ctx context.Context) ([]server.Gauge, error) {
	gss := c.snapshot()
	// Every status and state gets a series, zero or not, so a
	// dashboard's query never finds nothing.
	byStatus := map[string]int{api.GroupActive: 0, api.GroupDeleted: 0}
	byState := map[string]int{api.NodeLaunching: 0, api.NodeReady: 0, api.NodeUnavailable: 0, api.NodeInitFailed: 0, api.NodeTerminating: 0}
	type quantities struct {
		id, name                  string
		desired, official, actual int
	}
	var active []quantities
	for _, gs := range gss {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		gs.mu.Lock()
		g := gs.st.group
		for _, n := range gs.st.nodes {
			byState[n.State]++
		}
		gs.mu.Unlock()
		byStatus[g.Status]++
		if g.Status == api.GroupActive {
			active = append(active, quantities{g.ID, g.Name, g.DesiredQuantity, g.OfficialQuantity, g.ActualQuantity})
		}
	}

	var out []server.Gauge
	add := func(name, help string, labels map[string]string, v float64) {
		out = append(out, server.Gauge{Name: name, Help: help, Labels: labels, Value: v})
	}
	for _, status := range slices.Sorted(maps.Keys(byStatus)) {
		n := byStatus[status]
		add("pes_groups", "Groups this pesd manages, by status (a deleted group stays until its nodes are gone).",
			map[string]string{"status": status}, float64(n))
	}
	for _, state := range slices.Sorted(maps.Keys(byState)) {
		n := byState[state]
		add("pes_nodes", "Nodes not yet terminated, by state.", map[string]string{"state": state}, float64(n))
	}
	var sum quantities
	limited := len(active) > c.opts.GroupGauges
	for _, q := range active {
		sum.desired += q.desired
		sum.official += q.official
		sum.actual += q.actual
		if limited {
			continue
		}
		l := map[string]string{"group": q.name, "group_id": q.id}
		add("pes_group_desired_quantity", "The group's live desired quantity.", l, float64(q.desired))
		add("pes_group_official_quantity", "The group's quantity at its last harmonization or immediate change.", l, float64(q.official))
		add("pes_group_actual_quantity", "The group's ready nodes.", l, float64(q.actual))
	}
	const sumHelp = "Sum over the active groups of each quantity (desired, official, actual)."
	add("pes_quantity", sumHelp, map[string]string{"quantity": "desired"}, float64(sum.desired))
	add("pes_quantity", sumHelp, map[string]string{"quantity": "official"}, float64(sum.official))
	add("pes_quantity", sumHelp, map[string]string{"quantity": "actual"}, float64(sum.actual))
	add("pes_group_gauges_limited", "1 when there are more active groups than per-group gauges are exported for (only the sums are).",
		nil, b2f(limited))

	counter := func(name, help string, v int64) {
		out = append(out, server.Gauge{Name: name, Help: help, Value: float64(v), Counter: true})
	}
	counter("pes_events_written_total", "Events recorded since pesd started.", c.counts.events.Load())
	counter("pes_changes_written_total", "Capacity changes recorded since pesd started.", c.counts.changes.Load())
	counter("pes_reconcile_passes_total", "Reconcile passes since pesd started.", c.counts.passes.Load())
	counter("pes_reconcile_pass_errors_total", "Reconcile passes that ended with an error.", c.counts.passErrors.Load())
	add("pes_reconcile_last_pass_seconds", "Wall time of the last reconcile pass (observe, evaluate, harmonize, record).",
		nil, time.Duration(c.counts.lastPass.Load()).Seconds())
	return out, nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
