package history

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// groupsReader holds groups by id and answers names as the store does
// (the live group, else the one deleted last), counting name lookups.
type groupsReader struct {
	store.Reader
	groups  []api.Group
	byName  int
	failing error // returned by every read when set
}

func (r *groupsReader) GetGroup(ctx context.Context, id string) (api.Group, error) {
	if r.failing != nil {
		return api.Group{}, r.failing
	}
	for _, g := range r.groups {
		if g.ID == id {
			return g, nil
		}
	}
	return api.Group{}, fmt.Errorf("group %q: %w", id, store.ErrNotFound)
}

func (r *groupsReader) GetGroupByName(ctx context.Context, _, name string) (api.Group, error) {
	r.byName++
	var last *api.Group
	for i, g := range r.groups {
		switch {
		case g.Name != name:
		case g.Status != api.GroupDeleted:
			return g, nil
		case last == nil || g.DeletedAt.After(*last.DeletedAt):
			last = &r.groups[i]
		}
	}
	if last == nil {
		return api.Group{}, fmt.Errorf("group named %q: %w", name, store.ErrNotFound)
	}
	return *last, nil
}

func (r *groupsReader) ListTriggers(ctx context.Context, groupID string) ([]api.Trigger, error) {
	if groupID == "g-web" {
		return []api.Trigger{{ID: "t-1", GroupID: "g-web", Name: "cpu-high"}}, nil
	}
	return []api.Trigger{}, nil
}

func TestResolveGroup(t *testing.T) {
	at := func(h int) *time.Time { tm := time.Date(2026, 1, 2, h, 0, 0, 0, time.UTC); return &tm }
	r := &groupsReader{groups: []api.Group{
		{ID: "g-web", GroupConfig: api.GroupConfig{Name: "web"}, Status: api.GroupActive},
		{ID: "g-old1", GroupConfig: api.GroupConfig{Name: "old"}, Status: api.GroupDeleted, DeletedAt: at(11)},
		{ID: "g-old2", GroupConfig: api.GroupConfig{Name: "old"}, Status: api.GroupDeleted, DeletedAt: at(12)},
		{ID: "g-webold", GroupConfig: api.GroupConfig{Name: "web"}, Status: api.GroupDeleted, DeletedAt: at(9)},
	}}
	h := New(r)
	ctx := context.Background()
	tests := []struct {
		ref            string
		includeDeleted bool
		wantID         string
		wantMsg        string // of the 404, "" when found
	}{
		{"g-web", false, "g-web", ""},
		{"web", false, "g-web", ""},     // the live one, not the deleted namesake
		{"g-old1", false, "g-old1", ""}, // a deleted group by its id
		{"old", true, "g-old2", ""},     // deleted last
		{"old", false, "", "group old was deleted at 2026-01-02T12:00:00Z; its history is under id g-old2 (pesd groups --all)"},
		{"nope", false, "", "not found"},       // the id's own error
		{"Not-A-Name", false, "", "not found"}, // never looked up by name
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.ref, tt.includeDeleted), func(t *testing.T) {
			g, err := h.ResolveGroup(ctx, "", tt.ref, tt.includeDeleted)
			if tt.wantMsg == "" {
				if err != nil || g.ID != tt.wantID {
					t.Errorf("%q: %s, %v; want %s", tt.ref, g.ID, err, tt.wantID)
				}
				return
			}
			var ae *api.Error
			switch {
			case errors.As(err, &ae):
				if ae.Status != 404 || ae.Code != api.CodeNotFound || ae.Message != tt.wantMsg {
					t.Errorf("%q: %+v, want a 404 saying %q", tt.ref, *ae, tt.wantMsg)
				}
			case !errors.Is(err, store.ErrNotFound):
				t.Errorf("%q: %v, want not found", tt.ref, err)
			}
		})
	}
	before := r.byName
	if _, err := h.ResolveGroup(ctx, "", "Not-A-Name", false); err == nil || r.byName != before {
		t.Errorf("a ref that cannot be a name was looked up by name")
	}

	// A store failure is not a "not found".
	boom := errors.New("disk on fire")
	r.failing = boom
	if _, err := h.ResolveGroup(ctx, "", "web", false); !errors.Is(err, boom) {
		t.Errorf("store failure: %v, want it passed on", err)
	}
}

func TestResolveTrigger(t *testing.T) {
	r := &groupsReader{groups: []api.Group{{ID: "g-web", GroupConfig: api.GroupConfig{Name: "web"}, Status: api.GroupActive}}}
	h := New(r)
	ctx := context.Background()
	for _, ref := range []string{"cpu-high", "t-1"} {
		if tr, err := h.ResolveTrigger(ctx, "", ref, "web"); err != nil || tr.ID != "t-1" {
			t.Errorf("%s in web: %+v, %v; want t-1", ref, tr, err)
		}
	}
	_, err := h.ResolveTrigger(ctx, "", "cpu-low", "g-web")
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Status != 404 || ae.Message != "group g-web has no trigger cpu-low" {
		t.Errorf("unknown trigger name: %v", err)
	}
}
