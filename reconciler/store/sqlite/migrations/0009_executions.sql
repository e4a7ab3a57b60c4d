-- Version 8: distributed executions (SPEC §2.9, seed 003). An execution
-- and each of its jobs are stored as one JSON document beside the columns
-- the queries filter on; the documents are the api wire types.
CREATE TABLE executions (
    id         TEXT PRIMARY KEY,
    label      TEXT NOT NULL UNIQUE,
    group_id   TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    status     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    doc        TEXT NOT NULL -- JSON api.Execution without jobs
) STRICT;
CREATE INDEX executions_created ON executions (created_at, id);
CREATE INDEX executions_group ON executions (group_id, created_at, id);

CREATE TABLE execution_jobs (
    execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,
    status       TEXT NOT NULL,
    doc          TEXT NOT NULL, -- JSON api.Job
    PRIMARY KEY (execution_id, idx)
) STRICT, WITHOUT ROWID;

-- The global counter of execution labels (X1, X2, ...).
CREATE TABLE execution_labels (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    last INTEGER NOT NULL
) STRICT;
