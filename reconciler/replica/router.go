package replica

import (
	"context"
	"slices"
	"sync"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// Router answers which replica owns a group, for the API: a write for a
// group another replica owns is forwarded to that replica's address
// (server.Replicas).
type Router struct {
	k *Keeper

	mu     sync.Mutex
	owners map[int]string // shard → owner, as of the last lease round
}

// NewRouter returns the router of k's replica.
func NewRouter(k *Keeper) *Router { return &Router{k: k} }

// Self is this replica's id.
func (r *Router) Self() string { return r.k.o.ID }

// Owner returns the replica owning the group now, read from the
// database; self is set when it is this one. ok is false when no live
// lease holds the group's shard (it is moving).
func (r *Router) Owner(ctx context.Context, groupID string) (rep api.Replica, self, ok bool, err error) {
	if _, held := r.k.Fence(groupID); held {
		return api.Replica{ID: r.k.o.ID, Address: r.k.o.Address, Self: true, Live: true}, true, true, nil
	}
	list, err := r.List(ctx)
	if err != nil {
		return api.Replica{}, false, false, err
	}
	shard := ShardOf(groupID, r.k.o.Shards)
	if pinned, ok := r.k.PinnedTo(groupID); ok {
		shard = HomeShard(pinned)
	}
	for _, rp := range list.Replicas {
		if rp.Live && slices.ContainsFunc(rp.Leases, func(l api.Lease) bool { return l.Shard == shard }) {
			return rp, rp.Self, true, nil
		}
	}
	return api.Replica{}, false, false, nil
}

// Creator returns a replica that can create a group: this one when it
// holds a shard (the new group's id is picked in one of them), else a
// live replica that holds some.
func (r *Router) Creator(ctx context.Context) (rep api.Replica, self, ok bool, err error) {
	if len(r.k.Held()) > 0 {
		// (A local group is created by the replica reached, pinned to it.)
		return api.Replica{ID: r.k.o.ID, Address: r.k.o.Address, Self: true, Live: true}, true, true, nil
	}
	list, err := r.List(ctx)
	if err != nil {
		return api.Replica{}, false, false, err
	}
	for _, rp := range list.Replicas {
		if rp.Live && !rp.Self && len(rp.Leases) > 0 {
			return rp, false, true, nil
		}
	}
	return api.Replica{}, false, false, nil
}

// OwnerOf is the owner of the group as of the last lease round (for the
// group's owner field; "" while its shard moves).
func (r *Router) OwnerOf(groupID string) string {
	if _, held := r.k.Fence(groupID); held {
		return r.k.o.ID
	}
	if pinned, ok := r.k.PinnedTo(groupID); ok {
		return pinned
	}
	shard := ShardOf(groupID, r.k.o.Shards)
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.owners[shard]
}

// List answers GET /v1/replicas from the database.
func (r *Router) List(ctx context.Context) (api.ReplicaList, error) {
	l := r.k.o.Leases
	reps, err := l.Replicas(ctx)
	if err != nil {
		return api.ReplicaList{}, err
	}
	leases, err := l.ListLeases(ctx)
	if err != nil {
		return api.ReplicaList{}, err
	}
	out := api.ReplicaList{Shards: r.k.o.Shards, LeaseTTL: r.k.o.TTL.String(), Replicas: []api.Replica{}, Unowned: []int{}}
	now := newest(reps) // the database's clock, as of the freshest heartbeat
	owners := make(map[int]string)
	idx := make(map[string]int)
	for _, rp := range reps {
		idx[rp.ID] = len(out.Replicas)
		out.Replicas = append(out.Replicas, api.Replica{
			ID: rp.ID, Address: rp.Address, Self: rp.ID == r.k.o.ID,
			Live: now.Sub(rp.SeenAt) <= r.k.o.TTL, StartedAt: rp.StartedAt, SeenAt: rp.SeenAt, Leases: []api.Lease{},
		})
	}
	held := make(map[int]bool)
	for _, ls := range leases {
		i, ok := idx[ls.Owner]
		if ls.Released || !ok || !ls.ExpiresAt.After(now) {
			continue
		}
		// A negative shard is a replica's home lease (its pinned groups).
		held[ls.Shard] = true
		owners[ls.Shard] = ls.Owner
		out.Replicas[i].Leases = append(out.Replicas[i].Leases,
			api.Lease{Shard: ls.Shard, Generation: ls.Generation, ExpiresAt: ls.ExpiresAt})
	}
	for s := range r.k.o.Shards {
		if !held[s] {
			out.Unowned = append(out.Unowned, s)
		}
	}
	r.mu.Lock()
	r.owners = owners
	r.mu.Unlock()
	return out, nil
}

// Refresh rereads the owners of OwnerOf; the keeper's round calls it.
func (r *Router) Refresh(ctx context.Context) error {
	_, err := r.List(ctx)
	return err
}
