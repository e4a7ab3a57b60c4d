package engine

import (
	"slices"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/cost"
)

// hourly bills whole hours at $0.60 from a day before t0.
func hourly() cost.Rates {
	return cost.ParseRates([]api.BillingRate{{From: t0.Add(-24 * time.Hour),
		Billing: api.Billing{PricePerNodeHour: "0.60", Currency: "USD", Increment: "1h", Minimum: "0s"}}})
}

func TestClosestToBillingBoundaryRemovesTheLeastPaidTime(t *testing.T) {
	// Five ready nodes launched at different minutes past the hour: their
	// paid hour ends 2, 4, 30, 50 and 58 minutes after t0.
	min := func(m int) time.Time { return t0.Add(time.Duration(m)*time.Minute - time.Hour) }
	nodes := []api.Node{
		node(1, api.NodeReady, min(30)),                   // paid until +30m
		node(3, api.NodeReady, min(2)),                    // +2m
		node(5, api.NodeReady, min(4).Add(-time.Hour)),    // +4m, its second hour
		node(7, api.NodeReady, min(58)),                   // +58m
		node(9, api.NodeReady, min(50).Add(-2*time.Hour)), // +50m, its third hour
		node(11, api.NodeUnavailable, min(59)),
	}
	rm := Removal{Policy: api.TerminateClosestToBillingBoundary, Now: t0, Rates: hourly()}
	for _, tc := range []struct {
		n    int
		want []string
	}{
		{1, []string{"n-11"}}, // a failed node still goes first
		{3, []string{"n-11", "n-3", "n-5"}},
		{5, []string{"n-11", "n-3", "n-5", "n-1", "n-9"}},
	} {
		if got := SelectForRemoval(nodes, tc.n, rm); !slices.Equal(got, tc.want) {
			t.Errorf("remove %d: %v, want %v", tc.n, got, tc.want)
		}
	}
	// newest would have removed n-7 (launched last) and n-1 instead.
	if got := SelectForRemoval(nodes, 3, Removal{Policy: api.TerminateNewest}); slices.Equal(got, []string{"n-11", "n-3", "n-5"}) {
		t.Errorf("newest chose as closest_to_billing_boundary: %v", got)
	}

	// Harmonization records which nodes went and when their paid time ends.
	c := cfg(api.PolicyLargest)
	c.TerminationPolicy = api.TerminateClosestToBillingBoundary
	live := nodes[:5]
	d := Harmonize(HarmonizeInput{Config: c, Now: t0, DesiredBefore: 5, OfficialBefore: 5, Nodes: live, Rates: hourly(),
		Requests: []api.Event{trigger("E5", "cpu-low", -10, api.Request{ChangeBy: ptr(-2)})}})
	if !slices.Equal(d.Terminate, []string{"n-3", "n-5"}) || len(d.Paid) != 2 ||
		d.Paid[0].Left != 2*time.Minute || d.Paid[1].Left != 4*time.Minute || !d.Paid[1].Until.Equal(t0.Add(4*time.Minute)) {
		t.Errorf("decision: terminate %v, paid %+v", d.Terminate, d.Paid)
	}
}

func TestReplacementWeighsPaidTime(t *testing.T) {
	c := cfg(api.PolicyLargest) // auto, defer window 15s
	next := t0.Add(10 * time.Second)
	for _, tc := range []struct {
		name     string
		launched time.Time
		rates    cost.Rates
		now      bool
		paid     time.Time
	}{
		// Paid until +50m: deferring would leave paid capacity idle and
		// save nothing, so it is replaced at once.
		{"paid past the harmonization", t0.Add(-10 * time.Minute), hourly(), true, t0.Add(50 * time.Minute)},
		// Its hour ends at +5s, before the harmonization at +10s: a
		// replacement now would start a new paid hour ($0.60) the
		// harmonization may make unnecessary, so it waits.
		{"paid time ends first", t0.Add(-time.Hour + 5*time.Second), hourly(), false, t0.Add(5 * time.Second)},
		// Without a price, auto defers within the window as before.
		{"no billing", t0.Add(-10 * time.Minute), nil, false, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Replace(ReplaceInput{Config: c, Now: t0, NextHarmonizationAt: next,
				Lost: node(3, api.NodeTerminated, tc.launched), Rates: tc.rates})
			if r.Now != tc.now {
				t.Errorf("replace now %v, want %v", r.Now, tc.now)
			}
			switch {
			case tc.rates == nil && r.Billing != nil:
				t.Errorf("billing weighed without a price: %+v", r.Billing)
			case tc.rates != nil && (r.Billing == nil || !r.Billing.PaidUntil.Equal(tc.paid) || r.Billing.MinimumMicros != 600_000 ||
				r.Billing.MinimumBilled != time.Hour):
				t.Errorf("weighed %+v, want paid until %v and a minimum of $0.60 for 1h", r.Billing, tc.paid)
			}
		})
	}
	// Outside the window it is replaced at once, paid time or not.
	if r := Replace(ReplaceInput{Config: c, Now: t0, NextHarmonizationAt: t0.Add(time.Minute),
		Lost: node(3, api.NodeTerminated, t0.Add(-time.Hour+5*time.Second)), Rates: hourly()}); !r.Now || r.Billing != nil {
		t.Errorf("outside the window: %+v", r)
	}
}

func TestADeferredReplacementsPaidTimeIsInTheRecord(t *testing.T) {
	repl := api.Event{ID: "id-E9b", Label: "E9b", Type: api.EventReplacementRequest, Time: at(-5),
		Source: api.Source{Kind: api.SourceSystem}, Status: api.EventAggregated,
		Notes: []string{"deferred to save money: web-6's paid time ended at 10:00:58"}}
	d := Harmonize(HarmonizeInput{Config: cfg(api.PolicyLargest), Now: t0, DesiredBefore: 8, OfficialBefore: 8,
		Nodes: ready(7), Requests: []api.Event{repl}})
	if d.Launch != 1 || !slices.Contains(d.Period.Notes, "E9b: deferred to save money: web-6's paid time ended at 10:00:58") {
		t.Errorf("launch %d, notes %q", d.Launch, d.Period.Notes)
	}
}
