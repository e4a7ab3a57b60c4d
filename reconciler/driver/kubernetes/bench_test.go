package kubernetes_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/kubernetes"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/kubernetes/kubetest"
)

// readyCount is how many of the group's nodes are ready.
func readyCount(b *testing.B, d driver.Driver, g string) int {
	obs, err := d.Observe(context.Background(), g)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, o := range obs {
		if o.State == api.NodeReady {
			n++
		}
	}
	return n
}

// BenchmarkLaunch100Ready measures what a harmonization deciding +100
// costs on Kubernetes: 100 Launches (the controller's actuation) until
// the driver sees 100 pods Ready under KWOK.
func BenchmarkLaunch100Ready(b *testing.B) {
	c := kubetest.Shared(b)
	ns := c.NewNamespace(b)
	d, err := kubernetes.New(c.Config)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		g := newID(b)
		start := time.Now()
		for j := range 100 {
			if _, err := d.Launch(context.Background(), specIn(ns)(g, newID(b), j)); err != nil {
				b.Fatal(err)
			}
		}
		launched := time.Since(start)
		for readyCount(b, d, g) < 100 {
			if time.Since(start) > 5*time.Minute {
				b.Fatalf("%d of 100 pods ready after 5m", readyCount(b, d, g))
			}
			time.Sleep(10 * time.Millisecond)
		}
		el := time.Since(start)
		total += el
		b.Logf("+100 pods: all created in %s, all Ready in %s", launched.Round(time.Millisecond), el.Round(time.Millisecond))
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/100-ready")
}

// BenchmarkWatch5000Pods measures the memory a driver holds to watch
// 5,000 pods: the heap after adopting them, less the heap before.
func BenchmarkWatch5000Pods(b *testing.B) {
	c := kubetest.Shared(b)
	ns := c.NewNamespace(b)
	const pods = 5000
	creator, err := kubernetes.New(c.Config)
	if err != nil {
		b.Fatal(err)
	}
	g := newID(b)
	var specs []driver.AdoptSpec
	start := time.Now()
	for j := range pods {
		s := specIn(ns)(g, newID(b), j)
		h, err := creator.Launch(context.Background(), s)
		if err != nil {
			b.Fatal(err)
		}
		specs = append(specs, driver.AdoptSpec{NodeSpec: s, State: api.NodeLaunching, Handle: h})
	}
	creator.Close()
	b.Logf("%d pods created in %s", pods, time.Since(start).Round(time.Second))
	for i := 0; i < b.N; i++ {
		before := heap()
		d, err := kubernetes.New(c.Config)
		if err != nil {
			b.Fatal(err)
		}
		obs, err := d.Adopt(context.Background(), specs)
		if err != nil {
			b.Fatal(err)
		}
		if len(obs) != pods {
			b.Fatalf("adopted %d pods, want %d", len(obs), pods)
		}
		after := heap()
		runtime.KeepAlive(d)
		mib := float64(after-before) / (1 << 20)
		b.ReportMetric(mib, "MiB/5000-pods")
		b.Logf("heap to watch %d pods: %.1f MiB (%s per pod)", pods, mib, fmt.Sprintf("%.1f KiB", float64(after-before)/pods/1024))
		d.Close()
	}
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
