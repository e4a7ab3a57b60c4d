package storetest

import (
	"context"
	"testing"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// testTokens: a token is found by the hash of its secret, a hash is
// stored once, a revocation is kept, and the list holds them all in
// creation order.
func testTokens(t *testing.T, s store.Store) {
	ctx := context.Background()
	exp := at(3600)
	ci := api.Token{ID: "tok-1", Name: "terraform-ci", Tenant: "payments", Role: api.RoleWriter,
		CreatedAt: at(1), CreatedBy: "admin", ExpiresAt: &exp}
	ro := api.Token{ID: "tok-2", Name: "causality-ro", Tenant: "payments", Role: api.RoleReader,
		CreatedAt: at(2), CreatedBy: "admin"}
	update(t, s, func(tx store.Tx) error {
		if err := tx.InsertToken(ci, "hash-1"); err != nil {
			return err
		}
		return tx.InsertToken(ro, "hash-2")
	})
	got, err := s.GetTokenByHash(ctx, "hash-1")
	must(t, err)
	checkSame(t, "token by hash", ci, got)
	_, err = s.GetTokenByHash(ctx, "hash-3")
	wantErr(t, "unknown hash", err, store.ErrNotFound)

	err = s.Update(ctx, func(tx store.Tx) error {
		return tx.InsertToken(api.Token{ID: "tok-3", Name: "again", Role: api.RoleAdmin, CreatedAt: at(3)}, "hash-1")
	})
	wantErr(t, "a hash stored twice", err, store.ErrConflict)

	revoked := at(10)
	ci.RevokedAt, ci.RevokedBy = &revoked, "admin"
	update(t, s, func(tx store.Tx) error { return tx.UpdateToken(ci) })
	got, err = s.GetToken(ctx, "tok-1")
	must(t, err)
	checkSame(t, "revoked token", ci, got)
	if got.Active(at(11)) {
		t.Errorf("a revoked token is active")
	}
	err = s.Update(ctx, func(tx store.Tx) error { return tx.UpdateToken(api.Token{ID: "tok-9"}) })
	wantErr(t, "update of a missing token", err, store.ErrNotFound)

	list := pageAll(t, 1, func(p store.Page) ([]api.Token, string, error) { return s.ListTokens(ctx, p) })
	if len(list) != 2 || list[0].ID != "tok-1" || list[1].ID != "tok-2" {
		t.Errorf("ListTokens = %+v, want tok-1 then tok-2", list)
	}

	a1 := api.AuditEntry{ID: "a-1", Time: at(1), Principal: "admin", Action: api.AuditTokenCreated,
		TokenID: "tok-1", TokenName: "terraform-ci", Tenant: "payments", Role: api.RoleWriter}
	a2 := api.AuditEntry{ID: "a-2", Time: at(10), Principal: "admin", Action: api.AuditTokenRevoked, TokenID: "tok-1"}
	update(t, s, func(tx store.Tx) error {
		if err := tx.InsertAudit(a2); err != nil {
			return err
		}
		return tx.InsertAudit(a1)
	})
	audit := pageAll(t, 1, func(p store.Page) ([]api.AuditEntry, string, error) { return s.ListAudit(ctx, p) })
	checkSame(t, "audit in time order", []api.AuditEntry{a1, a2}, audit)
}

// testTenants: names are unique per tenant, a name is looked up in one
// tenant (or in all, where two tenants using it is a conflict), and the
// lists of groups and executions keep one tenant's rows.
func testTenants(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := group("g-a", "web"), group("g-b", "web")
	a.Tenant, b.Tenant = "payments", "search"
	update(t, s, func(tx store.Tx) error {
		if err := tx.InsertGroup(a); err != nil {
			return err
		}
		return tx.InsertGroup(b)
	})
	err := s.Update(ctx, func(tx store.Tx) error {
		dup := group("g-c", "web")
		dup.Tenant = "payments"
		return tx.InsertGroup(dup)
	})
	wantConflict(t, "a second live web in payments", err, "name")

	for tenant, want := range map[string]string{"payments": "g-a", "search": "g-b"} {
		g, err := s.GetGroupByName(ctx, tenant, "web")
		must(t, err)
		if g.ID != want || g.Tenant != tenant {
			t.Errorf("web of %s = %s (tenant %s), want %s", tenant, g.ID, g.Tenant, want)
		}
	}
	_, err = s.GetGroupByName(ctx, "other", "web")
	wantErr(t, "web of a tenant without one", err, store.ErrNotFound)
	_, err = s.GetGroupByName(ctx, "", "web")
	wantErr(t, "web in every tenant", err, store.ErrConflict)

	list, _, err := s.ListGroups(ctx, store.GroupFilter{Tenant: "search"})
	must(t, err)
	sameIDs(t, "groups of search", []string{"g-b"}, ids(list))
	list, _, err = s.ListGroups(ctx, store.GroupFilter{})
	must(t, err)
	sameIDs(t, "groups of every tenant", []string{"g-a", "g-b"}, ids(list))

	update(t, s, func(tx store.Tx) error {
		for i, g := range []string{"g-a", "g-b"} {
			x := api.Execution{ID: "x-" + g, Label: "X" + string(rune('1'+i)), GroupID: g,
				Status: api.ExecutionRunning, CreatedAt: at(i)}
			if err := tx.InsertExecution(x); err != nil {
				return err
			}
		}
		return nil
	})
	xs, _, err := s.ListExecutions(ctx, store.ExecutionFilter{Tenant: "payments"})
	must(t, err)
	if len(xs) != 1 || xs[0].GroupID != "g-a" {
		t.Errorf("executions of payments = %+v, want only g-a's", xs)
	}
}
