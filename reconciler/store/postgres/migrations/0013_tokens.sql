-- Identity (issue 17): the tokens pesd issues to named principals, and the
-- audit record of their creation and revocation. A token's secret is never
-- stored: hash is its SHA-256, in hex. The rest of a row is the api wire
-- type as a JSON document.
CREATE TABLE tokens (
    id         text COLLATE "C" PRIMARY KEY,
    hash       text COLLATE "C" NOT NULL UNIQUE,
    created_at text COLLATE "C" NOT NULL,
    doc        text NOT NULL -- JSON api.Token
);
CREATE INDEX tokens_created ON tokens (created_at, id);

CREATE TABLE audit (
    id   text COLLATE "C" PRIMARY KEY,
    time text COLLATE "C" NOT NULL,
    doc  text NOT NULL -- JSON api.AuditEntry
);
CREATE INDEX audit_time ON audit (time, id);
