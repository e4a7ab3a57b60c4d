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
	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlstore"
)

// Store is a store.Store on one SQLite file.
type Store struct {
	*shared // every store method
	path    string
	w       *sql.DB       // exactly one connection
	r       *sql.DB       // query-only connections
	ck      *checkpointer // nil: no WAL (a scratch store)
}

var _ store.Store = (*Store)(nil)

// shared keeps the embedded sqlstore.Store out of Store's exported fields.
type shared = sqlstore.Store

// Open opens (creating it and its parent directory if needed) the database
// at path and migrates it to the newest schema. A database written by a
// newer pesd is refused with an error wrapping ErrSchemaTooNew.
func Open(path string) (*Store, error) {
	return open(path, true)
}

// OpenScratch is Open for a database thrown away after use, such as a
// backtest's replay: its rollback journal is kept in memory and its
// commits never wait for the disk, so they are not durable and a crash
// may leave the file corrupt. Readers still see only what has committed
// (a commit waits for the reads in progress). Never for pesd's own store.
//
// Not a database in memory: SQLite gives such a database's readers no
// isolation from a write in progress, and a store read made during a
// write (the predictive governor's, inside a harmonization) would wait
// for it forever.
func OpenScratch(path string) (*Store, error) {
	return open(path, false)
}

func open(path string, durable bool) (*Store, error) {
	if errNoCgo != nil {
		return nil, fmt.Errorf("sqlite: %w", errNoCgo)
	}
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
	params := url.Values{
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
	}
	if !durable {
		params.Set("_synchronous", "OFF")
		params.Set("_journal_mode", "MEMORY")
	}
	w, err := sql.Open(writerDriver, dsn(abs, params))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := sqlstore.Migrate(ctx, w, dialect(), mustMigrations(), time.Now()); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", abs, err)
	}

	readers := max(4, runtime.GOMAXPROCS(0))
	r, err := sql.Open(readerDriver, dsn(abs, url.Values{
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
	s := &Store{shared: sqlstore.New(dialect(), w, r), path: abs, w: w, r: r}
	if durable {
		if s.ck, err = startCheckpointer(abs); err != nil {
			r.Close()
			w.Close()
			return nil, fmt.Errorf("sqlite: open %s for checkpoints: %w", abs, err)
		}
		s.OnCommit(s.ck.committed)
	}
	return s, nil
}

// Close stops the checkpointer, then closes the connections; the last
// one to close checkpoints the WAL.
func (s *Store) Close() error {
	var err error
	if s.ck != nil {
		err = s.ck.close()
	}
	return errors.Join(err, s.shared.Close())
}

// readerDriver is the driver of the query-only connections (cgo.go).
const readerDriver = "sqlite3-reader"

// readerMmapSize is how much of the file each reader maps: SQLite's
// compiled-in ceiling (SQLITE_MAX_MMAP_SIZE, just under 2 GiB); pages
// past it are read with read(2) as before. The mapping costs address
// space, not memory: the pages are the OS's page cache, shared by the
// readers.
const readerMmapSize = 0x7fff0000

func dsn(abs string, params url.Values) string {
	u := url.URL{Scheme: "file", Path: abs, RawQuery: params.Encode()}
	return u.String()
}

// Path is the absolute path of the database file.
func (s *Store) Path() string { return s.path }
