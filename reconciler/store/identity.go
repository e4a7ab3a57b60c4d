package store

import (
	"context"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// IdentityReader reads the issued tokens and the audit record (issue 17).
// A token's secret is never stored: only its SHA-256 hash, in hex, which
// is what GetTokenByHash looks up.
type IdentityReader interface {
	GetToken(ctx context.Context, id string) (api.Token, error)
	GetTokenByHash(ctx context.Context, hash string) (api.Token, error)
	// ListTokens lists every token, revoked and expired ones included,
	// oldest first.
	ListTokens(ctx context.Context, p Page) ([]api.Token, string, error)
	// ListAudit lists the audit record, oldest first.
	ListAudit(ctx context.Context, p Page) ([]api.AuditEntry, string, error)
}

// IdentityWriter writes them, inside Store.Update.
type IdentityWriter interface {
	// InsertToken stores t with the hash of its secret; a hash stored
	// before is ErrConflict.
	InsertToken(t api.Token, hash string) error
	// UpdateToken rewrites t (its revocation); the hash stays.
	UpdateToken(t api.Token) error
	InsertAudit(a api.AuditEntry) error
}
