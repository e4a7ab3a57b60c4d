// Package identity is who may do what (issue 17): the principals pesd
// issues tokens to, their roles and tenants, the check of a bearer token,
// and the audit record of token management. A token's secret is 256
// random bits shown once; pesd stores only its SHA-256 and compares
// hashes in constant time.
package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// Principal is who a request comes from: the name of its token, its role,
// and the tenant it acts in ("" for an admin, which acts in every one).
type Principal struct {
	Name   string
	Role   string
	Tenant string
}

// Access is what a route asks of its caller.
type Access int

// The accesses, from the least to the most a route asks.
const (
	// Public routes need no token.
	Public Access = iota
	// Read is every read: a reader, a writer or an admin.
	Read
	// Push is pushing metric samples: a pusher, a writer or an admin.
	Push
	// Write is every other write: a writer or an admin.
	Write
	// Admin is token management and the audit record.
	Admin
)

// String names the access for messages and the route table's test.
func (a Access) String() string {
	return [...]string{"public", "read", "push", "write", "admin"}[a]
}

// May reports whether p's role grants a.
func (p Principal) May(a Access) bool {
	switch p.Role {
	case api.RoleAdmin:
		return true
	case api.RoleWriter:
		return a <= Write
	case api.RoleReader:
		return a <= Read
	case api.RolePusher:
		return a == Public || a == Push
	}
	return false
}

// Roles names the roles that grant a, for the 403's message.
func (a Access) Roles() string {
	var out []string
	for _, r := range api.Roles() {
		if (Principal{Role: r}).May(a) {
			out = append(out, r)
		}
	}
	return strings.Join(out, ", ")
}

type ctxKey struct{}

// With returns ctx carrying p: the server puts the authenticated
// principal there, and the controller records it in the events it writes.
func With(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// From returns the principal ctx carries; false when it carries none (a
// write pesd makes by itself, or a test's).
func From(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}

// Source is the source of an event a user asked for: the principal ctx
// carries, on behalf of actor (SourceFor).
func Source(ctx context.Context, actor string) api.Source {
	p, _ := From(ctx)
	return SourceFor(p.Name, actor)
}

// SourceFor is the source of an event principal asked for, on behalf of
// actor (what the client named: "terraform", a user name) when that names
// someone else. Without a principal (a write pesd makes by itself, or
// one recorded before principals existed) it is the actor alone, "api"
// when empty.
func SourceFor(principal, actor string) api.Source {
	if principal == "" {
		if actor == "" {
			actor = "api"
		}
		return api.Source{Kind: api.SourceUser, Name: actor}
	}
	src := api.Source{Kind: api.SourceUser, Name: principal, Principal: principal}
	if actor != "" && actor != principal {
		src.OnBehalfOf = actor
	}
	return src
}

// ErrUnauthenticated is a bearer token that is not one pesd issued, or
// one revoked or expired.
var ErrUnauthenticated = errors.New("invalid bearer token")

// Tokens issues, checks and revokes tokens over a store.
type Tokens struct {
	st    store.Store
	clock clock.Clock
	// bootstrap is the hash of the --token token, the admin principal
	// "admin"; zero when pesd was started without one.
	bootstrap    [sha256.Size]byte
	hasBootstrap bool
}

// errNoStore answers token management on a Tokens without a store.
var errNoStore = &api.Error{Code: api.CodeConflict, Status: 409,
	Message: "this pesd keeps no tokens: only its bootstrap token authenticates"}

// New returns the tokens of st (nil: the bootstrap token only). bootstrap is the --token secret ("" for
// none): it authenticates as the admin principal "admin", so setups from
// before principals keep working.
func New(st store.Store, c clock.Clock, bootstrap string) *Tokens {
	t := &Tokens{st: st, clock: c}
	if bootstrap != "" {
		t.bootstrap, t.hasBootstrap = Hash(bootstrap), true
	}
	return t
}

// Hash is the hash pesd stores of a secret.
func Hash(secret string) [sha256.Size]byte { return sha256.Sum256([]byte(secret)) }

// Authenticate returns the principal of a token's hash. A hash is
// compared in constant time with the bootstrap token's; a stored token is
// looked up by its hash (the secret never reaches the store) and must be
// active now: a revocation takes effect on the next request.
func (t *Tokens) Authenticate(ctx context.Context, hash [sha256.Size]byte) (Principal, error) {
	if t.hasBootstrap && subtle.ConstantTimeCompare(hash[:], t.bootstrap[:]) == 1 {
		return Principal{Name: api.BootstrapPrincipal, Role: api.RoleAdmin}, nil
	}
	if t.st == nil {
		return Principal{}, ErrUnauthenticated
	}
	hexHash := hex.EncodeToString(hash[:])
	tok, err := t.st.GetTokenByHash(ctx, hexHash)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, err
	}
	if !tok.Active(t.clock.Now()) {
		return Principal{}, ErrUnauthenticated
	}
	return Principal{Name: tok.Name, Role: tok.Role, Tenant: tok.Tenant}, nil
}

// HasAny reports whether any token can authenticate: the bootstrap one
// or one issued.
func (t *Tokens) HasAny(ctx context.Context) bool {
	if t.hasBootstrap {
		return true
	}
	if t.st == nil {
		return false
	}
	toks, _, err := t.st.ListTokens(ctx, store.Page{Limit: 1})
	return err == nil && len(toks) > 0
}

// newSecret is 256 random bits, URL-safe, with a prefix that says what it
// is (as secret scanners expect).
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("token secret: %w", err)
	}
	return "pes_" + base64.RawURLEncoding.EncodeToString(b), nil
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// Create issues a token for in (validated by api.ValidateTokenCreate) at
// the request of by, and records it in the audit record in the same
// transaction. The secret is in the answer only.
func (t *Tokens) Create(ctx context.Context, by Principal, in api.TokenCreate) (api.TokenCreated, error) {
	if t.st == nil {
		return api.TokenCreated{}, errNoStore
	}
	now := t.clock.Now()
	tok := api.Token{ID: newID(), Name: in.Name, Tenant: in.Tenant, Role: in.Role, CreatedAt: now, CreatedBy: by.Name}
	if in.Expires != "" {
		d, err := api.ParseDuration(in.Expires)
		if err != nil {
			return api.TokenCreated{}, api.Invalid("expires", "%v", err)
		}
		exp := now.Add(d)
		tok.ExpiresAt = &exp
	}
	secret, err := newSecret()
	if err != nil {
		return api.TokenCreated{}, err
	}
	h := Hash(secret)
	err = t.st.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertToken(tok, hex.EncodeToString(h[:])); err != nil {
			return err
		}
		return tx.InsertAudit(audit(now, by, api.AuditTokenCreated, tok))
	})
	if err != nil {
		return api.TokenCreated{}, err
	}
	return api.TokenCreated{Token: tok, Secret: secret}, nil
}

// audit is the audit entry of by's action on tok.
func audit(now time.Time, by Principal, action string, tok api.Token) api.AuditEntry {
	return api.AuditEntry{ID: newID(), Time: now, Principal: by.Name, Action: action,
		TokenID: tok.ID, TokenName: tok.Name, Tenant: tok.Tenant, Role: tok.Role}
}

// Revoke revokes the token ref names (its id, or its name: every active
// token of that name) at the request of by, and records it. It returns
// the tokens revoked; a token revoked already stays as it was.
func (t *Tokens) Revoke(ctx context.Context, by Principal, ref string) ([]api.Token, error) {
	if t.st == nil {
		return nil, errNoStore
	}
	now := t.clock.Now()
	var out []api.Token
	err := t.st.Update(ctx, func(tx store.Tx) error {
		out = nil
		targets, err := t.find(ctx, tx, ref)
		if err != nil {
			return err
		}
		for _, tok := range targets {
			if tok.RevokedAt == nil {
				tok.RevokedAt, tok.RevokedBy = &now, by.Name
				if err := tx.UpdateToken(tok); err != nil {
					return err
				}
				if err := tx.InsertAudit(audit(now, by, api.AuditTokenRevoked, tok)); err != nil {
					return err
				}
			}
			out = append(out, tok)
		}
		return nil
	})
	return out, err
}

// find returns the token of id ref, or else the active tokens named ref.
func (t *Tokens) find(ctx context.Context, r store.Reader, ref string) ([]api.Token, error) {
	tok, err := r.GetToken(ctx, ref)
	if err == nil {
		return []api.Token{tok}, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	var named []api.Token
	page := store.Page{Limit: 1000}
	for {
		toks, next, err := r.ListTokens(ctx, page)
		if err != nil {
			return nil, err
		}
		for _, tok := range toks {
			if tok.Name == ref && tok.Active(t.clock.Now()) {
				named = append(named, tok)
			}
		}
		if next == "" {
			break
		}
		page.Token = next
	}
	if len(named) == 0 {
		return nil, fmt.Errorf("token %q: %w", ref, store.ErrNotFound)
	}
	return named, nil
}

// List lists the tokens, revoked and expired ones included.
func (t *Tokens) List(ctx context.Context, p store.Page) ([]api.Token, string, error) {
	if t.st == nil {
		return []api.Token{}, "", nil
	}
	return t.st.ListTokens(ctx, p)
}

// Audit lists the audit record.
func (t *Tokens) Audit(ctx context.Context, p store.Page) ([]api.AuditEntry, string, error) {
	if t.st == nil {
		return []api.AuditEntry{}, "", nil
	}
	return t.st.ListAudit(ctx, p)
}
