package controller

import (
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/local"
	"github.com/pes-project/terraform-provider-pes/reconciler/engine"
)

// TestCommandThatCannotStart: a local group whose command does not exist
// records node_init_failed with the OS error at its first launch, not at
// its init deadline; the first is replaced at once, then the
// replacements back off 1s, 2s, 4s, 8s, 16s (on the fake clock); after
// engine.DegradedAfter failures the controller calls the group degraded.
func TestCommandThatCannotStart(t *testing.T) {
	h := newHarness(t)
	ld, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ld.Close() })
	h.opts.Drivers = map[string]driver.Driver{api.DriverSim: h.drv, api.DriverLocal: ld}
	h.crash()
	g := h.createGroup(api.GroupConfig{Name: "broken", Driver: api.DriverLocal, DesiredQuantity: 1,
		Program: api.Program{Command: "/no/such/binary"}})

	failed := func() []api.Event {
		var out []api.Event
		for _, e := range h.events(g.ID) {
			if e.Type == api.EventNodeInitFailed {
				out = append(out, e)
			}
		}
		return out
	}
	fs := failed()
	if len(fs) != 2 {
		t.Fatalf("after the create: %d node_init_failed events, want 2 at once (the first replaced at once)", len(fs))
	}
	if !strings.Contains(fs[0].Reason, "/no/such/binary") || !strings.Contains(fs[0].Reason, "no such file or directory") {
		t.Errorf("reason %q does not name the command and the OS error", fs[0].Reason)
	}
	held := false
	for _, e := range h.events(g.ID) {
		if e.Type == api.EventReplacementRequest && e.Status == api.EventAggregated && strings.Contains(e.Reason, "crash-loop backoff") {
			held = true
		}
	}
	if !held {
		t.Errorf("the first replacement is not held by the backoff: %+v", h.events(g.ID))
	}

	// Tick on the fake clock in 100ms steps for a minute.
	for h.elapsed() < time.Minute {
		h.clk.Advance(100 * time.Millisecond)
		h.tick()
	}
	fs = failed()
	var gaps []time.Duration
	for i := 1; i < len(fs); i++ {
		gaps = append(gaps, fs[i].Time.Sub(fs[i-1].Time).Round(100*time.Millisecond))
	}
	// 0, 0, 1, 3, 7, 15, 31: six gaps in the minute.
	want := []time.Duration{0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second}
	if len(gaps) != len(want) {
		t.Fatalf("launch failures %v apart in a minute, want gaps %v", gaps, want)
	}
	for i := range want {
		if gaps[i] != want[i] {
			t.Errorf("gap %d: %v, want %v (all: %v)", i+1, gaps[i], want[i], gaps)
		}
	}
	why, degraded := h.c.Degraded(g.ID)
	if !degraded || !strings.Contains(why, "7 nodes in a row failed within their first seconds") {
		t.Errorf("Degraded = %q, %v; want degraded after %d failures with the count", why, degraded, engine.DegradedAfter)
	}

}

// TestCrashLoopSurvivesRestart: a pesd killed while a group crash-loops
// comes back with the group still degraded and its backoff where it was
// (the next launch waits out the doubled wait, not a fresh 0 s, 1 s …),
// and the replacement the backoff held is asked for when it ends.
func TestCrashLoopSurvivesRestart(t *testing.T) {
	h := newHarness(t)
	ld, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ld.Close() })
	h.opts.Drivers = map[string]driver.Driver{api.DriverSim: h.drv, api.DriverLocal: ld}
	h.crash()
	g := h.createGroup(api.GroupConfig{Name: "broken", Driver: api.DriverLocal, DesiredQuantity: 1,
		Program: api.Program{Command: "/no/such/binary"}})
	failures := func() []time.Time {
		var out []time.Time
		for _, e := range h.events(g.ID) {
			if e.Type == api.EventNodeInitFailed {
				out = append(out, e.Time)
			}
		}
		return out
	}
	// Failures at 0, 0, 1, 3, 7 and 15 s: six, the next due at 31 s.
	for h.elapsed() < 20*time.Second {
		h.clk.Advance(100 * time.Millisecond)
		h.tick()
	}
	before := failures()
	if len(before) != 6 {
		t.Fatalf("%d failures in 20s, want 6", len(before))
	}
	if _, degraded := h.c.Degraded(g.ID); !degraded {
		t.Fatal("not degraded before the restart")
	}

	h.crash()
	why, degraded := h.c.Degraded(g.ID)
	if !degraded || !strings.Contains(why, "6 nodes in a row failed within their first seconds") {
		t.Errorf("after the restart Degraded = %q, %v; want degraded with the run's 6 failures", why, degraded)
	}
	for h.elapsed() < 40*time.Second {
		h.clk.Advance(100 * time.Millisecond)
		h.tick()
	}
	after := failures()[len(before):]
	// A fresh backoff would have launched at once after the restart and
	// 1 s, 3 s … later; the kept one launches once, at 31 s.
	if len(after) != 1 || after[0].Sub(before[5]).Round(100*time.Millisecond) != 16*time.Second {
		t.Errorf("after the restart failures at %v (the last before at +%s), want one, 16s after it",
			after, before[5].Sub(t0))
	}
}
