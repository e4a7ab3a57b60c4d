package controller

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// fakePrometheus answers /api/v1/query over real HTTP with the value the
// test sets, or fails as it says.
type fakePrometheus struct {
	mu      sync.Mutex
	value   float64
	down    bool // answer 503 with a Prometheus error body
	queries []string
}

func (f *fakePrometheus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, r.URL.Query().Get("query"))
	if f.down {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"status":"error","errorType":"unavailable","error":"storage is closed"}`)
		return
	}
	fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[%d,"%g"]}]}}`,
		time.Now().Unix(), f.value)
}

func (f *fakePrometheus) set(v float64, down bool) {
	f.mu.Lock()
	f.value, f.down = v, down
	f.mu.Unlock()
}

// TestPrometheusSource: a condition over a Prometheus-sourced metric
// fires with the query in its description; a failing query leaves it
// unsatisfied and is recorded once, with the error, until it answers
// again, which is recorded once too.
func TestPrometheusSource(t *testing.T) {
	prom := &fakePrometheus{value: 612}
	srv := httptest.NewServer(prom)
	defer srv.Close()
	h := newHarness(t)
	h.opts.Sources.PrometheusURL = srv.URL
	h.crash() // reopen with the option
	const query = "sum(rate(http_requests_total[1m]))"
	g := h.createGroup(api.GroupConfig{Name: "web", DesiredQuantity: 2, MaxQuantity: 10, AggregationPeriod: "30s",
		Sim:           &api.SimConfig{BootTime: "1s"},
		MetricSources: []api.MetricSource{{Name: "rps", Prometheus: &api.PrometheusSource{Query: query}}}})
	if _, err := h.c.CreateTrigger(h.ctx, g.ID, api.TriggerSpec{
		Name: ptr("busy"), Condition: ptr("last(rps) > 500"), Request: api.Request{ChangeBy: ptr(1)},
	}); err != nil {
		t.Fatal(err)
	}
	h.runTo(5*time.Second, nil)
	fired := eventsOfType(h.events(g.ID), api.EventTriggerFired)
	if len(fired) != 1 {
		t.Fatalf("%d firings, want 1", len(fired))
	}
	want := "rps 612 > 500 (prometheus: " + query + ")"
	if !strings.Contains(fired[0].Description, want) {
		t.Fatalf("firing %q, want it to say %q", fired[0].Description, want)
	}

	// Prometheus fails for 5 minutes: one metrics_missing with the error,
	// though the window still holds older values.
	prom.set(612, true)
	h.runTo(5*time.Minute, nil)
	prom.set(100, false)
	h.runTo(6*time.Minute, nil)
	var outage []api.Event
	for _, e := range h.events(g.ID) {
		if e.Type == api.EventMetricsMissing || e.Type == api.EventMetricsReturned {
			outage = append(outage, e)
		}
	}
	if len(outage) != 2 {
		t.Fatalf("%d missing/returned events over a 5m outage, want 2: %v", len(outage), labelsOf(outage))
	}
	miss, back := outage[0], outage[1]
	if miss.Type != api.EventMetricsMissing || miss.Time.Sub(t0) != 6*time.Second || miss.Status != api.EventIgnored ||
		!strings.Contains(miss.Reason, "prometheus query for rps ("+query+") failed: prometheus unavailable: storage is closed") {
		t.Errorf("%s at +%s: %s %q; want the failing query and its error at +6s", miss.Label, miss.Time.Sub(t0), miss.Type, miss.Reason)
	}
	if back.Type != api.EventMetricsReturned || back.Time.Sub(t0) != 5*time.Minute+time.Second ||
		back.Description != "trigger busy has data again (last(rps) = 100)" {
		t.Errorf("%s at +%s: %s %q; want data again at +5m01s", back.Label, back.Time.Sub(t0), back.Type, back.Description)
	}
	if n := len(eventsOfType(h.events(g.ID), api.EventTriggerFired)); n != 1 {
		t.Errorf("%d firings: the outage must not fire on old values", n)
	}
	prom.mu.Lock()
	n, q := len(prom.queries), prom.queries[0]
	prom.mu.Unlock()
	if n < 360 || q != query {
		t.Errorf("%d queries (first %q), want one a pass of %q", n, q, query)
	}
}

// TestPrometheusSourceNoURL: a source without an address on a pesd
// without --prometheus-url is an outage that says how to fix it.
func TestPrometheusSourceNoURL(t *testing.T) {
	h := newHarness(t)
	g := h.createGroup(api.GroupConfig{Name: "web", DesiredQuantity: 1, AggregationPeriod: "30s",
		MetricSources: []api.MetricSource{{Name: "rps", Prometheus: &api.PrometheusSource{Query: "up"}}}})
	if _, err := h.c.CreateTrigger(h.ctx, g.ID, api.TriggerSpec{
		Name: ptr("busy"), Condition: ptr("last(rps) > 500"), Request: api.Request{ChangeBy: ptr(1)},
	}); err != nil {
		t.Fatal(err)
	}
	h.runTo(3*time.Second, nil)
	miss := eventsOfType(h.events(g.ID), api.EventMetricsMissing)
	if len(miss) != 1 || !strings.Contains(miss[0].Reason, "without --prometheus-url") {
		t.Fatalf("events %v, want one metrics_missing naming --prometheus-url", miss)
	}
}
