package postgres

import (
	"embed"

	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// ErrSchemaTooNew is returned by Open for a database written by a newer
// pesd: its schema has migrations this binary does not know.
var ErrSchemaTooNew = sqlstore.ErrSchemaTooNew
