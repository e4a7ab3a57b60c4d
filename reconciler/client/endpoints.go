package client

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// Page asks for one page of a list. Limit 0 lets the server choose.
type Page struct {
	Limit     int
	PageToken string
}

func (p Page) encode(q url.Values) {
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.PageToken != "" {
		q.Set("page_token", p.PageToken)
	}
}

// GroupFilter filters GET /v1/groups.
type GroupFilter struct {
	// IncludeDeleted lists deleted groups too (their history is kept).
	IncludeDeleted bool
	Page
}

// EventFilter filters GET /v1/groups/{id}/events. Zero values do not filter.
type EventFilter struct {
	Since time.Time
	Until time.Time
	Type  string
	Page
}

// ChangeFilter filters GET /v1/groups/{id}/changes. Zero values do not
// filter. CausedBy keeps the changes an event caused (an event ID).
type ChangeFilter struct {
	Since    time.Time
	Until    time.Time
	Type     string
	CausedBy string
	Page
}

func setTime(q url.Values, key string, t time.Time) {
	if !t.IsZero() {
		q.Set(key, t.UTC().Format(time.RFC3339Nano))
	}
}

// Healthz checks that pesd is alive. It needs no token.
func (c *Client) Healthz(ctx context.Context) error {
	return c.do(ctx, call{method: http.MethodGet, path: "/healthz", idempotent: true})
}

// Replicas lists the pesd replicas sharing the database and the leases
// each holds (one entry for a pesd on SQLite).
func (c *Client) Replicas(ctx context.Context) (api.ReplicaList, error) {
	var l api.ReplicaList
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/replicas", out: &l, idempotent: true})
	return l, err
}

// CreateGroup creates a group, by the client's actor (WithActor). Fields
// left zero take their defaults; the answer holds the resolved values.
func (c *Client) CreateGroup(ctx context.Context, cfg api.GroupConfig) (api.Group, error) {
	body := struct {
		api.GroupConfig
		Actor string `json:"actor,omitempty"`
	}{cfg, c.actor}
	var g api.Group
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/groups", body: body, out: &g})
	return g, err
}

// GetGroup reads a group by its id, or a live group by its name (every
// method taking a group id takes a live group's name too).
func (c *Client) GetGroup(ctx context.Context, id string) (api.Group, error) {
	return c.FindGroup(ctx, id, false)
}

// FindGroup reads a group by its id or name; with includeDeleted, a name
// no live group has finds the group of that name deleted last (without
// it, pesd answers a 404 saying where that group's history is).
func (c *Client) FindGroup(ctx context.Context, ref string, includeDeleted bool) (api.Group, error) {
	var q url.Values
	if includeDeleted {
		q = url.Values{"include_deleted": {"true"}}
	}
	var g api.Group
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/groups/" + seg(ref), query: q, out: &g, idempotent: true})
	return g, err
}

// WaitGroup reads the group once cond holds (GET /v1/groups/{id}?wait=),
// waiting at most timeout on the server, which answers as soon as a
// change makes cond hold: no polling. It returns the group as it is then
// and whether cond held; false means the timeout passed or the group was
// deleted (Status says which), and the caller decides whether to wait
// again. timeout is capped at api.MaxWaitTime and below the client's
// timeout of one attempt.
func (c *Client) WaitGroup(ctx context.Context, id string, cond api.GroupWait, timeout time.Duration) (api.Group, bool, error) {
	timeout = min(timeout, api.MaxWaitTime)
	if c.timeout > 0 {
		// Leave the answer time to arrive before the attempt times out.
		timeout = min(timeout, c.timeout*3/4)
	}
	timeout = max(timeout.Truncate(time.Millisecond), time.Millisecond)
	q := url.Values{}
	q.Set("wait", cond.String())
	q.Set("timeout", timeout.String())
	var (
		g api.Group
		h http.Header
	)
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/groups/" + seg(id), query: q, out: &g, header: &h, idempotent: true})
	if err != nil {
		return g, false, err
	}
	return g, h.Get(api.HeaderWait) == api.WaitMet, nil
}

// ListGroups reads one page of groups.
func (c *Client) ListGroups(ctx context.Context, f GroupFilter) (api.List[api.Group], error) {
	q := url.Values{}
	if f.IncludeDeleted {
		q.Set("include_deleted", "true")
	}
	f.Page.encode(q)
	return list[api.Group](ctx, c, "/v1/groups", q)
}

// ListAllGroups follows every page of ListGroups.
func (c *Client) ListAllGroups(ctx context.Context, f GroupFilter) ([]api.Group, error) {
	return all(ctx, &f.Page, func(ctx context.Context) (api.List[api.Group], error) { return c.ListGroups(ctx, f) })
}

// UpdateGroup changes the fields present in patch: a nil field (or nil
// Labels) is left as it is; Labels set to an empty map clears the labels.
// A new desired_quantity is recorded as a user instruction (set_to) by
// patch.Actor, or else the client's actor. PATCH is not retried once the
// server has answered.
func (c *Client) UpdateGroup(ctx context.Context, id string, patch api.GroupPatch) (api.Group, error) {
	if patch.Actor == "" {
		patch.Actor = c.actor
	}
	var g api.Group
	err := c.do(ctx, call{method: http.MethodPatch, path: "/v1/groups/" + seg(id), body: patch, out: &g})
	return g, err
}

// DeleteGroup deletes a group, by the client's actor: its nodes are
// terminated, its history kept.
func (c *Client) DeleteGroup(ctx context.Context, id string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: "/v1/groups/" + seg(id), query: c.actorQuery(), idempotent: true})
}

// actorQuery names the client's actor in a call without a body (the
// actor query parameter); nil without one.
func (c *Client) actorQuery() url.Values {
	if c.actor == "" {
		return nil
	}
	return url.Values{"actor": {c.actor}}
}

// Instruct sends a user instruction, by in.Actor or else the client's
// actor, and returns the event recording it.
func (c *Client) Instruct(ctx context.Context, groupID string, in api.Instruction) (api.Event, error) {
	if in.Actor == "" {
		in.Actor = c.actor
	}
	var e api.Event
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/groups/" + seg(groupID) + "/instructions", body: in, out: &e})
	return e, err
}

// Harmonize ends the group's current period now and returns its decision
// record.
func (c *Client) Harmonize(ctx context.Context, groupID string) (api.Period, error) {
	var p api.Period
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/groups/" + seg(groupID) + "/harmonize", out: &p})
	return p, err
}

// NodeFilter filters GET /v1/groups/{id}/nodes.
type NodeFilter struct {
	// IncludeTerminated lists terminated nodes too.
	IncludeTerminated bool
}

// ListNodes reads the group's nodes, following every page.
func (c *Client) ListNodes(ctx context.Context, groupID string, f NodeFilter) ([]api.Node, error) {
	var p Page
	return all(ctx, &p, func(ctx context.Context) (api.List[api.Node], error) {
		q := url.Values{}
		if f.IncludeTerminated {
			q.Set("include_terminated", "true")
		}
		p.encode(q)
		return list[api.Node](ctx, c, "/v1/groups/"+seg(groupID)+"/nodes", q)
	})
}

// TerminateNode terminates one node at the request of the client's actor
// and returns the event recording it.
func (c *Client) TerminateNode(ctx context.Context, groupID, nodeID string) (api.Event, error) {
	var e api.Event
	err := c.do(ctx, call{method: http.MethodDelete, path: "/v1/groups/" + seg(groupID) + "/nodes/" + seg(nodeID),
		query: c.actorQuery(), out: &e})
	return e, err
}

// FailNode makes a ready node of a sim group unavailable (409 on other
// drivers).
func (c *Client) FailNode(ctx context.Context, groupID, nodeID string) error {
	return c.do(ctx, call{method: http.MethodPost, path: "/v1/groups/" + seg(groupID) + "/nodes/" + seg(nodeID) + "/fail"})
}

// CreateTrigger adds a trigger to a group.
func (c *Client) CreateTrigger(ctx context.Context, groupID string, spec api.TriggerSpec) (api.Trigger, error) {
	var t api.Trigger
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/groups/" + seg(groupID) + "/triggers", body: spec, out: &t})
	return t, err
}

// ListTriggers reads the group's triggers, following every page.
func (c *Client) ListTriggers(ctx context.Context, groupID string) ([]api.Trigger, error) {
	return listEvery[api.Trigger](ctx, c, "/v1/groups/"+seg(groupID)+"/triggers")
}

// FindTrigger reads the trigger named name in group (the group's id or
// name); name may also be the trigger's id.
func (c *Client) FindTrigger(ctx context.Context, group, name string) (api.Trigger, error) {
	var t api.Trigger
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/triggers/" + seg(name),
		query: url.Values{"group": {group}}, out: &t, idempotent: true})
	return t, err
}

// GetTrigger reads a trigger.
func (c *Client) GetTrigger(ctx context.Context, id string) (api.Trigger, error) {
	var t api.Trigger
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/triggers/" + seg(id), out: &t, idempotent: true})
	return t, err
}

// UpdateTrigger changes the fields present in spec.
func (c *Client) UpdateTrigger(ctx context.Context, id string, spec api.TriggerSpec) (api.Trigger, error) {
	var t api.Trigger
	err := c.do(ctx, call{method: http.MethodPatch, path: "/v1/triggers/" + seg(id), body: spec, out: &t})
	return t, err
}

// DeleteTrigger deletes a trigger.
func (c *Client) DeleteTrigger(ctx context.Context, id string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: "/v1/triggers/" + seg(id), idempotent: true})
}

// ValidateCondition compiles a trigger condition on the server. An invalid
// condition is an answer with Valid false (and the position), not an
// error. It changes nothing, so it is retried like a GET.
func (c *Client) ValidateCondition(ctx context.Context, condition string) (api.ValidateConditionResponse, error) {
	var r api.ValidateConditionResponse
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/triggers/validate",
		body: api.ValidateConditionRequest{Condition: condition}, out: &r, idempotent: true})
	return r, err
}

// PushMetrics sends metric samples for a group's triggers.
func (c *Client) PushMetrics(ctx context.Context, groupID string, samples []api.Sample) (api.MetricsResponse, error) {
	var r api.MetricsResponse
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/groups/" + seg(groupID) + "/metrics",
		body: api.MetricsRequest{Samples: samples}, out: &r})
	return r, err
}

func (f EventFilter) query() url.Values {
	q := url.Values{}
	setTime(q, "since", f.Since)
	setTime(q, "until", f.Until)
	if f.Type != "" {
		q.Set("type", f.Type)
	}
	f.Page.encode(q)
	return q
}

func (f ChangeFilter) query() url.Values {
	q := url.Values{}
	setTime(q, "since", f.Since)
	setTime(q, "until", f.Until)
	if f.Type != "" {
		q.Set("type", f.Type)
	}
	if f.CausedBy != "" {
		q.Set("caused_by", f.CausedBy)
	}
	f.Page.encode(q)
	return q
}

// list reads one page of a list at path with query q.
func list[T any](ctx context.Context, c *Client, path string, q url.Values) (api.List[T], error) {
	var l api.List[T]
	err := c.do(ctx, call{method: http.MethodGet, path: path, query: q, out: &l, idempotent: true})
	return l, err
}

// listEvery reads every page of the list at path.
func listEvery[T any](ctx context.Context, c *Client, path string) ([]T, error) {
	var p Page
	return all(ctx, &p, func(ctx context.Context) (api.List[T], error) {
		q := url.Values{}
		p.encode(q)
		return list[T](ctx, c, path, q)
	})
}

// withInclude returns q with include set.
func withInclude(q url.Values, what string) url.Values {
	q.Set("include", what)
	return q
}

// ListEvents reads one page of a group's events, oldest first.
func (c *Client) ListEvents(ctx context.Context, groupID string, f EventFilter) (api.List[api.Event], error) {
	return list[api.Event](ctx, c, "/v1/groups/"+seg(groupID)+"/events", f.query())
}

// ListAllEvents follows every page of ListEvents.
func (c *Client) ListAllEvents(ctx context.Context, groupID string, f EventFilter) ([]api.Event, error) {
	return all(ctx, &f.Page, func(ctx context.Context) (api.List[api.Event], error) { return c.ListEvents(ctx, groupID, f) })
}

// ListEventsDetailed reads one page of a group's events, each with its
// effects and explanation (as GetEvent answers), in one request.
func (c *Client) ListEventsDetailed(ctx context.Context, groupID string, f EventFilter) (api.List[api.EventDetail], error) {
	return list[api.EventDetail](ctx, c, "/v1/groups/"+seg(groupID)+"/events", withInclude(f.query(), api.IncludeEffects))
}

// ListAllEventsDetailed follows every page of ListEventsDetailed.
func (c *Client) ListAllEventsDetailed(ctx context.Context, groupID string, f EventFilter) ([]api.EventDetail, error) {
	return all(ctx, &f.Page, func(ctx context.Context) (api.List[api.EventDetail], error) {
		return c.ListEventsDetailed(ctx, groupID, f)
	})
}

// GetEvent reads one event with its effects and explanation.
func (c *Client) GetEvent(ctx context.Context, id string) (api.EventDetail, error) {
	var e api.EventDetail
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/events/" + seg(id), out: &e, idempotent: true})
	return e, err
}

// ListChanges reads one page of a group's changes, oldest first.
func (c *Client) ListChanges(ctx context.Context, groupID string, f ChangeFilter) (api.List[api.Change], error) {
	return list[api.Change](ctx, c, "/v1/groups/"+seg(groupID)+"/changes", f.query())
}

// ListAllChanges follows every page of ListChanges.
func (c *Client) ListAllChanges(ctx context.Context, groupID string, f ChangeFilter) ([]api.Change, error) {
	return all(ctx, &f.Page, func(ctx context.Context) (api.List[api.Change], error) { return c.ListChanges(ctx, groupID, f) })
}

// ListChangesDetailed reads one page of a group's changes, each with its
// causes and explanation (as GetChange answers), in one request: what a
// data source listing changes with their causes needs.
func (c *Client) ListChangesDetailed(ctx context.Context, groupID string, f ChangeFilter) (api.List[api.ChangeDetail], error) {
	return list[api.ChangeDetail](ctx, c, "/v1/groups/"+seg(groupID)+"/changes", withInclude(f.query(), api.IncludeCauses))
}

// ListAllChangesDetailed follows every page of ListChangesDetailed.
func (c *Client) ListAllChangesDetailed(ctx context.Context, groupID string, f ChangeFilter) ([]api.ChangeDetail, error) {
	return all(ctx, &f.Page, func(ctx context.Context) (api.List[api.ChangeDetail], error) {
		return c.ListChangesDetailed(ctx, groupID, f)
	})
}

// GetChange reads one change with its causes and explanation.
func (c *Client) GetChange(ctx context.Context, id string) (api.ChangeDetail, error) {
	var ch api.ChangeDetail
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/changes/" + seg(id), out: &ch, idempotent: true})
	return ch, err
}

// ListPeriods reads one page of a group's periods (decision records).
func (c *Client) ListPeriods(ctx context.Context, groupID string, p Page) (api.List[api.Period], error) {
	q := url.Values{}
	p.encode(q)
	return list[api.Period](ctx, c, "/v1/groups/"+seg(groupID)+"/periods", q)
}

// ListAllPeriods follows every page of ListPeriods.
func (c *Client) ListAllPeriods(ctx context.Context, groupID string, p Page) ([]api.Period, error) {
	return all(ctx, &p, func(ctx context.Context) (api.List[api.Period], error) { return c.ListPeriods(ctx, groupID, p) })
}

// GetPeriod reads one period.
func (c *Client) GetPeriod(ctx context.Context, id string) (api.Period, error) {
	var p api.Period
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/periods/" + seg(id), out: &p, idempotent: true})
	return p, err
}

// Forecast reads the group's forecast of authorized quantities (seed 001).
func (c *Client) Forecast(ctx context.Context, groupID string) (api.Forecast, error) {
	var f api.Forecast
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/groups/" + seg(groupID) + "/forecast", out: &f, idempotent: true})
	return f, err
}

// ImportHistory sends a quantity history exported from elsewhere (CSV
// lines time,desired[,actual] or a JSON array of {"time", "desired",
// "actual"?}) to be recorded as the group's past for predictive governing,
// and returns how many points pesd recorded. r is read whole first (at
// most governor.MaxImportBytes is accepted), so the request can be
// retried: pesd records only points older than the group's own history,
// so sending the same file twice records it once.
func (c *Client) ImportHistory(ctx context.Context, groupID string, r io.Reader) (int, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return 0, fmt.Errorf("import history of group %s: read: %w", groupID, err)
	}
	var out api.HistoryImport
	err = c.do(ctx, call{method: http.MethodPost, path: "/v1/groups/" + seg(groupID) + "/history",
		raw: raw, contentType: csvOrJSON(raw), out: &out, idempotent: true})
	return out.Imported, err
}

// csvOrJSON is the media type of an import: a JSON array, or else CSV.
func csvOrJSON(raw []byte) string {
	if t := bytes.TrimLeft(raw, " \t\r\n\uFEFF"); len(t) > 0 && t[0] == '[' {
		return "application/json"
	}
	return "text/csv"
}

// maxPages stops a server that keeps answering the same page token from
// looping a client forever.
const maxPages = 100000

// all fetches pages until the server gives no next token. fetch reads the
// page named by *p; all advances p.
func all[T any](ctx context.Context, p *Page, fetch func(context.Context) (api.List[T], error)) ([]T, error) {
	var items []T
	seen := map[string]bool{}
	for range maxPages {
		l, err := fetch(ctx)
		if err != nil {
			return items, err
		}
		items = append(items, l.Items...)
		if l.NextPageToken == "" {
			return items, nil
		}
		if seen[l.NextPageToken] {
			return items, fmt.Errorf("pesd repeated page token %q", l.NextPageToken)
		}
		seen[l.NextPageToken] = true
		p.PageToken = l.NextPageToken
	}
	return items, fmt.Errorf("more than %d pages", maxPages)
}

// CostsFilter is the window and grouping of a costs query; zero times
// leave the server's defaults (the group's creation, now), an empty By is
// by cause. A zero Page reads every row in one answer.
type CostsFilter struct {
	Since, Until time.Time
	By           string
	Page
}

// Costs reads a group's node time and money over a window, grouped: with
// f.Limit, one page of the rows (and the whole window's totals).
func (c *Client) Costs(ctx context.Context, groupID string, f CostsFilter) (api.Costs, error) {
	q := url.Values{}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339Nano))
	}
	if !f.Until.IsZero() {
		q.Set("until", f.Until.UTC().Format(time.RFC3339Nano))
	}
	if f.By != "" {
		q.Set("by", f.By)
	}
	f.Page.encode(q)
	var out api.Costs
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/groups/" + seg(groupID) + "/costs", query: q, out: &out, idempotent: true})
	return out, err
}

// AllCosts follows every page of Costs: the answer has all the rows, and
// no next page token.
func (c *Client) AllCosts(ctx context.Context, groupID string, f CostsFilter) (api.Costs, error) {
	var first api.Costs
	rows, err := all(ctx, &f.Page, func(ctx context.Context) (api.List[api.CostRow], error) {
		page, err := c.Costs(ctx, groupID, f)
		if first.GroupID == "" {
			first = page
		}
		return api.List[api.CostRow]{Items: page.Rows, NextPageToken: page.NextPageToken}, err
	})
	if err != nil {
		return api.Costs{}, err
	}
	first.Rows, first.NextPageToken = rows, ""
	if first.Rows == nil {
		first.Rows = []api.CostRow{} // the wire's [] of an empty window
	}
	return first, nil
}

// WhatIf backtests a proposal over the group's recorded samples. It
// changes nothing, so it is retried like a GET.
func (c *Client) WhatIf(ctx context.Context, groupID string, req api.WhatIfRequest) (api.WhatIf, error) {
	var r api.WhatIf
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/groups/" + seg(groupID) + "/whatif",
		body: req, out: &r, idempotent: true})
	return r, err
}
