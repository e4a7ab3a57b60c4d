package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// deferredCommits is how many updates a store with deferred commits
// keeps in one transaction at most: enough that a commit is rare, few
// enough that the transaction's dirty pages stay in the page cache.
const deferredCommits = 256

// deferred keeps a store's updates in one open transaction, each in a
// savepoint of its own, and commits them when the read pool is about to
// read (so a read sees every update that returned, as it would have),
// every deferredCommits updates, and on Close. For a throwaway store
// written by one process, such as a backtest's replay, where a commit
// per update is most of the work; never for a durable store, whose
// updates must be durable when they return.
type deferred struct {
	write sync.Mutex // held for a whole update: one at a time

	mu       sync.Mutex // the fields below
	tx       *sql.Tx    // open while updates are uncommitted
	pending  int        // updates that returned in tx
	updating bool       // an update's callback is running
	err      error      // a failed commit, answered to every later call
}

// DeferCommits makes the store keep its updates uncommitted until the read
// pool reads, every few hundred updates, or Close. An update that returned
// is then visible to every later read, but is not durable. A read on the
// pool while an update's callback runs, with earlier updates uncommitted,
// panics: it would not see them. Call it before the store is used.
func (s *Store) DeferCommits() {
	s.deferred = &deferred{}
	s.reader.q = detached{q: s.reader.q.(detached).q, flush: func() error { return s.deferred.flush(s.d) }}
}

func (s *Store) updateDeferred(ctx context.Context, fn func(tx store.Tx) error) (err error) {
	l := s.deferred
	l.write.Lock()
	defer l.write.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	if l.tx == nil {
		if l.tx, err = s.w.BeginTx(context.WithoutCancel(ctx), nil); err != nil {
			l.tx = nil
			return s.d.unavailable(fmt.Errorf("%s: begin: %w", s.d.Name, err))
		}
	}
	if _, err := l.tx.ExecContext(ctx, "SAVEPOINT deferred"); err != nil {
		return l.fail(s.d.unavailable(fmt.Errorf("%s: savepoint: %w", s.d.Name, err)))
	}
	done := false
	defer func() {
		if !done {
			// fn panicked: undo its writes, keep the others'.
			l.mu.Lock()
			_ = l.undo(ctx)
		}
	}()
	l.updating = true
	l.mu.Unlock()
	fnErr := fn(&tx{reader: reader{q: s.d.wrap(l.tx), d: s.d, sql: s.sql}, ctx: ctx})
	l.mu.Lock()
	l.updating = false
	done = true
	if fnErr != nil {
		if err := l.undo(ctx); err != nil {
			return s.d.unavailable(errors.Join(fnErr, fmt.Errorf("%s: rollback: %w", s.d.Name, err)))
		}
		return s.d.unavailable(fnErr)
	}
	if _, err := l.tx.ExecContext(ctx, "RELEASE deferred"); err != nil {
		return l.fail(s.d.unavailable(fmt.Errorf("%s: release: %w", s.d.Name, err)))
	}
	l.pending++
	if l.pending >= deferredCommits {
		return s.d.unavailable(l.commit(s.d))
	}
	return nil
}

// undo rolls back the running update's savepoint; l.mu is held.
func (l *deferred) undo(ctx context.Context) error {
	l.updating = false
	if _, err := l.tx.ExecContext(context.WithoutCancel(ctx), "ROLLBACK TO deferred"); err != nil {
		return l.fail(err)
	}
	if _, err := l.tx.ExecContext(context.WithoutCancel(ctx), "RELEASE deferred"); err != nil {
		return l.fail(err)
	}
	return nil
}

// fail ends the transaction; the updates in it are lost, so every later
// call fails with err. l.mu is held.
func (l *deferred) fail(err error) error {
	if l.tx != nil {
		_ = l.tx.Rollback()
		l.tx = nil
	}
	l.err = err
	return err
}

// commit commits the updates so far; l.mu is held.
func (l *deferred) commit(d *Dialect) error {
	if l.tx == nil {
		return l.err
	}
	err := l.tx.Commit()
	l.tx, l.pending = nil, 0
	if err != nil {
		l.err = d.mapErr(d.Name+": commit", err)
	}
	return l.err
}

// flush commits the updates that returned, before the pool reads.
func (l *deferred) flush(d *Dialect) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.updating {
		if l.pending > 0 {
			panic("sqlstore: a read on the pool during an update, with earlier updates deferred")
		}
		return l.err // as without deferring: the running update is unseen
	}
	return l.commit(d)
}

// closeDeferred commits what is left before the pools close.
func (s *Store) closeDeferred() error {
	if s.deferred == nil {
		return nil
	}
	s.deferred.write.Lock()
	defer s.deferred.write.Unlock()
	return s.deferred.flush(s.d)
}
