package store

import (
	"context"
	"errors"
	"sync"
)

// Watched is a Store that remembers whether its last write failed
// because the store could not write (ErrUnavailable), for a readiness
// check. It clears by itself at the next write that succeeds: the
// reconcile loop retries what it could not write at every pass.
type Watched struct {
	Store
	mu    sync.Mutex
	cause string // of the last failed write; "" when the last write succeeded
}

// Watch wraps s.
func Watch(s Store) *Watched { return &Watched{Store: s} }

// Update runs fn as s does, and notes whether the store could write.
func (w *Watched) Update(ctx context.Context, fn func(tx Tx) error) error {
	err := w.Store.Update(ctx, fn)
	var ue *UnavailableError
	switch {
	case err == nil:
		w.set("")
	case errors.As(err, &ue):
		w.set(ue.Cause)
	case errors.Is(err, ErrUnavailable):
		w.set(ErrUnavailable.Error())
	}
	return err
}

func (w *Watched) set(cause string) {
	w.mu.Lock()
	w.cause = cause
	w.mu.Unlock()
}

// Writable says whether the store can write, and if not, why. While
// the last write failed it tries an empty transaction, which takes the
// write lock (SQLite) or a connection (PostgreSQL): so a lock released
// or a database back is seen at once, without waiting for a real write.
// A full disk passes that probe; the next real write tells again.
func (w *Watched) Writable(ctx context.Context) (bool, string) {
	w.mu.Lock()
	cause := w.cause
	w.mu.Unlock()
	if cause == "" {
		return true, ""
	}
	if err := w.Update(ctx, func(Tx) error { return nil }); err == nil {
		return true, ""
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cause == "", w.cause
}
