package trigger

import (
	"math"
	"time"
)

// funcKind is one function of the condition language.
type funcKind uint8

const (
	fnAvg funcKind = iota
	fnMin
	fnMax
	fnSum
	fnCount
	fnLast
	fnPercentile
	fnRate
	fnHour
	fnWeekday
)

// param is the role of one argument.
type param uint8

const (
	pMetric   param = iota // a metric name, bare or quoted
	pQuantile              // a number literal in [0, 100]
	pWindow                // a quoted Go duration
)

type funcSpec struct {
	kind   funcKind
	name   string
	params []param
	usage  string
}

// funcNames lists the functions, for "did you mean" hints.
func funcNames() []string {
	return []string{"avg", "min", "max", "sum", "count", "last", "percentile", "rate", "hour", "weekday"}
}

func lookupFunc(name string) (funcSpec, bool) {
	mw := []param{pMetric, pWindow}
	switch name {
	case "avg":
		return funcSpec{fnAvg, name, mw, "avg(cpu_utilization, '2m')"}, true
	case "min":
		return funcSpec{fnMin, name, mw, "min(cpu_utilization, '2m')"}, true
	case "max":
		return funcSpec{fnMax, name, mw, "max(cpu_utilization, '2m')"}, true
	case "sum":
		return funcSpec{fnSum, name, mw, "sum(requests, '1m')"}, true
	case "count":
		return funcSpec{fnCount, name, mw, "count(requests, '1m')"}, true
	case "last":
		return funcSpec{fnLast, name, []param{pMetric}, "last(queue_depth)"}, true
	case "percentile":
		return funcSpec{fnPercentile, name, []param{pMetric, pQuantile, pWindow}, "percentile(latency_ms, 95, '5m')"}, true
	case "rate":
		return funcSpec{fnRate, name, mw, "rate(queue_depth, '5m')"}, true
	case "hour":
		return funcSpec{fnHour, name, nil, "hour()"}, true
	case "weekday":
		return funcSpec{fnWeekday, name, nil, "weekday()"}, true
	}
	return funcSpec{}, false
}

// aggregate computes one window function over the samples src yields for
// (now-window, now]. ok is false when there are no samples, or for rate
// fewer than two distinct times: the value is then unknown.
func aggregate(c *call, now time.Time, src Source, scratch *[]float64) (v float64, ok bool) {
	if c.kind == fnLast {
		return src.Last(c.metric, now)
	}
	from := now.Add(-c.window)
	switch c.kind {
	case fnAvg, fnSum, fnCount:
		var n int
		var sum float64
		src.Scan(c.metric, from, now, func(_ []int64, vs []float64) {
			n += len(vs)
			sum += sumOf(vs)
		})
		switch {
		case n == 0:
			return 0, false
		case c.kind == fnAvg:
			return sum / float64(n), true
		case c.kind == fnSum:
			return sum, true
		default:
			return float64(n), true
		}
	case fnMin, fnMax:
		var n int
		m := math.Inf(1)
		if c.kind == fnMax {
			m = math.Inf(-1)
		}
		isMax := c.kind == fnMax
		src.Scan(c.metric, from, now, func(_ []int64, vs []float64) {
			n += len(vs)
			if isMax {
				for _, x := range vs {
					m = max(m, x)
				}
				return
			}
			for _, x := range vs {
				m = min(m, x)
			}
		})
		return m, n > 0
	case fnPercentile:
		buf := (*scratch)[:0]
		src.Scan(c.metric, from, now, func(_ []int64, vs []float64) {
			buf = append(buf, vs...)
		})
		*scratch = buf
		if len(buf) == 0 {
			return 0, false
		}
		return percentile(buf, c.quantile), true
	case fnRate:
		return rate(c.metric, from, now, src)
	}
	return 0, false
}

// sumOf adds xs with four accumulators, so the additions do not wait on
// one another.
func sumOf(xs []float64) float64 {
	var a, b, c, d float64
	i := 0
	for ; i+4 <= len(xs); i += 4 {
		a += xs[i]
		b += xs[i+1]
		c += xs[i+2]
		d += xs[i+3]
	}
	for ; i < len(xs); i++ {
		a += xs[i]
	}
	return (a + b) + (c + d)
}

// rate is the least-squares slope of value over time, per second: a trend
// that one noisy sample at either end of the window cannot swing.
func rate(metric string, from, now time.Time, src Source) (float64, bool) {
	var n, st, sv, stt, stv float64
	var t0 int64
	first := true
	src.Scan(metric, from, now, func(ts []int64, vs []float64) {
		if first && len(ts) > 0 {
			t0, first = ts[0], false
		}
		for i, t := range ts {
			// Seconds from the first sample keep the sums small and exact
			// enough in float64.
			x := float64(t-t0) * 1e-9
			y := vs[i]
			n++
			st += x
			sv += y
			stt += x * x
			stv += x * y
		}
	})
	den := n*stt - st*st
	if n < 2 || den <= 0 {
		return 0, false
	}
	return (n*stv - st*sv) / den, true
}

// percentile returns the q-th percentile (0..100) of xs with linear
// interpolation between closest ranks, as spreadsheets and numpy do. It
// reorders xs; selection keeps it O(n) on average.
func percentile(xs []float64, q float64) float64 {
	n := len(xs)
	if n == 1 {
		return xs[0]
	}
	pos := q / 100 * float64(n-1)
	k := int(math.Floor(pos))
	if k >= n-1 {
		return selectKth(xs, n-1)
	}
	lo := selectKth(xs, k)
	frac := pos - float64(k)
	if frac == 0 {
		return lo
	}
	// After selection every element right of k is >= lo; the next rank is
	// their minimum.
	hi := xs[k+1]
	for _, x := range xs[k+2:] {
		if x < hi {
			hi = x
		}
	}
	return lo + frac*(hi-lo)
}

// selectKth reorders xs so that xs[k] is the k-th smallest (0-based), every
// element before it is <= and every element after it >=, and returns it
// (Hoare's quickselect with a median-of-three pivot).
func selectKth(xs []float64, k int) float64 {
	lo, hi := 0, len(xs)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if xs[mid] < xs[lo] {
			xs[mid], xs[lo] = xs[lo], xs[mid]
		}
		if xs[hi] < xs[lo] {
			xs[hi], xs[lo] = xs[lo], xs[hi]
		}
		if xs[hi] < xs[mid] {
			xs[hi], xs[mid] = xs[mid], xs[hi]
		}
		pivot := xs[mid]
		i, j := lo, hi
		for i <= j {
			for xs[i] < pivot {
				i++
			}
			for xs[j] > pivot {
				j--
			}
			if i <= j {
				xs[i], xs[j] = xs[j], xs[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return xs[k]
		}
	}
	return xs[k]
}
