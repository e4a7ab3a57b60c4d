// Package window keeps recent metric samples in memory, per group and
// metric, for trigger conditions to read through windows.
//
// Each (group, metric) series holds its samples sorted by time in two
// parallel slices (Unix nanoseconds and values: 16 bytes a sample), so a
// window is found by binary search and read as one contiguous run. Samples
// older than the retention are dropped as new ones arrive and on Prune.
//
// A sample may carry the node that reported it, but windows aggregate
// every sample of the group's metric in the window, across nodes: avg of a
// per-node cpu_utilization over 2m is the mean of all nodes' samples in
// those 2 minutes, and last() is the newest sample of any node. Of node
// IDs, only when each node last reported a metric is kept (LastSeen), so
// target tracking can tell a ready node that stopped reporting.
//
// The package is pure Go: no store, no I/O. Persisting samples (to rebuild
// windows after a restart) is the caller's business.
package window

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
)

// DefaultRetention is how long samples are kept unless configured.
const DefaultRetention = time.Hour

// MaxNameLength bounds metric names.
const MaxNameLength = 128

// Sample is one metric sample. A zero Time means "now" when added.
type Sample struct {
	Name   string
	Value  float64
	NodeID string
	Time   time.Time
}

// Validate says what is wrong with a sample, naming the field.
func (s Sample) Validate() error {
	switch {
	case strings.TrimSpace(s.Name) == "":
		return &SampleError{Field: "name", Message: "is empty"}
	case len(s.Name) > MaxNameLength:
		return &SampleError{Field: "name", Message: fmt.Sprintf("is longer than %d characters", MaxNameLength)}
	case !writableName(s.Name):
		// A condition names the metric in quotes; keep every name writable.
		return &SampleError{Field: "name", Message: "must not contain quotes, backslashes or control characters"}
	case math.IsNaN(s.Value) || math.IsInf(s.Value, 0):
		return &SampleError{Field: "value", Message: "must be a finite number"}
	}
	return nil
}

// writableName reports whether a name has no quotes, backslashes or
// control characters.
func writableName(name string) bool {
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c < 0x20, c == 0x7f, c == '\'', c == '"', c == '\\':
			return false
		}
	}
	return true
}

// SampleError is an invalid sample field.
type SampleError struct {
	Field   string
	Message string
}

func (e *SampleError) Error() string { return e.Field + " " + e.Message }

// Options configure a Store.
type Options struct {
	// Retention is how long samples are kept; 0 means DefaultRetention.
	// EnsureRetention raises it to cover the longest window in use.
	Retention time.Duration
}

// Store holds the metric windows of every group. It is safe for
// concurrent use: the API adds samples while triggers read them.
type Store struct {
	clk clock.Clock

	mu        sync.RWMutex
	retention time.Duration
	groups    map[string]*group
}

type group struct {
	mu     sync.RWMutex
	series map[string]*series
}

// New returns an empty Store that reads the time from clk.
func New(clk clock.Clock, opts Options) *Store {
	r := opts.Retention
	if r <= 0 {
		r = DefaultRetention
	}
	return &Store{clk: clk, retention: r, groups: map[string]*group{}}
}

// Retention returns how long samples are kept.
func (s *Store) Retention() time.Duration {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.retention
}

// EnsureRetention raises the retention to at least d (the longest window
// a trigger reads); it never lowers it.
func (s *Store) EnsureRetention(d time.Duration) {
	s.mu.Lock()
	s.retention = max(s.retention, d)
	s.mu.Unlock()
}

// Add records samples of a group and returns how many it accepted. It
// skips invalid samples (see Sample.Validate) and samples older than the
// retention; callers that must report them check Validate first.
func (s *Store) Add(groupID string, samples ...Sample) int {
	now := s.clk.Now()
	s.mu.RLock()
	g, cutoff := s.groups[groupID], now.Add(-s.retention).UnixNano()
	s.mu.RUnlock()
	if g == nil {
		s.mu.Lock()
		if g = s.groups[groupID]; g == nil {
			g = &group{series: map[string]*series{}}
			s.groups[groupID] = g
		}
		s.mu.Unlock()
	}

	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, smp := range samples {
		if smp.Validate() != nil {
			continue
		}
		t := now.UnixNano()
		if !smp.Time.IsZero() {
			t = smp.Time.UnixNano()
		}
		if t <= cutoff {
			continue
		}
		sr := g.series[smp.Name]
		if sr == nil {
			sr = &series{}
			g.series[smp.Name] = sr
		}
		sr.insert(t, smp.Value)
		if smp.NodeID != "" {
			sr.reported(smp.NodeID, t)
		}
		n++
	}
	for _, sr := range g.series {
		sr.trim(cutoff)
	}
	return n
}

// NewSeries returns how many series a group holds and the names among
// samples it holds none of yet, each once: what adding them would cost.
func (s *Store) NewSeries(groupID string, samples []Sample) (have int, fresh []string) {
	g := s.group(groupID)
	seen := map[string]bool{}
	if g != nil {
		g.mu.RLock()
		defer g.mu.RUnlock()
		have = len(g.series)
	}
	for _, smp := range samples {
		if seen[smp.Name] {
			continue
		}
		seen[smp.Name] = true
		if g == nil || g.series[smp.Name] == nil {
			fresh = append(fresh, smp.Name)
		}
	}
	return have, fresh
}

// DropGroup forgets every sample of a group.
func (s *Store) DropGroup(groupID string) {
	s.mu.Lock()
	delete(s.groups, groupID)
	s.mu.Unlock()
}

// Prune drops samples older than the retention as of now, and series and
// groups left empty. Add prunes the group it adds to; Prune catches the
// groups that stopped reporting.
func (s *Store) Prune(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cutoff := now.Add(-s.retention).UnixNano()
	for id, g := range s.groups {
		g.mu.Lock()
		for name, sr := range g.series {
			sr.trim(cutoff)
			if sr.len() == 0 {
				delete(g.series, name)
			}
			// Here rather than at every Add: LastSeen skips entries
			// past the retention meanwhile.
			for node, t := range sr.nodes {
				if t <= cutoff {
					delete(sr.nodes, node)
				}
			}
		}
		empty := len(g.series) == 0
		g.mu.Unlock()
		if empty {
			delete(s.groups, id)
		}
	}
}

// Stats describes what a Store holds.
type Stats struct {
	Groups  int
	Series  int
	Samples int
}

// Stats counts groups, series and samples.
func (s *Store) Stats() Stats {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := Stats{Groups: len(s.groups)}
	for _, g := range s.groups {
		g.mu.RLock()
		st.Series += len(g.series)
		for _, sr := range g.series {
			st.Samples += sr.len()
		}
		g.mu.RUnlock()
	}
	return st
}

// Names returns the metric names a group has samples of, sorted.
func (s *Store) Names(groupID string) []string {
	g := s.group(groupID)
	if g == nil {
		return nil
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	names := make([]string, 0, len(g.series))
	for n := range g.series {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (s *Store) group(id string) *group {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.groups[id]
}

// Group returns a read view of one group's samples: it satisfies
// trigger.Source. The view reads the samples as they are at each call.
func (s *Store) Group(groupID string) View {
	return View{s: s, id: groupID}
}

// View reads one group's metric windows.
type View struct {
	s  *Store
	id string
}

// Scan calls fn, oldest first, with the times (Unix nanoseconds) and
// values of the samples of metric in (from, to]. fn runs under the
// group's read lock and must not keep the slices or call back into the
// Store.
func (v View) Scan(metric string, from, to time.Time, fn func(times []int64, values []float64)) {
	g := v.s.group(v.id)
	if g == nil {
		return
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	sr := g.series[metric]
	if sr == nil {
		return
	}
	i, j := sr.window(from.UnixNano(), to.UnixNano())
	if i < j {
		fn(sr.ts[i:j], sr.vs[i:j])
	}
}

// Last returns the newest value of metric at or before at, within the
// retention.
func (v View) Last(metric string, at time.Time) (float64, bool) {
	v.s.mu.RLock()
	g, from := v.s.groups[v.id], at.Add(-v.s.retention).UnixNano()
	v.s.mu.RUnlock()
	if g == nil {
		return 0, false
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	sr := g.series[metric]
	if sr == nil {
		return 0, false
	}
	// Samples past the retention may linger until the next Add or Prune;
	// they are not "last" any more.
	i, j := sr.window(from, at.UnixNano())
	if i == j {
		return 0, false
	}
	return sr.vs[j-1], true
}

// LastSeen returns, for each node that reported metric within the
// retention (samples with its NodeID), the time of its newest sample; nil
// when no sample named a node, as for a group-wide metric such as a
// Prometheus query's result.
func (v View) LastSeen(metric string) map[string]time.Time {
	v.s.mu.RLock()
	g, cutoff := v.s.groups[v.id], v.s.clk.Now().Add(-v.s.retention).UnixNano()
	v.s.mu.RUnlock()
	if g == nil {
		return nil
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	sr := g.series[metric]
	if sr == nil {
		return nil
	}
	var out map[string]time.Time
	for node, t := range sr.nodes {
		if t <= cutoff {
			continue // past the retention, not yet pruned
		}
		if out == nil {
			out = make(map[string]time.Time, len(sr.nodes))
		}
		out[node] = time.Unix(0, t).UTC()
	}
	return out
}
