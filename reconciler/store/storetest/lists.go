package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// randomID is an id whose order says nothing about insertion or time.
func randomID(r *rand.Rand, prefix string) string {
	return fmt.Sprintf("%s-%016x", prefix, r.Uint64())
}

// byTimeID sorts like the store's lists: time, then id.
func byTimeID(t1 time.Time, id1 string, t2 time.Time, id2 string) int {
	if c := t1.Compare(t2); c != 0 {
		return c
	}
	return strings.Compare(id1, id2)
}

func testPagination(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	insertGroups(t, s, "g1", "g2")

	// 1,234 events in g1 with many ties on time, inserted in random order,
	// and some in g2 that must never show up.
	var want []api.Event
	var all []api.Event
	for i := range 1234 {
		e := event(randomID(r, "e"), "g1", at(r.IntN(300)))
		want = append(want, e)
		all = append(all, e)
		if i%10 == 0 {
			all = append(all, event(randomID(r, "o"), "g2", at(r.IntN(300))))
		}
	}
	r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	update(t, s, func(tx store.Tx) error {
		for _, e := range all {
			if err := tx.InsertEvent(e); err != nil {
				return err
			}
		}
		return nil
	})
	slices.SortFunc(want, func(a, b api.Event) int { return byTimeID(a.Time, a.ID, b.Time, b.ID) })
	listG1 := func(p store.Page) ([]api.Event, string, error) {
		return s.ListEvents(ctx, store.EventFilter{GroupID: "g1", Page: p})
	}
	// 0 is the default of 100; above 1000 is capped at 1000 (pageAll
	// checks the page sizes).
	for _, limit := range []int{1, 7, 100, 0, 999, 1000, 5000} {
		got := pageAll(t, limit, listG1)
		sameIDs(t, fmt.Sprintf("events, limit %d", limit), ids(want), ids(got))
	}

	// A token is stable: asking twice gives the same page.
	first, tok, err := listG1(store.Page{Limit: 100})
	must(t, err)
	second1, _, err := listG1(store.Page{Limit: 100, Token: tok})
	must(t, err)
	second2, _, err := listG1(store.Page{Limit: 100, Token: tok})
	must(t, err)
	sameIDs(t, "same token twice", ids(second1), ids(second2))

	// Writes between pages neither shift nor repeat items: an event
	// before the cursor is not seen, one after it is.
	last := first[len(first)-1]
	before := event("e-before", "g1", last.Time.Add(-time.Nanosecond))
	after := event("e-after", "g1", want[len(want)-1].Time.Add(time.Second))
	tie := event(last.ID+"0", "g1", last.Time) // same time, id just after the cursor
	update(t, s, func(tx store.Tx) error {
		for _, e := range []api.Event{before, after, tie} {
			if err := tx.InsertEvent(e); err != nil {
				return err
			}
		}
		return nil
	})
	rest := pageAll(t, 100, func(p store.Page) ([]api.Event, string, error) {
		if p.Token == "" {
			p.Token = tok
		}
		return listG1(p)
	})
	expect := append(slices.Clone(want), after, tie)
	slices.SortFunc(expect, func(a, b api.Event) int { return byTimeID(a.Time, a.ID, b.Time, b.ID) })
	sameIDs(t, "pages around concurrent writes", ids(expect), append(ids(first), ids(rest)...))

	// Changes page the same way, by started_at.
	var chs []api.Change
	update(t, s, func(tx store.Tx) error {
		for range 321 {
			c := change(randomID(r, "c"), "g1", at(r.IntN(40)))
			chs = append(chs, c)
			if err := tx.InsertChange(c); err != nil {
				return err
			}
		}
		return nil
	})
	slices.SortFunc(chs, func(a, b api.Change) int { return byTimeID(a.StartedAt, a.ID, b.StartedAt, b.ID) })
	for _, limit := range []int{1, 13, 0, 1000} {
		got := pageAll(t, limit, func(p store.Page) ([]api.Change, string, error) {
			return s.ListChanges(ctx, store.ChangeFilter{GroupID: "g1", Page: p})
		})
		sameIDs(t, fmt.Sprintf("changes, limit %d", limit), ids(chs), ids(got))
	}

	// An empty list is an empty page and no token.
	none, next, err := s.ListEvents(ctx, store.EventFilter{GroupID: "no-such-group"})
	must(t, err)
	if len(none) != 0 || next != "" {
		t.Errorf("events of an unknown group: %d items, token %q", len(none), next)
	}
}

// testBadPages: a malformed token or limit is the caller's mistake, so it
// comes back as an *api.Error naming the field (the server answers 400).
func testBadPages(t *testing.T, s store.Store) {
	ctx := context.Background()
	insertGroups(t, s, "g1")
	update(t, s, func(tx store.Tx) error {
		for i := range 3 {
			if err := tx.InsertEvent(event(idf("e", i), "g1", at(i))); err != nil {
				return err
			}
		}
		return nil
	})
	_, good, err := s.ListEvents(ctx, store.EventFilter{GroupID: "g1", Page: store.Page{Limit: 1}})
	must(t, err)
	if good == "" {
		t.Fatal("no next token after a page of 1 of 3")
	}
	lists := map[string]func(p store.Page) error{
		"events": func(p store.Page) error {
			_, _, err := s.ListEvents(ctx, store.EventFilter{GroupID: "g1", Page: p})
			return err
		},
		"changes": func(p store.Page) error {
			_, _, err := s.ListChanges(ctx, store.ChangeFilter{GroupID: "g1", Page: p})
			return err
		},
		"groups": func(p store.Page) error {
			_, _, err := s.ListGroups(ctx, store.GroupFilter{Page: p})
			return err
		},
		"periods": func(p store.Page) error {
			_, _, err := s.ListPeriods(ctx, "g1", p)
			return err
		},
	}
	cases := []struct {
		name  string
		page  store.Page
		field string
	}{
		{"not base64", store.Page{Token: "!!!not a token!!!"}, "page_token"},
		{"base64 of junk", store.Page{Token: "aGVsbG8gd29ybGQ"}, "page_token"},
		{"truncated", store.Page{Token: good[:len(good)/2]}, "page_token"},
		{"with garbage appended", store.Page{Token: good + "$$"}, "page_token"},
		{"negative limit", store.Page{Limit: -1}, "limit"},
	}
	for name, list := range lists {
		for _, tc := range cases {
			err := list(tc.page)
			var ae *api.Error
			if !errors.As(err, &ae) {
				t.Errorf("%s, %s: error %v, want an *api.Error", name, tc.name, err)
				continue
			}
			if ae.Field != tc.field || ae.Code != api.CodeInvalid || ae.Status != 400 {
				t.Errorf("%s, %s: field %q code %q status %d, want %q %q 400", name, tc.name, ae.Field, ae.Code, ae.Status, tc.field, api.CodeInvalid)
			}
		}
	}
}

type eventCase struct {
	name string
	f    store.EventFilter
}

func testEventFilters(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	insertGroups(t, s, "g1", "g2")
	types := []string{api.EventUserInstruction, api.EventTriggerFired, api.EventNodeUnavailable}
	statuses := []string{api.EventApplied, api.EventAggregated, api.EventSuppressed}
	periods := []string{"", "p1", "p2"}
	var evs []api.Event
	for i := range 400 {
		g := "g1"
		if i%5 == 0 {
			g = "g2"
		}
		e := event(randomID(r, "e"), g, at((i*37)%101))
		e.Type, e.Status, e.PeriodID = types[i%3], statuses[(i/3)%3], periods[(i/9)%3]
		evs = append(evs, e)
	}
	r.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	update(t, s, func(tx store.Tx) error {
		for _, e := range evs {
			if err := tx.InsertEvent(e); err != nil {
				return err
			}
		}
		return nil
	})
	ist := time.FixedZone("IST", 5*3600+1800)
	cases := []eventCase{
		{"group", store.EventFilter{GroupID: "g1"}},
		{"every group", store.EventFilter{}},
		{"since is inclusive", store.EventFilter{GroupID: "g1", Since: at(30)}},
		{"since one ns later", store.EventFilter{GroupID: "g1", Since: at(30).Add(time.Nanosecond)}},
		{"since in another zone", store.EventFilter{GroupID: "g1", Since: at(30).In(ist)}},
		{"until is exclusive", store.EventFilter{GroupID: "g1", Until: at(30)}},
		{"one second", store.EventFilter{GroupID: "g1", Since: at(30), Until: at(31)}},
		{"empty window", store.EventFilter{GroupID: "g1", Since: at(50), Until: at(50)}},
		{"type", store.EventFilter{GroupID: "g1", Type: api.EventTriggerFired}},
		{"unknown type", store.EventFilter{GroupID: "g1", Type: "no_such_type"}},
		{"status", store.EventFilter{GroupID: "g1", Status: api.EventSuppressed}},
		{"period", store.EventFilter{GroupID: "g1", PeriodID: "p1"}},
		{"period across groups", store.EventFilter{PeriodID: "p2"}},
		{"everything", store.EventFilter{GroupID: "g1", Since: at(20), Until: at(80), Type: api.EventUserInstruction,
			Status: api.EventAggregated, PeriodID: "p2"}},
		{"other group, window and status", store.EventFilter{GroupID: "g2", Since: at(10), Until: at(90), Status: api.EventApplied}},
	}
	for _, tc := range cases {
		var want []api.Event
		for _, e := range evs {
			if matchEvent(tc.f, e) {
				want = append(want, e)
			}
		}
		slices.SortFunc(want, func(a, b api.Event) int { return byTimeID(a.Time, a.ID, b.Time, b.ID) })
		if tc.name == "one second" && len(want) == 0 {
			t.Fatal("test data has no event at 30s; the inclusive/exclusive cases would prove nothing")
		}
		for _, limit := range []int{7, 0} {
			got := pageAll(t, limit, func(p store.Page) ([]api.Event, string, error) {
				f := tc.f
				f.Page = p
				return s.ListEvents(ctx, f)
			})
			sameIDs(t, fmt.Sprintf("%s (limit %d)", tc.name, limit), ids(want), ids(got))
		}
	}
}

func matchEvent(f store.EventFilter, e api.Event) bool {
	return (f.GroupID == "" || e.GroupID == f.GroupID) &&
		(f.Since.IsZero() || !e.Time.Before(f.Since)) &&
		(f.Until.IsZero() || e.Time.Before(f.Until)) &&
		(f.Type == "" || e.Type == f.Type) &&
		(f.Status == "" || e.Status == f.Status) &&
		(f.PeriodID == "" || e.PeriodID == f.PeriodID)
}

func testChangeFilters(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 6))
	insertGroups(t, s, "g1", "g2")
	types := []string{api.ChangeAddNodes, api.ChangeRemoveNodes, api.ChangeNodeLost}
	statuses := []string{api.ChangeInProgress, api.ChangeCompleted, api.ChangeFailed}
	periods := []string{"", "p1", "p2"}
	var chs []api.Change
	var evs []api.Event
	for i := range 300 {
		g := "g1"
		if i%4 == 0 {
			g = "g2"
		}
		c := change(randomID(r, "c"), g, at((i*41)%97))
		c.Type, c.Status, c.PeriodID = types[i%3], statuses[(i/3)%3], periods[(i/9)%3]
		chs = append(chs, c)
		evs = append(evs, event(randomID(r, "e"), g, at(i)))
	}
	// Nexus rows within each group: 1-4 events and 0-3 changes each,
	// leaving some events and changes unlinked.
	causedBy := map[string][]string{} // event id -> ids of its nexus's changes
	var nexus []api.Nexus
	for _, g := range []string{"g1", "g2"} {
		var ge, gc []string
		for i := range evs {
			if evs[i].GroupID == g {
				ge = append(ge, evs[i].ID)
			}
			if chs[i].GroupID == g {
				gc = append(gc, chs[i].ID)
			}
		}
		for k := 0; len(ge) > 4 && len(gc) > 3 && k < 25; k++ {
			ne, nc := 1+r.IntN(4), r.IntN(4)
			x := api.Nexus{ID: fmt.Sprintf("x-%s-%d", g, k), GroupID: g, Attribution: api.AttributionIndirect,
				EventIDs: ge[:ne:ne], ChangeIDs: gc[:nc:nc], CreatedAt: at(k)}
			ge, gc = ge[ne:], gc[nc:]
			nexus = append(nexus, x)
			for _, e := range x.EventIDs {
				causedBy[e] = x.ChangeIDs
			}
		}
	}
	// The caller sets NexusID on the members too (store.Tx.InsertNexus).
	member := map[string]string{}
	for _, x := range nexus {
		for _, id := range append(slices.Clone(x.EventIDs), x.ChangeIDs...) {
			member[id] = x.ID
		}
	}
	for i := range chs {
		chs[i].NexusID, evs[i].NexusID = member[chs[i].ID], member[evs[i].ID]
	}
	update(t, s, func(tx store.Tx) error {
		for i := range chs {
			if err := tx.InsertChange(chs[i]); err != nil {
				return err
			}
			if err := tx.InsertEvent(evs[i]); err != nil {
				return err
			}
		}
		for _, x := range nexus {
			if err := tx.InsertNexus(x); err != nil {
				return err
			}
		}
		return nil
	})
	var linked, unlinked, emptyNexus string
	for _, e := range evs {
		switch cs, ok := causedBy[e.ID]; {
		case ok && len(cs) >= 2 && e.GroupID == "g1" && linked == "":
			linked = e.ID
		case ok && len(cs) == 0 && emptyNexus == "":
			emptyNexus = e.ID
		case !ok && unlinked == "":
			unlinked = e.ID
		}
	}
	if linked == "" || unlinked == "" || emptyNexus == "" {
		t.Fatalf("test data lacks a case: linked %q unlinked %q empty nexus %q", linked, unlinked, emptyNexus)
	}
	cases := []struct {
		name string
		f    store.ChangeFilter
	}{
		{"group", store.ChangeFilter{GroupID: "g1"}},
		{"every group", store.ChangeFilter{}},
		{"since is inclusive", store.ChangeFilter{GroupID: "g1", Since: at(41)}},
		{"until is exclusive", store.ChangeFilter{GroupID: "g1", Until: at(41)}},
		{"one second", store.ChangeFilter{GroupID: "g1", Since: at(41), Until: at(42)}},
		{"type", store.ChangeFilter{GroupID: "g1", Type: api.ChangeNodeLost}},
		{"status", store.ChangeFilter{GroupID: "g2", Status: api.ChangeCompleted}},
		{"period", store.ChangeFilter{GroupID: "g1", PeriodID: "p2"}},
		{"caused by", store.ChangeFilter{GroupID: "g1", CausedBy: linked}},
		{"caused by, no group", store.ChangeFilter{CausedBy: linked}},
		{"caused by, wrong group", store.ChangeFilter{GroupID: "g2", CausedBy: linked}},
		{"caused by an unlinked event", store.ChangeFilter{CausedBy: unlinked}},
		{"caused by an event whose nexus has no change", store.ChangeFilter{CausedBy: emptyNexus}},
		{"caused by an unknown event", store.ChangeFilter{CausedBy: "no-such-event"}},
		{"caused by and type", store.ChangeFilter{GroupID: "g1", CausedBy: linked, Type: api.ChangeAddNodes}},
		{"everything", store.ChangeFilter{GroupID: "g1", Since: at(10), Until: at(90), Type: api.ChangeRemoveNodes,
			Status: api.ChangeInProgress, PeriodID: "p1"}},
	}
	for _, tc := range cases {
		var want []api.Change
		for _, c := range chs {
			if matchChange(tc.f, c, causedBy) {
				want = append(want, c)
			}
		}
		slices.SortFunc(want, func(a, b api.Change) int { return byTimeID(a.StartedAt, a.ID, b.StartedAt, b.ID) })
		if (tc.name == "one second" || tc.name == "caused by") && len(want) == 0 {
			t.Fatalf("%s: test data has no match; the case would prove nothing", tc.name)
		}
		for _, limit := range []int{3, 0} {
			got := pageAll(t, limit, func(p store.Page) ([]api.Change, string, error) {
				f := tc.f
				f.Page = p
				return s.ListChanges(ctx, f)
			})
			sameIDs(t, fmt.Sprintf("%s (limit %d)", tc.name, limit), ids(want), ids(got))
		}
	}
}

func matchChange(f store.ChangeFilter, c api.Change, causedBy map[string][]string) bool {
	return (f.GroupID == "" || c.GroupID == f.GroupID) &&
		(f.Since.IsZero() || !c.StartedAt.Before(f.Since)) &&
		(f.Until.IsZero() || c.StartedAt.Before(f.Until)) &&
		(f.Type == "" || c.Type == f.Type) &&
		(f.Status == "" || c.Status == f.Status) &&
		(f.PeriodID == "" || c.PeriodID == f.PeriodID) &&
		(f.CausedBy == "" || slices.Contains(causedBy[f.CausedBy], c.ID))
}
