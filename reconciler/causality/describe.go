// Package causality writes the words people read about why capacity
// changed: one-line descriptions of events and changes, and explanations
// that follow the nexus (direct or indirect attribution), the decision
// record of the period, and the chains of replacement (a lost node's
// replacement request → the change that removed the node → the event that
// reported it). It is pure: records in, text out.
package causality

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// Lookup finds the records an explanation follows. Explanations work
// without it (a nil Lookup), only naming less.
type Lookup interface {
	Event(id string) (api.Event, bool)
	Change(id string) (api.Change, bool)
	Nexus(id string) (api.Nexus, bool)
}

// Records is a Lookup over records already in memory.
type Records struct {
	Events  map[string]api.Event
	Changes map[string]api.Change
	Nexuses map[string]api.Nexus
}

// NewRecords indexes events, changes and nexuses by ID.
func NewRecords(events []api.Event, changes []api.Change, nexuses []api.Nexus) *Records {
	r := &Records{
		Events:  make(map[string]api.Event, len(events)),
		Changes: make(map[string]api.Change, len(changes)),
		Nexuses: make(map[string]api.Nexus, len(nexuses)),
	}
	for _, e := range events {
		r.Events[e.ID] = e
	}
	for _, c := range changes {
		r.Changes[c.ID] = c
	}
	for _, n := range nexuses {
		r.Nexuses[n.ID] = n
	}
	return r
}

// Event implements Lookup.
func (r *Records) Event(id string) (api.Event, bool) { e, ok := r.Events[id]; return e, ok }

// Change implements Lookup.
func (r *Records) Change(id string) (api.Change, bool) { c, ok := r.Changes[id]; return c, ok }

// Nexus implements Lookup.
func (r *Records) Nexus(id string) (api.Nexus, bool) { n, ok := r.Nexuses[id]; return n, ok }

// DescribeEvent is an event's one-line description: who or what acted and
// what it asked for, e.g. "trigger cpu-high asked for +4 (avg
// cpu_utilization 87.3 > 80 for 2m)". A suppressed or ignored event says so.
func DescribeEvent(e api.Event) string {
	s := what(e, nil)
	if e.Type == api.EventMetricsMissing {
		return s // its reason is already the description
	}
	switch e.Status {
	case api.EventSuppressed, api.EventIgnored:
		s += "; " + e.Status
		if e.Reason != "" {
			s += " (" + e.Reason + ")"
		}
	}
	return s
}

// DescribeChange is a change's one-line description, e.g. "add 5 nodes,
// 7 → 12" or "node web-3 lost, 8 → 7". name gives a node's name from its
// id (Node.Name); nil names nodes by id.
func DescribeChange(c api.Change, name func(nodeID string) string) string {
	var s string
	switch c.Type {
	case api.ChangeAddNodes:
		s = "add " + nodes(c.Amount)
	case api.ChangeRemoveNodes:
		s = "remove " + nodes(c.Amount)
	case api.ChangeNodeLost:
		if len(c.NodeIDs) == 1 && c.Amount <= 1 {
			id := c.NodeIDs[0]
			if name != nil {
				id = cmp.Or(name(id), id)
			}
			s = "node " + id + " lost"
		} else {
			s = nodes(c.Amount) + " lost"
		}
	default:
		s = strings.ReplaceAll(c.Type, "_", " ") + " " + nodes(c.Amount)
	}
	s += fmt.Sprintf(", %d → %d", c.QuantityBefore, c.QuantityAfter)
	if c.Status == api.ChangeFailed {
		s += " (failed)"
	}
	return s
}

// what says what an event is, without its status. With a Lookup, a
// replacement request names the loss it replaces.
func what(e api.Event, l Lookup) string {
	if s, ok := executionWhat(e); ok {
		return s
	}
	switch e.Type {
	case api.EventGroupCreated:
		if q, ok := quantity(e); ok {
			return fmt.Sprintf("%s created the group with %s", who(e), nodes(q))
		}
		return who(e) + " created the group"
	case api.EventGroupDeleted:
		return who(e) + " deleted the group"
	case api.EventTriggerFired:
		if e.Request == nil && e.ProposedQuantity == nil {
			// A notify trigger's firing: the receiver decides.
			return who(e) + " fired" + paren(e.Observed) + "; " + joinNonEmpty("; ", e.Notes...)
		}
		fallthrough
	case api.EventUserInstruction:
		s := who(e) + " asked for " + ask(e)
		if e.Immediate {
			s += " at once"
		}
		if e.Type == api.EventTriggerFired && e.Observed != "" {
			s += " (" + e.Observed + ")"
		}
		if e.Status != api.EventSuppressed && e.Status != api.EventIgnored {
			notes := joinNonEmpty("; ", e.Notes...)
			if e.Type == api.EventUserInstruction {
				// The user's words in quotes; how bounds changed the
				// request is pesd's, so it follows outside them.
				if e.Reason != "" {
					s += fmt.Sprintf(" (%q)", e.Reason)
				}
			} else {
				// A trigger gives no reason of its own: one there was
				// written before events had notes, and it is how bounds
				// changed the request (an immediate firing's clamp).
				notes = joinNonEmpty("; ", e.Reason, notes)
			}
			if notes != "" {
				s += "; " + notes
			}
		}
		return s
	case api.EventNodeInitFailed:
		return "node " + node(e) + " failed to initialize" + paren(e.Reason)
	case api.EventNodeUnavailable:
		return "node " + node(e) + " became unavailable" + paren(e.Reason)
	case api.EventNodeTerminatedUser:
		return who(e) + " terminated node " + node(e)
	case api.EventReplacementRequest:
		if lost, cause, ok := loss(e, l); ok {
			s := fmt.Sprintf("replacement of node %s lost at %s", node(e), clock(lost.StartedAt))
			if cause.Label != "" {
				s += " (" + cause.Label + ")"
			}
			return s
		}
		return "replacement of node " + node(e) + " requested"
	case api.EventMetricsReturned:
		return who(e) + " has data again" + paren(e.Observed)
	case api.EventOwnershipMoved:
		if e.Reason != "" {
			return e.Reason
		}
		return who(e) + " took the group over"
	case api.EventNotified:
		return who(e) + " notified: " + e.Reason
	case api.EventMetricsMissing:
		s := who(e) + " was not evaluated"
		if e.Source.Kind != api.SourceTrigger {
			s = "metrics missing"
		}
		if e.Reason != "" {
			s += ": " + e.Reason
		}
		return s
	}
	return strings.ReplaceAll(e.Type, "_", " ") + paren(e.Reason)
}

// node names an event's node as people read it: its name ("web-3.2")
// when the event has it, else its id (events recorded before nodes had
// names).
func node(e api.Event) string { return cmp.Or(e.NodeName, e.NodeID) }

// described is a recorded change's description: the one written with the
// row (it names nodes by name), else DescribeChange's.
func described(c api.Change) string {
	if c.Description != "" {
		return c.Description
	}
	return DescribeChange(c, nil)
}

func joinNonEmpty(sep string, parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, sep)
}

// loss follows a replacement request to the change that removed the node
// and the event that change was attributed to.
func loss(e api.Event, l Lookup) (api.Change, api.Event, bool) {
	if l == nil || e.ParentChangeID == "" {
		return api.Change{}, api.Event{}, false
	}
	c, ok := l.Change(e.ParentChangeID)
	if !ok {
		return api.Change{}, api.Event{}, false
	}
	return c, firstCause(c, l), true
}

// firstCause is the (first) event a change is attributed to, if known.
func firstCause(c api.Change, l Lookup) api.Event {
	if l == nil || c.NexusID == "" {
		return api.Event{}
	}
	n, ok := l.Nexus(c.NexusID)
	if !ok || len(n.EventIDs) == 0 {
		return api.Event{}
	}
	e, _ := l.Event(n.EventIDs[0])
	return e
}

// who names the actor: "user alice", "user terraform-ci (on behalf of
// terraform)", "trigger cpu-high", "pesd". A user is the authenticated
// principal when the event has one; the actor the client named comes
// after it, never in its place.
func who(e api.Event) string {
	switch e.Source.Kind {
	case api.SourceUser:
		name := e.Source.Name
		if e.Source.Principal != "" {
			name = e.Source.Principal
		}
		if name == "" {
			return "a user"
		}
		if e.Source.OnBehalfOf != "" {
			return "user " + name + " (on behalf of " + e.Source.OnBehalfOf + ")"
		}
		return "user " + name
	case api.SourceTrigger:
		if e.Source.Name == "" {
			return "a trigger"
		}
		return "trigger " + e.Source.Name
	}
	if e.Source.Name != "" {
		return e.Source.Name
	}
	return "pesd"
}

// ask is the request form for people: "+4", "-2", "+50%", "12 nodes".
func ask(e api.Event) string {
	if r := e.Request; r != nil {
		switch {
		case r.ChangeBy != nil: // strconv: a costs answer describes 100,000 causes
			if *r.ChangeBy >= 0 {
				return "+" + strconv.Itoa(*r.ChangeBy)
			}
			return strconv.Itoa(*r.ChangeBy)
		case r.ChangeByPercent != nil:
			return fmt.Sprintf("%+g%%", *r.ChangeByPercent)
		case r.SetTo != nil:
			return nodes(*r.SetTo)
		}
	}
	if e.ProposedQuantity != nil {
		return nodes(*e.ProposedQuantity)
	}
	return "a change"
}

// quantity is the quantity an event names (set_to or its proposal).
func quantity(e api.Event) (int, bool) {
	if e.Request != nil && e.Request.SetTo != nil {
		return *e.Request.SetTo, true
	}
	if e.ProposedQuantity != nil {
		return *e.ProposedQuantity, true
	}
	return 0, false
}

func nodes(n int) string { return plural(n, "node") }

// plural is "1 run" or "3 runs".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// clock is how explanations name an instant: 15:04:05, UTC.
func clock(t time.Time) string { return t.UTC().Format("15:04:05") }
