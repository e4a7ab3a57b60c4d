package identity

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlite"
)

// TestRoles is the role × access table of issue 17.
func TestRoles(t *testing.T) {
	want := map[string][]Access{
		api.RoleAdmin:  {Public, Read, Push, Write, Admin},
		api.RoleWriter: {Public, Read, Push, Write},
		api.RoleReader: {Public, Read},
		api.RolePusher: {Public, Push},
		"":             nil,
	}
	for role, allowed := range want {
		for a := Public; a <= Admin; a++ {
			got := Principal{Role: role}.May(a)
			exp := false
			for _, x := range allowed {
				exp = exp || x == a
			}
			if got != exp {
				t.Errorf("role %q may %s: %v, want %v", role, a, got, exp)
			}
		}
	}
	if got := Write.Roles(); got != "admin, writer" {
		t.Errorf("Write.Roles() = %q", got)
	}
}

func TestSource(t *testing.T) {
	for _, tc := range []struct {
		principal, actor string
		want             api.Source
	}{
		{"ci", "alice", api.Source{Kind: api.SourceUser, Name: "ci", Principal: "ci", OnBehalfOf: "alice"}},
		{"ci", "ci", api.Source{Kind: api.SourceUser, Name: "ci", Principal: "ci"}},
		{"ci", "", api.Source{Kind: api.SourceUser, Name: "ci", Principal: "ci"}},
		{"", "alice", api.Source{Kind: api.SourceUser, Name: "alice"}},
		{"", "", api.Source{Kind: api.SourceUser, Name: "api"}},
	} {
		ctx := context.Background()
		if tc.principal != "" {
			ctx = With(ctx, Principal{Name: tc.principal, Role: api.RoleWriter, Tenant: "t"})
		}
		if got := Source(ctx, tc.actor); got != tc.want {
			t.Errorf("principal %q actor %q: %+v, want %+v", tc.principal, tc.actor, got, tc.want)
		}
	}
}

// TestTokens: a token authenticates as its principal until it expires or
// is revoked, the bootstrap token as the admin, and anything else not.
func TestTokens(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "pes.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := clock.NewFake(time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC))
	ids := New(st, clk, "boot")
	admin, err := ids.Authenticate(ctx, Hash("boot"))
	if err != nil || admin != (Principal{Name: "admin", Role: api.RoleAdmin}) {
		t.Fatalf("bootstrap: %+v, %v", admin, err)
	}
	tok, err := ids.Create(ctx, admin, api.TokenCreate{Name: "ci", Tenant: "payments", Role: api.RoleWriter, Expires: "1d"})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := ids.Authenticate(ctx, Hash(tok.Secret)); err != nil || p != (Principal{Name: "ci", Role: api.RoleWriter, Tenant: "payments"}) {
		t.Errorf("ci: %+v, %v", p, err)
	}
	if _, err := ids.Authenticate(ctx, Hash("nope")); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("an unknown token: %v", err)
	}
	clk.Advance(25 * time.Hour)
	if _, err := ids.Authenticate(ctx, Hash(tok.Secret)); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("an expired token: %v", err)
	}
	other, err := ids.Create(ctx, admin, api.TokenCreate{Name: "dash", Tenant: "payments", Role: api.RoleReader})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ids.Revoke(ctx, admin, "dash"); err != nil {
		t.Fatal(err)
	}
	if _, err := ids.Authenticate(ctx, Hash(other.Secret)); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("a revoked token: %v", err)
	}
	if len(other.Secret) < 40 || other.Secret == tok.Secret {
		t.Errorf("secrets %q and %q", tok.Secret, other.Secret)
	}
}
