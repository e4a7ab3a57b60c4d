package cli

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/cli/clitest"
)

// TestManage: groups create|get|delete and triggers list|create|get|delete
// against the fake API, in every output format, with their exit codes:
// 0 ok, 1 error, 2 usage, 3 not found.
func TestManage(t *testing.T) {
	f := clitest.NewAPI()
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	t.Setenv("PES_ENDPOINT", srv.URL)
	t.Setenv("PES_TOKEN", clitest.Token)
	t.Setenv("USER", "alice")

	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	groupJSON := write("group.json", `{"name": "api", "driver": "sim", "desired_quantity": 2, "max_quantity": 8}`)
	groupYAML := write("group.yaml", "name: queue\ndriver: sim\ndesired_quantity: 1\nmax_quantity: 4\nlabels:\n  team: data\n")
	typo := write("typo.yaml", "name: typo\ndriver: sim\ndesired: 3\n")
	badYAML := write("bad.yaml", "name: [unclosed\n")
	noName := write("noname.json", `{"driver": "sim"}`)
	targetYAML := write("target.yaml", "name: keep-rps\ntarget:\n  metric: cpu_utilisation\n  value: 60\n")

	tests := []struct {
		name     string
		args     []string
		stdin    string
		terminal bool
		wantCode int
		wantOut  []string
		notOut   []string
		wantErr  []string
		decode   any // stdout decodes (JSON or YAML by -o) into a value of this type
	}{
		{name: "create from JSON", args: []string{"groups", "create", "-f", groupJSON}, wantOut: []string{"NAME", "api", "sim"}},
		{name: "create from YAML, -o yaml", args: []string{"groups", "create", "-f", groupYAML, "-o", "yaml"},
			wantOut: []string{"name: queue", "team: data", "max_quantity: 4"}, decode: &api.Group{}},
		{name: "create from stdin, -o json", args: []string{"groups", "create", "-f", "-", "-o", "json"},
			stdin: `{"name": "stdin", "driver": "sim"}`, wantOut: []string{`"name": "stdin"`}, decode: &api.Group{}},
		{name: "create: an unknown field is named", args: []string{"groups", "create", "-f", typo}, wantCode: ExitError,
			wantErr: []string{"typo.yaml", `unknown field "desired"`}},
		{name: "create: bad YAML", args: []string{"groups", "create", "-f", badYAML}, wantCode: ExitError, wantErr: []string{"bad.yaml"}},
		{name: "create: the API's refusal names the field", args: []string{"groups", "create", "-f", noName}, wantCode: ExitError,
			wantErr: []string{"(field name)", "HTTP 400"}},
		{name: "create: missing file", args: []string{"groups", "create", "-f", filepath.Join(dir, "nope.json")}, wantCode: ExitError,
			wantErr: []string{"nope.json"}},
		{name: "create without -f", args: []string{"groups", "create"}, wantCode: ExitUsage, wantErr: []string{"-f: required"}},
		{name: "create: extra argument", args: []string{"groups", "create", "-f", groupJSON, "web"}, wantCode: ExitUsage,
			wantErr: []string{`unexpected argument "web"`}},
		{name: "get by name", args: []string{"groups", "get", "web"}, wantOut: []string{"g-web", "web", "local"}, notOut: []string{"batch"}},
		{name: "get by id, -o yaml", args: []string{"groups", "get", "g-sim", "-o", "yaml"}, wantOut: []string{"name: batch", "id: g-sim"}, decode: &api.Group{}},
		{name: "get -o wide", args: []string{"groups", "get", "web", "-o", "wide"}, wantOut: []string{"AGGREGATION", "CREATED"}},
		{name: "get: not found", args: []string{"groups", "get", "nope"}, wantCode: ExitNotFound, wantErr: []string{"group nope not found", "HTTP 404"}},
		{name: "get: no name", args: []string{"groups", "get"}, wantCode: ExitUsage, wantErr: []string{"want one group (its name or ID)"}},
		{name: "list", args: []string{"groups", "list", "-o", "json"}, wantOut: []string{`"name": "api"`, `"name": "queue"`}, decode: &[]api.Group{}},
		{name: "delete without a terminal", args: []string{"groups", "delete", "api"}, wantCode: ExitUsage,
			wantErr: []string{"groups delete: this deletes group api and terminates its 0 node(s); its history is kept; stdin is not a terminal to confirm it, so pass --yes to go ahead"}},
		{name: "delete declined", args: []string{"groups", "delete", "api"}, terminal: true, stdin: "n\n", wantCode: ExitError,
			wantErr: []string{"Go ahead? [y/N]", "not confirmed; nothing was sent"}},
		{name: "delete confirmed", args: []string{"groups", "delete", "api"}, terminal: true, stdin: "y\n",
			wantOut: []string{"group api deleted; its history is kept under id g-api (pesd groups --all)"}},
		{name: "delete --yes -o yaml", args: []string{"groups", "delete", "queue", "--yes", "-o", "yaml"},
			wantOut: []string{"status: deleted", "deleted_at:"}, decode: &api.Group{}},
		{name: "delete: not found", args: []string{"groups", "delete", "queue", "--yes"}, wantCode: ExitNotFound,
			wantErr: []string{"group queue was deleted at"}},

		{name: "triggers: target and observed", args: []string{"triggers", "--group", "web"},
			wantOut: []string{"NAME", "REQUEST", "TARGET", "OBSERVED", "WHEN",
				"cpu-high", "change_by +4", " 84.2 ", "avg(cpu_utilization, '2m') > 80 for 1m",
				"keep-cpu", "target", "cpu_utilization 60 ±10% ", " 71.5 "},
			notOut: []string{"PRIORITY", "…"}},
		{name: "triggers list -o wide", args: []string{"triggers", "list", "--group", "g-web", "-o", "wide"},
			wantOut: []string{"PRIORITY", "IMMEDIATE", "t-1", "t-2", "cpu_utilization 60 ±10% over 1m",
				"cpu_utilization 84.2 at 2026-01-02T10:05:00Z", "cpu_utilization 71.5 (mean 1m) at 2026-01-02T10:05:00Z"}},
		{name: "triggers list -o yaml", args: []string{"triggers", "list", "--group", "web", "-o", "yaml"},
			wantOut: []string{"condition: avg(cpu_utilization, '2m') > 80", "observed:", "value: 71.5", "window: 1m"}, decode: &[]api.Trigger{}},
		{name: "triggers of another group", args: []string{"triggers", "--group", "batch", "-o", "json"}, wantOut: []string{"[]"}, notOut: []string{"cpu-high"}},
		{name: "triggers need a group", args: []string{"triggers", "list"}, wantCode: ExitUsage, wantErr: []string{"--group: required"}},
		{name: "triggers of an unknown group", args: []string{"triggers", "--group", "nope"}, wantCode: ExitNotFound, wantErr: []string{"HTTP 404"}},
		{name: "trigger create warns", args: []string{"triggers", "create", "--group", "web", "-f", targetYAML},
			wantOut: []string{"keep-rps", "target", "cpu_utilisation 60"},
			wantErr: []string{"pesd: warning: metric cpu_utilisation has never been seen for this group; known: cpu_utilization"}},
		{name: "trigger create: stdin JSON", args: []string{"triggers", "create", "--group", "web", "-f", "-", "-o", "json"},
			stdin: `{"name": "q", "condition": "queue_depth > 100", "set_to": 5}`, wantOut: []string{`"name": "q"`, `"set_to": 5`}, decode: &api.Trigger{}},
		{name: "trigger get by name", args: []string{"triggers", "get", "keep-cpu", "--group", "web"}, wantOut: []string{"keep-cpu", "cpu_utilization 60"}},
		{name: "trigger get by id", args: []string{"triggers", "get", "t-1", "-o", "json"}, wantOut: []string{`"name": "cpu-high"`}, decode: &api.Trigger{}},
		{name: "trigger get: not found", args: []string{"triggers", "get", "nope", "--group", "web"}, wantCode: ExitNotFound, wantErr: []string{"trigger nope not found"}},
		{name: "trigger delete", args: []string{"triggers", "delete", "q", "--group", "web"}, wantOut: []string{"trigger q (t-q) deleted"}},
		{name: "trigger delete again", args: []string{"triggers", "delete", "q", "--group", "web"}, wantCode: ExitNotFound, wantErr: []string{"HTTP 404"}},

		// Bad flags name the flag: exit 2.
		{name: "unknown flag", args: []string{"triggers", "list", "--bogus"}, wantCode: ExitUsage, wantErr: []string{"pesd triggers list: unknown flag: --bogus"}},
		{name: "unknown shorthand", args: []string{"groups", "get", "web", "-x"}, wantCode: ExitUsage, wantErr: []string{"unknown shorthand flag: 'x' in -x"}},
		{name: "bad duration", args: []string{"groups", "--timeout", "soon"}, wantCode: ExitUsage, wantErr: []string{`invalid argument "soon" for "--timeout"`}},
		{name: "bad int", args: []string{"run", "--group", "web", "--input-lines", "x", "--max-parallel", "many"}, wantCode: ExitUsage,
			wantErr: []string{`invalid argument "many" for "--max-parallel"`}},
		{name: "flag needs a value", args: []string{"groups", "get", "web", "-o"}, wantCode: ExitUsage, wantErr: []string{"flag needs an argument: 'o' in -o"}},
		{name: "bad output", args: []string{"triggers", "--group", "web", "-o", "xml"}, wantCode: ExitUsage, wantErr: []string{"-o: must be table, wide, json or yaml"}},
		{name: "unknown command", args: []string{"grups"}, wantCode: ExitUsage, wantErr: []string{`unknown command "grups"`, "usage: pesd"}},
		{name: "unexpected argument", args: []string{"groups", "extra"}, wantCode: ExitUsage, wantErr: []string{`unexpected argument "extra"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLIWith(strings.NewReader(tt.stdin), tt.terminal, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errOut)
			}
			checkOutput(t, out, errOut, tt.wantOut, tt.notOut, tt.wantErr)
			if tt.wantCode != ExitOK && out != "" {
				t.Errorf("a failing command wrote to stdout:\n%s", out)
			}
			if tt.decode != nil {
				var err error
				if strings.Contains(strings.Join(tt.args, " "), "-o yaml") {
					err = yaml.UnmarshalStrict([]byte(out), tt.decode)
				} else {
					err = json.Unmarshal([]byte(out), tt.decode)
				}
				if err != nil {
					t.Errorf("stdout does not decode: %v\n%s", err, out)
				}
			}
		})
	}

	f.Mu.Lock()
	defer f.Mu.Unlock()
	want := []string{"create api by alice", "create queue by alice", "create stdin by alice", "delete api by alice", "delete queue by alice"}
	if strings.Join(f.Actors, "; ") != strings.Join(want, "; ") {
		t.Errorf("the fake saw %q, want %q", f.Actors, want)
	}
}

// TestCompletion: pesd completion writes each shell's script, and the
// script's completions offer pesd's commands and -o's formats.
func TestCompletion(t *testing.T) {
	for shell, want := range map[string]string{
		"bash": "complete -o default -F __start_pesd pesd",
		"zsh":  "#compdef pesd",
		"fish": "complete -c pesd",
	} {
		code, out, errOut := runCLI("completion", shell)
		if code != ExitOK || !strings.Contains(out, want) {
			t.Errorf("completion %s: exit %d, stdout lacks %q\n%s", shell, code, want, errOut)
		}
	}
	code, _, errOut := runCLI("completion", "tcsh")
	if code != ExitUsage {
		t.Errorf("completion tcsh: exit %d, want %d\n%s", code, ExitUsage, errOut)
	}
	// What the scripts ask pesd for.
	code, out, _ := runCLI("__complete", "tri")
	if code != ExitOK || !strings.Contains(out, "triggers\t") {
		t.Errorf("completing 'tri': exit %d\n%s", code, out)
	}
	code, out, _ = runCLI("__complete", "groups", "get", "-o", "")
	if code != ExitOK || !strings.Contains(out, "table\nwide\njson\nyaml\n") {
		t.Errorf("completing -o: exit %d\n%s", code, out)
	}
}

// TestCompleteGroupNames: --group and groups get complete with the names
// of the groups pesd has.
func TestCompleteGroupNames(t *testing.T) {
	f := clitest.NewAPI()
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	t.Setenv("PES_ENDPOINT", srv.URL)
	t.Setenv("PES_TOKEN", clitest.Token)
	for _, args := range [][]string{{"__complete", "nodes", "--group", ""}, {"__complete", "groups", "get", ""}} {
		code, out, errOut := runCLI(args...)
		if code != ExitOK || !strings.HasPrefix(out, "web\nbatch\n") {
			t.Errorf("%s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
	}
}
