//go:build cgo

package sqlite

import (
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"syscall"

	"github.com/mattn/go-sqlite3"

	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlstore"
)

// errNoCgo is nil: this build links SQLite.
var errNoCgo error

// The readers' driver maps the file into memory (PRAGMA mmap_size; no DSN
// parameter sets it): a page read is then a memory access rather than a
// read(2) copying it into the connection's cache, which on a store of
// gigabytes is most of a point read's cost. Only readers map it: writes
// still go through write(2), and pesd never shrinks the file (no VACUUM),
// so no mapped page is ever cut off under a reader.
//
// The writer's driver leaves checkpoints to the checkpointer
// (checkpoint.go) up to a backstop.
func init() {
	sql.Register(readerDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec("PRAGMA mmap_size = "+strconv.Itoa(readerMmapSize), nil)
		return err
	}})
	sql.Register(writerDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec("PRAGMA wal_autocheckpoint = "+strconv.Itoa(writerAutocheckpoint), nil)
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
