package server

import (
	"net/http"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/identity"
	"github.com/pes-project/terraform-provider-pes/reconciler/openapi"
)

// route is one entry of the router: its description and its handler. The
// router is built from this table and the OpenAPI document is written
// from it, so a route cannot be served without being described.
type route struct {
	openapi.Operation
	handler http.HandlerFunc
	// access is what the route asks of its caller when the method does
	// not say it (accessOf): push for samples, read for a POST that
	// only reads, admin for token management.
	access identity.Access
}

// Query parameters several routes share.
var (
	limitParam = openapi.Param{Name: "limit", Type: "integer", Min: 1, Max: maxLimit,
		Description: "Items per page (default 100)."}
	pageTokenParam = openapi.Param{Name: "page_token", Type: "string",
		Description: "The next_page_token of the previous page; valid only with the same filters."}
	actorParam = openapi.Param{Name: "actor", Type: "string",
		Description: "Who acts (a user name, terraform); pesd records api when absent."}
	sinceParam = openapi.Param{Name: "since", Type: "date-time", Description: "Only records at or after this time."}
	untilParam = openapi.Param{Name: "until", Type: "date-time", Description: "Only records before this time."}
	// triggerGroupParam makes a /v1/triggers/{id} route take a trigger's
	// name in {id}.
	triggerGroupParam = openapi.Param{Name: "group", Type: "string",
		Description: "A group's id or name: {id} is then the name of one of its triggers."}
)

func paged(ps ...openapi.Param) []openapi.Param {
	return append(ps, limitParam, pageTokenParam)
}

// The error statuses routes answer besides those of every /v1 route.
var (
	notFound        = []int{http.StatusNotFound}
	notFoundOrState = []int{http.StatusNotFound, http.StatusConflict}
	withBody        = []int{http.StatusNotFound, http.StatusConflict, http.StatusRequestEntityTooLarge}
)

// Tags of the document.
const (
	tagGroups   = "groups"
	tagNodes    = "nodes"
	tagTriggers = "triggers"
	tagHistory  = "history"
	tagService  = "service"
)

// table is the router: every route pesd serves, described.
func (s *server) table() []route {
	r := func(op openapi.Operation, h http.HandlerFunc) route { return route{Operation: op, handler: h} }
	type (
		O = openapi.Operation
		B = openapi.Body
		P = openapi.Param
	)
	return append([]route{
		r(O{Pattern: "GET /healthz", ID: "healthz", Tag: tagService, Public: true, Status: http.StatusOK,
			Summary: "Liveness: pesd's HTTP server answers.", Response: api.Health{}}, s.handleHealthz),
		r(O{Pattern: "GET /readyz", ID: "readyz", Tag: tagService, Public: true, Status: http.StatusOK,
			Summary:  "Readiness: the store answers and the first reconcile pass has run (503 with the reasons otherwise).",
			Response: api.Health{}, Errors: []int{http.StatusServiceUnavailable}}, s.handleReadyz),
		r(O{Pattern: "GET /metrics", ID: "metrics", Tag: tagService, Public: s.metricsPublic, Status: http.StatusOK,
			Summary: "Prometheus metrics in the text exposition format. A token of one tenant sees only its tenant's " +
				"group series; with --metrics-public, no token is needed and then only aggregate series are served.",
			Response: "", ResponseMedia: "text/plain"}, s.handleMetrics),
		r(O{Pattern: "GET /v1/replicas", ID: "listReplicas", Tag: tagService, Status: http.StatusOK,
			Summary:  "The pesd replicas sharing the database, with the leases of the shards of groups each owns.",
			Response: api.ReplicaList{}}, s.listReplicas),
		r(O{Pattern: "GET /v1/openapi.json", ID: "openapi", Tag: tagService, Public: true, Status: http.StatusOK,
			Summary: "This description of the API (OpenAPI 3.1).", Response: map[string]any{}}, s.handleOpenAPI),

		r(O{Pattern: "POST /v1/groups", ID: "createGroup", Tag: tagGroups, Status: http.StatusCreated, Location: true,
			Summary:  "Create a group; every field but name, driver, program and desired_quantity takes its default.",
			Body:     &B{Type: api.GroupCreate{}, Required: []string{"name", "driver", "desired_quantity"}},
			Response: api.Group{}, Errors: withBody}, s.createGroup),
		r(O{Pattern: "GET /v1/groups", ID: "listGroups", Tag: tagGroups, Status: http.StatusOK,
			Summary:  "List the groups.",
			Query:    paged(P{Name: "include_deleted", Type: "boolean", Description: "Include deleted groups."}),
			Response: api.List[api.Group]{}}, s.listGroups),
		r(O{Pattern: "GET /v1/groups/{id}", ID: "getGroup", Tag: tagGroups, Status: http.StatusOK,
			Summary: "Get a group by id or name; with wait, a long poll: answers as soon as the condition holds, " +
				"the group is deleted or timeout passes, the header " + api.HeaderWait + " saying which (met, deleted, timeout).",
			Response: api.Group{}, Errors: notFound,
			Query: []P{{Name: "include_deleted", Type: "boolean",
				Description: "By name, answer the group of that name deleted last when no live one has it."},
				{Name: "wait", Type: "string",
					Description: "A condition <field><op><n> to wait for: field actual_quantity, desired_quantity or official_quantity; op >=, <= or ==. Example: actual_quantity>=3."},
				{Name: "timeout", Type: "string",
					Description: "How long a wait lasts at most, a duration above 0s and at most 60s (default 30s); only with wait."}}}, s.getGroup),
		r(O{Pattern: "PATCH /v1/groups/{id}", ID: "updateGroup", Tag: tagGroups, Status: http.StatusOK,
			Summary: "Change the fields present; a new desired_quantity is a set_to instruction.",
			Body:    &B{Type: api.GroupPatch{}}, Response: api.Group{}, Errors: withBody}, s.withGroup(s.updateGroup)),
		r(O{Pattern: "DELETE /v1/groups/{id}", ID: "deleteGroup", Tag: tagGroups, Status: http.StatusNoContent,
			Summary: "Delete a group: its nodes are terminated, its history kept for the retention.",
			Query:   []P{actorParam}, Errors: notFoundOrState}, s.byGroup(s.deleteGroup)),
		r(O{Pattern: "POST /v1/groups/{id}/instructions", ID: "instruct", Tag: tagGroups, Status: http.StatusCreated, Location: true,
			Summary: "Give an instruction (change_by, change_by_percent or set_to); answers the event recorded.",
			Body:    &B{Type: api.Instruction{}}, Response: api.Event{}, Errors: withBody}, s.byGroup(s.instruct)),
		r(O{Pattern: "POST /v1/groups/{id}/harmonize", ID: "harmonize", Tag: tagGroups, Status: http.StatusOK,
			Summary:  "End the current aggregation period now; answers its decision record.",
			Response: api.Period{}, Errors: notFoundOrState}, s.byGroup(s.harmonize)),
		r(O{Pattern: "GET /v1/groups/{id}/forecast", ID: "forecast", Tag: tagGroups, Status: http.StatusOK,
			Summary: "The group's forecast (predictive governing).", Response: api.Forecast{}, Errors: notFoundOrState}, s.byGroup(s.forecast)),
		r(O{Pattern: "POST /v1/groups/{id}/history", ID: "importHistory", Tag: tagGroups, Status: http.StatusOK,
			Summary: "Import a quantity history as the group's past, for predictive governing.",
			Body:    &B{Media: historyMedia()}, Response: api.HistoryImport{}, Errors: withBody}, s.byGroup(s.importHistory)),
		r(O{Pattern: "POST /v1/groups/{id}/metrics", ID: "pushMetrics", Tag: tagGroups, Status: http.StatusOK,
			Summary: "Push metric samples for the group's triggers.",
			Body:    &B{Type: api.MetricsRequest{}, Required: []string{"samples"}}, Response: api.MetricsResponse{}, Errors: withBody}, s.byGroup(s.pushMetrics)).
			asks(identity.Push),
		r(O{Pattern: "POST /v1/groups/{id}/whatif", ID: "whatIf", Tag: tagGroups, Status: http.StatusOK,
			Summary: "Backtest: replay the group's recorded samples of a window (since, until) through the engine with proposed triggers and settings, on the sim driver and a fake clock; metrics of Prometheus metric sources come from range queries where pesd kept none (queried), and the replay is governed by the group's or the proposed predictive settings. Answers the periods, changes and events it would have recorded, and a summary beside what really happened (with forecast clamps, and cost where the group has billing). Writes nothing to the group's record.",
			Body:    &B{Type: api.WhatIfRequest{}, Required: []string{"since"}}, Response: api.WhatIf{}, Errors: withBody}, s.byGroup(s.whatIf)).
			asks(identity.Read),

		r(O{Pattern: "GET /v1/groups/{id}/nodes", ID: "listNodes", Tag: tagNodes, Status: http.StatusOK,
			Summary:  "List the group's nodes.",
			Query:    paged(P{Name: "include_terminated", Type: "boolean", Description: "Include terminated nodes."}),
			Response: api.List[api.Node]{}, Errors: notFound}, s.byGroup(s.listNodes)),
		r(O{Pattern: "DELETE /v1/groups/{id}/nodes/{node}", ID: "terminateNode", Tag: tagNodes, Status: http.StatusOK,
			Summary: "Terminate a node; answers the event recorded.",
			Query:   []P{actorParam}, Response: api.Event{}, Errors: notFoundOrState}, s.byGroup(s.terminateNode)),
		r(O{Pattern: "POST /v1/groups/{id}/nodes/{node}/fail", ID: "failNode", Tag: tagNodes, Status: http.StatusNoContent,
			Summary: "Make a sim node fail its health checks (testing).", Errors: notFoundOrState}, s.byGroup(s.failNode)),

		r(O{Pattern: "POST /v1/groups/{id}/triggers", ID: "createTrigger", Tag: tagTriggers, Status: http.StatusCreated, Location: true,
			Summary: "Create a trigger: a name, a condition or a schedule, and one request form.", Body: &B{Type: api.TriggerSpec{}, Required: []string{"name"}},
			Response: api.Trigger{}, Errors: withBody}, s.byGroup(s.createTrigger)),
		r(O{Pattern: "GET /v1/groups/{id}/triggers", ID: "listTriggers", Tag: tagTriggers, Status: http.StatusOK,
			Summary: "List the group's triggers, each with the last value of each metric it reads (observed).", Query: paged(), Response: api.List[api.Trigger]{}, Errors: notFound}, s.byGroup(s.listTriggers)),
		r(O{Pattern: "POST /v1/triggers/validate", ID: "validateCondition", Tag: tagTriggers, Status: http.StatusOK,
			Summary:  "Check a trigger condition; a condition that does not compile is an answer (valid false), not an error.",
			Body:     &B{Type: api.ValidateConditionRequest{}, Required: []string{"condition"}},
			Response: api.ValidateConditionResponse{}, Errors: []int{http.StatusRequestEntityTooLarge}}, s.validateCondition).
			asks(identity.Read),
		r(O{Pattern: "GET /v1/triggers/{id}", ID: "getTrigger", Tag: tagTriggers, Status: http.StatusOK,
			Summary: "Get a trigger, with the last value of each metric it reads (observed).", Response: api.Trigger{}, Errors: notFound, Query: []P{triggerGroupParam}}, s.inTenant("trigger", s.byTrigger(s.getTrigger))),
		r(O{Pattern: "PATCH /v1/triggers/{id}", ID: "updateTrigger", Tag: tagTriggers, Status: http.StatusOK,
			Summary: "Change the fields present; a request form given replaces the old one.",
			Body:    &B{Type: api.TriggerSpec{}}, Response: api.Trigger{}, Errors: withBody, Query: []P{triggerGroupParam}}, s.inTenant("trigger", s.byTrigger(s.updateTrigger))),
		r(O{Pattern: "DELETE /v1/triggers/{id}", ID: "deleteTrigger", Tag: tagTriggers, Status: http.StatusNoContent,
			Summary: "Delete a trigger.", Errors: notFoundOrState, Query: []P{triggerGroupParam}}, s.inTenant("trigger", s.byTrigger(s.deleteTrigger))),

		r(O{Pattern: "GET /v1/groups/{id}/events", ID: "listEvents", Tag: tagHistory, Status: http.StatusOK,
			Summary: "List the group's events; with include=effects each is an EventDetail.",
			Query: paged(sinceParam, untilParam,
				P{Name: "type", Type: "string", Enum: api.EventTypes(), Description: "Only events of this type."},
				P{Name: "include", Type: "string", Enum: []string{api.IncludeEffects}, Description: "effects: each event with its effects and explanation."}),
			Response: openapi.AnyOf{api.List[api.Event]{}, api.List[api.EventDetail]{}}, Errors: notFound}, s.byGroup(s.listEvents)),
		r(O{Pattern: "GET /v1/events/{id}", ID: "getEvent", Tag: tagHistory, Status: http.StatusOK,
			Summary: "An event with its effects and explanation. A user's event names in source.principal the principal " +
				"whose token asked (a contract addition of identity) and in source.on_behalf_of the actor the client named.",
			Response: api.EventDetail{}, Errors: notFound}, s.inTenant("event", s.getEvent)),
		r(O{Pattern: "GET /v1/groups/{id}/changes", ID: "listChanges", Tag: tagHistory, Status: http.StatusOK,
			Summary: "List the group's capacity changes; with include=causes each is a ChangeDetail.",
			Query: paged(sinceParam, untilParam,
				P{Name: "type", Type: "string", Enum: api.ChangeTypes(), Description: "Only changes of this type."},
				P{Name: "caused_by", Type: "string", Description: "Only changes an event caused: its id or its label (E4)."},
				P{Name: "include", Type: "string", Enum: []string{api.IncludeCauses}, Description: "causes: each change with its causes and explanation."}),
			Response: openapi.AnyOf{api.List[api.Change]{}, api.List[api.ChangeDetail]{}}, Errors: notFound}, s.byGroup(s.listChanges)),
		r(O{Pattern: "GET /v1/changes/{id}", ID: "getChange", Tag: tagHistory, Status: http.StatusOK,
			Summary: "A change with its causes and explanation.", Response: api.ChangeDetail{}, Errors: notFound}, s.inTenant("change", s.getChange)),
		r(O{Pattern: "GET /v1/groups/{id}/periods", ID: "listPeriods", Tag: tagHistory, Status: http.StatusOK,
			Summary: "List the group's aggregation periods and their decision records.", Query: paged(),
			Response: api.List[api.Period]{}, Errors: notFound}, s.byGroup(s.listPeriods)),
		r(O{Pattern: "GET /v1/groups/{id}/timeline", ID: "timeline", Tag: tagHistory, Status: http.StatusOK,
			Summary: "The console's chart of a window: desired, official and actual as step series, the harmonizations, and the changes and events, thinned to one of each type (and status) per bucket when there are more than buckets.",
			Query: []P{
				{Name: "since", Type: "date-time", Description: "The start of the window (required)."},
				{Name: "until", Type: "date-time", Description: "The end of the window (required)."},
				{Name: "buckets", Type: "integer", Min: 1, Max: api.MaxTimelineBuckets, Description: "How many buckets the window is thinned to (default 320)."},
			},
			Response: api.Timeline{}, Errors: notFound}, s.withGroup(s.timeline)),
		r(O{Pattern: "GET /v1/groups/{id}/costs", ID: "costs", Tag: tagHistory, Status: http.StatusOK,
			Summary: "The group's node time and money over a window, by cause, trigger, actor, change or day: exact totals that the rows add up to, " +
				"and for each row the changes and events behind it.",
			Query: []P{
				{Name: "since", Type: "date-time", Description: "The start of the window (default: the group's creation)."},
				{Name: "until", Type: "date-time", Description: "The end of the window (default: now)."},
				{Name: "by", Type: "string", Enum: api.CostsBy(), Description: "How rows are grouped (default cause)."},
				{Name: "limit", Type: "integer", Min: 1, Max: maxLimit,
					Description: "Rows per page (default: all rows in one answer); the totals are always the whole window's."},
				{Name: "page_token", Type: "string",
					Description: "The next_page_token of the previous page; valid only with the same by, since and until. " +
						"It carries the window of the first page, so later pages read the same window when until was left to default to now."},
			},
			Response: api.Costs{}, Errors: notFound}, s.withGroup(s.costs)),
		r(O{Pattern: "GET /v1/periods/{id}", ID: "getPeriod", Tag: tagHistory, Status: http.StatusOK,
			Summary: "A period and its decision record.", Response: api.Period{}, Errors: notFound}, s.inTenant("period", s.getPeriod)),
	}, append(append(s.executionRoutes(), s.recommendationRoutes()...), s.identityRoutes()...)...)
}

// asks sets what the route asks of its caller (accessOf).
func (r route) asks(a identity.Access) route {
	r.access = a
	return r
}
