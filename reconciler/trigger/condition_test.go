package trigger

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC) // a Tuesday

// series adds values of one metric, one every step, the last at end.
func (f fakeSource) series(metric string, end time.Time, step time.Duration, vs ...float64) fakeSource {
	for i, v := range vs {
		f.add(metric, end.Add(-time.Duration(len(vs)-1-i)*step), v)
	}
	return f
}

func TestFunctions(t *testing.T) {
	// Ten samples 10s apart, the newest at t0: 1..10. A 1m window holds
	// the six newest (5..10): the sample at exactly t0-60s is outside.
	src := fakeSource{}.series("x", t0, 10*time.Second, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
	// A sample in the future is never read.
	src.add("x", t0.Add(time.Second), 1000)
	// y grows by 2 per second, with noise that least squares cancels
	// (symmetric about the middle) but (last-first)/dt would not.
	src.series("y", t0, time.Second, 0, 2.5, 4, 6, 8, 10.5, 12)
	src.series("one", t0, time.Second, 42)

	tests := []struct {
		cond string
		want float64
	}{
		{"avg(x, '1m')", 7.5},
		{"avg(x, '100s')", 5.5},
		{"min(x, '1m')", 5},
		{"max(x, '1m')", 10},
		{"sum(x, '1m')", 45},
		{"count(x, '1m')", 6},
		{"count(x, '15s')", 2},
		{"last(x)", 10},
		{"percentile(x, 0, '1m')", 5},
		{"percentile(x, 100, '1m')", 10},
		{"percentile(x, 50, '1m')", 7.5},
		{"percentile(x, 90, '100s')", 9.1},
		{"percentile(one, 95, '1m')", 42},
		{"rate(x, '1m')", 0.1},
		{"rate(y, '1m')", 2},
		{"avg('x', '1m')", 7.5},
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			c, err := Compile(tt.cond + " > -1e300")
			if err != nil {
				t.Fatal(err)
			}
			var buf []float64
			got, ok := aggregate(&c.calls[0], t0, src, &buf)
			if !ok {
				t.Fatalf("%s: no value", tt.cond)
			}
			if math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("%s = %v, want %v", tt.cond, got, tt.want)
			}
		})
	}
}

func TestPercentileAgainstSort(t *testing.T) {
	// Selection must agree with sorting on awkward inputs: duplicates,
	// descending, all equal.
	inputs := [][]float64{
		{5, 1, 4, 2, 3},
		{9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
		{2, 2, 2, 2},
		{1, 3, 3, 3, 7, 7, 0, 0, 12, -4},
	}
	for _, in := range inputs {
		for _, q := range []float64{0, 10, 25, 50, 75, 90, 99, 100} {
			sorted := append([]float64(nil), in...)
			for i := range sorted {
				for j := i + 1; j < len(sorted); j++ {
					if sorted[j] < sorted[i] {
						sorted[i], sorted[j] = sorted[j], sorted[i]
					}
				}
			}
			pos := q / 100 * float64(len(sorted)-1)
			k := int(math.Floor(pos))
			want := sorted[k]
			if k+1 < len(sorted) {
				want += (pos - float64(k)) * (sorted[k+1] - sorted[k])
			}
			got := percentile(append([]float64(nil), in...), q)
			if math.Abs(got-want) > 1e-9 {
				t.Errorf("percentile(%v, %v) = %v, want %v", in, q, got, want)
			}
		}
	}
}

func TestEval(t *testing.T) {
	src := fakeSource{}.
		series("cpu_utilization", t0, 10*time.Second, 85, 86, 90, 88).
		series("queue.depth-total", t0, time.Second, 3).
		series("single", t0, time.Second, 1).
		series("zero", t0, time.Second, 0)
	tests := []struct {
		name, cond string
		at         time.Time
		satisfied  bool
		observed   string
		text       string
		missing    []string
		wantErr    bool
	}{
		{
			name: "above threshold", cond: "avg(cpu_utilization, '2m') > 80", at: t0, satisfied: true,
			observed: "avg(cpu_utilization, 2m) = 87.25",
			text:     "avg cpu_utilization 87.25 > 80 over 2m",
		},
		{
			name: "below threshold", cond: "avg(cpu_utilization, '2m') > 90", at: t0,
			observed: "avg(cpu_utilization, 2m) = 87.25",
			text:     "avg cpu_utilization 87.25 > 90 over 2m",
		},
		{
			name: "quoted odd name and arithmetic", cond: "last('queue.depth-total') * 2 + 1 == 7", at: t0, satisfied: true,
			observed: "last(queue.depth-total) = 3",
			text:     "last queue.depth-total 3 * 2 + 1 == 7",
		},
		{
			name: "different windows are said inline", cond: "max(cpu_utilization, '15s') >= 88 and min(cpu_utilization, '1m') > 80", at: t0, satisfied: true,
			observed: "max(cpu_utilization, 15s) = 90; min(cpu_utilization, 1m) = 85",
			text:     "max cpu_utilization 90 over 15s >= 88 and min cpu_utilization 85 over 1m > 80",
		},
		{
			name: "equal calls share one value", cond: "avg(cpu_utilization, '2m') > 80 and avg(cpu_utilization, '120s') < 90", at: t0, satisfied: true,
			observed: "avg(cpu_utilization, 2m) = 87.25",
		},
		{
			name: "not and parentheses", cond: "not (avg(cpu_utilization, '2m') < 50 or hour() == 3)", at: t0, satisfied: true,
			observed: "avg(cpu_utilization, 2m) = 87.25; hour() = 10",
			text:     "not (avg cpu_utilization 87.25 < 50 or hour 10 == 3) over 2m",
		},
		{
			name: "time helpers in UTC", cond: "hour() == 10 and weekday() == 2", at: t0.In(time.FixedZone("X", 5*3600)), satisfied: true,
			observed: "hour() = 10; weekday() = 2",
		},
		{
			name: "sunday is 0", cond: "weekday() == 0", at: time.Date(2025, 3, 9, 23, 0, 0, 0, time.UTC), satisfied: true,
		},
		{
			name: "missing metric", cond: "avg(memory_bytes, '1m') < 100", at: t0,
			observed: "avg(memory_bytes, 1m) = no data", missing: []string{"memory_bytes"},
		},
		{
			name: "missing data wins over or", cond: "avg(cpu_utilization, '2m') > 80 or last(nope) > 1", at: t0,
			observed: "avg(cpu_utilization, 2m) = 87.25; last(nope) = no data", missing: []string{"nope"},
		},
		{
			name: "window before any sample", cond: "avg(cpu_utilization, '1m') > 0", at: t0.Add(-2 * time.Minute),
			missing: []string{"cpu_utilization"},
		},
		{
			name: "not with missing data is not satisfied", cond: "not (count(nope, '1m') > 0)", at: t0,
			missing: []string{"nope"},
		},
		{
			name: "rate needs two samples", cond: "rate(single, '1m') > 0", at: t0,
			observed: "rate(single, 1m) = not enough samples", missing: []string{"single"},
		},
		{
			name: "run-time error", cond: "hour() % (weekday() - 2) == 0", at: t0, wantErr: true,
		},
		// x / 0 would be +Inf, which is > anything: never satisfied.
		{
			name: "division by a zero metric", cond: "last(single) / last(zero) > 1", at: t0, wantErr: true,
			observed: "last(single) = 1; last(zero) = 0",
		},
		{
			name: "division by zero under not", cond: "not (last(single) / (last(zero) * 2) < 1)", at: t0, wantErr: true,
		},
		{
			name: "division by a non-zero metric", cond: "last(zero) / last(single) < 1", at: t0, satisfied: true,
			text: "last zero 0 / last single 1 < 1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Compile(tt.cond)
			if err != nil {
				t.Fatal(err)
			}
			r := c.Eval(tt.at, src)
			if r.Satisfied != tt.satisfied {
				t.Errorf("Satisfied = %v, want %v (%+v)", r.Satisfied, tt.satisfied, r)
			}
			if tt.observed != "" && r.Observed != tt.observed {
				t.Errorf("Observed = %q, want %q", r.Observed, tt.observed)
			}
			if tt.text != "" && r.Text != tt.text {
				t.Errorf("Text = %q, want %q", r.Text, tt.text)
			}
			if strings.Join(r.Missing, ",") != strings.Join(tt.missing, ",") {
				t.Errorf("Missing = %v, want %v", r.Missing, tt.missing)
			}
			if (r.Err != nil) != tt.wantErr {
				t.Errorf("Err = %v, want error %v", r.Err, tt.wantErr)
			}
		})
	}
}

func TestCompile(t *testing.T) {
	tests := []struct {
		cond      string
		metrics   []string
		maxWindow time.Duration
	}{
		{"avg(cpu_utilization, '2m') > 80", []string{"cpu_utilization"}, 2 * time.Minute},
		{"avg('queue_depth', '1m') > 5", []string{"queue_depth"}, time.Minute},
		{"last(queue_depth) > 5", []string{"queue_depth"}, 0},
		{"rate(q, '90s') > 1 && percentile(lat, 99.9, '1h') > 0.5 || sum(q, '5m') > 3", []string{"q", "lat"}, time.Hour},
		{"hour() >= 9 and hour() < 17 and weekday() % 6 != 0", nil, 0},
		{"avg(cpu, '2m') > 80 ? true : false", []string{"cpu"}, 2 * time.Minute},
		{"avg(cpu,\n   '2m') > 80\n and\n last(mem) < 2 ** 30", []string{"cpu", "mem"}, 2 * time.Minute},
		{"avg('http requests/s', '1m') > 1", []string{"http requests/s"}, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			c, err := Compile(tt.cond)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(c.Metrics(), ",") != strings.Join(tt.metrics, ",") {
				t.Errorf("Metrics() = %v, want %v", c.Metrics(), tt.metrics)
			}
			if c.MaxWindow() != tt.maxWindow {
				t.Errorf("MaxWindow() = %v, want %v", c.MaxWindow(), tt.maxWindow)
			}
			if c.String() != tt.cond {
				t.Errorf("String() = %q", c.String())
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		cond         string
		line, column int
		message      string
		hint         string
	}{
		{"", 1, 1, "condition is empty", "give the trigger a schedule"},
		{"   ", 1, 1, "condition is empty", ""},
		{"avgg(cpu_utilization, '2m') > 80", 1, 1, `unknown function "avgg"`, `did you mean "avg"?`},
		{"avg(cpu, '2m') > 80 and\n  lastt(q) > 3", 2, 3, `unknown function "lastt"`, `did you mean "last"?`},
		{"len('abc') > 2", 1, 1, `unknown function "len"`, "functions are avg, min"},
		{"all([1], # > 0)", 1, 1, `unknown function "all"`, ""},
		{"cpu_utilization > 80", 1, 1, `unknown name "cpu_utilization"`, "avg(cpu_utilization, '2m') or last(cpu_utilization)"},
		{"avg(cpu, '2m') > threshold", 1, 18, `unknown name "threshold"`, ""},
		{"hour > 9", 1, 1, "hour is a function", "call it: hour()"},
		{"avg(cpu, '2mins') > 80", 1, 10, `window "2mins" is not a duration`, `use a Go duration such as "2m" or "90s"`},
		{"avg(cpu, '0s') > 80", 1, 10, `window "0s" must be longer than zero`, ""},
		{"avg(cpu, '1m') / 0 > 80", 1, 16, "division by zero: the divisor is the constant 0", "divide by a metric"},
		{"last(q) % -0.0 > 1", 1, 9, "division by zero", ""},
		{"avg(cpu, '-1m') > 80", 1, 10, `window "-1m" must be longer than zero`, ""},
		{"avg(cpu, '25h') > 80", 1, 10, `window "25h" is longer than 24h`, ""},
		{"avg(cpu, 2m) > 80", 1, 10, "a window must be a quoted duration", "e.g. '2m'"},
		{"avg(cpu, 120) > 80", 1, 10, "the window of avg must be a quoted duration", "avg(cpu_utilization, '2m')"},
		{"avg(cpu) > 80", 1, 1, "avg takes 2 arguments (metric, window), got 1", "write it as avg(cpu_utilization, '2m')"},
		{"last(q, '1m') > 1", 1, 1, "last takes 1 argument (metric), got 2", "last(queue_depth)"},
		{"percentile(lat, '5m') > 1", 1, 1, "percentile takes 3 arguments (metric, percentile, window), got 2", ""},
		{"hour(1) > 2", 1, 1, "hour takes no arguments, got 1", "hour()"},
		{"percentile(lat, 150, '5m') > 1", 1, 17, "percentile must be a number from 0 to 100", ""},
		{"percentile(lat, q, '5m') > 1", 1, 17, "percentile must be a number from 0 to 100", ""},
		{"avg(1 + 2, '1m') > 1", 1, 5, "the first argument of avg must be a metric name", ""},
		{"avg(http.requests, '1m') > 1", 1, 5, "the first argument of avg must be a metric name", "quoted if it has other characters ('http.requests-total')"},
		{"max(true, '1m') > 1", 1, 5, "the first argument of max must be a metric name", ""},
		{"avg('', '1m') > 1", 1, 5, "metric name is empty", ""},
		{"avg(cpu, '2m')", 1, 1, "must be true or false, but it is a number", "compare it"},
		{"'abc'", 1, 1, "must be true or false, but it is a string", ""},
		{"avg(cpu, '2m') > 'a'", 1, 16, "mismatched types float64 and string", ""},
		{"avg(cpu, '2m') >", 1, 16, "unexpected token EOF", "ends too early"},
		{"(avg(cpu, '2m') > 1", 1, 19, "unexpected token EOF", ""},
		{"avg(cpu, '2m') in [1, 2]", 1, 16, `operator "in" is not supported`, ""},
		{"$env.cpu > 1", 1, 1, "not supported in conditions", ""},
		{"let x = 1; x > 0", 1, 5, "variables (let) are not supported", ""},
		{"last(x) > 1" + strings.Repeat(" ", MaxConditionLength), 1, 1, "more than 4096", "split it"},
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			_, err := Compile(tt.cond)
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("Compile(%q) error = %v, want a *CompileError", tt.cond, err)
			}
			if ce.Line != tt.line || ce.Column != tt.column {
				t.Errorf("position = %d:%d, want %d:%d (%v)", ce.Line, ce.Column, tt.line, tt.column, err)
			}
			if !strings.Contains(ce.Message, tt.message) {
				t.Errorf("Message = %q, want it to contain %q", ce.Message, tt.message)
			}
			if !strings.Contains(ce.Hint, tt.hint) {
				t.Errorf("Hint = %q, want it to contain %q", ce.Hint, tt.hint)
			}
		})
	}
}

func TestCompileErrorText(t *testing.T) {
	_, err := Compile("avgg(cpu_utilization, '2m') > 80")
	want := `line 1, column 1: unknown function "avgg"; did you mean "avg"?`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
	_, err = Compile("avg(x, '2mins') > 1")
	want = `line 1, column 8: window "2mins" is not a duration; use a Go duration such as "2m" or "90s"`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestCompileScheduled(t *testing.T) {
	c, err := CompileScheduled("")
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Eval(t0, fakeSource{}); !r.Satisfied {
		t.Errorf("empty scheduled condition: %+v, want satisfied", r)
	}
	if len(c.Metrics()) != 0 {
		t.Errorf("Metrics() = %v", c.Metrics())
	}
	c, err = CompileScheduled("last(q) > 1")
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Eval(t0, fakeSource{}); r.Satisfied || len(r.Missing) != 1 {
		t.Errorf("scheduled condition over missing data: %+v", r)
	}
	if _, err := CompileScheduled("last(q) >"); err == nil {
		t.Error("a bad scheduled condition compiled")
	}
}

func TestFormatValue(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{87.3, "87.3"}, {87.333333, "87.33"}, {12, "12"}, {-3, "-3"}, {0.000123456, "0.000123"},
		{0.5, "0.5"}, {1e20, "100000000000000000000"}, {math.Inf(1), "+Inf"},
	}
	for _, tt := range tests {
		if got := formatValue(tt.v); got != tt.want {
			t.Errorf("formatValue(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

// TestNativeMatchesVM: the conditions decided without the expression VM
// (Condition.native) decide as the VM does, over values at, around and
// beyond their thresholds; the others are left to the VM.
func TestNativeMatchesVM(t *testing.T) {
	for _, tc := range []struct {
		src    string
		native bool
	}{
		{"avg(cpu, '2m') > 80", true},
		{"percentile(lat, 95, '2m') >= 250.5", true},
		{"rate(q, '2m') > 5 and last(q) > 100", true},
		{"last(q) < -3 || not (max(cpu, '1m') != 80)", true},
		{"!(min(cpu, '1m') <= 0) && avg(cpu, '1m') == 80 or false", true},
		{"80 < avg(cpu, '2m')", true},
		{"avg(cpu, '2m') > 80 and avg(cpu, '2m') < 90", true},
		{"avg(cpu, '2m') / 2 > 40", false},
		{"hour() >= 9 and avg(cpu, '2m') > 80", false},
		{"1 < 2 and avg(cpu, '2m') > 80", false},
	} {
		c, err := Compile(tc.src)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tc.src, err)
		}
		if (c.native != nil) != tc.native {
			t.Errorf("%q: native %t, want %t", tc.src, c.native != nil, tc.native)
		}
		if c.native == nil {
			continue
		}
		values := []float64{-101, -3, -2.5, 0, 40, 79.999, 80, 80.001, 90, 100, 100.5, 250.5, 1e300,
			math.Inf(1), math.Inf(-1), math.NaN()}
		var s evalScratch
		s.reset(len(c.calls))
		// Every combination of values over the slots.
		combos := 1
		for range c.calls {
			combos *= len(values)
		}
		for k := range combos {
			for i, x := 0, k; i < len(c.calls); i, x = i+1, x/len(values) {
				s.env.V[i] = values[x%len(values)]
			}
			out, err := s.vm.Run(c.program, &s.env)
			if err != nil {
				t.Fatalf("%q: VM: %v", tc.src, err)
			}
			if got := c.native(s.env.V); got != out.(bool) {
				t.Errorf("%q with %v: native %t, VM %t", tc.src, s.env.V, got, out)
			}
		}
	}
}
