package client

import (
	"context"
	"net/http"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// CreateToken issues a token (admin). The answer holds its secret, the
// only time pesd shows it. It is not retried once the server has
// answered, so one call issues at most one token.
func (c *Client) CreateToken(ctx context.Context, in api.TokenCreate) (api.TokenCreated, error) {
	var t api.TokenCreated
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/tokens", body: in, out: &t})
	return t, err
}

// ListTokens reads every token issued, revoked and expired ones included.
func (c *Client) ListTokens(ctx context.Context) ([]api.Token, error) {
	return listEvery[api.Token](ctx, c, "/v1/tokens")
}

// RevokeToken revokes the token of id ref, or every active token named
// ref, and returns them.
func (c *Client) RevokeToken(ctx context.Context, ref string) ([]api.Token, error) {
	var l api.List[api.Token]
	err := c.do(ctx, call{method: http.MethodDelete, path: "/v1/tokens/" + seg(ref), out: &l, idempotent: true})
	return l.Items, err
}

// ListAudit reads the whole audit record, oldest first.
func (c *Client) ListAudit(ctx context.Context) ([]api.AuditEntry, error) {
	return listEvery[api.AuditEntry](ctx, c, "/v1/audit")
}
