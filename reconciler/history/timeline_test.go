package history

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// rowsReader answers one page of fixed rows.
type rowsReader struct {
	store.Reader
	periods []api.Period
	changes []api.Change
	events  []api.Event
}

func (r rowsReader) ListPeriods(context.Context, string, store.Page) ([]api.Period, string, error) {
	return r.periods, "", nil
}
func (r rowsReader) ListChanges(context.Context, store.ChangeFilter) ([]api.Change, string, error) {
	return r.changes, "", nil
}
func (r rowsReader) ListEvents(context.Context, store.EventFilter) ([]api.Event, string, error) {
	return r.events, "", nil
}

// TestTimeline: the series start where the group was created (or where
// the last decision before the window left it), step at each decision,
// immediate request and landed change, and hold to until; with more rows
// than buckets, each bucket keeps the largest change of a type and one
// event of each type and status, so a suppressed firing beside an applied
// one stays.
func TestTimeline(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	atp := func(d time.Duration) *time.Time { v := at(d); return &v }
	g := api.Group{ID: "g1", CreatedAt: t0, GroupConfig: api.GroupConfig{DesiredQuantity: 8}, OfficialQuantity: 5, ActualQuantity: 4}
	eight := 8
	r := rowsReader{
		periods: []api.Period{
			{ID: "p1", Label: "H1", Harmonized: true, EndedAt: atp(time.Minute), DesiredBefore: 3, DesiredAfter: 5, OfficialBefore: 3, OfficialAfter: 5, ChangeIDs: []string{"c1"}},
			{ID: "p2", Label: "H2", Harmonized: true, EndedAt: atp(2 * time.Minute), DesiredBefore: 8, DesiredAfter: 8, OfficialBefore: 5, OfficialAfter: 5},
			{ID: "p3", Label: "H3"}, // the current period
		},
		changes: []api.Change{
			{ID: "c1", Type: api.ChangeAddNodes, Amount: 2, QuantityBefore: 3, QuantityAfter: 5, StartedAt: at(61 * time.Second), EndedAt: atp(70 * time.Second)},
			{ID: "c2", Type: api.ChangeAddNodes, Amount: 1, QuantityBefore: 5, QuantityAfter: 6, StartedAt: at(20 * time.Minute), EndedAt: atp(21 * time.Minute)},
			{ID: "c3", Type: api.ChangeAddNodes, Amount: 2, QuantityBefore: 6, QuantityAfter: 8, StartedAt: at(22 * time.Minute), EndedAt: atp(23 * time.Minute)},
			{ID: "c4", Type: api.ChangeNodeLost, Amount: 1, QuantityBefore: 8, QuantityAfter: 7, StartedAt: at(24 * time.Minute)},
			{ID: "c5", Type: api.ChangeAddNodes, Amount: 1, QuantityBefore: 7, QuantityAfter: 8, StartedAt: at(25 * time.Minute)}, // still running
		},
		events: []api.Event{
			{ID: "e1", Type: api.EventUserInstruction, Status: api.EventApplied, Immediate: true, ProposedQuantity: &eight, Time: at(90 * time.Second)},
			{ID: "e2", Type: api.EventTriggerFired, Status: api.EventApplied, Time: at(40 * time.Minute)},
			{ID: "e3", Type: api.EventTriggerFired, Status: api.EventApplied, Time: at(41 * time.Minute)},
			{ID: "e4", Type: api.EventTriggerFired, Status: api.EventSuppressed, Time: at(42 * time.Minute)},
		},
	}
	since, until := at(-10*time.Minute), at(60*time.Minute)
	// Ten buckets hold every change and event as it is.
	tl, err := New(r).Timeline(context.Background(), g, since, until, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Changes) != 5 || len(tl.Events) != 4 {
		t.Errorf("with room for all, %d changes and %d events, want 5 and 4", len(tl.Changes), len(tl.Events))
	}
	tl, err = New(r).Timeline(context.Background(), g, since, until, 3) // buckets of 23m20s
	if err != nil {
		t.Fatal(err)
	}
	type pt = api.TimelinePoint
	q := func(t time.Time, n int) pt { return pt{Time: t, Quantity: n} }
	want := map[string][]pt{
		"desired":  {q(at(0), 3), q(at(time.Minute), 5), q(at(90*time.Second), 8), q(until, 8)},
		"official": {q(at(0), 3), q(at(time.Minute), 5), q(until, 5)},
		"actual":   {q(at(0), 3), q(at(70*time.Second), 5), q(at(21*time.Minute), 6), q(at(23*time.Minute), 8), q(at(24*time.Minute), 7), q(until, 7)},
	}
	got := map[string][]pt{"desired": tl.Desired, "official": tl.Official, "actual": tl.Actual}
	for k := range want {
		if !reflect.DeepEqual(got[k], want[k]) {
			t.Errorf("%s series\n%v\nwant\n%v", k, got[k], want[k])
		}
	}
	ids := func(n int, id func(int) string) []string {
		out := []string{}
		for i := range n {
			out = append(out, id(i))
		}
		return out
	}
	if h := ids(len(tl.Harmonizations), func(i int) string { return tl.Harmonizations[i].Label }); !reflect.DeepEqual(h, []string{"H1", "H2"}) || tl.HarmonizationCount != 2 {
		t.Errorf("harmonizations %v (count %d), want H1 and H2", h, tl.HarmonizationCount)
	}
	// c2, c3 and c5 share a bucket: the largest stays; c4 is another type.
	if c := ids(len(tl.Changes), func(i int) string { return tl.Changes[i].ID }); !reflect.DeepEqual(c, []string{"c1", "c3", "c4"}) || tl.ChangeCount != 5 {
		t.Errorf("changes %v (count %d), want c1 c3 c4 of 5", c, tl.ChangeCount)
	}
	// e2 and e3 share a bucket and a status: the last stays; e4 was
	// suppressed and stays beside it.
	if e := ids(len(tl.Events), func(i int) string { return tl.Events[i].ID }); !reflect.DeepEqual(e, []string{"e1", "e3", "e4"}) || tl.EventCount != 4 {
		t.Errorf("events %v (count %d), want e1 e3 e4 of 4", e, tl.EventCount)
	}

	// A window after the first decision starts from what it left.
	tl, err = New(r).Timeline(context.Background(), g, at(90*time.Second), until, 3)
	if err != nil {
		t.Fatal(err)
	}
	if tl.Official[0] != q(at(90*time.Second), 5) {
		t.Errorf("official starts at %v, want 5 (H1's) at the window's start", tl.Official[0])
	}
}
