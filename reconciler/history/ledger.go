package history

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/cost"
)

// settleAfter is how long after a node ended (past its billed time) or a
// change ended the ledger takes it as settled: a launch's late nodes join
// its nexus within the launch window, and a termination is committed
// within moments of its time; an hour is far past both, so a node written
// late is never missed.
const settleAfter = time.Hour

// maxTallied bounds the ledger: past that many nodes over all groups, it
// starts again.
const maxTallied = 2_000_000

// ledger holds, per group, the node time that can no longer change: the
// nodes terminated before a time, tallied by the change that launched
// them (with the change's attribution once that is settled too). A costs
// query adds the tallies within its window and cuts only the nodes at its
// edges, the live ones and the recently ended; a scrape of /metrics adds
// the group's total. Everything tallied is a pure function of records
// that no longer change, so the ledger is a cache any reader can rebuild
// from the store, and the answers are the same to the micro-unit.
type ledger struct {
	mu      sync.Mutex
	groups  map[string]*groupLedger
	tallied int
}

// group returns g's ledger, new when there is none.
func (l *ledger) group(id string) *groupLedger {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.groups == nil || l.tallied > maxTallied {
		l.groups, l.tallied = map[string]*groupLedger{}, 0
	}
	gl, ok := l.groups[id]
	if !ok {
		gl = &groupLedger{owner: l}
		l.groups[id] = gl
	}
	return gl
}

func (l *ledger) count(n int) {
	l.mu.Lock()
	l.tallied += n
	l.mu.Unlock()
}

// groupLedger is one group's settled node time. Its mutex is held by a
// query from the ledger's advance until it has read the tallies.
type groupLedger struct {
	mu      sync.Mutex
	owner   *ledger
	through time.Time       // every node terminated before it is tallied
	rates   cost.Rates      // the prices the tallies are at
	priced  time.Time       // the end of the latest billed time tallied
	order   []*ledgerChange // by first node: launch, then id
	byID    map[string]*ledgerChange
	seconds int64 // of every tally
	units   int64
}

type ledgerChange struct {
	tally cost.Tally
	// nodes are the tallied nodes' times, to cut at a window's edge.
	nodes []api.Node
}

// advance tallies the nodes that ended before now - settleAfter - the
// rates' slack (their billed time is over and no later price applies to
// it) and returns the others, live or ended since, in launch order. A now
// before the ledger's (a query about the past) or rates that would reprice
// tallied time start the ledger again.
func (gl *groupLedger) advance(ctx context.Context, r nodeTimesReader, groupID string, rates cost.Rates, now time.Time) ([]api.Node, error) {
	through := now.Add(-settleAfter - rates.Slack())
	if through.Before(gl.through) || !gl.samePrices(rates) {
		gl.owner.count(-gl.tallied())
		*gl = groupLedger{owner: gl.owner}
	}
	gl.rates = rates
	nodes, err := r.NodeTimesEndedSince(ctx, groupID, gl.through)
	if err != nil || !through.After(gl.through) {
		return nodes, err
	}
	if gl.byID == nil {
		gl.byID = map[string]*ledgerChange{}
	}
	pending, added := nodes[:0], 0
	for _, n := range nodes {
		if n.TerminatedAt == nil || !n.TerminatedAt.Before(through) {
			pending = append(pending, n)
			continue
		}
		lc, ok := gl.byID[n.ChangeID]
		if !ok {
			lc = &ledgerChange{tally: cost.Tally{ChangeID: n.ChangeID}}
			gl.byID[n.ChangeID] = lc
			gl.order = append(gl.order, lc)
		}
		before := lc.tally
		lc.tally.Add(n, rates)
		gl.seconds += lc.tally.Seconds - before.Seconds
		gl.units += lc.tally.Units - before.Units
		gl.priced = maxTime(gl.priced, lc.tally.Last)
		lc.nodes = append(lc.nodes, n)
		added++
	}
	gl.through = through
	if added > 0 {
		gl.owner.count(added)
		slices.SortFunc(gl.order, func(a, b *ledgerChange) int {
			return cost.LaunchOrder(a.tally.First, a.tally.FirstNode, b.tally.First, b.tally.FirstNode)
		})
	}
	return pending, nil
}

// samePrices reports whether rates price the tallied time as the ledger's
// did: the same rates, and any new one from after the tallied time ends.
func (gl *groupLedger) samePrices(rates cost.Rates) bool {
	if len(rates) < len(gl.rates) {
		return false
	}
	for i, r := range gl.rates {
		if !r.From.Equal(rates[i].From) || r.PriceMicros != rates[i].PriceMicros ||
			r.Increment != rates[i].Increment || r.Minimum != rates[i].Minimum || r.Currency != rates[i].Currency {
			return false
		}
	}
	for _, r := range rates[len(gl.rates):] {
		if r.From.Before(gl.priced) {
			return false
		}
	}
	return true
}

func (gl *groupLedger) tallied() int {
	n := 0
	for _, lc := range gl.order {
		n += len(lc.nodes)
	}
	return n
}

// window is what a query over [since, until) takes from the ledger: the
// tallies wholly within it, and the tallied nodes of the changes cut by
// its edges (to be cut node by node), in launch order.
func (gl *groupLedger) window(since, until time.Time) (tallies []*cost.Tally, cut []api.Node) {
	for _, lc := range gl.order {
		t := &lc.tally
		if t.FirstNode == "" || !t.Last.After(since) || (!until.IsZero() && !t.First.Before(until)) {
			continue // no time in the window
		}
		if t.Within(since, until) {
			tallies = append(tallies, t)
			continue
		}
		cut = append(cut, lc.nodes...)
	}
	return tallies, cut
}

// nodeTimesReader is the store's read the ledger advances with.
type nodeTimesReader interface {
	NodeTimesEndedSince(ctx context.Context, groupID string, since time.Time) ([]api.Node, error)
}

// inLaunchOrder sorts nodes by launch, then id, as the store reads them.
func inLaunchOrder(nodes []api.Node) {
	slices.SortFunc(nodes, func(a, b api.Node) int {
		return cost.LaunchOrder(a.LaunchedAt, a.ID, b.LaunchedAt, b.ID)
	})
}
