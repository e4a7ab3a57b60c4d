package sqlite

import (
	"encoding/json"

	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlstore"
)

// dialect is SQLite's SQL where it differs: lists are JSON arrays in
// TEXT, read with json_each.
func dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name: "sqlite",
		List: func(ids []string) any {
			b, _ := json.Marshal(ids) // strings cannot fail to encode
			return string(b)
		},
		InList: func(col, list string) string {
			return col + " IN (SELECT value FROM json_each(" + list + "))"
		},
		ListJSON: func(col string) string { return col },
		// The unary plus makes the column an expression, which no index
		// serves.
		Unindexed:   func(col string) string { return "+" + col },
		InsertOrder: "rowid",
		Violation:   violation,
		Unavailable: unavailable,
		MigrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at TEXT NOT NULL
		) STRICT`,
		// Migrations run on the one writer connection with BEGIN
		// IMMEDIATE: SQLite's own lock takes turns.
	}
}
