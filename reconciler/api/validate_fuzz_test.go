package api

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseDuration checks ParseDuration never panics, never returns a
// negative duration, and agrees with time.ParseDuration wherever that
// accepts a non-negative duration.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"90s", "5m", "0", "14d", "1d12h", "1.5d", "-5s", "d", "1e3d", "9999999999d", "+1h", "1d+1h", ".5d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err == nil && d < 0 {
			t.Fatalf("ParseDuration(%q) = %v, negative", s, d)
		}
		if err != nil && err.Error() == "" {
			t.Fatalf("ParseDuration(%q): empty error", s)
		}
		trimmed := strings.TrimSpace(s)
		if want, werr := time.ParseDuration(trimmed); werr == nil && want >= 0 && !strings.HasPrefix(trimmed, "-") {
			if err != nil || d != want {
				t.Fatalf("ParseDuration(%q) = %v, %v; time.ParseDuration says %v", s, d, err, want)
			}
		}
	})
}
