-- Identity (issue 17): the tokens pesd issues to named principals, and the
-- audit record of their creation and revocation. A token's secret is never
-- stored: hash is its SHA-256, in hex. The rest of a row is the api wire
-- type as a JSON document.
CREATE TABLE tokens (
    id         TEXT PRIMARY KEY,
    hash       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    doc        TEXT NOT NULL -- JSON api.Token
) STRICT;
CREATE INDEX tokens_created ON tokens (created_at, id);

CREATE TABLE audit (
    id   TEXT PRIMARY KEY,
    time TEXT NOT NULL,
    doc  TEXT NOT NULL -- JSON api.AuditEntry
) STRICT;
CREATE INDEX audit_time ON audit (time, id);
