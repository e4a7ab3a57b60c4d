package controller

import (
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// TestStats: Stats tells groups by status, nodes by state, each group's
// quantities (until there are more groups than GroupGauges, then only the
// sums), what was recorded and how the passes went. The server's
// TestStatsExposition checks how /metrics renders them.
func TestStats(t *testing.T) {
	tests := []struct {
		name     string
		gauges   int
		perGroup bool
	}{
		{"per group", 0, true},
		{"more groups than GroupGauges", 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.opts.GroupGauges = tt.gauges
			h.crash() // a controller with the option
			web := h.createGroup(api.GroupConfig{Name: "web", DesiredQuantity: 3, Sim: &api.SimConfig{BootTime: "2s"}})
			batch := h.createGroup(api.GroupConfig{Name: "batch", DesiredQuantity: 2, Sim: &api.SimConfig{BootTime: "10s"}})
			gone := h.createGroup(api.GroupConfig{Name: "gone", DesiredQuantity: 1, Sim: &api.SimConfig{BootTime: "10s"}})
			h.runTo(3*time.Second, nil)
			h.drv.terminateLost = 1 // so the deleted group keeps a node terminating
			if err := h.c.DeleteGroup(h.ctx, gone.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := h.c.Instruct(h.ctx, web.ID, api.Instruction{Request: api.Request{ChangeBy: ptr(1)}, Immediate: true}); err != nil {
				t.Fatal(err)
			}
			// Everything in the store was written by this controller.
			events, changes := 0, 0
			for _, g := range []string{web.ID, batch.ID, gone.ID} {
				events += len(h.events(g))
				changes += len(h.changes(g))
			}

			st, err := h.c.Stats(h.ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				name      string
				got, want int64
			}{
				{`groups{status="active"}`, int64(st.Groups[api.GroupActive]), 2},
				{`groups{status="deleted"}`, int64(st.Groups[api.GroupDeleted]), 1},
				{`nodes{state="ready"}`, int64(st.Nodes[api.NodeReady]), 3},         // web's 3
				{`nodes{state="launching"}`, int64(st.Nodes[api.NodeLaunching]), 3}, // batch's 2 and web's new one
				{`nodes{state="terminating"}`, int64(st.Nodes[api.NodeTerminating]), 1},
				{`nodes{state="unavailable"}`, int64(st.Nodes[api.NodeUnavailable]), 0},
				{`quantity{quantity="desired"}`, int64(st.Sum.Desired), 6},
				{`quantity{quantity="official"}`, int64(st.Sum.Official), 6},
				{`quantity{quantity="actual"}`, int64(st.Sum.Actual), 3},
				{"events written", st.EventsWritten, int64(events)},
				{"changes written", st.ChangesWritten, int64(changes)},
				{"passes", st.Passes, 3},
				{"pass errors", st.PassErrors, 0},
			} {
				if c.got != c.want {
					t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
				}
			}
			if _, ok := st.Nodes[api.NodeUnavailable]; !ok {
				t.Error(`no nodes{state="unavailable"}: every state has an entry, zero or not`)
			}
			perGroup := map[string]GroupQuantities{}
			for _, q := range st.Active {
				perGroup[q.Name] = q
			}
			if tt.perGroup {
				if q := perGroup["web"]; q.ID != web.ID || q.Desired != 4 || q.Actual != 3 {
					t.Errorf("web: %+v, want desired 4, actual 3", q)
				}
				if q := perGroup["batch"]; q.ID != batch.ID || q.Official != 2 {
					t.Errorf("batch: %+v, want official 2", q)
				}
				if st.Limited {
					t.Error("limited, want every group's quantities")
				}
			} else if !st.Limited {
				t.Error("not limited, want only the sums past GroupGauges")
			}
			if !tt.perGroup && len(st.Active) > 0 {
				t.Error("per-group quantities reported beyond GroupGauges")
			}
			if _, ok := perGroup["gone"]; ok {
				t.Error("the deleted group has quantities")
			}
			if t.Failed() {
				t.Logf("stats: %+v", st)
			}
		})
	}
}
