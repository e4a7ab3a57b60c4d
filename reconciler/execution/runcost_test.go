package execution

import (
	"reflect"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/cost"
)

func sec(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

func ranFrom(start, end int) api.Execution {
	s, e := sec(start), sec(end)
	return api.Execution{ID: "x1", StartedAt: &s, EndedAt: &e}
}

func execEvent(typ string, s int) api.Event { return api.Event{Type: typ, Time: sec(s)} }

// TestActiveLeavesOutSuspensions: the time a run ran is its start to its
// end less each suspension, from the suspended event to the resumed one
// (or the end); other events do not cut it.
func TestActiveLeavesOutSuspensions(t *testing.T) {
	x := ranFrom(0, 700)
	w := func(a, b int) cost.Window { return cost.Window{Since: sec(a), Until: sec(b)} }
	for _, tc := range []struct {
		name   string
		events []api.Event
		want   []cost.Window
	}{
		{"never suspended", []api.Event{execEvent(api.EventExecutionStarted, 0), execEvent(api.EventJobRetried, 50)},
			[]cost.Window{w(0, 700)}},
		{"suspended and resumed twice", []api.Event{
			execEvent(api.EventExecutionSuspended, 100), execEvent(api.EventExecutionResumed, 400),
			execEvent(api.EventExecutionSuspended, 500), execEvent(api.EventExecutionResumed, 550)},
			[]cost.Window{w(0, 100), w(400, 500), w(550, 700)}},
		// Cancelled while suspended: the suspension lasts to the end.
		{"ended suspended", []api.Event{execEvent(api.EventExecutionSuspended, 100)}, []cost.Window{w(0, 100)}},
		{"resumed at once", []api.Event{execEvent(api.EventExecutionSuspended, 100), execEvent(api.EventExecutionResumed, 100)},
			[]cost.Window{w(0, 100), w(100, 700)}},
	} {
		if got := Active(x, tc.events); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: active %v, want %v", tc.name, got, tc.want)
		}
	}
	if got := Active(api.Execution{}, nil); got != nil {
		t.Errorf("an execution that never started ran %v", got)
	}
}

// TestRunCostPricesBilledNodeTimeWhileRunning: a run from 0s to 700s,
// suspended from 100s to 400s, on a group billed 3.60 a node-hour (0.001
// a second) in whole minutes, ten at least. Each node's billed time is
// worked out here by hand and cut to the time the run ran; time billed
// while it was suspended is not its cost.
func TestRunCostPricesBilledNodeTimeWhileRunning(t *testing.T) {
	x := ranFrom(0, 700)
	events := []api.Event{execEvent(api.EventExecutionSuspended, 100), execEvent(api.EventExecutionResumed, 400)}
	rates := cost.ParseRates([]api.BillingRate{{From: sec(-3600),
		Billing: api.Billing{PricePerNodeHour: "3.6", Currency: "EUR", Increment: "1m", Minimum: "10m"}}})
	node := func(id string, launch int, end ...int) api.Node {
		n := api.Node{ID: id, LaunchedAt: sec(launch)}
		if len(end) > 0 {
			e := sec(end[0])
			n.TerminatedAt = &e
		}
		return n
	}
	nodes := []api.Node{
		// Live throughout: 100s + 300s.
		node("n1", -30),
		// Ran 60s, billed the 10m minimum to 610s: 90s before the
		// suspension and 210s after it.
		node("n2", 10, 70),
		// Launched while suspended, billed to 800s: the 300s after it.
		node("n3", 200, 290),
		// Ran 245s, billed 10m to 1050s: cut at the end, 250s.
		node("n4", 450, 695),
		// Ended before the run began, billed into its first 100s.
		node("n5", -300, -290),
		// Billed time over before the run began: nothing.
		node("n6", -1000, -500),
	}
	const seconds = 400 + 300 + 300 + 250 + 100
	got := RunCost(x, events, nodes, rates)
	if got == nil || *got != seconds*0.001 {
		t.Fatalf("cost %v, want %g", deref(got), seconds*0.001)
	}
	if s, _ := cost.TotalIn(nodes, rates, *x.EndedAt, Active(x, events)); s != seconds {
		t.Errorf("node-seconds %d, want %d", s, seconds)
	}

	// A price of each moment: doubled from 500s, the last 200s of n1, n3
	// and n4 and the 110s of n2 after it cost twice as much.
	doubled := append(rates, cost.ParseRates([]api.BillingRate{{From: sec(500),
		Billing: api.Billing{PricePerNodeHour: "7.2", Currency: "EUR", Increment: "1m", Minimum: "10m"}}})...)
	want := (seconds + 200 + 110 + 200 + 200) * 0.001
	if got := RunCost(x, events, nodes, doubled); got == nil || *got != want {
		t.Errorf("with the price doubled at 500s: cost %v, want %g", deref(got), want)
	}

	// No billing while it ran: no cost, whether billing came later or
	// ended before it began.
	later := cost.ParseRates([]api.BillingRate{{From: sec(701), Billing: api.Billing{PricePerNodeHour: "1"}}})
	ended := cost.ParseRates([]api.BillingRate{{From: sec(-7200), Billing: api.Billing{PricePerNodeHour: "1", Currency: "USD"}}, {From: sec(-10)}})
	for name, rs := range map[string]cost.Rates{"none": nil, "later": later, "ended": ended} {
		if got := RunCost(x, events, nodes, rs); got != nil {
			t.Errorf("billing %s: cost %g, want none", name, *got)
		}
	}
	// Billing that began while it ran prices the time from then on, and
	// a run on no nodes costs nothing, not no cost.
	from := cost.ParseRates([]api.BillingRate{{From: sec(600), Billing: api.Billing{PricePerNodeHour: "3.6", Currency: "USD"}}})
	if got := RunCost(x, events, []api.Node{node("n1", -30)}, from); got == nil || *got != 0.1 {
		t.Errorf("billed from 600s: cost %v, want 0.1", deref(got))
	}
	if got := RunCost(x, events, nil, rates); got == nil || *got != 0 {
		t.Errorf("no nodes: cost %v, want 0", deref(got))
	}
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}
