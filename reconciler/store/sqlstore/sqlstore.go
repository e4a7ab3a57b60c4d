// Package sqlstore is the store.Store shared by pesd's SQL databases: the
// queries, row scanning, encoding, pagination, filters, migrations runner
// and the Reader/Tx implementation over database/sql, written once.
//
// A database package (sqlite, postgres) opens its connections, embeds its
// migrations (DDL differs too much to share) and describes itself with a
// Dialect: the few places where the databases speak different SQL.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// Dialect is what one SQL database does differently. The queries are
// written with ? placeholders in SQL that both databases understand; the
// Dialect fills in the rest. Every field is required unless it says
// otherwise.
type Dialect struct {
	// Name prefixes errors: "sqlite: commit: ...".
	Name string
	// NumberedParams is set when the driver wants $1, $2, ... instead of ?.
	NumberedParams bool

	// List binds ids as one argument of the type the nexus member columns
	// have (a JSON array in SQLite, text[] in PostgreSQL), so a statement
	// reads any number of ids without changing its text.
	List func(ids []string) any
	// InList is the condition "col is an element of list", where list is
	// an expression of that type: a bound List or a member column.
	InList func(col, list string) string
	// ListJSON is an expression reading a member column as JSON text.
	ListJSON func(col string) string
	// Unindexed writes col so that the planner will not walk its index,
	// for a condition the caller knows another one narrows better. SQLite
	// plans without statistics and needs telling; PostgreSQL does not.
	Unindexed func(col string) string
	// InsertOrder is a column that orders samples and quantity points
	// inserted with the same time.
	InsertOrder string

	// Violation names the rule a failed statement broke, if any.
	Violation func(err error) Violation
	// Unavailable says, in words, why a failed statement could not write
	// for a reason outside the request (the disk is full, the database is
	// locked); "" when it is not such a failure.
	Unavailable func(err error) string

	// MigrationsTable creates schema_migrations (version, name,
	// applied_at) if it does not exist.
	MigrationsTable string
	// LockMigrations, if set, makes the caller the only process migrating
	// the database until unlock is called. It runs on the connection that
	// then migrates.
	LockMigrations func(ctx context.Context, conn *sql.Conn) (unlock func(), err error)

	// FenceQuery, if set, reads a shard's lease (owner, generation,
	// expires_at, released) by its shard (one ? parameter) and holds its
	// row until the transaction ends; the store then checks fencing
	// tokens (store.FencedTx). A database without leases leaves it empty.
	FenceQuery string
}

// Violation is a rule of the schema a write broke, as a Dialect reads it
// from its driver's error.
type Violation int

// The rules a Dialect tells apart.
const (
	NoViolation    Violation = iota
	DuplicateID              // a primary key
	DuplicateName            // the name of a live group
	DuplicateLabel           // a label within its group
	DuplicateKey             // any other unique rule
	MissingRow               // a foreign key: the referenced row does not exist
)

// Store is a store.Store on a SQL database.
type Store struct {
	reader // reads go to the read pool
	d      *Dialect
	w, r   *sql.DB

	deferred *deferred // set by DeferCommits
	onCommit func()    // set by OnCommit
}

var _ store.Store = (*Store)(nil)

// New returns the store over write, the pool Update writes through, and
// read, the pool that serves reads outside a transaction (it may be
// write). Close closes both.
func New(d Dialect, write, read *sql.DB) *Store {
	dp := &d
	q := newQueries(dp)
	return &Store{reader: reader{q: detached{q: dp.wrap(read)}, d: dp, sql: q}, d: dp, w: write, r: read}
}

// Update runs fn in one transaction on the write pool: all its writes
// land or none do. The error fn returns is returned as is (after rolling
// back), so callers keep their *api.Error values. Update must not be
// called from inside fn.
func (s *Store) Update(ctx context.Context, fn func(tx store.Tx) error) error {
	if s.deferred != nil {
		return s.updateDeferred(ctx, fn)
	}
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.d.unavailable(fmt.Errorf("%s: begin: %w", s.d.Name, err))
	}
	done := false
	defer func() {
		if !done {
			// fn panicked: roll back so the connection is free, then let
			// the panic continue.
			_ = sqlTx.Rollback()
		}
	}()
	q := s.d.wrap(sqlTx)
	if err := fn(&tx{reader: reader{q: q, d: s.d, sql: s.sql}, ctx: ctx}); err != nil {
		done = true
		if rbErr := sqlTx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return s.d.unavailable(errors.Join(err, fmt.Errorf("%s: rollback: %w", s.d.Name, rbErr)))
		}
		return s.d.unavailable(err)
	}
	done = true
	if err := sqlTx.Commit(); err != nil {
		return s.d.unavailable(s.d.mapErr(s.d.Name+": commit", err))
	}
	if s.onCommit != nil {
		s.onCommit()
	}
	return nil
}

// OnCommit makes Update call f after each transaction it commits: every
// write of the store commits there, PurgeBefore's too (the deferred
// commits of DeferCommits do not call it). f must not block: it runs on
// the writer's path. Call it before the store is used.
func (s *Store) OnCommit(f func()) { s.onCommit = f }

// unavailable marks err with store.ErrUnavailable and its cause when the
// dialect says the database could not write.
func (d *Dialect) unavailable(err error) error {
	if err == nil || d.Unavailable == nil || errors.Is(err, store.ErrUnavailable) {
		return err
	}
	if why := d.Unavailable(err); why != "" {
		return &store.UnavailableError{Cause: why, Err: err}
	}
	return err
}

// PurgeBefore deletes the groups deleted before t and, by cascade, all
// their history. It returns how many groups it purged.
func (s *Store) PurgeBefore(ctx context.Context, t time.Time) (int, error) {
	var n int64
	err := s.Update(ctx, func(stx store.Tx) error {
		// RowsAffected counts the groups only, not the cascaded rows.
		res, err := stx.(*tx).exec(s.d.Name+": purge",
			`DELETE FROM groups WHERE status = 'deleted' AND deleted_at < ?`, FormatTime(t))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// Close closes the pools.
func (s *Store) Close() error {
	err := s.closeDeferred()
	if s.r == s.w {
		return errors.Join(err, s.w.Close())
	}
	return errors.Join(err, s.r.Close(), s.w.Close())
}

// querier is what statements run on: a pool (*sql.DB) or a transaction
// (*sql.Tx), so a transaction reads its own writes.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// detached runs the read pool's statements without the caller's
// cancellation, once it has checked that the caller is still there.
// database/sql watches a cancellable context with a goroutine per
// statement, and starting and ending it costs a point read more than the
// read itself (a GET of a change runs five or six). The reads outside a
// transaction are short (by key, or a page of at most MaxLimit rows); the
// long scans check the context between rows instead (queryInto). A
// transaction's statements keep their context: they hold the writer.
type detached struct {
	q querier
	// flush, if set, commits a store's deferred updates (DeferCommits).
	flush func() error
}

// ready says whether a statement may run: the caller is still there and
// the deferred updates, if any, are committed.
func (d detached) ready(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d.flush != nil {
		return d.flush()
	}
	return nil
}

func (d detached) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := d.ready(ctx); err != nil {
		return nil, err
	}
	return d.q.ExecContext(context.WithoutCancel(ctx), query, args...)
}

func (d detached) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := d.ready(ctx); err != nil {
		return nil, err
	}
	return d.q.QueryContext(context.WithoutCancel(ctx), query, args...)
}

func (d detached) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if d.ready(ctx) != nil {
		// A Row cannot be made with an error; one with a cancelled context
		// fails at once (with ctx's own error when ctx is done), and the
		// store keeps a failed flush's error for later calls.
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		return d.q.QueryRowContext(cancelled, query, args...)
	}
	return d.q.QueryRowContext(context.WithoutCancel(ctx), query, args...)
}

// wrap returns q rebinding placeholders if the dialect numbers them.
func (d *Dialect) wrap(q querier) querier {
	if d.NumberedParams {
		return rebinder{q}
	}
	return q
}

// rebinder numbers the ? placeholders of every statement ($1, $2, ...).
type rebinder struct{ q querier }

func (r rebinder) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return r.q.ExecContext(ctx, Rebind(query), args...)
}

func (r rebinder) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return r.q.QueryContext(ctx, Rebind(query), args...)
}

func (r rebinder) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return r.q.QueryRowContext(ctx, Rebind(query), args...)
}

// Rebind numbers the ? placeholders of query: $1, $2, ... The store's
// statements have no ? inside string literals or comments, and use no
// jsonb ? operators.
func Rebind(query string) string {
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
