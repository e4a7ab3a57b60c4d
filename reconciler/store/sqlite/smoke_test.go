package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

func TestSmoke(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "a", "pes.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now().UTC()
	err = s.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertGroup(api.Group{ID: "g1", GroupConfig: api.GroupConfig{Name: "web"}, Status: "active", CreatedAt: now}); err != nil {
			return err
		}
		l, err := tx.NextLabel("g1", "E")
		if err != nil {
			return err
		}
		if err := tx.InsertEvent(api.Event{ID: "e1", GroupID: "g1", Label: l, Time: now}); err != nil {
			return err
		}
		if err := tx.InsertChange(api.Change{ID: "c1", GroupID: "g1", StartedAt: now}); err != nil {
			return err
		}
		return tx.InsertNexus(api.Nexus{ID: "n1", GroupID: "g1", EventIDs: []string{"e1"}, ChangeIDs: []string{"c1"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.GetNexus(ctx, "n1")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", n)
	cs, tok, err := s.ListChanges(ctx, store.ChangeFilter{GroupID: "g1", CausedBy: "e1"})
	t.Logf("%+v %q %v", cs, tok, err)
	e, err := s.GetEventByLabel(ctx, "g1", "E1")
	t.Logf("%+v %v", e, err)
}
