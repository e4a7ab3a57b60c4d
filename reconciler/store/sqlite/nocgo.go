//go:build !cgo

package sqlite

import (
	"errors"

	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlstore"
)

// errNoCgo is what Open answers in a build without cgo: mattn/go-sqlite3
// is C. Such a pesd (CGO_ENABLED=0) runs with --store postgres.
var errNoCgo = errors.New("this pesd was built without cgo (CGO_ENABLED=0) and the SQLite store needs cgo: " +
	"run it with --store postgres, or use a pesd built with cgo")

// violation never sees a SQLite error here: Open refuses first.
func violation(error) sqlstore.Violation { return sqlstore.NoViolation }

// unavailable never sees a SQLite error here either.
func unavailable(error) string { return "" }
