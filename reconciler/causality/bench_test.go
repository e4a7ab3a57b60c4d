package causality

import "testing"

// BenchmarkExplainChange measures the seed's C7 explanation, the answer
// behind every row of the pes_capacity_changes data source.
func BenchmarkExplainChange(b *testing.B) {
	var t testing.T
	s := newSeed(&t)
	c, causes, p := s.changes["C7"], s.causes["C7"], s.periods["H2"]
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		ExplainChange(c, causes, p, s.records)
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "explanations/s")
}
