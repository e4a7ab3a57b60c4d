package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// testExecutions: executions and jobs round-trip whole, labels are global
// and never reused, lists filter and page, and purging a deleted group
// takes its executions along.
func testExecutions(t *testing.T, s store.Store) {
	ctx := context.Background()
	insertGroups(t, s, "ga", "gb")

	full := filled[api.Execution](1)
	full.ID, full.GroupID, full.Status, full.CreatedAt = "x-full", "ga", api.ExecutionRunning, at(1)
	full.Input.Items = []json.RawMessage{json.RawMessage(`{"a":1}`), json.RawMessage(`2`)}
	full.Jobs = nil
	var labels []string
	update(t, s, func(tx store.Tx) error {
		for range 2 {
			l, err := tx.NextExecutionLabel()
			if err != nil {
				return err
			}
			labels = append(labels, l)
		}
		full.Label = labels[0]
		return tx.InsertExecution(full)
	})
	if labels[0] != "X1" || labels[1] != "X2" {
		t.Fatalf("labels = %v, want X1 X2", labels)
	}
	got, err := s.GetExecution(ctx, full.ID)
	must(t, err)
	checkSame(t, "execution", full, got)
	got, err = s.GetExecutionByLabel(ctx, "X1")
	must(t, err)
	checkSame(t, "execution by label", full, got)

	// Every field can change.
	changed := filled[api.Execution](2)
	changed.ID, changed.Label, changed.GroupID, changed.CreatedAt = full.ID, full.Label, "ga", full.CreatedAt
	changed.Status, changed.Input.Items, changed.Jobs = api.ExecutionSuspended, nil, nil
	update(t, s, func(tx store.Tx) error { return tx.UpdateExecution(changed) })
	got, err = s.GetExecution(ctx, full.ID)
	must(t, err)
	checkSame(t, "updated execution", changed, got)

	// Jobs: inserted, then replaced by index; listed in index order.
	jobs := []api.Job{filled[api.Job](3), filled[api.Job](4), filled[api.Job](5)}
	for i := range jobs {
		jobs[i].ExecutionID, jobs[i].Index = full.ID, 2-i
	}
	update(t, s, func(tx store.Tx) error { return tx.PutJobs(full.ID, jobs) })
	jobs[1].Status, jobs[1].ExitCode, jobs[1].Attempt = api.JobSucceeded, nil, 7
	update(t, s, func(tx store.Tx) error { return tx.PutJobs(full.ID, jobs[1:2]) })
	gotJobs, err := s.ListJobs(ctx, full.ID)
	must(t, err)
	checkSame(t, "jobs", []api.Job{jobs[2], jobs[1], jobs[0]}, gotJobs)
	if err := s.Update(ctx, func(tx store.Tx) error {
		return tx.PutJobs(full.ID, []api.Job{{ExecutionID: "other", Index: 9}})
	}); err == nil {
		t.Error("PutJobs of another execution's job: no error")
	}

	// Lists: by group, by status, active only; paged.
	update(t, s, func(tx store.Tx) error {
		for i, g := range []string{"gb", "gb", "ga"} {
			l, err := tx.NextExecutionLabel()
			if err != nil {
				return err
			}
			st := api.ExecutionRunning
			if i == 1 {
				st = api.ExecutionCompleted
			}
			if err := tx.InsertExecution(api.Execution{ID: idf("x", i), Label: l, GroupID: g, Status: st,
				CreatedAt: at(10 + i), Counts: map[string]int{}}); err != nil {
				return err
			}
		}
		return nil
	})
	ids := func(f store.ExecutionFilter) []string {
		var out []string
		for {
			xs, next, err := s.ListExecutions(ctx, f)
			must(t, err)
			for _, x := range xs {
				out = append(out, x.ID)
			}
			if next == "" {
				return out
			}
			f.Token = next
		}
	}
	for _, c := range []struct {
		name string
		f    store.ExecutionFilter
		want []string
	}{
		{"all", store.ExecutionFilter{Page: store.Page{Limit: 2}}, []string{"x-full", "x-000000", "x-000001", "x-000002"}},
		{"group", store.ExecutionFilter{GroupID: "gb"}, []string{"x-000000", "x-000001"}},
		{"status", store.ExecutionFilter{Status: api.ExecutionCompleted}, []string{"x-000001"}},
		{"active", store.ExecutionFilter{Active: true, Page: store.Page{Limit: 1}}, []string{"x-full", "x-000000", "x-000002"}},
	} {
		if got := ids(c.f); !equalStrings(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}

	if _, err := s.GetExecution(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetExecution(nope) = %v, want ErrNotFound", err)
	}
	if _, err := s.GetExecutionByLabel(ctx, "X99"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetExecutionByLabel(X99) = %v, want ErrNotFound", err)
	}
	if err := s.Update(ctx, func(tx store.Tx) error {
		return tx.UpdateExecution(api.Execution{ID: "nope", Label: "X100", GroupID: "ga", Status: api.ExecutionRunning})
	}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateExecution(nope) = %v, want ErrNotFound", err)
	}
	// A label is never reused, even after a rollback.
	_ = s.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.NextExecutionLabel(); err != nil {
			return err
		}
		return errors.New("roll back")
	})
	update(t, s, func(tx store.Tx) error {
		l, err := tx.NextExecutionLabel()
		if err == nil && l != "X7" && l != "X6" {
			t.Errorf("label after a rollback = %s, want X6 (rolled back) or X7", l)
		}
		return err
	})
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
