package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/cli/clitest"
)

// TestTokens: pesd tokens create prints the token once, alone on stdout;
// list never shows a secret; the token works for its role and not past
// it; revoke takes effect on the next command; the audit record says who
// did which.
func TestTokens(t *testing.T) {
	inProcessPesd(t)
	want := func(code int, stdout, stderr string, wantCode int, in ...string) {
		t.Helper()
		if code != wantCode {
			t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, wantCode, stdout, stderr)
		}
		for _, s := range in {
			if !strings.Contains(stdout+stderr, s) {
				t.Errorf("output lacks %q\nstdout: %s\nstderr: %s", s, stdout, stderr)
			}
		}
	}

	code, out, errOut := runCLI("tokens", "create", "--name", "terraform-ci", "--tenant", "payments", "--role", "writer", "--expires", "90d")
	want(code, out, errOut, ExitOK, "terraform-ci (writer in tenant payments, until ", "shown this once")
	secret := strings.TrimSpace(out)
	if !strings.HasPrefix(secret, "pes_") || strings.Contains(secret, "\n") {
		t.Fatalf("stdout %q: want the token alone", out)
	}

	code, out, errOut = runCLI("tokens", "list", "-o", "wide")
	want(code, out, errOut, ExitOK, "terraform-ci", "writer", "payments", "active", "admin")
	if strings.Contains(out, secret) {
		t.Error("tokens list shows the secret")
	}

	// The writer token: groups of its tenant, not token management.
	t.Setenv("PES_TOKEN", secret)
	code, out, errOut = runCLIWith(strings.NewReader(`{"name":"web","driver":"sim","desired_quantity":1}`), false,
		"groups", "create", "-f", "-", "-o", "json")
	want(code, out, errOut, ExitOK, `"tenant": "payments"`)
	code, out, errOut = runCLI("groups", "list", "-o", "json")
	want(code, out, errOut, ExitOK)
	code, out, errOut = runCLI("tokens", "list")
	want(code, out, errOut, ExitError, "HTTP 403", "principal terraform-ci (role writer)")

	t.Setenv("PES_TOKEN", "")
	code, out, errOut = runCLI("tokens", "revoke", "terraform-ci", "--token", clitest.Token)
	want(code, out, errOut, ExitOK, "revoked")
	code, out, errOut = runCLI("groups", "list", "--token", secret)
	want(code, out, errOut, ExitError, "HTTP 401", "invalid bearer token")

	code, out, errOut = runCLI("audit", "-o", "json", "--token", clitest.Token)
	want(code, out, errOut, ExitOK)
	var audit api.List[api.AuditEntry]
	if err := json.Unmarshal([]byte(out), &audit); err != nil {
		t.Fatalf("audit -o json: %v: %s", err, out)
	}
	if len(audit.Items) != 2 || audit.Items[0].Action != api.AuditTokenCreated || audit.Items[1].Action != api.AuditTokenRevoked ||
		audit.Items[1].Principal != "admin" || audit.Items[1].TokenName != "terraform-ci" {
		t.Errorf("audit %+v: want the creation then the revocation of terraform-ci by admin", audit.Items)
	}

	code, out, errOut = runCLI("tokens", "revoke", "--token", clitest.Token)
	want(code, out, errOut, ExitUsage, "want one token")
	code, out, errOut = runCLI("tokens", "create", "--name", "x", "--role", "owner", "--token", clitest.Token)
	want(code, out, errOut, ExitError, "(field role)", "HTTP 400")
}
