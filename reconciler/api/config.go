package api

import (
	"cmp"
	"fmt"
	"strings"
	"time"
)

// Config is a group's configuration read once for the code that acts on
// it: the wire form with every duration default written in (so sentences
// quote a duration as the user wrote it, "2m" rather than "2m0s"), and the
// durations parsed. The wire type keeps strings; everything below the API
// reads Durations instead of parsing them again.
type Config struct {
	GroupConfig
	Durations Durations
}

// Durations are the durations of a GroupConfig, parsed, defaults applied.
type Durations struct {
	AggregationPeriod      time.Duration
	ReplacementDeferWindow time.Duration
	InitDeadline           time.Duration
	Cooldown               time.Duration
	// HealthInterval is health_check.interval (the default when the group
	// has no health check).
	HealthInterval time.Duration
	// Sim holds sim.boot_time and sim.boot_times; zero for other drivers.
	Sim SimDurations
	// Predictive holds the predictive durations; a zero field was left
	// unset and takes the forecaster's default.
	Predictive PredictiveDurations
}

// SimDurations are the durations of a SimConfig, parsed.
type SimDurations struct {
	BootTime  time.Duration
	BootTimes []time.Duration
}

// PredictiveDurations are the durations of a Predictive, parsed; zero when
// unset.
type PredictiveDurations struct {
	History, Interval, MinHistory time.Duration
}

// ParseConfig reads g's durations, writing the default of each one left
// empty, and returns the config with them parsed. It checks nothing else:
// it is for a config ResolveGroupConfig has already accepted (as stored),
// and its errors, naming the field, only report one that it has not.
func ParseConfig(g GroupConfig) (Config, error) {
	c := Config{GroupConfig: cloneResolved(g)}
	d := &c.Durations
	for _, f := range durationFields(&c.GroupConfig, d) {
		if err := resolveDuration(f.field, f.value, f.def, 0, f.dst); err != nil {
			return c, err
		}
	}
	var hc HealthCheck
	if c.HealthCheck != nil {
		hc = *c.HealthCheck
	}
	if err := resolveDuration("health_check.interval", &hc.Interval, DefaultHealthInterval, 0, &d.HealthInterval); err != nil {
		return c, err
	}
	if c.HealthCheck != nil {
		c.HealthCheck.Interval = hc.Interval
	}
	if s := c.Sim; s != nil {
		var err error
		if d.Sim, err = parseSim(s, 0); err != nil {
			return c, err
		}
	}
	if p := c.Predictive; p != nil {
		var err error
		if d.Predictive, err = ParsePredictive(*p); err != nil {
			return c, err
		}
	}
	return c, nil
}

type durationField struct {
	field string
	value *string
	def   string
	min   time.Duration
	dst   *time.Duration
}

// durationFields lists the group-level durations, in the order
// validation reports them.
func durationFields(cfg *GroupConfig, d *Durations) []durationField {
	return []durationField{
		{"aggregation_period", &cfg.AggregationPeriod, DefaultAggregationPeriod, MinAggregationPeriod, &d.AggregationPeriod},
		{"replacement_defer_window", &cfg.ReplacementDeferWindow, DefaultReplacementDeferWindow, 0, &d.ReplacementDeferWindow},
		{"init_deadline", &cfg.InitDeadline, DefaultInitDeadline, time.Second, &d.InitDeadline},
		{"cooldown", &cfg.Cooldown, DefaultCooldown, 0, &d.Cooldown},
	}
}

// resolveDuration defaults an empty duration, checks it parses and is at
// least min, and stores it in dst.
func resolveDuration(field string, v *string, def string, min time.Duration, dst *time.Duration) error {
	if *v == "" {
		*v = def
	}
	d, err := ParseDuration(*v)
	if err != nil {
		return Invalid(field, "%v", err)
	}
	if d < min {
		return Invalid(field, "must be at least %s; got %q", min, *v)
	}
	*dst = d
	return nil
}

// DefaultDurations are the Default* durations, parsed: what a group that
// sets none of them has, a sim group's boot time included.
func DefaultDurations() Durations {
	c, err := ParseConfig(GroupConfig{Sim: &SimConfig{}})
	if err != nil {
		panic("api: a default duration does not parse: " + err.Error())
	}
	return c.Durations
}

// ParseSim reads a sim config's boot times, defaults applied, naming the
// field of one that does not parse. The sim driver reads them here.
func ParseSim(s SimConfig) (SimDurations, error) {
	s.BootTimes = append([]string(nil), s.BootTimes...)
	return parseSim(&s, 0)
}

// ParseHealthInterval reads health_check.interval: zero when unset (the
// prober's default applies), an *Error naming the field when it does not
// parse. The local driver reads it here.
func ParseHealthInterval(hc HealthCheck) (time.Duration, error) {
	if hc.Interval == "" {
		return 0, nil
	}
	var d time.Duration
	err := resolveDuration("health_check.interval", &hc.Interval, "", 0, &d)
	return d, err
}

// parseSim defaults and parses sim.boot_time and sim.boot_times.
func parseSim(s *SimConfig, min time.Duration) (SimDurations, error) {
	var d SimDurations
	if err := resolveDuration("sim.boot_time", &s.BootTime, DefaultSimBootTime, min, &d.BootTime); err != nil {
		return d, err
	}
	if len(s.BootTimes) > 0 {
		d.BootTimes = make([]time.Duration, len(s.BootTimes))
	}
	for i := range s.BootTimes {
		if err := resolveDuration(fmt.Sprintf("sim.boot_times[%d]", i), &s.BootTimes[i], DefaultSimBootTime, min, &d.BootTimes[i]); err != nil {
			return d, err
		}
	}
	return d, nil
}

// ParsePredictive parses the predictive durations; an empty one is the
// forecaster's default and stays zero. Errors name the field.
func ParsePredictive(p Predictive) (PredictiveDurations, error) {
	var d PredictiveDurations
	for _, f := range []struct {
		field string
		value string
		dst   *time.Duration
	}{
		{"predictive.history", p.History, &d.History},
		{"predictive.interval", p.Interval, &d.Interval},
		{"predictive.min_history", p.MinHistory, &d.MinHistory},
	} {
		if f.value == "" {
			continue
		}
		v, err := ParseDuration(f.value)
		if err != nil {
			return d, Invalid(f.field, "%v", err)
		}
		if v == 0 {
			return d, Invalid(f.field, "must be positive; got %q", f.value)
		}
		*f.dst = v
	}
	return d, nil
}

// ParseTriggerFor parses a trigger's "for": empty, or a duration from 0 to
// MaxTriggerFor. pesd's validation, the trigger evaluator and the provider
// all read it here, so "1d" is accepted everywhere or nowhere.
func ParseTriggerFor(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("%q is negative: use a duration of 0 or more", s)
	}
	d, err := ParseDuration(s)
	switch {
	case err != nil:
		return 0, fmt.Errorf(`%q is not a duration: use a Go duration such as "2m" or "90s"`, s)
	case d > MaxTriggerFor:
		return 0, fmt.Errorf("%q is longer than 24h", s)
	}
	return d, nil
}

const day = 24 * time.Hour

// FormatDuration writes d the way pes settings are written: "90s",
// "1h30m", "24h", and in days from two days up ("2d", "14d", "2d12h").
// From a minute up it rounds to the minute.
func FormatDuration(d time.Duration) string {
	if d < 0 {
		return "-" + FormatDuration(-d)
	}
	if d >= time.Minute {
		d = d.Round(time.Minute)
	} else {
		d = d.Round(time.Second)
	}
	s := ""
	if d >= 2*day {
		s = fmt.Sprintf("%dd", d/day)
		if d %= day; d == 0 {
			return s
		}
	}
	r := d.String()
	if strings.HasSuffix(r, "m0s") {
		r = strings.TrimSuffix(r, "0s")
	}
	if strings.HasSuffix(r, "h0m") {
		r = strings.TrimSuffix(r, "0m")
	}
	return s + r
}

// ParseTargetDurations reads a target's window and scale-in stabilization,
// each defaulted when empty. An error names the field.
func ParseTargetDurations(t Target) (window, stabilization time.Duration, err error) {
	for _, f := range []struct {
		field, v string
		dst      *time.Duration
	}{
		{"target.window", cmp.Or(strings.TrimSpace(t.Window), DefaultTargetWindow), &window},
		{"target.scale_in_stabilization", cmp.Or(strings.TrimSpace(t.ScaleInStabilization), DefaultScaleInStabilization), &stabilization},
	} {
		d, perr := ParseDuration(f.v)
		if perr != nil {
			return 0, 0, Invalid(f.field, "%v", perr)
		}
		*f.dst = d
	}
	return window, stabilization, nil
}
