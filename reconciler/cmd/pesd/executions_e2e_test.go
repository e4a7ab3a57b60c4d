//go:build linux

package main

// End-to-end tests of distributed executions (SPEC §2.9, issue 14's
// acceptance): the real pesd binary, real node and job processes (the
// example job examples/executions/sum.sh), real SQLite, real HTTP.

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
	"github.com/pes-project/terraform-provider-pes/reconciler/server/servertest"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/postgres/pgtest"
)

func needBash(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"bash", "awk", "sleep"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: the example job examples/executions/sum.sh needs bash, awk and sleep", tool)
		}
	}
}

// sumJob is the example job, run with a delay per line so that a test
// can act mid-run.
func sumJob(t testing.TB, procs *nodeProcs, delay string) *api.Program {
	t.Helper()
	path, err := filepath.Abs("../../../examples/executions/sum.sh")
	if err != nil {
		t.Fatal(err)
	}
	env := procs.env()
	env["SUM_DELAY"] = delay
	return &api.Program{Command: path, Env: env}
}

// sleepGroup is a local group whose nodes just stay up; the jobs run
// beside them.
func sleepGroup(name string, n int, procs *nodeProcs) api.GroupConfig {
	return api.GroupConfig{
		Name: name, Driver: api.DriverLocal,
		Program:         api.Program{Command: "sleep", Args: []string{"3600"}, Env: procs.env()},
		DesiredQuantity: n, MaxQuantity: 10, Replacement: api.ReplacementImmediate, InitDeadline: "30s",
		HealthCheck: &api.HealthCheck{Type: api.HealthProcess, Interval: "200ms"},
	}
}

// numbers writes n random numbers, one a line, and returns their sum.
func numbers(t testing.TB, n int) (string, int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "numbers.txt")
	var b strings.Builder
	sum := 0
	for range n {
		v := rand.IntN(10_000)
		sum += v
		fmt.Fprintln(&b, v)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, sum
}

func waitExecution(t testing.TB, ctx context.Context, c *client.Client, id string, timeout time.Duration, what string, done func(x api.Execution) bool) api.Execution {
	t.Helper()
	var x api.Execution
	eventually(t, timeout, what, func() (bool, string) {
		var err error
		if x, err = c.GetExecution(ctx, id); err != nil {
			return false, err.Error()
		}
		return done(x), fmt.Sprintf("%s %v", x.Status, x.Counts)
	})
	return x
}

// combinedSum adds up the combined output: one sum a line, one line a job.
func combinedSum(t testing.TB, x api.Execution) int {
	t.Helper()
	b, err := os.ReadFile(x.Output)
	if err != nil {
		t.Fatalf("combined output of %s: %v", x.Label, err)
	}
	lines := strings.Fields(string(b))
	if len(lines) != x.JobCount {
		t.Errorf("combined output has %d lines, want one a job (%d)", len(lines), x.JobCount)
	}
	total := 0
	for _, l := range lines {
		v, err := strconv.Atoi(l)
		if err != nil {
			t.Fatalf("combined output line %q: %v", l, err)
		}
		total += v
	}
	return total
}

var (
	logLine  = regexp.MustCompile(`^job (\d+) line (\d+)$`)
	doneLine = regexp.MustCompile(`^job (\d+) done$`)
)

// checkEachLineOnce reads the jobs' own logs (every attempt's, as the
// API names them) and checks that each input line was processed exactly
// once. With outputOnce, it also checks that each job wrote its output
// once: no succeeded job ran again.
func checkEachLineOnce(t testing.TB, x api.Execution, jobs, perJob int, outputOnce bool) {
	t.Helper()
	var logs []string
	for _, j := range x.Jobs {
		logs = append(logs, j.Log)
	}
	seen := map[[2]int]int{}
	done := map[int]int{}
	for _, path := range logs {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if m := logLine.FindStringSubmatch(sc.Text()); m != nil {
				j, _ := strconv.Atoi(m[1])
				n, _ := strconv.Atoi(m[2])
				seen[[2]int{j, n}]++
			}
			if m := doneLine.FindStringSubmatch(sc.Text()); m != nil {
				j, _ := strconv.Atoi(m[1])
				done[j]++
			}
		}
		f.Close()
	}
	missing, twice := 0, 0
	for j := range jobs {
		for n := 1; n <= perJob; n++ {
			switch seen[[2]int{j, n}] {
			case 0:
				missing++
			case 1:
			default:
				twice++
				t.Errorf("job %d line %d was processed %d times", j, n, seen[[2]int{j, n}])
			}
		}
	}
	for j := range jobs {
		if outputOnce && done[j] != 1 {
			t.Errorf("job %d wrote its output %d times, want once", j, done[j])
		}
	}
	if missing > 0 || twice > 0 {
		t.Errorf("of %d lines, %d not in any job's log, %d processed more than once (%d job logs)", jobs*perJob, missing, twice, len(logs))
	}
}

// Acceptance 1: 1,000 lines, 20 per job, 50 jobs on 4 local nodes. A job's
// node is killed mid-run and the job resumes from its checkpoint on
// another node; the execution is suspended (the nodes released) and
// resumed; the total is exact and no line is processed twice.
func TestE2EExecutionLocal(t *testing.T) {
	needE2E(t)
	needBash(t)
	procs := newNodeProcs(t)
	dataDir := t.TempDir()
	d := startDaemon(t, dataDir, "e2e-token")
	c := d.client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	g, err := c.CreateGroup(ctx, sleepGroup("batch", 4, procs))
	if err != nil {
		t.Fatal(err)
	}
	waitActual(t, ctx, c, g.ID, 4, 20*time.Second)
	input, want := numbers(t, 1000)
	per := 20
	x, err := c.CreateExecution(ctx, api.ExecutionCreate{GroupID: g.ID, Name: "sums", ProgramType: "sum",
		Program: sumJob(t, procs, "0.05"), Input: api.ExecutionInput{Lines: input, LinesPerJob: &per}, SuspendGrace: "10s"})
	if err != nil {
		t.Fatal(err)
	}
	if x.JobCount != 50 || x.Counts[api.JobRunning] != 4 || x.Counts[api.JobQueued] != 46 {
		t.Fatalf("created %s with %d jobs %v; want 50 jobs, 4 running on the 4 nodes", x.Label, x.JobCount, x.Counts)
	}

	// kill -9 the node of a job that has checkpointed a few lines.
	var victim api.Job
	waitExecution(t, ctx, c, x.ID, 30*time.Second, "a running job past its fifth line", func(x api.Execution) bool {
		for _, j := range x.Jobs {
			if j.Status == api.JobRunning && j.Progress >= 0.25 && j.Progress <= 0.6 {
				victim = j
				return true
			}
		}
		return false
	})
	pids, err := readyPIDs(ctx, c, g.ID)
	if err != nil || pids[victim.NodeID] == 0 {
		t.Fatalf("pid of node %s: %v %v", victim.NodeID, pids, err)
	}
	if err := syscall.Kill(pids[victim.NodeID], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	moved := waitExecution(t, ctx, c, x.ID, 30*time.Second, "the job of the killed node running again elsewhere", func(x api.Execution) bool {
		j := x.Jobs[victim.Index]
		return j.Attempt > victim.Attempt && j.NodeID != "" && j.NodeID != victim.NodeID
	}).Jobs[victim.Index]
	if moved.Failures != 0 || moved.Checkpoint == "" {
		t.Errorf("job %d after its node was lost: failures %d, checkpoint %q; want a re-queue from a checkpoint, not a failure", moved.Index, moved.Failures, moved.Checkpoint)
	}

	// Suspend mid-run, releasing the nodes.
	waitExecution(t, ctx, c, x.ID, 60*time.Second, "20 jobs done", func(x api.Execution) bool { return x.Counts[api.JobSucceeded] >= 20 })
	if _, err := c.SuspendExecution(ctx, x.ID, true); err != nil {
		t.Fatal(err)
	}
	sx := waitExecution(t, ctx, c, x.ID, 30*time.Second, "suspended", func(x api.Execution) bool { return x.Status == api.ExecutionSuspended })
	for _, j := range sx.Jobs {
		if j.Status != api.JobSucceeded && j.Status != api.JobSuspended {
			t.Errorf("job %d is %s in a suspended execution", j.Index, j.Status)
		}
	}
	if sx.Counts[api.JobSuspended] == 0 {
		t.Fatal("nothing was left to suspend: the execution ran too fast for this test")
	}
	waitActual(t, ctx, c, g.ID, 0, 20*time.Second)
	checkAttributed(t, ctx, c, g.ID, api.EventExecutionSuspended, api.ChangeRemoveNodes)

	// Resume: the nodes come back, the jobs resume from their state.
	if _, err := c.ResumeExecution(ctx, x.ID); err != nil {
		t.Fatal(err)
	}
	done := waitExecution(t, ctx, c, x.ID, 90*time.Second, "completed", func(x api.Execution) bool { return api.ExecutionDone(x.Status) })
	if done.Status != api.ExecutionCompleted {
		t.Fatalf("ended %s: %+v", done.Status, done.Jobs)
	}
	checkAttributed(t, ctx, c, g.ID, api.EventExecutionResumed, api.ChangeAddNodes)
	if got := combinedSum(t, done); got != want {
		t.Errorf("combined output sums to %d, want %d", got, want)
	}
	// A job stopped just after it wrote its output writes it again when
	// it resumes (from its last checkpoint, with no line left): only the
	// lines are checked here.
	checkEachLineOnce(t, done, 50, per, false)

	out, err := c.ExecutionOutput(ctx, "X1")
	if err != nil || out.Combined != done.Output || len(out.Jobs) != 50 || len(out.Jobs[7].Files) != 1 {
		t.Errorf("GET output: %+v, %v", out, err)
	}
}

// checkAttributed finds the group's event of type typ and checks that a
// change of changeType is attributed directly to it.
func checkAttributed(t testing.TB, ctx context.Context, c *client.Client, groupID, typ, changeType string) {
	t.Helper()
	events, err := c.ListAllEvents(ctx, groupID, client.EventFilter{Type: typ})
	if err != nil || len(events) == 0 {
		t.Fatalf("no %s event: %v", typ, err)
	}
	e, err := c.GetEvent(ctx, events[len(events)-1].ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, eff := range e.Effects {
		if eff.Change.Type == changeType && eff.Attribution == api.AttributionDirect {
			return
		}
	}
	t.Errorf("event %s (%s) has no %s change attributed to it: %s", e.Label, e.Description, changeType, e.Explanation)
}

// Acceptance 2: kill -9 of pesd mid-execution; after a restart the
// execution completes with the exact output, no line processed twice.
func TestE2EExecutionSurvivesPesdKill(t *testing.T) {
	needE2E(t)
	needBash(t)
	procs := newNodeProcs(t)
	dataDir := t.TempDir()
	d := startDaemon(t, dataDir, "e2e-token")
	c := d.client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	g, err := c.CreateGroup(ctx, sleepGroup("batch", 2, procs))
	if err != nil {
		t.Fatal(err)
	}
	waitActual(t, ctx, c, g.ID, 2, 20*time.Second)
	input, want := numbers(t, 200)
	per := 10
	x, err := c.CreateExecution(ctx, api.ExecutionCreate{GroupID: g.ID,
		Program: sumJob(t, procs, "0.05"), Input: api.ExecutionInput{Lines: input, LinesPerJob: &per}})
	if err != nil {
		t.Fatal(err)
	}
	waitExecution(t, ctx, c, x.ID, 30*time.Second, "3 jobs done", func(x api.Execution) bool { return x.Counts[api.JobSucceeded] >= 3 })
	d.kill9()
	time.Sleep(700 * time.Millisecond) // jobs go on (or end) while pesd is down
	d = startDaemon(t, dataDir, "e2e-token")
	c = d.client(t)
	done := waitExecution(t, ctx, c, x.ID, 60*time.Second, "completed after the restart", func(x api.Execution) bool { return api.ExecutionDone(x.Status) })
	if done.Status != api.ExecutionCompleted {
		t.Fatalf("ended %s: %+v", done.Status, done.Jobs)
	}
	if got := combinedSum(t, done); got != want {
		t.Errorf("combined output sums to %d, want %d", got, want)
	}
	checkEachLineOnce(t, done, 20, per, true)
}

// Acceptance 3 and 5: a trigger over jobs_queued scales a group from 2 to
// 6, and the change's explanation names the execution's start event and
// the trigger; on_complete scales it back, attributed to the completion
// event. Then the requests a live pesd refuses for the state it is in.
func TestE2EExecutionCausality(t *testing.T) {
	needE2E(t)
	d := startDaemon(t, t.TempDir(), "e2e-token")
	c := d.client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	g, err := c.CreateGroup(ctx, simGroup("queue", 2))
	if err != nil {
		t.Fatal(err)
	}
	waitActual(t, ctx, c, g.ID, 2, 10*time.Second)
	name, cond, six := "queue-high", "last(jobs_queued) > 10", 6
	if _, err := c.CreateTrigger(ctx, g.ID, api.TriggerSpec{Name: &name, Condition: &cond,
		Request: api.Request{SetTo: &six}, Immediate: ptrTo(true)}); err != nil {
		t.Fatal(err)
	}
	items := make([]json.RawMessage, 40)
	for i := range items {
		items[i] = json.RawMessage(strconv.Itoa(i))
	}
	two := 2
	x, err := c.CreateExecution(ctx, api.ExecutionCreate{GroupID: g.ID, Input: api.ExecutionInput{Items: items},
		Sim: &api.ExecutionSim{ItemDuration: "300ms"}, OnComplete: &api.OnComplete{ScaleTo: &two}})
	if err != nil {
		t.Fatal(err)
	}
	waitActual(t, ctx, c, g.ID, 6, 20*time.Second)
	adds, err := c.ListAllChanges(ctx, g.ID, client.ChangeFilter{Type: api.ChangeAddNodes})
	if err != nil {
		t.Fatal(err)
	}
	add := adds[len(adds)-1]
	if add.QuantityAfter != 6 {
		t.Fatalf("last add_nodes change %s: %s; want 2 → 6", add.Label, add.Description)
	}
	t.Setenv("PES_ENDPOINT", d.url)
	t.Setenv("PES_TOKEN", d.token)
	code, out, errOut := runCLI("explain", "change", add.Label, "--group", g.ID)
	if code != 0 {
		t.Fatalf("pesd explain change %s: exit %d\n%s", add.Label, code, errOut)
	}
	for _, want := range []string{"trigger " + name, "execution " + x.Label + " started with 40 jobs queued"} {
		if !strings.Contains(out, want) {
			t.Errorf("pesd explain change %s does not name %q:\n%s", add.Label, want, out)
		}
	}

	done := waitExecution(t, ctx, c, x.ID, 60*time.Second, "completed", func(x api.Execution) bool { return api.ExecutionDone(x.Status) })
	if done.Status != api.ExecutionCompleted || done.Counts[api.JobSucceeded] != 40 {
		t.Fatalf("ended %s %v", done.Status, done.Counts)
	}
	waitActual(t, ctx, c, g.ID, 2, 20*time.Second)
	checkAttributed(t, ctx, c, g.ID, api.EventExecutionCompleted, api.ChangeRemoveNodes)

	code, out, errOut = runCLI("execution", x.Label)
	if code != 0 || !strings.Contains(out, "completed") || strings.Count(out, "succeeded") < 40 {
		t.Errorf("pesd execution %s: exit %d\n%s%s", x.Label, code, out, errOut)
	}

	// Acceptance 5, against the live daemon.
	long, err := c.CreateExecution(ctx, api.ExecutionCreate{GroupID: g.ID, Input: api.ExecutionInput{Items: items[:4]},
		Sim: &api.ExecutionSim{ItemDuration: "1h"}})
	if err != nil {
		t.Fatal(err)
	}
	servertest.RunCases(t, d.url, d.token, g.ID, servertest.ExecutionStateCases(long.ID, x.ID, filepath.Join(t.TempDir(), "missing.txt")))
	if cx, err := c.CancelExecution(ctx, long.Label); err != nil || cx.Status != api.ExecutionCancelled {
		t.Errorf("cancel %s: %v %v", long.Label, cx.Status, err)
	}
	xs, err := c.ListAllExecutions(ctx, client.ExecutionFilter{GroupID: g.ID})
	if err != nil || len(xs) != 2 || !slices.ContainsFunc(xs, func(e api.Execution) bool { return e.ID == x.ID }) {
		t.Errorf("list executions: %d, %v", len(xs), err)
	}

	// pesd run waits with a progress line and ends with the execution.
	input, _ := numbers(t, 10)
	code, out, errOut = runCLI("run", "--group", "queue", "--input-lines", input, "--lines-per-job", "5", "--timeout", "60s", "--", "sum-job")
	if code != 0 || !strings.Contains(errOut, "completed: 2/2 succeeded") || !strings.Contains(out, "completed") {
		t.Errorf("pesd run: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

func ptrTo[T any](v T) *T { return &v }

// An execution on pesd with the PostgreSQL store: it runs, completes, and
// its record is in PostgreSQL.
func TestE2EExecutionPostgres(t *testing.T) {
	needE2E(t)
	srv := pgtest.Start(t)
	dsn := srv.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d := startDaemon(t, t.TempDir(), "pg-e2e-token", "--store", "postgres", "--dsn", dsn)
	c := d.client(t)
	g, err := c.CreateGroup(ctx, simGroup("pg-batch", 2))
	if err != nil {
		t.Fatal(err)
	}
	waitActual(t, ctx, c, g.ID, 2, 10*time.Second)
	x, err := c.CreateExecution(ctx, api.ExecutionCreate{GroupID: g.Name, Input: api.ExecutionInput{Items: []json.RawMessage{
		json.RawMessage(`1`), json.RawMessage(`2`), json.RawMessage(`3`), json.RawMessage(`4`)}},
		Sim: &api.ExecutionSim{ItemDuration: "200ms"}})
	if err != nil {
		t.Fatal(err)
	}
	done := waitExecution(t, ctx, c, x.ID, 30*time.Second, "completed", func(x api.Execution) bool { return api.ExecutionDone(x.Status) })
	if done.Status != api.ExecutionCompleted || done.Counts[api.JobSucceeded] != 4 || done.GroupID != g.ID {
		t.Fatalf("ended %s %v on group %s", done.Status, done.Counts, done.GroupID)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var status string
	var jobs int
	if err := db.QueryRowContext(ctx, `SELECT status, (SELECT count(*) FROM execution_jobs WHERE execution_id = $1) FROM executions WHERE id = $1`,
		x.ID).Scan(&status, &jobs); err != nil || status != api.ExecutionCompleted || jobs != 4 {
		t.Errorf("execution %s in PostgreSQL: %q with %d jobs, %v", x.Label, status, jobs, err)
	}
}
