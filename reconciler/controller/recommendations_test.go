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
	done := h.suspendedRun(t, g, api.ExecutionSuspend{})
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

// TestRunRecordCost: a run on a billed group carries what it cost, worked
// out here from the nodes' lifetimes: each node's billed time (whole
// minutes, ten at least, at 3.60 a node-hour: 0.001 a second) cut to the
// time the execution ran, its suspension left out as from wall time and
// node-hours. The suspension releases the nodes, so the first two are
// billed their minimum on into the run's resumed part; pesd crashes while
// it is suspended. A run on a group without billing has no cost.
func TestRunRecordCost(t *testing.T) {
	h := newHarness(t)
	g := h.createGroup(api.GroupConfig{Name: "batch", DesiredQuantity: 2, Sim: &api.SimConfig{BootTime: "1s"},
		Billing: &api.Billing{PricePerNodeHour: "3.6", Currency: "EUR", Increment: "1m", Minimum: "10m"}})
	h.runTo(2*time.Second, nil)
	done := h.suspendedRun(t, g, api.ExecutionSuspend{ReleaseNodes: true})
	var suspended, resumed time.Time
	for _, e := range h.events(g.ID) {
		switch e.Type {
		case api.EventExecutionSuspended:
			suspended = e.Time
		case api.EventExecutionResumed:
			resumed = e.Time
		}
	}
	start, end := *done.StartedAt, *done.EndedAt
	if suspended.IsZero() || resumed.IsZero() {
		t.Fatalf("suspended at %v, resumed at %v", suspended, resumed)
	}
	runs, err := h.st.RecentRuns(h.ctx, api.DefaultTenant, "wc", 10)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %+v, %v; want 1", runs, err)
	}
	r := runs[0]
	// The time priced is the time wall_seconds counts.
	if ran := suspended.Sub(start) + end.Sub(resumed); r.WallSeconds != ran.Seconds() {
		t.Fatalf("wall %gs; ran %v (%v → %v, %v → %v)", r.WallSeconds, ran, start, suspended, resumed, end)
	}

	nodes, err := h.st.ListNodes(h.ctx, g.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	overlap := func(a0, a1, b0, b1 time.Time) time.Duration {
		if b0.After(a0) {
			a0 = b0
		}
		if b1.Before(a1) {
			a1 = b1
		}
		return max(a1.Sub(a0), 0)
	}
	var billed time.Duration
	for _, n := range nodes {
		stop := end // live: until the run's end
		if n.TerminatedAt != nil {
			ran := n.TerminatedAt.Sub(n.LaunchedAt)
			stop = n.LaunchedAt.Add(max((ran+time.Minute-1)/time.Minute*time.Minute, 10*time.Minute))
		}
		b := overlap(n.LaunchedAt, stop, start, suspended) + overlap(n.LaunchedAt, stop, resumed, end)
		t.Logf("node %s: %v → %v (terminated %v): %v in the run", n.ID, n.LaunchedAt.Sub(t0), stop.Sub(t0), n.TerminatedAt != nil, b)
		billed += b
	}
	if len(nodes) != 4 || billed <= time.Duration(r.NodeHours*float64(time.Hour)) {
		t.Fatalf("%d nodes billed %v in the run, node-hours %g: want the 2 released billed on past the suspension", len(nodes), billed, r.NodeHours)
	}
	want := billed.Seconds() * 0.001
	if r.Cost == nil || math.Abs(*r.Cost-want) > 1e-9 {
		t.Fatalf("cost %v, want %g (%v of node time)", r.Cost, want, billed)
	}
	if !strings.Contains(r.Note, "wall time, node-hours and cost exclude the 1m it was suspended") {
		t.Errorf("note %q", r.Note)
	}
	t.Logf("run %s: wall %gs, %.4f node-hours, cost %g (%v billed); %s", r.Label, r.WallSeconds, r.NodeHours, *r.Cost, billed, r.Note)

	// Without billing: no cost.
	plain := h.createGroup(api.GroupConfig{Name: "plain", DesiredQuantity: 1, Sim: &api.SimConfig{BootTime: "1s"}})
	h.runTo(102*time.Second, nil)
	y := h.createExecution(api.ExecutionCreate{GroupID: plain.ID, ProgramType: "free", Input: api.ExecutionInput{Items: items(1)},
		Sim: &api.ExecutionSim{ItemDuration: "5s"}})
	h.runTo(120*time.Second, nil)
	runs, err = h.st.RecentRuns(h.ctx, api.DefaultTenant, "free", 10)
	if err != nil || len(runs) != 1 || runs[0].ExecutionID != y.ID {
		t.Fatalf("runs %+v, %v; want %s's", runs, err, y.Label)
	}
	if runs[0].Cost != nil {
		t.Errorf("a run without billing costs %g", *runs[0].Cost)
	}
}

// suspendedRun runs an execution of type wc over 4 items on g (its nodes
// ready by 2s): 2s → 5s, suspended with how from 5s (its jobs checkpoint
// at the next step, 6s) until 66s, a crash of pesd included; then the
// rest. It returns the execution, completed.
func (h *harness) suspendedRun(t *testing.T, g api.Group, how api.ExecutionSuspend) api.Execution {
	t.Helper()
	x := h.createExecution(api.ExecutionCreate{GroupID: g.ID, ProgramType: "wc", Input: api.ExecutionInput{Items: items(4)},
		Sim: &api.ExecutionSim{ItemDuration: "10s"}})
	h.runTo(5*time.Second, nil)
	if _, err := h.c.SuspendExecution(h.ctx, x.ID, how); err != nil {
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
	return done
}
