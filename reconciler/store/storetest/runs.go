package storetest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// testRuns: runs round-trip whole, list by program type oldest end first
// and page, the recent ones are the last to end, a label or an execution
// records one run, and runs outlive their group's purge. Then
// testRunTenants.
func testRuns(t *testing.T, s store.Store) {
	ctx := context.Background()
	insertGroups(t, s, "ga")
	full := filled[api.Run](1)
	full.ID, full.ProgramType, full.Label, full.ExecutionID, full.GroupID, full.EndedAt = "r-full", "wordcount", "X1", "x1", "ga", at(50)
	var runs []api.Run
	for i := range 4 {
		r := api.Run{ID: fmt.Sprintf("r%d", i), ProgramType: "wordcount", Label: fmt.Sprintf("imported-%d", i),
			Status: api.ExecutionCompleted, EndedAt: at(10 * (4 - i)), Imported: true, InputSize: float64(i)}
		runs = append(runs, r)
	}
	other := api.Run{ID: "r-other", ProgramType: "sort", Label: "X9", EndedAt: at(1)}
	update(t, s, func(tx store.Tx) error {
		for _, r := range append([]api.Run{full, other}, runs...) {
			ok, err := tx.InsertRun(api.DefaultTenant, r)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("run %s was not inserted", r.ID)
			}
		}
		return nil
	})
	// The same label of the same type, or the same execution: not again.
	update(t, s, func(tx store.Tx) error {
		dup := []api.Run{{ID: "r-dup", ProgramType: "wordcount", Label: "X1", EndedAt: at(2)},
			{ID: "r-dup2", ProgramType: "sort", Label: "X10", ExecutionID: "x1", EndedAt: at(2)}}
		for _, r := range dup {
			if ok, err := tx.InsertRun(api.DefaultTenant, r); err != nil || ok {
				return fmt.Errorf("run %s recorded twice: %v, %v", r.Label, ok, err)
			}
		}
		// The same label in another type is another run.
		ok, err := tx.InsertRun(api.DefaultTenant, api.Run{ID: "r-sort-x1", ProgramType: "sort", Label: "X1", EndedAt: at(3)})
		if err == nil && !ok {
			err = fmt.Errorf("label X1 of sort was refused")
		}
		return err
	})
	// Oldest end first: r3 (10s), r2, r1, r0 (40s), full (50s).
	want := []api.Run{runs[3], runs[2], runs[1], runs[0], full}
	var got []api.Run
	p := store.Page{Limit: 2}
	for {
		page, next, err := s.ListRuns(ctx, api.DefaultTenant, "wordcount", p)
		must(t, err)
		got = append(got, page...)
		if next == "" {
			break
		}
		p.Token = next
	}
	checkSame(t, "runs of wordcount", want, got)
	recent, err := s.RecentRuns(ctx, api.DefaultTenant, "wordcount", 2)
	must(t, err)
	checkSame(t, "the 2 recent runs", want[3:], recent)
	none, err := s.RecentRuns(ctx, api.DefaultTenant, "nothing", 5)
	must(t, err)
	if none == nil || len(none) != 0 {
		t.Errorf("runs of an unknown type = %#v, want []", none)
	}

	// Purging the group keeps its runs.
	update(t, s, func(tx store.Tx) error {
		g, err := tx.GetGroup(ctx, "ga")
		if err != nil {
			return err
		}
		when := at(60)
		g.Status, g.DeletedAt = api.GroupDeleted, &when
		return tx.UpdateGroup(g)
	})
	if _, err := s.PurgeBefore(ctx, at(61)); err != nil {
		t.Fatal(err)
	}
	recent, err = s.RecentRuns(ctx, api.DefaultTenant, "wordcount", 1)
	must(t, err)
	checkSame(t, "the run after its group's purge", []api.Run{full}, recent)
	testRunTenants(t, s, want)
}

// testRunTenants: a run belongs to a tenant. Another tenant may record
// the same label of the same type, and each tenant lists and fits only
// its own runs; an empty tenant (an admin) reads every tenant's. mine
// are the default tenant's wordcount runs testRuns left, oldest end
// first; the last ended at 50s and is labelled X1.
func testRunTenants(t *testing.T, s store.Store, mine []api.Run) {
	ctx := context.Background()
	beta := api.Run{ID: "r-beta", ProgramType: "wordcount", Label: mine[len(mine)-1].Label, Status: api.ExecutionCompleted,
		EndedAt: at(70), Imported: true, InputSize: 7}
	update(t, s, func(tx store.Tx) error {
		if _, err := tx.InsertRun("", api.Run{ID: "r-none", ProgramType: "wordcount", Label: "X5", EndedAt: at(1)}); err == nil {
			return fmt.Errorf("a run of no tenant was recorded")
		}
		ok, err := tx.InsertRun("beta", beta)
		if err == nil && !ok {
			err = fmt.Errorf("label %s of wordcount in tenant beta was refused", beta.Label)
		}
		return err
	})
	for _, c := range []struct {
		tenant string
		want   []api.Run
	}{{"beta", []api.Run{beta}}, {api.DefaultTenant, mine}, {"", append(slices.Clip(mine), beta)}, {"gamma", []api.Run{}}} {
		list, _, err := s.ListRuns(ctx, c.tenant, "wordcount", store.Page{Limit: 10})
		must(t, err)
		checkSame(t, "runs of wordcount in tenant "+strconv.Quote(c.tenant), c.want, list)
		recent, err := s.RecentRuns(ctx, c.tenant, "wordcount", 10)
		must(t, err)
		checkSame(t, "recent runs of wordcount in tenant "+strconv.Quote(c.tenant), c.want, recent)
	}
}
