package clock

import (
	"slices"
	"testing"
	"time"
)

func TestFakeAfterFunc(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := NewFake(t0)
	var fired []string
	f.AfterFunc(3*time.Second, func() { fired = append(fired, "3s") })
	f.AfterFunc(time.Second, func() {
		fired = append(fired, "1s")
		// A function may read the clock and set a timer of its own.
		if !f.Now().Equal(t0.Add(5 * time.Second)) {
			t.Errorf("inside the function the clock reads %v", f.Now())
		}
		f.AfterFunc(time.Second, func() { fired = append(fired, "1s+1s") })
	})
	stop := f.AfterFunc(2*time.Second, func() { fired = append(fired, "stopped") })
	if !stop() {
		t.Error("stop of a pending function reported false")
	}
	if stop() {
		t.Error("a second stop reported true")
	}
	f.Advance(500 * time.Millisecond)
	if len(fired) != 0 {
		t.Fatalf("fired %v before their time", fired)
	}
	f.Advance(4500 * time.Millisecond)
	if want := []string{"1s", "3s"}; !slices.Equal(fired, want) {
		t.Fatalf("after 5s fired %v, want %v in time order", fired, want)
	}
	f.Set(t0.Add(6 * time.Second))
	if want := []string{"1s", "3s", "1s+1s"}; !slices.Equal(fired, want) {
		t.Errorf("after Set fired %v, want %v", fired, want)
	}
}
