package store

import (
	"context"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// ExecutionFilter filters executions. Zero values do not filter; Active
// keeps the executions that have not ended.
type ExecutionFilter struct {
	GroupID string
	Status  string
	Active  bool
	// Tenant keeps the executions of one tenant's groups; empty keeps
	// every tenant's.
	Tenant string
	Page
}

// ExecutionReader reads distributed executions (SPEC §2.9) and their jobs.
// Reads return the execution without Jobs; ListJobs returns them in index
// order.
type ExecutionReader interface {
	GetExecution(ctx context.Context, id string) (api.Execution, error)
	// GetExecutionByLabel finds "X3": execution labels are global.
	GetExecutionByLabel(ctx context.Context, label string) (api.Execution, error)
	ListExecutions(ctx context.Context, f ExecutionFilter) ([]api.Execution, string, error)
	ListJobs(ctx context.Context, executionID string) ([]api.Job, error)
}

// ExecutionWriter writes them, inside Store.Update.
type ExecutionWriter interface {
	// NextExecutionLabel returns the next global execution label ("X1",
	// "X2", ...), never reused.
	NextExecutionLabel() (string, error)
	InsertExecution(x api.Execution) error
	UpdateExecution(x api.Execution) error
	// PutJobs inserts or replaces jobs of an execution (keyed by index).
	PutJobs(executionID string, jobs []api.Job) error
}

// RunReader reads run records (seed 003's recommendations) by program
// type.
type RunReader interface {
	// ListRuns pages a program type's runs of tenant, oldest end first;
	// an empty tenant keeps every tenant's.
	ListRuns(ctx context.Context, tenant, programType string, p Page) ([]api.Run, string, error)
	// RecentRuns returns a program type's n runs of tenant that ended
	// last, oldest end first: what a model is fit to. An empty tenant
	// reads every tenant's.
	RecentRuns(ctx context.Context, tenant, programType string, n int) ([]api.Run, error)
}

// RunWriter writes them, inside Store.Update.
type RunWriter interface {
	// InsertRun records a run of tenant; false (and nothing written)
	// when the tenant's program type already has a run of its label, or
	// its execution already left one.
	InsertRun(tenant string, r api.Run) (bool, error)
}
