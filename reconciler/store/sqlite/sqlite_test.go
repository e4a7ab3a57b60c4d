package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"

	"github.com/pes-project/terraform-provider-pes/reconciler/store"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return mustOpen(t, filepath.Join(t.TempDir(), "data", "pes.db"))
	})
}

// TestScratchConformance: the throwaway database a backtest replays into
// is a store like any other, durability aside.
func TestScratchConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return mustOpenScratch(t, filepath.Join(t.TempDir(), "scratch.db"))
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
	s := mustOpenScratch(t, path)
	s.DeferCommits()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	insert := func(id string, then error) error {
		return s.Update(ctx, func(tx store.Tx) error {
			if err := tx.InsertGroup(testGroup(id, at)); err != nil {
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
	s = mustOpen(t, path)
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
	s := mustOpen(t, filepath.Join(t.TempDir(), "pes.db"))
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

// mustOpen is Open, failing the test on an error; the caller closes.
func mustOpen(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// mustOpenScratch is OpenScratch, failing the test on an error.
func mustOpenScratch(t *testing.T, path string) *Store {
	t.Helper()
	s, err := OpenScratch(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testGroup(id string, at time.Time) api.Group {
	return api.Group{ID: id, GroupConfig: api.GroupConfig{Name: id, Driver: api.DriverSim,
		Program: api.Program{Command: "sleep"}, AggregationPeriod: api.DefaultAggregationPeriod,
		AggregationPolicy: api.DefaultAggregationPolicy, Replacement: api.DefaultReplacement,
		ReplacementDeferWindow: api.DefaultReplacementDeferWindow, InitDeadline: api.DefaultInitDeadline,
		Cooldown: api.DefaultCooldown, TerminationPolicy: api.DefaultTerminationPolicy},
		Status: api.GroupActive, CreatedAt: at, UpdatedAt: at}
}

// TestCheckpointsOffTheWriter: the writer leaves checkpoints to the
// checkpointer up to its backstop, and the checkpointer copies a commit
// of well over SQLite's default 1,000 pages into the database file, with
// no further write to set it off.
func TestCheckpointsOffTheWriter(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pes.db")
	s := mustOpen(t, path)
	defer s.Close()
	var auto int
	if err := s.w.QueryRow("PRAGMA wal_autocheckpoint").Scan(&auto); err != nil {
		t.Fatal(err)
	}
	if auto != writerAutocheckpoint {
		t.Errorf("writer: wal_autocheckpoint = %d, want %d", auto, writerAutocheckpoint)
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const groups = 20000 // about 2,300 pages with their indexes
	if err := s.Update(ctx, func(tx store.Tx) error {
		for i := range groups {
			if err := tx.InsertGroup(testGroup(fmt.Sprintf("g%05d", i), at)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var pages, pageSize int64
	if err := s.r.QueryRow("PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if err := s.r.QueryRow("PRAGMA page_size").Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	if pages < 2000 {
		t.Fatalf("the commit made %d pages, want over 2,000", pages)
	}
	want := pages * pageSize
	var size int64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if size = fi.Size(); size >= want {
			return
		}
	}
	t.Errorf("the database file has %d bytes 10s after the commit, want %d (%d pages): nothing checkpointed it", size, want, pages)
}

// TestCloseTwice: a store may be closed twice (the checkpointer stops
// once).
func TestCloseTwice(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "pes.db"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_ = s.Close() // database/sql's second close of the pools is its own business
}
