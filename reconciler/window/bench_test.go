package window_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
	"github.com/pes-project/terraform-provider-pes/reconciler/window"
)

// BenchmarkAdd pushes samples in batches of 10 into 1,000 groups.
func BenchmarkAdd(b *testing.B) {
	clk := clock.NewFake(time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC))
	s := window.New(clk, window.Options{Retention: time.Minute})
	batch := make([]window.Sample, 10)
	for i := range batch {
		batch[i] = window.Sample{Name: fmt.Sprintf("m%d", i%3), Value: float64(i), NodeID: "n1"}
	}
	groups := make([]string, 1000)
	for i := range groups {
		groups[i] = fmt.Sprintf("g%d", i)
	}
	n := 0
	for b.Loop() {
		clk.Advance(time.Millisecond)
		s.Add(groups[n%len(groups)], batch...)
		n++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*len(batch)), "ns/sample")
}

// BenchmarkWindowLookup finds and reads a 2m window of 1,000 samples in a
// series holding an hour of them.
func BenchmarkWindowLookup(b *testing.B) {
	now := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	s := window.New(clock.NewFake(now), window.Options{})
	const perHour = 30_000 // one every 120ms: 1,000 in 2m
	step := time.Hour / perHour
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	samples := make([]window.Sample, perHour)
	for i := range samples {
		samples[i] = window.Sample{Name: "cpu", Value: float64(i % 100), Time: now.Add(-time.Duration(perHour-1-i) * step)}
	}
	s.Add("g", samples...)
	samples = nil
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	v := s.Group("g")
	from := now.Add(-2 * time.Minute)
	n := 0
	for b.Loop() {
		v.Scan("cpu", from, now, func(ts []int64, _ []float64) { n += len(ts) })
	}
	b.ReportMetric(float64(n)/float64(b.N), "samples/window")
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/perHour, "heap-bytes/sample")
}
