package window

import (
	"fmt"
	"testing"
)

func TestSeriesInsertOrder(t *testing.T) {
	tests := []struct {
		name string
		in   [][2]int64 // time, value
		want string
	}{
		{"in order", [][2]int64{{1, 1}, {2, 2}, {3, 3}}, "[1 2 3]"},
		{"late sample", [][2]int64{{1, 1}, {3, 3}, {2, 2}}, "[1 2 3]"},
		{"before all", [][2]int64{{5, 5}, {6, 6}, {1, 1}}, "[1 5 6]"},
		{"equal times keep arrival order", [][2]int64{{1, 10}, {2, 20}, {1, 11}, {2, 21}}, "[10 11 20 21]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s series
			for _, p := range tt.in {
				s.insert(p[0], float64(p[1]))
			}
			if got := fmt.Sprint(s.vs[s.start:]); got != tt.want {
				t.Errorf("values = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestSeriesTrimReclaimsMemory(t *testing.T) {
	// A steady stream with a short retention must not grow without bound:
	// the dead prefix is reclaimed.
	var s series
	const keep = 100
	maxCap := 0
	for i := range int64(100_000) {
		s.insert(i, float64(i))
		s.trim(i - keep)
		maxCap = max(maxCap, cap(s.ts))
		if s.len() != int(min(i+1, keep)) {
			t.Fatalf("at %d: %d live samples, want %d", i, s.len(), min(i+1, keep))
		}
	}
	if maxCap > 4*keep {
		t.Errorf("capacity reached %d for %d live samples", maxCap, keep)
	}
	if s.ts[s.start] != 100_000-keep {
		t.Errorf("oldest kept = %d", s.ts[s.start])
	}
	// Trimming everything leaves an empty series that still works.
	s.trim(1 << 62)
	if s.len() != 0 {
		t.Fatalf("len = %d after trimming all", s.len())
	}
	s.insert(5, 5)
	if i, j := s.window(0, 10); j-i != 1 {
		t.Errorf("window after refill has %d samples", j-i)
	}
}

func TestUpperBound(t *testing.T) {
	ts := []int64{1, 3, 3, 5}
	for _, tt := range []struct{ t, want int64 }{{0, 0}, {1, 1}, {2, 1}, {3, 3}, {4, 3}, {5, 4}, {9, 4}} {
		if got := upperBound(ts, tt.t); int64(got) != tt.want {
			t.Errorf("upperBound(%d) = %d, want %d", tt.t, got, tt.want)
		}
	}
	if upperBound(nil, 3) != 0 {
		t.Error("upperBound(nil)")
	}
}
