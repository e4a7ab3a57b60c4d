package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/cli/clitest"
)

// runCLI runs pesd's command line with no terminal and an empty stdin.
func runCLI(args ...string) (code int, stdout, stderr string) {
	return runCLIWith(strings.NewReader(""), false, args...)
}

func runCLIWith(stdin io.Reader, terminal bool, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	e := &env{stdin: stdin, terminal: terminal, stdout: &out, stderr: &errb}
	code = e.main(args)
	return code, out.String(), errb.String()
}

// instruct is pesd instruct args, with stdin and terminal.
func instruct(args []string, stdin io.Reader, terminal bool, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, terminal: terminal, stdout: stdout, stderr: stderr}
	return e.main(append([]string{"instruct"}, args...))
}

func TestCLI(t *testing.T) {
	f := clitest.NewAPI()
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	t.Setenv("PES_ENDPOINT", srv.URL)
	t.Setenv("PES_TOKEN", clitest.Token)

	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantCode   int
		wantOut    []string // substrings of stdout
		notOut     []string
		wantErr    []string // substrings of stderr
		wantJSONOf any      // when set, stdout decodes into a value of this type
		wantSent   []string // substrings of the requests sent ("GET /v1/...?...")
		notSent    []string
	}{
		{name: "groups table follows pages", args: []string{"groups"}, wantOut: []string{"NAME", "web", "batch", "g-sim"}},
		{name: "groups wide", args: []string{"groups", "-o", "wide"}, wantOut: []string{"AGGREGATION", "CREATED", "NEXT HARMONIZATION", "g-web"}},
		{name: "replicas", args: []string{"replicas"},
			wantOut: []string{"REPLICA", "LIVE", "SHARDS", "pes-a (this)", "10.0.0.1:7400", "0,1,home", "3,1,1", "2026-01-02T10:00:09Z",
				"pes-c", "no", "4 shards, leases of 10s; unowned: 3"}},
		{name: "replicas json", args: []string{"replicas", "-o", "json"}, wantOut: []string{`"id": "pes-b"`, `"lease_ttl": "10s"`},
			wantJSONOf: api.ReplicaList{}, wantSent: []string{"GET /v1/replicas"}},
		{name: "groups json", args: []string{"groups", "-o", "json"}, wantOut: []string{`"name": "web"`, `"name": "batch"`}, wantJSONOf: []api.Group{}},
		// The index is in the name (web-1.2: index 1, held before); -o
		// wide has it in a column of its own.
		{name: "nodes by group name", args: []string{"nodes", "--group", "web"},
			wantOut: []string{"NAME", "ID", "STATE", "READY", "PORT/PID", "REASON", "web-0", "n-1", "ready", "2026-01-02T10:00:00Z", "8001/4242",
				"web-1.2", "n-2", "init_failed", "not ready within 10m"},
			notOut: []string{"pid=", "n-1.log", "1767348000", "HANDLE", "-/-", "INDEX"}},
		{name: "nodes wide", args: []string{"nodes", "--group", "web", "-o", "wide"},
			wantOut: []string{"NAME", "INDEX", "LAUNCHED", "CHANGE", "web-1.2", "n-2"}},
		{name: "changes table leaves the parts to -o wide", args: []string{"changes", "--group", "web"},
			wantOut: []string{"LABEL", "STATUS", "DESCRIPTION", "add 3 nodes"}, notOut: []string{"PARTS", "2@10:00:02"}},
		{name: "changes wide", args: []string{"changes", "--group", "web", "-o", "wide"},
			wantOut: []string{"TYPE", "AMOUNT", "QUANTITY", "PARTS", "2@10:00:02,1@10:00:03", "0 → 3"}},
		{name: "nodes json keep the handle", args: []string{"nodes", "--group", "web", "-o", "json"},
			wantOut: []string{`"log": "/var/lib/pes/nodes/n-1.log"`, `"start_time": "1767348000"`}, wantJSONOf: []api.Node{}},
		{name: "nodes need a group", args: []string{"nodes"}, wantCode: 2, wantErr: []string{"--group: required"}},
		// The description says what happened and who did it; -o wide
		// has the type and the source in columns of their own.
		{name: "events table", args: []string{"events", "--group", "g-web"}, wantOut: []string{"E1", "E2", "E3", "node n-2 became unavailable"},
			notOut: []string{"TYPE", "SOURCE", "user:alice"}},
		{name: "events wide", args: []string{"events", "--group", "g-web", "-o", "wide"}, wantOut: []string{"E1", "E2", "E3", "node_unavailable", "system", "user:alice", "PROPOSED"}},
		{name: "events by type", args: []string{"events", "--group", "g-web", "--type", "node_unavailable"}, wantOut: []string{"E2"}, notOut: []string{"E1 ", "E3 "}},
		{name: "events since a time", args: []string{"events", "--group", "g-web", "--since", "2026-01-02T10:00:30Z", "-o", "json"}, wantOut: []string{`"label": "E2"`}, notOut: []string{`"label": "E1"`}, wantJSONOf: []api.Event{}},
		{name: "a bad time is told before connecting", args: []string{"changes", "--group", "web", "--until", "soon", "--endpoint", "http://127.0.0.1:1", "--timeout", "2s"},
			wantCode: 2, wantErr: []string{"--until", "RFC 3339"}},
		{name: "events bad since", args: []string{"events", "--group", "g-web", "--since", "yesterday"}, wantCode: 2, wantErr: []string{"--since", "RFC 3339"}},
		{name: "changes json", args: []string{"changes", "--group", "g-web", "-o", "json"}, wantOut: []string{`"label": "C1"`, `"label": "C3"`, `"type": "node_lost"`}, wantJSONOf: []api.Change{}},
		{name: "changes with causes", args: []string{"changes", "--group", "web", "--causes"},
			wantOut: []string{"CAUSES", "DESCRIPTION", "E1", "E3", "Change C1 was directly caused by event E1.", "Change C3 was directly caused by event E3."}},
		{name: "changes with causes json", args: []string{"changes", "--group", "web", "--causes", "--type", "add_nodes", "-o", "json"},
			wantOut: []string{`"label": "C1"`, `"causes": [`, `"explanation": "Change C3 was directly caused by event E3."`},
			notOut:  []string{`"label": "C2"`}, wantJSONOf: []api.ChangeDetail{}},
		{name: "events with effects", args: []string{"events", "--group", "g-web", "--effects"},
			wantOut: []string{"EFFECTS", "C2", "Event E1 caused 1 change(s)."}},
		{name: "events with effects json", args: []string{"events", "--group", "g-web", "--effects", "-o", "json"},
			wantOut: []string{`"effects": [`, `"explanation": "Event E2 caused 1 change(s)."`}, wantJSONOf: []api.EventDetail{}},
		// A label goes to the API as it is: no list of the group's events
		// to find it.
		{name: "changes caused by a label", args: []string{"changes", "--group", "web", "--caused-by", "E2"}, wantOut: []string{"C2", "node n-2 lost"}, notOut: []string{"C1 ", "C3 "},
			wantSent: []string{"/v1/groups/g-web/changes?caused_by=E2"}, notSent: []string{"/events"}},
		{name: "changes caused by an id", args: []string{"changes", "--group", "g-web", "--caused-by", "e-3", "--causes"}, wantOut: []string{"C3", "E3"}, notOut: []string{"C1 ", "C2 "},
			wantSent: []string{"caused_by=e-3", "include=causes"}, notSent: []string{"/events"}},
		{name: "changes caused by an unknown label", args: []string{"changes", "--group", "g-web", "--caused-by", "E77"}, wantCode: 1,
			wantErr: []string{"group g-web has no event E77", "(field caused_by)", "HTTP 400"}, notSent: []string{"/events"}},
		{name: "periods", args: []string{"periods", "--group", "g-web"}, wantOut: []string{"H1", "largest", "3 → 3"}},
		// The fake serves costs two rows a page: every row is shown, once.
		{name: "costs table follows pages", args: []string{"costs", "--group", "web", "--by", "change"},
			wantOut:  []string{"NODE-HOURS", "C1", "C2", "C3", "add 1 node to replace n-2", "total", "3.00", "$0.75"},
			wantSent: []string{"GET /v1/groups/g-web/costs?by=change&limit=1000", "page_token=2"}},
		{name: "costs json follows pages", args: []string{"costs", "--group", "web", "--by", "change", "-o", "json"},
			wantOut: []string{`"key": "c-1"`, `"key": "c-3"`, `"total_cost": "0.75"`}, notOut: []string{"next_page_token"}, wantJSONOf: api.Costs{}},
		{name: "explain change by label", args: []string{"explain", "change", "C3", "--group", "g-web"}, wantOut: []string{"Change C3 was directly caused by event E3.", "causes:", "replacement_requested"}},
		{name: "explain change with parts", args: []string{"explain", "change", "C1", "--group", "g-web"}, wantOut: []string{"parts: 2@10:00:02,1@10:00:03"}},
		// Tables show ids shortened; explain takes them back.
		{name: "explain change by short id", args: []string{"explain", "change", "c-3", "--group", "web"}, wantOut: []string{"Change C3 was directly caused by event E3."}},
		{name: "explain event by short id", args: []string{"explain", "event", "e-2", "--group", "web"}, wantOut: []string{"Event E2 caused 1 change(s)."}},
		{name: "explain ambiguous short id", args: []string{"explain", "change", "c-", "--group", "web"}, wantCode: 2,
			wantErr: []string{"3 changes of group g-web have an id starting so; give more of it"}},
		{name: "explain unknown short id", args: []string{"explain", "event", "e-9", "--group", "web"}, wantCode: ExitNotFound,
			wantErr: []string{"no event of group g-web has an id starting e-9"}},
		{name: "explain change flags first", args: []string{"explain", "--group", "web", "change", "c2"}, wantOut: []string{"Change C2 was directly caused by event E2."}},
		{name: "explain change by id json", args: []string{"explain", "change", "c-1", "-o", "json"}, wantOut: []string{`"explanation": "Change C1 was directly caused by event E1."`, `"causes"`}, wantJSONOf: api.ChangeDetail{}},
		{name: "explain event", args: []string{"explain", "event", "E2", "--group", "g-web"}, wantOut: []string{"Event E2 caused 1 change(s).", "effects:", "C2"}},
		{name: "explain label needs a group", args: []string{"explain", "change", "C1"}, wantCode: 2, wantErr: []string{"--group: required to find change C1"}},
		{name: "explain unknown label", args: []string{"explain", "change", "C99", "--group", "g-web"}, wantCode: ExitNotFound, wantErr: []string{"no change labelled C99"}},
		{name: "explain unknown kind", args: []string{"explain", "period", "H1", "--group", "g-web"}, wantCode: 2, wantErr: []string{"explain: want 'change"}},
		{name: "bad group id", args: []string{"changes", "--group", "nope"}, wantCode: ExitNotFound, wantErr: []string{"group nope not found", "not_found", "HTTP 404"}},
		{name: "harmonize", args: []string{"harmonize", "--group", "g-web"}, wantOut: []string{"period H1: desired 3 → 3", "(period p-1)"}},
		{name: "instruct change by", args: []string{"instruct", "--group", "g-web", "--change-by", "-2", "--reason", "night", "--in-reply-to", "E5"}, wantOut: []string{"E9", "aggregated", "user instruction"}},
		{name: "instruct field error", args: []string{"instruct", "--group", "g-web", "--set-to", "50"}, wantCode: 1, wantErr: []string{"must be at most max_quantity 10", "(field set_to)", "HTTP 400"}},
		{name: "instruct needs one form", args: []string{"instruct", "--group", "g-web", "--set-to", "5", "--change-by", "1"}, wantCode: 2, wantErr: []string{"exactly one of"}},
		{name: "instruct bad number", args: []string{"instruct", "--group", "g-web", "--set-to", "five"}, wantCode: 2, wantErr: []string{"--set-to: want a whole number"}},
		{name: "push", args: []string{"push", "--group", "g-web", "queue_depth=12", "latency_ms=3.5"}, wantOut: []string{"accepted 2 sample(s)"}},
		{name: "push bad sample", args: []string{"push", "--group", "g-web", "queue_depth"}, wantCode: 2, wantErr: []string{"want name=value"}},
		{name: "forecast", args: []string{"forecast", "--group", "g-web"}, wantOut: []string{"mode off, not ready: predictive governing is off"}},
		{name: "wrong token", args: []string{"groups", "--token", "wrong"}, wantCode: 1, wantErr: []string{"missing or wrong bearer token", "HTTP 401"}},
		{name: "no token", args: []string{"groups"}, env: map[string]string{"PES_TOKEN": ""}, wantCode: 2, wantErr: []string{"--token: required"}},
		{name: "endpoint down", args: []string{"groups", "--endpoint", "http://127.0.0.1:1", "--timeout", "2s"}, wantCode: 1, wantErr: []string{"pesd: error:"}},
		{name: "bad output", args: []string{"groups", "-o", "xml"}, wantCode: 2, wantErr: []string{"-o: must be table, wide, json or yaml"}},
		{name: "unknown flag", args: []string{"groups", "--bogus"}, wantCode: 2, wantErr: []string{"pesd groups: unknown flag: --bogus", "pesd groups --help"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			f.Mu.Lock()
			f.Sent = nil
			f.Mu.Unlock()
			code, out, errOut := runCLI(tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errOut)
			}
			f.Mu.Lock()
			sent := strings.Join(f.Sent, "\n")
			f.Mu.Unlock()
			for _, s := range tt.wantSent {
				if !strings.Contains(sent, s) {
					t.Errorf("no request with %q in:\n%s", s, sent)
				}
			}
			for _, s := range tt.notSent {
				if strings.Contains(sent, s) {
					t.Errorf("a request with %q in:\n%s", s, sent)
				}
			}
			checkOutput(t, out, errOut, tt.wantOut, tt.notOut, tt.wantErr)
			if tt.wantCode != 0 && out != "" && tt.wantErr != nil && !strings.Contains(out, "usage") {
				t.Errorf("a failing command wrote to stdout:\n%s", out)
			}
			if tt.wantJSONOf != nil {
				v := reflect.New(reflect.TypeOf(tt.wantJSONOf)).Interface()
				if err := json.Unmarshal([]byte(out), v); err != nil {
					t.Errorf("-o json output does not decode: %v\n%s", err, out)
				}
			}
		})
	}

	// What the commands sent.
	f.Mu.Lock()
	defer f.Mu.Unlock()
	if len(f.Instructions) != 1 || f.Instructions[0].ChangeBy == nil || *f.Instructions[0].ChangeBy != -2 || f.Instructions[0].Reason != "night" ||
		f.Instructions[0].InReplyTo != "E5" {
		t.Errorf("instructions received: %+v", f.Instructions)
	}
	if len(f.Samples) != 2 || f.Samples[0].Name != "queue_depth" || f.Samples[0].Value != 12 || f.Samples[1].Value != 3.5 {
		t.Errorf("samples received: %+v", f.Samples)
	}
}

// TestTableAligned checks that table output is aligned in columns.
func TestTableAligned(t *testing.T) {
	var b bytes.Buffer
	tb := &table{w: &b}
	tb.row("A", "LONGER HEADER", "C")
	tb.row("value-one", "x", "tab\tin cell")
	if err := tb.flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("lines %q", lines)
	}
	if i, j := strings.Index(lines[0], "LONGER"), strings.Index(lines[1], "x"); i != j {
		t.Errorf("column 2 starts at %d and %d:\n%s", i, j, b.String())
	}
	if strings.Contains(b.String(), "\t") {
		t.Errorf("a tab leaked into the output: %q", b.String())
	}
}

// TestTableFits: by default a table fits 120 columns, its last column cut
// with "…", and shows ids as their shortest unambiguous prefix (at least
// 8 characters); -o wide shows every id and cell whole.
func TestTableFits(t *testing.T) {
	ids := []string{
		"019af0c2-7d31-7a10-8000-000000000001", // shares 27 characters with the next
		"019af0c2-7d31-7a10-8000-000000000002",
		"019af0c2-7d31-7b55-9000-000000000003", // shares 16 with the others
		"02aa0000-0000-7000-8000-000000000004", // shares 1
	}
	long := strings.TrimSpace(strings.Repeat("a long description ", 12))
	render := func(wide bool) []string {
		var b bytes.Buffer
		tb := &table{w: &b, wide: wide}
		id := tb.ids(ids...)
		tb.row("LABEL", "TIME", "ID", "DESCRIPTION")
		for i, x := range ids {
			tb.row(fmt.Sprintf("C%d", i+1), "2026-01-02T10:00:00Z", id(x), long)
		}
		tb.line("a free line is not cut: %s", long)
		if err := tb.flush(); err != nil {
			t.Fatal(err)
		}
		return strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	}

	lines := render(false)
	wantIDs := []string{"019af0c2-7d31-7a10-8000-000000000001", "019af0c2-7d31-7a10-8000-000000000002", "019af0c2-7d31-7b", "02aa0000"}
	for i, line := range lines[:len(lines)-1] {
		if n := utf8.RuneCountInString(line); n > tableWidth {
			t.Errorf("line %d is %d columns wide:\n%s", i, n, line)
		}
		if i == 0 {
			continue
		}
		if !strings.HasSuffix(line, "…") {
			t.Errorf("line %d: the description is not cut: %s", i, line)
		}
		if f := strings.Fields(line); f[2] != wantIDs[i-1] {
			t.Errorf("line %d: id %q, want %q", i, f[2], wantIDs[i-1])
		}
	}
	if last := lines[len(lines)-1]; !strings.HasSuffix(last, long) {
		t.Errorf("the free line was cut: %s", last)
	}

	for i, line := range render(true)[1:5] {
		if !strings.Contains(line, ids[i]) || !strings.HasSuffix(line, long) {
			t.Errorf("wide line %d lacks the whole id or description: %s", i, line)
		}
	}
}

// TestParseTime: what parseTime adds to api.ParseTimeOrAgo (tested
// there): an empty flag is no time, and a bad one's error names its flag.
func TestParseTime(t *testing.T) {
	now := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)
	if got, err := parseTime("since", "", now); err != nil || !got.IsZero() {
		t.Errorf("parseTime(\"\") = %v, %v; want no time", got, err)
	}
	if got, err := parseTime("since", "90m", now); err != nil || !got.Equal(now.Add(-90*time.Minute)) {
		t.Errorf("parseTime(90m) = %v, %v; want %v", got, err, now.Add(-90*time.Minute))
	}
	if _, err := parseTime("until", "tuesday", now); err == nil || !strings.HasPrefix(err.Error(), "--until: want an RFC 3339 time") {
		t.Errorf("parseTime(tuesday) error %v; want one naming --until", err)
	}
}

// checkOutput fails t for each string of wantOut stdout lacks, of notOut
// it has, and of wantErr stderr lacks.
func checkOutput(t *testing.T, out, errOut string, wantOut, notOut, wantErr []string) {
	t.Helper()
	for _, s := range wantOut {
		if !strings.Contains(out, s) {
			t.Errorf("stdout lacks %q:\n%s", s, out)
		}
	}
	for _, s := range notOut {
		if strings.Contains(out, s) {
			t.Errorf("stdout has %q:\n%s", s, out)
		}
	}
	for _, s := range wantErr {
		if !strings.Contains(errOut, s) {
			t.Errorf("stderr lacks %q:\n%s", s, errOut)
		}
	}
}
