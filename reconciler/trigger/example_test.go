package trigger_test

import (
	"fmt"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
	"github.com/pes-project/terraform-provider-pes/reconciler/trigger"
	"github.com/pes-project/terraform-provider-pes/reconciler/window"
)

// The controller's side: keep the evaluator in step with the triggers,
// keep enough metric history for them, and run a pass per group.
func ExampleEvaluator() {
	now := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	clk := clock.NewFake(now)
	store := window.New(clk, window.Options{})
	ev := trigger.NewEvaluator()

	err := ev.Set(api.Trigger{
		ID: "t1", GroupID: "web", Name: "cpu-high", Enabled: true,
		Condition: "avg(cpu_utilization, '2m') > 80", For: "30s",
	}, now)
	if err != nil {
		fmt.Println(err)
		return
	}
	store.EnsureRetention(ev.MaxWindow())

	for _, pass := range []time.Duration{0, 15 * time.Second, 30 * time.Second} {
		clk.Set(now.Add(pass))
		store.Add("web", window.Sample{Name: "cpu_utilization", Value: 87.3, NodeID: "n1"})
		for _, o := range ev.Evaluate(clk.Now(), "web", "H1", store.Group("web")) {
			fmt.Printf("%s at +%v fired=%v: %s\n", o.TriggerID, pass, o.Fired, o.Text)
		}
	}
	// Output:
	// t1 at +30s fired=true: avg cpu_utilization 87.3 > 80 over 2m for 30s
}

func ExampleCompile() {
	_, err := trigger.Compile("avgg(cpu_utilization, '2m') > 80")
	fmt.Println(err)
	_, err = trigger.Compile("avg(cpu_utilization, '2mins') > 80")
	fmt.Println(err)
	c, _ := trigger.Compile("avg(cpu_utilization, '2m') > 80 or last('queue depth') > 100")
	fmt.Println(c.Metrics(), c.MaxWindow())
	// Output:
	// line 1, column 1: unknown function "avgg"; did you mean "avg"?
	// line 1, column 22: window "2mins" is not a duration; use a Go duration such as "2m" or "90s"
	// [cpu_utilization queue depth] 2m0s
}
