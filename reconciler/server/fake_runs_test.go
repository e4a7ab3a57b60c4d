package server

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// ImportRuns records the body it read and answers one run per line.
func (r *recorder) ImportRuns(ctx context.Context, tenant, programType string, body io.Reader) (api.RunsImport, error) {
	b, err := io.ReadAll(body)
	if err != nil {
		return api.RunsImport{}, fmt.Errorf("import runs of %s: read: %w", programType, err)
	}
	if err := r.record("ImportRuns", programType, string(b)); err != nil {
		return api.RunsImport{}, err
	}
	return api.RunsImport{Imported: strings.Count(string(b), "\n")}, nil
}

// The fake store has three runs of wordcount, at 2, 4 and 8 nodes, in
// the default tenant.
func (f *fakeReader) fakeRuns(tenant, programType string) []api.Run {
	if programType != "wordcount" || (tenant != "" && tenant != api.DefaultTenant) {
		return []api.Run{}
	}
	t := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	var runs []api.Run
	for i, n := range []int{2, 4, 8} {
		wall := 30 + 0.6*1000/float64(n) + 2*float64(n)
		runs = append(runs, api.Run{ID: fmt.Sprintf("r%d", i), Label: fmt.Sprintf("X%d", i+1), ProgramType: programType,
			Status: api.ExecutionCompleted, InputSize: 1000, NodesMean: float64(n), NodesMax: n, WallSeconds: wall,
			StartedAt: t, EndedAt: t.Add(time.Duration(i+1) * time.Hour)})
	}
	return runs
}

func (f *fakeReader) ListRuns(ctx context.Context, tenant, programType string, p store.Page) ([]api.Run, string, error) {
	if err := f.rec.record("ListRuns", programType); err != nil {
		return nil, "", err
	}
	return f.fakeRuns(tenant, programType), "", nil
}

func (f *fakeReader) RecentRuns(ctx context.Context, tenant, programType string, n int) ([]api.Run, error) {
	if err := f.rec.record("RecentRuns", programType); err != nil {
		return nil, err
	}
	return f.fakeRuns(tenant, programType), nil
}
