package api

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// errNotDuration is the message every malformed duration gets, so a user
// sees the same advice whichever field it was.
const errNotDuration = `not a duration: use a Go duration such as "90s" or "5m"`

// ParseTimeOrAgo reads a time written as RFC 3339 or as a duration
// meaning that long before now ("90m", "7d"), in UTC: how the CLI's
// --since/--until and the provider's since/until take a time. The error
// says what is wanted; the caller names the flag or attribute.
func ParseTimeOrAgo(v string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	if d, err := ParseDuration(v); err == nil {
		return now.Add(-d).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("want an RFC 3339 time (2026-01-02T10:00:00Z) or a duration ago (90m, 7d), got %q", v)
}

// ParseDuration parses a Go duration string ("90s", "1h30m") that may also
// start with a number of days ("14d", "1d12h", "1.5d"), which time.Duration
// does not know but forecast history windows are naturally written in.
// Negative durations are rejected: no pes setting means "in the past".
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New(errNotDuration)
	}
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("must not be negative; got %q", s)
	}
	s = strings.TrimPrefix(s, "+")
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.ParseFloat(s[:i], 64)
		if err != nil || i == 0 || strings.ContainsAny(s[:i], "eEinfINFxX_") || n < 0 {
			return 0, errors.New(errNotDuration)
		}
		f := n * float64(24*time.Hour)
		if f >= math.MaxInt64 {
			return 0, fmt.Errorf("is too long; got %q", s)
		}
		days = time.Duration(f)
		s = s[i+1:]
		if s == "" {
			return days, nil
		}
		if s[0] == '-' || s[0] == '+' {
			return 0, errors.New(errNotDuration)
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New(errNotDuration)
	}
	if d < 0 {
		return 0, errors.New(errNotDuration)
	}
	if days > 0 && d > math.MaxInt64-days {
		return 0, fmt.Errorf("is too long; got %q", s)
	}
	return days + d, nil
}
