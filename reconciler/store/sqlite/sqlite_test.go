package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"

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
