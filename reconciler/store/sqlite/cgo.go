//go:build cgo

package sqlite

import (
	"errors"
	"strings"
	"syscall"

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

// unavailable names the SQLite failures that are the machine's, not the
// request's.
func unavailable(err error) string {
	var se sqlite3.Error
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return "the disk is full"
	case !errors.As(err, &se):
		return ""
	}
	switch se.Code {
	case sqlite3.ErrFull:
		return "the disk is full"
	case sqlite3.ErrBusy, sqlite3.ErrLocked:
		return "the database is locked by another process"
	case sqlite3.ErrReadonly:
		return "the database is read-only"
	case sqlite3.ErrIoErr:
		return "the disk failed to read or write"
	case sqlite3.ErrCantOpen:
		return "the database file cannot be opened"
	}
	return ""
}
