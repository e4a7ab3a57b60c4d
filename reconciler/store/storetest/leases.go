package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// RunLeases is the suite of a store shared by replicas (store.Leases and
// fencing tokens, store.FencedTx). newStore returns a fresh, empty store
// that implements both; the suite closes it.
func RunLeases(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store, l store.Leases)
	}{
		{"AcquireRenewRelease", testAcquireRenewRelease},
		{"Expiry", testLeaseExpiry},
		{"Fencing", testFencing},
		{"Replicas", testReplicas},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			l, ok := s.(store.Leases)
			if !ok {
				t.Fatalf("%T does not implement store.Leases", s)
			}
			tc.fn(t, s, l)
		})
	}
}

func acquire(t *testing.T, l store.Leases, shard int, owner string, ttl time.Duration) (store.Acquired, bool) {
	t.Helper()
	a, ok, err := l.Acquire(context.Background(), shard, owner, ttl)
	must(t, err)
	return a, ok
}

func testAcquireRenewRelease(t *testing.T, _ store.Store, l store.Leases) {
	ctx := context.Background()
	a, ok := acquire(t, l, 3, "a", time.Minute)
	if !ok || a.Owner != "a" || a.Generation != 1 || a.PreviousOwner != "" || a.Shard != 3 {
		t.Fatalf("first Acquire = %+v, %v; want shard 3 held by a at generation 1, no previous owner", a, ok)
	}
	if b, ok := acquire(t, l, 3, "b", time.Minute); ok {
		t.Fatalf("Acquire of a held shard by b = %+v, want refused", b)
	}
	fa := store.Fence{Shard: 3, Owner: "a", Generation: 1}
	got, err := l.Renew(ctx, "a", []store.Fence{fa}, time.Minute)
	must(t, err)
	if len(got) != 1 || got[0] != fa {
		t.Fatalf("Renew = %+v, want [%+v]", got, fa)
	}
	// b renewing a's shard renews nothing.
	got, err = l.Renew(ctx, "b", []store.Fence{{Shard: 3, Owner: "b", Generation: 1}}, time.Minute)
	must(t, err)
	if len(got) != 0 {
		t.Errorf("Renew by a replica not holding the shard = %+v, want none", got)
	}
	must(t, l.Release(ctx, fa))
	b, ok := acquire(t, l, 3, "b", time.Minute)
	if !ok || b.Generation != 2 || b.PreviousOwner != "a" || !b.PreviousReleased {
		t.Fatalf("Acquire after release = %+v, %v; want b at generation 2 after a released it", b, ok)
	}
	// a's old lease is gone: renewing it renews nothing.
	got, err = l.Renew(ctx, "a", []store.Fence{fa}, time.Minute)
	must(t, err)
	if len(got) != 0 {
		t.Errorf("Renew of a lost lease = %+v, want none", got)
	}
	leases, err := l.ListLeases(ctx)
	must(t, err)
	if len(leases) != 1 || leases[0].Owner != "b" || leases[0].Generation != 2 || leases[0].Released {
		t.Errorf("ListLeases = %+v, want shard 3 held by b at generation 2", leases)
	}
}

func testLeaseExpiry(t *testing.T, _ store.Store, l store.Leases) {
	// A TTL of zero has expired by the next transaction: no waiting.
	if _, ok := acquire(t, l, 0, "a", 0); !ok {
		t.Fatal("first Acquire refused")
	}
	b, ok := acquire(t, l, 0, "b", time.Minute)
	if !ok || b.Generation != 2 || b.PreviousOwner != "a" || b.PreviousReleased {
		t.Fatalf("Acquire of an expired lease = %+v, %v; want b at generation 2 after a's lease expired", b, ok)
	}
	// The same owner taking its own expired lease again moves the
	// generation too: its writes under the old token are refused.
	if _, ok := acquire(t, l, 1, "a", 0); !ok {
		t.Fatal("Acquire of shard 1 refused")
	}
	a, ok := acquire(t, l, 1, "a", time.Minute)
	if !ok || a.Generation != 2 {
		t.Errorf("Acquire of its own expired lease = %+v, %v; want generation 2", a, ok)
	}
}

func testFencing(t *testing.T, s store.Store, l store.Leases) {
	ctx := context.Background()
	if _, ok := acquire(t, l, 5, "a", 0); !ok {
		t.Fatal("Acquire refused")
	}
	fa := store.Fence{Shard: 5, Owner: "a", Generation: 1}
	// a writes under its token while it holds the lease.
	update(t, s, func(tx store.Tx) error {
		if err := tx.(store.FencedTx).CheckFence(fa); err != nil {
			return err
		}
		// Checked twice in one transaction: still fine.
		if err := tx.(store.FencedTx).CheckFence(fa); err != nil {
			return err
		}
		return tx.InsertGroup(group("g1", "one"))
	})
	// b takes the expired lease; a's next write is refused whole.
	if _, ok := acquire(t, l, 5, "b", time.Minute); !ok {
		t.Fatal("takeover refused")
	}
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertGroup(group("g2", "two")); err != nil {
			return err
		}
		return tx.(store.FencedTx).CheckFence(fa)
	})
	wantErr(t, "a write with a stale token", err, store.ErrFenced)
	var fe *store.FencedError
	if errors.As(err, &fe) && (fe.Current.Owner != "b" || fe.Current.Generation != 2) {
		t.Errorf("FencedError names the lease %+v, want b at generation 2", fe.Current)
	}
	if _, err := s.GetGroup(ctx, "g2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused transaction's group: %v, want not found", err)
	}
	// A shard never leased, and a released lease, refuse too.
	err = s.Update(ctx, func(tx store.Tx) error {
		return tx.(store.FencedTx).CheckFence(store.Fence{Shard: 99, Owner: "a", Generation: 1})
	})
	wantErr(t, "a token for a shard never leased", err, store.ErrFenced)
	fb := store.Fence{Shard: 5, Owner: "b", Generation: 2}
	must(t, l.Release(ctx, fb))
	err = s.Update(ctx, func(tx store.Tx) error { return tx.(store.FencedTx).CheckFence(fb) })
	wantErr(t, "a token of a released lease", err, store.ErrFenced)
}

func testReplicas(t *testing.T, _ store.Store, l store.Leases) {
	ctx := context.Background()
	must(t, l.Heartbeat(ctx, store.Replica{ID: "a", Address: "10.0.0.1:7400"}))
	must(t, l.Heartbeat(ctx, store.Replica{ID: "b", Address: "10.0.0.2:7400"}))
	must(t, l.Heartbeat(ctx, store.Replica{ID: "a", Address: "10.0.0.9:7400"}))
	rs, err := l.Replicas(ctx)
	must(t, err)
	if len(rs) != 2 || rs[0].ID != "a" || rs[0].Address != "10.0.0.9:7400" || rs[1].ID != "b" {
		t.Fatalf("Replicas = %+v, want a (at its new address) then b", rs)
	}
	if rs[0].SeenAt.Before(rs[0].StartedAt) {
		t.Errorf("replica a seen %v before it started %v", rs[0].SeenAt, rs[0].StartedAt)
	}
	must(t, l.Pin(ctx, "g1", "a"))
	must(t, l.Pin(ctx, "g2", "b"))
	pins, err := l.Pins(ctx)
	must(t, err)
	if len(pins) != 2 || pins["g1"] != "a" || pins["g2"] != "b" {
		t.Errorf("Pins = %v, want g1 on a and g2 on b", pins)
	}
	must(t, l.Unregister(ctx, "a"))
	rs, err = l.Replicas(ctx)
	must(t, err)
	if len(rs) != 1 || rs[0].ID != "b" {
		t.Errorf("Replicas after unregistering a = %+v, want b", rs)
	}
}
