package trigger

import (
	"sort"
	"time"
)

// fakeSource is an in-memory Source for tests: samples per metric, kept
// sorted by time.
type fakeSource map[string][]point

type point struct {
	t int64
	v float64
}

func (f fakeSource) add(metric string, t time.Time, v float64) {
	ps := append(f[metric], point{t.UnixNano(), v})
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].t < ps[j].t })
	f[metric] = ps
}

func (f fakeSource) Scan(metric string, from, to time.Time, fn func([]int64, []float64)) {
	var ts []int64
	var vs []float64
	for _, p := range f[metric] {
		if p.t > from.UnixNano() && p.t <= to.UnixNano() {
			ts = append(ts, p.t)
			vs = append(vs, p.v)
		}
	}
	// Hand the window over in two chunks, as a ring buffer might, so the
	// functions are tested against split windows.
	if len(ts) > 1 {
		h := len(ts) / 2
		fn(ts[:h], vs[:h])
		fn(ts[h:], vs[h:])
		return
	}
	if len(ts) == 1 {
		fn(ts, vs)
	}
}

func (f fakeSource) Last(metric string, at time.Time) (float64, bool) {
	ps := f[metric]
	for i := len(ps) - 1; i >= 0; i-- {
		if ps[i].t <= at.UnixNano() {
			return ps[i].v, true
		}
	}
	return 0, false
}
