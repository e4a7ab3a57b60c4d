package provider

import (
	"cmp"
	"slices"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// Data sources list events and changes in a stable order, by time then by
// label, so an output does not reshuffle from one refresh to the next.

func sortEvents(events []api.Event) { slices.SortStableFunc(events, compareEvents) }

func compareEvents(a, b api.Event) int { return byTimeThenLabel(a.Time, a.Label, b.Time, b.Label) }

func compareChanges(a, b api.Change) int {
	return byTimeThenLabel(a.StartedAt, a.Label, b.StartedAt, b.Label)
}

func byTimeThenLabel(ta time.Time, la string, tb time.Time, lb string) int {
	if c := ta.Compare(tb); c != 0 {
		return c
	}
	return compareLabels(la, lb)
}

// compareLabels orders sequence labels as people read them: E2 < E9b <
// E10, comparing runs of digits by value and the rest as text.
func compareLabels(a, b string) int {
	for a != "" && b != "" {
		ra, restA := leadingRun(a)
		rb, restB := leadingRun(b)
		da, db := isDigit(ra[0]), isDigit(rb[0])
		var c int
		switch {
		case da && db:
			c = compareDigits(ra, rb)
		case da != db:
			// Digits before letters, as in E9 < E9b.
			if da {
				c = -1
			} else {
				c = 1
			}
		default:
			c = cmp.Compare(ra, rb)
		}
		if c != 0 {
			return c
		}
		a, b = restA, restB
	}
	return cmp.Compare(len(a), len(b))
}

// leadingRun splits s after its first run of digits or of non-digits.
func leadingRun(s string) (run, rest string) {
	d := isDigit(s[0])
	i := 1
	for i < len(s) && isDigit(s[i]) == d {
		i++
	}
	return s[:i], s[i:]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// compareDigits compares two runs of digits by value without parsing, so
// no length overflows.
func compareDigits(a, b string) int {
	a, b = trimZeros(a), trimZeros(b)
	if c := cmp.Compare(len(a), len(b)); c != 0 {
		return c
	}
	return cmp.Compare(a, b)
}

func trimZeros(s string) string {
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	return s
}
