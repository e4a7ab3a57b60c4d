package api

import (
	"strings"
	"testing"
	"time"
)

// TestParseTimeOrAgo: RFC 3339 (any offset, fractional seconds) or a
// duration ago, days included, always in UTC; anything else, a negative
// duration or an empty string is refused with what is wanted.
func TestParseTimeOrAgo(t *testing.T) {
	now := time.Date(2026, 1, 2, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		in   string
		want time.Time // zero: an error
	}{
		{"2026-01-02T10:00:00Z", time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)},
		{"2026-01-02T11:00:00+01:00", time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)},
		{"2026-01-02T10:00:00.25Z", time.Date(2026, 1, 2, 10, 0, 0, 250e6, time.UTC)},
		{"90m", now.Add(-90 * time.Minute)},
		{"1d", now.Add(-24 * time.Hour)},
		{"1d12h", now.Add(-36 * time.Hour)},
		{"0s", now},
		{"-1h", time.Time{}},
		{"tuesday", time.Time{}},
		{"2026-01-02", time.Time{}},
		{"", time.Time{}},
	}
	for _, tt := range tests {
		got, err := ParseTimeOrAgo(tt.in, now)
		switch {
		case tt.want.IsZero():
			if err == nil || !strings.Contains(err.Error(), "RFC 3339") || !strings.Contains(err.Error(), "duration ago") {
				t.Errorf("ParseTimeOrAgo(%q) = %v, %v; want an error saying what is wanted", tt.in, got, err)
			}
		case err != nil || !got.Equal(tt.want) || got.Location() != time.UTC:
			t.Errorf("ParseTimeOrAgo(%q) = %v, %v; want %v in UTC", tt.in, got, err, tt.want)
		}
	}
}
