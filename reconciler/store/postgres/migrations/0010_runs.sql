-- Run records (seed 003's recommendations): every execution that ends
-- leaves one, and runs can be imported. A run belongs to its program type,
-- not to a group, so it outlives the group and its purge. The document is
-- the api wire type; (program_type, label) is unique so an import of the
-- same file records it once, and execution_id so an execution leaves one.
CREATE TABLE runs (
    id           text COLLATE "C" PRIMARY KEY,
    program_type text COLLATE "C" NOT NULL,
    label        text COLLATE "C" NOT NULL,
    execution_id text COLLATE "C" UNIQUE,
    ended_at     text COLLATE "C" NOT NULL,
    doc          text NOT NULL, -- JSON api.Run
    UNIQUE (program_type, label)
);
CREATE INDEX runs_type_ended ON runs (program_type, ended_at, id);
