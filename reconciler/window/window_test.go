package window_test

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
	"github.com/pes-project/terraform-provider-pes/reconciler/trigger"
	"github.com/pes-project/terraform-provider-pes/reconciler/window"
)

// The store's view is what trigger conditions read.
var _ trigger.Source = window.View{}

var t0 = time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)

// window collects what Scan yields.
func windowOf(v window.View, metric string, from, to time.Time) (ts []time.Time, vs []float64) {
	v.Scan(metric, from, to, func(t []int64, x []float64) {
		for i := range t {
			ts = append(ts, time.Unix(0, t[i]).UTC())
			vs = append(vs, x[i])
		}
	})
	return ts, vs
}

func TestScanWindows(t *testing.T) {
	clk := clock.NewFake(t0)
	s := window.New(clk, window.Options{})
	// Out of order, two nodes, one duplicate time.
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	n := s.Add("g", []window.Sample{
		{Name: "cpu", Value: 3, NodeID: "n1", Time: at(-30)},
		{Name: "cpu", Value: 1, NodeID: "n2", Time: at(-50)},
		{Name: "cpu", Value: 5, NodeID: "n1", Time: at(-10)},
		{Name: "cpu", Value: 2, NodeID: "n2", Time: at(-40)},
		{Name: "cpu", Value: 4, NodeID: "n2", Time: at(-20)},
		{Name: "cpu", Value: 6, NodeID: "n2", Time: at(-10)},
		{Name: "mem", Value: 100},                          // no time: now
		{Name: "cpu", Value: 9, NodeID: "n1", Time: at(5)}, // in the future
	}...)
	if n != 8 {
		t.Fatalf("Add accepted %d, want 8", n)
	}
	v := s.Group("g")
	tests := []struct {
		name     string
		metric   string
		from, to time.Time
		want     []float64
	}{
		{"all up to now", "cpu", at(-60), t0, []float64{1, 2, 3, 4, 5, 6}},
		{"from is exclusive", "cpu", at(-40), t0, []float64{3, 4, 5, 6}},
		{"to is inclusive", "cpu", at(-60), at(-30), []float64{1, 2, 3}},
		{"the future is outside now", "cpu", at(-15), t0, []float64{5, 6}},
		{"later windows see it", "cpu", at(-15), at(10), []float64{5, 6, 9}},
		{"empty window", "cpu", at(-9), at(-1), nil},
		{"window before everything", "cpu", at(-600), at(-100), nil},
		{"sample without time is now", "mem", at(-1), t0, []float64{100}},
		{"unknown metric", "disk", at(-60), t0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, vs := windowOf(v, tt.metric, tt.from, tt.to)
			if fmt.Sprint(vs) != fmt.Sprint(tt.want) {
				t.Errorf("values = %v, want %v", vs, tt.want)
			}
			for i := 1; i < len(ts); i++ {
				if ts[i].Before(ts[i-1]) {
					t.Errorf("not in time order: %v", ts)
				}
			}
		})
	}
	if _, vs := windowOf(s.Group("other"), "cpu", at(-60), t0); vs != nil {
		t.Errorf("another group sees %v", vs)
	}
	if got := s.Names("g"); fmt.Sprint(got) != "[cpu mem]" {
		t.Errorf("Names = %v", got)
	}
}

func TestLast(t *testing.T) {
	clk := clock.NewFake(t0)
	s := window.New(clk, window.Options{Retention: 10 * time.Minute})
	s.Add("g",
		window.Sample{Name: "q", Value: 1, Time: t0.Add(-5 * time.Minute)},
		window.Sample{Name: "q", Value: 2, Time: t0.Add(-time.Minute)},
		window.Sample{Name: "q", Value: 3, Time: t0.Add(time.Minute)},
	)
	v := s.Group("g")
	tests := []struct {
		at   time.Time
		want float64
		ok   bool
	}{
		{t0, 2, true},
		{t0.Add(-time.Minute), 2, true},
		{t0.Add(-2 * time.Minute), 1, true},
		{t0.Add(-6 * time.Minute), 0, false},
		{t0.Add(2 * time.Minute), 3, true},
		// Past the retention a sample is no longer "last", even before
		// anything prunes it.
		{t0.Add(10*time.Minute + 59*time.Second), 3, true},
		{t0.Add(11 * time.Minute), 0, false},
	}
	for _, tt := range tests {
		got, ok := v.Last("q", tt.at)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Last at %v = %v, %v; want %v, %v", tt.at, got, ok, tt.want, tt.ok)
		}
	}
	if _, ok := v.Last("nope", t0); ok {
		t.Error("Last of an unknown metric")
	}
}

func TestRetention(t *testing.T) {
	clk := clock.NewFake(t0)
	s := window.New(clk, window.Options{Retention: time.Minute})
	if s.Retention() != time.Minute {
		t.Fatalf("Retention() = %v", s.Retention())
	}
	if window.New(clk, window.Options{}).Retention() != window.DefaultRetention {
		t.Error("the default retention is not 1h")
	}
	// Older than the retention: refused.
	if n := s.Add("g", window.Sample{Name: "x", Value: 1, Time: t0.Add(-2 * time.Minute)}); n != 0 {
		t.Errorf("accepted %d samples older than the retention", n)
	}
	for i := range 120 {
		clk.Set(t0.Add(time.Duration(i) * time.Second))
		s.Add("g", window.Sample{Name: "x", Value: float64(i)})
	}
	// Now t0+119s: the samples of the last minute remain.
	_, vs := windowOf(s.Group("g"), "x", t0.Add(-time.Hour), t0.Add(time.Hour))
	if len(vs) != 60 || vs[0] != 60 {
		t.Errorf("after trimming: %d samples from %v, want 60 from 60", len(vs), vs[:1])
	}
	// EnsureRetention raises, never lowers.
	s.EnsureRetention(5 * time.Minute)
	s.EnsureRetention(30 * time.Second)
	if s.Retention() != 5*time.Minute {
		t.Errorf("Retention() = %v, want 5m", s.Retention())
	}
	s.Add("g", window.Sample{Name: "y", Value: 1, Time: t0.Add(-2 * time.Minute)})
	if st := s.Stats(); st.Series != 2 || st.Samples != 61 {
		t.Errorf("Stats = %+v, want 2 series, 61 samples", st)
	}
	// Prune drops what nobody adds to any more, and empty groups.
	s.Add("idle", window.Sample{Name: "z", Value: 1})
	s.Prune(clk.Now().Add(10 * time.Minute))
	if st := s.Stats(); st != (window.Stats{}) {
		t.Errorf("after Prune: %+v, want nothing", st)
	}
}

func TestDropGroup(t *testing.T) {
	s := window.New(clock.NewFake(t0), window.Options{})
	s.Add("a", window.Sample{Name: "x", Value: 1})
	s.Add("b", window.Sample{Name: "x", Value: 2})
	v := s.Group("a")
	s.DropGroup("a")
	if _, ok := v.Last("x", t0); ok {
		t.Error("a dropped group still reads")
	}
	if got, ok := s.Group("b").Last("x", t0); !ok || got != 2 {
		t.Error("DropGroup dropped another group")
	}
	s.DropGroup("nope")
}

func TestValidate(t *testing.T) {
	long := make([]byte, window.MaxNameLength+1)
	for i := range long {
		long[i] = 'a'
	}
	tests := []struct {
		s     window.Sample
		field string
	}{
		{window.Sample{Name: "cpu_utilization", Value: 1}, ""},
		{window.Sample{Name: "http.requests-total/s", Value: -1e9}, ""},
		{window.Sample{Name: "", Value: 1}, "name"},
		{window.Sample{Name: "  ", Value: 1}, "name"},
		{window.Sample{Name: string(long), Value: 1}, "name"},
		{window.Sample{Name: "it's", Value: 1}, "name"},
		{window.Sample{Name: "a\nb", Value: 1}, "name"},
		{window.Sample{Name: "x", Value: math.NaN()}, "value"},
		{window.Sample{Name: "x", Value: math.Inf(-1)}, "value"},
	}
	s := window.New(clock.NewFake(t0), window.Options{})
	for _, tt := range tests {
		err := tt.s.Validate()
		var se *window.SampleError
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("Validate(%q, %v) = %v", tt.s.Name, tt.s.Value, err)
		case tt.field != "" && (!errors.As(err, &se) || se.Field != tt.field):
			t.Errorf("Validate(%q, %v) = %v, want an error on %s", tt.s.Name, tt.s.Value, err, tt.field)
		}
		// Add skips exactly the invalid ones.
		if n := s.Add("g", tt.s); (n == 1) != (tt.field == "") {
			t.Errorf("Add(%q, %v) accepted %d", tt.s.Name, tt.s.Value, n)
		}
	}
}

// TestWindowsFeedConditions checks the store end to end as a trigger
// source.
func TestWindowsFeedConditions(t *testing.T) {
	clk := clock.NewFake(t0)
	s := window.New(clk, window.Options{})
	for i := range 24 {
		s.Add("g", window.Sample{Name: "cpu_utilization", Value: 80 + float64(i%5), NodeID: fmt.Sprintf("n%d", i%3), Time: t0.Add(-time.Duration(i) * 5 * time.Second)})
	}
	c, err := trigger.Compile("avg(cpu_utilization, '2m') > 81 and count(cpu_utilization, '2m') == 24")
	if err != nil {
		t.Fatal(err)
	}
	r := c.Eval(t0, s.Group("g"))
	if !r.Satisfied || r.Observed != "avg(cpu_utilization, 2m) = 81.92; count(cpu_utilization, 2m) = 24" {
		t.Errorf("result = %+v", r)
	}
}

// TestConcurrentAddAndRead is for go test -race: pushes and reads at once.
func TestConcurrentAddAndRead(t *testing.T) {
	clk := clock.NewFake(t0)
	s := window.New(clk, window.Options{Retention: time.Minute})
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			for i := range 500 {
				s.Add(fmt.Sprintf("g%d", i%4), window.Sample{Name: "x", Value: float64(w), Time: t0.Add(time.Duration(i) * time.Millisecond)})
			}
		})
	}
	wg.Go(func() {
		for i := range 500 {
			v := s.Group(fmt.Sprintf("g%d", i%4))
			v.Scan("x", t0.Add(-time.Hour), t0.Add(time.Hour), func([]int64, []float64) {})
			v.Last("x", t0.Add(time.Hour))
			if i%100 == 0 {
				s.Prune(t0)
				s.Stats()
			}
		}
	})
	wg.Wait()
	if st := s.Stats(); st.Samples != 1500 {
		t.Errorf("Stats = %+v, want 1500 samples", st)
	}
}

// LastSeen gives each node's newest sample of a metric, within the
// retention; nil for a metric no sample of which named a node.
func TestLastSeen(t *testing.T) {
	clk := clock.NewFake(t0)
	s := window.New(clk, window.Options{Retention: time.Minute})
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	s.Add("g",
		window.Sample{Name: "cpu", Value: 1, NodeID: "n1", Time: at(-50)},
		window.Sample{Name: "cpu", Value: 2, NodeID: "n1", Time: at(-10)},
		window.Sample{Name: "cpu", Value: 3, NodeID: "n2", Time: at(-40)},
		window.Sample{Name: "cpu", Value: 4, NodeID: "n2", Time: at(-45)}, // late
		window.Sample{Name: "cpu", Value: 5, Time: at(-5)},                // no node
		window.Sample{Name: "rps", Value: 6, Time: at(-5)},
	)
	v := s.Group("g")
	got := v.LastSeen("cpu")
	if len(got) != 2 || !got["n1"].Equal(at(-10)) || !got["n2"].Equal(at(-40)) {
		t.Fatalf("LastSeen(cpu) = %v, want n1 at -10s and n2 at -40s", got)
	}
	if got := v.LastSeen("rps"); got != nil {
		t.Fatalf("LastSeen(rps) = %v, want nil: no sample named a node", got)
	}
	if got := v.LastSeen("nothing"); got != nil {
		t.Fatalf("LastSeen(nothing) = %v", got)
	}
	// 25s on, n2's newest is past the 1m retention, pruned or not.
	clk.Advance(25 * time.Second)
	if got := v.LastSeen("cpu"); len(got) != 1 || !got["n1"].Equal(at(-10)) {
		t.Fatalf("LastSeen(cpu) at +25s = %v, want n1 only", got)
	}
	s.Prune(clk.Now())
	if got := v.LastSeen("cpu"); len(got) != 1 {
		t.Fatalf("LastSeen(cpu) after Prune = %v, want n1 only", got)
	}
	clk.Advance(time.Minute)
	s.Prune(clk.Now())
	if got := v.LastSeen("cpu"); got != nil {
		t.Fatalf("LastSeen(cpu) with every sample expired = %v, want nil", got)
	}
}
