package controller

import (
	"fmt"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
	"github.com/pes-project/terraform-provider-pes/reconciler/window"
)

const (
	benchGroups  = 10_000
	benchSamples = 1_000 // per metric inside each 2m window
)

// benchFixture writes benchGroups live sim groups of 2 ready nodes, each
// with 3 triggers, straight into the store (insertBenchGroups), then
// starts a controller on it, which loads and adopts them all, and fills each
// group's windows: 3 metrics of benchSamples samples in the 2m window,
// and more ahead of the clock so the windows stay full as passes advance
// it.
func benchFixture(b *testing.B, firing bool, batch int) (*harness, time.Duration) {
	b.Helper()
	h := newHarness(b)
	h.opts.BatchSize = batch
	conds := []string{
		"avg(cpu_utilization, '2m') > 80",
		"percentile(latency_ms, 95, '2m') > 1000",
		"rate(queue_depth, '2m') > 5 and last(queue_depth) > 100",
	}
	if firing {
		// Satisfied in every group: one firing per group per period.
		conds[1] = "percentile(latency_ms, 95, '2m') > 250"
	}
	insertBenchGroups(b, h, benchGroups, func(cfg *api.GroupConfig) { cfg.AggregationPeriod = "1s" }, conds)
	now := h.clk.Now()
	start := time.Now()
	h.crash() // a controller that loads the 10,000 groups
	startup := time.Since(start)

	// Samples from 2m before now to 1m after, so windows hold about
	// benchSamples samples for the first minute of passes.
	step := 2 * time.Minute / benchSamples
	samples := make([]window.Sample, 0, 3*benchSamples*3/2)
	for _, gs := range h.c.snapshot() {
		samples = samples[:0]
		for i := range benchSamples * 3 / 2 {
			t := now.Add(-2*time.Minute + time.Duration(i+1)*step)
			x := float64((i * 13) % 100)
			samples = append(samples,
				window.Sample{Name: "cpu_utilization", Value: x, Time: t},
				window.Sample{Name: "latency_ms", Value: 3 * x, Time: t},
				window.Sample{Name: "queue_depth", Value: float64(i) / 10, Time: t},
			)
		}
		h.c.windows.Add(gs.id, samples...)
	}
	return h, startup
}

// cpuTime is the user+system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTick10kGroups is one full pass (Tick: observe, evaluate, harmonize)
// over 10,000 sim groups with 3 triggers each and 1,000 samples per
// window, with the SQLite store in the loop. Every group's 1s period ends
// at every pass, so every pass closes and opens 10,000 periods.
//
//	quiet:  no trigger is satisfied; the writes are the harmonizations.
//	firing: one trigger per group fires each period: 10,000 more events.
//	batch:  groups written per transaction (1: a transaction per group).
func BenchmarkTick10kGroups(b *testing.B) {
	for _, bc := range []struct {
		name   string
		firing bool
		batch  int
	}{
		{"quiet/batch=500", false, 500},
		{"firing/batch=500", true, 500},
		{"quiet/batch=1", false, 1},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h, startup := benchFixture(b, bc.firing, bc.batch)
			groups := h.c.snapshot()
			runtime.GC() // the fixture's garbage is not the pass's
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			cpu0 := cpuTime()
			b.ResetTimer()
			for b.Loop() {
				h.clk.Advance(time.Second)
				if err := h.c.Tick(h.ctx); err != nil {
					b.Fatal(err)
				}
			}
			cpu := cpuTime() - cpu0
			runtime.ReadMemStats(&m1)
			n := float64(b.N)
			b.ReportMetric(float64(m1.NumGC-m0.NumGC)/n, "gc/pass")
			b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/(1<<20)/n, "alloc-MB/pass")
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / n }
			b.ReportMetric(ms(b.Elapsed()), "ms/pass")
			// CPU time of the process (all threads, GC and SQLite
			// included): the figure to read when other work shares
			// the machine.
			b.ReportMetric(ms(cpu), "cpu-ms/pass")
			b.ReportMetric(float64(startup.Milliseconds()), "startup-ms")
			if g := h.group(groups[0].id); g.CurrentPeriodLabel != fmt.Sprintf("H%d", b.N+1) {
				b.Errorf("group 0 is in %s after %d passes", g.CurrentPeriodLabel, b.N)
			}
		})
	}
}

// insertBenchGroups writes n live sim groups of 2 ready nodes, named
// bench-00000 on, each in its first period and with a trigger of each
// condition, straight into the store: creating them through the API would
// take longer than the benchmarks. edit adjusts each group's configuration
// before it is resolved.
func insertBenchGroups(b *testing.B, h *harness, n int, edit func(*api.GroupConfig), conds []string) {
	b.Helper()
	now := h.clk.Now()
	next := now.Add(time.Second)
	err := h.st.Update(h.ctx, func(tx store.Tx) error {
		for i := range n {
			cfg := api.GroupConfig{
				Name: benchGroupName(i), Driver: api.DriverSim, Program: api.Program{Command: "worker"},
				DesiredQuantity: 2, MaxQuantity: 10, Sim: &api.SimConfig{BootTime: "1s"},
			}
			edit(&cfg)
			if err := api.ResolveGroupConfig(&cfg); err != nil {
				return err
			}
			g := api.Group{ID: newID(), GroupConfig: cfg, OfficialQuantity: 2, ActualQuantity: 2,
				Status: api.GroupActive, CreatedAt: now, UpdatedAt: now, NextHarmonizationAt: &next}
			if err := tx.InsertGroup(g); err != nil {
				return err
			}
			p := api.Period{ID: newID(), Label: "H1", GroupID: g.ID, StartedAt: now, Policy: cfg.AggregationPolicy,
				DesiredBefore: 2, OfficialBefore: 2}
			if err := tx.InsertPeriod(p); err != nil {
				return err
			}
			g.CurrentPeriodID, g.CurrentPeriodLabel = p.ID, p.Label
			if err := tx.UpdateGroup(g); err != nil {
				return err
			}
			for k := range 2 {
				ready := now
				if err := tx.UpsertNode(api.Node{ID: newID(), GroupID: g.ID, Index: k, State: api.NodeReady,
					LaunchedAt: now, ReadyAt: &ready, Handle: map[string]string{"boot_time": "1s"}}); err != nil {
					return err
				}
			}
			for k, c := range conds {
				if err := tx.InsertTrigger(api.Trigger{ID: newID(), GroupID: g.ID, Name: fmt.Sprintf("t%d", k),
					Condition: c, Request: api.Request{SetTo: ptr(2)}, Priority: 50, Enabled: true,
					CreatedAt: now, UpdatedAt: now}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

func benchGroupName(i int) string { return fmt.Sprintf("bench-%05d", i) }

// BenchmarkInstruct8Groups is the controller and store share of an
// instruction POST, without HTTP: 8 writers, each instructing its own sim
// group as BenchmarkInstructionPOSTs's clients do, through group commit
// into a real SQLite file, 20,000 instructions an iteration.
// cpu-µs/instruction is the process's CPU (the writers and SQLite) per
// instruction.
func BenchmarkInstruct8Groups(b *testing.B) {
	const writers, each = 8, 2_500
	h := newHarness(b)
	ids := make([]string, writers)
	for i := range ids {
		ids[i] = h.createGroup(api.GroupConfig{Name: fmt.Sprintf("post-%d", i), DesiredQuantity: 1, MaxQuantity: 10}).ID
	}
	in := api.Instruction{Request: api.Request{ChangeBy: ptr(1)}, Reason: "bench", Priority: ptr(10)}
	var cpu, wall time.Duration
	for b.Loop() {
		cpu0, start := cpuTime(), time.Now()
		var wg sync.WaitGroup
		for k := range writers {
			wg.Go(func() {
				for range each {
					if _, err := h.c.Instruct(h.ctx, ids[k], in); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		cpu += cpuTime() - cpu0
		wall += time.Since(start)
	}
	n := float64(b.N * writers * each)
	b.ReportMetric(float64(cpu)/float64(time.Microsecond)/n, "cpu-µs/instruction")
	b.ReportMetric(n/wall.Seconds(), "instructions/s")
}
