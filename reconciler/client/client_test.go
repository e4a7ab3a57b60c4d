package client

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// recorded is one request as the test server saw it.
type recorded struct {
	Method string
	Path   string // escaped
	Query  url.Values
	Body   map[string]any
	Auth   string
	UA     string
}

// fakeServer answers every request with reply and records it.
type fakeServer struct {
	mu    sync.Mutex
	reqs  []recorded
	reply func(n int, r *http.Request, w http.ResponseWriter)
	srv   *httptest.Server
}

func newFakeServer(t *testing.T, reply func(n int, r *http.Request, w http.ResponseWriter)) *fakeServer {
	t.Helper()
	f := &fakeServer{reply: reply}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Errorf("request body is not a JSON object: %q", raw)
			}
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{r.Method, r.URL.EscapedPath(), r.URL.Query(), body, r.Header.Get("Authorization"), r.Header.Get("User-Agent")})
		n := len(f.reqs)
		f.mu.Unlock()
		f.reply(n, r, w)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeServer) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status int, code, msg, field string) {
	writeJSON(w, status, api.ErrorBody{Error: api.Error{Code: code, Message: msg, Field: field}})
}

// fastClient retries quickly so tests take no time waiting.
func fastClient(t *testing.T, endpoint string, opts ...Option) *Client {
	t.Helper()
	opts = append([]Option{WithRetryWait(time.Millisecond, 5*time.Millisecond), WithUserAgent("pes-test/1")}, opts...)
	c, err := New(endpoint, "tok", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func intp(n int) *int { return &n }

func TestEndpoints(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 10, 1, 0, 0, time.UTC)
	t1 := t0.Add(time.Minute)
	group := api.Group{ID: "g-1", GroupConfig: api.GroupConfig{Name: "web", Driver: "sim", DesiredQuantity: 3}, ActualQuantity: 2, Status: api.GroupActive}
	event := api.Event{ID: "e-1", Label: "E4", GroupID: "g-1", Type: api.EventUserInstruction, Time: t0, Request: &api.Request{ChangeBy: intp(3)}}
	change := api.Change{ID: "c-1", Label: "C7", GroupID: "g-1", Type: api.ChangeAddNodes, Amount: 5, NodeIDs: []string{"n1"}}
	period := api.Period{ID: "p-1", Label: "H2", GroupID: "g-1", DesiredBefore: 8, DesiredAfter: 12}
	trig := api.Trigger{ID: "t-1", GroupID: "g-1", Name: "cpu-high", Condition: "last(cpu_utilization) > 80", Enabled: true}
	node := api.Node{ID: "n-1", GroupID: "g-1", State: api.NodeReady, Handle: map[string]string{"pid": "42"}}

	tests := []struct {
		name      string
		call      func(ctx context.Context, c *Client) (any, error)
		reply     any
		status    int
		method    string
		path      string
		query     url.Values
		body      map[string]any // keys that must be in the request body
		want      any
		wantNoArg bool
	}{
		{
			name:  "create group",
			call:  func(ctx context.Context, c *Client) (any, error) { return c.CreateGroup(ctx, group.GroupConfig) },
			reply: group, status: 201, method: "POST", path: "/v1/groups",
			body: map[string]any{"name": "web", "driver": "sim", "desired_quantity": float64(3)},
			want: group,
		},
		{
			name:  "get group escapes the id",
			call:  func(ctx context.Context, c *Client) (any, error) { return c.GetGroup(ctx, "a/b c") },
			reply: group, status: 200, method: "GET", path: "/v1/groups/a%2Fb%20c", want: group,
		},
		{
			name: "list groups",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.ListGroups(ctx, GroupFilter{IncludeDeleted: true, Page: Page{Limit: 5, PageToken: "x"}})
			},
			reply:  api.List[api.Group]{Items: []api.Group{group}, NextPageToken: "y"},
			status: 200, method: "GET", path: "/v1/groups",
			query: url.Values{"include_deleted": {"true"}, "limit": {"5"}, "page_token": {"x"}},
			want:  api.List[api.Group]{Items: []api.Group{group}, NextPageToken: "y"},
		},
		{
			name: "update group",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.UpdateGroup(ctx, "g-1", api.GroupPatch{DesiredQuantity: intp(5), Actor: "terraform"})
			},
			reply: group, status: 200, method: "PATCH", path: "/v1/groups/g-1",
			body: map[string]any{"desired_quantity": float64(5), "actor": "terraform"}, want: group,
		},
		{
			name:   "delete group",
			call:   func(ctx context.Context, c *Client) (any, error) { return nil, c.DeleteGroup(ctx, "g-1") },
			status: 204, method: "DELETE", path: "/v1/groups/g-1", wantNoArg: true,
		},
		{
			name: "instruct",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Instruct(ctx, "g-1", api.Instruction{Request: api.Request{ChangeBy: intp(3)}, Immediate: true, Reason: "launch"})
			},
			reply: event, status: 201, method: "POST", path: "/v1/groups/g-1/instructions",
			body: map[string]any{"change_by": float64(3), "immediate": true, "reason": "launch"}, want: event,
		},
		{
			name:  "harmonize",
			call:  func(ctx context.Context, c *Client) (any, error) { return c.Harmonize(ctx, "g-1") },
			reply: period, status: 200, method: "POST", path: "/v1/groups/g-1/harmonize", want: period,
		},
		{
			name: "list nodes",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.ListNodes(ctx, "g-1", NodeFilter{IncludeTerminated: true})
			},
			reply:  api.List[api.Node]{Items: []api.Node{node}},
			status: 200, method: "GET", path: "/v1/groups/g-1/nodes", query: url.Values{"include_terminated": {"true"}},
			want: []api.Node{node},
		},
		{
			name:  "terminate node",
			call:  func(ctx context.Context, c *Client) (any, error) { return c.TerminateNode(ctx, "g-1", "n-1") },
			reply: event, status: 200, method: "DELETE", path: "/v1/groups/g-1/nodes/n-1", want: event,
		},
		{
			name:   "fail node",
			call:   func(ctx context.Context, c *Client) (any, error) { return nil, c.FailNode(ctx, "g-1", "n-1") },
			status: 204, method: "POST", path: "/v1/groups/g-1/nodes/n-1/fail", wantNoArg: true,
		},
		{
			name: "create trigger",
			call: func(ctx context.Context, c *Client) (any, error) {
				name, cond := "cpu-high", "last(cpu_utilization) > 80"
				return c.CreateTrigger(ctx, "g-1", api.TriggerSpec{Name: &name, Condition: &cond, Request: api.Request{ChangeBy: intp(2)}})
			},
			reply: trig, status: 201, method: "POST", path: "/v1/groups/g-1/triggers",
			body: map[string]any{"name": "cpu-high", "change_by": float64(2)}, want: trig,
		},
		{
			name:   "list triggers",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.ListTriggers(ctx, "g-1") },
			reply:  api.List[api.Trigger]{Items: []api.Trigger{trig}},
			status: 200, method: "GET", path: "/v1/groups/g-1/triggers", want: []api.Trigger{trig},
		},
		{
			name:  "get trigger",
			call:  func(ctx context.Context, c *Client) (any, error) { return c.GetTrigger(ctx, "t-1") },
			reply: trig, status: 200, method: "GET", path: "/v1/triggers/t-1", want: trig,
		},
		{
			name: "update trigger",
			call: func(ctx context.Context, c *Client) (any, error) {
				off := false
				return c.UpdateTrigger(ctx, "t-1", api.TriggerSpec{Enabled: &off})
			},
			reply: trig, status: 200, method: "PATCH", path: "/v1/triggers/t-1",
			body: map[string]any{"enabled": false}, want: trig,
		},
		{
			name:   "delete trigger",
			call:   func(ctx context.Context, c *Client) (any, error) { return nil, c.DeleteTrigger(ctx, "t-1") },
			status: 204, method: "DELETE", path: "/v1/triggers/t-1", wantNoArg: true,
		},
		{
			name:   "validate condition",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.ValidateCondition(ctx, "avg(x,") },
			reply:  api.ValidateConditionResponse{Valid: false, Message: "unexpected end", Line: 1, Column: 7},
			status: 200, method: "POST", path: "/v1/triggers/validate",
			body: map[string]any{"condition": "avg(x,"},
			want: api.ValidateConditionResponse{Valid: false, Message: "unexpected end", Line: 1, Column: 7},
		},
		{
			name: "push metrics",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.PushMetrics(ctx, "g-1", []api.Sample{{Name: "queue_depth", Value: 12}})
			},
			reply: api.MetricsResponse{Accepted: 1}, status: 200, method: "POST", path: "/v1/groups/g-1/metrics",
			body: map[string]any{"samples": []any{map[string]any{"name": "queue_depth", "value": float64(12)}}},
			want: api.MetricsResponse{Accepted: 1},
		},
		{
			name: "list events with filters",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.ListEvents(ctx, "g-1", EventFilter{Since: t0, Until: t1, Type: api.EventNodeUnavailable, Page: Page{Limit: 2}})
			},
			reply:  api.List[api.Event]{Items: []api.Event{event}},
			status: 200, method: "GET", path: "/v1/groups/g-1/events",
			query: url.Values{"since": {"2026-01-02T10:01:00Z"}, "until": {"2026-01-02T10:02:00Z"}, "type": {"node_unavailable"}, "limit": {"2"}},
			want:  api.List[api.Event]{Items: []api.Event{event}},
		},
		{
			name:   "get event",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.GetEvent(ctx, "e-1") },
			reply:  api.EventDetail{Event: event, Effects: []api.Effect{{Attribution: "direct", Change: change}}, Explanation: "E4 caused C7"},
			status: 200, method: "GET", path: "/v1/events/e-1",
			want: api.EventDetail{Event: event, Effects: []api.Effect{{Attribution: "direct", Change: change}}, Explanation: "E4 caused C7"},
		},
		{
			name: "list changes with filters",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.ListChanges(ctx, "g-1", ChangeFilter{Since: t0, Type: api.ChangeAddNodes, CausedBy: "e-1", Page: Page{PageToken: "p2"}})
			},
			reply:  api.List[api.Change]{Items: []api.Change{change}},
			status: 200, method: "GET", path: "/v1/groups/g-1/changes",
			query: url.Values{"since": {"2026-01-02T10:01:00Z"}, "type": {"add_nodes"}, "caused_by": {"e-1"}, "page_token": {"p2"}},
			want:  api.List[api.Change]{Items: []api.Change{change}},
		},
		{
			name:   "get change",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.GetChange(ctx, "c-1") },
			reply:  api.ChangeDetail{Change: change, Causes: []api.Cause{{Attribution: "indirect", Event: event}}, Explanation: "C7 was caused by E4"},
			status: 200, method: "GET", path: "/v1/changes/c-1",
			want: api.ChangeDetail{Change: change, Causes: []api.Cause{{Attribution: "indirect", Event: event}}, Explanation: "C7 was caused by E4"},
		},
		{
			name: "list changes with causes",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.ListChangesDetailed(ctx, "g-1", ChangeFilter{Type: api.ChangeAddNodes, Page: Page{Limit: 1000}})
			},
			reply:  api.List[api.ChangeDetail]{Items: []api.ChangeDetail{{Change: change, Causes: []api.Cause{{Attribution: "indirect", Event: event}}, Explanation: "C7 was caused by E4"}}, NextPageToken: "n"},
			status: 200, method: "GET", path: "/v1/groups/g-1/changes",
			query: url.Values{"include": {"causes"}, "type": {"add_nodes"}, "limit": {"1000"}},
			want:  api.List[api.ChangeDetail]{Items: []api.ChangeDetail{{Change: change, Causes: []api.Cause{{Attribution: "indirect", Event: event}}, Explanation: "C7 was caused by E4"}}, NextPageToken: "n"},
		},
		{
			name: "list events with effects",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.ListEventsDetailed(ctx, "g-1", EventFilter{Since: t0})
			},
			reply:  api.List[api.EventDetail]{Items: []api.EventDetail{{Event: event, Effects: []api.Effect{{Attribution: "direct", Change: change}}, Explanation: "E4 caused C7"}}},
			status: 200, method: "GET", path: "/v1/groups/g-1/events",
			query: url.Values{"include": {"effects"}, "since": {"2026-01-02T10:01:00Z"}},
			want:  api.List[api.EventDetail]{Items: []api.EventDetail{{Event: event, Effects: []api.Effect{{Attribution: "direct", Change: change}}, Explanation: "E4 caused C7"}}},
		},
		{
			name:   "list periods",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.ListPeriods(ctx, "g-1", Page{Limit: 1}) },
			reply:  api.List[api.Period]{Items: []api.Period{period}},
			status: 200, method: "GET", path: "/v1/groups/g-1/periods", query: url.Values{"limit": {"1"}},
			want: api.List[api.Period]{Items: []api.Period{period}},
		},
		{
			name:  "get period",
			call:  func(ctx context.Context, c *Client) (any, error) { return c.GetPeriod(ctx, "p-1") },
			reply: period, status: 200, method: "GET", path: "/v1/periods/p-1", want: period,
		},
		{
			name:   "forecast",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.Forecast(ctx, "g-1") },
			reply:  api.Forecast{GroupID: "g-1", Mode: "enforce", Ready: true, Intervals: []api.ForecastInterval{{Start: t0, End: t1, Lower: 2, Upper: 9}}},
			status: 200, method: "GET", path: "/v1/groups/g-1/forecast",
			want: api.Forecast{GroupID: "g-1", Mode: "enforce", Ready: true, Intervals: []api.ForecastInterval{{Start: t0, End: t1, Lower: 2, Upper: 9}}},
		},
		{
			name:  "healthz",
			call:  func(ctx context.Context, c *Client) (any, error) { return nil, c.Healthz(ctx) },
			reply: map[string]string{"status": "ok"}, status: 200, method: "GET", path: "/healthz", wantNoArg: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeServer(t, func(_ int, _ *http.Request, w http.ResponseWriter) {
				if tt.reply == nil {
					w.WriteHeader(tt.status)
					return
				}
				writeJSON(w, tt.status, tt.reply)
			})
			c := fastClient(t, f.srv.URL)
			got, err := tt.call(context.Background(), c)
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			reqs := f.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != tt.method || r.Path != tt.path {
				t.Errorf("request %s %s, want %s %s", r.Method, r.Path, tt.method, tt.path)
			}
			if r.Auth != "Bearer tok" || r.UA != "pes-test/1" {
				t.Errorf("headers: Authorization %q, User-Agent %q", r.Auth, r.UA)
			}
			wantQuery := tt.query
			if wantQuery == nil {
				wantQuery = url.Values{}
			}
			if !reflect.DeepEqual(r.Query, wantQuery) {
				t.Errorf("query %v, want %v", r.Query, wantQuery)
			}
			for k, v := range tt.body {
				if !reflect.DeepEqual(r.Body[k], v) {
					t.Errorf("body[%q] = %#v, want %#v (body %v)", k, r.Body[k], v, r.Body)
				}
			}
			if tt.wantNoArg {
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decoded\n%#v\nwant\n%#v", got, tt.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		wantCode   string
		wantField  string
		wantMsg    string // substring
		notFound   bool
		conflict   bool
		unauthoriz bool
	}{
		{"invalid field", 400, `{"error":{"code":"invalid_argument","message":"must be at least 0","field":"min_quantity"}}`,
			api.CodeInvalid, "min_quantity", "must be at least 0", false, false, false},
		{"not found", 404, `{"error":{"code":"not_found","message":"group g-9 not found"}}`,
			api.CodeNotFound, "", "group g-9 not found", true, false, false},
		{"conflict", 409, `{"error":{"code":"conflict","message":"a group named web exists"}}`,
			api.CodeConflict, "", "a group named web exists", false, true, false},
		{"unauthorized", 401, `{"error":{"code":"unauthenticated","message":"missing bearer token"}}`,
			api.CodeUnauthorized, "", "missing bearer token", false, false, true},
		{"no envelope", 404, `404 page not found`, api.CodeNotFound, "", "404 page not found", true, false, false},
		{"empty body", 403, ``, api.CodeForbidden, "", "403 Forbidden", false, false, false},
		{"envelope without code", 409, `{"error":{"message":"busy"}}`, api.CodeConflict, "", "busy", false, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeServer(t, func(_ int, _ *http.Request, w http.ResponseWriter) {
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			})
			c := fastClient(t, f.srv.URL)
			_, err := c.GetGroup(context.Background(), "g-9")
			var ae *api.Error
			if !errors.As(err, &ae) {
				t.Fatalf("error %v (%T) is not an *api.Error", err, err)
			}
			if ae.Status != tt.status || ae.Code != tt.wantCode || ae.Field != tt.wantField || !strings.Contains(ae.Message, tt.wantMsg) {
				t.Errorf("got %+v, want status %d code %q field %q message containing %q", *ae, tt.status, tt.wantCode, tt.wantField, tt.wantMsg)
			}
			if IsNotFound(err) != tt.notFound || IsConflict(err) != tt.conflict || IsUnauthorized(err) != tt.unauthoriz {
				t.Errorf("IsNotFound %v IsConflict %v IsUnauthorized %v", IsNotFound(err), IsConflict(err), IsUnauthorized(err))
			}
			if n := len(f.requests()); n != 1 {
				t.Errorf("%d attempts for a %d, want 1 (4xx is never retried)", n, tt.status)
			}
		})
	}
}

func TestRetryPolicy(t *testing.T) {
	// failFirst answers status (with headers) to the first n attempts, then 200.
	failFirst := func(n, status int, header http.Header) func(int, *http.Request, http.ResponseWriter) {
		return func(i int, _ *http.Request, w http.ResponseWriter) {
			if i <= n {
				for k, v := range header {
					w.Header()[k] = v
				}
				writeErr(w, status, api.CodeUnavailable, "try later", "")
				return
			}
			writeJSON(w, 200, api.Group{ID: "g-1"})
		}
	}
	get := func(ctx context.Context, c *Client) error { _, err := c.GetGroup(ctx, "g-1"); return err }
	post := func(ctx context.Context, c *Client) error {
		_, err := c.Instruct(ctx, "g-1", api.Instruction{Request: api.Request{SetTo: intp(2)}})
		return err
	}
	validate := func(ctx context.Context, c *Client) error { _, err := c.ValidateCondition(ctx, "true"); return err }

	tests := []struct {
		name         string
		reply        func(int, *http.Request, http.ResponseWriter)
		call         func(context.Context, *Client) error
		opts         []Option
		wantAttempts int
		wantStatus   int // 0: success
	}{
		{"GET retried on 503 then succeeds", failFirst(1, 503, nil), get, nil, 2, 0},
		{"GET retried on 500 twice then succeeds", failFirst(2, 500, nil), get, nil, 3, 0},
		{"GET retried on 429", failFirst(1, 429, nil), get, nil, 2, 0},
		{"GET not retried on 400", failFirst(1, 400, nil), get, nil, 1, 400},
		{"GET not retried on 404", failFirst(1, 404, nil), get, nil, 1, 404},
		{"GET not retried on 501", failFirst(1, 501, nil), get, nil, 1, 501},
		{"GET gives up after retry max with the server's error", failFirst(10, 503, nil), get, []Option{WithRetryMax(2)}, 3, 503},
		{"retry max 0 disables retries", failFirst(1, 503, nil), get, []Option{WithRetryMax(0)}, 1, 503},
		{"POST instruction not retried on 503", failFirst(1, 503, nil), post, nil, 1, 503},
		{"POST instruction not retried on 429", failFirst(1, 429, nil), post, nil, 1, 429},
		{"POST validate (idempotent) retried on 503", failFirst(1, 503, nil), validate, nil, 2, 0},
		// The backoff waits an hour unless the Retry-After header is
		// honoured; the context gives up long before that.
		{"Retry-After on 429 honoured", failFirst(1, 429, http.Header{"Retry-After": {"0"}}), get,
			[]Option{WithRetryWait(time.Hour, time.Hour)}, 2, 0},
		{"Retry-After on 503 honoured", failFirst(2, 503, http.Header{"Retry-After": {"0"}}), get,
			[]Option{WithRetryWait(time.Hour, time.Hour)}, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeServer(t, tt.reply)
			c := fastClient(t, f.srv.URL, tt.opts...)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := tt.call(ctx, c)
			if got := len(f.requests()); got != tt.wantAttempts {
				t.Errorf("%d attempts, want %d", got, tt.wantAttempts)
			}
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var ae *api.Error
			if !errors.As(err, &ae) || ae.Status != tt.wantStatus {
				t.Fatalf("error %v, want an *api.Error with status %d", err, tt.wantStatus)
			}
		})
	}
}

// TestRetryConnectionRefused checks that a POST is sent again when the
// connection was refused (it never reached pesd): the first dial goes to a
// closed port, the next ones to the server.
func TestRetryConnectionRefused(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := closed.Addr().String()
	closed.Close()

	tests := []struct {
		name         string
		refusals     int32
		retryMax     int
		call         func(context.Context, *Client) error
		wantAttempts int // attempts that reached the server
		wantErr      bool
	}{
		{"POST retried after refusal", 1, 3, func(ctx context.Context, c *Client) error {
			_, err := c.Instruct(ctx, "g-1", api.Instruction{Request: api.Request{ChangeBy: intp(1)}})
			return err
		}, 1, false},
		{"GET retried after two refusals", 2, 3, func(ctx context.Context, c *Client) error {
			_, err := c.GetGroup(ctx, "g-1")
			return err
		}, 1, false},
		{"refused more often than retries", 5, 2, func(ctx context.Context, c *Client) error {
			_, err := c.GetGroup(ctx, "g-1")
			return err
		}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeServer(t, func(_ int, _ *http.Request, w http.ResponseWriter) { writeJSON(w, 200, api.Event{ID: "x"}) })
			var dials atomic.Int32
			tr := &http.Transport{DisableKeepAlives: true}
			d := net.Dialer{}
			tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				if dials.Add(1) <= tt.refusals {
					addr = deadAddr
				}
				return d.DialContext(ctx, network, addr)
			}
			c := fastClient(t, f.srv.URL, WithHTTPClient(&http.Client{Transport: tr}), WithRetryMax(tt.retryMax))
			err := tt.call(context.Background(), c)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if got := len(f.requests()); got != tt.wantAttempts {
				t.Errorf("%d requests reached the server, want %d", got, tt.wantAttempts)
			}
		})
	}
}

// TestPostNotRetriedAfterAnswerLost checks that a POST whose connection
// breaks after the server read it is not sent again.
func TestPostNotRetriedAfterAnswerLost(t *testing.T) {
	f := newFakeServer(t, func(_ int, _ *http.Request, w http.ResponseWriter) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	c := fastClient(t, f.srv.URL)
	_, err := c.Instruct(context.Background(), "g-1", api.Instruction{Request: api.Request{ChangeBy: intp(1)}})
	if err == nil {
		t.Fatal("no error for a connection closed without an answer")
	}
	if got := len(f.requests()); got != 1 {
		t.Errorf("%d attempts, want 1", got)
	}
	// The same break on a GET is retried.
	f2 := newFakeServer(t, f.reply)
	c2 := fastClient(t, f2.srv.URL, WithRetryMax(2))
	if _, err := c2.GetGroup(context.Background(), "g-1"); err == nil {
		t.Fatal("no error")
	}
	if got := len(f2.requests()); got != 3 {
		t.Errorf("GET: %d attempts, want 3", got)
	}
}

func TestContextStopsRetries(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := newFakeServer(t, func(_ int, _ *http.Request, w http.ResponseWriter) {
		cancel() // the caller gives up while the server is failing
		writeErr(w, 503, api.CodeUnavailable, "down", "")
	})
	c := fastClient(t, f.srv.URL, WithRetryWait(time.Hour, time.Hour))
	_, err := c.GetGroup(ctx, "g-1")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if got := len(f.requests()); got != 1 {
		t.Errorf("%d attempts, want 1", got)
	}
}

func TestListAllFollowsPages(t *testing.T) {
	pages := map[string]api.List[api.Event]{
		"":   {Items: []api.Event{{ID: "e1"}, {ID: "e2"}}, NextPageToken: "t2"},
		"t2": {Items: []api.Event{{ID: "e3"}}, NextPageToken: "t3"},
		"t3": {Items: []api.Event{{ID: "e4"}}},
	}
	f := newFakeServer(t, func(_ int, r *http.Request, w http.ResponseWriter) {
		if r.URL.Query().Get("type") != "node_unavailable" {
			writeErr(w, 400, api.CodeInvalid, "filter lost between pages", "type")
			return
		}
		writeJSON(w, 200, pages[r.URL.Query().Get("page_token")])
	})
	c := fastClient(t, f.srv.URL)
	got, err := c.ListAllEvents(context.Background(), "g-1", EventFilter{Type: api.EventNodeUnavailable})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range got {
		ids = append(ids, e.ID)
	}
	if want := []string{"e1", "e2", "e3", "e4"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ids %v, want %v", ids, want)
	}
	if n := len(f.requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}

	// A server that repeats a token must not loop the client forever.
	loop := newFakeServer(t, func(_ int, _ *http.Request, w http.ResponseWriter) {
		writeJSON(w, 200, api.List[api.Change]{Items: []api.Change{{ID: "c"}}, NextPageToken: "same"})
	})
	lc := fastClient(t, loop.srv.URL)
	if _, err := lc.ListAllChanges(context.Background(), "g-1", ChangeFilter{}); err == nil {
		t.Error("no error for a repeated page token")
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		endpoint string
		opts     []Option
		wantErr  string // substring; "" means valid
	}{
		{"http://127.0.0.1:7400", nil, ""},
		{"https://pes.example.test/base/", nil, ""},
		{"", nil, "endpoint: must not be empty"},
		{"127.0.0.1:7400", nil, "endpoint:"},
		{"ftp://host", nil, "scheme must be http or https"},
		{"http://", nil, "no host"},
		{"http://h?x=1", nil, "query"},
		{"http://h", []Option{WithRetryMax(-1)}, "retry max"},
		{"http://h", []Option{WithRetryWait(time.Second, time.Millisecond)}, "retry wait"},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint, func(t *testing.T) {
			_, err := New(tt.endpoint, "t", tt.opts...)
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
}

func TestBasePathAndNoToken(t *testing.T) {
	f := newFakeServer(t, func(_ int, _ *http.Request, w http.ResponseWriter) { writeJSON(w, 200, api.Group{ID: "g"}) })
	c, err := New(f.srv.URL+"/pes/", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetGroup(context.Background(), "g"); err != nil {
		t.Fatal(err)
	}
	r := f.requests()[0]
	if r.Path != "/pes/v1/groups/g" {
		t.Errorf("path %q, want /pes/v1/groups/g", r.Path)
	}
	if r.Auth != "" {
		t.Errorf("Authorization %q sent without a token", r.Auth)
	}
	if r.UA != DefaultUserAgent {
		t.Errorf("User-Agent %q, want %q", r.UA, DefaultUserAgent)
	}
}

// TestBackoff: the client's backoff honours Retry-After (seconds or an
// HTTP date) on 429 and 503, and otherwise doubles from min up to max.
func TestBackoff(t *testing.T) {
	c, err := New("http://127.0.0.1:1", "")
	if err != nil {
		t.Fatal(err)
	}
	backoff := c.http.Backoff
	const minWait, maxWait = time.Second, 5 * time.Second
	inFuture := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		value string
		want  time.Duration // 0 with ok false: the exponential wait
		ok    bool
	}{
		{"7", 7 * time.Second, true},
		{"0", 0, true},
		{time.Now().Add(-time.Minute).UTC().Format(http.TimeFormat), 0, true},
		{"-3", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		for _, status := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
			resp := &http.Response{StatusCode: status, Header: http.Header{"Retry-After": {tt.value}}}
			want := tt.want
			if !tt.ok {
				want = minWait
			}
			if got := backoff(minWait, maxWait, 0, resp); got != want {
				t.Errorf("%d with Retry-After %q: wait %v, want %v", status, tt.value, got, want)
			}
		}
	}
	// An HTTP date 90s ahead, to the second it is written with.
	resp := &http.Response{StatusCode: 503, Header: http.Header{"Retry-After": {inFuture}}}
	if got := backoff(minWait, maxWait, 0, resp); got <= 88*time.Second || got > 90*time.Second {
		t.Errorf("Retry-After %q: wait %v, want about 90s", inFuture, got)
	}
	// Without Retry-After the wait doubles from min and stops at max.
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second} {
		resp := &http.Response{StatusCode: 503, Header: http.Header{}}
		if got := backoff(minWait, maxWait, i, resp); got != want {
			t.Errorf("backoff attempt %d = %v, want %v", i, got, want)
		}
	}
	resp = &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"30"}}}
	if got := backoff(minWait, maxWait, 0, resp); got != 30*time.Second {
		t.Errorf("backoff with Retry-After 30 = %v, want 30s", got)
	}
	// Retry-After on another status is not a server's request to wait.
	resp = &http.Response{StatusCode: 500, Header: http.Header{"Retry-After": {"30"}}}
	if got := backoff(minWait, maxWait, 1, resp); got != 2*time.Second {
		t.Errorf("500 with Retry-After 30: wait %v, want the exponential 2s", got)
	}
}

// TestActor: a client WithActor names its actor in what it creates,
// patches, instructs, deletes and terminates, unless the call names one;
// without it nothing is sent and pesd records "api". Calls without a body
// send it as the actor query parameter.
func TestActor(t *testing.T) {
	f := newFakeServer(t, func(_ int, r *http.Request, w http.ResponseWriter) { writeJSON(w, 200, map[string]any{}) })
	ctx := context.Background()
	tf := fastClient(t, f.srv.URL, WithActor("terraform"))
	plain := fastClient(t, f.srv.URL)
	calls := []struct {
		name    string
		call    func() error
		want    any  // the actor sent; nil for none
		inQuery bool // sent as ?actor= rather than in the body
	}{
		{"create", func() error { _, err := tf.CreateGroup(ctx, api.GroupConfig{Name: "web"}); return err }, "terraform", false},
		{"patch", func() error { _, err := tf.UpdateGroup(ctx, "g", api.GroupPatch{MinQuantity: intp(1)}); return err }, "terraform", false},
		{"patch by alice", func() error { _, err := tf.UpdateGroup(ctx, "g", api.GroupPatch{Actor: "alice"}); return err }, "alice", false},
		{"instruct", func() error {
			_, err := tf.Instruct(ctx, "g", api.Instruction{Request: api.Request{SetTo: intp(2)}})
			return err
		}, "terraform", false},
		{"instruct by bob", func() error {
			_, err := tf.Instruct(ctx, "g", api.Instruction{Request: api.Request{SetTo: intp(2)}, Actor: "bob"})
			return err
		}, "bob", false},
		{"create without actor", func() error { _, err := plain.CreateGroup(ctx, api.GroupConfig{Name: "web"}); return err }, nil, false},
		{"instruct without actor", func() error {
			_, err := plain.Instruct(ctx, "g", api.Instruction{Request: api.Request{SetTo: intp(2)}})
			return err
		}, nil, false},
		{"delete", func() error { return tf.DeleteGroup(ctx, "g") }, "terraform", true},
		{"terminate", func() error { _, err := tf.TerminateNode(ctx, "g", "n-1"); return err }, "terraform", true},
		{"delete without actor", func() error { return plain.DeleteGroup(ctx, "g") }, nil, true},
		{"terminate without actor", func() error { _, err := plain.TerminateNode(ctx, "g", "n-1"); return err }, nil, true},
	}
	for i, c := range calls {
		if err := c.call(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		req := f.requests()[i]
		body := req.Body
		var got any = body["actor"]
		if c.inQuery {
			if body != nil {
				t.Errorf("%s: a body was sent: %v", c.name, body)
			}
			got = nil
			if vs, ok := req.Query["actor"]; ok {
				got = strings.Join(vs, ",")
			}
		}
		if got != c.want {
			t.Errorf("%s: actor %#v, want %#v (query %v, body %v)", c.name, got, c.want, req.Query, body)
		}
		if c.name == "create" && body["name"] != "web" {
			t.Errorf("create: the group config was not sent beside the actor: %v", body)
		}
	}
}

// TestPatchLabels: the client sends {} to clear labels and leaves them
// out when the patch does not touch them.
func TestPatchLabels(t *testing.T) {
	f := newFakeServer(t, func(_ int, r *http.Request, w http.ResponseWriter) { writeJSON(w, 200, api.Group{}) })
	c := fastClient(t, f.srv.URL)
	ctx := context.Background()
	for _, p := range []api.GroupPatch{{Labels: map[string]string{}}, {MinQuantity: intp(1)}, {Labels: map[string]string{"a": "b"}}} {
		if _, err := c.UpdateGroup(ctx, "g", p); err != nil {
			t.Fatal(err)
		}
	}
	reqs := f.requests()
	if l, ok := reqs[0].Body["labels"]; !ok || !reflect.DeepEqual(l, map[string]any{}) {
		t.Errorf("clearing: labels %#v (present %v), want {}", l, ok)
	}
	if l, ok := reqs[1].Body["labels"]; ok {
		t.Errorf("untouched: labels %#v sent", l)
	}
	if l := reqs[2].Body["labels"]; !reflect.DeepEqual(l, map[string]any{"a": "b"}) {
		t.Errorf("replacing: labels %#v", l)
	}
}

// TestWaitGroup: the long-poll read sends the condition and a timeout the
// attempt outlives, and reports whether the condition held from the
// answer's header.
func TestWaitGroup(t *testing.T) {
	outcome := api.WaitMet
	f := newFakeServer(t, func(n int, r *http.Request, w http.ResponseWriter) {
		w.Header().Set(api.HeaderWait, outcome)
		writeJSON(w, http.StatusOK, api.Group{ID: "g1", GroupConfig: api.GroupConfig{DesiredQuantity: 3}, ActualQuantity: 3})
	})
	c := fastClient(t, f.srv.URL, WithTimeout(20*time.Second))
	cond := api.GroupWait{Field: "actual_quantity", Op: ">=", Value: 3}
	for _, tc := range []struct {
		outcome string
		timeout time.Duration
		want    bool
		query   string
	}{
		{api.WaitMet, 10 * time.Second, true, "10s"},
		// Capped below the attempt's 20s timeout.
		{api.WaitTimeout, time.Minute, false, "15s"},
		{api.WaitDeleted, 2 * time.Second, false, "2s"},
	} {
		outcome = tc.outcome
		g, met, err := c.WaitGroup(context.Background(), "g1", cond, tc.timeout)
		if err != nil {
			t.Fatalf("%s: %v", tc.outcome, err)
		}
		if met != tc.want || g.ID != "g1" {
			t.Errorf("%s: met %v group %q; want %v, g1", tc.outcome, met, g.ID, tc.want)
		}
		reqs := f.requests()
		q := reqs[len(reqs)-1].Query
		if q.Get("wait") != "actual_quantity>=3" || q.Get("timeout") != tc.query {
			t.Errorf("%s: query %v; want wait=actual_quantity>=3 timeout=%s", tc.outcome, q, tc.query)
		}
	}
}
