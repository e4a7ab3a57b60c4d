package sqlite

import (
	"context"
	"database/sql"
	"net/url"
	"sync"
	"time"
)

// A checkpoint copies the pages committed to the WAL back into the
// database file. SQLite runs one by default in the commit that takes the
// WAL past 1,000 pages, on the writer's connection: reading the frames
// back, writing them to the file and two fsyncs, while every other write
// waits for that commit. The checkpointer runs them instead, on a
// connection of its own, which SQLite lets run beside the writer: the
// writer only appends to the WAL. A reconcile pass over 10,000 groups
// commits about 100 MB of pages; its writer spent about a tenth of its
// time checkpointing.
//
// The writer still checkpoints itself past writerAutocheckpoint pages,
// should the checkpointer fall that far behind (the WAL restarts from its
// start only once all of it is checkpointed). Checkpoints change nothing
// a commit made durable: a committed frame is in the WAL, which SQLite
// reads after a crash, checkpointed or not.

// writerDriver is the writer connection's driver (cgo.go).
const writerDriver = "sqlite3-writer"

// writerAutocheckpoint is the WAL size, in pages, past which a commit
// checkpoints on the writer: the backstop.
const writerAutocheckpoint = 10000

// checkpointEvery is the checkpointer's rhythm: after a commit, it waits
// this long, so that a burst of commits shares one checkpoint and its
// fsyncs.
const checkpointEvery = 50 * time.Millisecond

type checkpointer struct {
	db      *sql.DB // one connection
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	stopped sync.Once
	err     error // close's
}

func startCheckpointer(path string) (*checkpointer, error) {
	db, err := sql.Open("sqlite3", dsn(path, url.Values{
		"_busy_timeout": {"10000"},
		"_mutex":        {"no"},
		// Synced like the writer's commits: the WAL before its pages are
		// copied, the file before the WAL may start over.
		"_synchronous": {"NORMAL"},
	}))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, err
	}
	c := &checkpointer{db: db, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c, nil
}

// committed tells the checkpointer that the writer committed.
func (c *checkpointer) committed() {
	select {
	case c.wake <- struct{}{}:

	default:
	}
}

func (c *checkpointer) run() {
	defer close(c.done)
	for {
		select {
		case <-c.stop:
			return
		case <-c.wake:
		}
		select {
		case <-c.stop:
			return
		case <-time.After(checkpointEvery):
		}
		// PASSIVE: copy what no reader still needs, wait for no one. A
		// failure (the disk) is the writer's to report at its next
		// commit, or the backstop's.
		_, _ = c.db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
	}
}

// close stops the checkpointer; the writer's close checkpoints the rest.
// A store may be closed twice.
func (c *checkpointer) close() error {
	c.stopped.Do(func() {
		close(c.stop)
		<-c.done
		c.err = c.db.Close()
	})
	return c.err
}
