package history

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/execution"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// getExecution reads an execution by id or by label ("X3").
func (h *Reader) getExecution(ctx context.Context, id string) (api.Execution, error) {
	if strings.HasPrefix(id, "X") {
		x, err := h.r.GetExecutionByLabel(ctx, id)
		if err == nil || !errors.Is(err, store.ErrNotFound) {
			return x, err
		}
	}
	return h.r.GetExecution(ctx, id)
}

// GetExecution returns an execution with its jobs, its counts by status,
// its elapsed time and an estimate of the time left, as of its last
// update.
func (h *Reader) GetExecution(ctx context.Context, id string) (api.Execution, error) {
	x, err := h.getExecution(ctx, id)
	if err != nil {
		return x, err
	}
	jobs, err := h.r.ListJobs(ctx, x.ID)
	if err != nil {
		return x, err
	}
	execution.Summarize(&x, jobs, x.UpdatedAt)
	x.Jobs = jobs
	return x, nil
}

func (h *Reader) ListExecutions(ctx context.Context, f store.ExecutionFilter) ([]api.Execution, string, error) {
	return h.r.ListExecutions(ctx, f)
}

// ListJobs returns an execution's jobs in index order.
func (h *Reader) ListJobs(ctx context.Context, id string) ([]api.Job, error) {
	x, err := h.getExecution(ctx, id)
	if err != nil {
		return nil, err
	}
	return h.r.ListJobs(ctx, x.ID)
}

// ExecutionOutput lists the output files of each job and the combined
// output.
func (h *Reader) ExecutionOutput(ctx context.Context, id string) (api.ExecutionOutput, error) {
	x, err := h.getExecution(ctx, id)
	if err != nil {
		return api.ExecutionOutput{}, err
	}
	jobs, err := h.r.ListJobs(ctx, x.ID)
	if err != nil {
		return api.ExecutionOutput{}, err
	}
	out := api.ExecutionOutput{ExecutionID: x.ID, Status: x.Status, Combined: x.Output, Jobs: make([]api.JobOutput, 0, len(jobs))}
	for _, j := range jobs {
		jo := api.JobOutput{Index: j.Index, Status: j.Status, Dir: j.Output, Files: []string{}}
		es, err := os.ReadDir(j.Output)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return out, fmt.Errorf("output of job %d: %w", j.Index, err)
		}
		for _, e := range es {
			if e.Type().IsRegular() {
				jo.Files = append(jo.Files, filepath.Join(j.Output, e.Name()))
			}
		}
		sort.Strings(jo.Files)
		out.Jobs = append(out.Jobs, jo)
	}
	return out, nil
}
