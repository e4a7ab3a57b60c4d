package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
)

// tokensCmd is "pesd tokens": alone it lists the tokens pesd issued, as
// "tokens list" does; create issues one, revoke revokes one. All need an
// admin token.
func (e *env) tokensCmd() *cobra.Command {
	cmd := e.tokensList("tokens [-o FORMAT]", "list the tokens pesd issued; create or revoke one (admin)")
	cmd.AddCommand(e.tokensList("list [-o FORMAT]", "list the tokens pesd issued, revoked and expired ones too; never a secret"),
		e.tokensCreate(), e.tokensRevoke())
	return cmd
}

func (e *env) tokensList(use, short string) *cobra.Command {
	c := e.newCLI(use, short, false)
	return c.run(false, nil, func(ctx context.Context, cl *client.Client) error {
		toks, err := cl.ListTokens(ctx)
		if err != nil {
			return err
		}
		return c.print(api.List[api.Token]{Items: toks}, func(t *table) { tokensTable(t, toks) })
	})
}

func (e *env) tokensCreate() *cobra.Command {
	c := e.newCLI("create --name NAME --role ROLE [--tenant T] [--expires D] [-o FORMAT]\n\n"+
		"Prints the token once, alone on standard output (TOKEN=$(pesd tokens create ...)); with -o json|yaml\n"+
		"the whole answer, the token in its secret field. pesd keeps only its SHA-256 hash.",
		"issue a token for a named principal: admin, writer, reader or pusher", false)
	var in api.TokenCreate
	c.fs.StringVar(&in.Name, "name", "", "the principal's `name`, as the causality record shows it")
	c.fs.StringVar(&in.Role, "role", "", "`role`: admin, writer, reader or pusher")
	c.fs.StringVar(&in.Tenant, "tenant", "", "`tenant` the token acts in (default: default; none for admin)")
	c.fs.StringVar(&in.Expires, "expires", "", "how long the token lasts: a `duration` (90d, 2160h); default until revoked")
	_ = c.cmd.RegisterFlagCompletionFunc("role", cobra.FixedCompletions(api.Roles(), cobra.ShellCompDirectiveNoFileComp))
	return c.run(false, nil, func(ctx context.Context, cl *client.Client) error {
		tok, err := cl.CreateToken(ctx, in)
		if err != nil {
			return err
		}
		if c.output == "json" || c.output == "yaml" {
			return c.print(tok, nil)
		}
		where := "every tenant"
		if tok.Tenant != "" {
			where = "tenant " + tok.Tenant
		}
		until := "until revoked"
		if tok.ExpiresAt != nil {
			until = "until " + ts(*tok.ExpiresAt)
		}
		fmt.Fprintf(c.stderr, "pesd: token %s for %s (%s in %s, %s): it is shown this once; pesd keeps only its hash\n",
			tok.ID, tok.Name, tok.Role, where, until)
		_, err = fmt.Fprintln(c.stdout, tok.Secret)
		return err
	})
}

func (e *env) tokensRevoke() *cobra.Command {
	c := e.newCLI("revoke ID|NAME [-o FORMAT]\n\nA name revokes every active token of that name. The next request with it gets 401.",
		"revoke a token, by its ID or its name", false)
	var ref string
	return c.run(false, oneArg("token", "its ID or its name", &ref), func(ctx context.Context, cl *client.Client) error {
		toks, err := cl.RevokeToken(ctx, ref)
		if err != nil {
			return err
		}
		return c.print(api.List[api.Token]{Items: toks}, func(t *table) { tokensTable(t, toks) })
	})
}

func (e *env) auditCmd(use, short string) *cobra.Command {
	c := e.newCLI(use, short, false)
	return c.run(false, nil, func(ctx context.Context, cl *client.Client) error {
		entries, err := cl.ListAudit(ctx)
		if err != nil {
			return err
		}
		return c.print(api.List[api.AuditEntry]{Items: entries}, func(t *table) {
			t.row("TIME", "PRINCIPAL", "ACTION", "TOKEN", "NAME", "ROLE", "TENANT")
			id := t.ids(mapOf(entries, func(a api.AuditEntry) string { return a.TokenID })...)
			for _, a := range entries {
				t.row(ts(a.Time), a.Principal, a.Action, id(a.TokenID), a.TokenName, a.Role, orDash(a.Tenant))
			}
		})
	})
}

func tokensTable(t *table, toks []api.Token) {
	id := t.ids(mapOf(toks, func(tok api.Token) string { return tok.ID })...)
	head := []string{"NAME", "ID", "ROLE", "TENANT", "STATUS", "EXPIRES"}
	if t.wide {
		head = append(head, "CREATED", "CREATED BY", "REVOKED", "REVOKED BY")
	}
	t.row(head...)
	for _, tok := range toks {
		status := "active"
		switch {
		case tok.RevokedAt != nil:
			status = "revoked"
		case !tok.Active(time.Now()):
			status = "expired"
		}
		row := []string{tok.Name, id(tok.ID), tok.Role, orDash(tok.Tenant), status, tsp(tok.ExpiresAt)}
		if t.wide {
			row = append(row, ts(tok.CreatedAt), tok.CreatedBy, tsp(tok.RevokedAt), orDash(tok.RevokedBy))
		}
		t.row(row...)
	}
}
