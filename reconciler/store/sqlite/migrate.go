package sqlite

import (
	"embed"

	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// ErrSchemaTooNew is returned by Open for a database written by a newer
// pesd: its schema has migrations this binary does not know.
var ErrSchemaTooNew = sqlstore.ErrSchemaTooNew

func mustMigrations() []sqlstore.Migration {
	ms, err := sqlstore.LoadMigrations(migrationFiles, "migrations")
	if err != nil {
		// The migrations are embedded at build time; a bad name is a
		// programming error caught by every test run.
		panic(err)
	}
	return ms
}
