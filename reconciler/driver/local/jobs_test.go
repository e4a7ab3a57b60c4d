package local_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
)

// A forgotten attempt leaves no working directory behind; its log, state
// and output are where pesd asked for them.
func TestForgetJobRemovesItsWorkingDirectory(t *testing.T) {
	d := newDriver(t, t.TempDir())
	out := t.TempDir()
	spec := driver.JobSpec{GroupID: "g", NodeID: "n", JobID: "x-0-1", Attempt: 1,
		Program:   api.Program{Command: "sh", Args: []string{"-c", `echo hi; echo 7 > "$PES_OUTPUT/o"; echo s > "$PES_STATE_DIR/s"`}},
		OutputDir: filepath.Join(out, "output"), CheckpointDir: filepath.Join(out, "checkpoint"), Log: filepath.Join(out, "log")}
	if err := d.StartJob(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the job to end", func() bool {
		obs, _ := d.ObserveJobs(context.Background(), "g")
		return len(obs) == 1 && !obs[0].Running
	})
	d.ForgetJob("g", spec.JobID)
	if _, err := os.Stat(d.JobDir("g", spec.JobID)); !os.IsNotExist(err) {
		t.Errorf("working directory after ForgetJob: %v", err)
	}
	for _, f := range []string{"output/o", "checkpoint/s", "log"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// A pesd killed after starting an attempt but before its pid record
// finds the running process by its PES_JOB_ID after the restart and
// adopts it, instead of leaving it out to be started a second time.
func TestAdoptJobWithoutPidRecord(t *testing.T) {
	dir := t.TempDir()
	d := newDriver(t, dir)
	spec := driver.JobSpec{GroupID: "g", NodeID: "n", JobID: "x-0-1", Attempt: 1,
		Program: api.Program{Command: "sh", Args: []string{"-c", "sleep 30"}}}
	if err := d.StartJob(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	work := d.JobDir("g", spec.JobID)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(work, "pid")); err != nil {
		t.Fatal(err)
	}
	d2 := newDriver(t, dir)
	if err := d2.AdoptJobs(context.Background(), []driver.JobSpec{spec}); err != nil {
		t.Fatal(err)
	}
	obs, _ := d2.ObserveJobs(context.Background(), "g")
	if len(obs) != 1 || !obs[0].Running {
		t.Fatalf("after a restart with no pid record: %+v; want the attempt re-adopted, running", obs)
	}
	if _, err := os.Stat(filepath.Join(work, "pid")); err != nil {
		t.Errorf("the pid record is not written again: %v", err)
	}
	if err := d2.StopJob(context.Background(), "g", spec.JobID, 0); err != nil {
		t.Fatal(err)
	}
	// Its exit recorder writes into the working directory as it ends.
	eventually(t, "the re-adopted job to end", func() bool {
		obs, _ := d2.ObserveJobs(context.Background(), "g")
		return len(obs) == 1 && !obs[0].Running
	})
}
