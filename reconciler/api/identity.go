package api

import "time"

// Roles of a principal (issue 17). An admin acts on every tenant and
// manages tokens; the others act within their token's tenant.
const (
	// RoleAdmin: every route of every tenant, token management included.
	RoleAdmin = "admin"
	// RoleWriter: groups, triggers, instructions, executions and
	// harmonize, and every read, within its tenant.
	RoleWriter = "writer"
	// RoleReader: every read within its tenant, causality included.
	RoleReader = "reader"
	// RolePusher: only POST /v1/groups/{id}/metrics for its tenant's
	// groups, for the programs that push queue depth.
	RolePusher = "pusher"
)

// Roles lists the roles, for validation and the OpenAPI enum.
func Roles() []string { return []string{RoleAdmin, RoleWriter, RoleReader, RolePusher} }

// DefaultTenant is the tenant of groups created before tenants existed,
// and of tokens created without one.
const DefaultTenant = "default"

// BootstrapPrincipal is the name of the principal of the --token
// bootstrap token: an admin.
const BootstrapPrincipal = "admin"

// Token is an issued token as pesd shows it: never its secret, which is
// shown once, when it is created (TokenCreated), and stored only hashed.
type Token struct {
	ID string `json:"id"`
	// Name is the principal's name: the causality record says this name
	// did what the token was used for.
	Name string `json:"name"`
	// Tenant is the tenant the token acts in; empty for an admin, which
	// acts in every tenant.
	Tenant    string     `json:"tenant,omitempty"`
	Role      string     `json:"role"`
	CreatedAt time.Time  `json:"created_at"`
	CreatedBy string     `json:"created_by"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	RevokedBy string     `json:"revoked_by,omitempty"`
}

// Active says whether the token authenticates at now: not revoked and not
// expired.
func (t Token) Active(now time.Time) bool {
	return t.RevokedAt == nil && (t.ExpiresAt == nil || now.Before(*t.ExpiresAt))
}

// TokenCreate is the body of POST /v1/tokens.
type TokenCreate struct {
	Name string `json:"name"`
	// Tenant defaults to "default" for the roles that act in one tenant;
	// an admin token takes none.
	Tenant string `json:"tenant,omitempty"`
	Role   string `json:"role"`
	// Expires is how long the token lasts: a duration (2160h) or a number
	// of days (90d); absent, it lasts until revoked.
	Expires string `json:"expires,omitempty"`
}

// TokenCreated answers POST /v1/tokens: the token and, this once, its
// secret.
type TokenCreated struct {
	Token
	// Secret is the bearer token. pesd keeps only its SHA-256 hash: it
	// cannot be shown again.
	Secret string `json:"secret"`
}

// Audit actions: what an audit entry records. Token management is not a
// capacity event, so it has its own record (GET /v1/audit).
const (
	AuditTokenCreated = "token_created"
	AuditTokenRevoked = "token_revoked"
)

// AuditEntry is one entry of the audit record.
type AuditEntry struct {
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
	// Principal is who did it: the authenticated principal's name.
	Principal string `json:"principal"`
	Action    string `json:"action"`
	// TokenID and TokenName say which token the action was about.
	TokenID   string `json:"token_id,omitempty"`
	TokenName string `json:"token_name,omitempty"`
	Tenant    string `json:"tenant,omitempty"`
	Role      string `json:"role,omitempty"`
}
