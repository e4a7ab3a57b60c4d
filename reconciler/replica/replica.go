// Package replica shares groups between pesd replicas on one PostgreSQL
// database. The groups are split into shards by a hash of their id; a
// Keeper holds the leases of its replica's shards, renews them, takes
// the shards of replicas that died or joined, and gives shards up when
// there are more replicas to share them with.
//
// Rebalancing is deliberately plain: with n live replicas each replica
// aims at ceil(shards/n) shards. A replica above its share releases the
// excess (its groups are dropped first, then the lease), one below takes
// unheld, released or expired shards. Nothing is moved that is held and
// renewed by a live replica within its share.
package replica

import (
	"context"
	"hash/fnv"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// Defaults of Options.
const (
	DefaultTTL    = 10 * time.Second
	DefaultShards = 64
)

// ShardOf is the shard of a group: a hash of its id.
func ShardOf(groupID string, shards int) int {
	h := fnv.New32a()
	h.Write([]byte(groupID))
	return int(h.Sum32() % uint32(shards))
}

// HomeShard is the shard of a replica's home lease, which its pinned
// groups (local nodes, which cannot move to another host) are written
// under. Home shards are negative, apart from the shared ones, and no
// other replica takes them: a pinned group waits for its replica.
func HomeShard(replicaID string) int {
	h := fnv.New32a()
	h.Write([]byte(replicaID))
	return -1 - int(h.Sum32()&0x3fffffff)
}

// elsewhere is the shard of a group pinned to another replica: none.
const elsewhere = math.MinInt

// Options configure a Keeper.
type Options struct {
	Leases  store.Leases
	ID      string // this replica's id, unique among replicas
	Address string // host:port of its API, for other replicas to forward to
	// TTL is how long a lease lasts unrenewed; the keeper renews every
	// TTL/4, so a replica misses three renewals before it loses a lease.
	TTL    time.Duration
	Shards int // how many shards the groups are split into (the same for all replicas)
	Logger *slog.Logger

	// Gained is called with the shards just taken, whose fences are
	// already held: the controller loads and adopts their groups.
	Gained func(ctx context.Context, got []store.Acquired)
	// Lost is called with shards no longer held (lease lost, or about
	// to be released): the controller drops their groups, and returns
	// once none of their writes is in flight.
	Lost func(shards []int)
	// Round, if set, is called after each round (the router rereads the
	// owners of groups).
	Round func(ctx context.Context)
}

// Keeper holds one replica's leases.
type Keeper struct {
	o Options

	mu        sync.Mutex
	held      map[int]store.Fence
	renewedAt time.Time         // last successful renewal (local clock)
	pins      map[string]string // pinned group → its replica
}

// New returns a keeper; Run starts it.
func New(o Options) *Keeper {
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.Shards <= 0 {
		o.Shards = DefaultShards
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Gained == nil {
		o.Gained = func(context.Context, []store.Acquired) {}
	}
	if o.Lost == nil {
		o.Lost = func([]int) {}
	}
	return &Keeper{o: o, held: make(map[int]store.Fence), pins: make(map[string]string)}
}

// Shard is the shard a group is written under by this replica: its home
// shard for a group pinned here, math.MinInt for one pinned elsewhere,
// else its hash.
func (k *Keeper) Shard(groupID string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.shardLocked(groupID)
}

func (k *Keeper) shardLocked(groupID string) int {
	switch r, ok := k.pins[groupID]; {
	case !ok:
		return ShardOf(groupID, k.o.Shards)
	case r == k.o.ID:
		return HomeShard(k.o.ID)
	}
	return elsewhere
}

// Pin pins a new group to this replica, before its first write.
func (k *Keeper) Pin(ctx context.Context, groupID string) error {
	if err := k.o.Leases.Pin(ctx, groupID, k.o.ID); err != nil {
		return err
	}
	k.mu.Lock()
	k.pins[groupID] = k.o.ID
	k.mu.Unlock()
	return nil
}

// PinnedTo is the replica a group is pinned to, if it is.
func (k *Keeper) PinnedTo(groupID string) (string, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	r, ok := k.pins[groupID]
	return r, ok
}

// InShards says whether a group is written under one of shards here.
func (k *Keeper) InShards(shards []int) func(groupID string) bool {
	return func(groupID string) bool { return slices.Contains(shards, k.Shard(groupID)) }
}

// ID is the replica's id.
func (k *Keeper) ID() string { return k.o.ID }

// TTL is the leases' time to live.
func (k *Keeper) TTL() time.Duration { return k.o.TTL }

// Shards is how many shards the groups are split into.
func (k *Keeper) Shards() int { return k.o.Shards }

// Fence returns the token of the group's shard, if this replica holds it.
func (k *Keeper) Fence(groupID string) (store.Fence, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	f, ok := k.held[k.shardLocked(groupID)]
	return f, ok
}

// Held lists the shared shards held, in order (not the home shard).
func (k *Keeper) Held() []int {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]int, 0, len(k.held))
	for s := range k.held {
		if s >= 0 {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

func (k *Keeper) allHeld() []int {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]int, 0, len(k.held))
	for s := range k.held {
		out = append(out, s)
	}
	return out
}

// Run keeps the leases until ctx ends, then releases them and
// unregisters, so the other replicas take the shards at once rather than
// after the TTL. Renewals run on their own, every TTL/4, so that taking
// on a shard's groups, which may take seconds, never delays them.
func (k *Keeper) Run(ctx context.Context) {
	renewing := make(chan struct{})
	go func() {
		defer close(renewing)
		t := time.NewTicker(k.o.TTL / 4)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if err := k.renew(ctx); err != nil && ctx.Err() == nil {
				k.o.Logger.Warn("leases", "err", err)
			}
		}
	}()
	t := time.NewTicker(k.o.TTL / 4)
	defer t.Stop()
	for {
		if err := k.balance(ctx); err != nil && ctx.Err() == nil {
			k.o.Logger.Warn("leases", "err", err)
		}
		if k.o.Round != nil && ctx.Err() == nil {
			k.o.Round(ctx)
		}
		select {
		case <-ctx.Done():
			<-renewing
			k.stop()
			return
		case <-t.C:
		}
	}
}

func (k *Keeper) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), k.o.TTL)
	defer cancel()
	held := k.drop(k.allHeld())
	for _, f := range held {
		if err := k.o.Leases.Release(ctx, f); err != nil {
			k.o.Logger.Warn("release lease at shutdown", "shard", f.Shard, "err", err)
		}
	}
	if err := k.o.Leases.Unregister(ctx, k.o.ID); err != nil {
		k.o.Logger.Warn("unregister replica at shutdown", "err", err)
	}
}

// Step is one round: heartbeat and renew, then take or give shards to
// reach this replica's share.
func (k *Keeper) Step(ctx context.Context) error {
	if err := k.renew(ctx); err != nil {
		return err
	}
	return k.balance(ctx)
}

// renew records that this replica is alive and renews its leases.
func (k *Keeper) renew(ctx context.Context) error {
	l := k.o.Leases
	if err := l.Heartbeat(ctx, store.Replica{ID: k.o.ID, Address: k.o.Address}); err != nil {
		return k.unrenewed(err)
	}
	held := k.fences()
	kept, err := l.Renew(ctx, k.o.ID, held, k.o.TTL)
	if err != nil {
		return k.unrenewed(err)
	}
	k.mu.Lock()
	k.renewedAt = time.Now()
	k.mu.Unlock()
	if lost := missing(held, kept); len(lost) > 0 {
		// Only those still held as they were renewed: balance may have
		// let one go, or taken it again, meanwhile.
		k.mu.Lock()
		var still []int
		for _, f := range lost {
			if k.held[f.Shard] == f {
				still = append(still, f.Shard)
			}
		}
		k.mu.Unlock()
		if len(still) > 0 {
			k.o.Logger.Warn("leases lost: another replica holds these shards now", "shards", still)
			k.drop(still)
		}
	}
	return nil
}

// balance takes or gives shards to reach this replica's share.
func (k *Keeper) balance(ctx context.Context) error {
	l := k.o.Leases
	pins, err := l.Pins(ctx)
	if err != nil {
		return err
	}
	k.mu.Lock()
	k.pins = pins
	_, home := k.held[HomeShard(k.o.ID)]
	k.mu.Unlock()
	var got []store.Acquired
	defer func() {
		if len(got) > 0 {
			k.o.Logger.Info("shards taken", "shards", shardsOf(got))
			k.o.Gained(ctx, got)
		}
	}()
	if !home {
		// The home lease: this replica's alone, so it is free unless a
		// process with the same id runs (a second replica given the same
		// --replica-id, or this one's previous life before its TTL).
		s := HomeShard(k.o.ID)
		a, ok, err := l.Acquire(ctx, s, k.o.ID, k.o.TTL)
		if err != nil {
			return err
		}
		if ok {
			k.mu.Lock()
			k.held[s] = store.Fence{Shard: s, Owner: k.o.ID, Generation: a.Generation}
			k.mu.Unlock()
			got = append(got, a)
		} else {
			k.o.Logger.Warn("home lease held: another process runs with this replica id; its pinned (local) groups wait", "replica", k.o.ID)
		}
	}
	replicas, err := l.Replicas(ctx)
	if err != nil {
		return err
	}
	leases, err := l.ListLeases(ctx)
	if err != nil {
		return err
	}
	live := 0
	for _, r := range replicas {
		// A replica is live while it heartbeats within a TTL (the
		// database's clock: SeenAt is now() there, and the newest SeenAt
		// is about now).
		if newest(replicas).Sub(r.SeenAt) <= k.o.TTL {
			live++
		}
	}
	share := (k.o.Shards + max(live, 1) - 1) / max(live, 1)
	mine := k.Held()
	if excess := len(mine) - share; excess > 0 {
		// Give up the highest shards: the order is the same on every
		// replica, so two replicas do not trade shards back and forth.
		give := mine[len(mine)-excess:]
		k.o.Logger.Info("releasing shards to share with other replicas", "shards", give, "replicas", live)
		for _, f := range k.drop(give) {
			if err := l.Release(ctx, f); err != nil {
				return err
			}
		}
	}
	want := share - len(mine)
	for _, s := range k.candidates(leases) {
		if want <= 0 {
			break
		}
		a, ok, err := l.Acquire(ctx, s, k.o.ID, k.o.TTL)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		want--
		got = append(got, a)
		k.mu.Lock()
		k.held[s] = store.Fence{Shard: s, Owner: k.o.ID, Generation: a.Generation}
		k.mu.Unlock()
	}
	return nil
}

// candidates are the shards this replica may take, unheld first, in an
// order that starts at a point of its own, so replicas starting together
// try different shards first.
func (k *Keeper) candidates(leases []store.Lease) []int {
	byShard := make(map[int]store.Lease, len(leases))
	var newestExpiry time.Time
	for _, l := range leases {
		byShard[l.Shard] = l
		if l.ExpiresAt.After(newestExpiry) {
			newestExpiry = l.ExpiresAt
		}
	}
	start := ShardOf(k.o.ID, k.o.Shards)
	var free, taken []int
	for i := range k.o.Shards {
		s := (start + i) % k.o.Shards
		if _, mine := k.heldShard(s); mine {
			continue
		}
		l, ok := byShard[s]
		if !ok || l.Released || l.Owner == "" {
			free = append(free, s)
			continue
		}
		// The others: Acquire finds whether they expired (by the
		// database's clock).
		taken = append(taken, s)
	}
	return append(free, taken...)
}

func (k *Keeper) heldShard(s int) (store.Fence, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	f, ok := k.held[s]
	return f, ok
}

// LostFence is called by the controller when the store refused a write
// for its stale token: the shard is another replica's now.
func (k *Keeper) LostFence(f store.Fence) {
	if cur, ok := k.heldShard(f.Shard); !ok || cur.Generation != f.Generation {
		return
	}
	k.o.Logger.Warn("lease lost: a write was refused for its stale fencing token", "shard", f.Shard, "generation", f.Generation)
	k.drop([]int{f.Shard})
}

// unrenewed is a failed renewal: past a TTL without one, every lease
// may be another replica's, so the groups are dropped (the fencing
// tokens would refuse their writes anyway).
func (k *Keeper) unrenewed(err error) error {
	k.mu.Lock()
	late := !k.renewedAt.IsZero() && time.Since(k.renewedAt) > k.o.TTL
	k.mu.Unlock()
	if late {
		if held := k.allHeld(); len(held) > 0 {
			k.o.Logger.Warn("leases not renewed for a TTL: dropping their groups", "shards", held)
			k.drop(held)
		}
	}
	return err
}

// drop forgets shards and has the controller drop their groups; it
// returns the fences they had.
func (k *Keeper) drop(shards []int) []store.Fence {
	k.mu.Lock()
	var fs []store.Fence
	for _, s := range shards {
		if f, ok := k.held[s]; ok {
			fs = append(fs, f)
			delete(k.held, s)
		}
	}
	k.mu.Unlock()
	if len(fs) > 0 {
		k.o.Lost(shards)
	}
	return fs
}

func (k *Keeper) fences() []store.Fence {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]store.Fence, 0, len(k.held))
	for _, f := range k.held {
		out = append(out, f)
	}
	return out
}

func missing(held, kept []store.Fence) []store.Fence {
	var out []store.Fence
	for _, f := range held {
		if !slices.Contains(kept, f) {
			out = append(out, f)
		}
	}
	return out
}

func newest(rs []store.Replica) time.Time {
	var t time.Time
	for _, r := range rs {
		if r.SeenAt.After(t) {
			t = r.SeenAt
		}
	}
	return t
}

func shardsOf(as []store.Acquired) []int {
	out := make([]int, len(as))
	for i, a := range as {
		out[i] = a.Shard
	}
	return out
}
