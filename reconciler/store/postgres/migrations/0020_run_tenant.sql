-- Run records belong to a tenant (issue 17): an ended execution's is its
-- group's tenant, an imported run's the importer's, so a recommendation
-- is fit to one tenant's runs and names no other tenant's labels. A label
-- is unique within a tenant's program type, so each tenant can import the
-- same file. Runs from before tenants go to "default", as groups did.
ALTER TABLE runs ADD COLUMN tenant text COLLATE "C" NOT NULL DEFAULT 'default';
ALTER TABLE runs ALTER COLUMN tenant DROP DEFAULT;
ALTER TABLE runs DROP CONSTRAINT runs_program_type_label_key;
ALTER TABLE runs ADD UNIQUE (tenant, program_type, label);
DROP INDEX runs_type_ended;
CREATE INDEX runs_type_ended ON runs (tenant, program_type, ended_at, id);
