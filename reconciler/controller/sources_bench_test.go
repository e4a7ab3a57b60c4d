package controller

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/source/prometheus/promtest"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

const sourceBenchGroups = 1_000

// BenchmarkPrometheusSources1k is the evaluation pass of 1,000 sim groups,
// each with a Prometheus metric source and a trigger over it, against one
// real Prometheus (promtest) scraping a series per group, with pesd's
// 5s evaluation interval and pesd's query client and bounds. The clock
// follows real time: Prometheus answers for the time asked.
//
//	pass:       a full pass (Tick): the 1,000 queries, then evaluation
//	            and harmonization.
//	queries:    the queries alone (querySources), which the loop runs in
//	            the background.
//	evaluation: the pass after the answers are in: all the loop waits for.
//	store:      storing a minute's answers (12 passes of 1,000 samples),
//	            which the loop does off the pass once a minute.
//
// Each reports the wall time and the CPU time of the test process and of
// Prometheus, and the queries answered a second; the pass must fit well
// inside the interval, or the next one starts late.
func BenchmarkPrometheusSources1k(b *testing.B) {
	gauges := make(map[string]float64, sourceBenchGroups)
	for i := range sourceBenchGroups {
		gauges[fmt.Sprintf("pes_bench_rps{group=%q}", benchGroupName(i))] = float64(i)
	}
	prom := promtest.Start(b, gauges)
	waitScraped(b, prom, "count(pes_bench_rps)", sourceBenchGroups)

	h := newHarness(b)
	h.clk.Set(time.Now())
	h.opts.EvaluationInterval = DefaultEvaluationInterval
	h.opts.Sources.PrometheusURL = prom.URL
	insertBenchGroups(b, h, sourceBenchGroups, func(cfg *api.GroupConfig) {
		cfg.AggregationPeriod = "1m"
		cfg.MetricSources = []api.MetricSource{{Name: "rps", Prometheus: &api.PrometheusSource{
			Query: fmt.Sprintf(`sum(avg_over_time(pes_bench_rps{group=%q}[1m]))`, cfg.Name)}}}
	}, []string{"avg(rps, '1m') > 1e9"})
	h.crash() // a controller that loads the groups
	groups := h.c.snapshot()
	// A first pass opens the connections and the windows.
	h.clk.Set(time.Now())
	h.tick()

	const passes = 5 // per op: a single pass is at the mercy of the shared machine
	for _, bc := range []struct {
		name string
		run  func()
	}{
		{"pass", func() { h.tick() }},
		{"queries", func() { h.c.querySources(h.ctx, groups, h.clk.Now()) }},
		{"evaluation", func() {
			if err := h.c.pass(h.ctx, true); err != nil {
				b.Fatal(err)
			}
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			runtime.GC()
			q0, cpu0, pcpu0 := h.c.counts.queries.Load(), cpuTime(), prom.CPUTime()
			b.ResetTimer()
			for b.Loop() {
				for range passes {
					h.clk.Set(time.Now())
					bc.run()
				}
			}
			b.StopTimer()
			cpu, pcpu := cpuTime()-cpu0, prom.CPUTime()-pcpu0
			queries := h.c.counts.queries.Load() - q0
			n := float64(b.N * passes)
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / n }
			b.ReportMetric(ms(b.Elapsed()), "ms/pass")
			b.ReportMetric(ms(cpu), "cpu-ms/pass")
			b.ReportMetric(ms(pcpu), "prom-cpu-ms/pass")
			b.ReportMetric(float64(queries)/b.Elapsed().Seconds(), "queries/s")
			b.ReportMetric(100*b.Elapsed().Seconds()/n/DefaultEvaluationInterval.Seconds(), "%-of-interval")
			if want := int64(n) * sourceBenchGroups; bc.name != "evaluation" && queries != want {
				b.Errorf("%d queries, want %d", queries, want)
			}
			checkSourced(b, h, groups)
		})
	}

	b.Run("store", func(b *testing.B) {
		const minute = int(pulledFlushAfter / DefaultEvaluationInterval)
		// What the passes above left in memory is not this write's.
		if err := h.c.storePulled(h.ctx, time.Now(), true); err != nil {
			b.Fatal(err)
		}
		var cpu time.Duration
		stored0 := h.storedSamples(groups[0].id)
		b.ResetTimer()
		for range b.N {
			b.StopTimer()
			// The answers of a minute's passes, as querySources holds them.
			at := time.Now()
			for k := range minute {
				for i, gs := range groups {
					h.c.pulled.add(gs.id, []store.StoredSample{{Name: "rps", Value: float64(i),
						Time: at.Add(time.Duration(k) * DefaultEvaluationInterval)}}, at)
				}
			}
			runtime.GC()
			cpu0 := cpuTime()
			b.StartTimer()
			if err := h.c.storePulled(h.ctx, at, true); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			cpu += cpuTime() - cpu0
			b.StartTimer()
		}
		b.StopTimer()
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
		b.ReportMetric(ms(b.Elapsed()), "ms/write")
		b.ReportMetric(ms(cpu), "cpu-ms/write")
		b.ReportMetric(ms(cpu)/float64(minute), "cpu-ms/pass")
		if got, want := h.storedSamples(groups[0].id)-stored0, b.N*minute; got < want {
			b.Errorf("%d samples of the first group stored, want at least %d", got, want)
		}
	})
}

// storedSamples counts the group's stored samples.
func (h *harness) storedSamples(groupID string) int {
	h.t.Helper()
	ss, err := h.st.Samples(h.ctx, groupID, time.Time{})
	if err != nil {
		h.t.Fatal(err)
	}
	return len(ss)
}

// checkSourced fails b unless every group's last query answered, with
// its own series' value.
func checkSourced(b *testing.B, h *harness, groups []*groupState) {
	b.Helper()
	for _, gs := range groups {
		gs.mu.Lock()
		failures, name := gs.sourceFailures, gs.st.group.Name
		gs.mu.Unlock()
		for m, f := range failures {
			b.Fatalf("%s: the query for %s failed: %v", name, m, f.err)
		}
		var i int
		fmt.Sscanf(name, "bench-%d", &i)
		if v, ok := h.c.windows.Group(gs.id).Last("rps", h.clk.Now()); !ok || v != float64(i) {
			b.Fatalf("%s: rps %v (%v), want %d", name, v, ok, i)
		}
	}
}
