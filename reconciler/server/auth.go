package server

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"strings"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/identity"
	"github.com/pes-project/terraform-provider-pes/reconciler/openapi"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// Who may call what (issue 17). Each route of the table asks an access
// (identity.Access) of its caller: public routes none, the reads Read,
// pushing samples Push, the other writes Write, and token management and
// the audit record Admin. The principal a request authenticates as goes
// into its context: the controller records it in the events it writes,
// and the handlers answer only its tenant's records.

// WithIdentity makes st the store of the tokens pesd issues (pesd passes
// its store); without it only the bootstrap token authenticates.
func WithIdentity(st store.Store) Option {
	return func(s *server) { s.tokenStore = st }
}

// WithMetricsPublic serves /metrics without a token, then with only the
// aggregate series: none that names a group.
func WithMetricsPublic() Option {
	return func(s *server) { s.metricsPublic = true }
}

// accessOf is what r asks of its caller: the table says it for some
// routes; a GET reads and any other method writes.
func accessOf(r route) identity.Access {
	switch {
	case r.Public:
		return identity.Public
	case r.access != identity.Public:
		return r.access
	case strings.HasPrefix(r.Pattern, "GET "):
		return identity.Read
	}
	return identity.Write
}

// authentication is the outcome of checking a request's bearer token.
type authentication struct {
	principal identity.Principal
	hash      [sha256.Size]byte // the token's, for the rate limit's bucket
	err       *api.Error        // 401 when set
}

// authenticate checks r's bearer token: hashed first, so not even its
// length leaks, then compared (identity.Tokens.Authenticate).
func (s *server) authenticate(r *http.Request) authentication {
	unauthorized := func(msg string) authentication {
		return authentication{err: &api.Error{Code: api.CodeUnauthorized, Status: http.StatusUnauthorized, Message: msg}}
	}
	if r.Header.Get("Authorization") == "" {
		if !s.ids.HasAny(r.Context()) {
			return unauthorized("pesd was started without a token; restart it with --token, --token-file or PES_TOKEN")
		}
		return unauthorized("missing bearer token: send the header \"Authorization: Bearer <token>\"")
	}
	h, ok := bearerHash(r)
	if !ok {
		return unauthorized("the Authorization header must be \"Bearer <token>\"")
	}
	p, err := s.ids.Authenticate(r.Context(), h)
	switch {
	case errors.Is(err, identity.ErrUnauthenticated):
		if !s.ids.HasAny(r.Context()) {
			return unauthorized("pesd was started without a token; restart it with --token, --token-file or PES_TOKEN")
		}
		return unauthorized("invalid bearer token (unknown, revoked or expired)")
	case err != nil:
		s.log.ErrorContext(r.Context(), "authenticate", "err", err)
		return authentication{err: &api.Error{Code: api.CodeUnavailable, Status: http.StatusServiceUnavailable,
			Message: "pesd cannot check the token now; retry"}}
	}
	return authentication{principal: p, hash: h}
}

// forbidden is the 403 of a principal whose role does not grant a.
func forbidden(p identity.Principal, a identity.Access) *api.Error {
	return &api.Error{Code: api.CodeForbidden, Status: http.StatusForbidden,
		Message: "principal " + p.Name + " (role " + p.Role + ") may not do this: it needs the " + a.String() +
			" access, which roles " + a.Roles() + " have"}
}

// principalOf is the principal r authenticated as; the zero Principal
// on a public route.
func principalOf(r *http.Request) identity.Principal {
	p, _ := identity.From(r.Context())
	return p
}

// tenantOf is the tenant r's principal acts in; "" for an admin, which
// sees every tenant.
func tenantOf(r *http.Request) string {
	return principalOf(r).Tenant
}

// inTenant runs h on a route whose {id} is the id of something a group
// holds (kind: "event", "change", "period", "trigger", "execution") only
// when that group is the caller's tenant's. Another tenant's answers
// exactly as a missing id does: both get the 404 of h's own message,
// before anything else is checked, so not even the order of the checks
// tells them apart. A trigger named within a group (?group=) is resolved
// within the tenant by byTrigger instead.
func (s *server) inTenant(kind string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tenant := tenantOf(r)
		if tenant == "" || (kind == "trigger" && r.URL.Query().Has("group")) {
			h(w, r)
			return
		}
		id := r.PathValue("id")
		owns, err := s.hist.Owns(r.Context(), tenant, kind, id)
		if err != nil {
			s.fail(w, r, err, kind+" "+id)
			return
		}
		if !owns {
			s.fail(w, r, store.ErrNotFound, kind+" "+id)
			return
		}
		h(w, r)
	}
}

// tenantForCreate is the tenant of a group r creates: the caller's, or
// for an admin the one named (default "default"). A principal of one
// tenant naming another is refused.
func tenantForCreate(r *http.Request, named string) (string, error) {
	p := principalOf(r)
	if p.Tenant == "" {
		if named == "" {
			return api.DefaultTenant, nil
		}
		return named, api.ValidateTenant("tenant", named)
	}
	if named != "" && named != p.Tenant {
		return "", &api.Error{Code: api.CodeForbidden, Status: http.StatusForbidden, Field: "tenant",
			Message: "principal " + p.Name + " acts in tenant " + p.Tenant + " and cannot create groups in " + named}
	}
	return p.Tenant, nil
}

// Token management and the audit record (admin).

const tagIdentity = "identity"

func (s *server) identityRoutes() []route {
	r := func(op openapi.Operation, h http.HandlerFunc) route {
		return route{Operation: op, handler: h, access: identity.Admin}
	}
	type (
		O = openapi.Operation
		B = openapi.Body
	)
	return []route{
		r(O{Pattern: "POST /v1/tokens", ID: "createToken", Tag: tagIdentity, Status: http.StatusCreated,
			Summary: "Issue a token for a named principal with a role (admin, writer, reader, pusher) in a tenant; " +
				"the answer holds its secret, this once: pesd keeps only its SHA-256 hash.",
			Body:     &B{Type: api.TokenCreate{}, Required: []string{"name", "role"}},
			Response: api.TokenCreated{}, Errors: withBody}, s.createToken),
		r(O{Pattern: "GET /v1/tokens", ID: "listTokens", Tag: tagIdentity, Status: http.StatusOK,
			Summary: "List the tokens issued, revoked and expired ones included; never a secret.",
			Query:   paged(), Response: api.List[api.Token]{}}, s.listTokens),
		r(O{Pattern: "DELETE /v1/tokens/{id}", ID: "revokeToken", Tag: tagIdentity, Status: http.StatusOK,
			Summary: "Revoke a token (its id, or its name: every active token of that name); it fails from its next request. " +
				"Answers the tokens revoked.",
			Response: api.List[api.Token]{}, Errors: notFound}, s.revokeToken),
		r(O{Pattern: "GET /v1/audit", ID: "listAudit", Tag: tagIdentity, Status: http.StatusOK,
			Summary: "The audit record: who created and revoked which token, oldest first.",
			Query:   paged(), Response: api.List[api.AuditEntry]{}}, s.listAudit),
	}
}

func (s *server) createToken(w http.ResponseWriter, r *http.Request) {
	in, ok := decodeRequest(s, w, r, maxBodyBytes, api.ValidateTokenCreate)
	if !ok {
		return
	}
	t, err := s.ids.Create(r.Context(), principalOf(r), in)
	if err != nil {
		s.fail(w, r, err, "token "+in.Name)
		return
	}
	// The secret is in this answer only: no cache may keep it.
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, t)
}

func (s *server) listTokens(w http.ResponseWriter, r *http.Request) {
	serveList(s, w, r, newQuery(r.URL), listing{name: "tokens"}, s.ids.List)
}

func (s *server) revokeToken(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	serve(s, w, r, "token "+id, http.StatusOK, func(ctx context.Context) (api.List[api.Token], error) {
		toks, err := s.ids.Revoke(ctx, principalOf(r), id)
		return api.List[api.Token]{Items: toks}, err
	})
}

func (s *server) listAudit(w http.ResponseWriter, r *http.Request) {
	serveList(s, w, r, newQuery(r.URL), listing{name: "audit"}, s.ids.Audit)
}
