package trigger

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule is a trigger's cron schedule, in UTC. The zero Schedule is "no
// schedule".
type Schedule struct {
	spec  string
	sched *cron.SpecSchedule
}

// ParseSchedule parses a standard 5-field cron expression ("0 8 * * 1-5")
// or a descriptor (@hourly, @daily, @weekly, @monthly, @yearly,
// @midnight). Times are UTC.
func ParseSchedule(s string) (Schedule, error) {
	spec := strings.TrimSpace(s)
	switch {
	case spec == "":
		return Schedule{}, errors.New(`schedule is empty: use a cron expression such as "0 8 * * 1-5" or @hourly`)
	case strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ="):
		return Schedule{}, fmt.Errorf("schedule %q names a time zone: schedules are in UTC, remove the prefix", s)
	case strings.HasPrefix(spec, "@every"):
		// Triggers tick on wall-clock boundaries between evaluation
		// passes; an interval from "now" would never be reached.
		return Schedule{}, fmt.Errorf(`schedule %q is an interval: use a cron expression such as "*/5 * * * *"`, s)
	}
	p := cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	parsed, err := p.Parse(spec)
	if err != nil {
		return Schedule{}, fmt.Errorf(`schedule %q is not a cron expression (%v): use 5 fields "minute hour day-of-month month day-of-week" such as "0 8 * * 1-5", or @hourly`, s, err)
	}
	ss, ok := parsed.(*cron.SpecSchedule)
	if !ok {
		return Schedule{}, fmt.Errorf("schedule %q is not supported: use a cron expression such as \"0 8 * * 1-5\"", s)
	}
	ss.Location = time.UTC
	return Schedule{spec: spec, sched: ss}, nil
}

// IsZero reports whether s is no schedule.
func (s Schedule) IsZero() bool { return s.sched == nil }

// String returns the schedule as written.
func (s Schedule) String() string { return s.spec }

// Next returns the first tick strictly after t (the zero time when s is
// zero).
func (s Schedule) Next(t time.Time) time.Time {
	if s.sched == nil {
		return time.Time{}
	}
	return s.sched.Next(t.UTC())
}

// Ticked reports whether a tick falls in (from, to].
func (s Schedule) Ticked(from, to time.Time) bool {
	if s.sched == nil {
		return false
	}
	next := s.Next(from)
	return !next.IsZero() && !next.After(to)
}
