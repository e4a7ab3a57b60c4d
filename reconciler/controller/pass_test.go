package controller

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// TestPassBatchOneGroupFails: a pass writes its groups' shares, decided
// before the transaction, in one transaction a batch. When one group's
// share fails in it, the others are still written and the failing group
// is left as it was, in the store and in pesd: its next pass fails the
// same way rather than skipping a label.
func TestPassBatchOneGroupFails(t *testing.T) {
	h := newHarness(t)
	h.opts.BatchSize = 3
	h.crash() // a controller with the batch size
	var gs []api.Group
	for _, name := range []string{"a", "b", "c"} {
		g := h.createGroup(api.GroupConfig{Name: name, DesiredQuantity: 1, MaxQuantity: 5, AggregationPeriod: "10s",
			Sim: &api.SimConfig{BootTime: "0s"}})
		if _, err := h.c.CreateTrigger(h.ctx, g.ID, api.TriggerSpec{
			Name: ptr("busy"), Condition: ptr("last(load) > 1"), Request: api.Request{SetTo: ptr(2)},
		}); err != nil {
			t.Fatal(err)
		}
		gs = append(gs, g)
	}
	h.clk.Advance(time.Second)
	h.tick()
	for _, g := range gs {
		h.push(g.ID, api.Sample{Name: "load", Value: 5})
	}
	// Behind pesd's back, b gets the label its next period would take.
	b := gs[1]
	if err := h.st.Update(h.ctx, func(tx store.Tx) error {
		return tx.InsertPeriod(api.Period{ID: newID(), Label: "H2", GroupID: b.ID, StartedAt: t0, Policy: b.AggregationPolicy})
	}); err != nil {
		t.Fatal(err)
	}

	for pass, want := range []string{"H2", "H3"} {
		h.clk.Advance(10 * time.Second)
		err := h.c.Tick(h.ctx)
		if err == nil || !strings.Contains(err.Error(), b.ID) {
			t.Fatalf("pass %d: Tick = %v, want group %s's error", pass, err, b.ID)
		}
		for _, g := range gs {
			cur, fired := h.group(g.ID).CurrentPeriodLabel, len(eventsOfType(h.events(g.ID), api.EventTriggerFired))
			wantCur, wantFired := want, pass+1
			if g.ID == b.ID {
				wantCur, wantFired = "H1", 0
			}
			if cur != wantCur || fired != wantFired {
				t.Errorf("pass %d: group %s in %s with %d firings, want %s with %d", pass, g.Name, cur, fired, wantCur, wantFired)
			}
		}
		h.push(gs[0].ID, api.Sample{Name: "load", Value: 5})
		h.push(gs[2].ID, api.Sample{Name: "load", Value: 5})
	}
}

// TestSpread: spread calls f once for each index, and has returned from
// every call when it returns.
func TestSpread(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 1000} {
		calls := make([]atomic.Int32, n)
		spread(n, func(i int) { calls[i].Add(1) })
		for i := range calls {
			if got := calls[i].Load(); got != 1 {
				t.Errorf("n=%d: f(%d) called %d times, want once", n, i, got)
			}
		}
	}
}
