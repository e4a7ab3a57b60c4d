//go:build cgo

package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/mattn/go-sqlite3"

	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlstore"
)

// errNoCgo is nil: this build links SQLite.
var errNoCgo error

// The read pool's connections map the database into memory: a point
// read of a large store then finds its pages in the OS's page cache,
// shared by every reader, instead of copying each through read(2) into a
// small cache of its own. SQLite caps the size at its compiled maximum.
func init() {
	sql.Register(readDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec(fmt.Sprintf("PRAGMA mmap_size = %d", readMmapSize), nil)
		return err
	}})
}

// violation reads the rule from the constraint's message, which names the
// columns: "UNIQUE constraint failed: groups.name".
func violation(err error) sqlstore.Violation {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return sqlstore.NoViolation
	}
	switch se.ExtendedCode {
	case sqlite3.ErrConstraintUnique, sqlite3.ErrConstraintPrimaryKey:
		msg := se.Error()
		switch {
		case strings.Contains(msg, "groups.name"):
			return sqlstore.DuplicateName
		case strings.Contains(msg, ".label"):
			return sqlstore.DuplicateLabel
		case strings.Contains(msg, ".id"):
			return sqlstore.DuplicateID
		}
		return sqlstore.DuplicateKey
	case sqlite3.ErrConstraintForeignKey:
		return sqlstore.MissingRow
	}
	return sqlstore.NoViolation
}
