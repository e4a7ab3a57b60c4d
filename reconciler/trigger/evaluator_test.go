package trigger

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// step is one evaluation pass of a scenario: at t0+at, in period, with
// cpu sampled at value (no sample when noData), and what should come out.
type step struct {
	at       time.Duration
	period   string
	cpu      float64
	noData   bool
	fired    bool
	missing  bool
	returned bool
	heldFor  time.Duration
	describe string
}

// runScenario evaluates one trigger of group "g" through the steps.
func runScenario(t *testing.T, tr api.Trigger, steps []step) {
	t.Helper()
	ev := NewEvaluator()
	tr.GroupID, tr.Enabled = "g", true
	if tr.ID == "" {
		tr.ID = "t1"
	}
	if err := ev.Set(tr, t0); err != nil {
		t.Fatal(err)
	}
	src := fakeSource{}
	for i, s := range steps {
		now := t0.Add(s.at)
		if !s.noData {
			src.add("cpu", now, s.cpu)
		}
		out := ev.Evaluate(now, "g", s.period, src)
		var o Outcome
		switch len(out) {
		case 0:
		case 1:
			o = out[0]
			if o.TriggerID != tr.ID {
				t.Errorf("step %d: TriggerID = %q", i, o.TriggerID)
			}
		default:
			t.Fatalf("step %d: %d outcomes for one trigger", i, len(out))
		}
		if o.Fired != s.fired {
			t.Errorf("step %d (at %v, %s): Fired = %v, want %v (%+v)", i, s.at, s.period, o.Fired, s.fired, o)
		}
		if (len(o.MissingData) > 0) != s.missing {
			t.Errorf("step %d (at %v, %s): MissingData = %v, want reported %v", i, s.at, s.period, o.MissingData, s.missing)
		}
		if o.Returned != s.returned {
			t.Errorf("step %d (at %v, %s): Returned = %v, want %v", i, s.at, s.period, o.Returned, s.returned)
		}
		if s.fired && o.HeldFor != s.heldFor {
			t.Errorf("step %d: HeldFor = %v, want %v", i, o.HeldFor, s.heldFor)
		}
		if s.describe != "" && o.Text != s.describe {
			t.Errorf("step %d: Text = %q, want %q", i, o.Text, s.describe)
		}
	}
}

func TestEvaluatorFor(t *testing.T) {
	sec := time.Second
	runScenario(t, api.Trigger{Condition: "max(cpu, '10s') > 80", For: "1m"}, []step{
		{at: 0, period: "H1", cpu: 90},
		{at: 15 * sec, period: "H1", cpu: 90},
		{at: 45 * sec, period: "H1", cpu: 95},
		{at: 60 * sec, period: "H1", cpu: 91, fired: true, heldFor: time.Minute,
			describe: "max cpu 91 > 80 over 10s for 1m"},
		{at: 75 * sec, period: "H1", cpu: 99}, // once per period
		{at: 90 * sec, period: "H2", cpu: 50}, // false: the run restarts
		{at: 105 * sec, period: "H2", cpu: 90},
		{at: 150 * sec, period: "H2", cpu: 90},
		{at: 165 * sec, period: "H2", cpu: 90, fired: true, heldFor: time.Minute},
		{at: 180 * sec, period: "H3", cpu: 90, fired: true, heldFor: 75 * sec}, // still holds: re-fires in the new period
		{at: 195 * sec, period: "H4", noData: true, missing: true},             // missing data resets the run too
		{at: 210 * sec, period: "H4", cpu: 90, returned: true},
		{at: 255 * sec, period: "H4", cpu: 90},
		{at: 270 * sec, period: "H4", cpu: 90, fired: true, heldFor: time.Minute},
	})
}

func TestEvaluatorOncePerPeriod(t *testing.T) {
	sec := time.Second
	runScenario(t, api.Trigger{Condition: "last(cpu) > 80"}, []step{
		{at: 0, period: "H1", cpu: 50},
		{at: 5 * sec, period: "H1", cpu: 90, fired: true, describe: "last cpu 90 > 80"},
		{at: 10 * sec, period: "H1", cpu: 91},
		{at: 15 * sec, period: "H1", cpu: 10},
		{at: 20 * sec, period: "H1", cpu: 95}, // satisfied again, same period: no second firing
		{at: 25 * sec, period: "H2", cpu: 95, fired: true, heldFor: 5 * sec},
		{at: 30 * sec, period: "H2", cpu: 95},
		{at: 35 * sec, period: "H3", cpu: 20},
		{at: 40 * sec, period: "H3", cpu: 85, fired: true},
	})
}

// TestEvaluatorMissingData: missing data is reported when an outage
// begins and when data returns, not once per period (it was once per
// period before: a metric that stopped logged every period).
func TestEvaluatorMissingData(t *testing.T) {
	sec := time.Second
	runScenario(t, api.Trigger{Condition: "avg(cpu, '10s') < 20"}, []step{
		{at: 0, period: "H1", noData: true, missing: true},
		{at: 5 * sec, period: "H1", noData: true}, // said once per outage
		{at: 30 * sec, period: "H1", noData: true},
		{at: 60 * sec, period: "H2", noData: true},                         // a new period, the same outage
		{at: 65 * sec, period: "H2", cpu: 10, fired: true, returned: true}, // data returns and it fires
		{at: 90 * sec, period: "H2", noData: true, missing: true},          // a second outage
		{at: 95 * sec, period: "H2", cpu: 50, returned: true},              // over: said though not satisfied
		{at: 120 * sec, period: "H3", cpu: 50},
		{at: 150 * sec, period: "H3", noData: true, missing: true},
	})
}

func TestEvaluatorSchedule(t *testing.T) {
	min := time.Minute
	t.Run("schedule only", func(t *testing.T) {
		// Set at t0 = 10:00 exactly: the 10:00 tick is not caught.
		runScenario(t, api.Trigger{Schedule: "*/5 * * * *", Request: api.Request{SetTo: ptr(10)}}, []step{
			{at: 0, period: "H1", noData: true},
			{at: 1 * min, period: "H2", noData: true},
			{at: 4*min + 59*time.Second, period: "H5", noData: true},
			{at: 5 * min, period: "H6", noData: true, fired: true, describe: `at schedule "*/5 * * * *"`},
			{at: 5*min + 30*time.Second, period: "H7", noData: true},
			{at: 17 * min, period: "H8", noData: true, fired: true}, // two ticks missed between passes: one firing
			{at: 18 * min, period: "H9", noData: true},
		})
	})
	t.Run("schedule and condition", func(t *testing.T) {
		runScenario(t, api.Trigger{Schedule: "*/5 * * * *", Condition: "last(cpu) > 80"}, []step{
			{at: 1 * min, period: "H1", cpu: 90}, // holds, but no tick
			{at: 5 * min, period: "H2", cpu: 50}, // tick, does not hold
			{at: 6 * min, period: "H3", cpu: 90}, // holds, tick consumed
			{at: 10 * min, period: "H4", cpu: 90, fired: true, describe: `last cpu 90 > 80 at schedule "*/5 * * * *"`},
			{at: 15 * min, period: "H4", cpu: 90}, // tick, but fired in H4 already
		})
	})
	t.Run("schedule, condition and for", func(t *testing.T) {
		runScenario(t, api.Trigger{Schedule: "0 * * * *", Condition: "last(cpu) > 80", For: "10m"}, []step{
			{at: 45 * min, period: "H1", cpu: 90},
			{at: 52 * min, period: "H1", cpu: 90},
			{at: 55 * min, period: "H2", cpu: 10}, // run broken before the tick
			{at: 58 * min, period: "H2", cpu: 90},
			{at: 60 * min, period: "H3", cpu: 90}, // tick, held only 2m
			{at: 105 * min, period: "H4", cpu: 90},
			{at: 120 * min, period: "H5", cpu: 90, fired: true, heldFor: 62 * min},
			{at: 125 * min, period: "H6", cpu: 90}, // held, no tick
		})
	})
	t.Run("missing data is reported at ticks only", func(t *testing.T) {
		runScenario(t, api.Trigger{Schedule: "*/5 * * * *", Condition: "last(cpu) > 80"}, []step{
			{at: 1 * min, period: "H1", noData: true},
			{at: 5 * min, period: "H2", noData: true, missing: true},
		})
	})
}

func ptr[T any](v T) *T { return &v }

func TestEvaluatorSetUpdates(t *testing.T) {
	ev := NewEvaluator()
	src := fakeSource{}.series("cpu", t0, time.Second, 90)
	tr := api.Trigger{ID: "t1", GroupID: "g", Condition: "last(cpu) > 80", Enabled: true, Request: api.Request{ChangeBy: ptr(1)}}
	mustSet := func(tr api.Trigger) {
		t.Helper()
		if err := ev.Set(tr, t0); err != nil {
			t.Fatal(err)
		}
	}
	fired := func() bool {
		out := ev.Evaluate(t0, "g", "H1", src)
		return len(out) == 1 && out[0].Fired
	}
	mustSet(tr)
	if !fired() {
		t.Fatal("did not fire")
	}
	// Same condition, another request form: the state survives, so no
	// second firing in H1.
	tr.Request = api.Request{ChangeBy: ptr(5)}
	mustSet(tr)
	if fired() {
		t.Error("an update of the request form re-armed the trigger")
	}
	// A new condition is a new trigger as far as state goes.
	tr.Condition = "last(cpu) > 85"
	mustSet(tr)
	if !fired() {
		t.Error("a new condition did not reset the state")
	}
	// Disabled: not evaluated.
	tr.Enabled = false
	mustSet(tr)
	if ev.Len() != 0 || len(ev.Evaluate(t0, "g", "H2", src)) != 0 {
		t.Error("a disabled trigger is evaluated")
	}
	tr.Enabled = true
	mustSet(tr)
	// A bad update is refused and leaves the trigger as it was.
	bad := tr
	bad.Condition = "last(cpu) >"
	if err := ev.Set(bad, t0); err == nil {
		t.Error("a bad condition was accepted")
	}
	if !fired() {
		t.Error("the trigger was lost after a refused update")
	}
}

func TestEvaluatorBookkeeping(t *testing.T) {
	ev := NewEvaluator()
	set := func(id, group, cond string) {
		t.Helper()
		if err := ev.Set(api.Trigger{ID: id, GroupID: group, Condition: cond, Enabled: true}, t0); err != nil {
			t.Fatal(err)
		}
	}
	set("b", "g1", "last(cpu) > 1")
	set("a", "g1", "avg(cpu, '5m') > 1")
	set("c", "g2", "avg(cpu, '1h') > 1")
	if got := ev.MaxWindow(); got != time.Hour {
		t.Errorf("MaxWindow() = %v, want 1h", got)
	}
	src := fakeSource{}.series("cpu", t0, time.Second, 5)
	out := ev.Evaluate(t0, "g1", "H1", src)
	if len(out) != 2 || out[0].TriggerID != "a" || out[1].TriggerID != "b" {
		t.Errorf("outcomes = %+v, want a then b", out)
	}
	ev.RemoveGroup("g1")
	if ev.Len() != 1 || len(ev.Evaluate(t0, "g1", "H2", src)) != 0 {
		t.Error("RemoveGroup left triggers behind")
	}
	// Moving a trigger to another group.
	set("c", "g3", "avg(cpu, '1m') > 1")
	if len(ev.Evaluate(t0, "g2", "H1", src)) != 0 || len(ev.Evaluate(t0, "g3", "H1", src)) != 1 {
		t.Error("a trigger that moved group is evaluated in the old one")
	}
	if got := ev.MaxWindow(); got != time.Minute {
		t.Errorf("MaxWindow() after updates = %v, want 1m", got)
	}
	ev.Remove("c")
	ev.Remove("unknown")
	if ev.Len() != 0 || ev.MaxWindow() != 0 {
		t.Errorf("Len() = %d, MaxWindow() = %v after removing everything", ev.Len(), ev.MaxWindow())
	}
	if out := ev.Evaluate(t0, "nope", "H1", src); out != nil {
		t.Errorf("unknown group: %+v", out)
	}
}

func TestParseTriggerErrors(t *testing.T) {
	tests := []struct {
		tr    api.Trigger
		field string
		msg   string
	}{
		{api.Trigger{ID: "t", Condition: ""}, "condition", "condition is empty"},
		{api.Trigger{ID: "t", Condition: "avg(cpu) > 1"}, "condition", "avg takes 2 arguments"},
		{api.Trigger{ID: "t", Condition: "last(cpu) > 1", For: "5 minutes"}, "for", `"5 minutes" is not a duration`},
		{api.Trigger{ID: "t", Condition: "last(cpu) > 1", For: "-1m"}, "for", "negative"},
		{api.Trigger{ID: "t", Condition: "last(cpu) > 1", For: "48h"}, "for", "longer than 24h"},
		{api.Trigger{ID: "t", Schedule: "every day"}, "schedule", "not a cron expression"},
		{api.Trigger{ID: "", Condition: "last(cpu) > 1", Enabled: true}, "id", "empty"},
		{api.Trigger{ID: "t", Condition: "avg(cpu) > 1", Request: api.Request{Target: &api.Target{Metric: "cpu", Value: 60}}}, "condition", "avg takes 2 arguments"},
		{api.Trigger{ID: "t", For: "1m", Request: api.Request{Target: &api.Target{Metric: "cpu", Value: 60}}}, "for", "must be empty"},
		{api.Trigger{ID: "t", Schedule: "@hourly", Request: api.Request{Target: &api.Target{Metric: "cpu", Value: 60}}}, "schedule", "must be empty"},
		{api.Trigger{ID: "t", Request: api.Request{Target: &api.Target{Metric: "cpu", Value: 60, Window: "48h"}}}, "target.window", "at most 24h"},
		{api.Trigger{ID: "t", Request: api.Request{Target: &api.Target{Value: 60}}}, "target.metric", "is required"},
	}
	for _, tt := range tests {
		t.Run(tt.field+" "+tt.msg, func(t *testing.T) {
			tt.tr.Enabled = true
			err := NewEvaluator().Set(tt.tr, t0)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error = %v, want a *FieldError", err)
			}
			if fe.Field != tt.field || !strings.Contains(fe.Error(), tt.msg) {
				t.Errorf("error = %q (field %q), want field %q and %q", fe.Error(), fe.Field, tt.field, tt.msg)
			}
		})
	}
	// The condition's FieldError carries the position.
	_, err := ParseTrigger(api.Trigger{Condition: "avg(cpu, '1m') > x"})
	var ce *CompileError
	if !errors.As(err, &ce) || ce.Column != 18 {
		t.Errorf("error = %v, want a CompileError at column 18", err)
	}
	// An empty condition is fine with a schedule.
	if _, err := ParseTrigger(api.Trigger{Schedule: "@hourly"}); err != nil {
		t.Errorf("schedule-only trigger: %v", err)
	}
}

// TestEvaluatorTarget: a target-tracking trigger reports its metric's mean
// over its window on every pass that has data, and missing data once per
// period like a condition.
func TestEvaluatorTarget(t *testing.T) {
	ev := NewEvaluator()
	tr := api.Trigger{ID: "t1", GroupID: "g", Enabled: true,
		Request: api.Request{Target: &api.Target{Metric: "cpu", Value: 60, Window: "10s"}}}
	if err := ev.Set(tr, t0); err != nil {
		t.Fatal(err)
	}
	if got := ev.MaxWindow(); got != 10*time.Second {
		t.Errorf("MaxWindow = %v, want the target's 10s", got)
	}
	src := fakeSource{}
	for _, step := range []struct {
		at     time.Duration
		period string
		value  float64
		want   string // "" nothing, "missing", or the mean
	}{
		{0, "H1", -1, "missing"},
		{time.Second, "H1", -1, ""}, // said once in H1
		{2 * time.Second, "H1", 80, "80"},
		{3 * time.Second, "H1", 100, "90"},
		{8 * time.Second, "H1", 60, "80"},
		{13 * time.Second, "H1", -1, "60"}, // (3s, 13s]: only 60
		{30 * time.Second, "H2", -1, "missing"},
	} {
		now := t0.Add(step.at)
		if step.value >= 0 {
			src.add("cpu", now, step.value)
		}
		out := ev.Evaluate(now, "g", step.period, src)
		got := ""
		if len(out) == 1 {
			switch o := out[0]; {
			case len(o.MissingData) == 1 && o.MissingData[0] == "cpu" && o.Target == nil && !o.Fired:
				got = "missing"
			case o.Fired && o.Target != nil && o.Target.Metric == "cpu" && o.Target.Window == "10s":
				got = fmt.Sprint(o.Target.Mean)
			default:
				got = fmt.Sprintf("%+v", o)
			}
		}
		if got != step.want || len(out) > 1 {
			t.Errorf("+%s: %q (%d outcomes), want %q", step.at, got, len(out), step.want)
		}
	}
}

// TestEvaluatorTargetGated: a target trigger's condition gates it: no
// report while it is false, the mean while it holds.
func TestEvaluatorTargetGated(t *testing.T) {
	ev := NewEvaluator()
	tr := api.Trigger{ID: "t1", GroupID: "g", Enabled: true, Condition: "last(open) > 0",
		Request: api.Request{Target: &api.Target{Metric: "cpu", Value: 60, Window: "10s"}}}
	if err := ev.Set(tr, t0); err != nil {
		t.Fatal(err)
	}
	src := fakeSource{}
	src.add("cpu", t0, 90)
	src.add("open", t0, 0)
	if out := ev.Evaluate(t0, "g", "H1", src); len(out) != 0 {
		t.Fatalf("gate closed: %+v", out)
	}
	src.add("open", t0.Add(time.Second), 1)
	out := ev.Evaluate(t0.Add(time.Second), "g", "H1", src)
	if len(out) != 1 || out[0].Target == nil || out[0].Target.Mean != 90 {
		t.Fatalf("gate open: %+v, want the mean 90", out)
	}
}

// TestEvaluatorConcurrent runs passes over groups in parallel with updates;
// go test -race checks it.
func TestEvaluatorConcurrent(t *testing.T) {
	ev := NewEvaluator()
	src := fakeSource{}.series("cpu", t0, time.Second, 90, 91)
	for g := range 8 {
		for k := range 3 {
			tr := api.Trigger{ID: fmt.Sprintf("g%d-t%d", g, k), GroupID: fmt.Sprintf("g%d", g), Condition: "avg(cpu, '1m') > 80", Enabled: true}
			if err := ev.Set(tr, t0); err != nil {
				t.Fatal(err)
			}
		}
	}
	var wg sync.WaitGroup
	fired := make([]int, 8)
	for g := range 8 {
		wg.Go(func() {
			for p := range 20 {
				fired[g] += len(ev.Evaluate(t0, fmt.Sprintf("g%d", g), fmt.Sprintf("H%d", p), src))
			}
		})
	}
	wg.Go(func() {
		for i := range 20 {
			tr := api.Trigger{ID: fmt.Sprintf("x%d", i), GroupID: "g0", Condition: "last(cpu) > 1", Enabled: true}
			if err := ev.Set(tr, t0); err != nil {
				t.Error(err)
			}
			ev.Remove(tr.ID)
		}
	})
	wg.Wait()
	for g := 1; g < 8; g++ {
		if fired[g] != 3*20 {
			t.Errorf("group g%d fired %d times, want %d", g, fired[g], 3*20)
		}
	}
}
