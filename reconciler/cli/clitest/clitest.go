// Package clitest is a small in-memory pesd for tests of the command line
// client and of the checks built on it: it answers the routes the CLI uses,
// with the real wire types and error envelope, and records what it was sent.
package clitest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// Token is the bearer token the fake accepts.
const Token = "s3cret"

// API is a small in-memory pesd answering the routes the CLI uses,
// with the real wire types and error envelope.
type API struct {
	Mu           sync.Mutex
	Groups       []api.Group
	Events       []api.Event
	Changes      []api.Change
	Periods      []api.Period
	Nodes        []api.Node
	Instructions []api.Instruction
	Samples      []api.Sample
	Triggers     []api.Trigger
	// Costs is group g-web's costs answer, served in pages of PageSize
	// rows (the totals on every page) whatever the window asked.
	Costs api.Costs
	// Actors names who created or deleted each group, in order
	// ("create web by alice").
	Actors   []string
	Sent     []string // "GET /v1/groups?limit=2" for every request
	PageSize int
}

// NewAPI returns the fake with two groups, and events, changes, a period
// and nodes of group g-web; it serves lists two items a page.
func NewAPI() *API {
	t0 := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	three := 3
	f := &API{PageSize: 2}
	f.Groups = []api.Group{
		{ID: "g-web", GroupConfig: api.GroupConfig{Name: "web", Driver: "local", DesiredQuantity: 3, MaxQuantity: 10}, ActualQuantity: 3, OfficialQuantity: 3, Status: api.GroupActive, CurrentPeriodLabel: "H2"},
		{ID: "g-sim", GroupConfig: api.GroupConfig{Name: "batch", Driver: "sim", DesiredQuantity: 1, MaxQuantity: 5}, ActualQuantity: 0, Status: api.GroupActive},
	}
	f.Events = []api.Event{
		{ID: "e-1", Label: "E1", GroupID: "g-web", Type: api.EventGroupCreated, Source: api.Source{Kind: api.SourceUser, Name: "alice"}, Time: t0, Status: api.EventApplied, ProposedQuantity: &three, NexusID: "x-1", Description: "group web created with 3 nodes"},
		{ID: "e-2", Label: "E2", GroupID: "g-web", Type: api.EventNodeUnavailable, Source: api.Source{Kind: api.SourceSystem}, Time: t0.Add(time.Minute), Status: api.EventApplied, NodeID: "n-2", NexusID: "x-2", Description: "node n-2 became unavailable: process exited"},
		{ID: "e-3", Label: "E3", GroupID: "g-web", Type: api.EventReplacementRequest, Source: api.Source{Kind: api.SourceSystem}, Time: t0.Add(time.Minute), Status: api.EventApplied, ParentChangeID: "c-2", NexusID: "x-3", Description: "replacement of node n-2 requested"},
	}
	f.Changes = []api.Change{
		{ID: "c-1", Label: "C1", GroupID: "g-web", Type: api.ChangeAddNodes, Amount: 3, QuantityBefore: 0, QuantityAfter: 3, Status: api.ChangeCompleted, StartedAt: t0, Attribution: api.AttributionDirect, NexusID: "x-1", Description: "add 3 nodes",
			Parts: []api.ChangePart{{ReadyAt: t0.Add(2 * time.Second), Amount: 2}, {ReadyAt: t0.Add(3 * time.Second), Amount: 1}}},
		{ID: "c-2", Label: "C2", GroupID: "g-web", Type: api.ChangeNodeLost, Amount: 1, QuantityBefore: 3, QuantityAfter: 2, Status: api.ChangeCompleted, StartedAt: t0.Add(time.Minute), Attribution: api.AttributionDirect, NexusID: "x-2", Description: "node n-2 lost"},
		{ID: "c-3", Label: "C3", GroupID: "g-web", Type: api.ChangeAddNodes, Amount: 1, QuantityBefore: 2, QuantityAfter: 3, Status: api.ChangeInProgress, StartedAt: t0.Add(time.Minute), Attribution: api.AttributionDirect, NexusID: "x-3", Description: "add 1 node to replace n-2"},
	}
	f.Periods = []api.Period{
		{ID: "p-1", Label: "H1", GroupID: "g-web", StartedAt: t0, Harmonized: true, Policy: "largest", DesiredBefore: 3, DesiredAfter: 3, OfficialBefore: 3, OfficialAfter: 3, Actual: 3},
	}
	f.Nodes = []api.Node{
		{ID: "n-1", GroupID: "g-web", Name: "web-0", Index: 0, State: api.NodeReady, LaunchedAt: t0, ReadyAt: &t0,
			Handle: map[string]string{"pid": "4242", "port": "8001", "log": "/var/lib/pes/nodes/n-1.log", "start_time": "1767348000"}},
		{ID: "n-2", GroupID: "g-web", Name: "web-1.2", Index: 1, State: api.NodeInitFailed, LaunchedAt: t0, StateReason: "not ready within 10m"},
	}
	four, tolerance := 4, 0.1
	f.Triggers = []api.Trigger{
		{ID: "t-1", GroupID: "g-web", Name: "cpu-high", Condition: "avg(cpu_utilization, '2m') > 80", For: "1m", Request: api.Request{ChangeBy: &four},
			Enabled: true, CreatedAt: t0, UpdatedAt: t0,
			Observed: []api.Observation{{Metric: "cpu_utilization", Value: 84.2, Time: t0.Add(5 * time.Minute)}}},
		{ID: "t-2", GroupID: "g-web", Name: "keep-cpu", Request: api.Request{Target: &api.Target{Metric: "cpu_utilization", Value: 60, Tolerance: &tolerance, Window: "1m"}},
			Enabled: true, CreatedAt: t0, UpdatedAt: t0,
			Observed: []api.Observation{{Metric: "cpu_utilization", Value: 71.5, Time: t0.Add(5 * time.Minute), Window: "1m"}}},
	}
	f.Costs = api.Costs{GroupID: "g-web", By: api.CostsByChange, Since: t0, Until: t0.Add(time.Hour), Currency: "USD", Rule: "each node is charged to its change",
		TotalNodeSeconds: 10800, TotalNodeHours: 3, TotalCostMicros: 750000, TotalCost: "0.75"}
	for i, c := range f.Changes {
		f.Costs.Rows = append(f.Costs.Rows, api.CostRow{Key: c.ID, Label: c.Label, Type: c.Type, NodeSeconds: 3600, NodeHours: 1,
			CostMicros: 250000, Cost: "0.25", ChangeIDs: []string{c.ID}, EventIDs: []string{f.Events[i].ID}, Description: c.Description})
	}
	return f
}

func (f *API) ExplainChange(ch api.Change) api.ChangeDetail {
	causes := f.Causes(ch)
	return api.ChangeDetail{Change: ch, Causes: causes,
		Explanation: "Change " + ch.Label + " was directly caused by event " + causes[0].Event.Label + "."}
}

func (f *API) ExplainEvent(e api.Event) api.EventDetail {
	effects := []api.Effect{}
	for _, ch := range f.Changes {
		if ch.NexusID == e.NexusID {
			effects = append(effects, api.Effect{Attribution: ch.Attribution, Change: ch})
		}
	}
	return api.EventDetail{Event: e, Effects: effects, Explanation: "Event " + e.Label + " caused " + strconv.Itoa(len(effects)) + " change(s)."}
}

// causes maps a change to the events of its nexus (one event per nexus
// here).
func (f *API) Causes(ch api.Change) []api.Cause {
	var out []api.Cause
	for _, e := range f.Events {
		if e.NexusID == ch.NexusID {
			out = append(out, api.Cause{Attribution: ch.Attribution, Event: e})
		}
	}
	return out
}

// hasEvent reports whether group g has the event of id or label ref.
func (f *API) HasEvent(g, ref string) bool {
	for _, e := range f.Events {
		if e.GroupID == g && (e.ID == ref || strings.EqualFold(e.Label, ref)) {
			return true
		}
	}
	return false
}

// WriteJSON answers status with v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status int, code, msg, field string) {
	WriteJSON(w, status, api.ErrorBody{Error: api.Error{Code: code, Message: msg, Field: field}})
}

// page serves items in pages of f.PageSize, so the CLI must follow tokens.
func page[T any](w http.ResponseWriter, r *http.Request, items []T, size int) {
	start, _ := strconv.Atoi(r.URL.Query().Get("page_token"))
	end := min(start+size, len(items))
	l := api.List[T]{Items: append([]T{}, items[start:end]...)}
	if end < len(items) {
		l.NextPageToken = strconv.Itoa(end)
	}
	WriteJSON(w, 200, l)
}

func (f *API) Handler() http.Handler {
	mux := http.NewServeMux()
	// group resolves the {id} of the path as pesd does: an id, else a live
	// group's name, else (include_deleted) a deleted one's; a deleted
	// group's name alone is the 404 saying where its history is.
	group := func(w http.ResponseWriter, r *http.Request) (api.Group, bool) {
		ref := r.PathValue("id")
		var deleted *api.Group
		for i, g := range f.Groups {
			switch {
			case g.ID == ref, g.Name == ref && g.Status != api.GroupDeleted:
				return g, true
			case g.Name == ref:
				deleted = &f.Groups[i]
			}
		}
		switch {
		case deleted != nil && r.URL.Query().Get("include_deleted") == "true":
			return *deleted, true
		case deleted != nil:
			writeErr(w, 404, api.CodeNotFound, "group "+ref+" was deleted at "+deleted.DeletedAt.Format(time.RFC3339)+
				"; its history is under id "+deleted.ID+" (pesd groups --all)", "")
		default:
			writeErr(w, 404, api.CodeNotFound, "group "+ref+" not found", "")
		}
		return api.Group{}, false
	}
	mux.HandleFunc("GET /v1/replicas", func(w http.ResponseWriter, r *http.Request) {
		t := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
		WriteJSON(w, 200, api.ReplicaList{Shards: 4, LeaseTTL: "10s", Unowned: []int{3}, Replicas: []api.Replica{
			{ID: "pes-a", Address: "10.0.0.1:7400", Live: true, Self: true, StartedAt: t, SeenAt: t,
				Leases: []api.Lease{{Shard: 0, Generation: 3, ExpiresAt: t.Add(10 * time.Second)}, {Shard: 1, Generation: 1, ExpiresAt: t.Add(9 * time.Second)}, {Shard: -7, Generation: 1, ExpiresAt: t.Add(10 * time.Second)}}},
			{ID: "pes-b", Address: "10.0.0.2:7400", Live: true, StartedAt: t, SeenAt: t,
				Leases: []api.Lease{{Shard: 2, Generation: 5, ExpiresAt: t.Add(8 * time.Second)}}},
			{ID: "pes-c", Address: "10.0.0.3:7400", StartedAt: t, SeenAt: t.Add(-time.Minute), Leases: []api.Lease{}},
		}})
	})
	mux.HandleFunc("GET /v1/groups", func(w http.ResponseWriter, r *http.Request) {
		var gs []api.Group
		for _, g := range f.Groups {
			if g.Status != api.GroupDeleted || r.URL.Query().Get("include_deleted") == "true" {
				gs = append(gs, g)
			}
		}
		page(w, r, gs, f.PageSize)
	})
	mux.HandleFunc("POST /v1/groups", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			api.GroupConfig
			Actor string `json:"actor"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			writeErr(w, 400, api.CodeInvalid, err.Error(), "")
			return
		}
		if err := api.ValidateGroupName(in.Name); err != nil {
			writeErr(w, 400, api.CodeInvalid, "must be a name such as web", "name")
			return
		}
		f.Mu.Lock()
		defer f.Mu.Unlock()
		g := api.Group{ID: "g-" + in.Name, GroupConfig: in.GroupConfig, Status: api.GroupActive}
		f.Groups = append(f.Groups, g)
		f.Actors = append(f.Actors, "create "+in.Name+" by "+in.Actor)
		WriteJSON(w, 201, g)
	})
	mux.HandleFunc("DELETE /v1/groups/{id}", func(w http.ResponseWriter, r *http.Request) {
		g, ok := group(w, r)
		if !ok {
			return
		}
		f.Mu.Lock()
		defer f.Mu.Unlock()
		for i := range f.Groups {
			if f.Groups[i].ID == g.ID {
				at := time.Date(2026, 1, 3, 9, 30, 0, 0, time.UTC)
				f.Groups[i].Status, f.Groups[i].DeletedAt = api.GroupDeleted, &at
			}
		}
		f.Actors = append(f.Actors, "delete "+g.Name+" by "+r.URL.Query().Get("actor"))
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /v1/groups/{id}/triggers", func(w http.ResponseWriter, r *http.Request) {
		g, ok := group(w, r)
		if !ok {
			return
		}
		var out []api.Trigger
		for _, t := range f.Triggers {
			if t.GroupID == g.ID {
				out = append(out, t)
			}
		}
		page(w, r, out, f.PageSize)
	})
	mux.HandleFunc("POST /v1/groups/{id}/triggers", func(w http.ResponseWriter, r *http.Request) {
		g, ok := group(w, r)
		if !ok {
			return
		}
		var spec api.TriggerSpec
		if err := json.NewDecoder(r.Body).Decode(&spec); err != nil {
			writeErr(w, 400, api.CodeInvalid, err.Error(), "")
			return
		}
		if spec.Name == nil || *spec.Name == "" {
			writeErr(w, 400, api.CodeInvalid, "required", "name")
			return
		}
		t := api.Trigger{ID: "t-" + *spec.Name, GroupID: g.ID, Name: *spec.Name, Request: spec.Request, Enabled: true}
		if spec.Condition != nil {
			t.Condition = *spec.Condition
		}
		if spec.Target != nil && spec.Target.Metric == "cpu_utilisation" {
			t.Warnings = []string{"metric cpu_utilisation has never been seen for this group; known: cpu_utilization"}
		}
		f.Mu.Lock()
		defer f.Mu.Unlock()
		f.Triggers = append(f.Triggers, t)
		WriteJSON(w, 201, t)
	})
	// trigger resolves /v1/triggers/{id}: an id, or with ?group= a name.
	trigger := func(w http.ResponseWriter, r *http.Request) (int, bool) {
		ref, gref := r.PathValue("id"), r.URL.Query().Get("group")
		for i, t := range f.Triggers {
			if t.ID == ref || gref != "" && t.Name == ref && (t.GroupID == gref || "g-"+gref == t.GroupID) {
				return i, true
			}
		}
		writeErr(w, 404, api.CodeNotFound, "trigger "+ref+" not found", "")
		return 0, false
	}
	mux.HandleFunc("GET /v1/triggers/{id}", func(w http.ResponseWriter, r *http.Request) {
		if i, ok := trigger(w, r); ok {
			WriteJSON(w, 200, f.Triggers[i])
		}
	})
	mux.HandleFunc("DELETE /v1/triggers/{id}", func(w http.ResponseWriter, r *http.Request) {
		if i, ok := trigger(w, r); ok {
			f.Mu.Lock()
			defer f.Mu.Unlock()
			f.Triggers = append(f.Triggers[:i], f.Triggers[i+1:]...)
			w.WriteHeader(http.StatusNoContent)
		}
	})
	mux.HandleFunc("GET /v1/groups/{id}", func(w http.ResponseWriter, r *http.Request) {
		if g, ok := group(w, r); ok {
			WriteJSON(w, 200, g)
		}
	})
	mux.HandleFunc("GET /v1/groups/{id}/costs", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := group(w, r); !ok {
			return
		}
		start, _ := strconv.Atoi(r.URL.Query().Get("page_token"))
		c := f.Costs
		end := min(start+f.PageSize, len(c.Rows))
		c.Rows = append([]api.CostRow{}, c.Rows[start:end]...)
		if end < len(f.Costs.Rows) {
			c.NextPageToken = strconv.Itoa(end)
		}
		WriteJSON(w, 200, c)
	})
	mux.HandleFunc("GET /v1/groups/{id}/nodes", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := group(w, r); ok {
			page(w, r, f.Nodes, f.PageSize)
		}
	})
	mux.HandleFunc("GET /v1/groups/{id}/events", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := group(w, r); !ok {
			return
		}
		var out []api.Event
		for _, e := range f.Events {
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
			page(w, r, out, f.PageSize)
		case "effects":
			var ds []api.EventDetail
			for _, e := range out {
				ds = append(ds, f.ExplainEvent(e))
			}
			page(w, r, ds, f.PageSize)
		default:
			writeErr(w, 400, api.CodeInvalid, "this list can include only \"effects\"", "include")
		}
	})
	mux.HandleFunc("GET /v1/groups/{id}/changes", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := group(w, r); !ok {
			return
		}
		var out []api.Change
		for _, ch := range f.Changes {
			if typ := r.URL.Query().Get("type"); typ != "" && ch.Type != typ {
				continue
			}
			if by := r.URL.Query().Get("caused_by"); by != "" {
				if !f.HasEvent(r.PathValue("id"), by) {
					writeErr(w, 400, api.CodeInvalid, "group "+r.PathValue("id")+" has no event "+by, "caused_by")
					return
				}
				found := false
				for _, c := range f.Causes(ch) {
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
			page(w, r, out, f.PageSize)
		case "causes":
			var ds []api.ChangeDetail
			for _, ch := range out {
				ds = append(ds, f.ExplainChange(ch))
			}
			page(w, r, ds, f.PageSize)
		default:
			writeErr(w, 400, api.CodeInvalid, "this list can include only \"causes\"", "include")
		}
	})
	mux.HandleFunc("GET /v1/changes/{id}", func(w http.ResponseWriter, r *http.Request) {
		for _, ch := range f.Changes {
			if ch.ID == r.PathValue("id") {
				WriteJSON(w, 200, f.ExplainChange(ch))
				return
			}
		}
		writeErr(w, 404, api.CodeNotFound, "change "+r.PathValue("id")+" not found", "")
	})
	mux.HandleFunc("GET /v1/events/{id}", func(w http.ResponseWriter, r *http.Request) {
		for _, e := range f.Events {
			if e.ID == r.PathValue("id") {
				WriteJSON(w, 200, f.ExplainEvent(e))
				return
			}
		}
		writeErr(w, 404, api.CodeNotFound, "event not found", "")
	})
	mux.HandleFunc("GET /v1/groups/{id}/periods", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := group(w, r); ok {
			page(w, r, f.Periods, f.PageSize)
		}
	})
	mux.HandleFunc("POST /v1/groups/{id}/harmonize", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := group(w, r); ok {
			p := f.Periods[0]
			p.Summary = "period H1: desired 3 → 3, official 3 → 3, actual 3 at harmonization\n  changes: none"
			WriteJSON(w, 200, p)
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
		f.Mu.Lock()
		f.Instructions = append(f.Instructions, in)
		f.Mu.Unlock()
		WriteJSON(w, 201, api.Event{ID: "e-9", Label: "E9", Type: api.EventUserInstruction, Status: api.EventAggregated, Request: &in.Request, Description: "user instruction"})
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
		f.Mu.Lock()
		f.Samples = append(f.Samples, m.Samples...)
		f.Mu.Unlock()
		WriteJSON(w, 200, api.MetricsResponse{Accepted: len(m.Samples)})
	})
	mux.HandleFunc("GET /v1/groups/{id}/forecast", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := group(w, r); ok {
			WriteJSON(w, 200, api.Forecast{GroupID: "g-web", Mode: "off", Ready: false, Reason: "predictive governing is off"})
		}
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.Mu.Lock()
		f.Sent = append(f.Sent, r.Method+" "+r.URL.RequestURI())
		f.Mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+Token {
			writeErr(w, 401, api.CodeUnauthorized, "missing or wrong bearer token", "")
			return
		}
		mux.ServeHTTP(w, r)
	})
}
