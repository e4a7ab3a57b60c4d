//go:build cgo

package sqlite

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/mattn/go-sqlite3"
)

// TestUnavailable: SQLite's errors that are the machine's (a full disk, a
// lock held by another process, a read-only file) become
// store.ErrUnavailable with the cause in words; a constraint violation
// does not.
func TestUnavailable(t *testing.T) {
	d := dialect()
	for _, tt := range []struct {
		err  error
		want string
	}{
		{sqlite3.Error{Code: sqlite3.ErrFull}, "the disk is full"},
		{fmt.Errorf("sqlite: commit: %w", syscall.ENOSPC), "the disk is full"},
		{sqlite3.Error{Code: sqlite3.ErrBusy}, "locked"},
		{sqlite3.Error{Code: sqlite3.ErrLocked}, "locked"},
		{sqlite3.Error{Code: sqlite3.ErrReadonly}, "read-only"},
		{sqlite3.Error{Code: sqlite3.ErrConstraint, ExtendedCode: sqlite3.ErrConstraintUnique}, ""},
		{errors.New("something else"), ""},
	} {
		got := d.Unavailable(fmt.Errorf("sqlite: insert event: %w", tt.err))
		if tt.want == "" {
			if got != "" {
				t.Errorf("%v: unavailable %q, want none", tt.err, got)
			}
			continue
		}
		if !strings.Contains(got, tt.want) {
			t.Errorf("%v: unavailable %q, want it to say %q", tt.err, got, tt.want)
		}
	}
}
