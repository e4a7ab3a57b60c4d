package api

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The long-poll read of a group: GET /v1/groups/{id}?wait=<cond>&timeout=<d>
// answers as soon as cond holds, or once the group is deleted, or at the
// timeout, with the group as it is then. HeaderWait says which.
const (
	HeaderWait      = "X-Pes-Wait"
	WaitMet         = "met"     // the condition holds
	WaitTimeout     = "timeout" // the timeout passed first
	WaitDeleted     = "deleted" // the group is deleted: the condition may never hold
	DefaultWaitTime = 30 * time.Second
	MaxWaitTime     = 60 * time.Second
)

// GroupWait is a condition on a group's quantities, written
// "<field><op><n>" (actual_quantity>=3).
type GroupWait struct {
	Field string // actual_quantity, desired_quantity or official_quantity
	Op    string // >=, <=, ==
	Value int
}

var waitFields = []string{"actual_quantity", "desired_quantity", "official_quantity"}

// ParseGroupWait reads a wait condition; errors name the field "wait".
func ParseGroupWait(s string) (GroupWait, error) {
	var w GroupWait
	for _, op := range []string{">=", "<=", "=="} {
		if f, v, ok := strings.Cut(s, op); ok {
			w.Field, w.Op = strings.TrimSpace(f), op
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 0 {
				return w, Invalid("wait", "must compare with a whole number ≥ 0, as in actual_quantity>=3; got %q", s)
			}
			w.Value = n
			break
		}
	}
	if w.Op == "" {
		return w, Invalid("wait", "must be <field><op><n> with op >=, <= or ==, as in actual_quantity>=3; got %q", s)
	}
	if !slices.Contains(waitFields, w.Field) {
		return w, Invalid("wait", "must compare one of %s; got %q", strings.Join(waitFields, ", "), s)
	}
	return w, nil
}

// ParseWaitTimeout reads the timeout of a wait ("" is DefaultWaitTime);
// errors name the field "timeout".
func ParseWaitTimeout(s string) (time.Duration, error) {
	if s == "" {
		return DefaultWaitTime, nil
	}
	d, err := ParseDuration(s)
	if err != nil || d <= 0 || d > MaxWaitTime {
		return 0, Invalid("timeout", "must be a duration above 0s and at most %s, as in 30s; got %q", MaxWaitTime, s)
	}
	return d, nil
}

// String writes the condition as ParseGroupWait reads it.
func (w GroupWait) String() string { return fmt.Sprintf("%s%s%d", w.Field, w.Op, w.Value) }

// Holds reports whether g meets the condition.
func (w GroupWait) Holds(g Group) bool {
	var v int
	switch w.Field {
	case "actual_quantity":
		v = g.ActualQuantity
	case "desired_quantity":
		v = g.DesiredQuantity
	case "official_quantity":
		v = g.OfficialQuantity
	}
	switch w.Op {
	case ">=":
		return v >= w.Value
	case "<=":
		return v <= w.Value
	default:
		return v == w.Value
	}
}
