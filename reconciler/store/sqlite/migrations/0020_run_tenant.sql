-- Run records belong to a tenant (issue 17): an ended execution's is its
-- group's tenant, an imported run's the importer's, so a recommendation
-- is fit to one tenant's runs and names no other tenant's labels. A label
-- is unique within a tenant's program type, so each tenant can import the
-- same file. Runs from before tenants go to "default", as groups did.
-- SQLite cannot drop a table constraint, so the table is rebuilt.
CREATE TABLE runs_new (
    id           TEXT PRIMARY KEY,
    tenant       TEXT NOT NULL,
    program_type TEXT NOT NULL,
    label        TEXT NOT NULL,
    execution_id TEXT UNIQUE,
    ended_at     TEXT NOT NULL,
    doc          TEXT NOT NULL, -- JSON api.Run
    UNIQUE (tenant, program_type, label)
) STRICT;
INSERT INTO runs_new (id, tenant, program_type, label, execution_id, ended_at, doc)
    SELECT id, 'default', program_type, label, execution_id, ended_at, doc FROM runs;
DROP TABLE runs;
ALTER TABLE runs_new RENAME TO runs;
CREATE INDEX runs_type_ended ON runs (tenant, program_type, ended_at, id);
