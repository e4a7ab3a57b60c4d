// Package history is pesd's read side: it answers every query about what
// pesd recorded (groups, nodes, triggers, events, changes, periods, and
// the causes, effects and explanations between them) over a store.Reader,
// with the words of package causality. It writes nothing and holds no
// live state (only a ledger of settled node time and attribution), so the API's
// reads never wait on the reconcile loop.
package history

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// Reader answers the queries. It is safe for concurrent use as its
// store.Reader is. The one state it keeps is a ledger of settled node
// time and its attribution (records that no longer change).
type Reader struct {
	r      store.Reader
	clock  clock.Clock
	ledger *ledger
}

// Option configures a Reader.
type Option func(*Reader)

// WithClock sets the clock the last observed values are looked for back
// from (default: the real one).
func WithClock(c clock.Clock) Option { return func(h *Reader) { h.clock = c } }

// New returns the read side over r.
func New(r store.Reader, opts ...Option) *Reader {
	h := &Reader{r: r, clock: clock.Real{}, ledger: &ledger{}}
	for _, o := range opts {
		o(h)
	}
	return h
}

// ResolveGroup returns the group ref names: a group's id (live or
// deleted), or else the name of a live group, as people type it. Every
// route that takes a group resolves it here, so a name works wherever an
// id does. A name whose groups are all deleted finds the one deleted last
// when includeDeleted; otherwise it is a 404 that says where its history
// is, because "not found" would hide history pesd keeps.
//
// A non-empty tenant sees only its own groups: another tenant's id is not
// found exactly as a missing id is, so existence does not leak, and a
// name is looked up among the tenant's groups only. An empty tenant (an
// admin) sees every tenant's.
func (h *Reader) ResolveGroup(ctx context.Context, tenant, ref string, includeDeleted bool) (api.Group, error) {
	g, err := h.r.GetGroup(ctx, ref)
	if err == nil && tenant != "" && g.Tenant != tenant {
		g, err = api.Group{}, fmt.Errorf("group %q: %w", ref, store.ErrNotFound)
	}
	if !errors.Is(err, store.ErrNotFound) || api.ValidateGroupName(ref) != nil {
		return g, err
	}
	named, nerr := h.r.GetGroupByName(ctx, tenant, ref)
	switch {
	case errors.Is(nerr, store.ErrNotFound):
		return g, err // the id's own "not found"
	case nerr != nil:
		return named, nerr
	case named.Status == api.GroupDeleted && !includeDeleted:
		return api.Group{}, &api.Error{Code: api.CodeNotFound, Status: 404, Message: deletedMessage(named)}
	}
	return named, nil
}

// deletedMessage answers a deleted group's name: when it went, and the id
// its history is kept under.
func deletedMessage(g api.Group) string {
	when := "an unknown time"
	if g.DeletedAt != nil {
		when = g.DeletedAt.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("group %s was deleted at %s; its history is under id %s (pesd groups --all)", g.Name, when, g.ID)
}

// Owns reports whether tenant may see the record of kind ("event",
// "change", "period", "trigger", "execution") id: whether it exists and
// its group is the tenant's. A missing record and another tenant's are
// both false, so the caller answers them alike. An empty tenant (an
// admin) sees all.
func (h *Reader) Owns(ctx context.Context, tenant, kind, id string) (bool, error) {
	if tenant == "" {
		return true, nil
	}
	var (
		groupID string
		err     error
	)
	switch kind {
	case "event":
		var e api.Event
		e, err = h.r.GetEvent(ctx, id)
		groupID = e.GroupID
	case "change":
		var c api.Change
		c, err = h.r.GetChange(ctx, id)
		groupID = c.GroupID
	case "period":
		var p api.Period
		p, err = h.r.GetPeriod(ctx, id)
		groupID = p.GroupID
	case "trigger":
		var t api.Trigger
		t, err = h.r.GetTrigger(ctx, id)
		groupID = t.GroupID
	case "execution":
		var x api.Execution
		x, err = h.getExecution(ctx, id) // the group is enough: not its jobs
		groupID = x.GroupID
	default:
		return false, fmt.Errorf("owns: unknown kind %q", kind)
	}
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	g, err := h.r.GetGroup(ctx, groupID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil && g.Tenant == tenant, err
}

func (h *Reader) ListGroups(ctx context.Context, f store.GroupFilter) ([]api.Group, string, error) {
	return h.r.ListGroups(ctx, f)
}

// ListNodes returns the group's nodes, terminated ones only when
// includeTerminated.
func (h *Reader) ListNodes(ctx context.Context, groupID string, includeTerminated bool) ([]api.Node, error) {
	return h.r.ListNodes(ctx, groupID, includeTerminated)
}

// ResolveTrigger returns the trigger ref names: a trigger's id, or with
// group (a group's id or name, as ResolveGroup takes it) the name of one
// of that group's triggers (names are unique within a group). With group,
// an id of another group's trigger is not found.
// A notify secret is write-only: the read side never returns it.
func (h *Reader) ResolveTrigger(ctx context.Context, tenant, ref, group string) (api.Trigger, error) {
	if group == "" {
		t, err := h.r.GetTrigger(ctx, ref)
		return t.Redacted(), err
	}
	g, err := h.ResolveGroup(ctx, tenant, group, false)
	if err != nil {
		return api.Trigger{}, err
	}
	ts, err := h.r.ListTriggers(ctx, g.ID)
	if err != nil {
		return api.Trigger{}, err
	}
	for _, t := range ts {
		if t.Name == ref || t.ID == ref {
			return t.Redacted(), nil
		}
	}
	return api.Trigger{}, &api.Error{Code: api.CodeNotFound, Status: 404,
		Message: fmt.Sprintf("group %s has no trigger %s", group, ref)}
}

func (h *Reader) ListEvents(ctx context.Context, f store.EventFilter) ([]api.Event, string, error) {
	return h.r.ListEvents(ctx, f)
}

// ListChanges lists changes. f.CausedBy is an event's id or, as people
// read them, its label within f.GroupID ("E4"); an unknown label is a
// 400 naming caused_by.
func (h *Reader) ListChanges(ctx context.Context, f store.ChangeFilter) ([]api.Change, string, error) {
	if isLabel(f.CausedBy, 'E') {
		label := strings.ToUpper(f.CausedBy)
		e, err := h.r.GetEventByLabel(ctx, f.GroupID, label)
		if errors.Is(err, store.ErrNotFound) {
			err = api.Invalid("caused_by", "group %s has no event %s", f.GroupID, label)
		}
		if err != nil {
			return nil, "", err
		}
		f.CausedBy = e.ID
	}
	return h.r.ListChanges(ctx, f)
}

func (h *Reader) GetPeriod(ctx context.Context, id string) (api.Period, error) {
	return h.r.GetPeriod(ctx, id)
}

func (h *Reader) ListPeriods(ctx context.Context, groupID string, p store.Page) ([]api.Period, string, error) {
	return h.r.ListPeriods(ctx, groupID, p)
}

// isLabel reports whether s is a per-group label of kind k ("E4", "e4").
func isLabel(s string, k byte) bool {
	if len(s) < 2 || (s[0] != k && s[0] != k+'a'-'A') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
