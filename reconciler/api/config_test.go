package api

import (
	"testing"
	"time"
)

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                               "0s",
		45 * time.Second:                "45s",
		50 * time.Second:                "50s",
		10 * time.Minute:                "10m",
		90 * time.Minute:                "1h30m",
		3 * time.Hour:                   "3h",
		3*time.Hour + 29*time.Second:    "3h",
		day:                             "24h",
		14 * day:                        "14d",
		36 * time.Hour:                  "36h",
		2*day + 5*time.Minute:           "2d5m",
		2*day - time.Second:             "2d",
		2*day + time.Hour + time.Minute: "2d1h1m",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q; want %q", d, got, want)
		}
	}
}

// TestParseTriggerForAgreesWithValidation: a trigger's "for" is read by
// ParseTriggerFor exactly when ValidateTriggerSpec accepts it, with the same
// value, so pesd never stores a trigger it then cannot evaluate.
func TestParseTriggerForAgreesWithValidation(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, true},
		{"0s", 0, true},
		{"90s", 90 * time.Second, true},
		{" 2m ", 2 * time.Minute, true},
		{"1d", 24 * time.Hour, true},
		{"0.5d", 12 * time.Hour, true},
		{"0d12h", 12 * time.Hour, true},
		{"24h", 24 * time.Hour, true},
		{"1d1s", 0, false},
		{"2d", 0, false},
		{"25h", 0, false},
		{"-1m", 0, false},
		{"5 minutes", 0, false},
		{"d", 0, false},
		{"1e2d", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTriggerFor(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("ParseTriggerFor(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
			}
			name, cond, by := "t", "last(cpu) > 1", 1
			spec := TriggerSpec{Name: &name, Condition: &cond, For: &tt.in, Request: Request{ChangeBy: &by}}
			apiErr := ValidateTriggerSpec(&spec, true)
			if (apiErr == nil) != (err == nil) {
				t.Errorf("for %q: ValidateTriggerSpec says %v, ParseTriggerFor says %v", tt.in, apiErr, err)
			}
		})
	}
}
