package controller

import (
	"runtime"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// BenchmarkExecution10kJobs runs 10,000 one-item jobs on a sim group of
// 100 nodes (issue 14, acceptance 6): real SQLite, the sim driver on a
// fake clock, so the jobs take no real time and what is measured is
// pesd's own: splitting, scheduling, recording and observing each job.
// It reports the wall time per job (all of it pesd's: the jobs' own time
// is virtual) and the peak Go heap.
func BenchmarkExecution10kJobs(b *testing.B) {
	const jobs, nodes = 10_000, 100
	for range b.N {
		b.StopTimer()
		h := newHarness(b)
		g := h.createGroup(api.GroupConfig{Name: "bench", DesiredQuantity: nodes, MaxQuantity: nodes,
			Sim: &api.SimConfig{BootTime: "1s"}})
		h.runTo(2*time.Second, nil)
		in := api.ExecutionCreate{GroupID: g.ID, Input: api.ExecutionInput{Items: items(jobs)},
			Sim: &api.ExecutionSim{ItemDuration: "1s"}}
		if err := api.ValidateExecutionCreate(&in); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		var ms runtime.MemStats
		peak := uint64(0)
		sample := func() {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
		b.StartTimer()
		start := time.Now()
		x, err := h.c.CreateExecution(h.ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		created := time.Since(start)
		ticks := 0
		for ; ticks < 2*jobs/nodes+10; ticks++ {
			h.clk.Advance(time.Second)
			h.tick()
			b.StopTimer()
			sample()
			if s := h.c.ex.get(x.ID); s == nil {
				b.StartTimer()
				break
			}
			b.StartTimer()
		}
		elapsed := time.Since(start)
		b.StopTimer()
		done, err := h.hist().GetExecution(h.ctx, x.ID)
		if err != nil || done.Status != api.ExecutionCompleted || done.Counts[api.JobSucceeded] != jobs {
			b.Fatalf("after %d ticks: %s %v (%v)", ticks, done.Status, done.Counts, err)
		}
		b.ReportMetric(float64(elapsed.Microseconds())/jobs, "µs/job")
		// Of which: splitting the input and writing the jobs' input files
		// and rows, then the passes that start, observe and end the jobs.
		b.ReportMetric(float64(created.Microseconds())/jobs, "create-µs/job")
		b.ReportMetric(float64((elapsed-created).Microseconds())/jobs, "passes-µs/job")
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(ticks), "passes")
		b.StartTimer()
	}
}
