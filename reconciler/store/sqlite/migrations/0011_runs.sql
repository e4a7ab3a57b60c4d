-- Run records (seed 003's recommendations): every execution that ends
-- leaves one, and runs can be imported. A run belongs to its program type,
-- not to a group, so it outlives the group and its purge. The document is
-- the api wire type; (program_type, label) is unique so an import of the
-- same file records it once, and execution_id so an execution leaves one.
CREATE TABLE runs (
    id           TEXT PRIMARY KEY,
    program_type TEXT NOT NULL,
    label        TEXT NOT NULL,
    execution_id TEXT UNIQUE,
    ended_at     TEXT NOT NULL,
    doc          TEXT NOT NULL, -- JSON api.Run
    UNIQUE (program_type, label)
) STRICT;
CREATE INDEX runs_type_ended ON runs (program_type, ended_at, id);
