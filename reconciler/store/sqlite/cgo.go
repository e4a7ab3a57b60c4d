//go:build cgo

package sqlite

import (
	"errors"
	"strings"

	"github.com/mattn/go-sqlite3"

	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlstore"
)

// errNoCgo is nil: this build links SQLite.
var errNoCgo error

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
