package controller

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/local"
	"github.com/pes-project/terraform-provider-pes/reconciler/identity"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlite"
)

// The faulty driver runs jobs through the driver it wraps.
func (d *faultyDriver) jr() driver.JobRunner { return d.Driver.(driver.JobRunner) }
func (d *faultyDriver) StartJob(ctx context.Context, s driver.JobSpec) error {
	return d.jr().StartJob(ctx, s)
}
func (d *faultyDriver) StopJob(ctx context.Context, g, j string, grace time.Duration) error {
	return d.jr().StopJob(ctx, g, j, grace)
}
func (d *faultyDriver) ObserveJobs(ctx context.Context, g string) ([]driver.JobObservation, error) {
	return d.jr().ObserveJobs(ctx, g)
}
func (d *faultyDriver) ForgetJob(g, j string) { d.jr().ForgetJob(g, j) }
func (d *faultyDriver) AdoptJobs(ctx context.Context, s []driver.JobSpec) error {
	return d.jr().AdoptJobs(ctx, s)
}

func items(n int) []json.RawMessage {
	out := make([]json.RawMessage, n)
	for i := range out {
		out[i] = json.RawMessage(strconv.Itoa(i))
	}
	return out
}

func (h *harness) createExecution(in api.ExecutionCreate) api.Execution {
	h.t.Helper()
	if err := api.ValidateExecutionCreate(&in); err != nil {
		h.t.Fatalf("validate: %v", err)
	}
	x, err := h.c.CreateExecution(h.ctx, in)
	if err != nil {
		h.t.Fatalf("CreateExecution: %v", err)
	}
	return x
}

func (h *harness) execution(id string) api.Execution {
	h.t.Helper()
	x, err := h.hist().GetExecution(h.ctx, id)
	if err != nil {
		h.t.Fatalf("GetExecution: %v", err)
	}
	return x
}

// eventOf returns the group's last event of type typ with its effects.
func (h *harness) eventOf(groupID, typ string) api.EventDetail {
	h.t.Helper()
	var last api.Event
	for _, e := range h.events(groupID) {
		if e.Type == typ {
			last = e
		}
	}
	if last.ID == "" {
		h.t.Fatalf("no %s event", typ)
	}
	d, err := h.hist().ExplainEvent(h.ctx, last.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	return d
}

func TestExecutionOnSimNodes(t *testing.T) {
	h := newHarness(t)
	g := h.createGroup(api.GroupConfig{Name: "batch", DesiredQuantity: 3, Replacement: api.ReplacementImmediate,
		Sim: &api.SimConfig{BootTime: "2s"}})
	h.runTo(3*time.Second, nil)
	one := 1
	x := h.createExecution(api.ExecutionCreate{GroupID: g.ID, Input: api.ExecutionInput{Items: items(10)},
		Sim: &api.ExecutionSim{ItemDuration: "4s"}, OnComplete: &api.OnComplete{ScaleTo: &one}})
	if x.Label != "X1" || x.Counts[api.JobRunning] != 3 || x.Counts[api.JobQueued] != 7 {
		t.Fatalf("created %s %v", x.Label, x.Counts)
	}
	started := h.eventOf(g.ID, api.EventExecutionStarted)
	if started.Description != "execution X1 started with 10 jobs queued" {
		t.Errorf("start event: %q", started.Description)
	}

	// A node running a job fails halfway through the job: the job is
	// re-queued with its progress, not failed.
	h.runTo(5*time.Second, nil)
	victim := h.execution(x.ID).Jobs[0]
	if err := h.c.FailNode(h.ctx, g.ID, victim.NodeID); err != nil {
		t.Fatal(err)
	}
	h.runTo(7*time.Second, nil)
	j := h.execution(x.ID).Jobs[0]
	if j.Attempt != 2 || j.Failures != 0 || j.Progress < 0.4 || j.NodeID == victim.NodeID {
		t.Fatalf("job 0 after its node failed: %+v", j)
	}
	if e := h.eventOf(g.ID, api.EventJobRequeued); !strings.Contains(e.Description, "its node "+victim.NodeID+" was lost") {
		t.Errorf("requeue event: %q", e.Description)
	}

	h.runTo(40*time.Second, nil)
	done := h.execution(x.ID)
	if done.Status != api.ExecutionCompleted || done.Counts[api.JobSucceeded] != 10 || done.Output == "" {
		t.Fatalf("after 40s: %s %v output %q", done.Status, done.Counts, done.Output)
	}
	completed := h.eventOf(g.ID, api.EventExecutionCompleted)
	if len(completed.Effects) != 1 || completed.Effects[0].Change.Type != api.ChangeRemoveNodes || completed.Effects[0].Change.QuantityAfter != 1 {
		t.Fatalf("completion event %s has effects %+v; want the scale-down to 1", completed.Label, completed.Effects)
	}
	if g := h.group(g.ID); g.DesiredQuantity != 1 {
		t.Errorf("desired %d after on_complete scale_to 1", g.DesiredQuantity)
	}
	if got, err := h.c.ResumeExecution(h.ctx, x.ID, api.ExecutionAction{}); err == nil {
		t.Errorf("resume of a completed execution: %s, want a conflict", got.Status)
	}
}

func TestExecutionSuspendReleaseResume(t *testing.T) {
	h := newHarness(t)
	g := h.createGroup(api.GroupConfig{Name: "batch", DesiredQuantity: 2, Sim: &api.SimConfig{BootTime: "1s"}})
	h.runTo(2*time.Second, nil)
	x := h.createExecution(api.ExecutionCreate{GroupID: g.ID, Input: api.ExecutionInput{Items: items(4)},
		Sim: &api.ExecutionSim{ItemDuration: "10s"}})
	h.runTo(5*time.Second, nil)
	ci := identity.With(h.ctx, identity.Principal{Name: "ci", Role: api.RoleWriter, Tenant: api.DefaultTenant})
	if _, err := h.c.SuspendExecution(ci, x.ID, api.ExecutionSuspend{ReleaseNodes: true, Actor: "alice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.c.SuspendExecution(h.ctx, x.ID, api.ExecutionSuspend{}); err == nil {
		t.Error("a second suspend: no conflict")
	}
	h.runTo(8*time.Second, nil)
	sx := h.execution(x.ID)
	if sx.Status != api.ExecutionSuspended || sx.Counts[api.JobSuspended] != 4 {
		t.Fatalf("after suspend: %s %v", sx.Status, sx.Counts)
	}
	if p := sx.Jobs[0].Progress; p < 0.25 || p > 0.35 {
		t.Errorf("job 0 suspended at progress %.2f, want about 0.3 (3s of 10s)", p)
	}
	susp := h.eventOf(g.ID, api.EventExecutionSuspended)
	// Recorded when the suspension completes, by whom asked for it then.
	if susp.Source.Principal != "ci" || susp.Source.OnBehalfOf != "alice" {
		t.Errorf("suspended by %+v, want principal ci on behalf of alice", susp.Source)
	}
	if len(susp.Effects) != 1 || susp.Effects[0].Change.Type != api.ChangeRemoveNodes || h.group(g.ID).DesiredQuantity != 0 {
		t.Fatalf("suspension %s: effects %+v, desired %d; want the nodes released", susp.Label, susp.Effects, h.group(g.ID).DesiredQuantity)
	}

	// A crash while suspended forgets nothing.
	h.crash()
	if _, err := h.c.ResumeExecution(h.ctx, x.Label, api.ExecutionAction{Actor: "alice"}); err != nil {
		t.Fatal(err)
	}
	res := h.eventOf(g.ID, api.EventExecutionResumed)
	if len(res.Effects) != 1 || res.Effects[0].Change.Type != api.ChangeAddNodes || h.group(g.ID).DesiredQuantity != 2 {
		t.Fatalf("resumption %s: effects %+v; want the 2 nodes back", res.Label, res.Effects)
	}
	if res.Source.Name != "alice" {
		t.Errorf("resumed by %+v", res.Source)
	}
	// Two jobs at a time, each 7s left, then the other two (10s each).
	h.runTo(40*time.Second, nil)
	if done := h.execution(x.ID); done.Status != api.ExecutionCompleted {
		t.Fatalf("after resume: %s %v", done.Status, done.Counts)
	}
}

func TestExecutionSurvivesCrash(t *testing.T) {
	h := newHarness(t)
	g := h.createGroup(api.GroupConfig{Name: "batch", DesiredQuantity: 2, Sim: &api.SimConfig{BootTime: "1s"}})
	h.runTo(2*time.Second, nil)
	x := h.createExecution(api.ExecutionCreate{GroupID: g.ID, Input: api.ExecutionInput{Items: items(6)},
		Sim: &api.ExecutionSim{ItemDuration: "5s"}})
	h.runTo(8*time.Second, nil)
	h.crash()
	h.runTo(30*time.Second, nil)
	done := h.execution(x.ID)
	if done.Status != api.ExecutionCompleted {
		t.Fatalf("after a crash: %s %v", done.Status, done.Counts)
	}
	for _, j := range done.Jobs {
		if j.Attempt != 1 {
			t.Errorf("job %d ran %d attempts; the crash should not restart running jobs", j.Index, j.Attempt)
		}
	}
}

func TestExecutionBadInputs(t *testing.T) {
	h := newHarness(t)
	g := h.createGroup(api.GroupConfig{Name: "batch", DesiredQuantity: 1})
	dir := t.TempDir()
	empty := dir + "/empty.txt"
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in    api.ExecutionInput
		field string
	}{
		{api.ExecutionInput{Lines: dir + "/missing.txt"}, "input.lines"},
		{api.ExecutionInput{Lines: empty}, "input.lines"},
		{api.ExecutionInput{Files: dir + "/*.csv"}, "input.files"},
	} {
		in := api.ExecutionCreate{GroupID: g.ID, Input: c.in}
		if err := api.ValidateExecutionCreate(&in); err != nil {
			t.Fatal(err)
		}
		_, err := h.c.CreateExecution(h.ctx, in)
		var ae *api.Error
		if !errors.As(err, &ae) || ae.Field != c.field || ae.Status != 400 {
			t.Errorf("%+v: %v, want a 400 naming %s", c.in, err, c.field)
		}
	}
	if xs, _, _ := h.st.ListExecutions(h.ctx, store.ExecutionFilter{}); len(xs) != 0 {
		t.Errorf("%d executions recorded from bad inputs", len(xs))
	}
}

// TestExecutionRetriesOnLocalProcesses runs real job processes: a job that
// exits non-zero is retried up to max_attempts, then failed, and the
// execution completes with errors; the combined output holds the others'.
func TestExecutionRetriesOnLocalProcesses(t *testing.T) {
	dir := t.TempDir()
	st, err := sqlite.Open(dir + "/pes.db")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ld, err := local.New(dir, local.WithProbeInterval(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer ld.Close()
	c, err := New(Options{Store: st, Drivers: map[string]driver.Driver{api.DriverLocal: ld}, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cfg := api.GroupConfig{Name: "batch", Driver: api.DriverLocal, DesiredQuantity: 2,
		Program:     api.Program{Command: "sleep", Args: []string{"60"}},
		HealthCheck: &api.HealthCheck{Type: api.HealthProcess, Interval: "100ms"}}
	if err := api.ResolveGroupConfig(&cfg); err != nil {
		t.Fatal(err)
	}
	g, err := c.CreateGroup(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.DeleteGroupBy(context.Background(), g.ID, "test"); _ = c.Tick(context.Background()) })
	poll(t, c, "2 ready nodes", func() bool { gg, _ := st.GetGroup(ctx, g.ID); return gg.ActualQuantity == 2 })

	two := 2
	in := api.ExecutionCreate{GroupID: g.ID, Input: api.ExecutionInput{Items: items(4)}, MaxAttempts: &two,
		Program: &api.Program{Command: "sh", Args: []string{"-c",
			`[ "$PES_JOB_INDEX" = 1 ] && exit 3; cat "$PES_INPUT" > "$PES_OUTPUT/out"`}}}
	if err := api.ValidateExecutionCreate(&in); err != nil {
		t.Fatal(err)
	}
	x, err := c.CreateExecution(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	var done api.Execution
	poll(t, c, "the execution to end", func() bool {
		done, _ = c.lookupExecution(ctx, x.ID)
		return api.ExecutionDone(done.Status)
	})
	jobs, _ := st.ListJobs(ctx, x.ID)
	if done.Status != api.ExecutionCompletedWithErrors || jobs[1].Status != api.JobFailed || jobs[1].Failures != 2 || *jobs[1].ExitCode != 3 {
		t.Fatalf("ended %s, job 1 %+v", done.Status, jobs[1])
	}
	out, err := os.ReadFile(done.Output)
	if err != nil || string(out) != "0\n2\n3\n" {
		t.Errorf("combined output %q (%v), want the succeeded jobs' in order", out, err)
	}
	var types []string
	events, err := listEvents(ctx, st, store.EventFilter{GroupID: g.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		types = append(types, e.Type)
	}
	for _, want := range []string{api.EventExecutionStarted, api.EventJobRetried, api.EventJobFailed, api.EventExecutionCompleted} {
		if !slices.Contains(types, want) {
			t.Errorf("no %s event in %v", want, types)
		}
	}
}

// poll ticks c until cond holds (real processes: it polls, 20s at most).
func poll(t *testing.T, c *Controller, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 20s for %s", what)
		}
		if err := c.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestExecutionEndsWithItsGroup(t *testing.T) {
	h := newHarness(t)
	g := h.createGroup(api.GroupConfig{Name: "batch", DesiredQuantity: 2, Sim: &api.SimConfig{BootTime: "1s"}})
	h.runTo(2*time.Second, nil)
	x := h.createExecution(api.ExecutionCreate{GroupID: g.ID, Input: api.ExecutionInput{Items: items(4)},
		Sim: &api.ExecutionSim{ItemDuration: "1h"}})
	if err := h.c.DeleteGroupBy(h.ctx, g.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	h.runTo(4*time.Second, nil)
	done := h.execution(x.ID)
	if done.Status != api.ExecutionCancelled || done.EndedAt == nil || done.Counts[api.JobFailed] != 4 {
		t.Fatalf("after its group was deleted: %s %v", done.Status, done.Counts)
	}
	obs, _ := h.sim.ObserveJobs(h.ctx, g.ID)
	for _, o := range obs {
		if o.Running {
			t.Errorf("job %s still runs", o.JobID)
		}
	}
}
