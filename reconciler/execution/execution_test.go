package execution

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

var t0 = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

func TestSplit(t *testing.T) {
	cases := []struct {
		n, per int
		want   []Range
	}{
		{0, 20, []Range{}},
		{1000, 20, nil}, // 50 ranges, checked below
		{5, 2, []Range{{0, 2}, {2, 4}, {4, 5}}},
		{3, 10, []Range{{0, 3}}},
		{2, 0, []Range{{0, 1}, {1, 2}}},
	}
	for _, c := range cases {
		got := Split(c.n, c.per)
		if c.want == nil {
			if len(got) != 50 || got[49] != (Range{980, 1000}) {
				t.Errorf("Split(%d, %d): %d ranges ending %v, want 50 ending [980,1000)", c.n, c.per, len(got), got[len(got)-1])
			}
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Split(%d, %d) = %v, want %v", c.n, c.per, got, c.want)
		}
	}
}

func newExec(n int) (api.Execution, []api.Job) {
	x := api.Execution{ID: "x", Label: "X1", Status: api.ExecutionPending, MaxAttempts: 2}
	jobs := make([]api.Job, n)
	for i := range jobs {
		jobs[i] = api.Job{ExecutionID: "x", Index: i, Status: api.JobQueued}
	}
	return x, jobs
}

func nodes(ids ...string) []Node {
	var ns []Node
	for _, id := range ids {
		ns = append(ns, Node{ID: id, Ready: true})
	}
	return ns
}

// step plans and applies the decision, as the controller would.
func step(x *api.Execution, jobs []api.Job, in Input) Decision {
	in.Execution, in.Jobs = *x, jobs
	if in.Now.IsZero() {
		in.Now = t0
	}
	d := Plan(in)
	*x = d.Execution
	for _, j := range d.Jobs {
		jobs[j.Index] = j
	}
	return d
}

func types(fs []Fact) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Type)
	}
	return out
}

func running(jobs ...api.Job) map[string]Observed {
	m := map[string]Observed{}
	for _, j := range jobs {
		m[j.ID] = Observed{Running: true}
	}
	return m
}

func TestStartAssignsOneJobPerFreeReadyNode(t *testing.T) {
	x, jobs := newExec(10)
	ns := nodes("a", "b", "c", "d")
	ns[1].Ready = false // launching
	d := step(&x, jobs, Input{Nodes: ns, Busy: map[string]bool{"d": true}})
	if x.Status != api.ExecutionRunning || x.StartedAt == nil {
		t.Fatalf("status %s, want running with a start", x.Status)
	}
	if got := types(d.Facts); !reflect.DeepEqual(got, []string{api.EventExecutionStarted}) || d.Facts[0].Queued != 10 {
		t.Fatalf("facts %v (queued %d), want one start with 10 queued", got, d.Facts[0].Queued)
	}
	if !reflect.DeepEqual(d.Launch, []int{0, 1}) {
		t.Fatalf("launch %v, want jobs 0 and 1 (nodes a and c: b is not ready, d is busy)", d.Launch)
	}
	if jobs[0].NodeID != "a" || jobs[1].NodeID != "c" || jobs[0].Attempt != 1 || jobs[0].ID != "x-0-1" {
		t.Fatalf("assignments: %+v %+v", jobs[0], jobs[1])
	}
	if x.Counts[api.JobRunning] != 2 || x.Counts[api.JobQueued] != 8 {
		t.Fatalf("counts %v", x.Counts)
	}
	// Next step: nodes still busy with those jobs, nothing more starts.
	d = step(&x, jobs, Input{Nodes: ns, Busy: map[string]bool{"d": true}, Observed: running(jobs[0], jobs[1])})
	if len(d.Launch) != 0 || len(d.Facts) != 0 {
		t.Fatalf("second step launched %v, facts %v", d.Launch, types(d.Facts))
	}
}

func TestMaxParallel(t *testing.T) {
	x, jobs := newExec(10)
	x.MaxParallel = 3
	d := step(&x, jobs, Input{Nodes: nodes("a", "b", "c", "d", "e")})
	if len(d.Launch) != 3 {
		t.Fatalf("launched %d, want max_parallel 3", len(d.Launch))
	}
}

func TestSuccessRetryAndFailure(t *testing.T) {
	x, jobs := newExec(3)
	ns := nodes("a", "b", "c")
	step(&x, jobs, Input{Nodes: ns})
	obs := map[string]Observed{jobs[0].ID: {ExitCode: 0}, jobs[1].ID: {ExitCode: 3}, jobs[2].ID: {Running: true, Progress: 0.5}}
	d := step(&x, jobs, Input{Nodes: ns, Observed: obs, Now: t0.Add(10 * time.Second)})
	if jobs[0].Status != api.JobSucceeded || jobs[0].RunSeconds != 10 || *jobs[0].ExitCode != 0 {
		t.Fatalf("job 0: %+v", jobs[0])
	}
	// Job 1 failed once of max_attempts 2: retried at once on a free node.
	if got := types(d.Facts); !reflect.DeepEqual(got, []string{api.EventJobRetried}) || d.Why[1] != (Why{Kind: WhyRetried, ExitCode: 3}) {
		t.Fatalf("facts %v (why %+v), want a retry after exit status 3", got, d.Why[1])
	}
	if jobs[1].Status != api.JobRunning || jobs[1].Attempt != 2 || jobs[1].Failures != 1 || jobs[1].ID != "x-1-2" {
		t.Fatalf("job 1 not relaunched: %+v", jobs[1])
	}
	if jobs[2].Progress != 0.5 {
		t.Fatalf("progress not taken: %v", jobs[2].Progress)
	}
	if x.EstimatedTimeLeft == "" {
		t.Fatal("no estimate once a job finished")
	}
	// Second failure: failed; job 2 succeeds; the execution completes with errors.
	obs = map[string]Observed{jobs[1].ID: {ExitCode: 1}, jobs[2].ID: {ExitCode: 0}}
	d = step(&x, jobs, Input{Nodes: ns, Observed: obs, Now: t0.Add(20 * time.Second)})
	if got := types(d.Facts); !reflect.DeepEqual(got, []string{api.EventJobFailed, api.EventExecutionCompleted}) {
		t.Fatalf("facts %v", got)
	}
	if x.Status != api.ExecutionCompletedWithErrors || x.EndedAt == nil || x.Elapsed != "20s" {
		t.Fatalf("execution %s ended %v elapsed %s", x.Status, x.EndedAt, x.Elapsed)
	}
}

func TestAllFailedIsFailed(t *testing.T) {
	x, jobs := newExec(1)
	x.MaxAttempts = 1
	step(&x, jobs, Input{Nodes: nodes("a")})
	step(&x, jobs, Input{Nodes: nodes("a"), Observed: map[string]Observed{jobs[0].ID: {ExitCode: 2}}})
	if x.Status != api.ExecutionFailed {
		t.Fatalf("status %s, want failed", x.Status)
	}
}

func TestNodeLostStopsThenRequeues(t *testing.T) {
	x, jobs := newExec(2)
	step(&x, jobs, Input{Nodes: nodes("a", "b")})
	first := jobs[0].ID
	// Node a is lost while its job runs: the job is stopped, still running.
	ns := []Node{{ID: "a"}, {ID: "b", Ready: true}, {ID: "c", Ready: true}}
	d := step(&x, jobs, Input{Nodes: ns, Observed: running(jobs...)})
	if len(d.Stop) != 1 || d.Stop[0].JobID != first || d.Stop[0].Reason != StopNodeLost || jobs[0].Status != api.JobRunning {
		t.Fatalf("stop %v, job %+v", d.Stop, jobs[0])
	}
	if len(d.Launch) != 0 {
		t.Fatalf("relaunched before the attempt ended: %v", d.Launch)
	}
	// It ended (exit 0 after SIGTERM): re-queued, not failed, and started on c.
	obs := running(jobs[1])
	obs[first] = Observed{ExitCode: 0}
	d = step(&x, jobs, Input{Nodes: ns, Observed: obs})
	if got := types(d.Facts); !reflect.DeepEqual(got, []string{api.EventJobRequeued}) || d.Facts[0].Why != (Why{Kind: WhyNodeLost, NodeID: "a"}) || d.Why[0].Kind != WhyNodeLost {
		t.Fatalf("facts %v %+v", got, d.Facts)
	}
	if jobs[0].Status != api.JobRunning || jobs[0].NodeID != "c" || jobs[0].Failures != 0 || jobs[0].Attempt != 2 {
		t.Fatalf("job 0 after loss: %+v", jobs[0])
	}
}

func TestUnknownAttemptIsRequeued(t *testing.T) {
	x, jobs := newExec(1)
	step(&x, jobs, Input{Nodes: nodes("a")})
	d := step(&x, jobs, Input{Nodes: nodes("a"), Observed: map[string]Observed{}})
	if got := types(d.Facts); !reflect.DeepEqual(got, []string{api.EventJobRequeued}) || jobs[0].Failures != 0 || jobs[0].Attempt != 2 {
		t.Fatalf("facts %v job %+v", got, jobs[0])
	}
}

func TestSuspendAndResume(t *testing.T) {
	x, jobs := newExec(3)
	step(&x, jobs, Input{Nodes: nodes("a", "b")})
	var err error
	if x, err = Suspend(x, true, "alice"); err != nil || x.Status != api.ExecutionSuspending {
		t.Fatalf("suspend: %v %s", err, x.Status)
	}
	d := step(&x, jobs, Input{Nodes: nodes("a", "b"), Observed: running(jobs...)})
	if len(d.Stop) != 2 || d.Stop[0].Reason != StopSuspend || x.Status != api.ExecutionSuspending {
		t.Fatalf("stops %v status %s", d.Stop, x.Status)
	}
	if jobs[2].Status != api.JobSuspended {
		t.Fatalf("queued job not suspended: %s", jobs[2].Status)
	}
	obs := map[string]Observed{jobs[0].ID: {ExitCode: 0}, jobs[1].ID: {ExitCode: 143}}
	d = step(&x, jobs, Input{Nodes: nodes("a", "b"), Observed: obs})
	if x.Status != api.ExecutionSuspended || !reflect.DeepEqual(types(d.Facts), []string{api.EventExecutionSuspended}) {
		t.Fatalf("status %s facts %v", x.Status, types(d.Facts))
	}
	for _, j := range jobs {
		if j.Status != api.JobSuspended || j.Failures != 0 {
			t.Fatalf("job %d: %s failures %d", j.Index, j.Status, j.Failures)
		}
	}
	if _, err := Suspend(x, false, ""); !isConflict(err) {
		t.Fatalf("suspend of a suspended execution: %v, want 409", err)
	}
	x, changed, err := Resume(x, jobs, t0)
	if err != nil || len(changed) != 3 || x.Status != api.ExecutionRunning {
		t.Fatalf("resume: %v %d %s", err, len(changed), x.Status)
	}
	for _, j := range changed {
		jobs[j.Index] = j
	}
	d = step(&x, jobs, Input{Nodes: nodes("c")})
	if !reflect.DeepEqual(d.Launch, []int{0}) || jobs[0].Attempt != 2 {
		t.Fatalf("after resume launched %v", d.Launch)
	}
	if _, _, err := Resume(x, jobs, t0); !isConflict(err) {
		t.Fatalf("resume of a running execution: %v, want 409", err)
	}
}

func TestCancel(t *testing.T) {
	x, jobs := newExec(2)
	step(&x, jobs, Input{Nodes: nodes("a")})
	x, changed, err := Cancel(x, jobs, t0)
	if err != nil || len(changed) != 1 || x.EndedAt != nil {
		t.Fatalf("cancel: %v %v %v", err, changed, x.EndedAt)
	}
	jobs[1] = changed[0]
	d := step(&x, jobs, Input{Nodes: nodes("a"), Observed: running(jobs[0])})
	if len(d.Stop) != 1 || d.Stop[0].Reason != StopCancel {
		t.Fatalf("stop %v", d.Stop)
	}
	d = step(&x, jobs, Input{Nodes: nodes("a"), Observed: map[string]Observed{jobs[0].ID: {ExitCode: 143}}})
	if x.Status != api.ExecutionCancelled || x.EndedAt == nil || jobs[0].Status != api.JobFailed || d.Why[0].Kind != WhyCancelled {
		t.Fatalf("after cancel: %s %v %+v", x.Status, x.EndedAt, jobs[0])
	}
	x.Status = api.ExecutionCompleted
	if _, err := Suspend(x, false, ""); !isConflict(err) {
		t.Fatalf("suspend of a completed execution: %v, want 409", err)
	}
	if _, _, err := Cancel(x, jobs, t0); !isConflict(err) {
		t.Fatalf("cancel of a completed execution: %v, want 409", err)
	}
}

func isConflict(err error) bool {
	var ae *api.Error
	return errors.As(err, &ae) && ae.Status == 409
}

// TestUsageAndRun: the usage integrates the ready nodes between steps,
// the suspended time goes apart (nodes held or not), and the run record
// has wall time and node-hours without it.
func TestUsageAndRun(t *testing.T) {
	x, jobs := newExec(2)
	x.ProgramType = "wordcount"
	for i := range jobs {
		jobs[i].Items = 5
	}
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	// Started at 0 with 2 ready nodes; 10s later 4 are ready.
	step(&x, jobs, Input{Nodes: nodes("a", "b"), Now: at(0), Observed: map[string]Observed{}})
	step(&x, jobs, Input{Nodes: nodes("a", "b", "c", "d"), Now: at(10), Observed: running(jobs...)})
	// Suspend at 20 (2·10 + 4·10 node-seconds so far); suspended by 25.
	var err error
	if x, err = Suspend(x, false, ""); err != nil {
		t.Fatal(err)
	}
	stopped := map[string]Observed{jobs[0].ID: {ExitCode: 0}, jobs[1].ID: {ExitCode: 0}}
	step(&x, jobs, Input{Nodes: nodes("a", "b", "c", "d"), Now: at(20), Observed: running(jobs...)})
	d := step(&x, jobs, Input{Nodes: nodes("a", "b", "c", "d"), Now: at(25), Observed: stopped})
	if x.Status != api.ExecutionSuspended {
		t.Fatalf("status %s after %v", x.Status, types(d.Facts))
	}
	// Suspended 25 → 85 (a step at 50 while suspended changes nothing).
	step(&x, jobs, Input{Nodes: nodes("a"), Now: at(50)})
	x, changed, err := Resume(x, jobs, at(85))
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range changed {
		jobs[j.Index] = j
	}
	// Runs again on 1 node from 85; both jobs end at 95.
	step(&x, jobs, Input{Nodes: nodes("a"), Now: at(85)})
	step(&x, jobs, Input{Nodes: nodes("a", "b"), Now: at(90), Observed: running(jobs...)})
	ok := map[string]Observed{}
	for _, j := range jobs {
		if j.Status == api.JobRunning {
			ok[j.ID] = Observed{ExitCode: 0}
		}
	}
	step(&x, jobs, Input{Nodes: nodes("a", "b"), Now: at(95), Observed: ok})
	if x.Status != api.ExecutionCompleted {
		t.Fatalf("status %s, jobs %+v", x.Status, jobs)
	}
	u := x.Usage
	// Active: 0–25 and 85–95 = 35s; node-seconds 2·10 + 4·15 + 1·5 + 2·5 = 95.
	if u.ActiveSeconds != 35 || u.SuspendedSeconds != 60 || u.NodeSeconds != 95 || u.NodesMax != 4 {
		t.Errorf("usage %+v, want 35s active, 60s suspended, 95 node-seconds, at most 4", *u)
	}
	r := RunOf(x, jobs, "r1", api.DriverSim, "")
	if r.WallSeconds != 35 || r.SuspendedSeconds != 60 || r.NodeHours != 95.0/3600 || r.NodesMean != 95.0/35 ||
		r.InputSize != 10 || r.JobCount != 2 || r.Label != "X1" || r.ProgramType != "wordcount" || r.Status != api.ExecutionCompleted {
		t.Errorf("run %+v", r)
	}
	if r.Retries != 0 || r.Failures != 0 { // a suspension is no retry
		t.Errorf("retries %d failures %d, want 0", r.Retries, r.Failures)
	}
}
