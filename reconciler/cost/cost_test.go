package cost

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func TestBilledRoundsUpToIncrementsAndMinimum(t *testing.T) {
	for _, tc := range []struct {
		ran, inc, min, want time.Duration
	}{
		{90 * time.Second, time.Minute, 0, 2 * time.Minute},
		{90 * time.Second, time.Second, 0, 90 * time.Second},
		{20 * time.Second, time.Second, time.Minute, time.Minute},
		{61 * time.Minute, time.Hour, 0, 2 * time.Hour},
		{0, time.Hour, 0, 0},
	} {
		if got := Billed(t0, t0.Add(tc.ran), tc.inc, tc.min).Sub(t0); got != tc.want {
			t.Errorf("ran %v inc %v min %v: billed %v, want %v", tc.ran, tc.inc, tc.min, got, tc.want)
		}
	}
	// A live node has paid until the end of its increment in progress.
	if got := PaidUntil(t0, at(58*time.Minute), time.Hour, 0); !got.Equal(at(time.Hour)) {
		t.Errorf("paid until %v", got)
	}
	if got := PaidUntil(t0, at(time.Hour), time.Hour, 0); !got.Equal(at(2 * time.Hour)) {
		t.Errorf("on the boundary, paid until %v", got)
	}
}

func TestApportionAddsUp(t *testing.T) {
	parts := apportion(100, []int64{1, 1, 1})
	if parts[0]+parts[1]+parts[2] != 100 || parts[0] != 34 {
		t.Errorf("parts %v", parts)
	}
	if got := apportion(7, []int64{0, 0}); got[0] != 0 || got[1] != 0 {
		t.Errorf("zero weights: %v", got)
	}
}

func TestAPriceChangeAppliesFromItsTime(t *testing.T) {
	rates := ParseRates([]api.BillingRate{
		{From: t0, Billing: api.Billing{PricePerNodeHour: "1", Increment: "1s"}},
		{From: at(time.Hour), Billing: api.Billing{PricePerNodeHour: "3", Increment: "1s"}},
	})
	end := at(2 * time.Hour)
	n := api.Node{ID: "n1", LaunchedAt: at(30 * time.Minute), TerminatedAt: &end}
	c := OfChange([]api.Node{n}, rates, at(5*time.Hour))
	// 30 min at 1 + 60 min at 3 = 3.5.
	if c.Micros != 3_500_000 || c.NodeSeconds != 5400 || !c.Final {
		t.Errorf("cost %+v", c)
	}
}

func labelled(id, typ string, src api.Source) api.Event {
	return api.Event{ID: id, Label: id, Type: typ, Source: src}
}

// The seed's C7: E5 +4, E6 +2, E4 +3 and a replacement E9b, add 5.
func seedRecords() Records {
	trig := func(n string) api.Source { return api.Source{Kind: api.SourceTrigger, Name: n} }
	ev := map[string]api.Event{
		"E5":  labelled("E5", api.EventTriggerFired, trig("cpu-high")),
		"E6":  labelled("E6", api.EventTriggerFired, trig("net-high")),
		"E4":  labelled("E4", api.EventUserInstruction, api.Source{Kind: api.SourceUser, Name: "alice"}),
		"E9a": labelled("E9a", api.EventNodeUnavailable, api.Source{Kind: api.SourceSystem}),
		"E9b": labelled("E9b", api.EventReplacementRequest, api.Source{Kind: api.SourceSystem}),
	}
	e := ev["E9b"]
	e.ParentChangeID = "C9"
	ev["E9b"] = e
	return Records{
		Events: ev,
		Changes: map[string]api.Change{
			"C7": {ID: "C7", Type: api.ChangeAddNodes, Amount: 5, NexusID: "X7", PeriodID: "H2"},
			"C9": {ID: "C9", Type: api.ChangeNodeLost, Amount: 1, NexusID: "X9"},
		},
		Nexuses: map[string]api.Nexus{
			"X7": {ID: "X7", Attribution: api.AttributionIndirect, EventIDs: []string{"E5", "E6", "E4", "E9b"}, ChangeIDs: []string{"C7"}},
			"X9": {ID: "X9", Attribution: api.AttributionDirect, EventIDs: []string{"E9a"}, ChangeIDs: []string{"C9"}},
		},
		Periods: map[string]*api.Period{"H2": {ID: "H2", DesiredBefore: 8, Requests: []api.PeriodRequest{
			{EventID: "E5", ProposedQuantity: 12, Kind: "trigger"},
			{EventID: "E6", ProposedQuantity: 10, Kind: "trigger"},
			{EventID: "E4", ProposedQuantity: 11, Kind: "user"},
			{EventID: "E9b", ProposedQuantity: 8, Kind: "replacement"},
		}}},
	}
}

func TestSharesSplitLayersAndChargeReplacementsToTheFailure(t *testing.T) {
	rec := seedRecords()
	got := map[string]int64{}
	var sum int64
	for _, s := range Shares(rec.Changes["C7"], rec) {
		got[s.Cause] = s.Weight
		sum += s.Weight
	}
	// 5 nodes: 1 replacement (to E9a, the failure), layers 1-2 shared by
	// E5, E4, E6, layer 3 by E5 and E4, layer 4 by E5 alone.
	third, half := float64(Scale)/3, float64(Scale)/2
	want := map[string]float64{
		"E9a": float64(Scale),
		"E5":  2*third + half + float64(Scale),
		"E4":  2*third + half,
		"E6":  2 * third,
	}
	if sum != Scale {
		t.Errorf("weights add up to %d", sum)
	}
	for id, w := range want {
		if d := float64(got[id]) - w/5; d > 2 || d < -2 {
			t.Errorf("%s: weight %d, want %.0f", id, got[id], w/5)
		}
	}
	if _, ok := got["E9b"]; ok {
		t.Error("the replacement request is charged, not its failure")
	}
}

func TestComputeRowsAddUpWhateverTheGrouping(t *testing.T) {
	rec := seedRecords()
	rec.Events["E1"] = labelled("E1", api.EventGroupCreated, api.Source{Kind: api.SourceUser, Name: "terraform"})
	rec.Changes["C1"] = api.Change{ID: "C1", Type: api.ChangeAddNodes, Amount: 2, NexusID: "X1"}
	rec.Nexuses["X1"] = api.Nexus{ID: "X1", Attribution: api.AttributionDirect, EventIDs: []string{"E1"}, ChangeIDs: []string{"C1"}}
	rates := ParseRates([]api.BillingRate{{From: t0, Billing: api.Billing{PricePerNodeHour: "0.33", Increment: "1m", Minimum: "10m"}}})
	var nodes []api.Node
	for i := range 2 {
		end := at(time.Duration(20+i) * time.Hour)
		nodes = append(nodes, api.Node{ID: "a", ChangeID: "C1", LaunchedAt: at(0), TerminatedAt: &end})
	}
	for i := range 5 {
		nodes = append(nodes, api.Node{ID: "b", ChangeID: "C7", LaunchedAt: at(time.Duration(i)*time.Minute + 7*time.Second)})
	}
	q := Query{Since: at(-time.Hour), Until: at(40 * time.Hour), Now: at(39*time.Hour + 13*time.Second)}
	var total Report
	for i, by := range api.CostsBy() {
		q.By = by
		rep := Compute(nodes, rates, rec, q)
		var secs, micros int64
		for _, r := range rep.Rows {
			secs += r.NodeSeconds
			micros += r.Micros
		}
		if secs != rep.NodeSeconds || micros != rep.Micros {
			t.Errorf("by=%s: rows add up to %d s, %d µ; totals %d s, %d µ", by, secs, micros, rep.NodeSeconds, rep.Micros)
		}
		if i == 0 {
			total = rep
		} else if rep.NodeSeconds != total.NodeSeconds || rep.Micros != total.Micros {
			t.Errorf("by=%s total %d s %d µ; by=cause %d s %d µ", by, rep.NodeSeconds, rep.Micros, total.NodeSeconds, total.Micros)
		}
	}
	// Total, without records or rows, is the same total.
	if secs, micros := Total(nodes, rates, q.Now, q.Since, q.Until); secs != total.NodeSeconds || micros != total.Micros {
		t.Errorf("Total %d s %d µ; Compute %d s %d µ", secs, micros, total.NodeSeconds, total.Micros)
	}
	if len(total.Rows) != 5 || total.Rows[0].Key != "E5" {
		t.Errorf("by=cause rows %+v", total.Rows)
	}
	q.By = api.CostsByDay
	if rep := Compute(nodes, rates, rec, q); len(rep.Rows) != 3 || rep.Rows[0].Key != "2026-12-01" { // 10:00 on the 1st to 01:00 on the 3rd
		t.Errorf("by=day: %d rows", len(rep.Rows))
	}
}

// Rows come largest cost first, then most node time, then by key, however
// alike the keys begin (the sort compares their first bytes before the
// whole).
func TestComputeRowsInCostThenKeyOrder(t *testing.T) {
	rec := Records{Changes: map[string]api.Change{}, Nexuses: map[string]api.Nexus{}, Events: map[string]api.Event{}}
	keys := []string{"a", "ab", "ab\x00", "abcdefgh", "abcdefghi", "abcdefgg", "b", "", "zz", "abcdefgh\x00",
		"abcdefghijklmnop", "abcdefghijklmnopq", "abcdefghijklmnoo", "abcdefghijklmno",
		"0190b6c8-2f5e-7a3c-9d1e-0123456789ab", "0190b6c8-2f5e-7a3c-9d1e-0123456789aa", "0190b6c8-2f5e-7a3c-9d1e-01234567",
		"0190b6c8-2f5e-7a3c-9d1e-012345670", "0190b6c8-2f5e-7a3c-9d1e-01234566zz"}
	var nodes []api.Node
	for i := range 120 {
		ch := fmt.Sprintf("c%d", i)
		rec.Changes[ch] = api.Change{ID: ch, NexusID: "x" + ch}
		rec.Nexuses["x"+ch] = api.Nexus{ID: "x" + ch, Attribution: api.AttributionDirect, EventIDs: []string{keys[i%len(keys)] + strconv.Itoa(i%3)}}
		end := at(time.Duration(i%4)*time.Hour + time.Hour)
		nodes = append(nodes, api.Node{ID: ch, ChangeID: ch, LaunchedAt: at(0), TerminatedAt: &end})
	}
	rates := ParseRates([]api.BillingRate{{From: t0, Billing: api.Billing{PricePerNodeHour: "1", Increment: "1s"}}})
	rep := Compute(nodes, rates, rec, Query{Since: t0, Until: at(10 * time.Hour), Now: at(10 * time.Hour), By: api.CostsByCause})
	want := slices.Clone(rep.Rows)
	slices.SortFunc(want, func(a, b Row) int {
		return cmp.Or(cmp.Compare(b.Units, a.Units), cmp.Compare(b.NodeSeconds, a.NodeSeconds), cmp.Compare(a.Key, b.Key))
	})
	if len(want) < 40 {
		t.Fatalf("%d rows", len(want))
	}
	for i := range want {
		if want[i].Key != rep.Rows[i].Key {
			t.Fatalf("row %d is %q, want %q", i, rep.Rows[i].Key, want[i].Key)
		}
	}
}

// A long list of rows is sorted in two halves and merged: the same order
// as one sort.
func TestSortedRowsInHalvesAsOneSort(t *testing.T) {
	var keys []sortKey
	seed := uint64(3)
	for i := range 25_001 {
		seed = seed*6364136223846793005 + 1442695040888963407
		keys = append(keys, sortKey{units: int64(seed>>60) * 100, seconds: int64(seed>>50) % 7, prefix: [4]uint64{seed >> 62, uint64(i) % 5}, row: int32(i)})
	}
	rank := func(a, b sortKey) int {
		return cmp.Or(cmp.Compare(b.units, a.units), cmp.Compare(b.seconds, a.seconds), cmp.Compare(a.prefix[0], b.prefix[0]),
			cmp.Compare(a.prefix[1], b.prefix[1]), cmp.Compare(a.row, b.row))
	}
	want := slices.Clone(keys)
	slices.SortFunc(want, rank)
	got := sortedRows(slices.Clone(keys), rank)
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i].row {
			t.Fatalf("place %d holds row %d, want %d", i, got[i], want[i].row)
		}
	}
}
