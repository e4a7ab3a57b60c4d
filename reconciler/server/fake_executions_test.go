package server

import (
	"context"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

func (r *recorder) CreateExecution(ctx context.Context, in api.ExecutionCreate) (api.Execution, error) {
	if err := r.record("CreateExecution", in); err != nil {
		return api.Execution{}, err
	}
	return api.Execution{ID: "x-new", Label: "X9", GroupID: in.GroupID, Status: api.ExecutionRunning}, nil
}

func (r *recorder) SuspendExecution(ctx context.Context, id string, in api.ExecutionSuspend) (api.Execution, error) {
	return api.Execution{ID: id}, r.record("SuspendExecution", id, in)
}

func (r *recorder) ResumeExecution(ctx context.Context, id string, in api.ExecutionAction) (api.Execution, error) {
	return api.Execution{ID: id}, r.record("ResumeExecution", id, in)
}

func (r *recorder) CancelExecution(ctx context.Context, id string, in api.ExecutionAction) (api.Execution, error) {
	return api.Execution{ID: id}, r.record("CancelExecution", id, in)
}

// The fake store has one execution, x1 (X1), with two jobs.
var fakeExecution = api.Execution{ID: "x1", Label: "X1", GroupID: "g1", Status: api.ExecutionRunning,
	CreatedAt: time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC), Counts: map[string]int{}}

func (f *fakeReader) GetExecution(ctx context.Context, id string) (api.Execution, error) {
	if err := f.rec.record("GetExecution", id); err != nil {
		return api.Execution{}, err
	}
	if id != fakeExecution.ID {
		return api.Execution{}, f.notFound("execution", id)
	}
	return fakeExecution, nil
}

func (f *fakeReader) GetExecutionByLabel(ctx context.Context, label string) (api.Execution, error) {
	if label != fakeExecution.Label {
		return api.Execution{}, f.notFound("execution", label)
	}
	return fakeExecution, nil
}

func (f *fakeReader) ListExecutions(ctx context.Context, fl store.ExecutionFilter) ([]api.Execution, string, error) {
	if err := f.rec.record("ListExecutions", fl); err != nil {
		return nil, "", err
	}
	return []api.Execution{fakeExecution}, "", nil
}

func (f *fakeReader) ListJobs(ctx context.Context, id string) ([]api.Job, error) {
	if err := f.rec.record("ListJobs", id); err != nil {
		return nil, err
	}
	return []api.Job{{ExecutionID: id, Index: 0, Status: api.JobSucceeded}, {ExecutionID: id, Index: 1, Status: api.JobRunning}}, nil
}
