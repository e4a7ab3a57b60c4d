package engine

import (
	"cmp"
	"slices"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/cost"
)

// Removal is how scale-in chooses among ready nodes: the group's
// termination_policy and, for closest_to_billing_boundary, the time and
// the group's billing rates, which say when each node's paid increment
// ends.
type Removal struct {
	Policy string
	Now    time.Time
	Rates  cost.Rates
}

// Paid is a node removed by closest_to_billing_boundary and when its paid
// time ends: the facts the decision record's note is written from.
type Paid struct {
	NodeID, Name string
	Until        time.Time
	Left         time.Duration // from the decision's time until Until
}

// live reports whether a node counts toward capacity: ready, or launching
// (in flight), so a slow boot is never launched twice.
func live(n api.Node) bool {
	return n.State == api.NodeReady || n.State == api.NodeLaunching
}

// failed reports whether a node is dead weight that must go.
func failed(n api.Node) bool {
	return n.State == api.NodeUnavailable || n.State == api.NodeInitFailed
}

// removalRank orders nodes for removal: failed nodes cost nothing to
// remove, unready ones have not started serving yet, ready ones last.
func removalRank(n api.Node) int {
	switch {
	case failed(n):
		return 0
	case n.State == api.NodeLaunching:
		return 1
	default:
		return 2
	}
}

// SelectForRemoval picks up to n nodes to remove, in order: init_failed and
// unavailable nodes, then launching nodes (newest first: the least boot
// time is thrown away), then ready nodes by policy: newest (the default),
// oldest, or closest_to_billing_boundary (the soonest end of paid time
// first, so the least paid time is thrown away; ties newest first).
// Terminating and terminated nodes are never picked.
func SelectForRemoval(nodes []api.Node, n int, r Removal) []string {
	if n <= 0 {
		return nil
	}
	cands := make([]api.Node, 0, len(nodes))
	for _, nd := range nodes {
		if failed(nd) || live(nd) {
			cands = append(cands, nd)
		}
	}
	oldestFirst := r.Policy == api.TerminateOldest
	billed := r.Policy == api.TerminateClosestToBillingBoundary
	slices.SortStableFunc(cands, func(a, b api.Node) int {
		if c := cmp.Compare(removalRank(a), removalRank(b)); c != 0 {
			return c
		}
		if removalRank(a) == 2 && billed {
			if c := r.Rates.PaidUntil(a.LaunchedAt, r.Now).Compare(r.Rates.PaidUntil(b.LaunchedAt, r.Now)); c != 0 {
				return c
			}
		}
		c := a.LaunchedAt.Compare(b.LaunchedAt)
		if c == 0 {
			c = cmp.Compare(a.Index, b.Index)
		}
		if removalRank(a) == 2 && oldestFirst {
			return c
		}
		return -c // newest first
	})
	ids := make([]string, 0, min(n, len(cands)))
	for _, nd := range cands[:min(n, len(cands))] {
		ids = append(ids, nd.ID)
	}
	return ids
}

// Reconcile brings ready+launching nodes to desired: it launches the
// shortfall, or removes the excess (unready first, then by policy).
// Failed nodes (init_failed, unavailable) count for nothing and are always
// removed, first, so a dead node never lingers in the group.
func Reconcile(desired int, nodes []api.Node, r Removal) (launch int, terminate []string) {
	alive := make([]api.Node, 0, len(nodes))
	for _, n := range nodes {
		switch {
		case failed(n):
			terminate = append(terminate, n.ID)
		case live(n):
			alive = append(alive, n)
		}
	}
	desired = max(desired, 0)
	switch {
	case len(alive) < desired:
		launch = desired - len(alive)
	case len(alive) > desired:
		terminate = append(terminate, SelectForRemoval(alive, len(alive)-desired, r)...)
	}
	return launch, terminate
}

// counts returns the ready and launching node counts.
func counts(nodes []api.Node) (ready, launching int) {
	for _, n := range nodes {
		switch n.State {
		case api.NodeReady:
			ready++
		case api.NodeLaunching:
			launching++
		}
	}
	return ready, launching
}

// paidOf lists, for closest_to_billing_boundary, the ready nodes of
// terminate with the end of their paid time, in the order removed.
func paidOf(nodes []api.Node, terminate []string, r Removal) []Paid {
	if r.Policy != api.TerminateClosestToBillingBoundary {
		return nil
	}
	byID := make(map[string]api.Node, len(nodes))
	for _, n := range nodes {
		byID[n.ID] = n
	}
	var out []Paid
	for _, id := range terminate {
		if n, ok := byID[id]; ok && n.State == api.NodeReady {
			until := r.Rates.PaidUntil(n.LaunchedAt, r.Now)
			out = append(out, Paid{NodeID: id, Name: cmp.Or(n.Name, id), Until: until, Left: until.Sub(r.Now)})
		}
	}
	return out
}
