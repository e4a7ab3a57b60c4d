package trigger_test

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
	"github.com/pes-project/terraform-provider-pes/reconciler/trigger"
	"github.com/pes-project/terraform-provider-pes/reconciler/window"
)

const (
	benchGroups  = 10_000
	benchSamples = 1_000 // per metric, all inside the 2m windows
)

// benchSetup builds 10,000 groups with three triggers each, over three
// metrics of 1,000 samples each in the window.
func benchSetup(b *testing.B) (*trigger.Evaluator, *window.Store, []string, time.Time) {
	b.Helper()
	now := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	clk := clock.NewFake(now)
	store := window.New(clk, window.Options{})
	ev := trigger.NewEvaluator()
	conds := []string{
		"avg(cpu_utilization, '2m') > 80",
		"percentile(latency_ms, 95, '2m') > 250",
		"rate(queue_depth, '2m') > 5 and last(queue_depth) > 100",
	}
	step := 2 * time.Minute / benchSamples
	ids := make([]string, benchGroups)
	samples := make([]window.Sample, 0, 3*benchSamples)
	for g := range benchGroups {
		id := fmt.Sprintf("g%05d", g)
		ids[g] = id
		samples = samples[:0]
		for i := range benchSamples {
			t := now.Add(-time.Duration(benchSamples-1-i) * step)
			x := float64((g*7 + i*13) % 100)
			samples = append(samples,
				window.Sample{Name: "cpu_utilization", Value: x, Time: t},
				window.Sample{Name: "latency_ms", Value: 3 * x, Time: t},
				window.Sample{Name: "queue_depth", Value: float64(i) / 10, Time: t},
			)
		}
		store.Add(id, samples...)
		for k, c := range conds {
			err := ev.Set(api.Trigger{ID: fmt.Sprintf("%s-t%d", id, k), GroupID: id, Condition: c, Enabled: true}, now)
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	return ev, store, ids, now
}

// BenchmarkEvaluate10kGroups is one evaluation pass over 10,000 groups,
// one goroutine.
func BenchmarkEvaluate10kGroups(b *testing.B) {
	ev, store, ids, now := benchSetup(b)
	fired := 0
	var cpu time.Duration
	for n := 0; b.Loop(); n++ {
		if n == 0 {
			cpu = processCPU()
		}
		period := fmt.Sprintf("p%d", n) // a new period each pass, so triggers fire
		for _, id := range ids {
			fired += len(ev.Evaluate(now, id, period, store.Group(id)))
		}
	}
	reportPass(b, cpu)
	b.ReportMetric(float64(fired)/float64(b.N), "outcomes/pass")
}

// BenchmarkEvaluate10kGroupsParallel is the same pass split over
// GOMAXPROCS goroutines, as the controller may run it.
func BenchmarkEvaluate10kGroupsParallel(b *testing.B) {
	ev, store, ids, now := benchSetup(b)
	workers := runtime.GOMAXPROCS(0)
	var cpu time.Duration
	for n := 0; b.Loop(); n++ {
		if n == 0 {
			cpu = processCPU()
		}
		period := fmt.Sprintf("p%d", n)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := w; i < len(ids); i += workers {
					ev.Evaluate(now, ids[i], period, store.Group(ids[i]))
				}
			})
		}
		wg.Wait()
	}
	reportPass(b, cpu)
	b.ReportMetric(float64(workers), "workers")
}

// reportPass reports wall time per pass and, where the OS tells, CPU time
// per pass (all threads, GC included): on a shared machine the wall time
// also counts waiting for a core.
func reportPass(b *testing.B, cpuStart time.Duration) {
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/pass")
	if end := processCPU(); cpuStart >= 0 && end >= 0 {
		b.ReportMetric(float64((end-cpuStart).Microseconds())/1e3/float64(b.N), "cpu-ms/pass")
	}
}
