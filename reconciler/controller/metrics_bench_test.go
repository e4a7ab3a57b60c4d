package controller

import (
	"fmt"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/server"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// BenchmarkMetricsScrape measures GET /metrics over 10,000 live groups of
// 2 ready nodes (so only the sums are exported, past GroupGauges) and over
// 1,000 (each with its three series).
func BenchmarkMetricsScrape(b *testing.B) {
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
			srv := server.New(h.c, "token", slog.New(slog.DiscardHandler))
			var size int
			b.ResetTimer()
			start := time.Now()
			for b.Loop() {
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
				if rec.Code != 200 {
					b.Fatalf("status %d", rec.Code)
				}
				size = rec.Body.Len()
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/scrape")
			b.ReportMetric(float64(size)/1024, "KiB/scrape")
		})
	}
}
