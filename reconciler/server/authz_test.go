package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
	"github.com/pes-project/terraform-provider-pes/reconciler/controller"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/sim"
	"github.com/pes-project/terraform-provider-pes/reconciler/history"
	"github.com/pes-project/terraform-provider-pes/reconciler/identity"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlite"
)

// tenancy is a real API (the controller on a SQLite file, the sim driver,
// a fake clock) with two tenants, alpha and beta, each holding a group
// named web with a trigger, events, changes, a period, nodes and an
// execution, and tokens of every role.
type tenancy struct {
	t     *testing.T
	clk   *clock.Fake
	ctrl  *controller.Controller
	s     *server
	srv   *httptest.Server
	admin string
	// tokens[tenant][role] is a secret; tokens["alpha"]["revoked"] was
	// revoked.
	tokens map[string]map[string]string
	// ids[tenant][kind] is the id of the tenant's record of that kind
	// ("group", "trigger", "event", "change", "period", "node",
	// "execution", "token").
	ids map[string]map[string]string
}

const tenancyAdmin = "tenancy-admin-token"

func newTenancy(t *testing.T) *tenancy {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "pes.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := clock.NewFake(time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC))
	ctrl, err := controller.New(controller.Options{Store: st, Clock: clk, DataDir: t.TempDir(),
		Drivers: map[string]driver.Driver{api.DriverSim: sim.New(clk)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctrl.Close() })
	h := New(ctrl, history.New(st), tenancyAdmin, nil, WithClock(clk), WithIdentity(st))
	tn := &tenancy{t: t, clk: clk, ctrl: ctrl, s: h.(*server), admin: tenancyAdmin,
		tokens: map[string]map[string]string{}, ids: map[string]map[string]string{}}
	tn.srv = httptest.NewServer(h)
	t.Cleanup(tn.srv.Close)

	for _, tenant := range []string{"alpha", "beta"} {
		tn.tokens[tenant] = map[string]string{}
		tn.ids[tenant] = map[string]string{}
		for _, role := range []string{api.RoleWriter, api.RoleReader, api.RolePusher} {
			var tok api.TokenCreated
			tn.json(tn.admin, "POST", "/v1/tokens", fmt.Sprintf(`{"name":"%s-%s","tenant":"%s","role":"%s"}`, tenant, role, tenant, role), 201, &tok)
			tn.tokens[tenant][role] = tok.Secret
			tn.ids[tenant]["token"] = tok.ID
		}
	}
	var revoked api.TokenCreated
	tn.json(tn.admin, "POST", "/v1/tokens", `{"name":"alpha-gone","tenant":"alpha","role":"writer"}`, 201, &revoked)
	tn.json(tn.admin, "DELETE", "/v1/tokens/"+revoked.ID, "", 200, nil)
	tn.tokens["alpha"]["revoked"] = revoked.Secret

	// Each tenant's writer builds the same things under the same names.
	for _, tenant := range []string{"alpha", "beta"} {
		w, ids := tn.tokens[tenant][api.RoleWriter], tn.ids[tenant]
		var g api.Group
		tn.json(w, "POST", "/v1/groups", `{"name":"web","driver":"sim","desired_quantity":2,"max_quantity":10,
			"sim":{"boot_time":"1s"},"labels":{"owner":"`+tenant+`-secret"}}`, 201, &g)
		if g.Tenant != tenant {
			t.Fatalf("%s's group is in tenant %q", tenant, g.Tenant)
		}
		ids["group"] = g.ID
		tn.tick(2 * time.Second)
		var ev api.Event
		tn.json(w, "POST", "/v1/groups/web/instructions", `{"change_by":1,"actor":"alice"}`, 201, &ev)
		ids["event"] = ev.ID
		var p api.Period
		tn.json(w, "POST", "/v1/groups/web/harmonize", "", 200, &p)
		ids["period"] = p.ID
		tn.tick(2 * time.Second)
		var changes api.List[api.Change]
		tn.json(w, "GET", "/v1/groups/web/changes", "", 200, &changes)
		ids["change"] = changes.Items[len(changes.Items)-1].ID
		var nodes api.List[api.Node]
		tn.json(w, "GET", "/v1/groups/web/nodes", "", 200, &nodes)
		ids["node"] = nodes.Items[0].ID
		var tr api.Trigger
		tn.json(w, "POST", "/v1/groups/web/triggers", `{"name":"cpu-high","condition":"avg(cpu, '2m') > 80","change_by":1}`, 201, &tr)
		ids["trigger"] = tr.ID
		var x api.Execution
		tn.json(w, "POST", "/v1/executions", `{"group_id":"web","program_type":"sum","input":{"items":[1,2]},"sim":{"item_duration":"1h"}}`, 201, &x)
		ids["execution"] = x.ID
	}
	return tn
}

func (tn *tenancy) tick(d time.Duration) {
	tn.t.Helper()
	tn.clk.Advance(d)
	if err := tn.ctrl.Tick(tn.t.Context()); err != nil {
		tn.t.Fatalf("tick: %v", err)
	}
}

// call sends a request with token ("" for none) and answers its status
// and body.
func (tn *tenancy) call(token, method, path, body string) (int, []byte) {
	tn.t.Helper()
	req, err := http.NewRequest(method, tn.srv.URL+path, strings.NewReader(body))
	if err != nil {
		tn.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := tn.srv.Client().Do(req)
	if err != nil {
		tn.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tn.t.Fatal(err)
	}
	return resp.StatusCode, b
}

func (tn *tenancy) json(token, method, path, body string, want int, out any) {
	tn.t.Helper()
	status, b := tn.call(token, method, path, body)
	if status != want {
		tn.t.Fatalf("%s %s: %d, want %d: %s", method, path, status, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			tn.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

// leaks returns what of tenant's records b names: an id (but one the
// caller sent, which a 404 repeats), or the label value only that
// tenant's group has.
func (tn *tenancy) leaks(tenant, sent string, b []byte) []string {
	var out []string
	for kind, id := range tn.ids[tenant] {
		if bytes.Contains(b, []byte(id)) && !strings.Contains(sent, id) {
			out = append(out, kind+" "+id)
		}
	}
	if bytes.Contains(b, []byte(tenant+"-secret")) {
		out = append(out, "the label "+tenant+"-secret")
	}
	return out
}

// kindOf is the kind of record a route's {id} names, by its first
// segment: /v1/groups/{id}/… a group's, /v1/events/{id} an event's.
func kindOf(path string) string {
	seg, _, _ := strings.Cut(strings.TrimPrefix(path, "/v1/"), "/")
	return strings.TrimSuffix(seg, "s")
}

var pathParam = regexp.MustCompile(`\{[a-z]+\}`)

// TestRouteRoleTenant walks every route the router registered, for every
// kind of caller (each role of tenant alpha, a revoked token, none),
// against alpha's records and beta's: a caller without a valid token
// gets 401, a role that does not grant the route 403, a route reached
// through one of beta's ids 404 exactly as a missing id, and no answer
// to alpha names anything of beta's. Writes carry an unknown query
// parameter, so that an allowed one is refused (400) after every check
// of who may do it, and the records stay for the next cases.
func TestRouteRoleTenant(t *testing.T) {
	tn := newTenancy(t)
	callers := []struct{ name, token, role string }{
		{"admin", tn.admin, api.RoleAdmin},
		{"writer", tn.tokens["alpha"][api.RoleWriter], api.RoleWriter},
		{"reader", tn.tokens["alpha"][api.RoleReader], api.RoleReader},
		{"pusher", tn.tokens["alpha"][api.RolePusher], api.RolePusher},
		{"revoked", tn.tokens["alpha"]["revoked"], ""},
		{"none", "", ""},
	}
	cases := 0
	for _, pattern := range tn.s.mux.patterns {
		method, path, _ := strings.Cut(pattern, " ")
		access := tn.s.access[pattern]
		for _, c := range callers {
			for _, target := range []string{"alpha", "beta"} {
				cases++
				name := fmt.Sprintf("%s/%s/%s", pattern, c.name, target)
				fill := func(ids map[string]string) string {
					return pathParam.ReplaceAllStringFunc(path, func(p string) string {
						switch p {
						case "{node}":
							return ids["node"]
						case "{type}":
							// Program types are names every tenant may
							// use; both tenants' executions are of sum.
							return "sum"
						}
						return ids[kindOf(path)]
					})
				}
				url := fill(tn.ids[target])
				if method != http.MethodGet {
					url += "?authz-probe=1"
				}
				status, body := tn.call(c.token, method, url, "")
				hasID := strings.Contains(path, "{id}")
				switch {
				case access == identity.Public:
					if status == 401 || status == 403 {
						t.Errorf("%s: public route answered %d: %s", name, status, body)
					}
				case c.role == "":
					if status != 401 {
						t.Errorf("%s: %d, want 401: %s", name, status, body)
					}
				case !(identity.Principal{Role: c.role}).May(access):
					if status != 403 {
						t.Errorf("%s: %d, want 403 (%s needs %s): %s", name, status, c.role, access, body)
					}
				case c.role != api.RoleAdmin && target == "beta" && hasID:
					// Exactly as a missing id: the same status and body but
					// for the id.
					missing := map[string]string{}
					for k := range tn.ids[target] {
						missing[k] = uuid.NewString()
					}
					mStatus, mBody := tn.call(c.token, method, strings.Replace(url, fill(tn.ids[target]), fill(missing), 1), "")
					if status != 404 || mStatus != 404 {
						t.Errorf("%s: %d (a missing id %d), want 404: %s", name, status, mStatus, body)
					}
					got, want := string(body), string(mBody)
					for k, id := range tn.ids[target] {
						got = strings.ReplaceAll(got, id, "<"+k+">")
						want = strings.ReplaceAll(want, missing[k], "<"+k+">")
					}
					if got != want {
						t.Errorf("%s: another tenant's id answers\n%s\nbut a missing id\n%s", name, got, want)
					}
				default:
					if status == 401 || status == 403 || status == 404 {
						t.Errorf("%s: %d, want it allowed: %s", name, status, body)
					}
				}
				if c.role != api.RoleAdmin {
					if l := tn.leaks("beta", url, body); len(l) > 0 {
						t.Errorf("%s: the answer names beta's %v: %s", name, l, body)
					}
				}
			}
		}
	}
	t.Logf("%d routes × %d callers × 2 tenants: %d cases", len(tn.s.mux.patterns), len(callers), cases)
	if cases < 300 {
		t.Errorf("only %d cases: the router's route list looks short", cases)
	}
}

// TestMetricsPerTenant: a tenant's token scrapes its tenant's group
// series and none of another's; the admin scrapes all; no token, none.
func TestMetricsPerTenant(t *testing.T) {
	tn := newTenancy(t)
	for _, c := range []struct {
		name, token string
		want, not   []string
	}{
		{"alpha's reader", tn.tokens["alpha"][api.RoleReader], []string{tn.ids["alpha"]["group"]}, []string{tn.ids["beta"]["group"]}},
		{"beta's writer", tn.tokens["beta"][api.RoleWriter], []string{tn.ids["beta"]["group"]}, []string{tn.ids["alpha"]["group"]}},
		{"admin", tn.admin, []string{tn.ids["alpha"]["group"], tn.ids["beta"]["group"]}, nil},
	} {
		status, body := tn.call(c.token, "GET", "/metrics", "")
		if status != 200 {
			t.Fatalf("%s: %d: %s", c.name, status, body)
		}
		for _, id := range c.want {
			if !bytes.Contains(body, []byte(`group_id="`+id+`"`)) {
				t.Errorf("%s: no series of group %s", c.name, id)
			}
		}
		for _, id := range c.not {
			if bytes.Contains(body, []byte(id)) {
				t.Errorf("%s: a series of another tenant's group %s", c.name, id)
			}
		}
	}
	if status, _ := tn.call("", "GET", "/metrics", ""); status != 401 {
		t.Errorf("no token: %d, want 401", status)
	}
}
