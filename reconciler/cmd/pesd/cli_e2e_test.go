package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/cli"
)

// pesdExit runs the pesd binary as a client of d (stdin from stdin, not a
// terminal) and returns its exit code and output, whatever they are.
func pesdExit(t *testing.T, d *pesdProc, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(pesdBin, args...)
	cmd.Env = append(os.Environ(), "PES_ENDPOINT="+d.url, "PES_TOKEN="+d.token, "USER=carol")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("pesd %s: %v", strings.Join(args, " "), err)
	}
	return code, out.String(), errb.String()
}

// TestE2ECLIManage runs the pesd binary against a real pesd: a group
// created from a JSON file and read back as YAML, a target-tracking
// trigger created from YAML on stdin whose last observed value the
// trigger list shows after a push, the completion scripts, and the exit
// codes: 0 ok, 1 error, 2 usage, 3 not found.
func TestE2ECLIManage(t *testing.T) {
	needE2E(t)
	d := startDaemon(t, t.TempDir(), "cli-token")
	dir := t.TempDir()
	group := filepath.Join(dir, "group.json")
	if err := os.WriteFile(group, []byte(`{"name": "shop", "driver": "sim", "program": {"command": "w"},
		"desired_quantity": 2, "max_quantity": 6, "labels": {"team": "web"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	expect := func(wantCode int, stdin string, args ...string) (string, string) {
		t.Helper()
		code, out, errOut := pesdExit(t, d, stdin, args...)
		if code != wantCode {
			t.Fatalf("pesd %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, wantCode, out, errOut)
		}
		return out, errOut
	}

	out, _ := expect(cli.ExitOK, "", "groups", "create", "-f", group)
	if !strings.Contains(out, "shop") || !strings.Contains(out, "sim") {
		t.Errorf("groups create: %s", out)
	}
	out, _ = expect(cli.ExitOK, "", "groups", "get", "shop", "-o", "yaml")
	var g api.Group
	if err := yaml.UnmarshalStrict([]byte(out), &g); err != nil || g.Name != "shop" || g.DesiredQuantity != 2 || g.Labels["team"] != "web" {
		t.Errorf("groups get -o yaml: %v\n%s", err, out)
	}
	if !strings.Contains(out, "name: shop\n") || !strings.Contains(out, "desired_quantity: 2\n") {
		t.Errorf("groups get -o yaml is not YAML with the API's names:\n%s", out)
	}

	_, errOut := expect(cli.ExitOK, "name: keep-cpu\ntarget:\n  metric: cpu_utilization\n  value: 60\n",
		"triggers", "create", "--group", "shop", "-f", "-")
	if !strings.Contains(errOut, "warning: metric cpu_utilization has never been seen") {
		t.Errorf("triggers create: no warning about the unseen metric:\n%s", errOut)
	}
	expect(cli.ExitOK, "", "push", "--group", "shop", "cpu_utilization=84.5")
	out, _ = expect(cli.ExitOK, "", "triggers", "--group", "shop")
	for _, want := range []string{"TARGET", "OBSERVED", "keep-cpu", "cpu_utilization 60 ±10%", "84.5"} {
		if !strings.Contains(out, want) {
			t.Errorf("triggers lacks %q:\n%s", want, out)
		}
	}
	out, _ = expect(cli.ExitOK, "", "triggers", "list", "--group", "shop", "-o", "json")
	var ts []api.Trigger
	if err := json.Unmarshal([]byte(out), &ts); err != nil || len(ts) != 1 || len(ts[0].Observed) != 1 ||
		ts[0].Observed[0].Value != 84.5 || ts[0].Observed[0].Window != api.DefaultTargetWindow {
		t.Errorf("triggers -o json: %v\n%s", err, out)
	}

	for _, shell := range []string{"bash", "zsh", "fish"} {
		if out, _ := expect(cli.ExitOK, "", "completion", shell); !strings.Contains(out, "pesd") {
			t.Errorf("completion %s: %s", shell, out)
		}
	}

	// Exit codes.
	expect(cli.ExitNotFound, "", "groups", "get", "nope")
	expect(cli.ExitNotFound, "", "triggers", "delete", "nope", "--group", "shop")
	expect(cli.ExitUsage, "", "groups", "get")
	_, errOut = expect(cli.ExitUsage, "", "groups", "list", "--bogus")
	if !strings.Contains(errOut, "unknown flag: --bogus") {
		t.Errorf("--bogus: %s", errOut)
	}
	_, errOut = expect(cli.ExitUsage, "", "groups", "delete", "shop")
	if !strings.Contains(errOut, "pass --yes") {
		t.Errorf("groups delete without a terminal: %s", errOut)
	}
	expect(cli.ExitError, "", "groups", "create", "-f", filepath.Join(dir, "missing.json"))
	expect(cli.ExitError, "", "groups", "list", "--endpoint", "http://127.0.0.1:1", "--timeout", "2s")

	expect(cli.ExitOK, "", "triggers", "delete", "keep-cpu", "--group", "shop")
	out, _ = expect(cli.ExitOK, "", "groups", "delete", "shop", "--yes")
	if !strings.Contains(out, "group shop deleted") {
		t.Errorf("groups delete: %s", out)
	}
	_, errOut = expect(cli.ExitNotFound, "", "groups", "get", "shop")
	if !strings.Contains(errOut, "group shop was deleted at") {
		t.Errorf("a deleted group: %s", errOut)
	}
	out, _ = expect(cli.ExitOK, "", "events", "--group", "shop", "--all", "--type", api.EventGroupDeleted)
	if !strings.Contains(out, "carol") {
		t.Errorf("the delete is not by the user:\n%s", out)
	}
}
