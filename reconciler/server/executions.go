package server

import (
	"context"
	"net/http"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/openapi"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// ExecutionService is the write side of distributed executions (SPEC
// §2.9): the controller starts, suspends, resumes and cancels them.
type ExecutionService interface {
	CreateExecution(ctx context.Context, in api.ExecutionCreate) (api.Execution, error)
	SuspendExecution(ctx context.Context, id string, in api.ExecutionSuspend) (api.Execution, error)
	ResumeExecution(ctx context.Context, id string, in api.ExecutionAction) (api.Execution, error)
	CancelExecution(ctx context.Context, id string, in api.ExecutionAction) (api.Execution, error)
}

// ExecutionHistory is the read side: id may be an execution's id or its
// label ("X3").
type ExecutionHistory interface {
	GetExecution(ctx context.Context, id string) (api.Execution, error)
	ListExecutions(ctx context.Context, f store.ExecutionFilter) ([]api.Execution, string, error)
	ListJobs(ctx context.Context, id string) ([]api.Job, error)
	ExecutionOutput(ctx context.Context, id string) (api.ExecutionOutput, error)
}

// tagExecutions is the tag of the execution routes in the description.
const tagExecutions = "executions"

// executionRoutes are the routes of distributed executions, for the
// route table. An {id} is an execution's id or its label (X1).
func (s *server) executionRoutes() []route {
	r := func(op openapi.Operation, h http.HandlerFunc) route { return route{Operation: op, handler: h} }
	type (
		O = openapi.Operation
		B = openapi.Body
		P = openapi.Param
	)
	action := func(verb, id, summary string, body any, h http.HandlerFunc) route {
		return r(O{Pattern: "POST /v1/executions/{id}/" + verb, ID: id, Tag: tagExecutions, Status: http.StatusOK,
			Summary: summary, Body: &B{Type: body, Optional: true}, Response: api.Execution{}, Errors: notFoundOrState}, s.inTenant("execution", h))
	}
	return []route{
		r(O{Pattern: "POST /v1/executions", ID: "createExecution", Tag: tagExecutions, Status: http.StatusCreated, Location: true,
			Summary: "Start an execution: the input (files, lines or items) split into jobs run on the group's nodes, " +
				"one job per free node. group_id may be the group's name.",
			Body:     &B{Type: api.ExecutionCreate{}, Required: []string{"group_id", "input"}},
			Response: api.Execution{}, Errors: withBody}, s.createExecution),
		r(O{Pattern: "GET /v1/executions", ID: "listExecutions", Tag: tagExecutions, Status: http.StatusOK,
			Summary: "List the executions, oldest first.",
			Query: paged(P{Name: "group_id", Type: "string", Description: "Only the executions of this group (its id or name)."},
				P{Name: "status", Type: "string", Enum: api.ExecutionStatuses(), Description: "Only executions with this status."}),
			Response: api.List[api.Execution]{}, Errors: notFound}, s.listExecutions),
		r(O{Pattern: "GET /v1/executions/{id}", ID: "getExecution", Tag: tagExecutions, Status: http.StatusOK,
			Summary:  "An execution with its jobs, counts by status, elapsed time and estimate of the time left.",
			Response: api.Execution{}, Errors: notFound}, s.inTenant("execution", s.getExecution)),
		r(O{Pattern: "GET /v1/executions/{id}/jobs", ID: "listJobs", Tag: tagExecutions, Status: http.StatusOK,
			Summary: "The execution's jobs in index order.", Query: paged(),
			Response: api.List[api.Job]{}, Errors: notFound}, s.inTenant("execution", s.listJobs)),
		r(O{Pattern: "GET /v1/executions/{id}/output", ID: "executionOutput", Tag: tagExecutions, Status: http.StatusOK,
			Summary:  "Where the output is: each job's files, and the combined output once the execution completed.",
			Response: api.ExecutionOutput{}, Errors: notFound}, s.inTenant("execution", s.executionOutput)),
		action("suspend", "suspendExecution", "Suspend a running execution: its jobs get SIGTERM, checkpoint and exit; "+
			"with release_nodes the group is then scaled to 0 (409 unless running).", api.ExecutionSuspend{}, s.suspendExecution),
		action("resume", "resumeExecution", "Resume a suspended execution on the nodes ready now (409 unless suspended).",
			api.ExecutionAction{}, s.resumeExecution),
		action("cancel", "cancelExecution", "Cancel an execution: running jobs are stopped (409 once it has ended).",
			api.ExecutionAction{}, s.cancelExecution),
	}
}

func (s *server) createExecution(w http.ResponseWriter, r *http.Request) {
	in, ok := decodeRequest(s, w, r, maxMetricsBodyBytes, api.ValidateExecutionCreate)
	if !ok {
		return
	}
	// Names work wherever ids go: group_id may name a live group.
	g, err := s.hist.ResolveGroup(r.Context(), tenantOf(r), in.GroupID, false)
	if err != nil {
		s.fail(w, r, err, "group "+in.GroupID)
		return
	}
	in.GroupID = g.ID
	x, err := s.svc.CreateExecution(r.Context(), in)
	if err != nil {
		s.fail(w, r, err, "group "+in.GroupID)
		return
	}
	created(w, "/v1/executions/"+x.ID, x)
}

func (s *server) listExecutions(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r.URL)
	f := store.ExecutionFilter{GroupID: q.get("group_id"), Status: q.enum("status", api.ExecutionStatuses()), Tenant: tenantOf(r)}
	serveList(s, w, r, q, listing{name: "executions", filters: []string{f.GroupID, f.Status}},
		func(ctx context.Context, p store.Page) ([]api.Execution, string, error) {
			if f.GroupID != "" {
				// A group's name, or a deleted group's id or name.
				g, err := s.hist.ResolveGroup(ctx, f.Tenant, f.GroupID, true)
				if err != nil {
					return nil, "", err
				}
				f.GroupID = g.ID
			}
			f.Page = p
			return s.hist.ListExecutions(ctx, f)
		})
}

func (s *server) getExecution(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	serve(s, w, r, "execution "+id, http.StatusOK, func(ctx context.Context) (api.Execution, error) {
		return s.hist.GetExecution(ctx, id)
	})
}

// listJobs answers the jobs of an execution, paged in index order.
func (s *server) listJobs(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q := newQuery(r.URL)
	sc := scope("jobs", id)
	limit, token := q.limit(), q.pageToken(sc)
	if err := q.done(); err != nil {
		s.fail(w, r, err, "")
		return
	}
	jobs, err := s.hist.ListJobs(r.Context(), id)
	if err != nil {
		s.fail(w, r, err, "execution "+id)
		return
	}
	page, next, ok := pageOf(jobs, limit, token)
	if !ok {
		s.fail(w, r, api.Invalid("page_token", "is not a token this list returned; omit it to start from the first page"), "")
		return
	}
	writeList(w, page, sealToken(sc, next))
}

func (s *server) executionOutput(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	serve(s, w, r, "execution "+id, http.StatusOK, func(ctx context.Context) (api.ExecutionOutput, error) {
		return s.hist.ExecutionOutput(ctx, id)
	})
}

// decodeOptional decodes a body that may be empty (the actions' bodies
// are optional).
func decodeOptional[T any](s *server, w http.ResponseWriter, r *http.Request) (in T, ok bool) {
	if r.ContentLength == 0 {
		if err := newQuery(r.URL).done(); err != nil {
			s.fail(w, r, err, "")
			return in, false
		}
		return in, true
	}
	return decodeRequest[T](s, w, r, maxBodyBytes, nil)
}

// executionAction answers an action on an execution: its optional body
// decoded, then act.
func executionAction[T any](s *server, w http.ResponseWriter, r *http.Request,
	act func(ctx context.Context, id string, in T) (api.Execution, error)) {
	id := r.PathValue("id")
	in, ok := decodeOptional[T](s, w, r)
	if !ok {
		return
	}
	serve(s, w, r, "execution "+id, http.StatusOK, func(ctx context.Context) (api.Execution, error) {
		return act(ctx, id, in)
	})
}

func (s *server) suspendExecution(w http.ResponseWriter, r *http.Request) {
	executionAction(s, w, r, s.svc.SuspendExecution)
}

func (s *server) resumeExecution(w http.ResponseWriter, r *http.Request) {
	executionAction(s, w, r, s.svc.ResumeExecution)
}

func (s *server) cancelExecution(w http.ResponseWriter, r *http.Request) {
	executionAction(s, w, r, s.svc.CancelExecution)
}
