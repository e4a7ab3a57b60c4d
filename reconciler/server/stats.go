package server

import (
	"context"
	"maps"
	"slices"

	"github.com/pes-project/terraform-provider-pes/reconciler/controller"
)

// StatsSource is a Service that keeps live counts (the controller); the
// server renders them on /metrics.
type StatsSource interface {
	Stats(ctx context.Context) (controller.Stats, error)
}

// statsGauges renders the controller's counts as gauges and counters: the
// groups by status, their nodes by state, the desired, official and
// actual quantities (per group while the controller reports them one by
// one, and summed), the events and changes written, and the reconcile
// passes.
func statsGauges(st controller.Stats) []Gauge {
	var out []Gauge
	add := func(name, help string, labels map[string]string, v float64) {
		out = append(out, Gauge{Name: name, Help: help, Labels: labels, Value: v})
	}
	for _, status := range slices.Sorted(maps.Keys(st.Groups)) {
		add("pes_groups", "Groups this pesd manages, by status (a deleted group stays until its nodes are gone).",
			map[string]string{"status": status}, float64(st.Groups[status]))
	}
	for _, state := range slices.Sorted(maps.Keys(st.Nodes)) {
		add("pes_nodes", "Nodes not yet terminated, by state.", map[string]string{"state": state}, float64(st.Nodes[state]))
	}
	for _, q := range st.Active {
		l := map[string]string{"group": q.Name, "group_id": q.ID}
		add("pes_group_desired_quantity", "The group's live desired quantity.", l, float64(q.Desired))
		add("pes_group_official_quantity", "The group's quantity at its last harmonization or immediate change.", l, float64(q.Official))
		add("pes_group_actual_quantity", "The group's ready nodes.", l, float64(q.Actual))
	}
	const sumHelp = "Sum over the active groups of each quantity (desired, official, actual)."
	add("pes_quantity", sumHelp, map[string]string{"quantity": "desired"}, float64(st.Sum.Desired))
	add("pes_quantity", sumHelp, map[string]string{"quantity": "official"}, float64(st.Sum.Official))
	add("pes_quantity", sumHelp, map[string]string{"quantity": "actual"}, float64(st.Sum.Actual))
	add("pes_group_gauges_limited", "1 when there are more active groups than per-group gauges are exported for (only the sums are).",
		nil, b2f(st.Limited))

	counter := func(name, help string, v int64) {
		out = append(out, Gauge{Name: name, Help: help, Value: float64(v), Counter: true})
	}
	counter("pes_events_written_total", "Events recorded since pesd started.", st.EventsWritten)
	counter("pes_changes_written_total", "Capacity changes recorded since pesd started.", st.ChangesWritten)
	counter("pes_reconcile_passes_total", "Reconcile passes since pesd started.", st.Passes)
	counter("pes_reconcile_pass_errors_total", "Reconcile passes that ended with an error.", st.PassErrors)
	counter("pes_fenced_writes_total", "Writes the store refused because this replica had lost the group's lease (stale fencing token).", st.FencedWrites)
	add("pes_reconcile_last_pass_seconds", "Wall time of the last reconcile pass (observe, evaluate, harmonize, record).",
		nil, st.LastPass.Seconds())
	return out
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
