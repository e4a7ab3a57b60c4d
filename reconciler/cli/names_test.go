package cli

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/cli/clitest"
)

// TestGroupNames: --group sends the name as typed and lets pesd resolve
// it (no listing of groups); a deleted group's name fails (not found: exit 3) with pesd's
// message saying where its history is, and --all reaches that history.
func TestGroupNames(t *testing.T) {
	f := clitest.NewAPI()
	deletedAt := time.Date(2026, 1, 3, 9, 30, 0, 0, time.UTC)
	f.Groups = append(f.Groups, api.Group{ID: "g-old", GroupConfig: api.GroupConfig{Name: "old", Driver: "sim"},
		Status: api.GroupDeleted, DeletedAt: &deletedAt})
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	t.Setenv("PES_ENDPOINT", srv.URL)
	t.Setenv("PES_TOKEN", clitest.Token)

	sent := func() string {
		f.Mu.Lock()
		defer f.Mu.Unlock()
		s := strings.Join(f.Sent, "\n")
		f.Sent = nil
		return s
	}

	code, out, errOut := runCLI("changes", "--group", "web")
	if s := sent(); code != 0 || !strings.Contains(out, "C1") || !strings.Contains(s, "GET /v1/groups/web\n") ||
		strings.Contains(s, "GET /v1/groups?") {
		t.Errorf("changes --group web: exit %d\n%s%s\nsent:\n%s", code, out, errOut, s)
	}

	const want = "group old was deleted at 2026-01-03T09:30:00Z; its history is under id g-old (pesd groups --all)"
	for _, args := range [][]string{
		{"changes", "--group", "old"},
		{"events", "--group", "old"},
		{"periods", "--group", "old"},
		{"explain", "change", "C1", "--group", "old"},
		{"instruct", "--group", "old", "--change-by", "1"},
	} {
		code, out, errOut := runCLI(args...)
		if code != ExitNotFound || out != "" || !strings.Contains(errOut, want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 3 and %q", strings.Join(args, " "), code, out, errOut, want)
		}
		sent()
	}

	for _, args := range [][]string{
		{"changes", "--group", "old", "--all"},
		{"events", "--all", "--group", "old"},
		{"periods", "--group", "old", "--all"},
		{"nodes", "--group", "old", "--all"},
		{"explain", "change", "C1", "--group", "old", "--all"},
	} {
		code, out, errOut := runCLI(args...)
		s := sent()
		if code != 0 || out == "" || !strings.Contains(s, "GET /v1/groups/old?include_deleted=true") {
			t.Errorf("%s: exit %d\n%s%s\nsent:\n%s", strings.Join(args, " "), code, out, errOut, s)
		}
		if args[0] != "explain" && !strings.Contains(s, "/v1/groups/g-old/") {
			t.Errorf("%s: the history was not read by the deleted group's id:\n%s", strings.Join(args, " "), s)
		}
	}
}
