package trigger

import (
	"errors"
	"testing"
)

// FuzzCompile: any input compiles or fails with a positioned
// CompileError, never panics; what compiles evaluates without panicking.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		"avg(cpu_utilization, '2m') > 80",
		"percentile(lat, 95, '5m') > 0.2 or rate(q, '1m') > 1",
		"hour() >= 9 and weekday() % 6 != 0",
		"not (last('a b') == 1) ? true : false",
		"avg(cpu, 2m) > 80",
		"let x = 1; x > 0",
		"all([1], # > 0)",
		"avg(cpu, '2m') | max('1m')",
		"\"unterminated",
		"avg(cpu, '1m') > 1e309",
	} {
		f.Add(s)
	}
	src := fakeSource{}.series("cpu", t0, 10e9, 1, 2, 3).series("q", t0, 1e9, 5, 6)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Compile(s)
		if err != nil {
			var ce *CompileError
			if !errors.As(err, &ce) || ce.Line < 1 || ce.Column < 1 || ce.Message == "" {
				t.Fatalf("Compile(%q) = %#v", s, err)
			}
			return
		}
		c.Eval(t0, src)
	})
}
