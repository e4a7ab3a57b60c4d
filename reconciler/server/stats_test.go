package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/controller"
)

// statsService is the recorder with the controller's counts.
type statsService struct {
	*recorder
	st controller.Stats
}

func (s statsService) Stats(context.Context) (controller.Stats, error) { return s.st, nil }

// scrape reads /metrics of a server whose Service reports st, with the
// token (a scraper configured with it sees the per-group series).
func scrape(t *testing.T, st controller.Stats) string {
	t.Helper()
	return scrapeAs(t, st, testToken)
}

func scrapeAs(t *testing.T, st controller.Stats, token string) string {
	t.Helper()
	rec := newRecorder()
	srv := httptest.NewServer(New(statsService{rec, st}, rec.reads(), testToken, nil, WithMetricsPublic()))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
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

// TestStatsExposition: /metrics renders the controller's counts (the
// controller's TestStats checks them): groups by status, nodes by state,
// each group's quantities (unless the controller reports only the sums),
// what was recorded and how the passes went, under the names, labels and
// help dashboards use.
func TestStatsExposition(t *testing.T) {
	const webID, batchID = "0190-web", "0190-batch"
	const events, changes = 17, 9
	tests := []struct {
		name     string
		perGroup bool
	}{
		{"per group", true},
		{"more groups than GroupGauges", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := controller.Stats{
				Groups: map[string]int{api.GroupActive: 2, api.GroupDeleted: 1},
				Nodes: map[string]int{api.NodeLaunching: 3, api.NodeReady: 3, api.NodeUnavailable: 0,
					api.NodeInitFailed: 0, api.NodeTerminating: 1},
				Sum:           controller.Quantities{Desired: 6, Official: 6, Actual: 3},
				EventsWritten: events, ChangesWritten: changes, Passes: 3, PassErrors: 0, FencedWrites: 2,
				LastPass: 40 * time.Millisecond,
			}
			if tt.perGroup {
				st.Active = []controller.GroupQuantities{
					{ID: batchID, Name: "batch", Quantities: controller.Quantities{Desired: 2, Official: 2, Actual: 0}},
					{ID: webID, Name: "web", Quantities: controller.Quantities{Desired: 4, Official: 4, Actual: 3}},
				}
			} else {
				st.Limited = true
			}

			body := scrape(t, st)
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
				`# TYPE pes_fenced_writes_total counter`,
				`pes_fenced_writes_total 2`,
				`# TYPE pes_reconcile_last_pass_seconds gauge`,
				`pes_reconcile_last_pass_seconds 0.04`,
				// The help dashboards show.
				`# HELP pes_groups Groups this pesd manages, by status (a deleted group stays until its nodes are gone).`,
				`# HELP pes_nodes Nodes not yet terminated, by state.`,
				`# HELP pes_quantity Sum over the active groups of each quantity (desired, official, actual).`,
				`# HELP pes_group_gauges_limited 1 when there are more active groups than per-group gauges are exported for (only the sums are).`,
				`# HELP pes_events_written_total Events recorded since pesd started.`,
				`# HELP pes_changes_written_total Capacity changes recorded since pesd started.`,
				`# HELP pes_reconcile_passes_total Reconcile passes since pesd started.`,
				`# HELP pes_reconcile_pass_errors_total Reconcile passes that ended with an error.`,
				`# HELP pes_reconcile_last_pass_seconds Wall time of the last reconcile pass (observe, evaluate, harmonize, record).`,
			}
			perGroup := []string{
				fmt.Sprintf(`pes_group_desired_quantity{group="web",group_id="%s"} 4`, webID),
				fmt.Sprintf(`pes_group_actual_quantity{group="web",group_id="%s"} 3`, webID),
				fmt.Sprintf(`pes_group_official_quantity{group="batch",group_id="%s"} 2`, batchID),
				`# HELP pes_group_desired_quantity The group's live desired quantity.`,
				`# HELP pes_group_official_quantity The group's quantity at its last harmonization or immediate change.`,
				`# HELP pes_group_actual_quantity The group's ready nodes.`,
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
			checkExposition(t, body)
			if t.Failed() {
				t.Logf("scrape:\n%s", body)
			}
		})
	}
}

// TestMetricsWithoutTokenNamesNoGroup: served public (--metrics-public),
// /metrics without the token (or with a wrong one) must not reveal which
// groups exist.
func TestMetricsWithoutTokenNamesNoGroup(t *testing.T) {
	const name, id = "secret-project", "0190-secret-id"
	st := controller.Stats{
		Groups: map[string]int{api.GroupActive: 1},
		Active: []controller.GroupQuantities{{ID: id, Name: name, Quantities: controller.Quantities{Desired: 3, Official: 3, Actual: 2}}},
		Sum:    controller.Quantities{Desired: 3, Official: 3, Actual: 2},
	}
	if text := scrape(t, st); !strings.Contains(text, name) {
		t.Fatalf("with the token /metrics lacks the group's series:\n%s", text)
	}
	for _, token := range []string{"", "wrong"} {
		text := scrapeAs(t, st, token)
		if strings.Contains(text, name) || strings.Contains(text, id) {
			t.Errorf("token %q: /metrics names the group:\n%s", token, text)
		}
		if !strings.Contains(text, `pes_quantity{quantity="desired"} 3`) {
			t.Errorf("token %q: /metrics lost the sums:\n%s", token, text)
		}
	}
}
