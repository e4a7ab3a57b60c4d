-- Tenants (issue 17): every group belongs to one, and names are unique
-- among a tenant's live groups. The groups of a data directory from
-- before tenants go to the tenant "default".
ALTER TABLE groups ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
DROP INDEX groups_live_name;
CREATE UNIQUE INDEX groups_live_name ON groups (tenant, name) WHERE status <> 'deleted';
CREATE INDEX groups_tenant ON groups (tenant, created_at, id);
