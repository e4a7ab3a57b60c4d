-- Version 7: distributed executions (SPEC §2.9, seed 003). An execution
-- and each of its jobs are stored as one JSON document beside the columns
-- the queries filter on; the documents are the api wire types.
CREATE TABLE executions (
    id         text COLLATE "C" PRIMARY KEY,
    label      text COLLATE "C" NOT NULL UNIQUE,
    group_id   text COLLATE "C" NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    status     text NOT NULL,
    created_at text COLLATE "C" NOT NULL,
    doc        text NOT NULL -- JSON api.Execution without jobs
);
CREATE INDEX executions_created ON executions (created_at, id);
CREATE INDEX executions_group ON executions (group_id, created_at, id);

CREATE TABLE execution_jobs (
    execution_id text COLLATE "C" NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    idx          integer NOT NULL,
    status       text NOT NULL,
    doc          text NOT NULL, -- JSON api.Job
    PRIMARY KEY (execution_id, idx)
);

-- The global counter of execution labels (X1, X2, ...).
CREATE TABLE execution_labels (
    id   integer PRIMARY KEY CHECK (id = 1),
    last bigint NOT NULL
);
