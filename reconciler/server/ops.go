package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/openapi"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// Readiness is a Service that takes time to start (the controller): /readyz
// asks it. A Service without it is ready once the store answers.
type Readiness interface {
	Ready(ctx context.Context) error
}

// OpenAPI returns the description of every route as served at GET
// /v1/openapi.json and published as docs/openapi.json: written from the
// route table the router is built from.
func OpenAPI() ([]byte, error) {
	return openAPIJSON((&server{}).table())
}

func openAPIJSON(routes []route) ([]byte, error) {
	ops := make([]openapi.Operation, len(routes))
	for i, r := range routes {
		ops[i] = r.Operation
	}
	doc, err := openapi.Build(openapi.Spec{
		Info: openapi.Info{
			Title:   "pesd API",
			Version: "v1",
			Description: "The HTTP API of pesd, the pes reconciler: node groups, instructions, triggers, " +
				"and the causality of every capacity change. Every /v1 route but this description needs " +
				"\"Authorization: Bearer <token>\"; errors answer {\"error\": {\"code\", \"message\", \"field\"}}.",
		},
		Tags: []openapi.Tag{
			{Name: tagGroups, Description: "Node groups and what is asked of them."},
			{Name: tagNodes, Description: "The nodes of a group."},
			{Name: tagTriggers, Description: "Capacity-modification triggers."},
			{Name: tagHistory, Description: "Events, capacity changes, periods and their causality."},
			{Name: tagService, Description: "pesd itself: health, readiness, metrics, this description."},
			{Name: tagExecutions, Description: "Distributed executions: an input split into jobs run on a group's nodes, suspended and resumed."},
		},
		ErrorBody: api.ErrorBody{},
		Enums: map[string][]string{
			"GroupConfig.driver":             api.Drivers(),
			"GroupConfig.aggregation_policy": api.AggregationPolicies(),
			"GroupConfig.replacement":        api.ReplacementPolicies(),
			"GroupConfig.termination_policy": api.TerminationPolicies(),
			"GroupPatch.driver":              api.Drivers(),
			"GroupPatch.aggregation_policy":  api.AggregationPolicies(),
			"GroupPatch.replacement":         api.ReplacementPolicies(),
			"GroupPatch.termination_policy":  api.TerminationPolicies(),
			"HealthCheck.type":               api.HealthCheckTypes(),
			"Predictive.mode":                api.PredictiveModes(),
			"Predictive.governs":             api.PredictiveGoverns(),
			"Event.type":                     api.EventTypes(),
			"Change.type":                    api.ChangeTypes(),
			"Execution.status":               api.ExecutionStatuses(),
		},
	}, ops)
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	return append(b, '\n'), err
}

// historyMedia describes the body of POST /v1/groups/{id}/history: CSV
// lines or a JSON array, which the parser tells apart.
func historyMedia() map[string]*openapi.Schema {
	return map[string]*openapi.Schema{
		"text/csv": {Type: "string", Description: "Lines time,desired[,actual]; times are RFC 3339."},
		"application/json": {Type: "array", Items: &openapi.Schema{
			Type:                 "object",
			Required:             []string{"desired", "time"},
			AdditionalProperties: false,
			Properties: map[string]*openapi.Schema{
				"time":    {Type: "string", Format: "date-time"},
				"desired": {Type: "number"},
				"actual":  {Type: "number"},
			},
		}},
	}
}

func (s *server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	if err := newQuery(r.URL).done(); err != nil {
		s.fail(w, r, err, "")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(s.openapi)
}

func (s *server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, api.Health{Status: api.HealthOK})
}

// handleReadyz answers 200 when the store answers a read (and can write,
// with WithReadiness) and the Service is ready, else 503 naming what is
// not. /healthz stays liveness: pesd runs.
func (s *server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	var why []string
	if _, _, err := s.hist.ListGroups(r.Context(), store.GroupFilter{Page: store.Page{Limit: 1}}); err != nil {
		s.log.WarnContext(r.Context(), "readyz: the store does not answer", "err", err)
		why = append(why, "the store does not answer")
	}
	if rd, ok := s.svc.(Readiness); ok {
		if err := rd.Ready(r.Context()); err != nil {
			why = append(why, err.Error())
		}
	}
	// A store that answers reads may still be unable to write.
	if s.ready != nil {
		if ok, msg := s.ready(r.Context()); !ok {
			why = append(why, msg)
		}
	}
	if len(why) > 0 {
		w.Header().Set("Retry-After", "5")
		writeAPIError(w, &api.Error{Code: api.CodeUnavailable, Status: http.StatusServiceUnavailable,
			Message: "not ready: " + strings.Join(why, "; ")})
		return
	}
	writeJSON(w, http.StatusOK, api.Health{Status: api.HealthOK})
}

// mustOpenAPI is the description of routes as served. It fails only on a
// route table that cannot be described, which every test of the server
// would show.
func mustOpenAPI(routes []route) []byte {
	b, err := openAPIJSON(routes)
	if err != nil {
		panic("server: the route table cannot be described: " + err.Error())
	}
	return b
}
