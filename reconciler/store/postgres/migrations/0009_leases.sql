-- Version 9: several pesd replicas on one database. Each shard of groups
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
