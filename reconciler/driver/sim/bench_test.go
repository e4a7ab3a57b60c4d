package sim_test

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/sim"
)

// BenchmarkSim100kNodes launches 100,000 nodes over 100 groups, lets them
// boot, and observes every group. It reports the heap the nodes hold and
// the time of the launches and of one full observation.
func BenchmarkSim100kNodes(b *testing.B) {
	const groups, perGroup = 100, 1000
	ctx := context.Background()
	cfg := &api.SimConfig{BootTime: "2s"}
	groupIDs := make([]string, groups)
	nodeIDs := make([]string, groups*perGroup)
	for i := range groupIDs {
		groupIDs[i] = "group-" + strconv.Itoa(i)
	}
	for i := range nodeIDs {
		nodeIDs[i] = "0190f5a2-7c1e-7000-8000-" + strconv.FormatInt(int64(100000000000+i), 10)
	}
	var launchTime, observeTime time.Duration
	var heap uint64
	for b.Loop() {
		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)

		clk := clock.NewFake(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
		d := sim.New(clk)
		start := time.Now()
		for i, n := range nodeIDs {
			g := groupIDs[i/perGroup]
			if _, err := d.Launch(ctx, driver.NodeSpec{GroupID: g, NodeID: n, Index: i % perGroup, Sim: cfg}); err != nil {
				b.Fatal(err)
			}
		}
		launchTime += time.Since(start)

		var after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap += after.HeapAlloc - before.HeapAlloc

		clk.Advance(2 * time.Second)
		start = time.Now()
		ready := 0
		for _, g := range groupIDs {
			obs, err := d.Observe(ctx, g)
			if err != nil {
				b.Fatal(err)
			}
			for _, o := range obs {
				if o.State == api.NodeReady {
					ready++
				}
			}
		}
		observeTime += time.Since(start)
		if ready != len(nodeIDs) {
			b.Fatalf("%d of %d nodes ready", ready, len(nodeIDs))
		}
		runtime.KeepAlive(d)
	}
	n := float64(b.N)
	b.ReportMetric(float64(launchTime.Milliseconds())/n, "ms-launch-100k")
	b.ReportMetric(float64(observeTime.Milliseconds())/n, "ms-observe-100k")
	b.ReportMetric(float64(heap)/n/(1<<20), "MiB-heap-100k")
	b.ReportMetric(float64(heap)/n/float64(len(nodeIDs)), "B/node")
}
