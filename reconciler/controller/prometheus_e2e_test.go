package controller

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/source/prometheus"
	"github.com/pes-project/terraform-provider-pes/reconciler/source/prometheus/promtest"
)

// The tests on a real Prometheus run the controller on a clock that
// follows real time, because Prometheus scrapes in real time and answers
// for the time asked.

// realTimeUntil ticks the harness at real time every 100ms until done
// holds, for at most limit.
func (h *harness) realTimeUntil(limit time.Duration, what string, done func() bool) {
	h.t.Helper()
	h.realTimeEvery(100*time.Millisecond, limit, what, done)
}

// realTimeEvery is realTimeUntil ticking every step.
func (h *harness) realTimeEvery(step, limit time.Duration, what string, done func() bool) {
	h.t.Helper()
	end := time.Now().Add(limit)
	for {
		h.clk.Set(time.Now())
		h.tick()
		if done() {
			return
		}
		if time.Now().After(end) {
			h.t.Fatalf("not within %s: %s", limit, what)
		}
		time.Sleep(step)
	}
}

func realHarness(t *testing.T, promURL string) *harness {
	h := newHarness(t)
	h.clk.Set(time.Now())
	h.opts.Sources.PrometheusURL = promURL
	h.crash() // reopen with the option
	return h
}

// waitScraped waits until Prometheus answers query with want.
func waitScraped(t testing.TB, prom *promtest.Server, query string, want float64) {
	t.Helper()
	c := &prometheus.Client{}
	prom.WaitFor(context.Background(), func(ctx context.Context) (float64, error) {
		return c.Query(ctx, prom.URL, query, time.Time{})
	}, func(v float64) bool { return v == want })
}

func outageEvents(es []api.Event) (missing, returned []api.Event) {
	for _, e := range es {
		switch e.Type {
		case api.EventMetricsMissing:
			missing = append(missing, e)
		case api.EventMetricsReturned:
			returned = append(returned, e)
		}
	}
	return missing, returned
}

// TestRealPrometheusSource: a trigger over a Prometheus-sourced metric
// fires, and its event names the query and the value; Prometheus stopped
// is recorded once, ignored with the error; restarted, the data's return
// is recorded once.
func TestRealPrometheusSource(t *testing.T) {
	prom := promtest.Start(t, map[string]float64{"pes_test_rps": 612})
	const query = "sum(pes_test_rps)"
	waitScraped(t, prom, query, 612)
	h := realHarness(t, prom.URL)
	g := h.createGroup(api.GroupConfig{Name: "web", DesiredQuantity: 1, MaxQuantity: 10, AggregationPeriod: "1h",
		Sim:           &api.SimConfig{BootTime: "100ms"},
		MetricSources: []api.MetricSource{{Name: "rps", Prometheus: &api.PrometheusSource{Query: query}}}})
	if _, err := h.c.CreateTrigger(h.ctx, g.ID, api.TriggerSpec{
		Name: ptr("busy"), Condition: ptr("last(rps) > 500"), Request: api.Request{ChangeBy: ptr(1)},
	}); err != nil {
		t.Fatal(err)
	}
	h.realTimeUntil(10*time.Second, "a firing", func() bool { return len(eventsOfType(h.events(g.ID), api.EventTriggerFired)) > 0 })
	e := eventsOfType(h.events(g.ID), api.EventTriggerFired)[0]
	if want := "rps 612 > 500 (prometheus: " + query + ")"; !strings.Contains(e.Description, want) {
		t.Fatalf("firing %q, want it to say %q", e.Description, want)
	}

	prom.Stop()
	h.realTimeUntil(10*time.Second, "missing data recorded", func() bool {
		m, _ := outageEvents(h.events(g.ID))
		return len(m) > 0
	})
	stopped := time.Now()
	h.realTimeUntil(10*time.Second, "2s more passes", func() bool { return time.Since(stopped) > 2*time.Second })
	prom.Restart()
	h.realTimeUntil(30*time.Second, "data returned recorded", func() bool {
		_, r := outageEvents(h.events(g.ID))
		return len(r) > 0
	})
	back := time.Now()
	h.realTimeUntil(10*time.Second, "2s more passes", func() bool { return time.Since(back) > 2*time.Second })
	missing, returned := outageEvents(h.events(g.ID))
	if len(missing) != 1 || len(returned) != 1 {
		t.Fatalf("%d metrics_missing and %d metrics_returned over one outage, want 1 and 1", len(missing), len(returned))
	}
	m := missing[0]
	if m.Status != api.EventIgnored || !strings.Contains(m.Reason, "prometheus query for rps ("+query+") failed: ") ||
		!strings.Contains(m.Reason, "connection refused") {
		t.Errorf("%s: %s %q; want ignored with the query and the connection error", m.Label, m.Status, m.Reason)
	}
	if r := returned[0]; !strings.Contains(r.Description, "has data again (last(rps) = 612)") {
		t.Errorf("%s: %q", r.Label, r.Description)
	}
}

// TestRealPrometheusTarget: target tracking over a scraped metric scales
// 4 → 7 as the HPA formula says (ceil(4 × 105/60)), holds at the target,
// and scales back down to ceil(7 × 20/60) = 3 only after the stabilization
// window. Passes run every second, so a 1s window holds one value.
func TestRealPrometheusTarget(t *testing.T) {
	const gauge = "pes_test_cpu"
	prom := promtest.Start(t, map[string]float64{gauge: 105})
	const query = "avg(" + gauge + ")"
	waitScraped(t, prom, query, 105)
	h := realHarness(t, prom.URL)
	// The cooldown outlasts Prometheus's view of the old load after a
	// scale-out (a scrape a second).
	g := h.createGroup(api.GroupConfig{Name: "tracked", DesiredQuantity: 4, MaxQuantity: 20, AggregationPeriod: "2s",
		Cooldown: "3s", Sim: &api.SimConfig{BootTime: "100ms"},
		MetricSources: []api.MetricSource{{Name: "cpu", Prometheus: &api.PrometheusSource{Query: query}}}})
	h.realTimeUntil(10*time.Second, "4 nodes ready", func() bool { return len(h.nodes(g.ID, api.NodeReady)) == 4 })
	const stabilization = 6 * time.Second
	if _, err := h.c.CreateTrigger(h.ctx, g.ID, api.TriggerSpec{
		Name: ptr("cpu-target"),
		Request: api.Request{Target: &api.Target{Metric: "cpu", Value: 60, Window: "1s",
			ScaleInStabilization: stabilization.String()}},
	}); err != nil {
		t.Fatal(err)
	}
	h.realTimeEvery(time.Second, 20*time.Second, "desired 7", func() bool { return h.group(g.ID).DesiredQuantity == 7 })
	// The load spreads over 7 nodes: 60 each, the target.
	prom.Set(gauge, 60)
	fired := eventsOfType(h.events(g.ID), api.EventTriggerFired)
	out := fired[len(fired)-1]
	if *out.ProposedQuantity != 7 || !strings.Contains(out.Description, "target cpu 60: observed 105 over 4 ready → 7 (prometheus: "+query+")") {
		t.Fatalf("%s: %q, want 4 → 7 from 105 over 4 ready", out.Label, out.Description)
	}
	waitScraped(t, prom, query, 60)
	atTarget := time.Now()
	h.realTimeEvery(time.Second, 20*time.Second, "7 ready and 5s at the target", func() bool {
		return len(h.nodes(g.ID, api.NodeReady)) == 7 && time.Since(atTarget) > 5*time.Second
	})

	// The load falls to 20 a node: proposals of 3, held by the 7s made
	// within the last 6s.
	prom.Set(gauge, 20)
	dropped := time.Now()
	h.realTimeEvery(time.Second, 30*time.Second, "desired 3", func() bool { return h.group(g.ID).DesiredQuantity == 3 })
	var after []api.Event
	for _, e := range eventsOfType(h.events(g.ID), api.EventTriggerFired) {
		if e.Time.After(out.Time) && e.Status != api.EventSuppressed {
			after = append(after, e)
		}
	}
	if len(after) != 1 {
		for _, e := range h.events(g.ID) {
			t.Logf("%s %s %s %s", e.Label, e.PeriodLabel, e.Status, e.Description)
		}
		t.Fatalf("%d requests after the scale-out, want the one scale-in", len(after))
	}
	in := after[0]
	if *in.ProposedQuantity != 3 || !strings.Contains(in.Description, "observed 20 over 7 ready → 3") {
		t.Fatalf("%s: %q, want 7 → 3 from 20 over 7 ready", in.Label, in.Description)
	}
	if held := in.Time.Sub(dropped); held < stabilization {
		t.Fatalf("scale-in %s after the load fell, want at least the %s stabilization window", held, stabilization)
	}
}
