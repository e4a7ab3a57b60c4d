package api

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Billing is what a group's node time costs (issue 19, seed 000's "charges
// tied to each change"). Money is exact: the price is a decimal string
// read into micro-units of the currency, never a float.
type Billing struct {
	// PricePerNodeHour is a decimal string ("0.25"), at most six digits
	// after the point, zero or more.
	PricePerNodeHour string `json:"price_per_node_hour"`
	// Currency is an ISO 4217 code; "USD" when empty.
	Currency string `json:"currency,omitempty"`
	// Increment is the billing granularity: a node's time is billed in
	// whole increments ("1s", "1m", "1h"); "1s" when empty.
	Increment string `json:"increment,omitempty"`
	// Minimum is the least time billed for one node ("1m"); "0s" when
	// empty.
	Minimum string `json:"minimum,omitempty"`
}

// BillingRate is the billing in force from From on: a group keeps every
// billing it has had, so a change of price applies from its time on and
// earlier node time keeps its price.
type BillingRate struct {
	From time.Time `json:"from"`
	Billing
}

// Billing defaults.
const (
	DefaultCurrency         = "USD"
	DefaultBillingIncrement = "1s"
	DefaultBillingMinimum   = "0s"
	// MaxPricePerNodeHour bounds a price so that sums over years of
	// thousands of nodes stay within int64 micro-unit-seconds.
	MaxPricePerNodeHour = 1_000_000
)

// MicrosPerUnit: money is counted in millionths of the currency.
const MicrosPerUnit = 1_000_000

// Rate is a Billing parsed: the price in micro-units per node-hour and
// the durations.
type Rate struct {
	From         time.Time
	PriceMicros  int64 // per node-hour
	Currency     string
	Increment    time.Duration
	Minimum      time.Duration
	PricePerHour string // as written, for sentences
}

// ResolveBilling applies the defaults to b and checks it; errors name the
// field under billing.
func ResolveBilling(b *Billing) error {
	if b == nil {
		return nil
	}
	_, err := parseBilling(b)
	return err
}

// ParseBilling reads a resolved billing into a Rate in force from from.
func ParseBilling(b Billing, from time.Time) (Rate, error) {
	r, err := parseBilling(&b)
	r.From = from
	return r, err
}

func parseBilling(b *Billing) (Rate, error) {
	var r Rate
	micros, err := ParseMoney(b.PricePerNodeHour)
	if err != nil {
		return r, Invalid("billing.price_per_node_hour", "%v", err)
	}
	if micros > MaxPricePerNodeHour*MicrosPerUnit {
		return r, Invalid("billing.price_per_node_hour", "must be at most %d; got %q", MaxPricePerNodeHour, b.PricePerNodeHour)
	}
	if b.Currency == "" {
		b.Currency = DefaultCurrency
	}
	if len(b.Currency) != 3 || strings.ToUpper(b.Currency) != b.Currency || strings.ContainsFunc(b.Currency, func(c rune) bool { return c < 'A' || c > 'Z' }) {
		return r, Invalid("billing.currency", "must be a three-letter ISO 4217 code such as USD; got %q", b.Currency)
	}
	if err := resolveDuration("billing.increment", &b.Increment, DefaultBillingIncrement, time.Second, &r.Increment); err != nil {
		return r, err
	}
	if r.Increment%time.Second != 0 {
		return r, Invalid("billing.increment", "must be a whole number of seconds; got %q", b.Increment)
	}
	if err := resolveDuration("billing.minimum", &b.Minimum, DefaultBillingMinimum, 0, &r.Minimum); err != nil {
		return r, err
	}
	if r.Minimum%time.Second != 0 {
		return r, Invalid("billing.minimum", "must be a whole number of seconds; got %q", b.Minimum)
	}
	r.PriceMicros, r.Currency, r.PricePerHour = micros, b.Currency, b.PricePerNodeHour
	return r, nil
}

// ParseMoney reads a non-negative decimal ("0.25", "12", "0.000125") into
// micro-units, exactly.
func ParseMoney(s string) (int64, error) {
	t := strings.TrimSpace(s)
	switch {
	case t == "":
		return 0, fmt.Errorf(`is required: a decimal such as "0.25"`)
	case strings.HasPrefix(t, "-"):
		return 0, fmt.Errorf("must not be negative; got %q", s)
	}
	whole, frac, _ := strings.Cut(t, ".")
	if whole == "" || len(frac) > 6 || strings.Trim(whole, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" {
		return 0, fmt.Errorf(`must be a decimal with at most six digits after the point, such as "0.25"; got %q`, s)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > math.MaxInt64/MicrosPerUnit-1 {
		return 0, fmt.Errorf("is too large; got %q", s)
	}
	f := int64(0)
	if frac != "" {
		f, _ = strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64)
	}
	return w*MicrosPerUnit + f, nil
}

// FormatMoney writes micro-units as a decimal with six digits after the
// point ("10.383333").
func FormatMoney(micros int64) string {
	sign := ""
	if micros < 0 {
		sign, micros = "-", -micros
	}
	// strconv, not fmt: a costs answer formats one a row, and by cause
	// over months that is 100,000 rows.
	var b [32]byte
	out := append(b[:0], sign...)
	out = strconv.AppendInt(out, micros/MicrosPerUnit, 10)
	frac := micros % MicrosPerUnit
	out = append(out, ".000000"...)
	for i := len(out) - 1; frac > 0; i-- {
		out[i] = byte('0' + frac%10)
		frac /= 10
	}
	return string(out)
}

// SameBilling reports whether two billings (resolved or not) bill alike.
func SameBilling(a, b *Billing) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	ra, ea := ParseBilling(*a, time.Time{})
	rb, eb := ParseBilling(*b, time.Time{})
	if ea != nil || eb != nil {
		return *a == *b
	}
	return ra.PriceMicros == rb.PriceMicros && ra.Currency == rb.Currency &&
		ra.Increment == rb.Increment && ra.Minimum == rb.Minimum
}

// NextBillingHistory is the history after the group's billing became b at
// now: a new rate when it bills differently from the last one (a nil b, no
// billing, ends the last rate with a rate of price 0 only when there was
// one).
func NextBillingHistory(hist []BillingRate, b *Billing, now time.Time) []BillingRate {
	var last *Billing
	if n := len(hist); n > 0 {
		last = &hist[n-1].Billing
		if last.PricePerNodeHour == "" {
			last = nil
		}
	}
	if SameBilling(last, b) {
		return hist
	}
	next := BillingRate{From: now}
	if b != nil {
		next.Billing = *b
	}
	if b == nil && len(hist) == 0 {
		return hist
	}
	return append(append([]BillingRate(nil), hist...), next)
}

// Costs groupings: GET /v1/groups/{id}/costs?by=.
const (
	CostsByCause   = "cause"
	CostsByTrigger = "trigger"
	CostsByActor   = "actor"
	CostsByChange  = "change"
	CostsByDay     = "day"
)

// CostsBy lists the groupings.
func CostsBy() []string {
	return []string{CostsByCause, CostsByTrigger, CostsByActor, CostsByChange, CostsByDay}
}

// CostRow is one row of a costs answer: the node time and money of one
// key (a cause event, a trigger, an actor, a change or a UTC day) over the
// window, and the changes and events behind it.
type CostRow struct {
	// Key identifies the row: an event id (by=cause), a trigger or actor
	// ("user:ci", or "user:ci/alice" for a principal acting on behalf of
	// alice), a change id, a day (2026-12-07).
	Key string `json:"key"`
	// Label is how people read the key: "E5", "trigger cpu-high", "C7".
	Label string `json:"label"`
	// Type is the cause's event type (by=cause), the source kind (by=trigger,
	// by=actor: user, trigger, system), the change type (by=change).
	Type string `json:"type,omitempty"`
	// Name is the cause's source name: the trigger's or the user's.
	Name string `json:"name,omitempty"`
	// NodeSeconds and CostMicros are exact; the rows of an answer add up
	// to its totals.
	NodeSeconds int64   `json:"node_seconds"`
	NodeHours   float64 `json:"node_hours"`
	CostMicros  int64   `json:"cost_micros"`
	// Cost is CostMicros as a decimal string ("10.383333").
	Cost      string   `json:"cost"`
	ChangeIDs []string `json:"change_ids"`
	EventIDs  []string `json:"event_ids"`
	// Description says in words what the row is.
	Description string `json:"description"`
}

// Costs is GET /v1/groups/{id}/costs.
type Costs struct {
	GroupID  string    `json:"group_id"`
	By       string    `json:"by"`
	Since    time.Time `json:"since"`
	Until    time.Time `json:"until"`
	Currency string    `json:"currency"`
	// Rule is the attribution rule, in words.
	Rule             string    `json:"rule"`
	Rows             []CostRow `json:"rows"`
	TotalNodeSeconds int64     `json:"total_node_seconds"`
	TotalNodeHours   float64   `json:"total_node_hours"`
	TotalCostMicros  int64     `json:"total_cost_micros"`
	TotalCost        string    `json:"total_cost"`
	// NextPageToken, when the query gave a limit and more rows remain,
	// asks for the next page (page_token); the totals are always the
	// whole window's.
	NextPageToken string `json:"next_page_token,omitempty"`
}
