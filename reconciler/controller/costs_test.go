package controller

import (
	"fmt"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// TestCostsOverThreeDays plays three days on the fake clock: a group of 2
// created by terraform, a schedule that sets 6 nodes at 08:00 and 2 at
// 20:00, user alice asking for +2 in the same period as the first
// morning, a price change at noon of day 1, a node lost and replaced at
// once, user bob's immediate +1 at 03:00 of day 2. The test prices every
// node's lifetime itself (whole minutes, ten at least, the price of each
// moment) and charges it to the cause it knows launched it, then checks
// pes's costs by cause to the cent, and that by=cause, by=day, by=trigger,
// by=actor and by=change all add up to the same total.
func TestCostsOverThreeDays(t *testing.T) {
	h := newHarness(t)
	g := h.createGroup(api.GroupConfig{
		Name: "web", DesiredQuantity: 2, MaxQuantity: 20, AggregationPeriod: "60s",
		Replacement: api.ReplacementImmediate, InitDeadline: "5m",
		Sim:     &api.SimConfig{BootTime: "2s"},
		Billing: &api.Billing{PricePerNodeHour: "0.25", Increment: "1m", Minimum: "10m"},
	})
	for _, tr := range []api.TriggerSpec{
		{Name: ptr("day-peak"), Schedule: ptr("0 8 * * *"), Request: api.Request{SetTo: ptr(6)}},
		{Name: ptr("night"), Schedule: ptr("0 20 * * *"), Request: api.Request{SetTo: ptr(2)}},
	} {
		if _, err := h.c.CreateTrigger(h.ctx, g.ID, tr); err != nil {
			t.Fatal(err)
		}
	}
	day := 24 * time.Hour
	// t0 is 10:00 of day 0; times below are from t0.
	at := func(d int, hh, mm int) time.Duration {
		return time.Duration(d)*day + time.Duration(hh-10)*time.Hour + time.Duration(mm)*time.Minute
	}
	var lostNode string
	script := map[time.Duration]func(){
		at(1, 7, 59) + 30*time.Second: func() {
			if _, err := h.c.Instruct(h.ctx, g.ID, api.Instruction{Request: api.Request{ChangeBy: ptr(2)}, Actor: "alice"}); err != nil {
				t.Fatal(err)
			}
		},
		at(1, 12, 0): func() {
			if _, err := h.c.UpdateGroup(h.ctx, g.ID, api.GroupPatch{Billing: &api.Billing{PricePerNodeHour: "0.4", Increment: "1m", Minimum: "10m"}}); err != nil {
				t.Fatal(err)
			}
		},
		at(1, 15, 0): func() { lostNode = h.failNode(g.ID) },
		at(2, 3, 0): func() {
			if _, err := h.c.Instruct(h.ctx, g.ID, api.Instruction{Request: api.Request{ChangeBy: ptr(1)}, Immediate: true, Actor: "bob"}); err != nil {
				t.Fatal(err)
			}
		},
	}
	end := at(3, 10, 0)
	for h.elapsed() < end {
		step := 10 * time.Second
		h.clk.Advance(step)
		if f := script[h.elapsed()]; f != nil {
			f()
		}
		h.tick()
	}
	if lostNode == "" {
		t.Fatal("no node was failed")
	}

	// The causes, found by what they are and when.
	events := h.events(g.ID)
	find := func(what string, ok func(e api.Event) bool) api.Event {
		for _, e := range events {
			if ok(e) {
				return e
			}
		}
		t.Fatalf("no event %s", what)
		return api.Event{}
	}
	within := func(e api.Event, from, to time.Duration) bool {
		return !e.Time.Before(t0.Add(from)) && e.Time.Before(t0.Add(to))
	}
	created := find("group_created", func(e api.Event) bool { return e.Type == api.EventGroupCreated })
	peak := func(d int) api.Event {
		return find(fmt.Sprintf("day-peak on day %d", d), func(e api.Event) bool {
			return e.Type == api.EventTriggerFired && e.Source.Name == "day-peak" && within(e, at(d, 8, 0), at(d, 8, 2))
		})
	}
	alice := find("alice's +2", func(e api.Event) bool { return e.Source.Name == "alice" })
	bob := find("bob's +1", func(e api.Event) bool { return e.Source.Name == "bob" })
	lost := find("the lost node", func(e api.Event) bool { return e.Type == api.EventNodeUnavailable && e.NodeID == lostNode })

	// Each node's cause, by when it was launched: shares of 1 (or 3/4 and
	// 1/4 for day 1's morning: 4 nodes, alice's +2 asked for the first
	// two with the trigger, the trigger alone for the other two).
	type share struct {
		id string
		w  *big.Rat
	}
	one := big.NewRat(1, 1)
	causesOf := func(n api.Node) []share {
		l := n.LaunchedAt.Sub(t0)
		switch {
		case l == 0:
			return []share{{created.ID, one}}
		case l >= at(1, 8, 0) && l < at(1, 8, 3):
			return []share{{peak(1).ID, big.NewRat(3, 4)}, {alice.ID, big.NewRat(1, 4)}}
		case l >= at(1, 15, 0) && l < at(1, 15, 2):
			return []share{{lost.ID, one}}
		case l >= at(2, 3, 0) && l < at(2, 3, 1):
			return []share{{bob.ID, one}}
		case l >= at(2, 8, 0) && l < at(2, 8, 3):
			return []share{{peak(2).ID, one}}
		case l >= at(3, 8, 0) && l < at(3, 8, 3):
			return []share{{peak(3).ID, one}}
		}
		t.Fatalf("node %s launched at +%s: no cause in the script", n.ID, l)
		return nil
	}
	priceAt := func(tm time.Time) *big.Rat {
		if tm.Before(t0.Add(at(1, 12, 0))) {
			return big.NewRat(25, 100)
		}
		return big.NewRat(40, 100)
	}
	now := t0.Add(end)
	want := map[string]*big.Rat{}
	wantSeconds := int64(0)
	nodes := h.nodes(g.ID, "")
	for _, n := range nodes {
		stop := now
		if n.TerminatedAt != nil {
			stop = *n.TerminatedAt
		}
		ran := stop.Sub(n.LaunchedAt)
		billed := (ran + time.Minute - 1) / time.Minute * time.Minute
		billed = max(billed, 10*time.Minute)
		if n.TerminatedAt == nil {
			billed = ran // a live node so far
		}
		wantSeconds += int64(billed / time.Second)
		// Price it second by second at the price of each moment.
		cost := new(big.Rat)
		for s := time.Duration(0); s < billed; s += time.Second {
			p := priceAt(n.LaunchedAt.Add(s))
			cost.Add(cost, new(big.Rat).Quo(p, big.NewRat(3600, 1)))
		}
		for _, sh := range causesOf(n) {
			if want[sh.id] == nil {
				want[sh.id] = new(big.Rat)
			}
			want[sh.id].Add(want[sh.id], new(big.Rat).Mul(cost, sh.w))
		}
	}

	// One reader, as pesd has: the later queries read settled changes
	// from its cache and must answer the same.
	hr := h.hist()
	costs := func(by string) api.Costs {
		c, err := hr.Costs(h.ctx, h.group(g.ID), t0, now, now, by)
		if err != nil {
			t.Fatalf("costs by %s: %v", by, err)
		}
		return c
	}
	byCause := costs(api.CostsByCause)
	if byCause.TotalNodeSeconds != wantSeconds {
		t.Errorf("total node-seconds %d, want %d", byCause.TotalNodeSeconds, wantSeconds)
	}
	cents := func(r *big.Rat) string { return r.FloatString(2) }
	got := map[string]api.CostRow{}
	for _, r := range byCause.Rows {
		got[r.Key] = r
	}
	total := new(big.Rat)
	for id, w := range want {
		total.Add(total, w)
		r, ok := got[id]
		if !ok {
			t.Errorf("no row for cause %s (want %s)", id, cents(w))
			continue
		}
		gotCents := new(big.Rat).SetFrac64(r.CostMicros, 1_000_000)
		if cents(gotCents) != cents(w) {
			t.Errorf("cause %s (%s): cost %s, want %s", r.Label, r.Description, cents(gotCents), cents(w))
		}
	}
	if len(got) != len(want) {
		t.Errorf("by cause: %d rows, want %d: %+v", len(got), len(want), byCause.Rows)
	}
	if gotTotal := new(big.Rat).SetFrac64(byCause.TotalCostMicros, 1_000_000); cents(gotTotal) != cents(total) {
		t.Errorf("total %s, want %s", cents(gotTotal), cents(total))
	}
	// The replacement is charged to the failure, through its chain.
	if r := got[lost.ID]; len(r.EventIDs) < 2 || len(r.ChangeIDs) < 2 {
		t.Errorf("the failure's row names %v and %v, want the failure, its replacement request, the loss and the launch", r.EventIDs, r.ChangeIDs)
	}

	if again := costs(api.CostsByCause); !reflect.DeepEqual(again, byCause) {
		t.Errorf("by=cause read again (from the cache) differs:\n%+v\n%+v", again, byCause)
	}
	for _, by := range api.CostsBy() {
		c := costs(by)
		var secs, micros int64
		for _, r := range c.Rows {
			secs += r.NodeSeconds
			micros += r.CostMicros
		}
		if secs != byCause.TotalNodeSeconds || micros != byCause.TotalCostMicros ||
			c.TotalNodeSeconds != byCause.TotalNodeSeconds || c.TotalCostMicros != byCause.TotalCostMicros {
			t.Errorf("by=%s: rows %d s %d µ, total %d s %d µ; by=cause total %d s %d µ", by, secs, micros,
				c.TotalNodeSeconds, c.TotalCostMicros, byCause.TotalNodeSeconds, byCause.TotalCostMicros)
		}
		if by == api.CostsByDay && len(c.Rows) != 4 {
			t.Errorf("by=day: %d rows, want 4 (days 0 to 3)", len(c.Rows))
		}
		if by == api.CostsByTrigger {
			keys := map[string]bool{}
			for _, r := range c.Rows {
				keys[r.Key] = true
			}
			if len(keys) != 3 || !keys["trigger:day-peak"] || !keys[api.SourceUser] || !keys[api.SourceSystem] {
				t.Errorf("by=trigger: %+v", c.Rows)
			}
		}
	}

	// A change's detail says what it cost, so far or in all.
	var firstPeak api.Change
	for _, ch := range h.changes(g.ID) {
		if ch.Type == api.ChangeAddNodes && ch.StartedAt.Sub(t0) >= at(1, 8, 0) {
			firstPeak = ch
			break
		}
	}
	d, err := h.hist().ExplainChange(h.ctx, firstPeak.ID)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := h.hist().Costed(h.ctx, []api.ChangeDetail{d}, now)
	if err != nil {
		t.Fatal(err)
	}
	d = ds[0]
	// Scale-in removes the newest first, so one of its nodes still runs.
	if d.NodeHours == nil || *d.NodeHours <= 0 || d.Cost == "" || d.CostFinal == nil || *d.CostFinal ||
		!strings.Contains(d.Explanation, firstPeak.Label+" (add 4 nodes, 2 → 6) has cost ") || !strings.Contains(d.Explanation, "so far.") {
		t.Errorf("change %s: node_hours %v cost %q final %v; explanation %q", firstPeak.Label, d.NodeHours, d.Cost, d.CostFinal, d.Explanation)
	}
	t.Logf("by cause: %s total %s %s", cents(total), byCause.TotalCost, byCause.Currency)
	for _, r := range byCause.Rows {
		t.Logf("  %s", r.Description)
	}
}
