//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// buildBefore builds pesd as it was before the commit that added file (the
// first commit that has it), from the repository's history, and returns
// the binary. Without git or the history it skips, outside CI.
func buildBefore(t *testing.T, file string) string {
	t.Helper()
	missing := func(what string, err error) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf("%s: %v", what, err)
		}
		t.Skipf("%s (%v): this test builds the pesd of an older commit; run it in a git checkout with its history", what, err)
	}
	git := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("git", args...).Output()
		if err != nil {
			missing("git "+strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out))
	}
	root := git("rev-parse", "--show-toplevel")
	added := strings.Fields(git("-C", root, "log", "--diff-filter=A", "--format=%H", "--", file))
	if len(added) == 0 {
		missing("no commit adds "+file, nil)
	}
	src := t.TempDir()
	archive := exec.Command("git", "-C", root, "archive", "--format=tar", added[len(added)-1]+"^")
	untar := exec.Command("tar", "-x", "-C", src)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	untar.Stdin = pipe
	if err := untar.Start(); err != nil {
		missing("tar", err)
	}
	if err := archive.Run(); err != nil {
		missing("git archive", err)
	}
	if err := untar.Wait(); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "pesd-old")
	build := exec.Command(goTool(), "build", "-o", bin, "./reconciler/cmd/pesd")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the older pesd: %v\n%s", err, out)
	}
	return bin
}

// TestE2EUpgradeFromSingleToken: a data directory of the pesd from before
// principals and tenants (one shared token) upgrades in place. Its groups
// go to the tenant "default" and keep their names and history, and the old
// token still works, as the admin principal.
func TestE2EUpgradeFromSingleToken(t *testing.T) {
	needE2E(t)
	old := buildBefore(t, "reconciler/identity/identity.go")
	dir := t.TempDir()
	const token = "the-one-shared-token"

	d := startBinary(t, old, dir, token, nil)
	before := as{t, d.url, token}
	var g api.Group
	before.want("POST", "/v1/groups", `{"name":"web","driver":"sim","desired_quantity":2,"sim":{"boot_time":"100ms"}}`, 201, &g)
	var ev api.Event
	before.want("POST", "/v1/groups/web/instructions", `{"change_by":1,"actor":"alice","immediate":true}`, 201, &ev)
	if code := d.term(t); code != 0 {
		t.Fatalf("the older pesd exited %d", code)
	}

	d = startDaemon(t, dir, token)
	admin := as{t, d.url, token}
	var after api.Group
	admin.want("GET", "/v1/groups/web", "", 200, &after)
	if after.ID != g.ID || after.Tenant != api.DefaultTenant {
		t.Errorf("web after the upgrade: id %s tenant %q, want %s in %q", after.ID, after.Tenant, g.ID, api.DefaultTenant)
	}
	var detail api.EventDetail
	admin.want("GET", "/v1/events/"+ev.ID, "", 200, &detail)
	if detail.Source.Name != "alice" || detail.Source.Principal != "" {
		t.Errorf("an event from before principals: source %+v, want alice and no principal", detail.Source)
	}
	// The old token is the admin: it issues tokens, and the default
	// tenant's writer finds web by name.
	var tok api.TokenCreated
	admin.want("POST", "/v1/tokens", `{"name":"ci","role":"writer"}`, 201, &tok)
	if tok.Tenant != api.DefaultTenant {
		t.Errorf("a writer token without a tenant is in %q, want %q", tok.Tenant, api.DefaultTenant)
	}
	as{t, d.url, tok.Secret}.want("POST", "/v1/groups/web/instructions", `{"change_by":1}`, 201, nil)
}
