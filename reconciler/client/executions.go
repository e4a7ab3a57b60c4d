package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// ExecutionFilter filters ListExecutions. Zero values do not filter.
type ExecutionFilter struct {
	GroupID string
	Status  string
	Page
}

// CreateExecution starts a distributed execution, by in.Actor or else the
// client's actor. It is not retried once the server has answered.
func (c *Client) CreateExecution(ctx context.Context, in api.ExecutionCreate) (api.Execution, error) {
	if in.Actor == "" {
		in.Actor = c.actor
	}
	var x api.Execution
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/executions", body: in, out: &x})
	return x, err
}

// GetExecution reads an execution with its jobs; id may be its label.
func (c *Client) GetExecution(ctx context.Context, id string) (api.Execution, error) {
	var x api.Execution
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/executions/" + seg(id), out: &x, idempotent: true})
	return x, err
}

// ListExecutions reads one page of executions, oldest first.
func (c *Client) ListExecutions(ctx context.Context, f ExecutionFilter) (api.List[api.Execution], error) {
	q := url.Values{}
	if f.GroupID != "" {
		q.Set("group_id", f.GroupID)
	}
	if f.Status != "" {
		q.Set("status", f.Status)
	}
	f.Page.encode(q)
	return list[api.Execution](ctx, c, "/v1/executions", q)
}

// ListAllExecutions follows every page of ListExecutions.
func (c *Client) ListAllExecutions(ctx context.Context, f ExecutionFilter) ([]api.Execution, error) {
	return all(ctx, &f.Page, func(ctx context.Context) (api.List[api.Execution], error) { return c.ListExecutions(ctx, f) })
}

// ListJobs reads every job of an execution, in index order.
func (c *Client) ListJobs(ctx context.Context, id string) ([]api.Job, error) {
	return listEvery[api.Job](ctx, c, "/v1/executions/"+seg(id)+"/jobs")
}

// ExecutionOutput lists an execution's outputs.
func (c *Client) ExecutionOutput(ctx context.Context, id string) (api.ExecutionOutput, error) {
	var o api.ExecutionOutput
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/executions/" + seg(id) + "/output", out: &o, idempotent: true})
	return o, err
}

// SuspendExecution suspends an execution; with release the group is
// scaled to 0 once its jobs have checkpointed.
func (c *Client) SuspendExecution(ctx context.Context, id string, release bool) (api.Execution, error) {
	var x api.Execution
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/executions/" + seg(id) + "/suspend",
		body: api.ExecutionSuspend{ReleaseNodes: release, Actor: c.actor}, out: &x})
	return x, err
}

// ResumeExecution resumes a suspended execution.
func (c *Client) ResumeExecution(ctx context.Context, id string) (api.Execution, error) {
	var x api.Execution
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/executions/" + seg(id) + "/resume",
		body: api.ExecutionAction{Actor: c.actor}, out: &x})
	return x, err
}

// CancelExecution cancels an execution.
func (c *Client) CancelExecution(ctx context.Context, id string) (api.Execution, error) {
	var x api.Execution
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/executions/" + seg(id) + "/cancel",
		body: api.ExecutionAction{Actor: c.actor}, out: &x})
	return x, err
}
