// Package clock is the time source every timing decision in pesd goes
// through, so scenario tests run on a fake clock in milliseconds.
package clock

import (
	"slices"
	"sync"
	"time"
)

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// Timer is a clock that can also call a function once time has passed on
// it, so what waits for time (a sim node's boot) waits on the same clock
// that stamps it. Real and Fake implement it.
type Timer interface {
	Clock
	// AfterFunc calls f in its own goroutine (Real) or in the goroutine
	// that moves the clock past d from now (Fake). stop cancels the call
	// and reports whether it did.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// Real is the wall clock, in UTC.
type Real struct{}

// Now returns the current UTC time.
func (Real) Now() time.Time { return time.Now().UTC() }

// AfterFunc is time.AfterFunc.
func (Real) AfterFunc(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }

// Fake is a manually advanced clock, safe for concurrent use.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	waiters map[*waiter]struct{}
}

type waiter struct {
	at time.Time
	f  func()
}

// NewFake returns a fake clock set to t.
func NewFake(t time.Time) *Fake { return &Fake{now: t.UTC()} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the fake time forward by d, then calls the functions
// whose time has come, in time order.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.fire()
}

// Set moves the fake time to t, then calls the functions whose time has
// come, in time order.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	f.now = t.UTC()
	f.fire()
}

// AfterFunc calls fn once Advance or Set moves the clock d or more past
// now; d ≤ 0 calls it at the next Advance or Set.
func (f *Fake) AfterFunc(d time.Duration, fn func()) func() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := &waiter{at: f.now.Add(d), f: fn}
	if f.waiters == nil {
		f.waiters = make(map[*waiter]struct{})
	}
	f.waiters[w] = struct{}{}
	return func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		_, ok := f.waiters[w]
		delete(f.waiters, w)
		return ok
	}
}

// fire unlocks f.mu and calls the due functions outside the lock, so they
// may read the clock or set new timers.
func (f *Fake) fire() {
	var due []*waiter
	for w := range f.waiters {
		if !w.at.After(f.now) {
			due = append(due, w)
			delete(f.waiters, w)
		}
	}
	f.mu.Unlock()
	slices.SortStableFunc(due, func(a, b *waiter) int { return a.at.Compare(b.at) })
	for _, w := range due {
		w.f()
	}
}
