package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/openapi"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// RunService records imported runs (seed 003's recommendations).
type RunService interface {
	// ImportRuns records runs (CSV or JSON, read from r, which the
	// handler bounds) as tenant's runs of the program type.
	ImportRuns(ctx context.Context, tenant, programType string, r io.Reader) (api.RunsImport, error)
}

// RunHistory is the read side: a program type's runs of a tenant (every
// tenant's when empty), and the recommendation from them.
type RunHistory interface {
	ListRuns(ctx context.Context, tenant, programType string, p store.Page) ([]api.Run, string, error)
	Recommend(ctx context.Context, tenant, programType string, q api.RecommendationQuery) (api.Recommendation, error)
}

// tagRecommendations is the tag of the program-type routes.
const tagRecommendations = "recommendations"

// recommendationRoutes are the routes of run records and
// recommendations, for the route table.
func (s *server) recommendationRoutes() []route {
	r := func(op openapi.Operation, h http.HandlerFunc) route { return route{Operation: op, handler: h} }
	type (
		O = openapi.Operation
		B = openapi.Body
		P = openapi.Param
	)
	return []route{
		r(O{Pattern: "GET /v1/program-types/{type}/recommendation", ID: "getRecommendation", Tag: tagRecommendations, Status: http.StatusOK,
			Summary: "Recommend the node quantity and node type of the next execution of a program type from its prior runs: " +
				"wall seconds t = a + b·input_size/n + c·n fit by non-negative least squares. With a deadline, the cheapest quantity " +
				"predicted to meet it; with max_node_hours alone, the fastest within it; with neither, the knee of the curve. " +
				"Fewer than 3 completed runs answer status not_enough_history with the count.",
			Query: []P{
				{Name: "input_size", Type: "number", Description: "The next input's items, lines or files (required), as the runs count them."},
				{Name: "deadline", Type: "string", Description: "How long the execution may take, a duration such as 1h."},
				{Name: "max_node_hours", Type: "number", Description: "The budget in node-hours."},
				{Name: "max_nodes", Type: "integer", Min: 1, Max: api.MaxQuantityLimit, Description: "The most nodes to consider (default twice the largest run's)."},
			},
			Response: api.Recommendation{}}, s.getRecommendation),
		r(O{Pattern: "GET /v1/program-types/{type}/runs", ID: "listRuns", Tag: tagRecommendations, Status: http.StatusOK,
			Summary: "The run records of a program type, oldest end first: one per ended execution, and the imported ones.",
			Query:   paged(), Response: api.List[api.Run]{}}, s.listRuns),
		r(O{Pattern: "POST /v1/program-types/{type}/runs", ID: "importRuns", Tag: tagRecommendations, Status: http.StatusOK,
			Summary: "Import runs of a program type recorded elsewhere, CSV with a header line or a JSON array of runs, " +
				"so a new installation recommends from past knowledge. A run already recorded (the same label) is skipped.",
			Body: &B{Media: runsMedia()}, Response: api.RunsImport{}, Errors: withBody}, s.importRuns),
	}
}

// programType reads the {type} of the path; a bad one is a 400 naming it.
func programType(r *http.Request) (string, error) {
	t := r.PathValue("type")
	return t, api.ValidateProgramType(t)
}

func (s *server) getRecommendation(w http.ResponseWriter, r *http.Request) {
	typ, err := programType(r)
	q := newQuery(r.URL)
	rq, qerr := api.ParseRecommendationQuery(q.get)
	for _, e := range []error{err, qerr} {
		if e != nil {
			s.fail(w, r, e, "")
			return
		}
	}
	serveQuery(s, w, r, q, "program type "+typ, http.StatusOK, func(ctx context.Context) (api.Recommendation, error) {
		return s.hist.Recommend(ctx, tenantOf(r), typ, rq)
	})
}

func (s *server) listRuns(w http.ResponseWriter, r *http.Request) {
	typ, err := programType(r)
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	q := newQuery(r.URL)
	serveList(s, w, r, q, listing{name: "runs", filters: []string{typ}},
		func(ctx context.Context, p store.Page) ([]api.Run, string, error) {
			return s.hist.ListRuns(ctx, tenantOf(r), typ, p)
		})
}

// importRuns reads runs exported from elsewhere, CSV or JSON (the
// parser tells them apart, so the Content-Type is not needed).
func (s *server) importRuns(w http.ResponseWriter, r *http.Request) {
	typ, err := programType(r)
	if err == nil {
		err = newQuery(r.URL).done()
	}
	// The importer's tenant; an admin's imports go to the default tenant,
	// as its groups do when it names none.
	tenant, terr := tenantForCreate(r, "")
	for _, e := range []error{err, terr} {
		if e != nil {
			s.fail(w, r, e, "")
			return
		}
	}
	serve(s, w, r, "program type "+typ, http.StatusOK, func(ctx context.Context) (api.RunsImport, error) {
		out, err := s.svc.ImportRuns(ctx, tenant, typ, http.MaxBytesReader(w, r.Body, api.MaxRunsImport))
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			err = &api.Error{Code: api.CodeTooLarge, Status: http.StatusRequestEntityTooLarge, Field: "runs",
				Message: fmt.Sprintf("runs are larger than %d MiB; import them in parts", api.MaxRunsImport>>20)}
		}
		return out, err
	})
}

// runsMedia describes the body of POST /v1/program-types/{type}/runs.
func runsMedia() map[string]*openapi.Schema {
	return map[string]*openapi.Schema{
		"text/csv": {Type: "string", Description: "A header line naming the columns (the run's JSON fields: " +
			"input_size, nodes_mean and wall_seconds required), then one run a line."},
		"application/json": {Type: "array", Items: &openapi.Schema{Type: "object", Required: []string{"input_size", "nodes_mean", "wall_seconds"},
			Description: "A run: api.Run's fields (label, status, input_size, job_count, nodes_mean, nodes_max, node_type, " +
				"started_at, ended_at, wall_seconds, suspended_seconds, node_hours, cost, failures, retries)."}},
	}
}
