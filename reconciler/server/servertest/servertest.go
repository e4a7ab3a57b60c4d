// Package servertest holds the malformed-request suite of the HTTP API: a
// table of bad requests, each with the status, error code and field the
// answer must name. The server's own tests run it against a recording
// Service; pesd's tests run the same table against the real daemon.
package servertest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// Auth says which Authorization header a case sends.
type Auth int

const (
	AuthValid Auth = iota // "Bearer <token>"
	AuthNone              // no header
	AuthWrong             // "Bearer <token>x"
	AuthBasic             // "Basic <token>"
)

// Case is one malformed request.
type Case struct {
	Name   string
	Method string
	// Path is the path and query; "{group}" is replaced by the id of an
	// existing group.
	Path string
	Body string
	// PadTo, when set, pads Body (a JSON object ending in "}") with a
	// string field up to this many bytes, for oversized bodies.
	PadTo       int
	ContentType string // default application/json
	Auth        Auth

	WantStatus int
	WantCode   string
	// WantField is the field the error must name; "" means it must name
	// none (the problem is the body or the request as a whole).
	WantField string
	// WantMessage, when set, must appear in the message.
	WantMessage string
}

// A valid group body the cases vary.
const group = `"name":"web","driver":"sim","desired_quantity":2`

// MalformedCases returns the table. Every case is rejected before the
// request reaches the Service, so running it changes nothing.
func MalformedCases() []Case {
	bad := func(name, method, path, body, field, msg string) Case {
		return Case{Name: name, Method: method, Path: path, Body: body,
			WantStatus: http.StatusBadRequest, WantCode: api.CodeInvalid, WantField: field, WantMessage: msg}
	}
	const (
		groups   = "/v1/groups"
		one      = "/v1/groups/{group}"
		instruct = "/v1/groups/{group}/instructions"
		triggers = "/v1/groups/{group}/triggers"
		metrics  = "/v1/groups/{group}/metrics"
	)
	post, patch, get, del := http.MethodPost, http.MethodPatch, http.MethodGet, http.MethodDelete
	// Free text one byte over api.MaxTextLength, twice.
	kb2 := strings.Repeat("x", 2*api.MaxTextLength)
	cases := []Case{
		// Create group: types, bounds, enums, durations.
		bad("desired is a string", post, groups, `{"name":"web","driver":"sim","desired_quantity":"two"}`, "desired_quantity", "must be a whole number"),
		bad("desired is fractional", post, groups, `{"name":"web","driver":"sim","desired_quantity":2.5}`, "desired_quantity", "whole number"),
		bad("desired is missing", post, groups, `{"name":"web","driver":"sim"}`, "desired_quantity", "is required"),
		bad("negative min", post, groups, `{`+group+`,"min_quantity":-1}`, "min_quantity", "must not be negative"),
		bad("negative max", post, groups, `{`+group+`,"max_quantity":-4}`, "max_quantity", "must not be negative"),
		bad("min above max", post, groups, `{`+group+`,"min_quantity":5,"max_quantity":3}`, "min_quantity", "(5 > 3)"),
		bad("desired above max", post, groups, `{"name":"web","driver":"sim","desired_quantity":30,"min_quantity":2,"max_quantity":20}`, "desired_quantity", "must be between min_quantity 2 and max_quantity 20; got 30"),
		bad("desired below min", post, groups, `{"name":"web","driver":"sim","desired_quantity":1,"min_quantity":2}`, "desired_quantity", "got 1"),
		bad("unknown driver", post, groups, `{"name":"web","driver":"k8s","desired_quantity":1}`, "driver", `got "k8s"`),
		bad("unknown policy", post, groups, `{`+group+`,"aggregation_policy":"biggest"}`, "aggregation_policy", `must be one of largest, smallest, average, sum, priority, first, last; got "biggest"`),
		bad("unknown replacement", post, groups, `{`+group+`,"replacement":"never"}`, "replacement", "must be one of"),
		bad("unknown termination", post, groups, `{`+group+`,"termination_policy":"random"}`, "termination_policy", "must be one of"),
		bad("negative harmonize_after_requests", post, groups, `{`+group+`,"harmonize_after_requests":-1}`, "harmonize_after_requests", "got -1"),
		bad("lockdown_after_removal not a bool", post, groups, `{`+group+`,"lockdown_after_removal":"yes"}`, "lockdown_after_removal", "must be true or false"),
		bad("instructions_silence_triggers not a bool", post, groups, `{`+group+`,"instructions_silence_triggers":1}`, "instructions_silence_triggers", "must be true or false"),
		bad("decreases_outrank_increases not a bool", post, groups, `{`+group+`,"decreases_outrank_increases":"true"}`, "decreases_outrank_increases", "must be true or false"),
		bad("unknown health type", post, groups, `{`+group+`,"health_check":{"type":"grpc"}}`, "health_check.type", "must be one of"),
		bad("health port out of range", post, groups, `{`+group+`,"health_check":{"type":"tcp","port":70000}}`, "health_check.port", "65535"),
		bad("bad duration", post, groups, `{`+group+`,"aggregation_period":"a minute"}`, "aggregation_period", "not a duration"),
		bad("negative duration", post, groups, `{`+group+`,"init_deadline":"-5m"}`, "init_deadline", "negative"),
		bad("period too short", post, groups, `{`+group+`,"aggregation_period":"10ms"}`, "aggregation_period", "at least 1s"),
		bad("duration is a number", post, groups, `{`+group+`,"cooldown":30}`, "cooldown", "must be a string"),
		bad("name missing", post, groups, `{"driver":"sim","desired_quantity":1}`, "name", "is required"),
		bad("name not a DNS label", post, groups, `{"name":"Web Server","driver":"sim","desired_quantity":1}`, "name", "DNS label"),
		bad("command missing", post, groups, `{"name":"web","driver":"local","desired_quantity":1,"program":{"args":["x"]}}`, "program.command", "is required"),
		bad("args of the wrong type", post, groups, `{"name":"web","driver":"local","desired_quantity":1,"program":{"command":"x","args":["a",1]}}`, "program.args[1]", "must be a string"),
		bad("sim config on local", post, groups, `{"name":"web","driver":"local","desired_quantity":1,"program":{"command":"x"},"sim":{"boot_time":"1s"}}`, "sim", "driver sim"),
		bad("predictive confidence", post, groups, `{`+group+`,"predictive":{"mode":"enforce","confidence":1.5}}`, "predictive.confidence", "between 0 and 1"),
		bad("predictive mode", post, groups, `{`+group+`,"predictive":{"mode":"always"}}`, "predictive.mode", "must be one of"),
		// Settings valid one by one that give no forecast together.
		bad("predictive min_history over history", post, groups, `{`+group+`,"predictive":{"mode":"enforce","history":"1d","min_history":"2d"}}`, "predictive.min_history", "must not exceed history (24h)"),
		bad("predictive default min_history over history", post, groups, `{`+group+`,"predictive":{"mode":"forecast_only","history":"12h"}}`, "predictive.min_history", "must not exceed history"),
		bad("predictive interval over a day", post, groups, `{`+group+`,"predictive":{"mode":"enforce","interval":"2d"}}`, "predictive.interval", "at most 24h"),
		bad("unknown field", post, groups, `{`+group+`,"colour":"blue"}`, "colour", "not a field"),
		bad("unknown nested field", post, groups, `{`+group+`,"health_check":{"type":"tcp","portt":80}}`, "health_check.portt", "not a field"),
		bad("field in the wrong case", post, groups, `{"Name":"web","driver":"sim","desired_quantity":2}`, "Name", "not a field"),
		bad("labels not an object", post, groups, `{`+group+`,"labels":["a"]}`, "labels", "must be an object"),
		bad("metric source PromQL", post, groups, `{`+group+`,"metric_sources":[{"name":"rps","prometheus":{"query":"sum(rate(http_requests_total[1m])"}}]}`,
			"metric_sources[0].prometheus.query", "is not valid PromQL: line 1, column 34: unclosed left parenthesis"),
		bad("metric source range vector", post, groups, `{`+group+`,"metric_sources":[{"name":"rps","prometheus":{"query":"http_requests_total[1m]"}}]}`,
			"metric_sources[0].prometheus.query", "range vector"),

		// The body as a whole.
		{Name: "oversized body", Method: post, Path: groups, Body: `{` + group + `}`, PadTo: 1<<20 + 1,
			WantStatus: http.StatusRequestEntityTooLarge, WantCode: api.CodeTooLarge},
		{Name: "not JSON", Method: post, Path: groups, Body: `name=web&driver=sim`, ContentType: "application/x-www-form-urlencoded",
			WantStatus: http.StatusBadRequest, WantCode: api.CodeInvalid, WantMessage: "not valid JSON"},
		bad("empty body", post, groups, "", "", "empty"),
		bad("whitespace body", post, groups, " \n\t", "", "empty"),
		bad("trailing garbage", post, groups, `{`+group+`} {"x":1}`, "", "after the JSON value"),
		bad("truncated JSON", post, groups, `{"name":"web",`, "", "not valid JSON"),
		bad("syntax error", post, groups, `{"name": web}`, "", "byte offset 10"),
		bad("array body", post, groups, `[{`+group+`}]`, "", "must be a JSON object"),
		bad("null body", post, groups, `null`, "", "must be a JSON object"),

		// Auth.
		{Name: "missing token", Method: get, Path: groups, Auth: AuthNone,
			WantStatus: http.StatusUnauthorized, WantCode: api.CodeUnauthorized, WantMessage: "Bearer"},
		{Name: "wrong token", Method: get, Path: groups, Auth: AuthWrong,
			WantStatus: http.StatusUnauthorized, WantCode: api.CodeUnauthorized, WantMessage: "invalid"},
		{Name: "basic auth", Method: post, Path: groups, Body: `{` + group + `}`, Auth: AuthBasic,
			WantStatus: http.StatusUnauthorized, WantCode: api.CodeUnauthorized},
		{Name: "missing token on an unknown path", Method: get, Path: "/v1/nothing", Auth: AuthNone,
			WantStatus: http.StatusUnauthorized, WantCode: api.CodeUnauthorized},

		// Routes.
		{Name: "unknown path", Method: get, Path: "/v1/nothing",
			WantStatus: http.StatusNotFound, WantCode: api.CodeNotFound},
		{Name: "method not allowed", Method: http.MethodPut, Path: one, Body: `{}`,
			WantStatus: http.StatusMethodNotAllowed, WantCode: api.CodeInvalid, WantMessage: "allowed"},

		// Patch group.
		// Values no real group has, so the cases hold whatever group they run on.
		bad("rename", patch, one, `{"name":"renamed-by-servertest"}`, "name", "cannot be changed"),
		bad("change driver", patch, one, `{"driver":"k8s"}`, "driver", "cannot be changed"),
		bad("patch max 0", patch, one, `{"max_quantity":0}`, "max_quantity", "at least 1"),
		bad("patch min above max", patch, one, `{"min_quantity":7,"max_quantity":6}`, "min_quantity", "(7 > 6)"),
		bad("patch unknown field", patch, one, `{"desired":3}`, "desired", "not a field"),
		bad("patch bad policy", patch, one, `{"aggregation_policy":"max"}`, "aggregation_policy", "must be one of"),
		bad("patch harmonize_after_requests too large", patch, one, `{"harmonize_after_requests":10001}`, "harmonize_after_requests", "got 10001"),
		bad("patch lockdown_after_removal null-ish", patch, one, `{"lockdown_after_removal":0}`, "lockdown_after_removal", "must be true or false"),
		bad("patch metric source PromQL", patch, one, `{"metric_sources":[{"name":"a","prometheus":{"query":"up"}},{"name":"b","prometheus":{"query":"rate(up)"}}]}`,
			"metric_sources[1].prometheus.query", "line 1, column 6: expected type range vector"),
		bad("patch predictive min_history over history", patch, one, `{"predictive":{"mode":"enforce","history":"2d","min_history":"3d"}}`, "predictive.min_history", "must not exceed history (2d)"),
		bad("patch predictive interval over a day", patch, one, `{"predictive":{"mode":"forecast_only","interval":"25h"}}`, "predictive.interval", "at most 24h"),

		// Lists.
		bad("limit 0", get, "/v1/groups?limit=0", "", "limit", "from 1 to 1000"),
		bad("wait on an unknown field", get, one+"?wait=nodes>=3", "", "wait", "must compare one of actual_quantity"),
		bad("wait without an operator", get, one+"?wait=actual_quantity", "", "wait", "op >=, <= or =="),
		bad("wait on a negative count", get, one+"?wait=actual_quantity>=-1", "", "wait", "whole number"),
		bad("wait on a word", get, one+"?wait=actual_quantity>=three", "", "wait", "whole number"),
		bad("timeout without wait", get, one+"?timeout=5s", "", "timeout", "only to a wait"),
		bad("timeout not a duration", get, one+"?wait=actual_quantity>=1&timeout=soon", "", "timeout", "duration"),
		bad("timeout too long", get, one+"?wait=actual_quantity>=1&timeout=2h", "", "timeout", "at most 1m0s"),
		bad("timeout zero", get, one+"?wait=actual_quantity>=1&timeout=0s", "", "timeout", "above 0s"),
		bad("timeout empty", get, one+"?wait=actual_quantity>=1&timeout=", "", "timeout", "duration"),
		bad("limit not a number", get, "/v1/groups?limit=ten", "", "limit", "from 1 to 1000"),
		bad("limit too large", get, one+"/events?limit=5000", "", "limit", "from 1 to 1000"),
		bad("limit twice", get, one+"/events?limit=5&limit=6", "", "limit", "once"),
		bad("since not a time", get, one+"/events?since=yesterday", "", "since", "RFC 3339"),
		bad("until not a time", get, one+"/changes?until=2026-13-01", "", "until", "RFC 3339"),
		bad("until before since", get, one+"/changes?since=2026-01-02T10:00:00Z&until=2026-01-01T10:00:00Z", "", "until", "before since"),
		bad("page token garbage", get, one+"/events?page_token=%21%21not-a-token", "", "page_token", "not a token"),
		bad("page token of another list", get, one+"/changes?page_token=AAAAAAAx", "", "page_token", "not a token"),
		bad("costs limit too large", get, one+"/costs?by=change&limit=1001", "", "limit", "from 1 to 1000"),
		bad("costs page token of another list", get, one+"/costs?by=change&page_token=AAAAAAAx", "", "page_token", "same by, since and until"),
		bad("event type", get, one+"/events?type=exploded", "", "type", "must be one of"),
		bad("change type", get, one+"/changes?type=grow", "", "type", "must be one of add_nodes, remove_nodes, node_lost"),
		bad("changes include effects", get, one+"/changes?include=effects", "", "include", `only "causes"`),
		bad("events include causes", get, one+"/events?include=causes", "", "include", `only "effects"`),
		bad("instruction query parameter", post, one+"/instructions?dry_run=true", `{"change_by":1}`, "dry_run", "not a parameter"),
		bad("include_deleted not a bool", get, "/v1/groups?include_deleted=sometimes", "", "include_deleted", "true or false"),
		bad("unknown parameter", get, one+"/periods?limt=5", "", "limt", "not a parameter"),
		bad("timeline without since", get, one+"/timeline?until=2026-01-02T10:00:00Z", "", "since", "is required"),
		bad("timeline without until", get, one+"/timeline?since=2026-01-02T10:00:00Z", "", "until", "is required"),
		bad("timeline until before since", get, one+"/timeline?since=2026-01-02T10:00:00Z&until=2026-01-01T10:00:00Z", "", "until", "before since"),
		bad("timeline buckets 0", get, one+"/timeline?since=2026-01-01T10:00:00Z&until=2026-01-02T10:00:00Z&buckets=0", "", "buckets", "from 1 to 2000"),
		bad("timeline buckets not a number", get, one+"/timeline?since=2026-01-01T10:00:00Z&until=2026-01-02T10:00:00Z&buckets=many", "", "buckets", "whole number"),

		// Deletes name their actor in the query, having no body.
		bad("delete actor blank", del, one+"?actor=%20", "", "actor", "must name who acts"),
		bad("delete actor twice", del, one+"?actor=alice&actor=bob", "", "actor", "once"),
		bad("delete unknown parameter", del, one+"?force=true", "", "force", "not a parameter"),
		bad("terminate actor control character", del, one+"/nodes/n-servertest?actor=ali%0Ace", "", "actor", "control characters"),

		// Instructions.
		bad("instruction without a request", post, instruct, `{"reason":"more"}`, "change_by", "is required"),
		bad("instruction with two requests", post, instruct, `{"change_by":2,"set_to":5}`, "set_to", "conflicts with change_by"),
		bad("instruction change_by 0", post, instruct, `{"change_by":0}`, "change_by", "must not be 0"),
		bad("instruction negative set_to", post, instruct, `{"set_to":-1}`, "set_to", "between 0"),
		bad("instruction percent -100", post, instruct, `{"change_by_percent":-100}`, "change_by_percent", "greater than -100"),
		bad("instruction change_by string", post, instruct, `{"change_by":"+2"}`, "change_by", "whole number"),
		bad("instruction immediate string", post, instruct, `{"change_by":2,"immediate":"yes"}`, "immediate", "true or false"),
		bad("instruction 2 KB reason", post, instruct, `{"change_by":2,"reason":"`+kb2+`"}`, "reason", "at most 1024 bytes; got 2048"),
		bad("instruction 2 KB actor", post, instruct, `{"change_by":2,"actor":"`+kb2+`"}`, "actor", "at most 1024 bytes"),
		bad("patch 2 KB reason", patch, one, `{"desired_quantity":1,"reason":"`+kb2+`"}`, "reason", "at most 1024 bytes"),
		bad("create 2 KB actor", post, groups, `{`+group+`,"actor":"`+kb2+`"}`, "actor", "at most 1024 bytes"),
		bad("create 2 KB label value", post, groups, `{`+group+`,"labels":{"team":"`+kb2+`"}}`, "labels.team", "at most 1024 bytes"),
		bad("delete 2 KB actor", del, one+"?actor="+kb2, "", "actor", "at most 1024 bytes"),

		// Triggers.
		bad("trigger syntax error", post, triggers, `{"name":"cpu-high","condition":"avg(cpu_utilization, '2m') >","change_by":4}`, "condition", "line 1"),
		bad("trigger unknown function", post, triggers, `{"name":"cpu-high","condition":"avgg(cpu_utilization, '2m') > 80","change_by":4}`, "condition", "column"),
		bad("trigger bad for", post, triggers, `{"name":"cpu-high","condition":"last(cpu_utilization) > 80","for":"two minutes","change_by":4}`, "for", "not a duration"),
		bad("trigger bad schedule", post, triggers, `{"name":"nightly","schedule":"every night","set_to":1}`, "schedule", "cron"),
		bad("trigger without request", post, triggers, `{"name":"cpu-high","condition":"last(cpu_utilization) > 80"}`, "change_by", "is required"),
		bad("trigger with two requests", post, triggers, `{"name":"cpu-high","condition":"last(cpu_utilization) > 80","change_by":1,"change_by_percent":10}`, "change_by_percent", "conflicts"),
		bad("trigger without name", post, triggers, `{"condition":"last(cpu_utilization) > 80","change_by":4}`, "name", "is required"),
		bad("trigger without condition", post, triggers, `{"name":"t","change_by":4}`, "condition", "is required"),
		bad("target value 0", post, triggers, `{"name":"t","target":{"metric":"cpu","value":0}}`, "target.value", "greater than 0"),
		bad("target tolerance", post, triggers, `{"name":"t","target":{"metric":"cpu","value":60,"tolerance":2}}`, "target.tolerance", "less than 1"),
		bad("target with a for", post, triggers, `{"name":"t","for":"1m","target":{"metric":"cpu","value":60}}`, "for", "must be empty for a target-tracking trigger"),
		bad("target and set_to", post, triggers, `{"name":"t","set_to":3,"target":{"metric":"cpu","value":60}}`, "set_to", "conflicts with target"),
		bad("instruction target", post, instruct, `{"target":{"metric":"cpu","value":60}}`, "target", "trigger's request form"),
		bad("trigger divides by a constant 0", post, triggers, `{"name":"t","condition":"last(q) / 0 > 1","change_by":4}`, "condition", "division by zero"),
		bad("trigger 5 KB condition", post, triggers, `{"name":"t","condition":"`+strings.Repeat("1 + ", 1280)+`1 > 0","change_by":4}`, "condition", "more than 4096"),
		bad("trigger enabled string", post, triggers, `{"name":"t","condition":"last(cpu_utilization) > 80","change_by":4,"enabled":"true"}`, "enabled", "true or false"),
		bad("validate condition not a string", post, "/v1/triggers/validate", `{"condition":42}`, "condition", "must be a string"),

		// Metrics.
		bad("no samples", post, metrics, `{"samples":[]}`, "samples", "at least one"),
		bad("sample value string", post, metrics, `{"samples":[{"name":"q","value":"high"}]}`, "samples[0].value", "must be a number"),
		bad("sample bad name", post, metrics, `{"samples":[{"name":"q","value":1},{"name":"queue depth","value":2}]}`, "samples[1].name", "letter or _"),
		bad("sample bad time", post, metrics, `{"samples":[{"name":"q","value":1,"time":"now"}]}`, "samples[0].time", "RFC 3339"),
		bad("sample from year 9999", post, metrics, `{"samples":[{"name":"q","value":1,"time":"9999-01-01T00:00:00Z"}]}`, "samples[0].time", "at most 5m0s after pesd's clock"),
		bad("sample from 1970", post, metrics, `{"samples":[{"name":"q","value":1,"time":"1970-01-01T00:00:00Z"}]}`, "samples[0].time", "before pesd's clock"),
		bad("sample 2 KB node id", post, metrics, `{"samples":[{"name":"q","value":1,"node_id":"`+kb2+`"}]}`, "samples[0].node_id", "at most 1024 bytes"),
		bad("sample computed metric", post, metrics, `{"samples":[{"name":"nodes_ready","value":1}]}`, "samples[0].name", "computed"),
		{Name: "metrics body over 8 MiB", Method: post, Path: metrics, Body: `{"samples":[]}`, PadTo: 8<<20 + 1,
			WantStatus: http.StatusRequestEntityTooLarge, WantCode: api.CodeTooLarge},
	}
	return append(append(append(cases, executionCases()...), recommendationCases()...), identityCases()...)
}

// identityCases are malformed token requests and tenants (issue 17); the
// token the suite sends is an admin's.
func identityCases() []Case {
	bad := func(name, method, path, body, field, msg string) Case {
		return Case{Name: name, Method: method, Path: path, Body: body,
			WantStatus: http.StatusBadRequest, WantCode: api.CodeInvalid, WantField: field, WantMessage: msg}
	}
	const tokens = "/v1/tokens"
	post := http.MethodPost
	return []Case{
		bad("token without a name", post, tokens, `{"role":"writer"}`, "name", "is required"),
		bad("token name with spaces", post, tokens, `{"name":"terraform ci","role":"writer"}`, "name", "lowercase DNS label"),
		bad("token of no role", post, tokens, `{"name":"ci","role":"owner"}`, "role", "admin, writer, reader, pusher"),
		bad("admin token in a tenant", post, tokens, `{"name":"ops","role":"admin","tenant":"payments"}`, "tenant", "every tenant"),
		bad("token tenant not a name", post, tokens, `{"name":"ci","role":"reader","tenant":"Pay Ments"}`, "tenant", "lowercase DNS label"),
		bad("token expires not a duration", post, tokens, `{"name":"ci","role":"reader","expires":"soon"}`, "expires", "not a duration"),
		bad("token expires too soon", post, tokens, `{"name":"ci","role":"reader","expires":"5s"}`, "expires", "at least 1m"),
		bad("group tenant not a name", post, "/v1/groups", `{`+group+`,"tenant":"Pay Ments"}`, "tenant", "lowercase DNS label"),
	}
}

// RunMalformed sends every case to the API at baseURL (no trailing slash)
// and checks the answer: the status, a JSON error envelope with exactly
// code, message and field, the code and field the case names.
func RunMalformed(t *testing.T, baseURL, token, groupID string) {
	t.Helper()
	RunCases(t, baseURL, token, groupID, MalformedCases())
}

// RunCases sends cases to the API at baseURL and checks each answer as
// RunMalformed does.
func RunCases(t *testing.T, baseURL, token, groupID string, cases []Case) {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			resp, err := client.Do(c.Request(baseURL, token, groupID))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Check(resp, raw); err != "" {
				t.Error(err)
			}
		})
	}
}

// Request builds the case's request.
func (c Case) Request(baseURL, token, groupID string) *http.Request {
	body := strings.ReplaceAll(c.Body, "{group}", groupID)
	if c.PadTo > 0 {
		// "}" → `,"pad":"aaaa…"}` so the body stays JSON and only its
		// size is wrong.
		body = strings.TrimSuffix(body, "}") + `,"pad":"`
		body += strings.Repeat("a", max(0, c.PadTo-len(body)-2)) + `"}`
	}
	var rd io.Reader
	if body != "" || c.Method != http.MethodGet {
		rd = bytes.NewBufferString(body)
	}
	req, err := http.NewRequest(c.Method, baseURL+strings.ReplaceAll(c.Path, "{group}", groupID), rd)
	if err != nil {
		panic("servertest: bad case " + c.Name + ": " + err.Error())
	}
	ct := c.ContentType
	if ct == "" {
		ct = "application/json"
	}
	if rd != nil {
		req.Header.Set("Content-Type", ct)
	}
	switch c.Auth {
	case AuthValid:
		req.Header.Set("Authorization", "Bearer "+token)
	case AuthWrong:
		req.Header.Set("Authorization", "Bearer "+token+"x")
	case AuthBasic:
		req.Header.Set("Authorization", "Basic "+token)
	}
	return req
}

// Check returns what is wrong with the answer to the case ("" if nothing).
func (c Case) Check(resp *http.Response, raw []byte) string {
	var b strings.Builder
	if resp.StatusCode != c.WantStatus {
		b.WriteString("status " + resp.Status + ", want " + http.StatusText(c.WantStatus) + "; ")
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		b.WriteString("Content-Type " + ct + ", want application/json; ")
	}
	if c.WantStatus == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		b.WriteString("401 without WWW-Authenticate: Bearer; ")
	}
	var env struct {
		Error map[string]any `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil || env.Error == nil {
		b.WriteString("answer is not an error envelope: " + string(raw))
		return b.String()
	}
	for k := range env.Error {
		if k != "code" && k != "message" && k != "field" {
			b.WriteString("envelope has an unexpected key " + k + "; ")
		}
	}
	code, _ := env.Error["code"].(string)
	msg, _ := env.Error["message"].(string)
	field, _ := env.Error["field"].(string)
	if code != c.WantCode {
		b.WriteString("code " + code + ", want " + c.WantCode + "; ")
	}
	if field != c.WantField {
		b.WriteString("field " + strings.TrimSpace(field) + ", want " + c.WantField + "; ")
	}
	if msg == "" {
		b.WriteString("empty message; ")
	}
	if c.WantMessage != "" && !strings.Contains(msg, c.WantMessage) {
		b.WriteString("message " + msg + " does not contain " + c.WantMessage + "; ")
	}
	if b.Len() > 0 {
		b.WriteString("(answer: " + strings.TrimSpace(string(raw)) + ")")
	}
	return b.String()
}
