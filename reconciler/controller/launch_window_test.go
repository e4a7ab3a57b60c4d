package controller

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// launchHarness is a harness whose controller coalesces launches within
// window.
func launchHarness(t *testing.T, window time.Duration) *harness {
	t.Helper()
	h := newHarness(t)
	h.st.Close()
	h.opts.LaunchWindow = window
	h.open()
	return h
}

// bootTimes lists boot times for the sim: n of each duration, in order.
func bootTimes(spec ...any) []string {
	var out []string
	for i := 0; i < len(spec); i += 2 {
		for range spec[i].(int) {
			out = append(out, spec[i+1].(string))
		}
	}
	return out
}

// launch95 creates a group of 5 ready nodes, then gives the immediate
// +95 at +10s, whose nodes boot after the times of boots (the first 5
// are the group's own), and runs to +40s. faults run before the pass of
// their second.
func launch95(t *testing.T, h *harness, boots []string, faults map[time.Duration]func(g api.Group)) (api.Group, api.Event) {
	t.Helper()
	g := h.createGroup(api.GroupConfig{
		Name: "web", DesiredQuantity: 5, MaxQuantity: 200, AggregationPeriod: "1h",
		Sim: &api.SimConfig{BootTime: "1s", BootTimes: append(bootTimes(5, "1s"), boots...)},
	})
	each := func(now time.Duration) {
		if f := faults[now]; f != nil {
			f(g)
		}
	}
	h.runTo(10*time.Second, each)
	e, err := h.c.Instruct(h.ctx, g.ID, api.Instruction{Request: api.Request{ChangeBy: ptr(95)}, Immediate: true, Actor: "alice"})
	if err != nil {
		t.Fatalf("Instruct: %v", err)
	}
	h.runTo(40*time.Second, each)
	return g, e
}

// effects returns the changes of e's nexus, in label order.
func effects(t *testing.T, h *harness, groupID string, e api.Event) []api.Change {
	t.Helper()
	e = eventByID(t, h, groupID, e.ID)
	var out []api.Change
	for _, c := range h.changes(groupID) {
		if c.NexusID != "" && c.NexusID == e.NexusID {
			out = append(out, c)
		}
	}
	return out
}

func eventByID(t *testing.T, h *harness, groupID, id string) api.Event {
	t.Helper()
	for _, e := range h.events(groupID) {
		if e.ID == id {
			return e
		}
	}
	t.Fatalf("no event %s", id)
	return api.Event{}
}

// describe reads a change as the tests compare it: type, amount,
// quantities, status, end (after t0) and parts (count@offset).
func describeLaunch(c api.Change) string {
	s := fmt.Sprintf("%s %d %d→%d %s", c.Type, c.Amount, c.QuantityBefore, c.QuantityAfter, c.Status)
	if c.EndedAt != nil {
		s += fmt.Sprintf(" ended +%s", c.EndedAt.Sub(t0))
	}
	if len(c.Parts) > 0 {
		var ps []string
		for _, p := range c.Parts {
			ps = append(ps, fmt.Sprintf("%d@+%s", p.Amount, p.ReadyAt.Sub(t0)))
		}
		s += " parts " + strings.Join(ps, ",")
	}
	return s
}

// TestLaunchWindowOneChange: an immediate +95 whose nodes become ready
// over 3 seconds, within the launch window, is one change with its three
// parts, directly caused by the instruction, and its explanation says
// how its nodes arrived. The same launch with the window off is three
// changes, one per arrival, as seed 000 records them.
func TestLaunchWindowOneChange(t *testing.T) {
	boots := bootTimes(40, "2s", 30, "3s", 25, "4s") // ready at +12s, +13s, +14s
	tests := []struct {
		name   string
		window time.Duration
		want   []string
	}{
		{"window 3s", 3 * time.Second, []string{
			"add_nodes 95 5→100 completed ended +14s parts 40@+12s,30@+13s,25@+14s",
		}},
		{"window off", 0, []string{
			"add_nodes 40 5→45 completed ended +12s",
			"add_nodes 30 45→75 completed ended +13s",
			"add_nodes 25 75→100 completed ended +14s",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := launchHarness(t, tt.window)
			g, e := launch95(t, h, boots, nil)
			var got []string
			for _, c := range effects(t, h, g.ID, e) {
				got = append(got, describeLaunch(c))
				if c.Attribution != api.AttributionDirect || c.StartedAt.Sub(t0) != 10*time.Second || len(c.NodeIDs) != c.Amount {
					t.Errorf("%s: attribution %s, started +%s, %d node ids; want direct, +10s, %d",
						c.Label, c.Attribution, c.StartedAt.Sub(t0), len(c.NodeIDs), c.Amount)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("changes of the +95:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if tt.window == 0 {
				return
			}
			c := effects(t, h, g.ID, e)[0]
			d, err := h.hist().ExplainChange(h.ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("Change %s (add 95 nodes, 5 → 100) at 10:00:10 was directly caused by event %s: user alice asked for +95 at once. "+
				"Its 95 nodes became ready in 3 parts: 40 at 10:00:12, 30 at 10:00:13 and 25 at 10:00:14.", c.Label, e.Label)
			if d.Explanation != want {
				t.Errorf("explanation:\n%s\nwant\n%s", d.Explanation, want)
			}
		})
	}
}

// TestLaunchWindowSplitsFarApart: nodes of one launch that become ready
// after the window still make another change of the same nexus, the
// window closes on its own when nothing else happens in the pass that
// reaches it, and a restart inside the window changes nothing.
func TestLaunchWindowSplitsFarApart(t *testing.T) {
	boots := bootTimes(40, "2s", 30, "3s", 25, "20s") // ready at +12s, +13s, +30s
	for _, crashAt := range []time.Duration{0, 13 * time.Second, 14 * time.Second, 15 * time.Second} {
		t.Run(fmt.Sprintf("restart at +%s", crashAt), func(t *testing.T) {
			h := launchHarness(t, 3*time.Second)
			var during []string
			faults := map[time.Duration]func(api.Group){
				// The window of the first arrival closes at +15s: the
				// change ends by then though no node changed since +13s.
				16 * time.Second: func(g api.Group) {
					for _, c := range h.changes(g.ID) {
						during = append(during, c.Label+" "+c.Status)
					}
				},
			}
			if crashAt > 0 {
				faults[crashAt] = func(api.Group) { h.crash() }
			}
			g, e := launch95(t, h, boots, faults)
			var got []string
			for _, c := range effects(t, h, g.ID, e) {
				got = append(got, describeLaunch(c))
			}
			want := []string{
				"add_nodes 70 5→75 completed ended +13s parts 40@+12s,30@+13s",
				"add_nodes 25 75→100 completed ended +30s",
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("changes of the +95:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if n := h.simNodes(g.ID); n[api.NodeReady] != 100 || n["total"] != 100 {
				t.Errorf("sim nodes %v, want 100 ready and no other", n)
			}
			// C1 is the group's first launch; C2 ended in the window's
			// last pass, C3 carries the 25 still booting.
			if wantDuring := "C1 completed,C2 completed,C3 in_progress"; strings.Join(during, ",") != wantDuring {
				t.Errorf("changes at +16s: %v, want %s", during, wantDuring)
			}
		})
	}
}

// TestLaunchWindowNodeLostInside: a node lost while its launch window is
// open ends the window first, so the launch adds the nodes that arrived
// before the loss takes one away, and every quantity follows on from the
// one before.
func TestLaunchWindowNodeLostInside(t *testing.T) {
	h := launchHarness(t, 3*time.Second)
	g := h.createGroup(api.GroupConfig{
		Name: "web", DesiredQuantity: 2, MaxQuantity: 20, AggregationPeriod: "1h",
		Sim: &api.SimConfig{BootTime: "1s", BootTimes: bootTimes(2, "1s", 2, "2s", 1, "6s")},
	})
	h.runTo(10*time.Second, nil)
	if _, err := h.c.Instruct(h.ctx, g.ID, api.Instruction{Request: api.Request{ChangeBy: ptr(3)}, Immediate: true}); err != nil {
		t.Fatal(err)
	}
	h.runTo(13*time.Second, func(now time.Duration) {
		if now != 13*time.Second {
			return
		}
		// One of the two nodes of the launch ready since +12s.
		for _, n := range h.nodes(g.ID, api.NodeReady) {
			if n.LaunchedAt.Sub(t0) == 10*time.Second {
				if err := h.c.FailNode(h.ctx, g.ID, n.ID); err != nil {
					t.Fatal(err)
				}
				return
			}
		}
		t.Fatal("no ready node of the launch at +13s")
	})
	h.runTo(20*time.Second, nil)
	var got []string
	for _, c := range h.changes(g.ID) {
		got = append(got, c.Label+" "+describeLaunch(c))
	}
	want := []string{
		"C1 add_nodes 2 0→2 completed ended +1s",
		"C2 add_nodes 2 2→4 completed ended +12s", // the launch, up to the loss
		"C3 add_nodes 1 4→5 completed ended +16s", // its last node, later
		"C4 node_lost 1 4→3 completed ended +13s",
		"C5 add_nodes 1 3→4 completed ended +14s", // the replacement
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("changes:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestLaunchWindowTimer: with no pass, the close of a launch window
// pushes its group, so the change of the nodes that arrived ends on time
// while the launch's last node still boots; the periods' timers still
// end them afterwards.
func TestLaunchWindowTimer(t *testing.T) {
	h := launchHarness(t, 3*time.Second)
	g := h.createGroup(api.GroupConfig{Name: "web", DesiredQuantity: 3, MaxQuantity: 5, AggregationPeriod: "1m",
		Sim: &api.SimConfig{BootTime: "1s", BootTimes: bootTimes(1, "1s", 1, "2s", 1, "30s")}})
	for range 3 { // the first two ready at +1s and +2s, pushed by their boots
		h.clk.Advance(time.Second)
		h.react()
	}
	if cs := h.changes(g.ID); len(cs) != 1 || cs[0].Status != api.ChangeInProgress {
		t.Fatalf("changes at +3s: %v, want C1 in progress (its window closes at +4s)", changeLabels(cs))
	}
	h.clk.Advance(time.Second)
	h.react() // what the window's timer pushed at +4s
	var got []string
	for _, c := range h.changes(g.ID) {
		got = append(got, c.Label+" "+describeLaunch(c))
	}
	want := "C1 add_nodes 2 0→2 completed ended +2s parts 1@+1s,1@+2s\nC2 add_nodes 1 2→3 in_progress"
	if strings.Join(got, "\n") != want {
		t.Errorf("changes once the window closed:\n%s\nwant\n%s", strings.Join(got, "\n"), want)
	}
	h.clk.Advance(56 * time.Second)
	h.react()
	if ps := h.periods(g.ID); len(ps) != 2 {
		t.Errorf("%d periods after +60s, want H1 harmonized by its timer and H2 open", len(ps))
	}
}
