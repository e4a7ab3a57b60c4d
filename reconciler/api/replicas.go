package api

import "time"

// ReplicaList is GET /v1/replicas: the pesd replicas sharing one
// database, with the leases of the shards of groups each holds.
type ReplicaList struct {
	// Shards is how many shards the groups are split into (by a hash of
	// their id); each has one owner at a time.
	Shards int `json:"shards"`
	// LeaseTTL is how long a lease lasts unrenewed, e.g. "10s".
	LeaseTTL string    `json:"lease_ttl"`
	Replicas []Replica `json:"replicas"`
	// Unowned are the shards no live lease holds (a replica died and its
	// leases have not expired yet, or none was taken).
	Unowned []int `json:"unowned"`
}

// Replica is one pesd replica.
type Replica struct {
	ID      string `json:"id"`
	Address string `json:"address"`
	// Live: it renewed its registration within a TTL.
	Live bool `json:"live"`
	// Self: the replica answering.
	Self      bool      `json:"self"`
	StartedAt time.Time `json:"started_at"`
	SeenAt    time.Time `json:"seen_at"`
	Leases    []Lease   `json:"leases"`
}

// Lease is a replica's lease on one shard of groups. Its generation is
// the fencing token every write for the shard carries.
type Lease struct {
	Shard      int       `json:"shard"`
	Generation int64     `json:"generation"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// HeaderNotApplied is set ("1") on a 503 whose request changed nothing
// and may be sent again as is, even one that is not idempotent: no
// replica owned the group at that moment, the replica lost the group's
// lease before writing, or the owner could not be reached. Clients retry
// such answers.
const HeaderNotApplied = "X-Pes-Not-Applied"

// NotOwnerError is the error of a write that reached a replica not
// owning its group (its shard is moving): nothing was written.
type NotOwnerError struct{ Message string }

func (e *NotOwnerError) Error() string { return e.Message }
