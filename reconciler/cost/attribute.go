package cost

import (
	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// Records are the causality records attribution reads: the changes that
// launched nodes, their nexuses, the events those name, the decision
// records of their periods, and for replacement requests the change that
// removed the lost node and its nexus (the failure chain).
type Records struct {
	Changes map[string]api.Change
	Nexuses map[string]api.Nexus
	Events  map[string]api.Event
	Periods map[string]*api.Period
	// Shares, when it holds a change, is that change's attribution as
	// Shares computed it before (a reader's cache of settled changes);
	// its nexus and period need not be there then.
	Shares map[string][]Share
}

// SharesOf is the change's shares: the ones held, else Shares'.
func (rec Records) SharesOf(ch api.Change) []Share {
	if s, ok := rec.Shares[ch.ID]; ok {
		return s
	}
	return Shares(ch, rec)
}

// Scale is what the weights of one change's shares add up to.
const Scale = 1_000_000_000

// Share is one cause's part of a change's node time.
type Share struct {
	// Cause is the event the time is charged to: the change's own cause
	// or, for a replacement, the event that started its failure chain
	// (the node that became unavailable or failed to start).
	Cause string
	// Via are the events of the chain from Cause to the change (Cause
	// itself first, then the replacement request), and ChangeIDs the
	// changes on the way (the removal of the lost node).
	Via       []string
	ChangeIDs []string
	Weight    int64 // of Scale
	// Event is Cause's record when the share was kept with it (a reader's
	// ledger of settled changes), so Compute need not look it up; Head is
	// the cause in words as the reader kept them with it (Row.Head).
	Event *api.Event
	Head  string
}

// Shares attributes a change's node time to its causes (the rule the
// costs guide states and argues for):
//
//   - a direct change: all of it to its one event;
//   - an indirect change (a harmonization): each fulfilled replacement
//     request carries one node; the other nodes are layers, the k-th node
//     above the period's starting quantity shared equally by the requests
//     that asked for at least k more nodes. So the chosen request carries
//     what it asked for, less what others asked for too, and each
//     contributing request its share of what it asked for (the Shapley
//     value of the "airport game": nobody pays for capacity they did not
//     ask for, and those who asked for the same node pay for it equally).
//     Nodes no request asked for (a min_quantity clamp, a sum policy's
//     total above any one request) are shared by every request that asked
//     for more, else by every cause.
//
// A change with no recorded cause has one share with Cause "".
func Shares(ch api.Change, rec Records) []Share {
	nx, ok := rec.Nexuses[ch.NexusID]
	if !ok || len(nx.EventIDs) == 0 {
		return []Share{{Weight: Scale, ChangeIDs: []string{ch.ID}}}
	}
	if nx.Attribution == api.AttributionDirect || len(nx.EventIDs) == 1 {
		return []Share{rec.share(nx.EventIDs[0], ch.ID, Scale)}
	}
	// The period's decision record holds what each request proposed.
	asked := map[string]int{}
	kind := map[string]string{}
	base := 0
	if p := rec.Periods[ch.PeriodID]; p != nil {
		base = p.DesiredBefore
		for _, r := range p.Requests {
			asked[r.EventID], kind[r.EventID] = r.ProposedQuantity, r.Kind
		}
	}
	var repls, reqs []string
	for _, id := range nx.EventIDs {
		e := rec.Events[id]
		if e.Type == api.EventReplacementRequest || kind[id] == "replacement" {
			repls = append(repls, id)
		} else {
			reqs = append(reqs, id)
		}
	}
	amount := nexusAmount(nx, ch, rec)
	nodes := make(map[string]float64, len(nx.EventIDs)) // in nodes
	r := min(len(repls), amount)
	for _, id := range repls[:r] {
		nodes[id] = 1
	}
	ask := func(id string) int { return max(asked[id]-base, 0) }
	for k := 1; k <= amount-r; k++ {
		var layer []string
		for _, id := range reqs {
			if ask(id) >= k {
				layer = append(layer, id)
			}
		}
		if len(layer) == 0 {
			for _, id := range reqs {
				if ask(id) > 0 {
					layer = append(layer, id)
				}
			}
		}
		if len(layer) == 0 {
			layer = reqs
		}
		if len(layer) == 0 {
			layer = repls
		}
		for _, id := range layer {
			nodes[id] += 1 / float64(len(layer))
		}
	}
	// Whole weights of Scale, by largest remainder, so they add up.
	ids := make([]string, 0, len(nodes))
	ws := make([]int64, 0, len(nodes))
	for _, id := range nx.EventIDs {
		if n := nodes[id]; n > 0 {
			ids = append(ids, id)
			ws = append(ws, int64(n*float64(Scale)/float64(amount)*1e3))
		}
	}
	if len(ids) == 0 {
		return []Share{rec.share(nx.EventIDs[0], ch.ID, Scale)}
	}
	parts := apportion(Scale, ws)
	out := make([]Share, 0, len(ids))
	for i, id := range ids {
		if parts[i] > 0 {
			out = append(out, rec.share(id, ch.ID, parts[i]))
		}
	}
	return out
}

// nexusAmount is how many nodes the nexus's add_nodes changes added
// together (a launch whose nodes came late is several changes of one
// nexus, and the layers are of the whole launch).
func nexusAmount(nx api.Nexus, ch api.Change, rec Records) int {
	total := 0
	for _, id := range nx.ChangeIDs {
		if c, ok := rec.Changes[id]; ok && c.Type == api.ChangeAddNodes {
			total += c.Amount
		}
	}
	if total < ch.Amount {
		total = ch.Amount
	}
	return max(total, 1)
}

// share is event id's share of change chID, followed up its failure
// chain: a replacement request is charged to the event that made the lost
// node go (through the change that removed it).
func (rec Records) share(id, chID string, w int64) Share {
	s := Share{Cause: id, Via: []string{id}, ChangeIDs: []string{chID}, Weight: w}
	for range 8 { // a chain is one or two steps; the bound guards a cycle
		e, ok := rec.Events[s.Cause]
		if !ok || e.Type != api.EventReplacementRequest || e.ParentChangeID == "" {
			break
		}
		parent, ok := rec.Changes[e.ParentChangeID]
		if !ok {
			break
		}
		nx, ok := rec.Nexuses[parent.NexusID]
		if !ok || len(nx.EventIDs) == 0 || nx.EventIDs[0] == s.Cause {
			break
		}
		s.Cause = nx.EventIDs[0]
		s.Via = append([]string{s.Cause}, s.Via...)
		s.ChangeIDs = append(s.ChangeIDs, parent.ID)
	}
	return s
}
