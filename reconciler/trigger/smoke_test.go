package trigger

import (
	"testing"
	"time"
)

func TestSmoke(t *testing.T) {
	now := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	src := fakeSource{}
	for i := range 10 {
		src.add("cpu_utilization", now.Add(-time.Duration(i)*10*time.Second), 80+float64(i))
	}
	c, err := Compile("avg(cpu_utilization, '2m') > 80 and last(cpu_utilization) >= 80")
	if err != nil {
		t.Fatal(err)
	}
	r := c.Eval(now, src)
	t.Logf("%+v", r)
	if !r.Satisfied {
		t.Fatal("not satisfied")
	}
	c, _ = Compile("avg(q, '2m') > 80 or hour() == 10")
	r = c.Eval(now, src)
	t.Logf("%+v", r)
	ev := NewEvaluator()
	_ = ev
}
