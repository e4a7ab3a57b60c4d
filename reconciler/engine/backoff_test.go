package engine

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	for _, tt := range []struct {
		failures int
		want     time.Duration
	}{
		{-1, 0}, {0, 0}, {1, 0}, {2, time.Second}, {3, 2 * time.Second}, {4, 4 * time.Second}, {5, 8 * time.Second},
		{10, 256 * time.Second}, {11, 5 * time.Minute}, {12, 5 * time.Minute}, {1000, 5 * time.Minute},
	} {
		if got := Backoff(tt.failures); got != tt.want {
			t.Errorf("Backoff(%d) = %v, want %v", tt.failures, got, tt.want)
		}
	}
}

func TestCrashLoop(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var c CrashLoop
	if c.Hold(t0) || c.Degraded() || !c.NextLaunch().IsZero() {
		t.Fatalf("no failure: %+v holds or is degraded", c)
	}
	tests := []struct {
		at       time.Duration // of the failure
		next     time.Duration // NextLaunch
		degraded bool
	}{
		{0, 0, false}, // replaced at once
		{0, time.Second, false},
		{2 * time.Second, 4 * time.Second, false},
		{5 * time.Second, 9 * time.Second, false},
		{10 * time.Second, 18 * time.Second, true},
	}
	for i, tt := range tests {
		c = c.Fail(t0.Add(tt.at), "process exited with status 3")
		if c.Failures != i+1 {
			t.Fatalf("failures %d, want %d", c.Failures, i+1)
		}
		next := t0.Add(tt.next)
		if !c.NextLaunch().Equal(next) {
			t.Errorf("failure %d: next launch +%v, want +%v", i+1, c.NextLaunch().Sub(t0), tt.next)
		}
		if tt.next == tt.at {
			if c.Hold(next) {
				t.Errorf("failure %d holds; want the first replaced at once", i+1)
			}
		} else if !c.Hold(next.Add(-time.Millisecond)) || c.Hold(next) {
			t.Errorf("failure %d: Hold is not true just before +%v and false from it", i+1, tt.next)
		}
		if c.Degraded() != tt.degraded {
			t.Errorf("failure %d: degraded %v, want %v", i+1, c.Degraded(), tt.degraded)
		}
	}
}

func TestFailedEarly(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		after time.Duration
		want  bool
	}{{0, true}, {9 * time.Second, true}, {10 * time.Second, false}, {time.Hour, false}} {
		if got := FailedEarly(t0, t0.Add(tt.after)); got != tt.want {
			t.Errorf("FailedEarly after %v = %v, want %v", tt.after, got, tt.want)
		}
	}
}
