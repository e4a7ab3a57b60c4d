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
