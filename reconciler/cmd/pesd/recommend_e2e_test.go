//go:build linux

package main

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// TestE2ERecommendationFromLocalRuns is acceptance 2 of the
// recommendations: real executions of a program type on the local
// driver (the real pesd, real job processes, SQLite) each leave a run
// record when they end, and the recommendation is fit to them.
func TestE2ERecommendationFromLocalRuns(t *testing.T) {
	needE2E(t)
	needBash(t)
	procs := newNodeProcs(t)
	d := startDaemon(t, t.TempDir(), "e2e-token")
	c := d.client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// Billed a unit a node-second, so each run's cost is about its
	// nodes times its wall time.
	cfg := sleepGroup("sums", 1, procs)
	cfg.Billing = &api.Billing{PricePerNodeHour: "3600", Increment: "1s"}
	g, err := c.CreateGroup(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	input, want := numbers(t, 24)
	per := 3
	var labels []string
	for _, n := range []int{1, 2, 4} {
		if _, err := c.Instruct(ctx, g.ID, api.Instruction{Request: api.Request{SetTo: &n}, Immediate: true, Reason: "the next run's size"}); err != nil {
			t.Fatal(err)
		}
		waitActual(t, ctx, c, g.ID, n, 20*time.Second)
		x, err := c.CreateExecution(ctx, api.ExecutionCreate{GroupID: g.ID, ProgramType: "sum",
			Program: sumJob(t, procs, "0.1"), Input: api.ExecutionInput{Lines: input, LinesPerJob: &per}})
		if err != nil {
			t.Fatal(err)
		}
		x = waitExecution(t, ctx, c, x.ID, time.Minute, "completed", func(x api.Execution) bool { return api.ExecutionDone(x.Status) })
		if x.Status != api.ExecutionCompleted || combinedSum(t, x) != want {
			t.Fatalf("%s on %d nodes: %s", x.Label, n, x.Status)
		}
		labels = append(labels, x.Label)
	}
	runs, err := c.ListRuns(ctx, "sum")
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3 {
		t.Fatalf("%d runs of sum, want 3 (one per execution)", len(runs))
	}
	for i, r := range runs {
		n := []int{1, 2, 4}[i]
		t.Logf("run %s: %g items in %d jobs, %.2f nodes (max %d), %.2fs, %.5f node-hours, cost %v", r.Label, r.InputSize, r.JobCount,
			r.NodesMean, r.NodesMax, r.WallSeconds, r.NodeHours, costOf(r))
		if r.Label != labels[i] || r.Driver != api.DriverLocal || r.InputSize != 24 || r.JobCount != 8 ||
			r.NodesMax != n || math.Abs(r.NodesMean-float64(n)) > 0.5 || r.WallSeconds <= 0 || r.Status != api.ExecutionCompleted {
			t.Errorf("run %d: %+v, want %s on %d nodes", i, r, labels[i], n)
		}
		// Each live node's seconds are counted whole from its launch: at
		// most one off the run's wall time.
		if r.Cost == nil || math.Abs(*r.Cost-float64(n)*r.WallSeconds) > float64(n) {
			t.Errorf("run %d on %d nodes for %.2fs: cost %v, want about %.2f", i, n, r.WallSeconds, r.Cost, float64(n)*r.WallSeconds)
		}
	}
	rec, err := c.Recommend(ctx, "sum", api.RecommendationQuery{InputSize: 24, MaxNodes: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("recommendation: %s", rec.Explanation)
	if rec.Status != api.RecommendationOK || rec.Runs != 3 || !slices.Equal(rec.RunLabels, labels) ||
		rec.NodeQuantity < 1 || rec.NodeQuantity > 8 || rec.Criterion != api.CriterionKnee {
		t.Errorf("recommendation %+v, want one from %v", rec, labels)
	}

	// The same through the command line, for people and as JSON.
	out := pesdCLI(t, d, "recommend", "--type", "sum", "--input-size", "24", "--max-nodes", "8")
	t.Logf("pesd recommend:\n%s", out)
	if !strings.Contains(out, rec.Explanation) || !strings.Contains(out, strings.Join(labels, ", ")) {
		t.Errorf("pesd recommend says\n%s\nwant %q and the runs", out, rec.Explanation)
	}
	var got api.Recommendation
	if err := json.Unmarshal([]byte(pesdCLI(t, d, "recommend", "--type", "sum", "--input-size", "24", "--max-nodes", "8", "-o", "json")), &got); err != nil ||
		got.NodeQuantity != rec.NodeQuantity || got.Runs != 3 {
		t.Errorf("pesd recommend -o json: %+v, %v", got, err)
	}
}

func costOf(r api.Run) any {
	if r.Cost == nil {
		return nil
	}
	return *r.Cost
}
