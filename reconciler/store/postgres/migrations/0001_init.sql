-- pesd schema for PostgreSQL, version 1 (the same shape as the SQLite
-- store at its version 2).
--
-- Times are text in one fixed-width UTC layout
-- (2006-01-02T15:04:05.000000000Z): pesd keeps nanoseconds, which
-- timestamptz would cut to microseconds, and the layout sorts as text.
-- Ids, times and labels use the "C" collation so that they sort
-- byte-wise whatever the database's locale, as keyset pagination needs.
-- Nested parts are jsonb; NULL is a nil pointer, slice or map.

CREATE TABLE groups (
    id                       text COLLATE "C" PRIMARY KEY,
    name                     text NOT NULL,
    driver                   text NOT NULL,
    program                  jsonb NOT NULL,
    desired_quantity         bigint NOT NULL,
    min_quantity             bigint NOT NULL,
    max_quantity             bigint NOT NULL,
    aggregation_period       text NOT NULL,
    aggregation_policy       text NOT NULL,
    replacement              text NOT NULL,
    replacement_defer_window text NOT NULL,
    init_deadline            text NOT NULL,
    cooldown                 text NOT NULL,
    termination_policy       text NOT NULL,
    health_check             jsonb,
    labels                   jsonb,
    sim                      jsonb,
    predictive               jsonb,
    official_quantity        bigint NOT NULL,
    actual_quantity          bigint NOT NULL,
    status                   text NOT NULL,
    next_harmonization_at    text COLLATE "C",
    current_period_id        text NOT NULL,
    current_period_label     text NOT NULL,
    created_at               text COLLATE "C" NOT NULL,
    updated_at               text COLLATE "C" NOT NULL,
    deleted_at               text COLLATE "C"
);
CREATE UNIQUE INDEX groups_live_name ON groups (name) WHERE status <> 'deleted';
CREATE INDEX groups_created ON groups (created_at, id);
CREATE INDEX groups_deleted ON groups (deleted_at) WHERE status = 'deleted';

CREATE TABLE labels (
    group_id text COLLATE "C" NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    kind     text NOT NULL,
    last     bigint NOT NULL,
    PRIMARY KEY (group_id, kind)
);

CREATE TABLE triggers (
    id                text COLLATE "C" PRIMARY KEY,
    group_id          text COLLATE "C" NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    name              text NOT NULL,
    condition         text NOT NULL,
    for_duration      text NOT NULL,
    schedule          text NOT NULL,
    change_by         bigint,
    change_by_percent double precision,
    set_to            bigint,
    priority          bigint NOT NULL,
    immediate         boolean NOT NULL,
    enabled           boolean NOT NULL,
    created_at        text COLLATE "C" NOT NULL,
    updated_at        text COLLATE "C" NOT NULL
);
CREATE INDEX triggers_group ON triggers (group_id, created_at, id);

CREATE TABLE nodes (
    group_id      text COLLATE "C" NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    id            text COLLATE "C" NOT NULL,
    idx           bigint NOT NULL,
    state         text NOT NULL,
    state_reason  text NOT NULL,
    launched_at   text COLLATE "C" NOT NULL,
    ready_at      text COLLATE "C",
    terminated_at text COLLATE "C",
    change_id     text NOT NULL,
    handle        jsonb,
    PRIMARY KEY (group_id, id)
);

CREATE TABLE events (
    id                text COLLATE "C" PRIMARY KEY,
    group_id          text COLLATE "C" NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    label             text COLLATE "C" NOT NULL,
    type              text NOT NULL,
    source_kind       text NOT NULL,
    source_id         text NOT NULL,
    source_name       text NOT NULL,
    time              text COLLATE "C" NOT NULL,
    period_id         text COLLATE "C" NOT NULL,
    period_label      text NOT NULL,
    request           jsonb,
    immediate         boolean NOT NULL,
    proposed_quantity bigint,
    priority          bigint NOT NULL,
    status            text NOT NULL,
    reason            text NOT NULL,
    observed          text NOT NULL,
    node_id           text NOT NULL,
    parent_change_id  text NOT NULL,
    nexus_id          text COLLATE "C" NOT NULL,
    description       text NOT NULL
);
CREATE INDEX events_group_time ON events (group_id, time, id);
CREATE UNIQUE INDEX events_group_label ON events (group_id, label) WHERE label <> '';
CREATE INDEX events_period ON events (period_id, time, id);

CREATE TABLE changes (
    id              text COLLATE "C" PRIMARY KEY,
    group_id        text COLLATE "C" NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    label           text COLLATE "C" NOT NULL,
    type            text NOT NULL,
    amount          bigint NOT NULL,
    quantity_before bigint NOT NULL,
    quantity_after  bigint NOT NULL,
    status          text NOT NULL,
    started_at      text COLLATE "C" NOT NULL,
    ended_at        text COLLATE "C",
    period_id       text COLLATE "C" NOT NULL,
    period_label    text NOT NULL,
    nexus_id        text COLLATE "C" NOT NULL,
    attribution     text NOT NULL,
    node_ids        jsonb,
    description     text NOT NULL
);
CREATE INDEX changes_group_time ON changes (group_id, started_at, id);
CREATE UNIQUE INDEX changes_group_label ON changes (group_id, label) WHERE label <> '';
CREATE INDEX changes_period ON changes (period_id, started_at, id);

-- A nexus keeps its members, in the caller's order, on its own row; each
-- member carries the nexus_id back, so both causality directions are
-- primary-key reads.
CREATE TABLE nexus (
    id          text COLLATE "C" PRIMARY KEY,
    group_id    text COLLATE "C" NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    attribution text NOT NULL,
    period_id   text NOT NULL,
    created_at  text COLLATE "C" NOT NULL,
    event_ids   text[] NOT NULL,
    change_ids  text[] NOT NULL
);
CREATE INDEX nexus_group ON nexus (group_id);

CREATE TABLE periods (
    id                  text COLLATE "C" PRIMARY KEY,
    group_id            text COLLATE "C" NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    label               text COLLATE "C" NOT NULL,
    started_at          text COLLATE "C" NOT NULL,
    ended_at            text COLLATE "C",
    harmonized          boolean NOT NULL,
    policy              text NOT NULL,
    desired_before      bigint NOT NULL,
    desired_after       bigint NOT NULL,
    official_before     bigint NOT NULL,
    official_after      bigint NOT NULL,
    actual              bigint NOT NULL,
    in_flight           bigint NOT NULL,
    requests            jsonb,
    suppressed          jsonb,
    aggregated_quantity bigint,
    clamps              jsonb,
    change_ids          jsonb,
    summary             text NOT NULL,
    notes               jsonb
);
CREATE INDEX periods_group_time ON periods (group_id, started_at, id);
CREATE UNIQUE INDEX periods_group_label ON periods (group_id, label) WHERE label <> '';

-- seq keeps insertion order among samples (and points) at the same time.
CREATE TABLE samples (
    seq      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id text COLLATE "C" NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    name     text NOT NULL,
    node_id  text NOT NULL,
    time     text COLLATE "C" NOT NULL,
    value    double precision NOT NULL
);
CREATE INDEX samples_group_time ON samples (group_id, time, seq);

CREATE TABLE quantity_points (
    seq      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id text COLLATE "C" NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    time     text COLLATE "C" NOT NULL,
    desired  bigint NOT NULL,
    actual   bigint NOT NULL
);
CREATE INDEX quantity_points_group_time ON quantity_points (group_id, time, seq);
