package drivertest

import (
	"context"
	"testing"

	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
)

// JobHarness is what the job cases need from a driver's test, for a
// driver that implements driver.JobRunner.
type JobHarness struct {
	// Job returns an attempt that succeeds soon (short) or runs until it
	// is stopped (long: it reports progress once ready for SIGTERM, then
	// checkpoints and exits 0 on SIGTERM).
	Job func(t *testing.T, groupID, nodeID, jobID string, long bool) driver.JobSpec
	// Succeeded checks what a succeeded attempt left in pesd's
	// directories (local: its output and checkpoint); nil checks nothing.
	Succeeded func(t *testing.T, spec driver.JobSpec)
}

// runJobs runs the job cases when the harness has them.
func runJobs(t *testing.T, h Harness) {
	if h.Jobs == nil {
		return
	}
	cases := []struct {
		name string
		run  func(t *testing.T, h Harness, d driver.JobRunner)
	}{
		{"JobRunsToSuccess", testJobSuccess},
		{"StartJobTwiceRunsOne", testJobIdempotent},
		{"StopJobEndsItAsStopped", testJobStop},
		{"StopUnknownJobIsNotAnError", testJobStopUnknown},
		{"AdoptJobsAfterRestart", testJobAdopt},
		{"JobEndedWhileDownKeepsItsStatus", testJobEndedWhileDown},
	}
	for _, c := range cases {
		t.Run("Jobs/"+c.name, func(t *testing.T) { c.run(t, h, openJobs(t, h)) })
	}
}

func openJobs(t *testing.T, h Harness) driver.JobRunner {
	t.Helper()
	d := open(t, h)
	jr, ok := d.(driver.JobRunner)
	if !ok {
		t.Fatalf("the harness has jobs but %s is not a driver.JobRunner", d.Name())
	}
	return jr
}

func observeJob(t *testing.T, d driver.JobRunner, groupID, jobID string) (driver.JobObservation, int) {
	t.Helper()
	obs, err := d.ObserveJobs(context.Background(), groupID)
	if err != nil {
		t.Fatalf("ObserveJobs: %v", err)
	}
	var found driver.JobObservation
	n := 0
	for _, o := range obs {
		if o.JobID == jobID {
			found = o
			n++
		}
	}
	return found, n
}

func awaitJobEnd(t *testing.T, h Harness, d driver.JobRunner, groupID, jobID string) driver.JobObservation {
	t.Helper()
	var o driver.JobObservation
	h.Eventually(t, "job "+jobID+" to end", func() bool {
		var n int
		o, n = observeJob(t, d, groupID, jobID)
		if n != 1 {
			t.Fatalf("job %s reported %d times, want once", jobID, n)
		}
		return !o.Running
	})
	return o
}

func testJobSuccess(t *testing.T, h Harness, d driver.JobRunner) {
	g, n, j := newID(t), newID(t), newID(t)
	spec := h.Jobs.Job(t, g, n, j, false)
	if err := d.StartJob(ctx(t), spec); err != nil {
		t.Fatalf("StartJob: %v", err)
	}
	o := awaitJobEnd(t, h, d, g, j)
	if o.ExitCode != 0 || o.Lost || o.Stopped {
		t.Fatalf("ended %+v, want exit 0, not lost, not stopped", o)
	}
	if o.NodeID != n {
		t.Errorf("reported on node %q, want %q", o.NodeID, n)
	}
	if h.Jobs.Succeeded != nil {
		h.Jobs.Succeeded(t, spec)
	}
	d.ForgetJob(g, j)
	if _, k := observeJob(t, d, g, j); k != 0 {
		t.Errorf("a forgotten job is still reported")
	}
	if obs, _ := d.ObserveJobs(context.Background(), newID(t)); len(obs) != 0 {
		t.Errorf("another group reports %d jobs", len(obs))
	}
}

func testJobIdempotent(t *testing.T, h Harness, d driver.JobRunner) {
	g, n, j := newID(t), newID(t), newID(t)
	spec := h.Jobs.Job(t, g, n, j, true)
	for range 2 {
		if err := d.StartJob(ctx(t), spec); err != nil {
			t.Fatalf("StartJob: %v", err)
		}
	}
	if o, k := observeJob(t, d, g, j); k != 1 || !o.Running {
		t.Fatalf("after two starts: %d reports, running %v; want one running", k, o.Running)
	}
	if err := d.StopJob(ctx(t), g, j, 0); err != nil {
		t.Fatal(err)
	}
	awaitJobEnd(t, h, d, g, j)
}

// startLong starts a long job and waits until it reports progress: it is
// then past its start-up (a shell has installed its SIGTERM handler).
func startLong(t *testing.T, h Harness, d driver.JobRunner, g, n, j string) driver.JobSpec {
	t.Helper()
	spec := h.Jobs.Job(t, g, n, j, true)
	if err := d.StartJob(ctx(t), spec); err != nil {
		t.Fatalf("StartJob: %v", err)
	}
	h.Eventually(t, "job "+j+" to report progress", func() bool {
		o, _ := observeJob(t, d, g, j)
		if !o.Running {
			t.Fatalf("a long job ended unasked: %+v", o)
		}
		return o.Progress > 0
	})
	return spec
}

// testJobAdopt: a restarted pesd re-adopts a running attempt (a driver
// that keeps no trace of it, like sim, restarts it), reports it once, and
// can stop it.
func testJobAdopt(t *testing.T, h Harness, d driver.JobRunner) {
	g, n, j := newID(t), newID(t), newID(t)
	spec := startLong(t, h, d, g, n, j)
	if err := d.(driver.Driver).Close(); err != nil {
		t.Fatal(err)
	}
	d2 := openJobs(t, h)
	for range 2 { // idempotent
		if err := d2.AdoptJobs(ctx(t), []driver.JobSpec{spec}); err != nil {
			t.Fatalf("AdoptJobs: %v", err)
		}
	}
	if o, k := observeJob(t, d2, g, j); k != 1 || !o.Running {
		t.Fatalf("after a restart: %d reports of the job, running %v; want one, running", k, o.Running)
	}
	if err := d2.StopJob(ctx(t), g, j, 0); err != nil {
		t.Fatal(err)
	}
	if o := awaitJobEnd(t, h, d2, g, j); o.Lost || o.ExitCode != 0 || !o.Stopped {
		t.Fatalf("a re-adopted job stopped: %+v; want its own exit status 0, stopped", o)
	}
}

// testJobEndedWhileDown: a job that ends while pesd is down is reported
// after the restart with its exit status, and its output is kept.
func testJobEndedWhileDown(t *testing.T, h Harness, d driver.JobRunner) {
	g, n, j := newID(t), newID(t), newID(t)
	spec := h.Jobs.Job(t, g, n, j, false)
	if err := d.StartJob(ctx(t), spec); err != nil {
		t.Fatal(err)
	}
	if err := d.(driver.Driver).Close(); err != nil {
		t.Fatal(err)
	}
	d2 := openJobs(t, h)
	if err := d2.AdoptJobs(ctx(t), []driver.JobSpec{spec}); err != nil {
		t.Fatalf("AdoptJobs: %v", err)
	}
	if o := awaitJobEnd(t, h, d2, g, j); o.Lost || o.ExitCode != 0 || o.Stopped {
		t.Fatalf("after a restart the job ended %+v; want exit 0, not lost", o)
	}
	if h.Jobs.Succeeded != nil {
		h.Jobs.Succeeded(t, spec)
	}
}

func testJobStop(t *testing.T, h Harness, d driver.JobRunner) {
	g, n, j := newID(t), newID(t), newID(t)
	startLong(t, h, d, g, n, j)
	for range 2 { // idempotent
		if err := d.StopJob(ctx(t), g, j, 0); err != nil {
			t.Fatalf("StopJob: %v", err)
		}
	}
	o := awaitJobEnd(t, h, d, g, j)
	if !o.Stopped || o.ExitCode != 0 {
		t.Fatalf("stopped job ended %+v, want stopped with exit 0 (it checkpoints on SIGTERM)", o)
	}
}

func testJobStopUnknown(t *testing.T, h Harness, d driver.JobRunner) {
	if err := d.StopJob(ctx(t), newID(t), newID(t), 0); err != nil {
		t.Fatalf("StopJob of an unknown job: %v", err)
	}
}
