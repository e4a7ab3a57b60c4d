package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/buildinfo"
	"github.com/pes-project/terraform-provider-pes/reconciler/server/servertest"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

const testToken = "s3cret-token"

// logBuffer collects the server's log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type fixture struct {
	svc *recorder
	srv *httptest.Server
	log *logBuffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{svc: newRecorder(), log: &logBuffer{}}
	h := New(f.svc, f.svc.reads(), testToken, slog.New(slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug})))
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	return f
}

// do sends a request with the test token and returns the status, headers
// and body.
func (f *fixture) do(t *testing.T, method, path, body string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, raw
}

func TestMalformedRequests(t *testing.T) {
	f := newFixture(t)
	if n := len(servertest.MalformedCases()); n < 40 {
		t.Fatalf("only %d malformed cases", n)
	}
	servertest.RunMalformed(t, f.srv.URL, testToken, "g1")
	if w := f.svc.writes(); len(w) > 0 {
		t.Errorf("malformed requests reached the Service: %v", w)
	}
	if log := f.log.String(); strings.Contains(log, "panic") || strings.Contains(log, "level=ERROR") {
		t.Errorf("malformed requests caused errors in the log:\n%s", log)
	}
}

func ptr[T any](v T) *T { return &v }

// routeCase is one good request and what it must do.
type routeCase struct {
	name       string
	method     string
	path       string
	body       string
	wantStatus int
	wantCall   string
	wantArgs   []any // compared when set
	check      func(t *testing.T, h http.Header, body []byte)
}

// TestRoutes sends one good request to every route and checks the status,
// the Service call it made and, where it matters, the answer.
func TestRoutes(t *testing.T) {
	for _, tt := range routeCases(t) {
		t.Run(tt.name, func(t *testing.T) { tt.run(t) })
	}
}

func (tt routeCase) run(t *testing.T) { tt.runOn(t, newFixture(t)) }

func (tt routeCase) runOn(t *testing.T, f *fixture) {
	status, h, body := f.do(t, tt.method, tt.path, tt.body)
	if status != tt.wantStatus {
		t.Fatalf("status %d, want %d: %s", status, tt.wantStatus, body)
	}
	c, ok := f.svc.last(tt.wantCall)
	if !ok {
		t.Fatalf("%s was not called; calls: %v", tt.wantCall, f.svc.calls)
	}
	if tt.wantArgs != nil && !reflect.DeepEqual(c.args, tt.wantArgs) {
		t.Errorf("%s args\n got %s\nwant %s", tt.wantCall, mustJSON(t, c.args), mustJSON(t, tt.wantArgs))
	}
	if tt.check != nil {
		tt.check(t, h, body)
	}
}

// routeCases has one good request for every route.
func routeCases(t *testing.T) []routeCase {
	return []routeCase{
		{
			name: "create group applies defaults", method: "POST", path: "/v1/groups",
			body:       `{"name":"web","driver":"local","program":{"command":"python3","args":["-m","http.server"]},"desired_quantity":4,"min_quantity":2,"max_quantity":20}`,
			wantStatus: 201, wantCall: "CreateGroupBy",
			wantArgs: []any{api.GroupConfig{Name: "web", Driver: "local", Program: api.Program{Command: "python3", Args: []string{"-m", "http.server"}},
				DesiredQuantity: 4, MinQuantity: 2, MaxQuantity: 20, AggregationPeriod: "60s", AggregationPolicy: "largest",
				Replacement: "auto", ReplacementDeferWindow: "15s", InitDeadline: "10m", Cooldown: "0s", TerminationPolicy: "newest",
				HealthCheck:   &api.HealthCheck{Type: "process", Interval: "2s", FailureThreshold: 3},
				EngineOptions: api.EngineOptions{LockdownAfterRemoval: ptr(true)}, Tenant: api.DefaultTenant}, ""},
			check: func(t *testing.T, h http.Header, body []byte) {
				if h.Get("Location") != "/v1/groups/g-new" {
					t.Errorf("Location %q", h.Get("Location"))
				}
			},
		},
		{name: "create group by an actor", method: "POST", path: "/v1/groups",
			body:       `{"name":"s","driver":"sim","desired_quantity":1,"actor":"terraform","labels":{"team":"web"}}`,
			wantStatus: 201, wantCall: "CreateGroupBy",
			check: func(t *testing.T, h http.Header, body []byte) {
				if bytes.Contains(body, []byte("terraform")) {
					t.Errorf("the actor is in the group: %s", body)
				}
			}},
		{name: "list groups", method: "GET", path: "/v1/groups?include_deleted=true&limit=5", wantStatus: 200, wantCall: "ListGroups",
			wantArgs: []any{store.GroupFilter{IncludeDeleted: true, Page: store.Page{Limit: 5}}}},
		{name: "get group", method: "GET", path: "/v1/groups/g1", wantStatus: 200, wantCall: "GetGroup", wantArgs: []any{"g1"}},
		{name: "patch group", method: "PATCH", path: "/v1/groups/g1", body: `{"desired_quantity":8,"reason":"launch","name":"web"}`,
			wantStatus: 200, wantCall: "UpdateGroup",
			wantArgs: []any{"g1", api.GroupPatch{Name: ptr("web"), DesiredQuantity: ptr(8), Reason: "launch"}}},
		{name: "patch clears labels", method: "PATCH", path: "/v1/groups/g1", body: `{"labels":{},"actor":"terraform"}`,
			wantStatus: 200, wantCall: "UpdateGroup",
			wantArgs: []any{"g1", api.GroupPatch{Labels: map[string]string{}, Actor: "terraform"}}},
		{name: "patch with null labels leaves them", method: "PATCH", path: "/v1/groups/g1", body: `{"labels":null,"min_quantity":1}`,
			wantStatus: 200, wantCall: "UpdateGroup",
			wantArgs: []any{"g1", api.GroupPatch{MinQuantity: ptr(1)}}},
		{name: "delete group", method: "DELETE", path: "/v1/groups/g1", wantStatus: 204, wantCall: "DeleteGroupBy", wantArgs: []any{"g1", ""}},
		{name: "delete group by an actor", method: "DELETE", path: "/v1/groups/g1?actor=terraform", wantStatus: 204, wantCall: "DeleteGroupBy",
			wantArgs: []any{"g1", "terraform"}},
		{name: "instruction gets the default priority", method: "POST", path: "/v1/groups/g1/instructions", body: `{"change_by":3,"reason":"sale"}`,
			wantStatus: 201, wantCall: "Instruct",
			wantArgs: []any{"g1", api.Instruction{Request: api.Request{ChangeBy: ptr(3)}, Priority: ptr(api.DefaultInstructionPriority), Reason: "sale"}},
			check: func(t *testing.T, h http.Header, body []byte) {
				if h.Get("Location") != "/v1/events/e-new" {
					t.Errorf("Location %q", h.Get("Location"))
				}
			}},
		{name: "harmonize", method: "POST", path: "/v1/groups/g1/harmonize", wantStatus: 200, wantCall: "Harmonize", wantArgs: []any{"g1"}},
		{name: "forecast", method: "GET", path: "/v1/groups/g1/forecast", wantStatus: 200, wantCall: "Forecast", wantArgs: []any{"g1"}},
		{name: "import history", method: "POST", path: "/v1/groups/g1/history", body: "time,desired\n2026-01-01T00:00:00Z,3\n",
			wantStatus: 200, wantCall: "ImportHistory", wantArgs: []any{"g1", "time,desired\n2026-01-01T00:00:00Z,3\n"},
			check: func(t *testing.T, h http.Header, body []byte) {
				if string(body) != `{"imported":2}`+"\n" {
					t.Errorf("answer %s, want {\"imported\":2}", body)
				}
			}},
		{name: "nodes, paged", method: "GET", path: "/v1/groups/g1/nodes?include_terminated=true&limit=2", wantStatus: 200, wantCall: "ListNodes",
			wantArgs: []any{"g1", true},
			check: func(t *testing.T, h http.Header, body []byte) {
				var l api.List[api.Node]
				mustDecode(t, body, &l)
				if len(l.Items) != 2 || l.NextPageToken == "" {
					t.Errorf("page %+v", l)
				}
			}},
		{name: "terminate node", method: "DELETE", path: "/v1/groups/g1/nodes/n1", wantStatus: 200, wantCall: "TerminateNodeBy", wantArgs: []any{"g1", "n1", ""}},
		{name: "terminate node by an actor", method: "DELETE", path: "/v1/groups/g1/nodes/n1?actor=user%20one", wantStatus: 200, wantCall: "TerminateNodeBy",
			wantArgs: []any{"g1", "n1", "user one"}},
		{name: "fail node", method: "POST", path: "/v1/groups/g1/nodes/n1/fail", wantStatus: 204, wantCall: "FailNode", wantArgs: []any{"g1", "n1"}},
		{name: "create trigger gets defaults", method: "POST", path: "/v1/groups/g1/triggers",
			body:       `{"name":"cpu-high","condition":"avg(cpu_utilization, '2m') > 80","for":"2m","change_by":4}`,
			wantStatus: 201, wantCall: "CreateTrigger",
			wantArgs: []any{"g1", api.TriggerSpec{Name: ptr("cpu-high"), Condition: ptr("avg(cpu_utilization, '2m') > 80"), For: ptr("2m"),
				Request: api.Request{ChangeBy: ptr(4)}, Priority: ptr(api.DefaultTriggerPriority), Immediate: ptr(false), Enabled: ptr(true)}}},
		{name: "scheduled trigger without condition", method: "POST", path: "/v1/groups/g1/triggers",
			body: `{"name":"morning","schedule":"0 8 * * 1-5","set_to":10}`, wantStatus: 201, wantCall: "CreateTrigger"},
		{name: "list triggers", method: "GET", path: "/v1/groups/g1/triggers", wantStatus: 200, wantCall: "ListTriggers", wantArgs: []any{"g1"}},
		{name: "get trigger", method: "GET", path: "/v1/triggers/t1", wantStatus: 200, wantCall: "GetTrigger", wantArgs: []any{"t1"}},
		{name: "patch trigger", method: "PATCH", path: "/v1/triggers/t1", body: `{"enabled":false}`, wantStatus: 200, wantCall: "UpdateTrigger",
			wantArgs: []any{"t1", api.TriggerSpec{Enabled: ptr(false)}}},
		{name: "delete trigger", method: "DELETE", path: "/v1/triggers/t1", wantStatus: 204, wantCall: "DeleteTrigger", wantArgs: []any{"t1"}},
		{name: "push metrics", method: "POST", path: "/v1/groups/g1/metrics",
			// A sample time must be recent (api.MaxSampleAge).
			body: `{"samples":[{"name":"queue_depth","value":12.5,"time":"` + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339) +
				`"},{"name":"cpu_utilization","value":80,"node_id":"n1"}]}`,
			wantStatus: 200, wantCall: "PushMetrics",
			check: func(t *testing.T, h http.Header, body []byte) {
				var r api.MetricsResponse
				mustDecode(t, body, &r)
				if r.Accepted != 2 {
					t.Errorf("accepted %d", r.Accepted)
				}
			}},
		{name: "events with filters", method: "GET", path: "/v1/groups/g1/events?since=2026-01-02T10:01:00Z&until=2026-01-02T10:02:00Z&type=trigger_fired&limit=3",
			wantStatus: 200, wantCall: "ListEvents",
			wantArgs: []any{store.EventFilter{GroupID: "g1", Since: mustTime(t, "2026-01-02T10:01:00Z"), Until: mustTime(t, "2026-01-02T10:02:00Z"),
				Type: "trigger_fired", Page: store.Page{Limit: 3}}}},
		{name: "explain event", method: "GET", path: "/v1/events/e1", wantStatus: 200, wantCall: "ExplainEvent", wantArgs: []any{"e1"},
			check: func(t *testing.T, h http.Header, body []byte) {
				if !bytes.Contains(body, []byte(`"effects":[]`)) {
					t.Errorf("effects not an empty list: %s", body)
				}
			}},
		{name: "changes caused by a label", method: "GET", path: "/v1/groups/g1/changes?caused_by=e1&type=add_nodes", wantStatus: 200, wantCall: "ListChanges",
			wantArgs: []any{store.ChangeFilter{GroupID: "g1", Type: "add_nodes", CausedBy: "e1", Page: store.Page{Limit: 100}}},
			check: func(t *testing.T, h http.Header, body []byte) {
				if !bytes.Contains(body, []byte(`"items":[]`)) {
					t.Errorf("items not an empty list: %s", body)
				}
			}},
		{name: "changes with causes", method: "GET", path: "/v1/groups/g1/changes?include=causes&type=add_nodes&limit=2", wantStatus: 200,
			wantCall: "ExplainChanges",
			wantArgs: []any{[]api.Change{{ID: "c1", Label: "C1", GroupID: "g1"}, {ID: "c2", Label: "C2", GroupID: "g1"}}},
			check: func(t *testing.T, h http.Header, body []byte) {
				var l api.List[api.ChangeDetail]
				mustDecode(t, body, &l)
				if len(l.Items) != 2 || l.Items[0].Label != "C1" || l.Items[0].Explanation != "why C1" || l.Items[1].Explanation != "why C2" ||
					!bytes.Contains(body, []byte(`"causes":[]`)) {
					t.Errorf("answer %s", body)
				}
			}},
		{name: "changes without causes", method: "GET", path: "/v1/groups/g1/changes", wantStatus: 200, wantCall: "ListChanges",
			check: func(t *testing.T, h http.Header, body []byte) {
				if bytes.Contains(body, []byte("causes")) || bytes.Contains(body, []byte("explanation")) || !bytes.Contains(body, []byte(`"label":"C2"`)) {
					t.Errorf("answer %s", body)
				}
			}},
		{name: "events with effects", method: "GET", path: "/v1/groups/g1/events?include=effects", wantStatus: 200, wantCall: "ExplainEvents",
			wantArgs: []any{[]api.Event{{ID: "e1", Label: "E1", GroupID: "g1", Type: api.EventGroupCreated}}},
			check: func(t *testing.T, h http.Header, body []byte) {
				var l api.List[api.EventDetail]
				mustDecode(t, body, &l)
				if len(l.Items) != 1 || l.Items[0].Explanation != "what E1" || l.NextPageToken == "" || !bytes.Contains(body, []byte(`"effects":[]`)) {
					t.Errorf("answer %s", body)
				}
			}},
		{name: "explain change", method: "GET", path: "/v1/changes/c1", wantStatus: 200, wantCall: "ExplainChange", wantArgs: []any{"c1"}},
		{name: "periods", method: "GET", path: "/v1/groups/g1/periods?limit=1", wantStatus: 200, wantCall: "ListPeriods",
			wantArgs: []any{"g1", store.Page{Limit: 1}}},
		{name: "period", method: "GET", path: "/v1/periods/p1", wantStatus: 200, wantCall: "GetPeriod", wantArgs: []any{"p1"}},
	}
}

// TestRoutesByName sends every request of TestRoutes that names group g1
// or trigger t1 by their names instead (web; cpu-high with ?group=web):
// each must do what it does by id, with the ids reaching the Service.
func TestRoutesByName(t *testing.T) {
	n := 0
	for _, tt := range routeCases(t) {
		path, ok := byName(tt.path)
		if !ok {
			continue
		}
		n++
		tt.path = path
		if tt.wantCall == "GetGroup" {
			// An id is looked up first, so the name's own read is the last.
			tt.wantCall, tt.wantArgs = "GetGroupByName", []any{"web"}
		}
		t.Run(tt.name, func(t *testing.T) { tt.run(t) })
	}
	if n < 20 {
		t.Errorf("only %d routes by name", n)
	}
}

// TestRoutesHeldGroup sends every request of TestRoutes that names group
// g1 with g1 held by the Service (HasGroup): each must do what it does
// when g1 is looked up in the store, and only the routes that use the
// group itself (withGroup) may read it.
func TestRoutesHeldGroup(t *testing.T) {
	n := 0
	for _, tt := range routeCases(t) {
		p, _, _ := strings.Cut(tt.path, "?")
		if p != "/v1/groups/g1" && !strings.HasPrefix(p, "/v1/groups/g1/") {
			continue
		}
		n++
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.svc.held = map[string]bool{"g1": true}
			tt.runOn(t, f)
			reads := tt.wantCall == "GetGroup" || tt.method == "PATCH" || strings.HasSuffix(p, "/timeline")
			for _, c := range f.svc.calls {
				if !reads && (c.method == "GetGroup" || c.method == "GetGroupByName") {
					t.Errorf("%s %s read the held group: %s%v", tt.method, tt.path, c.method, c.args)
				}
			}
		})
	}
	if n < 20 {
		t.Errorf("only %d routes of a group", n)
	}
}

// byName rewrites a path naming g1 or t1 by id to name them by name.
func byName(path string) (string, bool) {
	p, q, _ := strings.Cut(path, "?")
	switch {
	case p == "/v1/groups/g1" || strings.HasPrefix(p, "/v1/groups/g1/"):
		p = "/v1/groups/web" + strings.TrimPrefix(p, "/v1/groups/g1")
	case p == "/v1/triggers/t1":
		p, q = "/v1/triggers/cpu-high", strings.TrimPrefix(q+"&group=web", "&")
	default:
		return path, false
	}
	if q != "" {
		p += "?" + q
	}
	return p, true
}

// TestDeletedGroupName: every route under a deleted group's name answers
// a 404 that says when it went and where its history is, and reaches
// nothing; its id still reads the history, and include_deleted finds it
// by name.
func TestDeletedGroupName(t *testing.T) {
	const want = "group old was deleted at 2026-01-02T09:00:00Z; its history is under id g0 (pesd groups --all)"
	n := 0
	for _, tt := range routeCases(t) {
		path, ok := byName(tt.path)
		if !ok || !strings.HasPrefix(path, "/v1/groups/web") {
			continue
		}
		n++
		path = "/v1/groups/old" + strings.TrimPrefix(path, "/v1/groups/web")
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			status, _, body := f.do(t, tt.method, path, tt.body)
			if e := assertError(t, status, body, 404, api.CodeNotFound, ""); e.Message != want {
				t.Errorf("message %q, want %q", e.Message, want)
			}
			if w := f.svc.writes(); len(w) > 0 {
				t.Errorf("a deleted group's name reached the Service: %v", w)
			}
		})
	}
	if n < 20 {
		t.Errorf("only %d group routes", n)
	}

	f := newFixture(t)
	// The shared suite pesd's end-to-end test runs too.
	t.Run("servertest", func(t *testing.T) {
		servertest.RunDeletedGroupName(t, f.srv.URL, testToken, "old", want)
		servertest.RunReadsByName(t, f.srv.URL, testToken, "g1", "web")
		if w := f.svc.writes(); len(w) > 0 {
			t.Errorf("a deleted group's name reached the Service: %v", w)
		}
	})
	status, _, body := f.do(t, "GET", "/v1/groups/old?include_deleted=true", "")
	var g api.Group
	if mustDecode(t, body, &g); status != 200 || g.ID != "g0" || g.Status != api.GroupDeleted {
		t.Errorf("include_deleted: %d %s, want group g0, deleted", status, body)
	}
	if status, _, body := f.do(t, "GET", "/v1/groups/g0/events", ""); status != 200 {
		t.Errorf("a deleted group's events by id: %d %s", status, body)
	}
	if c, ok := f.svc.last("ListEvents"); !ok || c.args[0].(store.EventFilter).GroupID != "g0" {
		t.Errorf("events of g0: %v", c.args)
	}
}

// TestTriggerByName: a trigger's name needs its group; another group's
// trigger, an unknown name and an empty group are told apart.
func TestTriggerByName(t *testing.T) {
	tests := []struct {
		path       string
		wantStatus int
		wantField  string
		wantMsg    string
	}{
		{"/v1/triggers/cpu-high?group=g1", 200, "", ""},
		{"/v1/triggers/t1?group=web", 200, "", ""}, // an id with its own group
		{"/v1/triggers/cpu-low?group=web", 404, "", "group web has no trigger cpu-low"},
		{"/v1/triggers/cpu-high?group=nope", 404, "", "group nope not found"},
		{"/v1/triggers/cpu-high?group=old", 404, "", "group old was deleted at"},
		{"/v1/triggers/cpu-high", 404, "", "trigger cpu-high not found"},
		{"/v1/triggers/cpu-high?group=", 400, "group", "takes one group id or name"},
		{"/v1/triggers/cpu-high?group=web&group=api", 400, "group", "takes one group id or name"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			f := newFixture(t)
			status, _, body := f.do(t, "GET", tt.path, "")
			if tt.wantStatus == 200 {
				var tr api.Trigger
				if mustDecode(t, body, &tr); status != 200 || tr.ID != "t1" {
					t.Errorf("%d %s, want trigger t1", status, body)
				}
				return
			}
			code := api.CodeNotFound
			if tt.wantStatus == 400 {
				code = api.CodeInvalid
			}
			if e := assertError(t, status, body, tt.wantStatus, code, tt.wantField); !strings.Contains(e.Message, tt.wantMsg) {
				t.Errorf("message %q, want %q", e.Message, tt.wantMsg)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustDecode(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

// TestInclude: include takes the one value its list adds, and nothing
// reaches the Service otherwise.
func TestInclude(t *testing.T) {
	for _, path := range []string{
		"/v1/groups/g1/changes?include=effects",
		"/v1/groups/g1/changes?include=causes,effects",
		"/v1/groups/g1/events?include=causes",
		"/v1/groups/g1/events?include=effects&include=effects",
		"/v1/groups/g1/periods?include=causes",
	} {
		t.Run(path, func(t *testing.T) {
			f := newFixture(t)
			status, _, body := f.do(t, "GET", path, "")
			assertError(t, status, body, 400, api.CodeInvalid, "include")
			if c, ok := f.svc.last("ExplainChanges"); ok {
				t.Errorf("ExplainChanges called: %v", c)
			}
		})
	}
	// A page of changes with causes is explained whole, in one call.
	f := newFixture(t)
	f.svc.reader.changes = []api.Change{{ID: "c1", Label: "C1"}, {ID: "c2", Label: "C2"}, {ID: "c3", Label: "C3"}}
	status, _, body := f.do(t, "GET", "/v1/groups/g1/changes?include=causes&since=2026-01-02T10:00:00Z", "")
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	n := 0
	for _, c := range f.svc.calls {
		if c.method == "ExplainChanges" || c.method == "ExplainChange" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d explain calls for a page of 3, want 1", n)
	}
}

func TestCausedByLabel(t *testing.T) {
	f := newFixture(t)
	status, _, body := f.do(t, "GET", "/v1/groups/g1/changes?caused_by=E1", "")
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	c, _ := f.svc.last("ListChanges")
	if got := c.args[0].(store.ChangeFilter).CausedBy; got != "e1" {
		t.Errorf("caused_by E1 resolved to %q, want the event id e1", got)
	}
	status, _, body = f.do(t, "GET", "/v1/groups/g1/changes?caused_by=E99", "")
	assertError(t, status, body, 400, api.CodeInvalid, "caused_by")
}

func assertError(t *testing.T, status int, body []byte, wantStatus int, wantCode, wantField string) api.Error {
	t.Helper()
	var env api.ErrorBody
	mustDecode(t, body, &env)
	if status != wantStatus || env.Error.Code != wantCode || env.Error.Field != wantField || env.Error.Message == "" {
		t.Fatalf("got %d %s, want %d %s on field %q", status, body, wantStatus, wantCode, wantField)
	}
	return env.Error
}

// TestPageTokens follows a page token and checks it cannot be used on
// another list.
func TestPageTokens(t *testing.T) {
	f := newFixture(t)
	status, _, body := f.do(t, "GET", "/v1/groups/g1/events?type=group_created", "")
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	var l api.List[api.Event]
	mustDecode(t, body, &l)
	if l.NextPageToken == "" || l.NextPageToken == "page2" {
		t.Fatalf("next_page_token %q: want the store's token, sealed", l.NextPageToken)
	}
	tok := url.QueryEscape(l.NextPageToken)

	status, _, body = f.do(t, "GET", "/v1/groups/g1/events?type=group_created&limit=7&page_token="+tok, "")
	if status != 200 {
		t.Fatalf("following the token: status %d: %s", status, body)
	}
	c, _ := f.svc.last("ListEvents")
	if flt := c.args[0].(store.EventFilter); flt.Token != "page2" || flt.Limit != 7 {
		t.Errorf("store got token %q limit %d, want page2 and 7", flt.Token, flt.Limit)
	}

	for _, path := range []string{
		"/v1/groups/g1/changes?page_token=" + tok,                   // another list
		"/v1/groups/g1/events?type=trigger_fired&page_token=" + tok, // other filters
		"/v1/groups/g1/events?page_token=" + tok[:len(tok)-1] + "x", // corrupted
	} {
		status, _, body = f.do(t, "GET", path, "")
		assertError(t, status, body, 400, api.CodeInvalid, "page_token")
	}

	// In-memory paging of nodes walks every node once.
	var seen []string
	next := ""
	for range 5 {
		status, _, body = f.do(t, "GET", "/v1/groups/g1/nodes?limit=1&page_token="+url.QueryEscape(next), "")
		if status != 200 {
			t.Fatalf("nodes: status %d: %s", status, body)
		}
		var nl api.List[api.Node]
		mustDecode(t, body, &nl)
		for _, n := range nl.Items {
			seen = append(seen, n.ID)
		}
		if next = nl.NextPageToken; next == "" {
			break
		}
	}
	if strings.Join(seen, ",") != "n1,n2,n3" {
		t.Errorf("paged nodes %v, want n1,n2,n3", seen)
	}
}

// TestErrorMapping checks how Service errors come out.
func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name        string
		err         error
		wantStatus  int
		wantCode    string
		wantField   string
		wantMessage string
		notMessage  string
		wantLog     string
	}{
		{name: "api error keeps its status", err: &api.Error{Code: api.CodeConflict, Status: 409, Message: "node n1 is not a sim node"},
			wantStatus: 409, wantCode: api.CodeConflict, wantMessage: "not a sim node"},
		{name: "api error without status", err: fmt.Errorf("wrapped: %w", &api.Error{Code: api.CodeInvalid, Field: "set_to", Message: "too big"}),
			wantStatus: 400, wantCode: api.CodeInvalid, wantField: "set_to"},
		{name: "conflict without status", err: &api.Error{Code: api.CodeConflict, Field: "id", Message: "group g1 is deleted"},
			wantStatus: 409, wantCode: api.CodeConflict, wantField: "id", wantMessage: "deleted"},
		{name: "not found names the object", err: fmt.Errorf("sqlite: no rows: %w", store.ErrNotFound),
			wantStatus: 404, wantCode: api.CodeNotFound, wantMessage: "group g1 not found", notMessage: "sqlite"},
		{name: "conflict", err: fmt.Errorf("a live group is named web: %w", store.ErrConflict),
			wantStatus: 409, wantCode: api.CodeConflict, wantMessage: "named web"},
		{name: "anything else is a generic 500", err: errors.New("disk I/O error at /var/lib/pes/pes.db"),
			wantStatus: 500, wantCode: api.CodeInternal, wantMessage: "request_id", notMessage: "/var/lib", wantLog: "disk I/O error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.svc.err = tt.err
			status, h, body := f.do(t, "POST", "/v1/groups/g1/harmonize", "")
			e := assertError(t, status, body, tt.wantStatus, tt.wantCode, tt.wantField)
			if !strings.Contains(e.Message, tt.wantMessage) || (tt.notMessage != "" && strings.Contains(e.Message, tt.notMessage)) {
				t.Errorf("message %q", e.Message)
			}
			if tt.wantLog != "" {
				log := f.log.String()
				if !strings.Contains(log, tt.wantLog) || !strings.Contains(log, h.Get("X-Request-Id")) {
					t.Errorf("log lacks the error or the request id %s:\n%s", h.Get("X-Request-Id"), log)
				}
			}
		})
	}
}

func TestPanicIsA500(t *testing.T) {
	f := newFixture(t)
	f.svc.panicking = true
	status, _, body := f.do(t, "POST", "/v1/groups/g1/harmonize", "")
	e := assertError(t, status, body, 500, api.CodeInternal, "")
	if strings.Contains(e.Message, "exploded") {
		t.Errorf("the panic value leaked: %q", e.Message)
	}
	if !strings.Contains(f.log.String(), "harmonize exploded") {
		t.Errorf("panic not logged:\n%s", f.log.String())
	}
	// The server still answers.
	if status, _, _ := f.do(t, "GET", "/v1/groups/g1", ""); status != 200 {
		t.Errorf("after a panic: status %d", status)
	}
}

func TestNotFound(t *testing.T) {
	tests := []struct {
		method, path, body string
		want               string
	}{
		{"GET", "/v1/groups/nope", "", "group nope not found"},
		{"PATCH", "/v1/groups/nope", `{"min_quantity":1}`, "group nope not found"},
		{"GET", "/v1/groups/nope/events", "", "group nope not found"},
		{"GET", "/v1/triggers/nope", "", "trigger nope not found"},
		{"PATCH", "/v1/triggers/nope", `{"enabled":true}`, "trigger nope not found"},
		{"GET", "/v1/periods/nope", "", "period nope not found"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			f := newFixture(t)
			status, _, body := f.do(t, tt.method, tt.path, tt.body)
			if e := assertError(t, status, body, 404, api.CodeNotFound, ""); e.Message != tt.want {
				t.Errorf("message %q, want %q", e.Message, tt.want)
			}
		})
	}
}

func TestValidateCondition(t *testing.T) {
	tests := []struct {
		condition   string
		valid       bool
		wantMetrics []string
	}{
		{condition: "avg(cpu_utilization, '2m') > 80 and last(queue_depth) > 100", valid: true, wantMetrics: []string{"cpu_utilization", "queue_depth"}},
		{condition: "avg(cpu_utilization, '2m') >"},
		{condition: "avgg(cpu_utilization, '2m') > 80"},
		{condition: ""},
	}
	for _, tt := range tests {
		t.Run(tt.condition, func(t *testing.T) {
			f := newFixture(t)
			status, _, body := f.do(t, "POST", "/v1/triggers/validate", mustJSON(t, api.ValidateConditionRequest{Condition: tt.condition}))
			if status != 200 {
				t.Fatalf("status %d: %s", status, body)
			}
			var r api.ValidateConditionResponse
			mustDecode(t, body, &r)
			if r.Valid != tt.valid {
				t.Fatalf("valid %v: %s", r.Valid, body)
			}
			if tt.valid && !reflect.DeepEqual(r.Metrics, tt.wantMetrics) {
				t.Errorf("metrics %v, want %v", r.Metrics, tt.wantMetrics)
			}
			if !tt.valid && (r.Message == "" || r.Line < 1 || r.Column < 1) {
				t.Errorf("invalid without a message or position: %s", body)
			}
		})
	}
}

func TestAuth(t *testing.T) {
	f := newFixture(t)
	// /metrics needs a token unless pesd serves it public
	// (--metrics-public).
	for path, want := range map[string]int{"/healthz": 200, "/metrics": 401} {
		resp, err := http.Get(f.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s without a token: %d, want %d", path, resp.StatusCode, want)
		}
	}
	rec := newRecorder()
	public := httptest.NewServer(New(rec, rec.reads(), testToken, nil, WithMetricsPublic()))
	defer public.Close()
	if resp, err := http.Get(public.URL + "/metrics"); err != nil || resp.StatusCode != 200 {
		t.Errorf("/metrics without a token with WithMetricsPublic: %v, %v, want 200", resp, err)
	} else {
		resp.Body.Close()
	}

	// A server started without a token refuses every /v1 request.
	open := httptest.NewServer(New(rec, rec.reads(), "", nil))
	defer open.Close()
	for _, auth := range []string{"", "Bearer ", "Bearer x"} {
		req, _ := http.NewRequest("GET", open.URL+"/v1/groups", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("no-token server with %q: %d, want 401", auth, resp.StatusCode)
		}
	}
}

func TestBodyLimits(t *testing.T) {
	f := newFixture(t)
	// 2 MiB of samples is over the general limit but within the metrics one.
	var b strings.Builder
	b.WriteString(`{"samples":[`)
	n := 0
	for b.Len() < 2<<20 {
		if n > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":"queue_depth_with_a_long_name_%04d","value":%d,"node_id":"node-%0200d"}`, n%9000, n, n)
		n++
	}
	b.WriteString(`]}`)
	if n > api.MaxSamplesPerRequest {
		t.Fatalf("test body has %d samples, over the limit", n)
	}
	status, _, body := f.do(t, "POST", "/v1/groups/g1/metrics", b.String())
	if status != 200 {
		t.Fatalf("2 MiB metrics body: status %d: %.300s", status, body)
	}
	c, _ := f.svc.last("PushMetrics")
	if got := len(c.args[1].([]api.Sample)); got != n {
		t.Errorf("service got %d samples, want %d", got, n)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	f := newFixture(t)
	f.svc.gauges = []Gauge{
		{Name: "pes_group_desired_quantity", Help: "Desired quantity.", Labels: map[string]string{"group": `we"b`}, Value: 4},
		{Name: "pes_group_desired_quantity", Labels: map[string]string{"group": "api"}, Value: 2},
		{Name: "bad name", Value: 1},
		{Name: "pes_http_requests_total", Value: 1}, // would clash with the server's own
		{Name: "pes_events_written_total", Help: "Events recorded.", Value: 12, Counter: true},
	}
	f.do(t, "GET", "/v1/groups/g1", "")
	f.do(t, "GET", "/v1/groups/g1", "")
	f.do(t, "GET", "/v1/groups/nope", "")
	f.do(t, "GET", "/v1/nothing/here", "")

	// With the token: the per-group series too (see
	// TestMetricsWithoutTokenNamesNoGroup).
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	text := string(raw)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q", ct)
	}
	for _, want := range []string{
		// client_golang writes label pairs sorted by name.
		`pes_http_requests_total{code="200",route="GET /v1/groups/{id}"} 2`,
		`pes_http_requests_total{code="404",route="GET /v1/groups/{id}"} 1`,
		`pes_http_requests_total{code="404",route="unmatched"} 1`,
		`pes_http_request_duration_seconds_bucket{code="200",route="GET /v1/groups/{id}",le="+Inf"} 2`,
		`pes_http_request_duration_seconds_count{code="200",route="GET /v1/groups/{id}"} 2`,
		"# TYPE pes_http_request_duration_seconds histogram",
		"# HELP pes_group_desired_quantity Desired quantity.",
		"# TYPE pes_group_desired_quantity gauge",
		`pes_group_desired_quantity{group="we\"b"} 4`,
		`pes_group_desired_quantity{group="api"} 2`,
		"# TYPE pes_events_written_total counter\npes_events_written_total 12\n",
		// The build, the Go runtime and the process.
		fmt.Sprintf(`pes_build_info{goversion="%s",revision="%s",version="%s"} 1`, runtime.Version(), buildinfo.Get().Commit, buildinfo.Version()),
		"# TYPE go_goroutines gauge",
		"# TYPE process_resident_memory_bytes gauge",
		"# TYPE pes_http_requests_in_flight gauge",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(text, "bad name") || strings.Count(text, "# TYPE pes_http_requests_total") != 1 {
		t.Errorf("invalid gauges were written:\n%s", text)
	}
	if !strings.Contains(f.log.String(), "bad name") {
		t.Errorf("skipped gauges not logged")
	}
	checkExposition(t, text)
}

// checkExposition checks every line is a comment or "name{labels} value",
// and that histogram buckets never decrease.
func checkExposition(t *testing.T, text string) {
	t.Helper()
	last := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if strings.HasPrefix(line, "# HELP ") || strings.HasPrefix(line, "# TYPE ") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("bad line %q", line)
		}
		var v float64
		if _, err := fmt.Sscanf(line[i+1:], "%g", &v); err != nil {
			t.Errorf("bad value in %q", line)
		}
		name := line[:i]
		if strings.Contains(name, "_bucket{") {
			series := name[:strings.Index(name, ",le=")]
			if v < last[series] {
				t.Errorf("bucket decreases at %q", line)
			}
			last[series] = v
		}
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// A JSON body is accepted whatever its Content-Type says.
func TestContentTypeTolerated(t *testing.T) {
	f := newFixture(t)
	for _, ct := range []string{"text/plain", "", "application/x-www-form-urlencoded"} {
		req, _ := http.NewRequest("POST", f.srv.URL+"/v1/groups", strings.NewReader(`{"name":"s","driver":"sim","desired_quantity":0}`))
		req.Header.Set("Authorization", "Bearer "+testToken)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 201 {
			t.Errorf("Content-Type %q: status %d, want 201", ct, resp.StatusCode)
		}
	}
}

// A local group without max_quantity gets one sized to pesd's host; a sim
// group keeps DefaultMaxQuantity.
func TestLocalMaxQuantityDefault(t *testing.T) {
	f := newFixture(t)
	f.srv.Config.Handler.(*server).hostCPUs = 3
	for _, tc := range []struct {
		body    string
		wantMax int
	}{
		{`{"name":"web","driver":"local","program":{"command":"python3"},"desired_quantity":2}`, 6},
		{`{"name":"web","driver":"local","program":{"command":"python3"},"desired_quantity":2,"max_quantity":50}`, 50},
		{`{"name":"web","driver":"sim","desired_quantity":2}`, api.DefaultMaxQuantity},
	} {
		status, _, body := f.do(t, "POST", "/v1/groups", tc.body)
		var g api.Group
		if mustDecode(t, body, &g); status != 201 || g.MaxQuantity != tc.wantMax {
			t.Errorf("%s: %d %s, want max_quantity %d", tc.body, status, body, tc.wantMax)
		}
	}
	status, _, body := f.do(t, "POST", "/v1/groups", `{"name":"web","driver":"local","program":{"command":"python3"},"desired_quantity":500}`)
	if e := assertError(t, status, body, 400, api.CodeInvalid, "desired_quantity"); !strings.Contains(e.Message,
		"max_quantity 6; got 500 (max_quantity of a local group defaults to 2 × the 3 CPUs of pesd's host; set max_quantity to allow more)") {
		t.Errorf("message %q", e.Message)
	}
}
