package controller

import (
	"fmt"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// BenchmarkStats measures the counts a /metrics scrape asks for, over
// 10,000 live groups of 2 ready nodes (so only the sums are reported,
// past GroupGauges) and over 1,000 (each with its quantities). The
// server's BenchmarkStatsScrape measures rendering them.
func BenchmarkStats(b *testing.B) {
	for _, groups := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("groups=%d", groups), func(b *testing.B) {
			h := newHarness(b)
			now := h.clk.Now()
			err := h.st.Update(h.ctx, func(tx store.Tx) error {
				for i := range groups {
					cfg := api.GroupConfig{Name: fmt.Sprintf("scrape-%05d", i), Driver: api.DriverSim,
						Program: api.Program{Command: "worker"}, DesiredQuantity: 2, MaxQuantity: 10}
					if err := api.ResolveGroupConfig(&cfg); err != nil {
						return err
					}
					g := api.Group{ID: newID(), GroupConfig: cfg, OfficialQuantity: 2, ActualQuantity: 2,
						Status: api.GroupActive, CreatedAt: now, UpdatedAt: now}
					if err := tx.InsertGroup(g); err != nil {
						return err
					}
					for k := range 2 {
						ready := now
						if err := tx.UpsertNode(api.Node{ID: newID(), GroupID: g.ID, Index: k, State: api.NodeReady,
							LaunchedAt: now, ReadyAt: &ready, Handle: map[string]string{"boot_time": "1s"}}); err != nil {
							return err
						}
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			h.crash() // a controller that loads them
			var groupsSeen int
			b.ResetTimer()
			start := time.Now()
			for b.Loop() {
				st, err := h.c.Stats(h.ctx)
				if err != nil {
					b.Fatal(err)
				}
				groupsSeen = st.Groups[api.GroupActive]
			}
			if groupsSeen != groups {
				b.Fatalf("%d active groups, want %d", groupsSeen, groups)
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/stats")
		})
	}
}
