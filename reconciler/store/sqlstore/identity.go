package sqlstore

import (
	"context"
	"fmt"
	"strconv"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// Tokens and audit entries are JSON documents (the wire types) beside the
// columns queries look up and sort on, as executions are (scanDoc,
// encodeDoc). A token's secret is never stored: its hash column is the
// SHA-256 of it, in hex.

var (
	scanToken = scanDoc[api.Token]("token")
	scanAudit = scanDoc[api.AuditEntry]("audit entry")
)

func (r reader) GetToken(ctx context.Context, id string) (api.Token, error) {
	return getOne(ctx, r.q, "token", id, `SELECT id, doc FROM tokens WHERE id = ?`, scanToken, id)
}

func (r reader) GetTokenByHash(ctx context.Context, hash string) (api.Token, error) {
	// The hash is not an id to show: the error names none.
	return getOne(ctx, r.q, "token", "with that hash", `SELECT id, doc FROM tokens WHERE hash = ?`, scanToken, hash)
}

func (r reader) ListTokens(ctx context.Context, p store.Page) ([]api.Token, string, error) {
	k := keyset[api.Token]{
		what: "tokens", from: `SELECT id, doc FROM tokens`, timeCol: "created_at", scan: scanToken,
		key: func(t api.Token) cursor { return cursor{FormatTime(t.CreatedAt), t.ID} },
	}
	return k.page(ctx, r.q, p)
}

func (r reader) ListAudit(ctx context.Context, p store.Page) ([]api.AuditEntry, string, error) {
	k := keyset[api.AuditEntry]{
		what: "audit entries", from: `SELECT id, doc FROM audit`, timeCol: "time", scan: scanAudit,
		key: func(a api.AuditEntry) cursor { return cursor{FormatTime(a.Time), a.ID} },
	}
	return k.page(ctx, r.q, p)
}

func (t *tx) InsertToken(tok api.Token, hash string) error {
	if tok.ID == "" || hash == "" {
		return fmt.Errorf("insert token: empty id or hash")
	}
	doc, err := encodeDoc("token "+tok.ID, tok)
	if err != nil {
		return err
	}
	_, err = t.exec("insert token "+strconv.Quote(tok.ID),
		`INSERT INTO tokens (id, hash, created_at, doc) VALUES (?, ?, ?, ?)`,
		tok.ID, hash, FormatTime(tok.CreatedAt), doc)
	return err
}

func (t *tx) UpdateToken(tok api.Token) error {
	doc, err := encodeDoc("token "+tok.ID, tok)
	if err != nil {
		return err
	}
	return t.update("token", tok.ID, `UPDATE tokens SET doc = ? WHERE id = ?`, doc, tok.ID)
}

func (t *tx) InsertAudit(a api.AuditEntry) error {
	if a.ID == "" {
		return fmt.Errorf("insert audit entry: empty id")
	}
	doc, err := encodeDoc("audit entry "+a.ID, a)
	if err != nil {
		return err
	}
	_, err = t.exec("insert audit entry "+strconv.Quote(a.ID),
		`INSERT INTO audit (id, time, doc) VALUES (?, ?, ?)`, a.ID, FormatTime(a.Time), doc)
	return err
}
