// Package postgres is pesd's store on PostgreSQL (jackc/pgx/v5), for
// several pesd replicas sharing one database. It has the same schema shape
// as the sqlite store, shares its queries (sqlstore) and passes the same
// conformance suite (storetest).
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/pes-project/terraform-provider-pes/reconciler/store"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlstore"
)

// Store is a store.Store on a PostgreSQL database.
type Store struct {
	*shared // every store method
	db      *sql.DB
	// leases is a small pool of its own for the lease table, so that a
	// renewal never queues behind a reconcile pass's transactions and a
	// busy replica does not lose its leases for want of a connection.
	leases *sql.DB
}

var _ store.Store = (*Store)(nil)

// shared keeps the embedded sqlstore.Store out of Store's exported fields.
type shared = sqlstore.Store

// Open connects to the database named by dsn (a URL or key=value
// connection string) and migrates it to the newest schema. A database
// written by a newer pesd is refused with an error wrapping
// ErrSchemaTooNew.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: dsn: %w", err)
	}
	// A replica paused inside a transaction (SIGSTOP, a frozen VM) holds
	// its lease rows (store.FencedTx) and would keep the next owner
	// waiting: the server ends such a session after a few seconds.
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	if _, ok := cfg.RuntimeParams["idle_in_transaction_session_timeout"]; !ok {
		cfg.RuntimeParams["idle_in_transaction_session_timeout"] = "3s"
	}
	// One pool reads and writes: PostgreSQL runs writers concurrently
	// (read committed), so there is nothing to gain from queueing them.
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect to %s:%d/%s: %w", cfg.Host, cfg.Port, cfg.Database, err)
	}
	ms, err := sqlstore.LoadMigrations(migrationFiles, "migrations")
	if err == nil {
		err = sqlstore.Migrate(ctx, db, dialect(), ms, time.Now())
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %s: %w", cfg.Database, err)
	}
	leases := stdlib.OpenDB(*cfg)
	leases.SetMaxOpenConns(4)
	leases.SetMaxIdleConns(2)
	return &Store{shared: sqlstore.New(dialect(), db, db), db: db, leases: leases}, nil
}

// Close closes both pools.
func (s *Store) Close() error {
	return errors.Join(s.leases.Close(), s.shared.Close())
}
