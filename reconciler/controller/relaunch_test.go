package controller

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/local"
)

// processesOf returns the pids of live processes with PES_NODE_ID=nodeID
// in their environment, whoever started them.
func processesOf(t *testing.T, nodeID string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
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
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if i := bytes.LastIndexByte(stat, ')'); err == nil && i >= 0 && i+2 < len(stat) && stat[i+2] != 'Z' {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestNoSecondProcessAfterLostHandle: pesd killed after a local node's
// launch but before its handle was stored (or before the launch reached
// the driver) restarts with exactly one process for the node: the one it
// launched, found through the driver's launch record, or a new one when
// the launch never happened.
func TestNoSecondProcessAfterLostHandle(t *testing.T) {
	tests := []struct {
		name       string
		fault      func(d *faultyDriver)
		sameAsLost bool // the process after the restart is the first launch's
	}{
		{"handle lost", func(d *faultyDriver) { d.handleLost = 1 }, true},
		{"launch lost", func(d *faultyDriver) { d.launchLost = 1 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			dir := t.TempDir()
			newLocal := func() *faultyDriver {
				ld, err := local.New(dir)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { ld.Close() })
				return &faultyDriver{Driver: ld}
			}
			first := newLocal()
			h.opts.Drivers = map[string]driver.Driver{api.DriverSim: h.drv, api.DriverLocal: first}
			h.crash() // a controller with the local driver
			tt.fault(first)
			g := h.createGroup(api.GroupConfig{Name: "procs", Driver: api.DriverLocal, DesiredQuantity: 1,
				Program: api.Program{Command: "sleep", Args: []string{"300"}}})
			nodes := h.nodes(g.ID, api.NodeLaunching)
			if len(nodes) != 1 || len(nodes[0].Handle) != 0 {
				t.Fatalf("nodes %+v, want one launching without a handle", nodes)
			}
			id := nodes[0].ID
			t.Cleanup(func() {
				for _, pid := range processesOf(t, id) {
					_ = syscall.Kill(-pid, syscall.SIGKILL)
				}
			})
			before := processesOf(t, id)

			// kill -9 and a new pesd on the same data directory.
			first.Close()
			h.opts.Drivers[api.DriverLocal] = newLocal()
			h.crash()

			after := processesOf(t, id)
			if len(after) != 1 {
				t.Fatalf("node %s has processes %v after the restart, want exactly one", id, after)
			}
			if tt.sameAsLost && (len(before) != 1 || before[0] != after[0]) {
				t.Errorf("the process before the restart was %v, after %v: the launch was repeated", before, after)
			}
			n := h.nodes(g.ID, "")[0]
			if n.Handle[local.HandlePID] != strconv.Itoa(after[0]) {
				t.Errorf("stored handle %v, want pid %d", n.Handle, after[0])
			}
		})
	}
}
