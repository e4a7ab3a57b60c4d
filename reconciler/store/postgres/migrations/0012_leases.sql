-- Version 12: several pesd replicas on one database. Each shard of groups
-- has a lease; its generation is the fencing token every write for the
-- shard carries (store.Fence). Times are the database's (timestamptz and
-- now()), so the replicas' clocks need not agree.
CREATE TABLE leases (
    shard       integer PRIMARY KEY,
    owner       text COLLATE "C" NOT NULL,
    generation  bigint NOT NULL,
    expires_at  timestamptz NOT NULL,
    released    boolean NOT NULL DEFAULT false,
    acquired_at timestamptz NOT NULL
);

CREATE TABLE replicas (
    id         text COLLATE "C" PRIMARY KEY,
    address    text NOT NULL,
    started_at timestamptz NOT NULL,
    seen_at    timestamptz NOT NULL
);

-- A group on the local driver runs its nodes on one host: it is pinned to
-- the replica that created it, whatever its shard, and only that replica
-- (under its home lease) reconciles it.
CREATE TABLE pins (
    group_id text COLLATE "C" PRIMARY KEY,
    replica  text COLLATE "C" NOT NULL
);
