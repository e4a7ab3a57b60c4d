package controller

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/server"
)

// scrape reads /metrics of the API served over the harness's controller.
func scrape(t *testing.T, h *harness) string {
	t.Helper()
	srv := httptest.NewServer(server.New(h.c, "token", slog.New(slog.DiscardHandler)))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d, %v", resp.StatusCode, err)
	}
	return string(b)
}

// TestMetrics: /metrics tells groups by status, nodes by state, each
// group's quantities (until there are more groups than GroupGauges, then
// only the sums), what was recorded and how the passes went.
func TestMetrics(t *testing.T) {
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

			body := scrape(t, h)
			want := []string{
				`# TYPE pes_groups gauge`,
				`pes_groups{status="active"} 2`,
				`pes_groups{status="deleted"} 1`,
				`pes_nodes{state="ready"} 3`,     // web's 3
				`pes_nodes{state="launching"} 3`, // batch's 2 and web's new one
				`pes_nodes{state="terminating"} 1`,
				`pes_nodes{state="unavailable"} 0`,
				`pes_quantity{quantity="desired"} 6`,
				`pes_quantity{quantity="official"} 6`,
				`pes_quantity{quantity="actual"} 3`,
				`# TYPE pes_events_written_total counter`,
				fmt.Sprintf("pes_events_written_total %d", events),
				fmt.Sprintf("pes_changes_written_total %d", changes),
				`pes_reconcile_passes_total 3`,
				`pes_reconcile_pass_errors_total 0`,
				`# TYPE pes_reconcile_last_pass_seconds gauge`,
			}
			perGroup := []string{
				fmt.Sprintf(`pes_group_desired_quantity{group="web",group_id="%s"} 4`, web.ID),
				fmt.Sprintf(`pes_group_actual_quantity{group="web",group_id="%s"} 3`, web.ID),
				fmt.Sprintf(`pes_group_official_quantity{group="batch",group_id="%s"} 2`, batch.ID),
			}
			if tt.perGroup {
				want = append(want, perGroup...)
				want = append(want, "pes_group_gauges_limited 0")
			} else {
				want = append(want, "pes_group_gauges_limited 1")
			}
			for _, w := range want {
				if !strings.Contains(body, w+"\n") {
					t.Errorf("scrape lacks %q", w)
				}
			}
			if !tt.perGroup && strings.Contains(body, "pes_group_desired_quantity{") {
				t.Error("per-group gauges exported beyond GroupGauges")
			}
			if strings.Contains(body, `group="gone"`) {
				t.Error("the deleted group has quantity gauges")
			}
			if t.Failed() {
				t.Logf("scrape:\n%s", body)
			}
		})
	}
}
