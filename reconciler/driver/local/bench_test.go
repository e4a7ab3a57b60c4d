package local_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/local"
)

// BenchmarkLocalNodes launches 20 real processes, waits until all are
// ready (process check every 10ms), and terminates them. It reports the
// cost of one Launch, the time until the 20 are ready, and one Terminate.
func BenchmarkLocalNodes(b *testing.B) {
	const nodes = 20
	ctx := context.Background()
	var launch, ready, term time.Duration
	for b.Loop() {
		d, err := local.New(b.TempDir(), local.WithProbeInterval(10*time.Millisecond))
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for i := range nodes {
			spec := driver.NodeSpec{GroupID: "g", NodeID: "n" + strconv.Itoa(i), Index: i,
				Program: api.Program{Command: "sleep", Args: []string{"300"}}}
			if _, err := d.Launch(ctx, spec); err != nil {
				b.Fatal(err)
			}
		}
		launch += time.Since(start)
		deadline := time.Now().Add(30 * time.Second)
		for {
			obs, err := d.Observe(ctx, "g")
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for _, o := range obs {
				if o.State == api.NodeReady {
					n++
				}
			}
			if n == nodes {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("%d of %d nodes ready after 30s", n, nodes)
			}
			time.Sleep(time.Millisecond)
		}
		ready += time.Since(start)
		start = time.Now()
		for i := range nodes {
			if err := d.Terminate(ctx, "g", "n"+strconv.Itoa(i), 5*time.Second); err != nil {
				b.Fatal(err)
			}
		}
		term += time.Since(start)
		d.Close()
	}
	n := float64(b.N)
	b.ReportMetric(float64(launch.Microseconds())/n/nodes/1000, "ms/launch")
	b.ReportMetric(float64(ready.Milliseconds())/n, "ms-all-20-ready")
	b.ReportMetric(float64(term.Microseconds())/n/nodes/1000, "ms/terminate")
}
