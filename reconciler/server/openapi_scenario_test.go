package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
	"github.com/pes-project/terraform-provider-pes/reconciler/controller"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/sim"
	"github.com/pes-project/terraform-provider-pes/reconciler/governor"
	"github.com/pes-project/terraform-provider-pes/reconciler/history"
	"github.com/pes-project/terraform-provider-pes/reconciler/server"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlite"
)

const scenarioToken = "scenario-token"

// conformance is a real pesd API (the controller on a SQLite file, the sim
// driver, a fake clock) whose every answer is checked against the OpenAPI
// description, and every request the server accepted too.
type conformance struct {
	t      *testing.T
	ctx    context.Context
	clk    *clock.Fake
	ctrl   *controller.Controller
	srv    *httptest.Server
	doc    *openapi3.T
	router routers.Router
	// ok counts, per operation id, the answers in 2xx that matched.
	ok map[string]int
}

func newConformance(t *testing.T) *conformance {
	t.Helper()
	// kin-openapi decodes text/csv as records of one width; the history
	// import's lines may have 2 or 3 fields, and the description says its
	// body is a string of lines.
	openapi3filter.RegisterBodyDecoder("text/csv", func(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		b, err := io.ReadAll(r)
		return string(b), err
	})
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "pes.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := clock.NewFake(time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC))
	ctrl, err := controller.New(controller.Options{Store: st, Clock: clk, DataDir: t.TempDir(),
		Drivers:        map[string]driver.Driver{api.DriverSim: sim.New(clk)},
		Governor:       governor.New(st, governor.WithClock(clk)),
		ReplayGovernor: func(st store.Reader) controller.Governor { return governor.New(st) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctrl.Close() })
	c := &conformance{t: t, ctx: context.Background(), clk: clk, ctrl: ctrl, ok: map[string]int{}}
	c.srv = httptest.NewServer(server.New(ctrl, history.New(st, history.WithClock(clk)), scenarioToken, nil, server.WithClock(clk), server.WithIdentity(st)))
	t.Cleanup(c.srv.Close)

	b, err := server.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	c.doc, err = openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		t.Fatal(err)
	}
	c.doc.Servers = openapi3.Servers{{URL: c.srv.URL}}
	if err := c.doc.Validate(c.ctx); err != nil {
		t.Fatal(err)
	}
	if c.router, err = gorillamux.NewRouter(c.doc); err != nil {
		t.Fatal(err)
	}
	return c
}

// tick advances the clock by d and runs a reconcile pass.
func (c *conformance) tick(d time.Duration) {
	c.t.Helper()
	c.clk.Advance(d)
	if err := c.ctrl.Tick(c.ctx); err != nil {
		c.t.Fatalf("tick: %v", err)
	}
}

// call sends a request (with the token unless noAuth), checks the answer
// has want's status and matches the description, and decodes a JSON
// answer into out (when not nil).
func (c *conformance) call(method, path, contentType, body string, want int, out any, noAuth ...bool) []byte {
	c.t.Helper()
	req, err := http.NewRequest(method, c.srv.URL+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if len(noAuth) == 0 {
		req.Header.Set("Authorization", "Bearer "+scenarioToken)
	}
	if body != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.srv.Client().Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		c.t.Fatal(err)
	}
	if resp.StatusCode != want {
		c.t.Fatalf("%s %s: status %d, want %d: %.500s", method, path, resp.StatusCode, want, raw)
	}

	// The request as the description's router sees it.
	vreq, _ := http.NewRequest(method, c.srv.URL+path, strings.NewReader(body))
	vreq.Header = req.Header.Clone()
	route, params, err := c.router.FindRoute(vreq)
	if err != nil {
		c.t.Fatalf("%s %s: no operation of the description matches: %v", method, path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	if resp.StatusCode < 300 {
		// A request pesd accepted must be one the description allows.
		if err := openapi3filter.ValidateRequest(c.ctx, in); err != nil {
			c.t.Errorf("%s %s: pesd accepted a request its description rejects: %v", method, path, err)
		}
	}
	rin := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	rin.SetBodyBytes(raw)
	if err := openapi3filter.ValidateResponse(c.ctx, rin); err != nil {
		c.t.Errorf("%s %s: the %d answer does not match the description: %v\n%.1000s", method, path, resp.StatusCode, err, raw)
	} else if resp.StatusCode < 300 {
		c.ok[route.Operation.OperationID]++
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: decode: %v", method, path, err)
		}
	}
	return raw
}

func (c *conformance) json(method, path, body string, want int, out any) []byte {
	c.t.Helper()
	return c.call(method, path, "application/json", body, want, out)
}

// TestResponsesMatchOpenAPI drives the real handlers through a scenario
// (a group created, instructed and harmonized, nodes launched, failed and
// terminated, triggers, metrics, a history import, the causality lists
// with include, the errors) and checks every answer against the OpenAPI
// description with kin-openapi's validator. Every described operation
// must have answered in 2xx at least once.
func TestResponsesMatchOpenAPI(t *testing.T) {
	c := newConformance(t)

	// Before the first reconcile pass pesd is alive but not ready.
	c.json("GET", "/healthz", "", 200, nil)
	c.call("GET", "/readyz", "", "", 503, nil, true)
	c.tick(time.Second)
	c.call("GET", "/readyz", "", "", 200, nil, true)
	c.call("GET", "/v1/openapi.json", "", "", 200, nil, true)

	var g api.Group
	c.json("POST", "/v1/groups", `{"name":"web","driver":"sim","program":{"command":"worker"},"desired_quantity":2,
		"max_quantity":10,"sim":{"boot_time":"1s"},"labels":{"team":"a"},"actor":"alice",
		"health_check":{"type":"tcp","interval":"1s"},"billing":{"price_per_node_hour":"0.25","increment":"1m"}}`, 201, &g)
	c.tick(2 * time.Second)
	c.tick(2 * time.Second)
	var groups api.List[api.Group]
	c.json("GET", "/v1/groups?limit=1", "", 200, &groups)
	c.json("GET", "/v1/groups?include_deleted=true", "", 200, nil)
	c.json("GET", "/v1/groups/"+g.ID, "", 200, nil)
	c.json("GET", "/v1/groups/web?include_deleted=true", "", 200, nil) // names work wherever ids go
	c.json("PATCH", "/v1/groups/"+g.ID, `{"desired_quantity":3,"reason":"load","actor":"bob"}`, 200, nil)

	var ev api.Event
	c.json("POST", "/v1/groups/"+g.ID+"/instructions", `{"change_by":1,"reason":"more","priority":120}`, 201, &ev)
	c.json("POST", "/v1/groups/"+g.ID+"/instructions", `{"set_to":4,"immediate":true}`, 201, nil)
	var p api.Period
	c.json("POST", "/v1/groups/"+g.ID+"/harmonize", "", 200, &p)
	c.tick(2 * time.Second)
	c.tick(2 * time.Second)

	var nodes api.List[api.Node]
	c.json("GET", "/v1/groups/"+g.ID+"/nodes", "", 200, &nodes)
	if len(nodes.Items) < 2 {
		t.Fatalf("%d nodes, want at least 2", len(nodes.Items))
	}
	c.json("POST", "/v1/groups/"+g.ID+"/nodes/"+nodes.Items[0].ID+"/fail", "", 204, nil)
	c.tick(2 * time.Second)
	c.json("DELETE", "/v1/groups/"+g.ID+"/nodes/"+nodes.Items[1].ID+"?actor=carol", "", 200, nil)
	c.tick(2 * time.Second)
	c.json("GET", "/v1/groups/"+g.ID+"/nodes?include_terminated=true&limit=2", "", 200, nil)

	// Triggers, metrics.
	var tr api.Trigger
	c.json("POST", "/v1/groups/"+g.ID+"/triggers", `{"name":"cpu-high","condition":"avg(cpu, '2m') > 80","for":"1m","change_by":1}`, 201, &tr)
	c.json("GET", "/v1/groups/"+g.ID+"/triggers", "", 200, nil)
	c.json("GET", "/v1/triggers/"+tr.ID, "", 200, nil)
	c.json("GET", "/v1/triggers/cpu-high?group=web", "", 200, nil)
	c.json("PATCH", "/v1/triggers/"+tr.ID, `{"enabled":false,"change_by_percent":50}`, 200, nil)
	c.json("POST", "/v1/triggers/validate", `{"condition":"avg(cpu, '2m') > 80"}`, 200, nil)
	c.json("POST", "/v1/triggers/validate", `{"condition":"avg(cpu >"}`, 200, nil)
	c.json("GET", "/v1/replicas", "", 200, nil)
	c.json("POST", "/v1/groups/"+g.ID+"/metrics", `{"samples":[{"name":"cpu","value":93.5},{"name":"cpu","value":12,"time":"2026-03-14T10:00:20Z"}]}`, 200, nil)
	c.tick(time.Second)
	// The trigger now answers with the last cpu it read.
	var observed api.Trigger
	c.json("GET", "/v1/triggers/"+tr.ID, "", 200, &observed)
	if len(observed.Observed) != 1 || observed.Observed[0].Metric != "cpu" {
		c.t.Errorf("trigger after a push: observed %+v, want the last cpu", observed.Observed)
	}
	c.json("GET", "/v1/groups/"+g.ID+"/triggers", "", 200, nil)

	// Predictive governing: a forecast and a history import.
	c.json("PATCH", "/v1/groups/"+g.ID, `{"predictive":{"mode":"forecast_only","history":"1d","min_history":"1h"}}`, 200, nil)
	c.call("POST", "/v1/groups/"+g.ID+"/history", "text/csv", "2026-03-13T10:00:00Z,2\n2026-03-13T11:00:00Z,3,3\n", 200, nil)
	c.call("POST", "/v1/groups/"+g.ID+"/history", "application/json", `[{"time":"2026-03-12T10:00:00Z","desired":2}]`, 200, nil)
	c.json("GET", "/v1/groups/"+g.ID+"/forecast", "", 200, nil)

	// The history and its causality, plain and detailed.
	var events api.List[api.Event]
	c.json("GET", "/v1/groups/"+g.ID+"/events", "", 200, &events)
	c.json("GET", "/v1/groups/"+g.ID+"/events?include=effects&limit=3", "", 200, nil)
	c.json("GET", "/v1/groups/"+g.ID+"/events?type=user_instruction&since=2026-03-14T00:00:00Z&until=2026-03-15T00:00:00Z", "", 200, nil)
	c.json("GET", "/v1/events/"+ev.ID, "", 200, nil)
	var changes api.List[api.Change]
	c.json("GET", "/v1/groups/"+g.ID+"/changes", "", 200, &changes)
	if len(changes.Items) == 0 {
		t.Fatal("no changes recorded")
	}
	c.json("GET", "/v1/groups/"+g.ID+"/changes?include=causes", "", 200, nil)
	c.json("GET", "/v1/groups/"+g.ID+"/changes?caused_by="+ev.Label+"&type=add_nodes", "", 200, nil)
	c.json("GET", "/v1/changes/"+changes.Items[0].ID, "", 200, nil)
	var periods api.List[api.Period]
	c.json("GET", "/v1/groups/"+g.ID+"/periods", "", 200, &periods)
	c.json("GET", "/v1/periods/"+p.ID, "", 200, nil)
	since, until := changes.Items[0].StartedAt.Add(-time.Hour), changes.Items[0].StartedAt.Add(time.Hour)
	var tl api.Timeline
	c.json("GET", "/v1/groups/"+g.ID+"/timeline?since="+since.Format(time.RFC3339)+"&until="+until.Format(time.RFC3339)+"&buckets=50", "", 200, &tl)
	// A backtest of the last minutes with a proposed trigger, and a window
	// the wrong way round.
	from := c.clk.Now().Add(-5 * time.Minute).Format(time.RFC3339)
	var wi api.WhatIf
	c.json("POST", "/v1/groups/"+g.ID+"/whatif", `{"since":"`+from+`","triggers":[{"name":"cpu-high","condition":"avg(cpu, '2m') > 50","change_by":2}],"group":{"cooldown":"1m"}}`, 200, &wi)
	if wi.Samples == 0 {
		c.t.Errorf("whatif replayed no samples: %+v", wi)
	}
	c.json("POST", "/v1/groups/"+g.ID+"/whatif", `{"since":"`+from+`","until":"`+from+`"}`, 400, nil)
	if len(tl.Changes) == 0 {
		t.Errorf("timeline around %s: no changes", changes.Items[0].StartedAt)
	}
	var costs api.Costs
	c.json("GET", "/v1/groups/"+g.ID+"/costs?by=trigger", "", 200, &costs)
	if costs.TotalNodeSeconds == 0 || costs.Currency != "USD" || len(costs.Rows) == 0 {
		t.Errorf("costs: %+v", costs)
	}
	c.json("GET", "/v1/groups/"+g.ID+"/costs?by=colour", "", 400, nil)
	if raw := c.call("GET", "/v1/groups/"+g.ID+"/costs?since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z", "", "", 400, nil); !strings.Contains(string(raw), `"field":"until"`) {
		t.Errorf("since after until: %s, want a 400 naming until", raw)
	}
	costsPaged(c, "/v1/groups/"+g.ID+"/costs")
	if m := string(c.call("GET", "/metrics", "", "", 200, nil)); !strings.Contains(m, `pes_group_cost_total{currency="USD",group="web"`) ||
		!strings.Contains(m, `pes_group_node_seconds_total{group="web"`) {
		t.Errorf("/metrics with the token has no cost counters of group web")
	}

	// Tokens and the audit record (admin: the bootstrap token).
	var tok api.TokenCreated
	c.json("POST", "/v1/tokens", `{"name":"terraform-ci","tenant":"default","role":"writer","expires":"90d"}`, 201, &tok)
	c.json("GET", "/v1/tokens", "", 200, nil)
	c.json("DELETE", "/v1/tokens/"+tok.ID, "", 200, nil)
	c.json("GET", "/v1/audit", "", 200, nil)

	// Executions on the sim driver: started by the group's name, suspended,
	// resumed by label, completed; another cancelled.
	var x api.Execution
	c.json("POST", "/v1/executions", `{"group_id":"web","name":"batch","program_type":"sum",
		"input":{"items":[1,{"a":2},"three"],"items_per_job":1},"max_attempts":2,
		"sim":{"item_duration":"1s"},"on_complete":{"scale_to":2}}`, 201, &x)
	c.json("GET", "/v1/executions?group_id=web&status=running&limit=5", "", 200, nil)
	c.json("POST", "/v1/executions/"+x.ID+"/suspend", `{"release_nodes":false,"actor":"alice"}`, 200, nil)
	c.tick(time.Second)
	c.json("POST", "/v1/executions/"+x.Label+"/resume", "", 200, nil)
	for range 4 {
		c.tick(time.Second)
	}
	var done api.Execution
	c.json("GET", "/v1/executions/"+x.ID, "", 200, &done)
	if done.Status != api.ExecutionCompleted {
		t.Fatalf("execution %s is %s, want completed", done.Label, done.Status)
	}
	c.json("GET", "/v1/executions/"+x.ID+"/jobs?limit=2", "", 200, nil)
	c.json("GET", "/v1/executions/"+x.ID+"/output", "", 200, nil)
	c.json("POST", "/v1/executions/"+x.ID+"/suspend", "", 409, nil)
	var y api.Execution
	c.json("POST", "/v1/executions", `{"group_id":"`+g.ID+`","input":{"lines":"/nope/missing.txt"}}`, 400, nil)
	c.json("POST", "/v1/executions", `{"group_id":"`+g.ID+`","input":{"items":[1]},"sim":{"item_duration":"1h"}}`, 201, &y)
	c.json("POST", "/v1/executions/"+y.ID+"/cancel", `{"actor":"bob"}`, 200, nil)

	// Runs: the completed execution left one; three more imported (CSV,
	// then JSON), and the recommendation from the four.
	var imp api.RunsImport
	c.call("POST", "/v1/program-types/sum/runs", "text/csv",
		"label,input_size,nodes_mean,wall_seconds\nold-1,3,1,40\nold-2,3,2,25\n", 200, &imp)
	c.call("POST", "/v1/program-types/sum/runs", "application/json",
		`[{"label":"old-3","input_size":3,"nodes_mean":3,"wall_seconds":20,"ended_at":"2026-03-01T00:00:00Z"}]`, 200, nil)
	var runs api.List[api.Run]
	c.json("GET", "/v1/program-types/sum/runs?limit=10", "", 200, &runs)
	if len(runs.Items) != 4 {
		t.Fatalf("runs of sum: %d, want 4 (one of %s, three imported)", len(runs.Items), x.Label)
	}
	var rec api.Recommendation
	c.json("GET", "/v1/program-types/sum/recommendation?input_size=3&deadline=1m&max_nodes=4", "", 200, &rec)
	if rec.Status != api.RecommendationOK || rec.Runs != 4 {
		t.Fatalf("recommendation: %+v", rec)
	}
	c.json("GET", "/v1/program-types/sum/recommendation?input_size=many", "", 400, nil)
	deadline := c.clk.Now().Add(time.Second).Format(time.RFC3339)
	var warned api.Execution
	c.json("POST", "/v1/executions", `{"group_id":"web","program_type":"sum","input":{"items":[1,2,3]},"deadline":"`+deadline+`"}`, 201, &warned)
	if len(warned.Warnings) != 1 || warned.Recommendation == nil {
		t.Fatalf("an execution predicted to miss its deadline: warnings %+v", warned.Warnings)
	}

	// Errors, in the envelope.
	c.json("GET", "/v1/groups/nope", "", 404, nil)
	c.json("GET", "/v1/groups?limit=0", "", 400, nil)
	c.json("POST", "/v1/groups", `{"name":"web","driver":"sim","desired_quantity":-1}`, 400, nil)
	c.json("POST", "/v1/groups/"+g.ID+"/instructions", `{"change_by":1,"set_to":2}`, 400, nil)
	c.call("GET", "/v1/groups", "", "", 401, nil, true)
	c.json("POST", "/v1/groups", `{"name":"web","driver":"sim","desired_quantity":1,"x":"`+strings.Repeat("a", 1<<20)+`"}`, 413, nil)

	// Deletes.
	c.json("DELETE", "/v1/triggers/"+tr.ID, "", 204, nil)
	c.json("DELETE", "/v1/groups/"+g.ID+"?actor=alice", "", 204, nil)
	c.json("POST", "/v1/groups/"+g.ID+"/harmonize", "", 409, nil)

	var missing []string
	for _, item := range c.doc.Paths.Map() {
		for _, op := range item.Operations() {
			if c.ok[op.OperationID] == 0 {
				missing = append(missing, op.OperationID)
			}
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("operations the scenario never saw answer in 2xx: %s; add them to it", strings.Join(missing, ", "))
	}
	if t.Failed() {
		t.Logf("answers that matched: %v", fmt.Sprint(c.ok))
	}
}

// costsPaged reads a group's costs by change and by cause in pages of one
// row: the pages together are the unpaged rows in the same order, each
// page has the whole window's totals, later pages keep the first page's
// window though until was left to default to now and the clock moved, and
// a bad limit or a token of another query is a 400 naming the field.
func costsPaged(c *conformance, path string) {
	t := c.t
	t.Helper()
	for _, by := range []string{api.CostsByChange, api.CostsByCause} {
		var first api.Costs
		c.json("GET", path+"?by="+by+"&limit=1", "", 200, &first)
		var all api.Costs
		window := "&since=" + url.QueryEscape(first.Since.Format(time.RFC3339Nano)) + "&until=" + url.QueryEscape(first.Until.Format(time.RFC3339Nano))
		c.json("GET", path+"?by="+by+window, "", 200, &all)
		if all.NextPageToken != "" {
			t.Errorf("by %s: an unpaged answer has next_page_token %q", by, all.NextPageToken)
		}
		if len(all.Rows) < 2 {
			t.Fatalf("by %s: %d rows; the scenario needs 2 or more to page", by, len(all.Rows))
		}
		c.tick(time.Minute) // now moves on: later pages must keep the first page's until
		got, page, pages := []api.CostRow(nil), first, 1
		for {
			got = append(got, page.Rows...)
			if len(page.Rows) != 1 || !page.Since.Equal(all.Since) || !page.Until.Equal(all.Until) ||
				page.TotalNodeSeconds != all.TotalNodeSeconds || page.TotalCostMicros != all.TotalCostMicros || page.TotalCost != all.TotalCost {
				t.Errorf("by %s, page %d: %d rows, window %s to %s, totals %d s %s; want 1 row and the window's %s to %s, %d s %s",
					by, pages, len(page.Rows), page.Since, page.Until, page.TotalNodeSeconds, page.TotalCost,
					all.Since, all.Until, all.TotalNodeSeconds, all.TotalCost)
			}
			if page.NextPageToken == "" || pages > len(all.Rows) {
				break
			}
			tok := page.NextPageToken
			page = api.Costs{}
			c.json("GET", path+"?by="+by+"&limit=1&page_token="+url.QueryEscape(tok), "", 200, &page)
			pages++
		}
		if !reflect.DeepEqual(got, all.Rows) {
			t.Errorf("by %s: %d pages give %d rows unlike the %d unpaged rows:\n%+v\nwant\n%+v", by, pages, len(got), len(all.Rows), got, all.Rows)
		}
		// A token without limit reads the rest.
		var rest api.Costs
		c.json("GET", path+"?by="+by+"&page_token="+url.QueryEscape(first.NextPageToken), "", 200, &rest)
		if !reflect.DeepEqual(rest.Rows, all.Rows[1:]) || rest.NextPageToken != "" {
			t.Errorf("by %s: the rest after page 1 is %d rows (next %q), want %d", by, len(rest.Rows), rest.NextPageToken, len(all.Rows)-1)
		}
		for _, tc := range []struct{ query, field, says string }{
			{"&limit=0", "limit", "from 1 to"},
			{"&limit=1001", "limit", "from 1 to"},
			{"&limit=ten", "limit", "whole number"},
			{"&page_token=%21%21not-a-token", "page_token", "omit it to start"},
			{"&page_token=" + url.QueryEscape(first.NextPageToken) + "&until=" + url.QueryEscape(first.Until.Format(time.RFC3339Nano)), "page_token", "same by, since and until"},
			{"&page_token=" + url.QueryEscape(first.NextPageToken[:len(first.NextPageToken)-2]), "page_token", "not a token"},
		} {
			var e api.ErrorBody
			c.json("GET", path+"?by="+by+tc.query, "", 400, &e)
			if e.Error.Field != tc.field || !strings.Contains(e.Error.Message, tc.says) {
				t.Errorf("by %s%s: error %+v, want one naming %s that says %q", by, tc.query, e.Error, tc.field, tc.says)
			}
		}
	}
	// A token of another grouping.
	var first api.Costs
	c.json("GET", path+"?by=change&limit=1", "", 200, &first)
	var e api.ErrorBody
	c.json("GET", path+"?by=day&limit=1&page_token="+url.QueryEscape(first.NextPageToken), "", 400, &e)
	if e.Error.Field != "page_token" {
		t.Errorf("a by=change token with by=day: %+v, want a 400 naming page_token", e.Error)
	}
}
