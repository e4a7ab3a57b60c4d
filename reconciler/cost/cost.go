// Package cost is pesd's node-time accounting, as pure functions over what
// the store recorded: the billed interval of every node, what it cost at
// the prices in force, and how that time is attributed to the change that
// launched the node and, through the change's nexus, to the events that
// caused it (issue 19, seed 000's "why was I charged for 12 nodes?").
//
// Node time runs from launch (api.Node.LaunchedAt, which pesd stamps
// when it decides the launch, whatever the driver) until termination: a
// provider bills a node that is still booting, so pes does too.
//
// Money is exact: prices are integer micro-units per node-hour, and every
// sum is an integer count of micro-unit-seconds per hour ("units": a price
// times seconds), divided by 3600 only when rows are written, by largest
// remainder, so rows always add up to the total.
package cost

import (
	"math/bits"
	"slices"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// Rates are a group's billing history parsed, oldest first. A rate with
// PriceMicros 0 and no currency is a time with no billing.
type Rates []api.Rate

// ParseRates reads a group's billing history; a rate that does not parse
// (it cannot, pesd validated it) counts as no billing.
func ParseRates(hist []api.BillingRate) Rates {
	rs := make(Rates, 0, len(hist))
	for _, h := range hist {
		r, err := api.ParseBilling(h.Billing, h.From)
		if h.PricePerNodeHour == "" || err != nil {
			r = api.Rate{From: h.From, Increment: time.Second}
		}
		rs = append(rs, r)
	}
	return rs
}

// At returns the rate in force at t (the zero rate, 1s increments and no
// price, before the first).
func (rs Rates) At(t time.Time) api.Rate {
	i, _ := slices.BinarySearchFunc(rs, t, func(r api.Rate, t time.Time) int {
		if r.From.After(t) {
			return 1
		}
		return -1
	})
	if i == 0 {
		return api.Rate{Increment: time.Second}
	}
	return rs[i-1]
}

// Currency is the currency of the latest rate with a price ("" when the
// group was never billed).
func (rs Rates) Currency() string {
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].Currency != "" {
			return rs[i].Currency
		}
	}
	return ""
}

// Billed is the end of a node's billed time when it ran from launch to
// stop: whole increments, at least the minimum. The terms are those in
// force at launch, as a provider fixes them when it starts an instance.
func Billed(launch, stop time.Time, increment, minimum time.Duration) time.Time {
	ran := max(stop.Sub(launch), 0)
	if increment > 0 {
		ran = (ran + increment - 1) / increment * increment
	}
	return launch.Add(max(ran, minimum))
}

// PaidUntil is when the time already paid for a live node ends at now:
// the end of its increment in progress (at least launch + minimum). A node
// removed before then has been paid for until then anyway.
func PaidUntil(launch, now time.Time, increment, minimum time.Duration) time.Time {
	end := Billed(launch, now, increment, minimum)
	if !end.After(now) && increment > 0 {
		// Exactly on a boundary: the next increment starts now.
		end = end.Add(increment)
	}
	return end
}

// PaidUntil is the package's PaidUntil with the terms of the rate in
// force at the node's launch.
func (rs Rates) PaidUntil(launch, now time.Time) time.Time {
	r := rs.At(launch)
	return PaidUntil(launch, now, r.Increment, r.Minimum)
}

// Span is a piece of a node's billed time at one price.
type Span struct {
	Start, End  time.Time
	PriceMicros int64 // per node-hour
	// Origin is the node's launch: seconds are counted from it, so the
	// pieces of a span cut anywhere (at a price change, a window's edge,
	// midnight) add up to the whole in whole seconds.
	Origin time.Time
}

// Seconds is the span's length in whole seconds counted from its origin.
func (s Span) Seconds() int64 {
	return int64(s.End.Sub(s.Origin)/time.Second) - int64(s.Start.Sub(s.Origin)/time.Second)
}

// Units is the span's price times its seconds: micro-units × seconds per
// hour. Divided by 3600 it is micro-units.
func (s Span) Units() int64 { return s.PriceMicros * s.Seconds() }

// Spans cuts a node's billed time within [since, until) into pieces of one
// price each. A live node (no TerminatedAt) runs until now.
func (rs Rates) Spans(n api.Node, now, since, until time.Time) []Span {
	stop := now
	if n.TerminatedAt != nil {
		stop = *n.TerminatedAt
	}
	r := rs.At(n.LaunchedAt)
	end := Billed(n.LaunchedAt, stop, r.Increment, r.Minimum)
	if n.TerminatedAt == nil && end.After(now) {
		end = now // so far: time not yet passed is not counted
	}
	start := n.LaunchedAt
	if start.Before(since) {
		start = since
	}
	if !until.IsZero() && end.After(until) {
		end = until
	}
	if !end.After(start) {
		return nil
	}
	var out []Span
	for start.Before(end) {
		cur := rs.At(start)
		next := end
		for _, r := range rs {
			if r.From.After(start) {
				if r.From.Before(next) {
					next = r.From
				}
				break
			}
		}
		out = append(out, Span{Start: start, End: next, PriceMicros: cur.PriceMicros, Origin: n.LaunchedAt})
		start = next
	}
	return out
}

// apportion splits total into parts proportional to weights, by largest
// remainder, so the parts are whole and add up to total exactly. Ties go
// to the earlier weight.
func apportion(total int64, weights []int64) []int64 {
	return apportionInto(make([]int64, 0, len(weights)), total, weights)
}

// apportionInto is apportion appending the parts to dst. A change's few
// shares are split without allocating: a query over months splits
// hundreds of thousands.
func apportionInto(dst []int64, total int64, weights []int64) []int64 {
	base := len(dst)
	for range weights {
		dst = append(dst, 0)
	}
	out := dst[base:]
	var sum int64
	for _, w := range weights {
		sum += w
	}
	if sum == 0 || len(weights) == 0 {
		return dst
	}
	neg := total < 0
	if neg {
		total = -total
	}
	var remBuf [8]uint64
	var orderBuf [8]int
	rem, order := remBuf[:0], orderBuf[:0]
	if len(weights) > len(remBuf) {
		rem, order = make([]uint64, 0, len(weights)), make([]int, 0, len(weights))
	}
	var given int64
	for i, w := range weights {
		hi, lo := bits.Mul64(uint64(total), uint64(w))
		q, r := bits.Div64(hi, lo, uint64(sum))
		out[i] = int64(q)
		rem = append(rem, r)
		order = append(order, i)
		given += int64(q)
	}
	if given < total {
		// Largest remainder first, ties to the earlier weight (a total
		// order, so an unstable sort gives the stable one's result).
		slices.SortFunc(order, func(a, b int) int {
			switch {
			case rem[a] > rem[b]:
				return -1
			case rem[a] < rem[b]:
				return 1
			}
			return a - b
		})
	}
	for k := 0; given < total; k++ {
		out[order[k%len(order)]]++
		given++
	}
	if neg {
		for i := range out {
			out[i] = -out[i]
		}
	}
	return dst
}

// Micros turns units (price × seconds per hour) into micro-units, rounded
// half up.
func Micros(units int64) int64 { return (units + 1800) / 3600 }

// Slack is the longest a node's billed time can run past its termination
// under any of the rates (a whole increment, or the minimum): a node
// terminated that long before a window may still have time in it.
func (rs Rates) Slack() time.Duration {
	var d time.Duration
	for _, r := range rs {
		d = max(d, r.Increment, r.Minimum)
	}
	return d
}

// CurrencyIn is the currency of the latest rate with a price in force at
// some time from since to until ("" when none was: no billing then).
func (rs Rates) CurrencyIn(since, until time.Time) string {
	for i := len(rs) - 1; i >= 0; i-- {
		r := rs[i]
		if r.From.After(until) {
			continue
		}
		if r.Currency != "" {
			return r.Currency
		}
		if !r.From.After(since) {
			break // the rates before it were not in force from since on
		}
	}
	return ""
}
