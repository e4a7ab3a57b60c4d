package window

// series is one metric of one group: samples sorted by time, live from
// start on. Trimming advances start; the dead prefix is reclaimed when it
// outgrows the live part, so memory stays within about twice the live
// samples.
type series struct {
	ts    []int64
	vs    []float64
	start int
	// nodes is the time of the newest sample of each node that reported
	// the metric (samples with a NodeID); nil for a group-wide metric.
	nodes map[string]int64
}

// reported notes a node's sample at t.
func (s *series) reported(node string, t int64) {
	if s.nodes == nil {
		s.nodes = map[string]int64{}
	}
	if last, ok := s.nodes[node]; !ok || t > last {
		s.nodes[node] = t
	}
}

func (s *series) len() int { return len(s.ts) - s.start }

// insert adds a sample in time order. Samples nearly always arrive in
// order, so the common case is an append; a late one is shifted in. Equal
// times keep arrival order.
func (s *series) insert(t int64, v float64) {
	n := len(s.ts)
	if n == s.start || s.ts[n-1] <= t {
		s.ts = append(s.ts, t)
		s.vs = append(s.vs, v)
		return
	}
	i := s.start + upperBound(s.ts[s.start:], t)
	s.ts = append(s.ts, 0)
	s.vs = append(s.vs, 0)
	copy(s.ts[i+1:], s.ts[i:n])
	copy(s.vs[i+1:], s.vs[i:n])
	s.ts[i], s.vs[i] = t, v
}

// trim drops samples at or before cutoff.
func (s *series) trim(cutoff int64) {
	if s.len() == 0 || s.ts[s.start] > cutoff {
		return
	}
	s.start += upperBound(s.ts[s.start:], cutoff)
	live := s.len()
	if s.start < 64 || s.start < live {
		return
	}
	// Copy the live part into right-sized slices so a burst does not pin
	// its memory forever.
	c := max(live+live/4, 16)
	ts, vs := make([]int64, live, c), make([]float64, live, c)
	copy(ts, s.ts[s.start:])
	copy(vs, s.vs[s.start:])
	s.ts, s.vs, s.start = ts, vs, 0
}

// window returns the index range [i, j) of the samples in (from, to].
func (s *series) window(from, to int64) (i, j int) {
	live := s.ts[s.start:]
	i = upperBound(live, from)
	j = i + upperBound(live[i:], to)
	return s.start + i, s.start + j
}

// upperBound returns the index of the first element of ts greater than t.
func upperBound(ts []int64, t int64) int {
	lo, hi := 0, len(ts)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ts[m] <= t {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
