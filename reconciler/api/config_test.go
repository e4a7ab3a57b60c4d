package api

import (
	"errors"
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

// TestDefaultDurations: the Default* strings parse, to these values.
func TestDefaultDurations(t *testing.T) {
	got := DefaultDurations()
	want := Durations{
		AggregationPeriod: time.Minute, ReplacementDeferWindow: 15 * time.Second,
		InitDeadline: 10 * time.Minute, Cooldown: 0, HealthInterval: 2 * time.Second,
		Sim: SimDurations{BootTime: 2 * time.Second},
	}
	if got.AggregationPeriod != want.AggregationPeriod || got.ReplacementDeferWindow != want.ReplacementDeferWindow ||
		got.InitDeadline != want.InitDeadline || got.Cooldown != want.Cooldown ||
		got.HealthInterval != want.HealthInterval || got.Sim.BootTime != want.Sim.BootTime ||
		len(got.Sim.BootTimes) != 0 || got.Predictive != (PredictiveDurations{}) {
		t.Errorf("DefaultDurations() = %+v\nwant %+v", got, want)
	}
}

// TestParseConfig: a resolved config's durations parse to what validation
// read, written defaults included; one that validation would have refused
// is an error naming the field; the config given is left alone.
func TestParseConfig(t *testing.T) {
	g := GroupConfig{Name: "web", Driver: DriverSim, DesiredQuantity: 1,
		AggregationPeriod: "90s", Cooldown: "1d", HealthCheck: &HealthCheck{Type: HealthProcess, Interval: "500ms"},
		Sim:        &SimConfig{BootTimes: []string{"3s", "0.5d"}},
		Predictive: &Predictive{Mode: PredictiveEnforce, History: "14d", MinHistory: "1d"}}
	if err := ResolveGroupConfig(&g); err != nil {
		t.Fatal(err)
	}
	c, err := ParseConfig(g)
	if err != nil {
		t.Fatal(err)
	}
	d := c.Durations
	switch {
	case d.AggregationPeriod != 90*time.Second, d.Cooldown != 24*time.Hour, d.InitDeadline != 10*time.Minute,
		d.ReplacementDeferWindow != 15*time.Second, d.HealthInterval != 500*time.Millisecond,
		d.Sim.BootTime != 2*time.Second, len(d.Sim.BootTimes) != 2 || d.Sim.BootTimes[1] != 12*time.Hour,
		d.Predictive != PredictiveDurations{History: 14 * 24 * time.Hour, MinHistory: 24 * time.Hour}:
		t.Errorf("durations = %+v", d)
	}
	if c.Cooldown != "1d" || c.InitDeadline != "10m" {
		t.Errorf("text = %q, %q; want as written, defaults filled in", c.Cooldown, c.InitDeadline)
	}

	empty, err := ParseConfig(GroupConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if empty.InitDeadline != DefaultInitDeadline || empty.Durations.InitDeadline != 10*time.Minute {
		t.Errorf("empty init_deadline = %q, %v; want the default", empty.InitDeadline, empty.Durations.InitDeadline)
	}

	bad := GroupConfig{HealthCheck: &HealthCheck{Interval: "often"}}
	_, err = ParseConfig(bad)
	var ae *Error
	if !errors.As(err, &ae) || ae.Field != "health_check.interval" {
		t.Errorf("ParseConfig(bad interval) = %v; want an error naming health_check.interval", err)
	}
	if bad.HealthCheck.Interval != "often" {
		t.Error("ParseConfig changed the config it was given")
	}
}
