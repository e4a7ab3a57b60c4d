//go:build linux

package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
	"github.com/pes-project/terraform-provider-pes/reconciler/engine"
)

// TestE2EBrokenPrograms: against a real pesd, a command that does not
// exist records node_init_failed with the OS error within 5 s (not at the
// init deadline), and a program that exits at once is relaunched with
// growing gaps until the group reads degraded, with the exit status.
func TestE2EBrokenPrograms(t *testing.T) {
	needE2E(t)
	d := startDaemon(t, t.TempDir(), "broken-token")
	c := d.client(t)
	ctx := ctxFor(t)
	procs := newNodeProcs(t)

	failures := func(id string) []api.Event { return earlyFailures(t, ctx, c, id) }

	missing := localGroup("missing", 1, procs)
	missing.Program = api.Program{Command: "/no/such/binary"}
	missing.InitDeadline = "10m"
	g, err := c.CreateGroup(ctx, missing)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "node_init_failed of /no/such/binary", func() (bool, string) {
		evs := failures(g.ID)
		return len(evs) > 0 && strings.Contains(evs[0].Reason, "no such file or directory"), fmt.Sprint(evs)
	})

	exits := localGroup("exits", 1, procs)
	exits.Program = api.Program{Command: "sh", Args: []string{"-c", "echo starting; exit 3"}, Env: procs.env()}
	exits.HealthCheck = &api.HealthCheck{Type: api.HealthProcess, Interval: "200ms"}
	g, err = c.CreateGroup(ctx, exits)
	if err != nil {
		t.Fatal(err)
	}
	// Five failures in a row: at about 0, 0, 1, 3 and 7 s.
	eventually(t, 40*time.Second, "group exits degraded", func() (bool, string) {
		got, err := c.GetGroup(ctx, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Status == api.GroupDegraded, got.Status + " " + got.StatusReason
	})
	got, _ := c.GetGroup(ctx, g.ID)
	if !strings.Contains(got.StatusReason, "status 3") {
		t.Errorf("status_reason %q does not give the exit status", got.StatusReason)
	}
	evs := failures(g.ID)
	if len(evs) < 5 {
		t.Fatalf("%d failures (node_init_failed, node_unavailable) when degraded, want at least 5", len(evs))
	}
	if !strings.Contains(evs[0].Reason, "exited with status 3") || !strings.Contains(evs[0].Reason, "starting") {
		t.Errorf("failure reason %q lacks the exit status or the log's last line", evs[0].Reason)
	}
	var gaps []time.Duration
	for i := 1; i < len(evs); i++ {
		gaps = append(gaps, evs[i].Time.Sub(evs[i-1].Time))
	}
	for i := 1; i < len(gaps); i++ {
		if gaps[i] <= gaps[i-1] {
			t.Errorf("inter-launch gaps %v do not grow", gaps)
			break
		}
	}
}

// TestE2ECrashLoopSurvivesKill: a pesd killed with SIGKILL while a group
// crash-loops comes back with the group degraded and its backoff where it
// was: the next launch waits out the run's doubled wait instead of
// starting again at once.
func TestE2ECrashLoopSurvivesKill(t *testing.T) {
	needE2E(t)
	dataDir := t.TempDir()
	d := startDaemon(t, dataDir, "crash-token")
	c := d.client(t)
	ctx := ctxFor(t)
	procs := newNodeProcs(t)
	exits := localGroup("exits", 1, procs)
	exits.Program = api.Program{Command: "sh", Args: []string{"-c", "exit 3"}, Env: procs.env()}
	exits.HealthCheck = &api.HealthCheck{Type: api.HealthProcess, Interval: "200ms"}
	g, err := c.CreateGroup(ctx, exits)
	if err != nil {
		t.Fatal(err)
	}
	failures := func(c *client.Client) []api.Event { return earlyFailures(t, ctx, c, g.ID) }
	eventually(t, 40*time.Second, "group exits degraded", func() (bool, string) {
		got, err := c.GetGroup(ctx, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Status == api.GroupDegraded, got.Status + " " + got.StatusReason
	})
	// Degraded at a failure: the next launch is a backoff away (8 s
	// after five), long after the kill. One more failure may still come
	// between this read and the kill, so the run is what the restarted
	// pesd lists: as many failures as before the kill or one more.
	seen := len(failures(c))
	d.kill9()

	d = startDaemon(t, dataDir, "crash-token")
	c = d.client(t)
	got, err := c.GetGroup(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	before := failures(c)
	if n := len(before); n < seen || n > seen+1 {
		t.Fatalf("after the restart pesd lists %d launch failures; %d were listed before the kill", n, seen)
	}
	last := before[len(before)-1].Time
	wait := engine.Backoff(len(before)) // the run's next wait
	if got.Status != api.GroupDegraded || !strings.Contains(got.StatusReason, fmt.Sprintf("%d nodes in a row", len(before))) {
		t.Errorf("after the restart the group reads %s (%q), want degraded after the run's %d failures",
			got.Status, got.StatusReason, len(before))
	}
	var next api.Event
	eventually(t, wait+20*time.Second, "the first launch failure after the restart", func() (bool, string) {
		evs := failures(c)
		if len(evs) > len(before) {
			next = evs[len(before)]
			return true, ""
		}
		return false, fmt.Sprintf("%d failures", len(evs))
	})
	// A node fails within moments of its launch: the failure times say
	// when the launches were. Half a second of slack for the process.
	if gap := next.Time.Sub(last); gap < wait-500*time.Millisecond {
		t.Errorf("after the restart the next failure came %s after the last (%d failures before); want the backoff's %s",
			gap, len(before), wait)
	}
}

// earlyFailures are the group's failed inits and lost nodes, in time
// order: a run counts both. A node that exits at once is a failed init,
// unless a loaded machine let a health check see it running first; then
// it is lost.
func earlyFailures(t *testing.T, ctx context.Context, c *client.Client, groupID string) []api.Event {
	t.Helper()
	var all []api.Event
	for _, typ := range []string{api.EventNodeInitFailed, api.EventNodeUnavailable} {
		evs, err := c.ListAllEvents(ctx, groupID, client.EventFilter{Type: typ})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, evs...)
	}
	slices.SortStableFunc(all, func(a, b api.Event) int { return a.Time.Compare(b.Time) })
	return all
}
