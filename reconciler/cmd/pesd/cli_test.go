package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

const testToken = "s3cret"

// fakeAPI is a small in-memory pesd answering the routes the CLI uses,
// with the real wire types and error envelope.
type fakeAPI struct {
	mu           sync.Mutex
	groups       []api.Group
	events       []api.Event
	changes      []api.Change
	periods      []api.Period
	nodes        []api.Node
	instructions []api.Instruction
	samples      []api.Sample
	sent         []string // "GET /v1/groups?limit=2" for every request
	pageSize     int
}

func newFakeAPI() *fakeAPI {
	t0 := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	three := 3
	f := &fakeAPI{pageSize: 2}
	f.groups = []api.Group{
		{ID: "g-web", GroupConfig: api.GroupConfig{Name: "web", Driver: "local", DesiredQuantity: 3, MaxQuantity: 10}, ActualQuantity: 3, OfficialQuantity: 3, Status: api.GroupActive, CurrentPeriodLabel: "H2"},
		{ID: "g-sim", GroupConfig: api.GroupConfig{Name: "batch", Driver: "sim", DesiredQuantity: 1, MaxQuantity: 5}, ActualQuantity: 0, Status: api.GroupActive},
	}
	f.events = []api.Event{
		{ID: "e-1", Label: "E1", GroupID: "g-web", Type: api.EventGroupCreated, Source: api.Source{Kind: api.SourceUser, Name: "alice"}, Time: t0, Status: api.EventApplied, ProposedQuantity: &three, NexusID: "x-1", Description: "group web created with 3 nodes"},
		{ID: "e-2", Label: "E2", GroupID: "g-web", Type: api.EventNodeUnavailable, Source: api.Source{Kind: api.SourceSystem}, Time: t0.Add(time.Minute), Status: api.EventApplied, NodeID: "n-2", NexusID: "x-2", Description: "node n-2 became unavailable: process exited"},
		{ID: "e-3", Label: "E3", GroupID: "g-web", Type: api.EventReplacementRequest, Source: api.Source{Kind: api.SourceSystem}, Time: t0.Add(time.Minute), Status: api.EventApplied, ParentChangeID: "c-2", NexusID: "x-3", Description: "replacement of node n-2 requested"},
	}
	f.changes = []api.Change{
		{ID: "c-1", Label: "C1", GroupID: "g-web", Type: api.ChangeAddNodes, Amount: 3, QuantityBefore: 0, QuantityAfter: 3, Status: api.ChangeCompleted, StartedAt: t0, Attribution: api.AttributionDirect, NexusID: "x-1", Description: "add 3 nodes"},
		{ID: "c-2", Label: "C2", GroupID: "g-web", Type: api.ChangeNodeLost, Amount: 1, QuantityBefore: 3, QuantityAfter: 2, Status: api.ChangeCompleted, StartedAt: t0.Add(time.Minute), Attribution: api.AttributionDirect, NexusID: "x-2", Description: "node n-2 lost"},
		{ID: "c-3", Label: "C3", GroupID: "g-web", Type: api.ChangeAddNodes, Amount: 1, QuantityBefore: 2, QuantityAfter: 3, Status: api.ChangeInProgress, StartedAt: t0.Add(time.Minute), Attribution: api.AttributionDirect, NexusID: "x-3", Description: "add 1 node to replace n-2"},
	}
	f.periods = []api.Period{
		{ID: "p-1", Label: "H1", GroupID: "g-web", StartedAt: t0, Harmonized: true, Policy: "largest", DesiredBefore: 3, DesiredAfter: 3, OfficialBefore: 3, OfficialAfter: 3, Actual: 3},
	}
	f.nodes = []api.Node{
		{ID: "n-1", GroupID: "g-web", Index: 0, State: api.NodeReady, LaunchedAt: t0, ReadyAt: &t0,
			Handle: map[string]string{"pid": "4242", "port": "8001", "log": "/var/lib/pes/nodes/n-1.log", "start_time": "1767348000"}},
		{ID: "n-2", GroupID: "g-web", Index: 1, State: api.NodeInitFailed, LaunchedAt: t0, StateReason: "not ready within 10m"},
	}
	return f
}

func (f *fakeAPI) explainChange(ch api.Change) api.ChangeDetail {
	causes := f.causes(ch)
	return api.ChangeDetail{Change: ch, Causes: causes,
		Explanation: "Change " + ch.Label + " was directly caused by event " + causes[0].Event.Label + "."}
}

func (f *fakeAPI) explainEvent(e api.Event) api.EventDetail {
	effects := []api.Effect{}
	for _, ch := range f.changes {
		if ch.NexusID == e.NexusID {
			effects = append(effects, api.Effect{Attribution: ch.Attribution, Change: ch})
		}
	}
	return api.EventDetail{Event: e, Effects: effects, Explanation: "Event " + e.Label + " caused " + strconv.Itoa(len(effects)) + " change(s)."}
}

// causes maps a change to the events of its nexus (one event per nexus
// here).
func (f *fakeAPI) causes(ch api.Change) []api.Cause {
	var out []api.Cause
	for _, e := range f.events {
		if e.NexusID == ch.NexusID {
			out = append(out, api.Cause{Attribution: ch.Attribution, Event: e})
		}
	}
	return out
}

// hasEvent reports whether group g has the event of id or label ref.
func (f *fakeAPI) hasEvent(g, ref string) bool {
	for _, e := range f.events {
		if e.GroupID == g && (e.ID == ref || strings.EqualFold(e.Label, ref)) {
			return true
		}
	}
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status int, code, msg, field string) {
	writeJSON(w, status, api.ErrorBody{Error: api.Error{Code: code, Message: msg, Field: field}})
}

// page serves items in pages of f.pageSize, so the CLI must follow tokens.
func page[T any](w http.ResponseWriter, r *http.Request, items []T, size int) {
	start, _ := strconv.Atoi(r.URL.Query().Get("page_token"))
	end := min(start+size, len(items))
	l := api.List[T]{Items: append([]T{}, items[start:end]...)}
	if end < len(items) {
		l.NextPageToken = strconv.Itoa(end)
	}
	writeJSON(w, 200, l)
}

func (f *fakeAPI) handler() http.Handler {
	mux := http.NewServeMux()
	group := func(w http.ResponseWriter, r *http.Request) (api.Group, bool) {
		for _, g := range f.groups {
			if g.ID == r.PathValue("id") {
				return g, true
			}
		}
		writeErr(w, 404, api.CodeNotFound, "group "+r.PathValue("id")+" not found", "")
		return api.Group{}, false
	}
	mux.HandleFunc("GET /v1/groups", func(w http.ResponseWriter, r *http.Request) { page(w, r, f.groups, f.pageSize) })
	mux.HandleFunc("GET /v1/groups/{id}", func(w http.ResponseWriter, r *http.Request) {
		if g, ok := group(w, r); ok {
			writeJSON(w, 200, g)
		}
	})
	mux.HandleFunc("GET /v1/groups/{id}/nodes", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := group(w, r); ok {
			page(w, r, f.nodes, f.pageSize)
		}
	})
	mux.HandleFunc("GET /v1/groups/{id}/events", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := group(w, r); !ok {
			return
		}
		var out []api.Event
		for _, e := range f.events {
			if typ := r.URL.Query().Get("type"); typ != "" && e.Type != typ {
				continue
			}
			if s := r.URL.Query().Get("since"); s != "" {
				since, err := time.Parse(time.RFC3339, s)
				if err != nil {
					writeErr(w, 400, api.CodeInvalid, "not an RFC 3339 time", "since")
					return
				}
				if e.Time.Before(since) {
					continue
				}
			}
			out = append(out, e)
		}
		switch r.URL.Query().Get("include") {
		case "":
			page(w, r, out, f.pageSize)
		case "effects":
			var ds []api.EventDetail
			for _, e := range out {
				ds = append(ds, f.explainEvent(e))
			}
			page(w, r, ds, f.pageSize)
		default:
			writeErr(w, 400, api.CodeInvalid, "this list can include only \"effects\"", "include")
		}
	})
	mux.HandleFunc("GET /v1/groups/{id}/changes", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := group(w, r); !ok {
			return
		}
		var out []api.Change
		for _, ch := range f.changes {
			if typ := r.URL.Query().Get("type"); typ != "" && ch.Type != typ {
				continue
			}
			if by := r.URL.Query().Get("caused_by"); by != "" {
				if !f.hasEvent(r.PathValue("id"), by) {
					writeErr(w, 400, api.CodeInvalid, "group "+r.PathValue("id")+" has no event "+by, "caused_by")
					return
				}
				found := false
				for _, c := range f.causes(ch) {
					found = found || c.Event.ID == by || strings.EqualFold(c.Event.Label, by) // pesd takes labels too
				}
				if !found {
					continue
				}
			}
			out = append(out, ch)
		}
		switch r.URL.Query().Get("include") {
		case "":
			page(w, r, out, f.pageSize)
		case "causes":
			var ds []api.ChangeDetail
			for _, ch := range out {
				ds = append(ds, f.explainChange(ch))
			}
			page(w, r, ds, f.pageSize)
		default:
			writeErr(w, 400, api.CodeInvalid, "this list can include only \"causes\"", "include")
		}
	})
	mux.HandleFunc("GET /v1/changes/{id}", func(w http.ResponseWriter, r *http.Request) {
		for _, ch := range f.changes {
			if ch.ID == r.PathValue("id") {
				writeJSON(w, 200, f.explainChange(ch))
				return
			}
		}
		writeErr(w, 404, api.CodeNotFound, "change "+r.PathValue("id")+" not found", "")
	})
	mux.HandleFunc("GET /v1/events/{id}", func(w http.ResponseWriter, r *http.Request) {
		for _, e := range f.events {
			if e.ID == r.PathValue("id") {
				writeJSON(w, 200, f.explainEvent(e))
				return
			}
		}
		writeErr(w, 404, api.CodeNotFound, "event not found", "")
	})
	mux.HandleFunc("GET /v1/groups/{id}/periods", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := group(w, r); ok {
			page(w, r, f.periods, f.pageSize)
		}
	})
	mux.HandleFunc("POST /v1/groups/{id}/harmonize", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := group(w, r); ok {
			p := f.periods[0]
			p.Summary = "period H1: desired 3 → 3, official 3 → 3, actual 3 at harmonization\n  changes: none"
			writeJSON(w, 200, p)
		}
	})
	mux.HandleFunc("POST /v1/groups/{id}/instructions", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := group(w, r); !ok {
			return
		}
		var in api.Instruction
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			writeErr(w, 400, api.CodeInvalid, err.Error(), "")
			return
		}
		if in.SetTo != nil && *in.SetTo > 10 {
			writeErr(w, 400, api.CodeInvalid, "must be at most max_quantity 10", "set_to")
			return
		}
		f.mu.Lock()
		f.instructions = append(f.instructions, in)
		f.mu.Unlock()
		writeJSON(w, 201, api.Event{ID: "e-9", Label: "E9", Type: api.EventUserInstruction, Status: api.EventAggregated, Request: &in.Request, Description: "user instruction"})
	})
	mux.HandleFunc("POST /v1/groups/{id}/metrics", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := group(w, r); !ok {
			return
		}
		var m api.MetricsRequest
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			writeErr(w, 400, api.CodeInvalid, err.Error(), "")
			return
		}
		f.mu.Lock()
		f.samples = append(f.samples, m.Samples...)
		f.mu.Unlock()
		writeJSON(w, 200, api.MetricsResponse{Accepted: len(m.Samples)})
	})
	mux.HandleFunc("GET /v1/groups/{id}/forecast", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := group(w, r); ok {
			writeJSON(w, 200, api.Forecast{GroupID: "g-web", Mode: "off", Ready: false, Reason: "predictive governing is off"})
		}
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.sent = append(f.sent, r.Method+" "+r.URL.RequestURI())
		f.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			writeErr(w, 401, api.CodeUnauthorized, "missing or wrong bearer token", "")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCLI(t *testing.T) {
	f := newFakeAPI()
	srv := httptest.NewServer(f.handler())
	t.Cleanup(srv.Close)
	t.Setenv("PES_ENDPOINT", srv.URL)
	t.Setenv("PES_TOKEN", testToken)

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
		{name: "groups json", args: []string{"groups", "-o", "json"}, wantOut: []string{`"name": "web"`, `"name": "batch"`}, wantJSONOf: []api.Group{}},
		{name: "nodes by group name", args: []string{"nodes", "--group", "web"},
			wantOut: []string{"ID", "INDEX", "STATE", "READY", "PORT/PID", "REASON", "n-1", "ready", "2026-01-02T10:00:00Z", "8001/4242",
				"n-2", "init_failed", "not ready within 10m"},
			notOut: []string{"pid=", "n-1.log", "1767348000", "HANDLE", "-/-"}},
		{name: "nodes json keep the handle", args: []string{"nodes", "--group", "web", "-o", "json"},
			wantOut: []string{`"log": "/var/lib/pes/nodes/n-1.log"`, `"start_time": "1767348000"`}, wantJSONOf: []api.Node{}},
		{name: "nodes need a group", args: []string{"nodes"}, wantCode: 2, wantErr: []string{"--group: required"}},
		{name: "events table", args: []string{"events", "--group", "g-web"}, wantOut: []string{"E1", "E2", "E3", "node_unavailable", "system", "user:alice"}},
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
		{name: "explain change by label", args: []string{"explain", "change", "C3", "--group", "g-web"}, wantOut: []string{"Change C3 was directly caused by event E3.", "causes:", "replacement_requested"}},
		{name: "explain change flags first", args: []string{"explain", "--group", "web", "change", "c2"}, wantOut: []string{"Change C2 was directly caused by event E2."}},
		{name: "explain change by id json", args: []string{"explain", "change", "c-1", "-o", "json"}, wantOut: []string{`"explanation": "Change C1 was directly caused by event E1."`, `"causes"`}, wantJSONOf: api.ChangeDetail{}},
		{name: "explain event", args: []string{"explain", "event", "E2", "--group", "g-web"}, wantOut: []string{"Event E2 caused 1 change(s).", "effects:", "C2"}},
		{name: "explain label needs a group", args: []string{"explain", "change", "C1"}, wantCode: 2, wantErr: []string{"--group: required to find change C1"}},
		{name: "explain unknown label", args: []string{"explain", "change", "C99", "--group", "g-web"}, wantCode: 1, wantErr: []string{"no change labelled C99"}},
		{name: "explain unknown kind", args: []string{"explain", "period", "H1", "--group", "g-web"}, wantCode: 2, wantErr: []string{"explain: want 'change"}},
		{name: "bad group id", args: []string{"changes", "--group", "nope"}, wantCode: 1, wantErr: []string{"group nope not found", "not_found", "HTTP 404"}},
		{name: "harmonize", args: []string{"harmonize", "--group", "g-web"}, wantOut: []string{"period H1: desired 3 → 3", "(period p-1)"}},
		{name: "instruct change by", args: []string{"instruct", "--group", "g-web", "--change-by", "-2", "--reason", "night"}, wantOut: []string{"E9", "user_instruction", "aggregated"}},
		{name: "instruct field error", args: []string{"instruct", "--group", "g-web", "--set-to", "50"}, wantCode: 1, wantErr: []string{"must be at most max_quantity 10", "(field set_to)", "HTTP 400"}},
		{name: "instruct needs one form", args: []string{"instruct", "--group", "g-web", "--set-to", "5", "--change-by", "1"}, wantCode: 2, wantErr: []string{"exactly one of"}},
		{name: "instruct bad number", args: []string{"instruct", "--group", "g-web", "--set-to", "five"}, wantCode: 2, wantErr: []string{"--set-to: want a whole number"}},
		{name: "push", args: []string{"push", "--group", "g-web", "queue_depth=12", "latency_ms=3.5"}, wantOut: []string{"accepted 2 sample(s)"}},
		{name: "push bad sample", args: []string{"push", "--group", "g-web", "queue_depth"}, wantCode: 2, wantErr: []string{"want name=value"}},
		{name: "forecast", args: []string{"forecast", "--group", "g-web"}, wantOut: []string{"mode off, not ready: predictive governing is off"}},
		{name: "wrong token", args: []string{"groups", "--token", "wrong"}, wantCode: 1, wantErr: []string{"missing or wrong bearer token", "HTTP 401"}},
		{name: "no token", args: []string{"groups"}, env: map[string]string{"PES_TOKEN": ""}, wantCode: 2, wantErr: []string{"--token: required"}},
		{name: "endpoint down", args: []string{"groups", "--endpoint", "http://127.0.0.1:1", "--timeout", "2s"}, wantCode: 1, wantErr: []string{"pesd: error:"}},
		{name: "bad output", args: []string{"groups", "-o", "yaml"}, wantCode: 2, wantErr: []string{"-o: must be table or json"}},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: 2, wantErr: []string{`unknown command "frobnicate"`, "explain"}},
		{name: "no command", args: nil, wantCode: 2, wantErr: []string{"usage: pesd"}},
		{name: "help", args: []string{"help"}, wantOut: []string{"usage: pesd", "serve"}},
		{name: "unknown flag", args: []string{"groups", "--bogus"}, wantCode: 2, wantErr: []string{"flag provided but not defined: -bogus"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			f.mu.Lock()
			f.sent = nil
			f.mu.Unlock()
			code, out, errOut := runCLI(tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errOut)
			}
			f.mu.Lock()
			sent := strings.Join(f.sent, "\n")
			f.mu.Unlock()
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
			for _, s := range tt.wantOut {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tt.notOut {
				if strings.Contains(out, s) {
					t.Errorf("stdout has %q:\n%s", s, out)
				}
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut)
				}
			}
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
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.instructions) != 1 || f.instructions[0].ChangeBy == nil || *f.instructions[0].ChangeBy != -2 || f.instructions[0].Reason != "night" {
		t.Errorf("instructions received: %+v", f.instructions)
	}
	if len(f.samples) != 2 || f.samples[0].Name != "queue_depth" || f.samples[0].Value != 12 || f.samples[1].Value != 3.5 {
		t.Errorf("samples received: %+v", f.samples)
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

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"", time.Time{}, false},
		{"2026-01-02T10:00:00Z", time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC), false},
		{"2026-01-02T11:00:00+01:00", time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC), false},
		{"90m", now.Add(-90 * time.Minute), false},
		{"1d", now.Add(-24 * time.Hour), false},
		{"tuesday", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := parseTime("since", tt.in, now)
		if (err != nil) != tt.wantErr || !got.Equal(tt.want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestServeFlags(t *testing.T) {
	t.Setenv("PES_TOKEN", "")
	tests := []struct {
		name    string
		args    []string
		env     string
		wantErr string
	}{
		{"no token", []string{"--data-dir", t.TempDir()}, "", "no API token: pass --token or set PES_TOKEN"},
		{"token from env", []string{"--listen", "127.0.0.1:0"}, "t", ""},
		{"bad listen", []string{"--token", "t", "--listen", "7400"}, "", "--listen"},
		{"bad interval", []string{"--token", "t", "--evaluation-interval", "soon"}, "", "--evaluation-interval"},
		{"zero retention", []string{"--token", "t", "--retention", "0s"}, "", "--retention"},
		{"retention in days", []string{"--token", "t", "--retention", "30d"}, "", ""},
		{"bad store", []string{"--token", "t", "--store", "mysql"}, "", "--store: want sqlite or postgres"},
		{"postgres needs dsn", []string{"--token", "t", "--store", "postgres"}, "", "--dsn: required"},
		{"dsn without postgres", []string{"--token", "t", "--dsn", "postgres://x"}, "", "--dsn: only with --store postgres"},
		{"bad log level", []string{"--token", "t", "--log-level", "loud"}, "", "--log-level"},
		{"extra argument", []string{"--token", "t", "now"}, "", "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PES_TOKEN", tt.env)
			_, err := parseServe(tt.args, io.Discard)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
	// Without a token, serve refuses to start with a clear message.
	code, _, errOut := runCLI("serve", "--data-dir", t.TempDir())
	if code != exitUsage || !strings.Contains(errOut, "PES_TOKEN") {
		t.Errorf("serve without token: exit %d, stderr %q", code, errOut)
	}
}
