package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Several pesd replicas share one database (PostgreSQL) by leases: the
// groups are split into shards by a hash of their id, and each shard has
// one owner at a time, the replica holding its lease. A lease's
// generation goes up whenever its shard changes hands, and is the fencing
// token: every write a replica makes for a shard carries the generation
// it holds (Fence), and the store refuses the write, in its own
// transaction, once the shard has moved on. A replica paused past its
// lease (a long GC, SIGSTOP, a frozen VM) that wakes to write finds its
// writes refused with ErrFenced instead of acting beside the new owner.

// ErrFenced is returned (wrapped, in a *FencedError) when a write carries
// a stale fencing token: its shard is now another generation's.
var ErrFenced = errors.New("stale fencing token")

// Fence is the fencing token a write made on behalf of a lease carries.
type Fence struct {
	Shard      int
	Owner      string // the replica holding the lease
	Generation int64
}

// FencedError is a write refused for its stale token.
type FencedError struct {
	Fence
	Current Lease // the lease as the store holds it
}

func (e *FencedError) Error() string {
	return fmt.Sprintf("%v: replica %s wrote for shard %d at generation %d, but the shard is at generation %d, held by %q",
		ErrFenced, e.Owner, e.Shard, e.Generation, e.Current.Generation, e.Current.Owner)
}

func (e *FencedError) Unwrap() error { return ErrFenced }

// FencedTx is a Tx that checks fencing tokens. CheckFence fails with a
// *FencedError when f is stale, and otherwise holds the lease's row so
// that no replica can take the shard until the transaction ends: the
// writes that follow land under the token or not at all.
type FencedTx interface {
	CheckFence(f Fence) error
}

// Lease is one shard's lease.
type Lease struct {
	Shard      int
	Owner      string // "" when never held
	Generation int64
	ExpiresAt  time.Time
	// Released: the owner gave the shard up (rebalancing, shutdown)
	// rather than letting the lease expire.
	Released bool
}

// Replica is a registered pesd replica.
type Replica struct {
	ID        string
	Address   string // where its API answers, for forwarding
	StartedAt time.Time
	SeenAt    time.Time // its last heartbeat
}

// Acquired is a shard a replica has just taken, with who held it before.
type Acquired struct {
	Lease
	PreviousOwner string // "" when the shard was never held
	// PreviousReleased: the previous owner released the shard; otherwise
	// its lease expired (or it is the first owner).
	PreviousReleased bool
}

// Leases is the lease table of a store shared by replicas. Times of
// expiry are the database's, so replicas' clocks need not agree.
type Leases interface {
	// Heartbeat registers the replica or records that it is alive.
	Heartbeat(ctx context.Context, r Replica) error
	// Unregister removes the replica (at shutdown, after releasing).
	Unregister(ctx context.Context, id string) error
	// Replicas lists the registered replicas, oldest first.
	Replicas(ctx context.Context) ([]Replica, error)
	// ListLeases lists the leases of shards ever held.
	ListLeases(ctx context.Context) ([]Lease, error)
	// Acquire takes shard for owner for ttl if it is unheld, released or
	// expired; the generation goes up. ok is false when another replica
	// holds it.
	Acquire(ctx context.Context, shard int, owner string, ttl time.Duration) (a Acquired, ok bool, err error)
	// Renew extends, by ttl, the leases among held that owner still holds
	// at their generation, and returns those; the others are lost.
	Renew(ctx context.Context, owner string, held []Fence, ttl time.Duration) ([]Fence, error)
	// Release gives the shard up at once, if f is still its lease.
	Release(ctx context.Context, f Fence) error
	// Pin records that the group stays with the replica, whatever its
	// shard (its nodes cannot move: the local driver). Pins lists them,
	// group id → replica id.
	Pin(ctx context.Context, groupID, replicaID string) error
	Pins(ctx context.Context) (map[string]string, error)
}
