// Package sqlite is pesd's embedded store: one SQLite file (mattn/go-sqlite3)
// in WAL mode with embedded, versioned migrations.
//
// One connection writes (Update, PurgeBefore): SQLite serializes writers
// anyway, and queueing them in Go instead of in SQLite's lock means no
// SQLITE_BUSY and no retry loops. A pool of query-only connections reads;
// in WAL mode readers never block the writer nor wait for it.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver

	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// Store is a store.Store on one SQLite file.
type Store struct {
	reader // reads go to the pool of query-only connections
	path   string
	w      *sql.DB // exactly one connection
	r      *sql.DB
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it and its parent directory if needed) the database
// at path and migrates it to the newest schema. A database written by a
// newer pesd is refused with an error wrapping ErrSchemaTooNew.
func Open(path string) (*Store, error) {
	ctx := context.Background()
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: path %q: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: create directory: %w", err)
	}

	// synchronous=NORMAL in WAL mode: a commit has written its frames to
	// the WAL with write(2) before it returns, so once the OS has them a
	// kill -9 of pesd loses nothing; only the fsync is left to checkpoints.
	// What NORMAL gives up is the last commits on power loss or an OS
	// crash (never consistency), which FULL would buy with an fsync per
	// commit.
	w, err := sql.Open("sqlite3", dsn(abs, url.Values{
		"_journal_mode": {"WAL"},
		"_synchronous":  {"NORMAL"},
		"_foreign_keys": {"on"},
		"_busy_timeout": {"10000"},
		"_txlock":       {"immediate"},
		// database/sql hands a connection to one goroutine at a time, so
		// SQLite's own per-connection mutexes are pure overhead.
		"_mutex":           {"no"},
		"_cache_size":      {"-32768"}, // KiB
		"_stmt_cache_size": {"128"},
	}))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, w, mustMigrations(), time.Now()); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", abs, err)
	}

	readers := max(4, runtime.GOMAXPROCS(0))
	r, err := sql.Open("sqlite3", dsn(abs, url.Values{
		"_query_only":      {"true"},
		"_mutex":           {"no"},
		"_busy_timeout":    {"10000"},
		"_cache_size":      {"-16384"},
		"_stmt_cache_size": {"128"},
	}))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", abs, err)
	}
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", abs, err)
	}
	return &Store{reader: reader{q: r}, path: abs, w: w, r: r}, nil
}

func dsn(abs string, params url.Values) string {
	u := url.URL{Scheme: "file", Path: abs, RawQuery: params.Encode()}
	return u.String()
}

func mustMigrations() []migration {
	ms, err := loadMigrations(migrationFiles, "migrations")
	if err != nil {
		// The migrations are embedded at build time; a bad name is a
		// programming error caught by every test run.
		panic(err)
	}
	return ms
}

// Path is the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Update runs fn in one write transaction on the writer connection. The
// error fn returns is returned as is (after rolling back), so callers keep
// their *api.Error values. Update must not be called from inside fn.
func (s *Store) Update(ctx context.Context, fn func(tx store.Tx) error) error {
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	done := false
	defer func() {
		if !done {
			// fn panicked: roll back so the writer connection is free,
			// then let the panic continue.
			_ = sqlTx.Rollback()
		}
	}()
	if err := fn(&tx{reader: reader{q: sqlTx}, ctx: ctx, sqlTx: sqlTx}); err != nil {
		done = true
		if rbErr := sqlTx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("sqlite: rollback: %w", rbErr))
		}
		return err
	}
	done = true
	if err := sqlTx.Commit(); err != nil {
		return mapErr("sqlite: commit", err)
	}
	return nil
}

// PurgeBefore deletes the groups deleted before t and, by cascade, all
// their history. It returns how many groups it purged.
func (s *Store) PurgeBefore(ctx context.Context, t time.Time) (int, error) {
	var n int64
	err := s.Update(ctx, func(stx store.Tx) error {
		// RowsAffected counts the groups only, not the cascaded rows.
		res, err := stx.(*tx).sqlTx.ExecContext(ctx,
			`DELETE FROM groups WHERE status = 'deleted' AND deleted_at < ?`, fmtTime(t))
		if err != nil {
			return mapErr("sqlite: purge", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// Close closes the database. The last connection to close checkpoints the
// WAL into the main file.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}
