//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// as is a caller of a running pesd with one token.
type as struct {
	t     testing.TB
	url   string
	token string
}

// do sends a request and answers the status and body.
func (a as) do(method, path, body string) (int, []byte) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.url+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// want sends a request, fails unless it answers status, and decodes the
// answer into out (when not nil).
func (a as) want(method, path, body string, status int, out any) []byte {
	a.t.Helper()
	got, b := a.do(method, path, body)
	if got != status {
		a.t.Fatalf("%s %s: %d, want %d: %s", method, path, got, status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			a.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return b
}

// TestE2ETenants: two tenants on one real pesd, started with
// --token-file, each with a group named web. Neither can read, list,
// instruct, delete or filter the other's; a reader cannot write; a pusher
// pushes samples but reads nothing; a revoked token gets 401 on its next
// request; an instruction is recorded as its token's principal on behalf
// of the actor it names; token management is in the audit record; the
// token is in no process listing, and no secret is in the data directory.
func TestE2ETenants(t *testing.T) {
	needE2E(t)
	dir := t.TempDir()
	bootstrap := "bootstrap-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(bootstrap+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, dir, "", "--token-file", tokenFile)

	// ps shows the command line, and the token is not on it.
	out, err := exec.Command("ps", "-ww", "-o", "args=", "-p", strconv.Itoa(d.cmd.Process.Pid)).Output()
	if err != nil {
		t.Fatalf("ps: %v", err)
	}
	if !strings.Contains(string(out), "--token-file") || strings.Contains(string(out), bootstrap) {
		t.Errorf("ps shows %q: want --token-file and no token", out)
	}

	admin := as{t, d.url, bootstrap}
	secrets := []string{bootstrap}
	issue := func(name, tenant, role string) as {
		var tok api.TokenCreated
		admin.want("POST", "/v1/tokens", `{"name":"`+name+`","tenant":"`+tenant+`","role":"`+role+`"}`, 201, &tok)
		if tok.Secret == "" || tok.Tenant != tenant || tok.Role != role {
			t.Fatalf("token %s: %+v", name, tok)
		}
		secrets = append(secrets, tok.Secret)
		return as{t, d.url, tok.Secret}
	}
	ci, beta := issue("ci", "alpha", "writer"), issue("beta-ci", "beta", "writer")
	reader, pusher := issue("dash", "alpha", "reader"), issue("queue", "alpha", "pusher")

	const web = `{"name":"web","driver":"sim","desired_quantity":1,"sim":{"boot_time":"100ms"},"aggregation_period":"1h"}`
	var ga, gb api.Group
	ci.want("POST", "/v1/groups", web, 201, &ga)
	beta.want("POST", "/v1/groups", web, 201, &gb)
	if ga.Tenant != "alpha" || gb.Tenant != "beta" || ga.ID == gb.ID {
		t.Fatalf("the two webs: %s in %s, %s in %s", ga.ID, ga.Tenant, gb.ID, gb.Tenant)
	}
	ci.want("POST", "/v1/groups", web, 409, nil) // a name is unique within a tenant

	// The principal in the record: token ci, actor alice.
	var ev api.Event
	ci.want("POST", "/v1/groups/web/instructions", `{"change_by":3,"actor":"alice","immediate":true}`, 201, &ev)
	var detail api.EventDetail
	ci.want("GET", "/v1/events/"+ev.ID, "", 200, &detail)
	if detail.Source.Principal != "ci" || detail.Source.OnBehalfOf != "alice" {
		t.Errorf("event source %+v: want principal ci on behalf of alice", detail.Source)
	}
	if !strings.Contains(detail.Explanation, "user ci (on behalf of alice) asked for +3") {
		t.Errorf("explanation %q does not say who", detail.Explanation)
	}
	var betaEv api.Event
	beta.want("POST", "/v1/groups/web/instructions", `{"change_by":1}`, 201, &betaEv)

	// Neither tenant reaches the other's web.
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/v1/groups/" + gb.ID, ""},
		{"GET", "/v1/groups/" + gb.ID + "/events", ""},
		{"GET", "/v1/events/" + betaEv.ID, ""},
		{"POST", "/v1/groups/" + gb.ID + "/instructions", `{"change_by":1}`},
		{"DELETE", "/v1/groups/" + gb.ID, ""},
	} {
		if got, b := ci.do(c.method, c.path, c.body); got != 404 {
			t.Errorf("alpha %s %s: %d, want 404: %s", c.method, c.path, got, b)
		}
	}
	var list api.List[api.Group]
	ci.want("GET", "/v1/groups?include_deleted=true", "", 200, &list)
	if len(list.Items) != 1 || list.Items[0].ID != ga.ID {
		t.Errorf("alpha lists %+v, want only its web", list.Items)
	}
	var changes api.List[api.Change]
	ci.want("GET", "/v1/groups/web/changes?caused_by="+betaEv.ID, "", 200, &changes)
	if len(changes.Items) != 0 {
		t.Errorf("caused_by beta's event reached %d changes", len(changes.Items))
	}
	if b := ci.want("GET", "/v1/groups/web", "", 200, nil); bytes.Contains(b, []byte(gb.ID)) {
		t.Errorf("alpha's web by name names beta's: %s", b)
	}
	beta.want("GET", "/v1/groups/"+ga.ID, "", 404, nil)

	// A reader reads, causality included, and cannot write.
	reader.want("GET", "/v1/events/"+ev.ID, "", 200, nil)
	reader.want("POST", "/v1/groups/web/instructions", `{"change_by":1}`, 403, nil)
	// A pusher pushes samples and reads nothing.
	pusher.want("POST", "/v1/groups/web/metrics", `{"samples":[{"name":"queue_depth","value":12}]}`, 200, nil)
	pusher.want("GET", "/v1/groups/web/events", "", 403, nil)
	pusher.want("POST", "/v1/groups/"+gb.ID+"/metrics", `{"samples":[{"name":"queue_depth","value":12}]}`, 404, nil)

	// Revocation takes effect on the next request.
	var revoked api.List[api.Token]
	admin.want("DELETE", "/v1/tokens/dash", "", 200, &revoked)
	if len(revoked.Items) != 1 || revoked.Items[0].RevokedAt == nil {
		t.Fatalf("revoked %+v", revoked.Items)
	}
	reader.want("GET", "/v1/groups", "", 401, nil)
	ci.want("GET", "/v1/tokens", "", 403, nil)

	var audit api.List[api.AuditEntry]
	admin.want("GET", "/v1/audit", "", 200, &audit)
	var created, gone int
	for _, a := range audit.Items {
		switch {
		case a.Action == api.AuditTokenCreated && a.Principal == "admin":
			created++
		case a.Action == api.AuditTokenRevoked && a.Principal == "admin" && a.TokenName == "dash":
			gone++
		}
	}
	if created != 4 || gone != 1 {
		t.Errorf("audit: %d creations and %d revocations by admin, want 4 and 1: %+v", created, gone, audit.Items)
	}

	// No secret at rest: not in the database, its WAL, or any other file.
	if code := d.term(t); code != 0 {
		t.Fatalf("pesd exited %d", code)
	}
	err = filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds a token in clear", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestE2ETenantRecommendations: run records belong to a tenant. Runs
// tenant alpha imports are listed and fit for alpha alone: beta's
// recommendation for the same program type has not enough history and
// names none of alpha's labels, and beta may import the same file, which
// records its own runs rather than skipping alpha's.
func TestE2ETenantRecommendations(t *testing.T) {
	needE2E(t)
	d := startDaemon(t, t.TempDir(), "e2e-token")
	admin := as{t, d.url, "e2e-token"}
	issue := func(name, tenant string) as {
		var tok api.TokenCreated
		admin.want("POST", "/v1/tokens", `{"name":"`+name+`","tenant":"`+tenant+`","role":"writer"}`, 201, &tok)
		return as{t, d.url, tok.Secret}
	}
	alpha, beta := issue("alpha-ci", "alpha"), issue("beta-ci", "beta")

	var runs []string
	for i, n := range []int{2, 4, 8, 16} {
		runs = append(runs, fmt.Sprintf(`{"label":"alpha-%d","input_size":1000,"nodes_mean":%d,"wall_seconds":%g,"ended_at":"2026-03-01T0%d:00:00Z"}`,
			n, n, 30+600/float64(n)+2*float64(n), i))
	}
	file := "[" + strings.Join(runs, ",") + "]"
	var imp api.RunsImport
	alpha.want("POST", "/v1/program-types/wc/runs", file, 200, &imp)
	if imp.Imported != 4 {
		t.Fatalf("alpha imported %+v, want 4", imp)
	}
	const recommend = "/v1/program-types/wc/recommendation?input_size=1000"
	var rec api.Recommendation
	alpha.want("GET", recommend, "", 200, &rec)
	if rec.Status != api.RecommendationOK || rec.Runs != 4 {
		t.Fatalf("alpha's recommendation %+v, want one from its 4 runs", rec)
	}

	var list api.List[api.Run]
	beta.want("GET", "/v1/program-types/wc/runs", "", 200, &list)
	if len(list.Items) != 0 {
		t.Errorf("beta lists %d runs of alpha's", len(list.Items))
	}
	body := beta.want("GET", recommend, "", 200, &rec)
	t.Logf("beta's recommendation: %s", rec.Explanation)
	if rec.Status != api.RecommendationNotEnoughRuns || rec.Runs != 0 || strings.Contains(string(body), "alpha-") {
		t.Errorf("beta's recommendation %s: want not_enough_history from 0 runs, naming no run of alpha's", body)
	}

	// The same file in beta is beta's runs, not a repeat of alpha's.
	beta.want("POST", "/v1/program-types/wc/runs", file, 200, &imp)
	if imp.Imported != 4 || imp.Skipped != 0 {
		t.Errorf("beta imported %+v, want 4 recorded", imp)
	}
	beta.want("GET", recommend, "", 200, &rec)
	if rec.Status != api.RecommendationOK || rec.Runs != 4 {
		t.Errorf("beta's recommendation after its import %+v, want one from its 4 runs", rec)
	}
	admin.want("GET", "/v1/program-types/wc/runs", "", 200, &list)
	if len(list.Items) != 8 {
		t.Errorf("the admin lists %d runs, want both tenants' 8", len(list.Items))
	}
}
