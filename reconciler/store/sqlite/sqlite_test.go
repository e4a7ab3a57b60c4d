package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"

	"github.com/pes-project/terraform-provider-pes/reconciler/store"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(filepath.Join(t.TempDir(), "data", "pes.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestScratchConformance: the throwaway database a backtest replays into
// is a store like any other, durability aside.
func TestScratchConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := OpenScratch(filepath.Join(t.TempDir(), "scratch.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestDeferCommits: a scratch store's deferred updates are read as if
// each had committed, a failed or panicking one takes only its own
// writes with it, Close commits, and a read on the pool that could not
// see earlier updates (one made during an update) panics rather than
// answer from before them. The conformance suite makes such reads, so a
// store that defers commits is not a store.Store for every caller.
func TestDeferCommits(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "scratch.db")
	s, err := OpenScratch(path)
	if err != nil {
		t.Fatal(err)
	}
	s.DeferCommits()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	insert := func(id string, then error) error {
		return s.Update(ctx, func(tx store.Tx) error {
			if err := tx.InsertGroup(api.Group{ID: id, GroupConfig: api.GroupConfig{Name: id, Driver: api.DriverSim,
				Program: api.Program{Command: "sleep"}, AggregationPeriod: api.DefaultAggregationPeriod,
				AggregationPolicy: api.DefaultAggregationPolicy, Replacement: api.DefaultReplacement,
				ReplacementDeferWindow: api.DefaultReplacementDeferWindow, InitDeadline: api.DefaultInitDeadline,
				Cooldown: api.DefaultCooldown, TerminationPolicy: api.DefaultTerminationPolicy},
				Status: api.GroupActive, CreatedAt: at, UpdatedAt: at}); err != nil {
				return err
			}
			return then
		})
	}
	exists := func(id string) bool {
		_, err := s.GetGroup(ctx, id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	boom := errors.New("boom")
	for _, id := range []string{"a", "b"} {
		if err := insert(id, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := insert("failed", boom); !errors.Is(err, boom) {
		t.Fatalf("failed update: err %v, want boom", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("a panicking update did not panic")
			}
		}()
		_ = s.Update(ctx, func(tx store.Tx) error {
			g, err := tx.GetGroup(ctx, "a")
			if err != nil {
				return err
			}
			g.ID, g.Name = "panicked", "panicked"
			if err := tx.InsertGroup(g); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	if err := insert("c", nil); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{"a": true, "b": true, "c": true, "failed": false, "panicked": false} {
		if got := exists(id); got != want {
			t.Errorf("group %s read: exists %v, want %v", id, got, want)
		}
	}
	if err := insert("d", nil); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("a read on the pool during an update, with d deferred, did not panic")
			}
		}()
		_ = s.Update(ctx, func(tx store.Tx) error { exists("d"); return nil })
	}()
	if err := insert("e", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for id, want := range map[string]bool{"d": true, "e": true} {
		if got := exists(id); got != want {
			t.Errorf("group %s after Close: exists %v, want %v", id, got, want)
		}
	}
}

// TestReadersMapTheFile: the query-only connections read pages through a
// memory map and the writer does not (writes stay on write(2)).
func TestReadersMapTheFile(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "pes.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range []struct {
		name string
		db   *sql.DB
		want int64
	}{{"reader", s.r, readerMmapSize}, {"writer", s.w, 0}} {
		var got int64
		if err := c.db.QueryRow("PRAGMA mmap_size").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%s: mmap_size = %d, want %d", c.name, got, c.want)
		}
	}
}
