package replica

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/store"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/postgres"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/postgres/pgtest"
)

// keeper is a Keeper on st with 8 shards and a TTL long enough that no
// lease expires during a test; gained and lost record its callbacks.
type keeper struct {
	*Keeper
	gained []int
	lost   []int
}

func newKeeper(st *postgres.Store, id string) *keeper {
	k := &keeper{}
	k.Keeper = New(Options{Leases: st, ID: id, Address: id + ":7400", TTL: time.Minute, Shards: 8,
		Gained: func(_ context.Context, got []store.Acquired) { k.gained = append(k.gained, shardsOf(got)...) },
		Lost:   func(shards []int) { k.lost = append(k.lost, shards...) },
	})
	return k
}

func step(t *testing.T, ks ...*keeper) {
	t.Helper()
	for _, k := range ks {
		if err := k.Step(context.Background()); err != nil {
			t.Fatalf("step of %s: %v", k.ID(), err)
		}
	}
}

func TestKeepers(t *testing.T) {
	srv := pgtest.Start(t)
	ctx := context.Background()
	st, err := postgres.Open(ctx, srv.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	a := newKeeper(st, "a")
	step(t, a)
	if got := a.Held(); len(got) != 8 {
		t.Fatalf("a alone holds %v, want all 8 shards", got)
	}
	// b joins: a gives up the half above its share, b takes it.
	b := newKeeper(st, "b")
	step(t, b, a, b)
	ha, hb := a.Held(), b.Held()
	if len(ha) != 4 || len(hb) != 4 || slices.ContainsFunc(ha, func(s int) bool { return slices.Contains(hb, s) }) {
		t.Fatalf("after b joined: a holds %v, b holds %v; want 4 each, apart", ha, hb)
	}
	if !slices.Equal(a.lost, hb) {
		t.Errorf("a was told it lost %v, want %v (what b took)", a.lost, hb)
	}
	// Another round changes nothing.
	step(t, a, b)
	if !slices.Equal(a.Held(), ha) || !slices.Equal(b.Held(), hb) {
		t.Errorf("a second round moved shards: a %v, b %v", a.Held(), b.Held())
	}

	// Every group has one owner, and only it has a fence for it.
	for _, id := range []string{"g1", "g2", "g3", "g4", "g5"} {
		_, okA := a.Fence(id)
		_, okB := b.Fence(id)
		if okA == okB {
			t.Errorf("group %s: a owns it %v, b owns it %v; want exactly one", id, okA, okB)
		}
	}

	// A pinned group is a's whatever its shard, under a's home lease.
	if err := a.Pin(ctx, "local-1"); err != nil {
		t.Fatal(err)
	}
	step(t, b)
	if f, ok := a.Fence("local-1"); !ok || f.Shard != HomeShard("a") {
		t.Errorf("a's fence for its pinned group: %+v, %v; want its home shard %d", f, ok, HomeShard("a"))
	}
	if _, ok := b.Fence("local-1"); ok {
		t.Error("b has a fence for a group pinned to a")
	}
	if b.InShards(b.Held())("local-1") {
		t.Error("b counts a group pinned to a among its shards")
	}

	// A lease lost to a write's stale token is dropped.
	f, _ := a.Fence("g1")
	if _, ok := b.Fence("g1"); ok {
		f, _ = b.Fence("g1")
		b.LostFence(f)
		if _, ok := b.Fence("g1"); ok {
			t.Error("b still holds g1's shard after its token was refused")
		}
	} else {
		a.LostFence(f)
		if _, ok := a.Fence("g1"); ok {
			t.Error("a still holds g1's shard after its token was refused")
		}
	}
}
