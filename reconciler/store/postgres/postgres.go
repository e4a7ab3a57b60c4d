// Package postgres is pesd's store on PostgreSQL (jackc/pgx/v5), for
// several pesd replicas sharing one database. It has the same schema shape
// and passes the same conformance suite (storetest) as the sqlite store.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// Store is a store.Store on a PostgreSQL database.
type Store struct {
	reader
	db *sql.DB
}

var _ store.Store = (*Store)(nil)

// Open connects to the database named by dsn (a URL or key=value
// connection string) and migrates it to the newest schema. A database
// written by a newer pesd is refused with an error wrapping
// ErrSchemaTooNew.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: dsn: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect to %s:%d/%s: %w", cfg.Host, cfg.Port, cfg.Database, err)
	}
	ms, err := loadMigrations(migrationFiles, "migrations")
	if err == nil {
		err = migrate(ctx, db, ms, time.Now())
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %s: %w", cfg.Database, err)
	}
	return &Store{reader: reader{q: rebinder{db}}, db: db}, nil
}

// Update runs fn in one transaction (read committed). The error fn
// returns is returned as is (after rolling back).
func (s *Store) Update(ctx context.Context, fn func(tx store.Tx) error) error {
	sqlTx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	done := false
	defer func() {
		if !done {
			_ = sqlTx.Rollback() // fn panicked
		}
	}()
	if err := fn(&tx{reader: reader{q: rebinder{sqlTx}}, ctx: ctx, sqlTx: sqlTx}); err != nil {
		done = true
		if rbErr := sqlTx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("postgres: rollback: %w", rbErr))
		}
		return err
	}
	done = true
	if err := sqlTx.Commit(); err != nil {
		return mapErr("postgres: commit", err)
	}
	return nil
}

// PurgeBefore deletes the groups deleted before t and, by cascade, all
// their history. It returns how many groups it purged.
func (s *Store) PurgeBefore(ctx context.Context, t time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM groups WHERE status = 'deleted' AND deleted_at < $1`, fmtTime(t))
	if err != nil {
		return 0, mapErr("postgres: purge", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// Close closes the connection pool.
func (s *Store) Close() error { return s.db.Close() }

// rebinder lets the queries be written with ? placeholders, as in the
// sqlite store, and numbers them for PostgreSQL ($1, $2, ...).
type rebinder struct{ q querier }

func (r rebinder) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return r.q.ExecContext(ctx, rebind(query), args...)
}

func (r rebinder) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return r.q.QueryContext(ctx, rebind(query), args...)
}

func (r rebinder) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return r.q.QueryRowContext(ctx, rebind(query), args...)
}

// rebind numbers the ? placeholders of query. The store's queries have no
// ? inside string literals, and use no jsonb ? operators.
func rebind(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}
