package trigger

import (
	"strings"
	"testing"
	"time"
)

func TestParseSchedule(t *testing.T) {
	tests := []struct {
		spec    string
		after   time.Time
		next    time.Time
		wantErr string
	}{
		{spec: "0 8 * * 1-5", after: t0, next: time.Date(2025, 3, 5, 8, 0, 0, 0, time.UTC)},
		{spec: "*/15 * * * *", after: t0, next: t0.Add(15 * time.Minute)},
		{spec: "@hourly", after: t0, next: t0.Add(time.Hour)},
		{spec: "@daily", after: t0, next: time.Date(2025, 3, 5, 0, 0, 0, 0, time.UTC)},
		{spec: "@weekly", after: t0, next: time.Date(2025, 3, 9, 0, 0, 0, 0, time.UTC)},
		// UTC even when the time given is in another zone.
		{spec: "30 10 * * *", after: t0.In(time.FixedZone("X", -3*3600)), next: t0.Add(30 * time.Minute)},
		{spec: "", wantErr: "schedule is empty"},
		{spec: "0 8 * *", wantErr: "is not a cron expression"},
		{spec: "0 25 * * *", wantErr: "is not a cron expression"},
		{spec: "0 0 8 * * *", wantErr: "is not a cron expression"},
		{spec: "@every 5m", wantErr: "is an interval"},
		{spec: "@sometimes", wantErr: "is not a cron expression"},
		{spec: "TZ=Europe/Paris 0 8 * * *", wantErr: "schedules are in UTC"},
		{spec: "CRON_TZ=UTC", wantErr: "schedules are in UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			s, err := ParseSchedule(tt.spec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Next(tt.after); !got.Equal(tt.next) {
				t.Errorf("Next(%v) = %v, want %v", tt.after, got, tt.next)
			}
			if s.String() != tt.spec || s.IsZero() {
				t.Errorf("String() = %q, IsZero() = %v", s.String(), s.IsZero())
			}
		})
	}
}

func TestScheduleTicked(t *testing.T) {
	s, err := ParseSchedule("0 * * * *")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		from, to time.Time
		want     bool
	}{
		{t0.Add(-5 * time.Second), t0, true},                    // tick at the end of the interval
		{t0, t0.Add(5 * time.Second), false},                    // tick at the start was the previous pass's
		{t0.Add(time.Second), t0.Add(59 * time.Minute), false},  // none in between
		{t0.Add(-2 * time.Hour), t0.Add(-time.Second), true},    // several ticks
		{t0.Add(-time.Minute), t0.Add(-time.Nanosecond), false}, // just short
	}
	for _, tt := range tests {
		if got := s.Ticked(tt.from, tt.to); got != tt.want {
			t.Errorf("Ticked(%v, %v) = %v, want %v", tt.from, tt.to, got, tt.want)
		}
	}
	var zero Schedule
	if !zero.IsZero() || zero.Ticked(t0.Add(-time.Hour), t0) || !zero.Next(t0).IsZero() {
		t.Error("the zero Schedule ticks")
	}
}
