package controller

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// TestRunRecords: an execution of a program type leaves one run record
// when it ends, its suspended time (through a crash of pesd) excluded
// from wall time and node-hours and said so; a cancelled one leaves a
// cancelled run the model does not fit; one without a type leaves none.
func TestRunRecords(t *testing.T) {
	h := newHarness(t)
	g := h.createGroup(api.GroupConfig{Name: "batch", DesiredQuantity: 2, Sim: &api.SimConfig{BootTime: "1s"}})
	h.runTo(2*time.Second, nil)
	x := h.createExecution(api.ExecutionCreate{GroupID: g.ID, ProgramType: "wc", Input: api.ExecutionInput{Items: items(4)},
		Sim: &api.ExecutionSim{ItemDuration: "10s"}})
	// Runs 2s → 5s on 2 nodes, suspended from 5s (its jobs checkpoint at
	// the next step, 6s) until 66s, crash included; then the rest.
	h.runTo(5*time.Second, nil)
	if _, err := h.c.SuspendExecution(h.ctx, x.ID, api.ExecutionSuspend{}); err != nil {
		t.Fatal(err)
	}
	h.runTo(30*time.Second, nil)
	h.crash()
	h.runTo(66*time.Second, nil)
	if _, err := h.c.ResumeExecution(h.ctx, x.ID, api.ExecutionAction{}); err != nil {
		t.Fatal(err)
	}
	h.runTo(100*time.Second, nil)
	done := h.execution(x.ID)
	if done.Status != api.ExecutionCompleted {
		t.Fatalf("after resume: %s %v", done.Status, done.Counts)
	}
	runs, err := h.st.RecentRuns(h.ctx, api.DefaultTenant, "wc", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 {
		t.Fatalf("%d runs, want 1", len(runs))
	}
	r := runs[0]
	total := done.EndedAt.Sub(*done.StartedAt).Seconds()
	t.Logf("run %s: wall %.0fs, suspended %.0fs of %.0fs, %.2f nodes, %.4f node-hours; %s", r.Label, r.WallSeconds,
		r.SuspendedSeconds, total, r.NodesMean, r.NodeHours, r.Note)
	if r.Label != done.Label || r.ExecutionID != done.ID || r.InputSize != 4 || r.JobCount != 4 || r.Driver != api.DriverSim ||
		r.Status != api.ExecutionCompleted || r.NodesMax != 2 || r.NodesMean != 2 {
		t.Errorf("run %+v", r)
	}
	// Suspended at the step that saw the jobs stop (6s), resumed at 66s.
	if r.SuspendedSeconds != 60 || r.WallSeconds != total-60 || math.Abs(r.NodeHours-2*r.WallSeconds/3600) > 1e-9 {
		t.Errorf("suspended %.0fs, wall %.0fs of %.0fs, node-hours %g", r.SuspendedSeconds, r.WallSeconds, total, r.NodeHours)
	}
	if !strings.Contains(r.Note, "exclude the 1m it was suspended") {
		t.Errorf("note %q", r.Note)
	}

	// Cancelled: a run, not fit. Without a type: none.
	y := h.createExecution(api.ExecutionCreate{GroupID: g.ID, ProgramType: "wc", Input: api.ExecutionInput{Items: items(2)},
		Sim: &api.ExecutionSim{ItemDuration: "1h"}})
	z := h.createExecution(api.ExecutionCreate{GroupID: g.ID, Input: api.ExecutionInput{Items: items(1)}, Sim: &api.ExecutionSim{ItemDuration: "1s"}})
	h.runTo(110*time.Second, nil)
	if _, err := h.c.CancelExecution(h.ctx, y.ID, api.ExecutionAction{}); err != nil {
		t.Fatal(err)
	}
	h.runTo(120*time.Second, nil)
	runs, _ = h.st.RecentRuns(h.ctx, api.DefaultTenant, "wc", 10)
	if len(runs) != 2 || runs[1].Label != y.Label || runs[1].Status != api.ExecutionCancelled || runs[1].Completed() {
		t.Fatalf("runs %+v; want X1's and the cancelled %s's", runs, y.Label)
	}
	// A run needs a type (the store refuses one without): the untyped
	// execution ended all the same.
	if z := h.execution(z.ID); z.Status != api.ExecutionCompleted {
		t.Errorf("the execution without a type is %s", z.Status)
	}
}
