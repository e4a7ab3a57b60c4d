package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// The round trips below write a value through a transaction and read it
// back three ways: inside the same transaction (read your writes), after
// commit through the store, and in lists.

// checkBilling checks that BillingHistory reads the group's billing
// history as GetGroup does.
func checkBilling(t *testing.T, s store.Store, g api.Group) {
	t.Helper()
	hist, err := s.BillingHistory(context.Background(), g.ID)
	must(t, err)
	checkSame(t, "billing history of "+g.ID, g.BillingHistory, hist)
}

func testGroups(t *testing.T, s store.Store) {
	ctx := context.Background()
	full := filled[api.Group](1)
	full.ID, full.Status = "g-full", api.GroupActive
	// status_reason is the controller's, added when the API answers (a
	// degraded group), never stored; owner is the lease's, added too.
	full.StatusReason, full.Owner = "", ""
	minimal := group("g-min", "minimal")
	minimal.Program = api.Program{Command: "true"}
	// A zone other than UTC and a monotonic reading: the store must
	// return the same instant in UTC.
	kolkata := time.FixedZone("IST", 5*3600+1800)
	local := time.Now().In(kolkata)
	minimal.CreatedAt, minimal.UpdatedAt = local, local
	empty := group("g-empty", "empty")
	empty.Labels, empty.Program.Args = map[string]string{}, nil

	for _, g := range []api.Group{full, minimal, empty} {
		update(t, s, func(tx store.Tx) error {
			if err := tx.InsertGroup(g); err != nil {
				return err
			}
			got, err := tx.GetGroup(ctx, g.ID)
			if err != nil {
				return err
			}
			checkSame(t, "in tx: group "+g.ID, g, got)
			return nil
		})
		got, err := s.GetGroup(ctx, g.ID)
		must(t, err)
		checkSame(t, "group "+g.ID, g, got)
		checkBilling(t, s, g)
	}

	// Every field can change, and pointers can go back to nil.
	changed := filled[api.Group](2)
	changed.ID, changed.Status, changed.StatusReason, changed.Owner = full.ID, api.GroupActive, "", ""
	update(t, s, func(tx store.Tx) error { return tx.UpdateGroup(changed) })
	got, err := s.GetGroup(ctx, full.ID)
	must(t, err)
	checkSame(t, "updated group", changed, got)
	checkBilling(t, s, changed)

	cleared := changed
	cleared.HealthCheck, cleared.Sim, cleared.Predictive, cleared.Labels = nil, nil, nil, nil
	cleared.Kubernetes, cleared.Billing, cleared.BillingHistory = nil, nil, nil
	cleared.NextHarmonizationAt, cleared.DeletedAt = nil, nil
	update(t, s, func(tx store.Tx) error { return tx.UpdateGroup(cleared) })
	got, err = s.GetGroup(ctx, full.ID)
	must(t, err)
	checkSame(t, "cleared group", cleared, got)
	checkBilling(t, s, cleared)
	_, err = s.BillingHistory(ctx, "g-nope")
	wantErr(t, "BillingHistory(g-nope)", err, store.ErrNotFound)

	// UpdateGroupState writes the state and leaves the rest as stored.
	other := filled[api.Group](3)
	other.ID = full.ID
	want := cleared
	want.DesiredQuantity, want.OfficialQuantity, want.ActualQuantity = other.DesiredQuantity, other.OfficialQuantity, other.ActualQuantity
	want.NextHarmonizationAt = other.NextHarmonizationAt
	want.CurrentPeriodID, want.CurrentPeriodLabel = other.CurrentPeriodID, other.CurrentPeriodLabel
	want.UpdatedAt = other.UpdatedAt
	other.Status = api.GroupDeleted
	if other.NextHarmonizationAt == nil || other.DeletedAt == nil || other.Name == cleared.Name {
		t.Fatal("filled[api.Group](3) must set the times and differ from (2)")
	}
	labels := store.Labels{E: 7, C: 3, H: 2}
	update(t, s, func(tx store.Tx) error { return tx.UpdateGroupState(other, labels) })
	got, err = s.GetGroup(ctx, full.ID)
	must(t, err)
	checkSame(t, "group after UpdateGroupState", want, got)
	if l, err := s.Labels(ctx, full.ID); err != nil || l != labels {
		t.Errorf("label counters after UpdateGroupState: %+v (err %v), want %+v", l, err, labels)
	}
	// A full update leaves the counters alone.
	update(t, s, func(tx store.Tx) error { return tx.UpdateGroup(want) })
	if l, err := s.Labels(ctx, full.ID); err != nil || l != labels {
		t.Errorf("label counters after UpdateGroup: %+v (err %v), want %+v", l, err, labels)
	}
	err = s.Update(ctx, func(tx store.Tx) error { return tx.UpdateGroupState(group("nope", "x"), store.Labels{}) })
	wantErr(t, "UpdateGroupState(nope)", err, store.ErrNotFound)
}

func testGroupErrors(t *testing.T, s store.Store) {
	ctx := context.Background()
	insertGroups(t, s, "g1")
	_, err := s.GetGroup(ctx, "nope")
	wantErr(t, "GetGroup(nope)", err, store.ErrNotFound)
	err = s.Update(ctx, func(tx store.Tx) error { return tx.UpdateGroup(group("nope", "x")) })
	wantErr(t, "UpdateGroup(nope)", err, store.ErrNotFound)
	err = s.Update(ctx, func(tx store.Tx) error { return tx.InsertGroup(group("g1", "another-name")) })
	wantConflict(t, "InsertGroup with an existing id", err, "the id already exists")
	got, err := s.GetGroup(ctx, "g1")
	must(t, err)
	if got.Name != "name-g1" {
		t.Errorf("a rejected insert changed the group: name %q", got.Name)
	}
}

func testUniqueLiveNames(t *testing.T, s store.Store) {
	ctx := context.Background()
	update(t, s, func(tx store.Tx) error { return tx.InsertGroup(group("g1", "web")) })

	err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertGroup(group("g2", "web")) })
	wantConflict(t, "second live group named web", err, "a live group already has this name")

	update(t, s, func(tx store.Tx) error { return tx.InsertGroup(group("g2", "api")) })
	err = s.Update(ctx, func(tx store.Tx) error {
		g := group("g2", "web")
		return tx.UpdateGroup(g)
	})
	wantConflict(t, "renaming a live group to a taken name", err, "a live group already has this name")

	// Once web is deleted its name is free, and the deleted group keeps it.
	update(t, s, func(tx store.Tx) error {
		g, err := tx.GetGroup(ctx, "g1")
		if err != nil {
			return err
		}
		g.Status, g.DeletedAt = api.GroupDeleted, ptr(at(60))
		return tx.UpdateGroup(g)
	})
	update(t, s, func(tx store.Tx) error { return tx.InsertGroup(group("g3", "web")) })
	// A second deleted group with the same name is fine too.
	update(t, s, func(tx store.Tx) error {
		g, err := tx.GetGroup(ctx, "g3")
		if err != nil {
			return err
		}
		g.Status, g.DeletedAt = api.GroupDeleted, ptr(at(120))
		return tx.UpdateGroup(g)
	})
	update(t, s, func(tx store.Tx) error { return tx.InsertGroup(group("g4", "web")) })

	all, _, err := s.ListGroups(ctx, store.GroupFilter{IncludeDeleted: true})
	must(t, err)
	webs := 0
	for _, g := range all {
		if g.Name == "web" {
			webs++
		}
	}
	if webs != 3 {
		t.Errorf("%d groups named web, want 3 (two deleted, one live)", webs)
	}
}

// testGroupByName: a name finds its live group, else the group of that
// name deleted last, else nothing.
func testGroupByName(t *testing.T, s store.Store) {
	ctx := context.Background()
	byName := func(name string) (string, error) {
		t.Helper()
		g, err := s.GetGroupByName(ctx, "", name)
		return g.ID, err
	}
	del := func(id string, when time.Time) {
		t.Helper()
		update(t, s, func(tx store.Tx) error {
			g, err := tx.GetGroup(ctx, id)
			if err != nil {
				return err
			}
			g.Status, g.DeletedAt = api.GroupDeleted, &when
			return tx.UpdateGroup(g)
		})
	}
	_, err := byName("web")
	wantErr(t, "no group named web", err, store.ErrNotFound)

	update(t, s, func(tx store.Tx) error { return tx.InsertGroup(group("g1", "web")) })
	update(t, s, func(tx store.Tx) error { return tx.InsertGroup(group("g2", "api")) })
	if id, err := byName("web"); err != nil || id != "g1" {
		t.Errorf("live web: %q, %v; want g1", id, err)
	}
	if _, err := byName("g1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an id is not a name: error %v, want not found", err)
	}

	// Deleted in an order other than their ids' and insertion's: the
	// latest deletion answers until a live group takes the name again.
	del("g1", at(600))
	update(t, s, func(tx store.Tx) error { return tx.InsertGroup(group("g3", "web")) })
	del("g3", at(300)) // deleted_at before g1's (clocks are injected)
	if id, err := byName("web"); err != nil || id != "g1" {
		t.Errorf("web, all deleted: %q, %v; want g1, deleted last", id, err)
	}
	update(t, s, func(tx store.Tx) error { return tx.InsertGroup(group("g4", "web")) })
	if id, err := byName("web"); err != nil || id != "g4" {
		t.Errorf("web, live again: %q, %v; want g4", id, err)
	}
	// Inside a transaction, as the controller reads.
	update(t, s, func(tx store.Tx) error {
		g, err := tx.GetGroupByName(ctx, "", "api")
		if err != nil || g.ID != "g2" {
			t.Errorf("api in a transaction: %q, %v; want g2", g.ID, err)
		}
		return nil
	})
}

func testListGroups(t *testing.T, s store.Store) {
	ctx := context.Background()
	// Created out of id order, with ties on created_at.
	specs := []struct {
		id      string
		created int
		deleted bool
	}{
		{"g5", 10, false}, {"g2", 10, false}, {"g9", 5, true}, {"g1", 20, false}, {"g3", 5, false}, {"g4", 30, true},
	}
	update(t, s, func(tx store.Tx) error {
		for _, sp := range specs {
			g := group(sp.id, "n-"+sp.id)
			g.CreatedAt = at(sp.created)
			if sp.deleted {
				g.Status, g.DeletedAt = api.GroupDeleted, ptr(at(100))
			}
			if err := tx.InsertGroup(g); err != nil {
				return err
			}
		}
		return nil
	})
	for _, tc := range []struct {
		name           string
		includeDeleted bool
		want           []string
	}{
		{"live", false, []string{"g3", "g2", "g5", "g1"}},
		{"with deleted", true, []string{"g3", "g9", "g2", "g5", "g1", "g4"}},
	} {
		for _, limit := range []int{0, 1, 2, 4, 1000} {
			got := pageAll(t, limit, func(p store.Page) ([]api.Group, string, error) {
				return s.ListGroups(ctx, store.GroupFilter{IncludeDeleted: tc.includeDeleted, Page: p})
			})
			sameIDs(t, tc.name, tc.want, ids(got))
		}
	}
	g, err := s.GetGroup(ctx, "g9")
	must(t, err)
	if g.Status != api.GroupDeleted || g.DeletedAt == nil || !g.DeletedAt.Equal(at(100)) {
		t.Errorf("deleted group reads back with status %q, deleted_at %v", g.Status, g.DeletedAt)
	}
}

func testTriggers(t *testing.T, s store.Store) {
	ctx := context.Background()
	insertGroups(t, s, "g1", "g2")
	full := filled[api.Trigger](1)
	full.ID, full.GroupID = "t-full", "g1"
	full.Warnings = nil // pesd's answer to a write, not stored
	full.Observed = nil // read from the samples by history, not stored
	full.CreatedAt = at(3)
	forms := []api.Trigger{full}
	for i, req := range []api.Request{{ChangeBy: ptr(-2)}, {ChangeByPercent: ptr(12.5)}, {SetTo: ptr(0)}} {
		tr := api.Trigger{
			ID: "t-" + string(rune('a'+i)), GroupID: "g1", Name: "cpu-high",
			Condition: "avg(cpu_utilization, '2m') > 80", Request: req,
			Priority: api.DefaultTriggerPriority, Enabled: i%2 == 0,
			CreatedAt: at(i), UpdatedAt: at(i),
		}
		forms = append(forms, tr)
	}
	other := forms[1]
	other.ID, other.GroupID = "t-other", "g2"
	forms = append(forms, other)
	update(t, s, func(tx store.Tx) error {
		for _, tr := range forms {
			if err := tx.InsertTrigger(tr); err != nil {
				return err
			}
		}
		return nil
	})
	for _, tr := range forms {
		got, err := s.GetTrigger(ctx, tr.ID)
		must(t, err)
		checkSame(t, "trigger "+tr.ID, tr, got)
	}
	list, err := s.ListTriggers(ctx, "g1")
	must(t, err)
	sameIDs(t, "ListTriggers(g1) in created order", []string{"t-a", "t-b", "t-c", "t-full"}, ids(list))

	// Update: a new request form replaces the old one entirely.
	upd := forms[1]
	upd.ChangeBy, upd.SetTo, upd.Enabled, upd.UpdatedAt = nil, ptr(7), false, at(50)
	// rewrite stores upd and reads it back as it is.
	rewrite := func(what string) {
		t.Helper()
		update(t, s, func(tx store.Tx) error { return tx.UpdateTrigger(upd) })
		got, err := s.GetTrigger(ctx, upd.ID)
		must(t, err)
		checkSame(t, what, upd, got)
	}
	rewrite("updated trigger")
	// ... and a target replaces a set_to, then set_to the target.
	upd.SetTo, upd.Target = nil, &api.Target{Metric: "cpu_utilization", Value: 60, Tolerance: ptr(0.0),
		Window: "1m", ScaleInStabilization: "5m"}
	rewrite("trigger updated to a target")
	upd.SetTo, upd.Target = ptr(3), nil
	rewrite("trigger updated from a target")
	// A notify (its secret kept: pesd signs with it) replaces the form.
	upd.SetTo, upd.Notify = nil, &api.Notify{URL: "http://127.0.0.1:9000/pes", Secret: "s3cret"}
	rewrite("trigger updated to a notify")
	upd.SetTo, upd.Notify = ptr(3), nil
	rewrite("trigger updated from a notify")

	update(t, s, func(tx store.Tx) error { return tx.DeleteTrigger("t-b") })
	_, err = s.GetTrigger(ctx, "t-b")
	wantErr(t, "GetTrigger after delete", err, store.ErrNotFound)
	list, err = s.ListTriggers(ctx, "g1")
	must(t, err)
	sameIDs(t, "ListTriggers after delete", []string{"t-a", "t-c", "t-full"}, ids(list))

	err = s.Update(ctx, func(tx store.Tx) error { return tx.DeleteTrigger("t-b") })
	wantErr(t, "DeleteTrigger twice", err, store.ErrNotFound)
	err = s.Update(ctx, func(tx store.Tx) error { return tx.UpdateTrigger(api.Trigger{ID: "nope", GroupID: "g1"}) })
	wantErr(t, "UpdateTrigger(nope)", err, store.ErrNotFound)
	err = s.Update(ctx, func(tx store.Tx) error { return tx.InsertTrigger(forms[3]) })
	wantErr(t, "InsertTrigger with an existing id", err, store.ErrConflict)
	err = s.Update(ctx, func(tx store.Tx) error {
		tr := forms[2]
		tr.ID, tr.GroupID = "t-orphan", "no-such-group"
		return tx.InsertTrigger(tr)
	})
	if err == nil {
		t.Error("InsertTrigger for a group that does not exist: no error")
	}
	list, err = s.ListTriggers(ctx, "no-such-group")
	must(t, err)
	if len(list) != 0 {
		t.Errorf("ListTriggers(no-such-group) = %d triggers", len(list))
	}
}

// NodeTimes reads a group's nodes in launch order, ties by id, however
// they were written, and only those that ran in the window: a costs
// query's answer follows that order (the index of launch times serves it).
func testNodeTimesInLaunchOrder(t *testing.T, s store.Store) {
	ctx := context.Background()
	insertGroups(t, s, "g1", "g2")
	// Written newest first; n-b and n-a were launched at the same instant.
	nodes := []api.Node{
		{ID: "n-e", GroupID: "g1", Index: 5, State: api.NodeReady, LaunchedAt: at(50), ChangeID: "c2"},
		{ID: "n-d", GroupID: "g1", Index: 4, State: api.NodeTerminated, LaunchedAt: at(40), TerminatedAt: ptr(at(45)), ChangeID: "c2"},
		{ID: "n-b", GroupID: "g1", Index: 2, State: api.NodeTerminated, LaunchedAt: at(20), TerminatedAt: ptr(at(60)), ChangeID: "c1"},
		{ID: "n-a", GroupID: "g1", Index: 1, State: api.NodeTerminated, LaunchedAt: at(20), TerminatedAt: ptr(at(25)), ChangeID: "c1"},
		{ID: "n-c", GroupID: "g1", Index: 3, State: api.NodeReady, LaunchedAt: at(30), ChangeID: "c3"},
		{ID: "n-0", GroupID: "g1", Index: 0, State: api.NodeTerminated, LaunchedAt: at(10), TerminatedAt: ptr(at(15))},
		{ID: "n-x", GroupID: "g2", Index: 0, State: api.NodeReady, LaunchedAt: at(35), ChangeID: "c2"},
	}
	upsertNodes(t, s, nodes...)
	times, err := s.NodeTimes(ctx, "g1", time.Time{}, time.Time{})
	must(t, err)
	sameIDs(t, "NodeTimes(g1)", []string{"n-0", "n-a", "n-b", "n-c", "n-d", "n-e"}, ids(times))
	// Ran in [at(26), at(50)): not n-0 and n-a (ended before), nor n-e
	// (launched at its end).
	times, err = s.NodeTimes(ctx, "g1", at(26), at(50))
	must(t, err)
	sameIDs(t, "NodeTimes(g1) in [at(26), at(50))", []string{"n-b", "n-c", "n-d"}, ids(times))

	// The same, of some changes' nodes only: c2's and c1's in g1 (not
	// g2's node that names c2), in launch order, in the window or not.
	times, err = s.NodeTimesOfChanges(ctx, "g1", []string{"c2", "c1"}, time.Time{}, time.Time{})
	must(t, err)
	sameIDs(t, "NodeTimesOfChanges(g1, c2 c1)", []string{"n-a", "n-b", "n-d", "n-e"}, ids(times))
	for _, n := range times {
		if want := map[string]string{"n-a": "c1", "n-b": "c1", "n-d": "c2", "n-e": "c2"}[n.ID]; n.ChangeID != want || n.GroupID != "g1" {
			t.Errorf("NodeTimesOfChanges: node %s of change %q in group %s, want change %q in g1", n.ID, n.ChangeID, n.GroupID, want)
		}
	}
	times, err = s.NodeTimesOfChanges(ctx, "g1", []string{"c2", "c1"}, at(26), at(50))
	must(t, err)
	sameIDs(t, "NodeTimesOfChanges(g1, c2 c1) in [at(26), at(50))", []string{"n-b", "n-d"}, ids(times))
	// One change, as a single GET reads it: c2's nodes in g1 only.
	times, err = s.NodeTimesOfChanges(ctx, "g1", []string{"c2"}, time.Time{}, time.Time{})
	must(t, err)
	sameIDs(t, "NodeTimesOfChanges(g1, c2)", []string{"n-d", "n-e"}, ids(times))
	times, err = s.NodeTimesOfChanges(ctx, "g1", []string{"c2"}, at(46), time.Time{})
	must(t, err)
	sameIDs(t, "NodeTimesOfChanges(g1, c2) since at(46)", []string{"n-e"}, ids(times))
	times, err = s.NodeTimesOfChanges(ctx, "g1", []string{"c3"}, time.Time{}, at(30))
	must(t, err)
	sameIDs(t, "NodeTimesOfChanges(g1, c3) before at(30)", []string{}, ids(times))
	times, err = s.NodeTimesOfChanges(ctx, "g1", nil, time.Time{}, time.Time{})
	must(t, err)
	sameIDs(t, "NodeTimesOfChanges(g1, none)", []string{}, ids(times))
}

// NodeTimesEndedSince reads a group's live nodes and those terminated at
// or after a time, in launch order: what a costs ledger has yet to take in.
func testNodeTimesEndedSince(t *testing.T, s store.Store) {
	ctx := context.Background()
	insertGroups(t, s, "g1", "g2")
	nodes := []api.Node{
		{ID: "n-e", GroupID: "g1", Index: 5, State: api.NodeReady, LaunchedAt: at(50), ChangeID: "c-2"},
		{ID: "n-d", GroupID: "g1", Index: 4, State: api.NodeTerminated, LaunchedAt: at(40), TerminatedAt: ptr(at(45)), ChangeID: "c-2"},
		{ID: "n-b", GroupID: "g1", Index: 2, State: api.NodeTerminated, LaunchedAt: at(20), TerminatedAt: ptr(at(60)), ChangeID: "c-1"},
		{ID: "n-a", GroupID: "g1", Index: 1, State: api.NodeTerminated, LaunchedAt: at(20), TerminatedAt: ptr(at(25)), ChangeID: "c-1"},
		{ID: "n-c", GroupID: "g1", Index: 3, State: api.NodeReady, LaunchedAt: at(30), ChangeID: "c-1"},
		{ID: "n-0", GroupID: "g1", Index: 0, State: api.NodeTerminated, LaunchedAt: at(10), TerminatedAt: ptr(at(15)), ChangeID: "c-0"},
		{ID: "n-x", GroupID: "g2", Index: 0, State: api.NodeReady, LaunchedAt: at(35)},
	}
	upsertNodes(t, s, nodes...)
	times, err := s.NodeTimesEndedSince(ctx, "g1", at(45))
	must(t, err)
	// n-d ended exactly then; n-0 and n-a before.
	sameIDs(t, "NodeTimesEndedSince(g1, at(45))", []string{"n-b", "n-c", "n-d", "n-e"}, ids(times))
	if n := times[2]; !n.LaunchedAt.Equal(at(40)) || n.TerminatedAt == nil || !n.TerminatedAt.Equal(at(45)) || n.ChangeID != "c-2" {
		t.Errorf("NodeTimesEndedSince: n-d read as %+v", n)
	}
	times, err = s.NodeTimesEndedSince(ctx, "g1", at(61))
	must(t, err)
	sameIDs(t, "NodeTimesEndedSince(g1, at(61)): the live ones", []string{"n-c", "n-e"}, ids(times))
	times, err = s.NodeTimesEndedSince(ctx, "g3", at(0))
	must(t, err)
	sameIDs(t, "NodeTimesEndedSince(no such group)", nil, ids(times))
}

func testNodes(t *testing.T, s store.Store) {
	ctx := context.Background()
	insertGroups(t, s, "g1", "g2")
	full := filled[api.Node](1)
	full.ID, full.GroupID, full.State = "n-full", "g1", api.NodeReady
	full.LaunchedAt = at(1)
	nodes := []api.Node{full}
	for i, st := range []string{api.NodeLaunching, api.NodeTerminated, api.NodeUnavailable, api.NodeInitFailed} {
		nodes = append(nodes, api.Node{
			ID: "n-" + st, GroupID: "g1", Index: i + 2, State: st, LaunchedAt: at(i + 2),
		})
	}
	nodes = append(nodes, api.Node{ID: "n-x", GroupID: "g2", State: api.NodeReady, LaunchedAt: at(0)})
	// A node's name is derived, never stored: the group's name and the
	// index, the first node to hold each index here.
	nodes[0].Index = 1
	for i := range nodes {
		nodes[i].Name = api.NodeName("name-"+nodes[i].GroupID, nodes[i].Index, 1)
	}
	upsertNodes(t, s, nodes...)
	for _, n := range nodes {
		got, err := s.GetNode(ctx, n.GroupID, n.ID)
		must(t, err)
		checkSame(t, "node "+n.ID, n, got)
	}
	live, err := s.ListNodes(ctx, "g1", false)
	must(t, err)
	sameIDs(t, "ListNodes(g1) without terminated", []string{"n-full", "n-launching", "n-unavailable", "n-init_failed"}, ids(live))
	all, err := s.ListNodes(ctx, "g1", true)
	must(t, err)
	sameIDs(t, "ListNodes(g1) with terminated", []string{"n-full", "n-launching", "n-terminated", "n-unavailable", "n-init_failed"}, ids(all))
	times, err := s.NodeTimes(ctx, "g1", time.Time{}, time.Time{})
	must(t, err)
	sameIDs(t, "NodeTimes(g1)", ids(all), ids(times))
	if n := times[0]; !n.LaunchedAt.Equal(full.LaunchedAt) || n.ChangeID != full.ChangeID || n.Index != nodes[0].Index || n.Name != "" {
		t.Errorf("NodeTimes: first %+v, want %s's times and change without a name", n, full.ID)
	}

	// Upsert of an existing node moves it through its states.
	n := nodes[1]
	n.State, n.ReadyAt, n.Handle = api.NodeReady, ptr(at(30)), map[string]string{"pid": "4242"}
	update(t, s, func(tx store.Tx) error { return tx.UpsertNode(n) })
	n.State, n.TerminatedAt, n.StateReason = api.NodeTerminated, ptr(at(90)), "scale-in"
	update(t, s, func(tx store.Tx) error { return tx.UpsertNode(n) })
	got, err := s.GetNode(ctx, "g1", n.ID)
	must(t, err)
	checkSame(t, "upserted node", n, got)
	live, err = s.ListNodes(ctx, "g1", false)
	must(t, err)
	sameIDs(t, "ListNodes after termination", []string{"n-full", "n-unavailable", "n-init_failed"}, ids(live))
	// n-launching ran from at(2) to at(90); n-terminated has no end recorded.
	times, err = s.NodeTimes(ctx, "g1", at(91), time.Time{})
	must(t, err)
	sameIDs(t, "NodeTimes(g1) since after n-launching ended", []string{"n-full", "n-terminated", "n-unavailable", "n-init_failed"}, ids(times))
	times, err = s.NodeTimes(ctx, "g1", at(90), at(3))
	must(t, err)
	sameIDs(t, "NodeTimes(g1) in [at(90), at(3))", []string{"n-full", "n-launching"}, ids(times))

	// Index 2 held again by three nodes launched later, two of them at
	// the same instant: generations 2, 3 and 4, in launch order with
	// ties by id, whatever their states.
	again := []api.Node{
		{ID: "n-again-b", GroupID: "g1", Index: 2, State: api.NodeTerminated, LaunchedAt: at(100)},
		{ID: "n-again-a", GroupID: "g1", Index: 2, State: api.NodeReady, LaunchedAt: at(100)},
		{ID: "n-again-c", GroupID: "g1", Index: 2, State: api.NodeLaunching, LaunchedAt: at(101)},
	}
	upsertNodes(t, s, again...)
	names := map[string]string{}
	all, err = s.ListNodes(ctx, "g1", true)
	must(t, err)
	for _, n := range all {
		names[n.ID] = n.Name
	}
	for id, want := range map[string]string{
		"n-launching": "name-g1-2", "n-again-a": "name-g1-2.2", "n-again-b": "name-g1-2.3",
		"n-again-c": "name-g1-2.4", "n-full": "name-g1-1", "n-unavailable": "name-g1-4",
	} {
		if names[id] != want {
			t.Errorf("node %s named %q, want %q", id, names[id], want)
		}
		if one, err := s.GetNode(ctx, "g1", id); err != nil || one.Name != want {
			t.Errorf("GetNode(%s): name %q (%v), want %q", id, one.Name, err, want)
		}
	}

	_, err = s.GetNode(ctx, "g2", "n-full")
	wantErr(t, "GetNode in the wrong group", err, store.ErrNotFound)
	_, err = s.GetNode(ctx, "g1", "nope")
	wantErr(t, "GetNode(nope)", err, store.ErrNotFound)
}

func testEvents(t *testing.T, s store.Store) {
	ctx := context.Background()
	insertGroups(t, s, "g1", "g2")
	full := filled[api.Event](1)
	full.ID, full.GroupID, full.Label = "e-full", "g1", "E1"
	minimal := api.Event{ID: "e-min", GroupID: "g1", Label: "E2", Type: api.EventGroupCreated,
		Source: api.Source{Kind: api.SourceSystem}, Time: at(5), Status: api.EventApplied}
	zero := minimal
	zero.ID, zero.Label, zero.ProposedQuantity = "e-zero", "E3", ptr(0) // 0 is not null
	zero.Request = &api.Request{SetTo: ptr(0)}
	sameLabel := minimal
	sameLabel.ID, sameLabel.GroupID, sameLabel.Label = "e-g2", "g2", "E1"
	evs := []api.Event{full, minimal, zero, sameLabel}
	update(t, s, func(tx store.Tx) error {
		for _, e := range evs {
			if err := tx.InsertEvent(e); err != nil {
				return err
			}
			got, err := tx.GetEvent(ctx, e.ID)
			if err != nil {
				return err
			}
			checkSame(t, "in tx: event "+e.ID, e, got)
		}
		return nil
	})
	for _, e := range evs {
		got, err := s.GetEvent(ctx, e.ID)
		must(t, err)
		checkSame(t, "event "+e.ID, e, got)
		got, err = s.GetEventByLabel(ctx, e.GroupID, e.Label)
		must(t, err)
		checkSame(t, "event by label "+e.Label, e, got)
	}

	upd := minimal
	upd.Status, upd.Reason, upd.NexusID, upd.Request = api.EventSuppressed, "cooldown until 10:05", "x-1", &api.Request{ChangeByPercent: ptr(-33.5)}
	upd.Notes = []string{"clamped by max_quantity 5: 9 → 5; forecast 4", `"quoted"`, "line\nbreak"}
	update(t, s, func(tx store.Tx) error { return tx.UpdateEvent(upd) })
	got, err := s.GetEvent(ctx, upd.ID)
	must(t, err)
	checkSame(t, "updated event", upd, got)

	// The identity stays as inserted.
	moved := upd
	moved.GroupID, moved.Label, moved.Time = "g2", "E77", moved.Time.Add(time.Hour)
	moved.PeriodID, moved.PeriodLabel = "p-elsewhere", "H77"
	update(t, s, func(tx store.Tx) error { return tx.UpdateEvent(moved) })
	got, err = s.GetEvent(ctx, upd.ID)
	must(t, err)
	checkSame(t, "event updated with another identity", upd, got)

	// Notes can go again; empty notes read back as none (nil), which is
	// the same on the wire (omitempty).
	for _, notes := range [][]string{nil, {}} {
		upd.Notes = notes
		update(t, s, func(tx store.Tx) error { return tx.UpdateEvent(upd) })
		got, err = s.GetEvent(ctx, upd.ID)
		must(t, err)
		if got.Notes != nil {
			t.Errorf("event updated with notes %#v: read back %#v, want nil", notes, got.Notes)
		}
	}

	_, err = s.GetEvent(ctx, "nope")
	wantErr(t, "GetEvent(nope)", err, store.ErrNotFound)
	_, err = s.GetEventByLabel(ctx, "g1", "E99")
	wantErr(t, "GetEventByLabel(E99)", err, store.ErrNotFound)
	_, err = s.GetEventByLabel(ctx, "g2", "E2")
	wantErr(t, "GetEventByLabel of another group's label", err, store.ErrNotFound)
	err = s.Update(ctx, func(tx store.Tx) error { return tx.UpdateEvent(api.Event{ID: "nope", GroupID: "g1"}) })
	wantErr(t, "UpdateEvent(nope)", err, store.ErrNotFound)
	err = s.Update(ctx, func(tx store.Tx) error { return tx.InsertEvent(minimal) })
	wantErr(t, "InsertEvent with an existing id", err, store.ErrConflict)
	err = s.Update(ctx, func(tx store.Tx) error {
		e := minimal
		e.ID = "e-dup-label"
		return tx.InsertEvent(e)
	})
	wantConflict(t, "InsertEvent with a label the group already used", err, "the label is already used in this group")
}

func testChanges(t *testing.T, s store.Store) {
	ctx := context.Background()
	insertGroups(t, s, "g1")
	full := filled[api.Change](1)
	full.ID, full.GroupID, full.Label = "c-full", "g1", "C1"
	nilNodes := change("c-nil", "g1", at(1))
	nilNodes.Label, nilNodes.NodeIDs = "C2", nil
	emptyNodes := change("c-empty", "g1", at(2))
	emptyNodes.Label, emptyNodes.NodeIDs = "C3", []string{}
	if len(full.Parts) == 0 {
		t.Fatal("filled change has no parts: the round trip would not check them")
	}
	chs := []api.Change{full, nilNodes, emptyNodes}
	update(t, s, func(tx store.Tx) error {
		for _, c := range chs {
			if err := tx.InsertChange(c); err != nil {
				return err
			}
		}
		return nil
	})
	for _, c := range chs {
		got, err := s.GetChange(ctx, c.ID)
		must(t, err)
		checkSame(t, "change "+c.ID, c, got)
		got, err = s.GetChangeByLabel(ctx, "g1", c.Label)
		must(t, err)
		checkSame(t, "change by label "+c.Label, c, got)
	}
	upd := emptyNodes
	upd.Status, upd.EndedAt, upd.NodeIDs = api.ChangeCompleted, ptr(at(40)), []string{"n-9"}
	upd.Parts = []api.ChangePart{{ReadyAt: at(38), Amount: 1}, {ReadyAt: at(40), Amount: 2}}
	update(t, s, func(tx store.Tx) error { return tx.UpdateChange(upd) })
	got, err := s.GetChange(ctx, upd.ID)
	must(t, err)
	checkSame(t, "updated change", upd, got)

	_, err = s.GetChange(ctx, "nope")
	wantErr(t, "GetChange(nope)", err, store.ErrNotFound)
	_, err = s.GetChangeByLabel(ctx, "g1", "C9")
	wantErr(t, "GetChangeByLabel(C9)", err, store.ErrNotFound)
	err = s.Update(ctx, func(tx store.Tx) error { return tx.UpdateChange(api.Change{ID: "nope", GroupID: "g1"}) })
	wantErr(t, "UpdateChange(nope)", err, store.ErrNotFound)
	err = s.Update(ctx, func(tx store.Tx) error { return tx.InsertChange(full) })
	wantErr(t, "InsertChange with an existing id", err, store.ErrConflict)
}

func testPeriods(t *testing.T, s store.Store) {
	ctx := context.Background()
	insertGroups(t, s, "g1", "g2")
	full := filled[api.Period](1)
	full.ID, full.GroupID, full.Label = "p-full", "g1", "H1"
	full.StartedAt = at(0)
	open := api.Period{ID: "p-open", GroupID: "g1", Label: "H2", StartedAt: at(60), Policy: api.PolicyLargest,
		DesiredBefore: 3, OfficialBefore: 3}
	empty := open
	empty.ID, empty.Label, empty.StartedAt = "p-empty", "H3", at(120)
	empty.EndedAt, empty.Harmonized = ptr(at(180)), true
	empty.Requests, empty.Suppressed, empty.Clamps, empty.ChangeIDs = []api.PeriodRequest{}, []api.PeriodSuppressed{}, []api.Clamp{}, []string{}
	empty.AggregatedQuantity = ptr(0)
	other := open
	other.ID, other.GroupID, other.Label = "p-other", "g2", "H1"
	ps := []api.Period{full, open, empty, other}
	update(t, s, func(tx store.Tx) error {
		for _, p := range ps {
			if err := tx.InsertPeriod(p); err != nil {
				return err
			}
		}
		return nil
	})
	for _, p := range ps {
		got, err := s.GetPeriod(ctx, p.ID)
		must(t, err)
		checkSame(t, "period "+p.ID, p, got)
		got, err = s.GetPeriodByLabel(ctx, p.GroupID, p.Label)
		must(t, err)
		checkSame(t, "period by label "+p.Label, p, got)
	}

	// Harmonizing fills in the record.
	h := open
	h.EndedAt, h.Harmonized, h.DesiredAfter, h.OfficialAfter, h.Actual, h.InFlight = ptr(at(119)), true, 12, 12, 7, 1
	h.Requests = []api.PeriodRequest{{EventID: "e5", Label: "E5", ProposedQuantity: 12, Priority: 50, Kind: "trigger"}}
	h.Suppressed = []api.PeriodSuppressed{{EventID: "e8", Label: "E8", Reason: "cooldown"}}
	h.AggregatedQuantity = ptr(12)
	h.Clamps = []api.Clamp{{Kind: api.ClampMax, Bound: 10, From: 12, To: 10, Applied: true}}
	h.ChangeIDs, h.Summary = []string{"c7"}, "period H2: desired 3 → 12"
	update(t, s, func(tx store.Tx) error { return tx.UpdatePeriod(h) })
	got, err := s.GetPeriod(ctx, h.ID)
	must(t, err)
	checkSame(t, "harmonized period", h, got)

	for _, limit := range []int{0, 1, 2} {
		list := pageAll(t, limit, func(p store.Page) ([]api.Period, string, error) { return s.ListPeriods(ctx, "g1", p) })
		sameIDs(t, "ListPeriods(g1)", []string{"p-full", "p-open", "p-empty"}, ids(list))
	}

	_, err = s.GetPeriod(ctx, "nope")
	wantErr(t, "GetPeriod(nope)", err, store.ErrNotFound)
	_, err = s.GetPeriodByLabel(ctx, "g2", "H2")
	wantErr(t, "GetPeriodByLabel(g2, H2)", err, store.ErrNotFound)
	err = s.Update(ctx, func(tx store.Tx) error { return tx.UpdatePeriod(api.Period{ID: "nope", GroupID: "g1"}) })
	wantErr(t, "UpdatePeriod(nope)", err, store.ErrNotFound)
	err = s.Update(ctx, func(tx store.Tx) error { return tx.InsertPeriod(full) })
	wantErr(t, "InsertPeriod with an existing id", err, store.ErrConflict)
}

// testNexus builds part of seed 000's timeline: a direct nexus (E1 group
// created -> C1 add 3), and an indirect one (E4, E5, E6 aggregated in H2
// -> C7, later joined by C8), and walks causes and effects both ways.
func testNexus(t *testing.T, s store.Store) {
	ctx := context.Background()
	insertGroups(t, s, "g1")
	update(t, s, func(tx store.Tx) error {
		for i, id := range []string{"e1", "e4", "e5", "e6", "e9"} {
			if err := tx.InsertEvent(event(id, "g1", at(i))); err != nil {
				return err
			}
		}
		for i, id := range []string{"c1", "c7", "c8"} {
			if err := tx.InsertChange(change(id, "g1", at(10+i))); err != nil {
				return err
			}
		}
		// The nexus may come before its members' NexusID is set.
		if err := tx.InsertNexus(api.Nexus{ID: "x-direct", GroupID: "g1", Attribution: api.AttributionDirect,
			EventIDs: []string{"e1"}, ChangeIDs: []string{"c1"}, CreatedAt: at(10)}); err != nil {
			return err
		}
		// Order is the caller's (E5, E6, E4), not id order.
		return tx.InsertNexus(api.Nexus{ID: "x-h2", GroupID: "g1", Attribution: api.AttributionIndirect,
			PeriodID: "h2", EventIDs: []string{"e5", "e6", "e4"}, ChangeIDs: []string{"c7"},
			DecisiveEventID: "e6", CreatedAt: at(11)})
	})
	want := api.Nexus{ID: "x-h2", GroupID: "g1", Attribution: api.AttributionIndirect, PeriodID: "h2",
		EventIDs: []string{"e5", "e6", "e4"}, ChangeIDs: []string{"c7"}, DecisiveEventID: "e6", CreatedAt: at(11)}
	got, err := s.GetNexus(ctx, "x-h2")
	must(t, err)
	checkSame(t, "nexus x-h2", want, got)

	// A later change of the same harmonization joins the nexus; the
	// decisive cause can be rewritten with it.
	want.ChangeIDs = []string{"c7", "c8"}
	want.DecisiveEventID = "e4"
	update(t, s, func(tx store.Tx) error { return tx.UpdateNexus(want) })
	got, err = s.GetNexus(ctx, "x-h2")
	must(t, err)
	checkSame(t, "updated nexus", want, got)

	// change -> causes and event -> effects, as the contract reads them.
	causes := func(changeID string) []string {
		c, err := s.GetChange(ctx, changeID)
		must(t, err)
		x, err := s.GetNexus(ctx, c.NexusID)
		must(t, err)
		evs, err := s.GetEventsByID(ctx, x.EventIDs)
		must(t, err)
		return ids(evs)
	}
	effects := func(eventID string) []string {
		e, err := s.GetEvent(ctx, eventID)
		must(t, err)
		x, err := s.GetNexus(ctx, e.NexusID)
		must(t, err)
		chs, err := s.GetChangesByID(ctx, x.ChangeIDs)
		must(t, err)
		return ids(chs)
	}
	update(t, s, func(tx store.Tx) error {
		for id, x := range map[string]string{"e1": "x-direct", "e4": "x-h2", "e5": "x-h2", "e6": "x-h2"} {
			e, err := tx.GetEvent(ctx, id)
			if err != nil {
				return err
			}
			e.NexusID = x
			if err := tx.UpdateEvent(e); err != nil {
				return err
			}
		}
		for id, x := range map[string]string{"c1": "x-direct", "c7": "x-h2", "c8": "x-h2"} {
			c, err := tx.GetChange(ctx, id)
			if err != nil {
				return err
			}
			c.NexusID = x
			if err := tx.UpdateChange(c); err != nil {
				return err
			}
		}
		return nil
	})
	sameIDs(t, "causes of c1", []string{"e1"}, causes("c1"))
	sameIDs(t, "causes of c8", []string{"e5", "e6", "e4"}, causes("c8"))
	sameIDs(t, "effects of e6", []string{"c7", "c8"}, effects("e6"))
	sameIDs(t, "effects of e1", []string{"c1"}, effects("e1"))

	// A nexus with no changes yet reads back with empty, non-nil lists
	// ([] on the wire, not null).
	update(t, s, func(tx store.Tx) error {
		return tx.InsertNexus(api.Nexus{ID: "x-empty", GroupID: "g1", Attribution: api.AttributionIndirect, CreatedAt: at(12)})
	})
	got, err = s.GetNexus(ctx, "x-empty")
	must(t, err)
	if got.EventIDs == nil || got.ChangeIDs == nil || len(got.EventIDs)+len(got.ChangeIDs) != 0 {
		t.Errorf("empty nexus: event_ids %#v, change_ids %#v; want [] and []", got.EventIDs, got.ChangeIDs)
	}

	err = s.Update(ctx, func(tx store.Tx) error { return tx.UpdateNexus(api.Nexus{ID: "nope", GroupID: "g1"}) })
	wantErr(t, "UpdateNexus(nope)", err, store.ErrNotFound)
	_, err = s.GetNexus(ctx, "nope")
	wantErr(t, "GetNexus(nope)", err, store.ErrNotFound)
}

func testByID(t *testing.T, s store.Store) {
	ctx := context.Background()
	insertGroups(t, s, "g1")
	const n = 1203 // more than any one statement's worth of ids
	var eids, cids []string
	update(t, s, func(tx store.Tx) error {
		for i := range n {
			e, c := event(idf("e", i), "g1", at(i)), change(idf("c", i), "g1", at(i))
			eids, cids = append(eids, e.ID), append(cids, c.ID)
			if err := tx.InsertEvent(e); err != nil {
				return err
			}
			if err := tx.InsertChange(c); err != nil {
				return err
			}
		}
		return nil
	})
	// Reverse order, with a duplicate: answers follow the request.
	req := []string{eids[1202], eids[7], eids[600], eids[7]}
	evs, err := s.GetEventsByID(ctx, req)
	must(t, err)
	sameIDs(t, "GetEventsByID order", req, ids(evs))
	checkSame(t, "GetEventsByID item", event(eids[600], "g1", at(600)), evs[2])

	rev := make([]string, n)
	for i := range cids {
		rev[n-1-i] = cids[i]
	}
	chs, err := s.GetChangesByID(ctx, rev)
	must(t, err)
	sameIDs(t, "GetChangesByID of all, reversed", rev, ids(chs))

	_, err = s.GetEventsByID(ctx, []string{eids[0], "missing-event"})
	wantErr(t, "GetEventsByID with a missing id", err, store.ErrNotFound)
	_, err = s.GetChangesByID(ctx, []string{"missing-change"})
	wantErr(t, "GetChangesByID with a missing id", err, store.ErrNotFound)
	none, err := s.GetEventsByID(ctx, nil)
	must(t, err)
	if len(none) != 0 {
		t.Errorf("GetEventsByID(nil) = %d events", len(none))
	}

	// Nexus rows, read in one call for a page of changes.
	var xs []api.Nexus
	update(t, s, func(tx store.Tx) error {
		for i := range 300 {
			x := api.Nexus{ID: idf("x", i), GroupID: "g1", Attribution: api.AttributionIndirect,
				EventIDs: []string{eids[i], eids[i+300]}, ChangeIDs: []string{cids[i]}, CreatedAt: at(i)}
			if i%7 == 0 {
				x.Attribution, x.EventIDs = api.AttributionDirect, []string{eids[i]}
			}
			xs = append(xs, x)
			if err := tx.InsertNexus(x); err != nil {
				return err
			}
		}
		return nil
	})
	want := []api.Nexus{xs[299], xs[0], xs[150], xs[0]}
	got, err := s.GetNexusesByID(ctx, []string{xs[299].ID, xs[0].ID, xs[150].ID, xs[0].ID})
	must(t, err)
	checkSame(t, "GetNexusesByID", want, got)
	all := make([]string, len(xs))
	for i, x := range xs {
		all[i] = x.ID
	}
	got, err = s.GetNexusesByID(ctx, all)
	must(t, err)
	checkSame(t, "GetNexusesByID of all", xs, got)
	_, err = s.GetNexusesByID(ctx, []string{xs[1].ID, "missing-nexus"})
	wantErr(t, "GetNexusesByID with a missing id", err, store.ErrNotFound)

	// Periods, read in one call for the changes of a page; every field
	// comes back as GetPeriod returns it.
	var ps []api.Period
	update(t, s, func(tx store.Tx) error {
		for i := range n {
			p := api.Period{ID: idf("p", i), GroupID: "g1", Label: fmt.Sprintf("H%d", i+1), StartedAt: at(i),
				Policy: api.PolicyLargest, DesiredBefore: i}
			if i == 1 {
				p = filled[api.Period](3)
				p.ID, p.GroupID, p.Label = idf("p", i), "g1", "H2"
			}
			ps = append(ps, p)
			if err := tx.InsertPeriod(p); err != nil {
				return err
			}
		}
		return nil
	})
	wantPs := []api.Period{ps[1202], ps[1], ps[600], ps[1]}
	gotPs, err := s.GetPeriodsByID(ctx, ids(wantPs))
	must(t, err)
	checkSame(t, "GetPeriodsByID", wantPs, gotPs)
	revPs := make([]api.Period, n)
	for i, p := range ps {
		revPs[n-1-i] = p
	}
	gotPs, err = s.GetPeriodsByID(ctx, ids(revPs))
	must(t, err)
	checkSame(t, "GetPeriodsByID of all, reversed", revPs, gotPs)
	_, err = s.GetPeriodsByID(ctx, []string{ps[0].ID, "missing-period"})
	wantErr(t, "GetPeriodsByID with a missing id", err, store.ErrNotFound)
	if err != nil && !strings.Contains(err.Error(), "missing-period") {
		t.Errorf("GetPeriodsByID with a missing id: %v does not name it", err)
	}
	nonePs, err := s.GetPeriodsByID(ctx, nil)
	must(t, err)
	if len(nonePs) != 0 {
		t.Errorf("GetPeriodsByID(nil) = %d periods", len(nonePs))
	}
}

func idf(prefix string, i int) string { return fmt.Sprintf("%s-%06d", prefix, i) }
