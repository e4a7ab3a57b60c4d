package postgres

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlstore"
)

// migrationLock is the advisory lock key under which pesd replicas
// migrate one at a time ("pesmigr" in ASCII).
const migrationLock = 0x7065736d69677200

// dialect is PostgreSQL's SQL where it differs: numbered parameters,
// lists as text[] (nexus members) and an advisory lock for migrations.
func dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name:           "postgres",
		NumberedParams: true,
		List:           func(ids []string) any { return ids }, // pgx binds []string as text[]
		// The cast makes a scalar subquery an array: ANY over a bare
		// subquery would compare with each of its rows instead.
		InList:      func(col, list string) string { return col + " = ANY((" + list + ")::text[])" },
		ListJSON:    func(col string) string { return "to_jsonb(" + col + ")" },
		Unindexed:   func(col string) string { return col }, // the planner has statistics
		InsertOrder: "seq",
		Violation:   violation,
		Unavailable: unavailable,
		MigrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at text NOT NULL
		)`,
		LockMigrations: lockMigrations,
		FenceQuery:     fenceQuery,
	}
}

// lockMigrations makes replicas starting together take turns: the first
// migrates, the others then find nothing left to do.
func lockMigrations(ctx context.Context, conn *sql.Conn) (func(), error) {
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLock)); err != nil {
		return nil, err
	}
	return func() {
		// The lock also ends with the session, so a failed unlock
		// leaves nothing behind once the connection closes.
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrationLock))
	}, nil
}

// violation reads the rule from the SQLSTATE and the constraint's name.
func violation(err error) sqlstore.Violation {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return sqlstore.NoViolation
	}
	switch pe.Code {
	case "23505": // unique_violation
		switch c := pe.ConstraintName; {
		case c == "groups_live_name":
			return sqlstore.DuplicateName
		case strings.HasSuffix(c, "_label"):
			return sqlstore.DuplicateLabel
		case strings.HasSuffix(c, "_pkey"):
			return sqlstore.DuplicateID
		}
		return sqlstore.DuplicateKey
	case "23503": // foreign_key_violation
		return sqlstore.MissingRow
	}
	return sqlstore.NoViolation
}

// unavailable names the PostgreSQL failures that are the server's, not
// the request's, by SQLSTATE class.
func unavailable(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "53100":
			return "the database's disk is full"
		case strings.HasPrefix(pe.Code, "53"):
			return "the database is out of resources (" + pe.Message + ")"
		case pe.Code == "55P03":
			return "the database is locked"
		case pe.Code == "25006":
			return "the database is read-only"
		case strings.HasPrefix(pe.Code, "57P"), strings.HasPrefix(pe.Code, "08"):
			return "the database is unreachable (" + pe.Message + ")"
		}
		return ""
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || pgconn.SafeToRetry(err) {
		return "the database is unreachable"
	}
	return ""
}
