// Package history is pesd's read side: it answers every query about what
// pesd recorded (groups, nodes, triggers, events, changes, periods, and
// the causes, effects and explanations between them) over a store.Reader,
// with the words of package causality. It writes nothing and holds no
// live state, so the API's reads never wait on the reconcile loop.
package history

import (
	"context"
	"errors"
	"strings"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// Reader answers the queries. It is safe for concurrent use as its
// store.Reader is.
type Reader struct {
	r store.Reader
}

// New returns the read side over r.
func New(r store.Reader) *Reader { return &Reader{r: r} }

func (h *Reader) GetGroup(ctx context.Context, id string) (api.Group, error) {
	return h.r.GetGroup(ctx, id)
}

func (h *Reader) ListGroups(ctx context.Context, f store.GroupFilter) ([]api.Group, string, error) {
	return h.r.ListGroups(ctx, f)
}

// ListNodes returns the group's nodes, terminated ones only when
// includeTerminated.
func (h *Reader) ListNodes(ctx context.Context, groupID string, includeTerminated bool) ([]api.Node, error) {
	return h.r.ListNodes(ctx, groupID, includeTerminated)
}

func (h *Reader) GetTrigger(ctx context.Context, id string) (api.Trigger, error) {
	return h.r.GetTrigger(ctx, id)
}

func (h *Reader) ListTriggers(ctx context.Context, groupID string) ([]api.Trigger, error) {
	return h.r.ListTriggers(ctx, groupID)
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
