package trigger

import (
	"fmt"
	"strings"
)

// CompileError is a condition that does not compile. Line and Column are
// 1-based and point at the offending token; Hint, when set, says what to
// write instead.
type CompileError struct {
	Message string
	Line    int
	Column  int
	Hint    string
}

func (e *CompileError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d, column %d: ", e.Line, e.Column)
	}
	b.WriteString(e.Message)
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// FieldError is an invalid field of a trigger. Err is a *CompileError for
// the condition, a plain error otherwise.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }

func (e *FieldError) Unwrap() error { return e.Err }

// position turns a rune offset into a 1-based line and column.
func position(src string, offset int) (line, column int) {
	line, column = 1, 1
	n := 0
	for _, r := range src {
		if n == offset {
			break
		}
		if r == '\n' {
			line++
			column = 1
		} else {
			column++
		}
		n++
	}
	return line, column
}

// nearest returns the candidate closest to name by edit distance, or "" if
// none is close enough to be a plausible typo.
func nearest(name string, candidates []string) string {
	best, bestDist := "", -1
	for _, c := range candidates {
		d := editDistance(strings.ToLower(name), c)
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	// Allow about one typo per three letters, at least one.
	limit := max(1, len(name)/3)
	if bestDist < 0 || bestDist > limit {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
