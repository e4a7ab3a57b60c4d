package sqlite

import (
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
