package controller

import (
	"context"
	"errors"
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

// stuckQuerier is a Prometheus that does not answer until released.
type stuckQuerier struct {
	asked   chan struct{} // closed at the first query
	release chan struct{}
	once    sync.Once
	value   float64
}

func (q *stuckQuerier) Query(context.Context, string, string, time.Time) (float64, error) {
	q.once.Do(func() { close(q.asked) })
	<-q.release
	return q.value, nil
}

func (q *stuckQuerier) QueryRange(context.Context, string, string, time.Time, time.Time, time.Duration) ([]time.Time, []float64, error) {
	return nil, nil, errors.New("stuckQuerier answers instant queries only")
}

// TestQueriesOffTheLoop: the loop runs the metric sources' queries in the
// background, so while they wait for Prometheus, a failed node is still
// replaced at once; once they answer, the evaluation uses the answer.
func TestQueriesOffTheLoop(t *testing.T) {
	h := newHarness(t)
	q := &stuckQuerier{asked: make(chan struct{}), release: make(chan struct{}), value: 612}
	h.opts.Sources = SourceOptions{PrometheusURL: "http://prometheus:9090", Client: q, QueryTimeout: time.Minute}
	h.opts.EvaluationInterval, h.opts.ObserveInterval = 50*time.Millisecond, 50*time.Millisecond
	h.crash() // reopen with the options
	g := h.createGroup(api.GroupConfig{Name: "web", DesiredQuantity: 2, MaxQuantity: 5, AggregationPeriod: "1h",
		Replacement: api.ReplacementImmediate, Sim: &api.SimConfig{BootTime: "1s"},
		MetricSources: []api.MetricSource{{Name: "rps", Prometheus: &api.PrometheusSource{Query: "sum(rps)"}}}})
	if _, err := h.c.CreateTrigger(h.ctx, g.ID, api.TriggerSpec{
		Name: ptr("busy"), Condition: ptr("last(rps) > 500"), Request: api.Request{ChangeBy: ptr(1)},
	}); err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(time.Second)
	h.react()
	ready := h.nodes(g.ID, api.NodeReady)
	if len(ready) != 2 {
		t.Fatalf("%d ready nodes, want 2", len(ready))
	}

	ctx, cancel := context.WithCancel(h.ctx)
	h.c.Start(ctx)
	var released sync.Once
	release := func() { released.Do(func() { close(q.release) }) }
	t.Cleanup(func() { release(); cancel(); h.c.Close() })
	select {
	case <-q.asked:
	case <-time.After(10 * time.Second):
		t.Fatal("no query within 10s of the loop's start")
	}
	if err := h.sim.Fail(h.ctx, g.ID, ready[0].ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the replacement launched while the query waits", func() bool {
		return len(h.nodes(g.ID, api.NodeLaunching)) == 1
	})
	if n := len(eventsOfType(h.events(g.ID), api.EventTriggerFired)); n != 0 {
		t.Fatalf("%d firings before Prometheus answered", n)
	}
	release()
	waitFor(t, 10*time.Second, "the firing on the answer", func() bool {
		return len(eventsOfType(h.events(g.ID), api.EventTriggerFired)) == 1
	})
}

// waitFor polls ok every 10ms until it holds, for at most limit.
func waitFor(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	end := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(end) {
			t.Fatalf("not within %s: %s", limit, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
