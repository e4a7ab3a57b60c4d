package local_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/google/uuid"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/local"
)

// nodeProcesses returns the pids of running processes (of this user) with
// PES_NODE_ID=nodeID in their environment: how many processes a node has,
// whoever started them.
func nodeProcesses(t *testing.T, nodeID string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	want := []byte("PES_NODE_ID=" + nodeID + "\x00")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !bytes.Contains(env, want) {
			continue
		}
		if state, _, _, _, err := local.ReadStat(pid); err == nil && state != 'Z' {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestAdoptWithoutHandle: a pesd killed after launching a node but before
// storing its handle finds the process again through the launch record:
// Adopt with no handle attaches to it and a later Launch starts no second
// process. A node never launched, or terminated, is not reported.
func TestAdoptWithoutHandle(t *testing.T) {
	tests := []struct {
		name string
		// before runs against the first driver and returns the pid Adopt
		// must report (0: the node must not be reported).
		before    func(t *testing.T, d driver.Driver, spec driver.NodeSpec) int
		wantState string
		wantProcs int
	}{
		{"launched, handle lost", func(t *testing.T, d driver.Driver, spec driver.NodeSpec) int {
			return pidOf(t, launch(t, d, spec))
		}, api.NodeLaunching, 1},
		{"never launched", func(t *testing.T, d driver.Driver, spec driver.NodeSpec) int { return 0 }, "", 0},
		{"terminated", func(t *testing.T, d driver.Driver, spec driver.NodeSpec) int {
			launch(t, d, spec)
			if err := d.Terminate(bounded(t), spec.GroupID, spec.NodeID, 0); err != nil {
				t.Fatal(err)
			}
			return 0
		}, "", 0},
		{"died while pesd was down", func(t *testing.T, d driver.Driver, spec driver.NodeSpec) int {
			pid := pidOf(t, launch(t, d, spec))
			if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the node process to die", func() bool { return gone(pid) })
			return pid
		}, api.NodeUnavailable, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			spec := sleepSpec("g", uuid.NewString(), 0)
			d1 := newDriver(t, dir)
			pid := tt.before(t, d1, spec)
			d1.Close()

			d2 := newDriver(t, dir)
			obs, err := d2.Adopt(bounded(t), []driver.AdoptSpec{{NodeSpec: spec, State: api.NodeLaunching}})
			if err != nil {
				t.Fatal(err)
			}
			if pid == 0 {
				if len(obs) != 0 {
					t.Fatalf("Adopt reports %+v for a node with no launch record; want it left out", obs)
				}
				if _, err := os.Stat(filepath.Join(dir, "nodes", "g", spec.NodeID+".pid")); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("launch record left behind: %v", err)
				}
			} else {
				if len(obs) != 1 || obs[0].State != tt.wantState || obs[0].Handle[local.HandlePID] != strconv.Itoa(pid) {
					t.Fatalf("Adopt reports %+v, want %s with pid %d", obs, tt.wantState, pid)
				}
				if tt.wantState == api.NodeUnavailable && obs[0].Reason != local.ReasonGoneWhileDown {
					t.Errorf("reason %q, want %q", obs[0].Reason, local.ReasonGoneWhileDown)
				}
			}
			if tt.wantProcs > 0 {
				// The caller may still launch it (the controller does when
				// it is not reported); the driver must not start another.
				h := launch(t, d2, spec)
				if h[local.HandlePID] != strconv.Itoa(pid) {
					t.Errorf("Launch after adoption started pid %s, want the adopted %d", h[local.HandlePID], pid)
				}
				awaitState(t, d2, "g", spec.NodeID, api.NodeReady)
			}
			if got := nodeProcesses(t, spec.NodeID); len(got) != tt.wantProcs {
				t.Errorf("the node has processes %v, want %d", got, tt.wantProcs)
			}
		})
	}
}

// TestLaunchFindsRecordedProcess: launching a node a previous driver
// launched (its handle never stored, and no Adopt) attaches to the running
// process instead of starting another.
func TestLaunchFindsRecordedProcess(t *testing.T) {
	dir := t.TempDir()
	spec := sleepSpec("g", uuid.NewString(), 0)
	d1 := newDriver(t, dir)
	first := launch(t, d1, spec)
	d1.Close()

	d2 := newDriver(t, dir)
	again, err := d2.Launch(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if again[local.HandlePID] != first[local.HandlePID] || again[local.HandleStartTime] != first[local.HandleStartTime] {
		t.Errorf("second Launch handle %v, want the first process %v", again, first)
	}
	awaitState(t, d2, "g", spec.NodeID, api.NodeReady)
	if got := nodeProcesses(t, spec.NodeID); len(got) != 1 {
		t.Errorf("the node has processes %v, want 1", got)
	}
	// Terminated, the record goes, and a later launch starts afresh.
	if err := d2.Terminate(bounded(t), "g", spec.NodeID, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "nodes", "g", spec.NodeID+".pid")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("launch record after termination: %v", err)
	}
}
