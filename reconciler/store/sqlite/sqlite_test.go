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

// TestReadPoolMapsTheDatabase checks that the read pool's connections map
// the file (PRAGMA mmap_size is not 0) and the writer's do not.
func TestReadPoolMapsTheDatabase(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "pes.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for name, db := range map[string]*sql.DB{"read": s.r, "write": s.w} {
		var n int64
		if err := db.QueryRow("PRAGMA mmap_size").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if (name == "read") != (n > 0) {
			t.Errorf("%s pool: mmap_size %d", name, n)
		}
		t.Logf("%s pool: mmap_size %d", name, n)
	}
}
