-- pesd schema, version 1.
--
-- Times are TEXT in one fixed-width UTC layout
-- (2006-01-02T15:04:05.000000000Z), so they sort as strings, compare in
-- indexes, keep nanoseconds and stay readable in the sqlite3 shell.
-- Nested or variable parts of a row are JSON; a NULL JSON column is a nil
-- pointer, slice or map, so nil and empty survive a round trip.
-- Columns filtered or sorted on are real columns with indexes.
-- Every child row belongs to a group and goes when the group is purged
-- (ON DELETE CASCADE).

CREATE TABLE groups (
    id                       TEXT PRIMARY KEY,
    name                     TEXT NOT NULL,
    driver                   TEXT NOT NULL,
    program                  TEXT NOT NULL,            -- JSON api.Program
    desired_quantity         INTEGER NOT NULL,
    min_quantity             INTEGER NOT NULL,
    max_quantity             INTEGER NOT NULL,
    aggregation_period       TEXT NOT NULL,
    aggregation_policy       TEXT NOT NULL,
    replacement              TEXT NOT NULL,
    replacement_defer_window TEXT NOT NULL,
    init_deadline            TEXT NOT NULL,
    cooldown                 TEXT NOT NULL,
    termination_policy       TEXT NOT NULL,
    health_check             TEXT,                     -- JSON api.HealthCheck
    labels                   TEXT,                     -- JSON object
    sim                      TEXT,                     -- JSON api.SimConfig
    predictive               TEXT,                     -- JSON api.Predictive
    official_quantity        INTEGER NOT NULL,
    actual_quantity          INTEGER NOT NULL,
    status                   TEXT NOT NULL,
    next_harmonization_at    TEXT,
    current_period_id        TEXT NOT NULL,
    current_period_label     TEXT NOT NULL,
    created_at               TEXT NOT NULL,
    updated_at               TEXT NOT NULL,
    deleted_at               TEXT
) STRICT;

-- A name is unique among live groups; a deleted group's name can be reused.
CREATE UNIQUE INDEX groups_live_name ON groups (name) WHERE status <> 'deleted';
CREATE INDEX groups_created ON groups (created_at, id);
CREATE INDEX groups_deleted ON groups (deleted_at) WHERE status = 'deleted';

-- Per-group label counters: kind E (events), C (changes), H (periods).
CREATE TABLE labels (
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    kind     TEXT NOT NULL,
    last     INTEGER NOT NULL,
    PRIMARY KEY (group_id, kind)
) STRICT, WITHOUT ROWID;

CREATE TABLE triggers (
    id                TEXT PRIMARY KEY,
    group_id          TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    condition         TEXT NOT NULL,
    for_duration      TEXT NOT NULL,
    schedule          TEXT NOT NULL,
    change_by         INTEGER,
    change_by_percent REAL,
    set_to            INTEGER,
    priority          INTEGER NOT NULL,
    immediate         INTEGER NOT NULL,
    enabled           INTEGER NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
) STRICT;
CREATE INDEX triggers_group ON triggers (group_id, created_at, id);

CREATE TABLE nodes (
    group_id      TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    idx           INTEGER NOT NULL,
    state         TEXT NOT NULL,
    state_reason  TEXT NOT NULL,
    launched_at   TEXT NOT NULL,
    ready_at      TEXT,
    terminated_at TEXT,
    change_id     TEXT NOT NULL,
    handle        TEXT,                                -- JSON object
    PRIMARY KEY (group_id, id)
) STRICT;

CREATE TABLE events (
    id                TEXT PRIMARY KEY,
    group_id          TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    label             TEXT NOT NULL,
    type              TEXT NOT NULL,
    source_kind       TEXT NOT NULL,
    source_id         TEXT NOT NULL,
    source_name       TEXT NOT NULL,
    time              TEXT NOT NULL,
    period_id         TEXT NOT NULL,
    period_label      TEXT NOT NULL,
    request           TEXT,                            -- JSON api.Request
    immediate         INTEGER NOT NULL,
    proposed_quantity INTEGER,
    priority          INTEGER NOT NULL,
    status            TEXT NOT NULL,
    reason            TEXT NOT NULL,
    observed          TEXT NOT NULL,
    node_id           TEXT NOT NULL,
    parent_change_id  TEXT NOT NULL,
    nexus_id          TEXT NOT NULL,
    description       TEXT NOT NULL
) STRICT;
CREATE INDEX events_group_time ON events (group_id, time, id);
CREATE UNIQUE INDEX events_group_label ON events (group_id, label) WHERE label <> '';
CREATE INDEX events_period ON events (period_id, time, id) WHERE period_id <> '';

CREATE TABLE changes (
    id              TEXT PRIMARY KEY,
    group_id        TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    label           TEXT NOT NULL,
    type            TEXT NOT NULL,
    amount          INTEGER NOT NULL,
    quantity_before INTEGER NOT NULL,
    quantity_after  INTEGER NOT NULL,
    status          TEXT NOT NULL,
    started_at      TEXT NOT NULL,
    ended_at        TEXT,
    period_id       TEXT NOT NULL,
    period_label    TEXT NOT NULL,
    nexus_id        TEXT NOT NULL,
    attribution     TEXT NOT NULL,
    node_ids        TEXT,                              -- JSON array
    description     TEXT NOT NULL
) STRICT;
CREATE INDEX changes_group_time ON changes (group_id, started_at, id);
CREATE UNIQUE INDEX changes_group_label ON changes (group_id, label) WHERE label <> '';
CREATE INDEX changes_period ON changes (period_id, started_at, id) WHERE period_id <> '';

-- A nexus links events to the changes they caused. Membership lives in the
-- link tables (ordered by pos, as the caller gave it); an event or a change
-- belongs to at most one nexus, so change -> causes and event -> effects
-- are each two index lookups: link row by member id, then the nexus's
-- other side by nexus id. The member references are deferred so a
-- transaction may insert the nexus before or after its events and changes.
CREATE TABLE nexus (
    id          TEXT PRIMARY KEY,
    group_id    TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    attribution TEXT NOT NULL,
    period_id   TEXT NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;
CREATE INDEX nexus_group ON nexus (group_id);

CREATE TABLE nexus_events (
    nexus_id TEXT NOT NULL REFERENCES nexus (id) ON DELETE CASCADE,
    pos      INTEGER NOT NULL,
    event_id TEXT NOT NULL UNIQUE
        REFERENCES events (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (nexus_id, pos)
) STRICT, WITHOUT ROWID;

CREATE TABLE nexus_changes (
    nexus_id  TEXT NOT NULL REFERENCES nexus (id) ON DELETE CASCADE,
    pos       INTEGER NOT NULL,
    change_id TEXT NOT NULL UNIQUE
        REFERENCES changes (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (nexus_id, pos)
) STRICT, WITHOUT ROWID;

CREATE TABLE periods (
    id                  TEXT PRIMARY KEY,
    group_id            TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    label               TEXT NOT NULL,
    started_at          TEXT NOT NULL,
    ended_at            TEXT,
    harmonized          INTEGER NOT NULL,
    policy              TEXT NOT NULL,
    desired_before      INTEGER NOT NULL,
    desired_after       INTEGER NOT NULL,
    official_before     INTEGER NOT NULL,
    official_after      INTEGER NOT NULL,
    actual              INTEGER NOT NULL,
    in_flight           INTEGER NOT NULL,
    requests            TEXT,                          -- JSON []api.PeriodRequest
    suppressed          TEXT,                          -- JSON []api.PeriodSuppressed
    aggregated_quantity INTEGER,
    clamps              TEXT,                          -- JSON []api.Clamp
    change_ids          TEXT,                          -- JSON array
    summary             TEXT NOT NULL
) STRICT;
CREATE INDEX periods_group_time ON periods (group_id, started_at, id);
CREATE UNIQUE INDEX periods_group_label ON periods (group_id, label) WHERE label <> '';

CREATE TABLE samples (
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    node_id  TEXT NOT NULL,
    time     TEXT NOT NULL,
    value    REAL NOT NULL
) STRICT;
CREATE INDEX samples_group_time ON samples (group_id, time);

CREATE TABLE quantity_points (
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    time     TEXT NOT NULL,
    desired  INTEGER NOT NULL,
    actual   INTEGER NOT NULL
) STRICT;
CREATE INDEX quantity_points_group_time ON quantity_points (group_id, time);
