package history

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// labelReader knows event E4 of group g1 and records the filter
// ListChanges got. Reads the test does not expect are left to the nil
// store.Reader (they would panic).
type labelReader struct {
	store.Reader
	got    *store.ChangeFilter
	labels []string // the labels looked up
}

func (r *labelReader) GetEventByLabel(ctx context.Context, groupID, label string) (api.Event, error) {
	r.labels = append(r.labels, label)
	if groupID == "g1" && label == "E4" {
		return api.Event{ID: "0190-e4", GroupID: "g1", Label: "E4"}, nil
	}
	return api.Event{}, fmt.Errorf("event %s: %w", label, store.ErrNotFound)
}

func (r *labelReader) ListChanges(ctx context.Context, f store.ChangeFilter) ([]api.Change, string, error) {
	r.got = &f
	return nil, "", nil
}

// TestCausedByLabel: caused_by is an event's id or its label within the
// group, as people read it; an unknown label is a 400 naming caused_by.
func TestCausedByLabel(t *testing.T) {
	tests := []struct {
		causedBy  string
		want      string // the id the store is asked for
		wantLabel string // the label looked up; "" for none
		wantErr   bool
	}{
		{"E4", "0190-e4", "E4", false},
		{"e4", "0190-e4", "E4", false},
		{"0190-e4", "0190-e4", "", false}, // an id is taken as it is
		{"", "", "", false},
		{"E", "E", "", false},     // not a label: an id, which no change names
		{"E4x", "E4x", "", false}, // likewise
		{"C4", "C4", "", false},   // a change's label is not an event's
		{"E9", "", "E9", true},
	}
	for _, tt := range tests {
		t.Run(tt.causedBy, func(t *testing.T) {
			r := &labelReader{}
			_, _, err := New(r).ListChanges(context.Background(), store.ChangeFilter{GroupID: "g1", CausedBy: tt.causedBy})
			var ae *api.Error
			switch {
			case tt.wantErr:
				if !errors.As(err, &ae) || ae.Code != api.CodeInvalid || ae.Field != "caused_by" || ae.Message != "group g1 has no event E9" {
					t.Errorf("error %v, want invalid caused_by: group g1 has no event E9", err)
				}
				if r.got != nil {
					t.Errorf("changes listed with %+v after an unknown label", *r.got)
				}
			case err != nil:
				t.Fatal(err)
			case r.got == nil || r.got.CausedBy != tt.want || r.got.GroupID != "g1":
				t.Errorf("store asked for %+v, want caused_by %q in g1", r.got, tt.want)
			}
			if got := fmt.Sprint(r.labels); (tt.wantLabel == "" && len(r.labels) > 0) || (tt.wantLabel != "" && got != "["+tt.wantLabel+"]") {
				t.Errorf("labels looked up %v, want %q", r.labels, tt.wantLabel)
			}
		})
	}
}

// TestExplainUnknown: explaining a record the store does not have is a
// not-found error naming it, for the server's 404.
func TestExplainUnknown(t *testing.T) {
	h := New(&missingReader{})
	if _, err := h.ExplainChange(context.Background(), "c9"); !errors.Is(err, store.ErrNotFound) || err.Error() != "change c9: no c9: not found" {
		t.Errorf("ExplainChange: %v, want not found naming change c9", err)
	}
	if _, err := h.ExplainEvent(context.Background(), "e9"); !errors.Is(err, store.ErrNotFound) || err.Error() != "event e9: no e9: not found" {
		t.Errorf("ExplainEvent: %v, want not found naming event e9", err)
	}
}

type missingReader struct{ store.Reader }

func (missingReader) GetChange(ctx context.Context, id string) (api.Change, error) {
	return api.Change{}, fmt.Errorf("no %s: %w", id, store.ErrNotFound)
}

func (missingReader) GetEvent(ctx context.Context, id string) (api.Event, error) {
	return api.Event{}, fmt.Errorf("no %s: %w", id, store.ErrNotFound)
}
