package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// labelNumber parses "E12" as 12.
func labelNumber(t *testing.T, kind, label string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimPrefix(label, kind))
	if !strings.HasPrefix(label, kind) || err != nil || n <= 0 {
		t.Fatalf("label %q is not %s followed by a positive number", label, kind)
	}
	return n
}

func testLabels(t *testing.T, s store.Store) {
	ctx := context.Background()
	insertGroups(t, s, "g1", "g2")
	labels := func(r store.Reader, g string) store.Labels {
		t.Helper()
		l, err := r.Labels(ctx, g)
		if err != nil {
			t.Fatalf("Labels(%s): %v", g, err)
		}
		return l
	}
	if l := labels(s, "g1"); l != (store.Labels{}) {
		t.Errorf("counters of a new group: %+v, want zero", l)
	}
	// Counters land with the rows they label, are read back inside the
	// transaction, and are per group.
	update(t, s, func(tx store.Tx) error {
		e := event("e-l1", "g1", at(1))
		e.Label = "E1"
		if err := tx.InsertEvent(e); err != nil {
			return err
		}
		if err := tx.SetLabels("g1", store.Labels{E: 1, H: 1}); err != nil {
			return err
		}
		if l := labels(tx, "g1"); l != (store.Labels{E: 1, H: 1}) {
			t.Errorf("in tx: counters %+v, want E 1, H 1", l)
		}
		return tx.SetLabels("g2", store.Labels{E: 5, C: 2, H: 3})
	})
	update(t, s, func(tx store.Tx) error { return tx.SetLabels("g1", store.Labels{E: 4, C: 2, H: 1}) })
	if l := labels(s, "g1"); l != (store.Labels{E: 4, C: 2, H: 1}) {
		t.Errorf("g1 counters %+v, want E 4, C 2, H 1", l)
	}
	if l := labels(s, "g2"); l != (store.Labels{E: 5, C: 2, H: 3}) {
		t.Errorf("g2 counters %+v, want E 5, C 2, H 3", l)
	}

	// A rolled-back transaction takes its counters back with its rows.
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx store.Tx) error {
		e := event("e-l9", "g1", at(2))
		e.Label = "E9"
		if err := tx.InsertEvent(e); err != nil {
			return err
		}
		if err := tx.SetLabels("g1", store.Labels{E: 9, C: 2, H: 1}); err != nil {
			return err
		}
		return boom
	})
	wantErr(t, "rolled back Update", err, boom)
	if l := labels(s, "g1"); l != (store.Labels{E: 4, C: 2, H: 1}) {
		t.Errorf("after a rollback g1 counters %+v, want E 4, C 2, H 1", l)
	}
	_, err = s.GetEventByLabel(ctx, "g1", "E9")
	wantErr(t, "rolled back event E9", err, store.ErrNotFound)

	err = s.Update(ctx, func(tx store.Tx) error { return tx.SetLabels("g1", store.Labels{E: -1}) })
	if err == nil {
		t.Error("SetLabels with a negative counter: no error")
	}
	err = s.Update(ctx, func(tx store.Tx) error { return tx.SetLabels("nope", store.Labels{E: 1}) })
	wantErr(t, "SetLabels of no group", err, store.ErrNotFound)
	_, err = s.Labels(ctx, "nope")
	wantErr(t, "Labels of no group", err, store.ErrNotFound)
}

func testCrashLoop(t *testing.T, s store.Store) {
	ctx := context.Background()
	insertGroups(t, s, "g1", "g2")
	crash := func(r store.Reader, g string) store.CrashLoop {
		t.Helper()
		c, err := r.CrashLoop(ctx, g)
		if err != nil {
			t.Fatalf("CrashLoop(%s): %v", g, err)
		}
		return c
	}
	if c := crash(s, "g1"); c != (store.CrashLoop{}) {
		t.Errorf("crash loop of a new group: %+v, want zero", c)
	}
	held := store.CrashLoop{Failures: 6, LastFailure: at(3), LastExit: "exit status 3: boom",
		Held: true, HeldChange: "c-1", HeldNode: "n-1"}
	update(t, s, func(tx store.Tx) error {
		if err := tx.SetCrashLoop("g1", held); err != nil {
			return err
		}
		if c := crash(tx, "g1"); !reflect.DeepEqual(c, held) {
			t.Errorf("inside the transaction: %+v, want %+v", c, held)
		}
		return nil
	})
	if c := crash(s, "g1"); !reflect.DeepEqual(c, held) {
		t.Errorf("g1 crash loop %+v, want %+v", c, held)
	}
	if c := crash(s, "g2"); c != (store.CrashLoop{}) {
		t.Errorf("g2 crash loop %+v, want zero (per group)", c)
	}
	// The loop's writes of the group's state and configuration leave it.
	g, err := s.GetGroup(ctx, "g1")
	if err != nil {
		t.Fatal(err)
	}
	update(t, s, func(tx store.Tx) error {
		if err := tx.UpdateGroupState(g, store.Labels{E: 1}); err != nil {
			return err
		}
		return tx.UpdateGroup(g)
	})
	if c := crash(s, "g1"); !reflect.DeepEqual(c, held) {
		t.Errorf("after the group's state was written: %+v, want %+v", c, held)
	}
	// A run that ended: back to zero.
	update(t, s, func(tx store.Tx) error { return tx.SetCrashLoop("g1", store.CrashLoop{}) })
	if c := crash(s, "g1"); c != (store.CrashLoop{}) {
		t.Errorf("after a reset: %+v, want zero", c)
	}
	// A rolled-back transaction takes it back.
	boom := errors.New("boom")
	err = s.Update(ctx, func(tx store.Tx) error {
		if err := tx.SetCrashLoop("g1", held); err != nil {
			return err
		}
		return boom
	})
	wantErr(t, "rolled back Update", err, boom)
	if c := crash(s, "g1"); c != (store.CrashLoop{}) {
		t.Errorf("after a rollback: %+v, want zero", c)
	}
	err = s.Update(ctx, func(tx store.Tx) error { return tx.SetCrashLoop("g1", store.CrashLoop{Failures: -1}) })
	if err == nil {
		t.Error("SetCrashLoop with negative failures: no error")
	}
	err = s.Update(ctx, func(tx store.Tx) error { return tx.SetCrashLoop("nope", held) })
	wantErr(t, "SetCrashLoop of no group", err, store.ErrNotFound)
	_, err = s.CrashLoop(ctx, "nope")
	wantErr(t, "CrashLoop of no group", err, store.ErrNotFound)
}

func testTransactions(t *testing.T, s store.Store) {
	ctx := context.Background()
	insertGroups(t, s, "g1")

	// Everything a failed transaction wrote goes away, and its error comes
	// back as is.
	boom := &api.Error{Code: api.CodeConflict, Message: "group is deleted", Status: 409}
	err := s.Update(ctx, func(tx store.Tx) error {
		g := group("g2", "rolled-back")
		if err := tx.InsertGroup(g); err != nil {
			return err
		}
		if err := tx.SetLabels("g1", store.Labels{E: 1}); err != nil {
			return err
		}
		e := event("e-rb", "g1", at(1))
		e.Label = "E1"
		if err := tx.InsertEvent(e); err != nil {
			return err
		}
		if err := tx.InsertChange(change("c-rb", "g1", at(1))); err != nil {
			return err
		}
		if err := tx.InsertNexus(api.Nexus{ID: "x-rb", GroupID: "g1", EventIDs: []string{"e-rb"}, ChangeIDs: []string{"c-rb"}}); err != nil {
			return err
		}
		g1, err := tx.GetGroup(ctx, "g1")
		if err != nil {
			return err
		}
		g1.DesiredQuantity = 99
		if err := tx.UpdateGroup(g1); err != nil {
			return err
		}
		if err := tx.InsertSamples("g1", []store.StoredSample{{Name: "cpu", Time: at(1), Value: 1}}); err != nil {
			return err
		}
		// Reads in the transaction see its writes; the store does not yet.
		if _, err := tx.GetEvent(ctx, "e-rb"); err != nil {
			t.Errorf("in tx: GetEvent of its own insert: %v", err)
		}
		if _, err := s.GetEvent(ctx, "e-rb"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("outside the tx, an uncommitted event: err %v, want ErrNotFound", err)
		}
		return fmt.Errorf("harmonize: %w", boom)
	})
	var ae *api.Error
	if !errors.As(err, &ae) || ae != boom {
		t.Errorf("Update returned %v, want the callback's error wrapping the *api.Error", err)
	}
	for what, check := range map[string]error{
		"group":  get(s.GetGroup(ctx, "g2")),
		"event":  get(s.GetEvent(ctx, "e-rb")),
		"change": get(s.GetChange(ctx, "c-rb")),
		"nexus":  get(s.GetNexus(ctx, "x-rb")),
	} {
		wantErr(t, "after rollback, "+what, check, store.ErrNotFound)
	}
	g1, err := s.GetGroup(ctx, "g1")
	must(t, err)
	if g1.DesiredQuantity == 99 {
		t.Error("after rollback, the group update stayed")
	}
	samples, err := s.Samples(ctx, "g1", time.Time{})
	must(t, err)
	if len(samples) != 0 {
		t.Errorf("after rollback, %d samples stayed", len(samples))
	}
	_, err = s.GetGroup(ctx, "g2")
	wantErr(t, "rolled back group", err, store.ErrNotFound)
	if l, err := s.Labels(ctx, "g1"); err != nil || l != (store.Labels{}) {
		t.Errorf("after rollback, label counters %+v (err %v), want zero", l, err)
	}

	// A panic in the callback rolls back too, and the store stays usable.
	func() {
		defer func() {
			if recover() == nil {
				t.Error("a panic in the callback did not reach the caller")
			}
		}()
		_ = s.Update(ctx, func(tx store.Tx) error {
			if err := tx.InsertEvent(event("e-panic", "g1", at(2))); err != nil {
				return err
			}
			panic("callback bug")
		})
	}()
	_, err = s.GetEvent(ctx, "e-panic")
	wantErr(t, "event of a panicked transaction", err, store.ErrNotFound)
	update(t, s, func(tx store.Tx) error { return tx.InsertEvent(event("e-ok", "g1", at(3))) })
	if _, err := s.GetEvent(ctx, "e-ok"); err != nil {
		t.Errorf("after a panicked transaction the store no longer writes: %v", err)
	}

	// A failed statement inside fn fails the whole transaction when fn
	// returns its error, even if earlier statements succeeded.
	err = s.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertEvent(event("e-first", "g1", at(4))); err != nil {
			return err
		}
		return tx.InsertEvent(event("e-ok", "g1", at(4))) // duplicate id
	})
	wantErr(t, "duplicate in a transaction", err, store.ErrConflict)
	_, err = s.GetEvent(ctx, "e-first")
	wantErr(t, "first insert of a failed transaction", err, store.ErrNotFound)

	// A cancelled context stops the transaction.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	err = s.Update(cctx, func(tx store.Tx) error { return tx.InsertEvent(event("e-cancelled", "g1", at(5))) })
	if err == nil {
		t.Error("Update with a cancelled context: no error")
	}
	_, err = s.GetEvent(ctx, "e-cancelled")
	wantErr(t, "event of a cancelled transaction", err, store.ErrNotFound)

	// Reads with a cancelled context fail with its error, by key, by ids
	// or by page: the caller is gone, and no statement starts for it.
	wantErr(t, "GetEvent with a cancelled context", get(s.GetEvent(cctx, "e-ok")), context.Canceled)
	wantErr(t, "GetEventsByID with a cancelled context", get(s.GetEventsByID(cctx, []string{"e-ok", "e-first"})), context.Canceled)
	_, _, err = s.ListEvents(cctx, store.EventFilter{GroupID: "g1"})
	wantErr(t, "ListEvents with a cancelled context", err, context.Canceled)
}

func get[T any](_ T, err error) error { return err }

// testDeletedGroupHistory: a deleted group and its history stay readable
// until PurgeBefore passes its deletion time; then all of it goes, and
// nothing of other groups does.
func testDeletedGroupHistory(t *testing.T, s store.Store) {
	ctx := context.Background()
	insertGroups(t, s, "gone", "live", "later")
	deletedAt := at(3600)
	history := func(g string) func(tx store.Tx) error {
		return func(tx store.Tx) error {
			p := api.Period{ID: "p-" + g, GroupID: g, Label: "H1", StartedAt: at(0), Policy: api.PolicyLargest}
			e := event("e-"+g, g, at(1))
			e.Label, e.PeriodID, e.NexusID = "E1", p.ID, "x-"+g
			c := change("c-"+g, g, at(2))
			c.Label, c.PeriodID, c.NexusID = "C1", p.ID, "x-"+g
			tr := api.Trigger{ID: "t-" + g, GroupID: g, Name: "cpu", Condition: "true", Request: api.Request{ChangeBy: ptr(1)}, CreatedAt: at(0), UpdatedAt: at(0)}
			for _, err := range []error{
				tx.InsertPeriod(p), tx.InsertEvent(e), tx.InsertChange(c),
				tx.InsertNexus(api.Nexus{ID: "x-" + g, GroupID: g, Attribution: api.AttributionIndirect, PeriodID: p.ID,
					EventIDs: []string{e.ID}, ChangeIDs: []string{c.ID}, CreatedAt: at(2)}),
				tx.InsertTrigger(tr),
				tx.UpsertNode(api.Node{ID: "n-" + g, GroupID: g, State: api.NodeReady, LaunchedAt: at(2)}),
				tx.InsertSamples(g, []store.StoredSample{{Name: "cpu_utilization", Time: at(5), Value: 50}}),
				tx.InsertQuantityPoints(g, []store.QuantityPoint{{Time: at(5), Desired: 3, Actual: 3}}),
			} {
				if err != nil {
					return err
				}
			}
			return nil
		}
	}
	for _, g := range []string{"gone", "live", "later"} {
		update(t, s, history(g))
	}
	markDeleted := func(id string, when time.Time) {
		update(t, s, func(tx store.Tx) error {
			g, err := tx.GetGroup(ctx, id)
			if err != nil {
				return err
			}
			g.Status, g.DeletedAt, g.UpdatedAt = api.GroupDeleted, &when, when
			return tx.UpdateGroup(g)
		})
	}
	markDeleted("gone", deletedAt)
	markDeleted("later", deletedAt.Add(24*time.Hour))

	kept := func(g string) {
		t.Helper()
		got, err := s.GetGroup(ctx, g)
		if err != nil {
			t.Errorf("deleted group %s: %v", g, err)
			return
		}
		if got.Status != api.GroupDeleted || got.DeletedAt == nil {
			t.Errorf("deleted group %s: status %q deleted_at %v", g, got.Status, got.DeletedAt)
		}
		checkHistory(t, s, g, true)
	}
	kept("gone")
	listed, _, err := s.ListGroups(ctx, store.GroupFilter{})
	must(t, err)
	sameIDs(t, "live groups", []string{"live"}, ids(listed))

	// Purging at the deletion instant keeps it (strictly before).
	n, err := s.PurgeBefore(ctx, deletedAt)
	must(t, err)
	if n != 0 {
		t.Errorf("PurgeBefore(deleted_at) purged %d groups, want 0", n)
	}
	kept("gone")

	n, err = s.PurgeBefore(ctx, deletedAt.Add(time.Second))
	must(t, err)
	if n != 1 {
		t.Errorf("PurgeBefore purged %d groups, want 1", n)
	}
	_, err = s.GetGroup(ctx, "gone")
	wantErr(t, "purged group", err, store.ErrNotFound)
	checkHistory(t, s, "gone", false)
	kept("later")
	checkHistory(t, s, "live", true)

	// A purged group's labels start over if its id is ever reused (it is
	// gone, counters included).
	update(t, s, func(tx store.Tx) error {
		if err := tx.InsertGroup(group("gone", "gone-again")); err != nil {
			return err
		}
		l, err := tx.Labels(ctx, "gone")
		if err == nil && l != (store.Labels{}) {
			t.Errorf("label counters of a re-created group: %+v, want zero", l)
		}
		return err
	})
}

// checkHistory checks that every kind of row of group g is there (or,
// after a purge, that none is).
func checkHistory(t *testing.T, s store.Store, g string, present bool) {
	t.Helper()
	ctx := context.Background()
	singles := map[string]error{
		"event":           get(s.GetEvent(ctx, "e-"+g)),
		"event by label":  get(s.GetEventByLabel(ctx, g, "E1")),
		"change":          get(s.GetChange(ctx, "c-"+g)),
		"change by label": get(s.GetChangeByLabel(ctx, g, "C1")),
		"nexus":           get(s.GetNexus(ctx, "x-"+g)),
		"period":          get(s.GetPeriod(ctx, "p-"+g)),
		"period by label": get(s.GetPeriodByLabel(ctx, g, "H1")),
		"trigger":         get(s.GetTrigger(ctx, "t-"+g)),
		"node":            get(s.GetNode(ctx, g, "n-"+g)),
	}
	for what, err := range singles {
		switch {
		case present && err != nil:
			t.Errorf("group %s: %s: %v", g, what, err)
		case !present && !errors.Is(err, store.ErrNotFound):
			t.Errorf("purged group %s: %s: err %v, want ErrNotFound", g, what, err)
		}
	}
	want := 0
	if present {
		want = 1
	}
	evs, _, err := s.ListEvents(ctx, store.EventFilter{GroupID: g})
	must(t, err)
	chs, _, err := s.ListChanges(ctx, store.ChangeFilter{CausedBy: "e-" + g})
	must(t, err)
	ps, _, err := s.ListPeriods(ctx, g, store.Page{})
	must(t, err)
	trs, err := s.ListTriggers(ctx, g)
	must(t, err)
	nodes, err := s.ListNodes(ctx, g, true)
	must(t, err)
	samples, err := s.Samples(ctx, g, time.Time{})
	must(t, err)
	points, err := s.QuantityHistory(ctx, g, time.Time{})
	must(t, err)
	for what, n := range map[string]int{
		"events": len(evs), "changes caused": len(chs), "periods": len(ps), "triggers": len(trs),
		"nodes": len(nodes), "samples": len(samples), "quantity points": len(points),
	} {
		if n != want {
			t.Errorf("group %s: %d %s, want %d", g, n, what, want)
		}
	}
}

func testSamplesAndHistory(t *testing.T, s store.Store) {
	ctx := context.Background()
	insertGroups(t, s, "g1", "g2")
	samples := []store.StoredSample{
		{Name: "cpu_utilization", NodeID: "n-1", Time: at(10), Value: 87.25},
		{Name: "cpu_utilization", NodeID: "n-2", Time: at(10), Value: 12.5},
		{Name: "queue_depth", Time: at(5), Value: 1e9},
		{Name: "latency", Time: at(20), Value: -0.001},
		{Name: "cpu_utilization", NodeID: "n-1", Time: at(30), Value: math.Inf(1)},
	}
	update(t, s, func(tx store.Tx) error {
		if err := tx.InsertSamples("g1", samples); err != nil {
			return err
		}
		return tx.InsertSamples("g2", []store.StoredSample{{Name: "cpu_utilization", Time: at(10), Value: 1}})
	})
	got, err := s.Samples(ctx, "g1", time.Time{})
	must(t, err)
	// In time order; ties keep insertion order.
	checkSame(t, "samples", []store.StoredSample{samples[2], samples[0], samples[1], samples[3], samples[4]}, got)
	got, err = s.Samples(ctx, "g1", at(10))
	must(t, err)
	checkSame(t, "samples since 10s (inclusive)", []store.StoredSample{samples[0], samples[1], samples[3], samples[4]}, got)

	update(t, s, func(tx store.Tx) error { return tx.DeleteSamplesBefore("g1", at(20)) })
	got, err = s.Samples(ctx, "g1", time.Time{})
	must(t, err)
	checkSame(t, "samples after retention", []store.StoredSample{samples[3], samples[4]}, got)
	got, err = s.Samples(ctx, "g2", time.Time{})
	must(t, err)
	if len(got) != 1 {
		t.Errorf("retention of g1 touched g2: %d samples left, want 1", len(got))
	}
	err = s.Update(ctx, func(tx store.Tx) error {
		return tx.InsertSamples("g1", []store.StoredSample{{Name: "cpu_utilization", Time: at(40), Value: math.NaN()}})
	})
	if err == nil {
		t.Error("a NaN sample was accepted")
	}

	// Pushes of the same series: later pushes come after among equal
	// times, and retention cuts inside a push, keeping its later samples.
	pushes := [][]store.StoredSample{
		{{Name: "rps", Time: at(100), Value: 1}, {Name: "rps", Time: at(130), Value: 2}, {Name: "rps", Time: at(110), Value: 3}},
		{{Name: "rps", Time: at(110), Value: 4}, {Name: "rps", NodeID: "n-1", Time: at(140), Value: 5}},
	}
	for _, p := range pushes {
		update(t, s, func(tx store.Tx) error { return tx.InsertSamples("g2", p) })
	}
	update(t, s, func(tx store.Tx) error { return tx.DeleteSamplesBefore("g2", at(105)) })
	got, err = s.Samples(ctx, "g2", at(100))
	must(t, err)
	checkSame(t, "samples after a cut inside a push", []store.StoredSample{pushes[0][2], pushes[1][0], pushes[0][1], pushes[1][1]}, got)
	got, err = s.Samples(ctx, "g2", at(111))
	must(t, err)
	checkSame(t, "samples since 111s", []store.StoredSample{pushes[0][1], pushes[1][1]}, got)

	points := []store.QuantityPoint{{Time: at(60), Desired: 5, Actual: 4}, {Time: at(0), Desired: 3, Actual: 0}, {Time: at(120), Desired: 12, Actual: 7}}
	update(t, s, func(tx store.Tx) error { return tx.InsertQuantityPoints("g1", points) })
	hist, err := s.QuantityHistory(ctx, "g1", time.Time{})
	must(t, err)
	checkSame(t, "quantity history", []store.QuantityPoint{points[1], points[0], points[2]}, hist)
	hist, err = s.QuantityHistory(ctx, "g1", at(60))
	must(t, err)
	checkSame(t, "quantity history since 60s", []store.QuantityPoint{points[0], points[2]}, hist)
	hist, err = s.QuantityHistory(ctx, "g2", time.Time{})
	must(t, err)
	if len(hist) != 0 {
		t.Errorf("g2 has %d quantity points, want 0", len(hist))
	}
}

// testConcurrentUpdates: many goroutines writing at once all land, each
// label is handed out once, and readers running meanwhile see consistent
// data (an event's label is never missing). Writers issue labels the way
// pesd's controller does: from a counter per group in memory, under the
// group's lock, advanced only when the transaction commits.
func testConcurrentUpdates(t *testing.T, s store.Store) {
	ctx := context.Background()
	insertGroups(t, s, "g1", "g2")
	const writers, perWriter = 12, 20
	type counter struct {
		sync.Mutex
		last int
	}
	counters := map[string]*counter{"g1": {}, "g2": {}}
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter+8)
	stop := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := []string{"g1", "g2"}[w%2]
			for i := range perWriter {
				c := counters[g]
				c.Lock()
				n := c.last + 1
				err := s.Update(ctx, func(tx store.Tx) error {
					e := event(fmt.Sprintf("e-%d-%d", w, i), g, at(i))
					e.Label = "E" + strconv.Itoa(n)
					if err := tx.InsertEvent(e); err != nil {
						return err
					}
					return tx.SetLabels(g, store.Labels{E: n})
				})
				if err == nil {
					c.last = n
				}
				c.Unlock()
				if err != nil {
					errs <- fmt.Errorf("writer %d, update %d: %w", w, i, err)
				}
			}
		}()
	}
	var rwg sync.WaitGroup
	for range 2 {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				evs, _, err := s.ListEvents(ctx, store.EventFilter{GroupID: "g1", Page: store.Page{Limit: 1000}})
				if err != nil {
					errs <- fmt.Errorf("reader: %w", err)
					return
				}
				for _, e := range evs {
					if e.Label == "" {
						errs <- fmt.Errorf("reader saw event %s without its label", e.ID)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	rwg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, g := range []string{"g1", "g2"} {
		evs := pageAll(t, 1000, func(p store.Page) ([]api.Event, string, error) {
			return s.ListEvents(ctx, store.EventFilter{GroupID: g, Page: p})
		})
		n := writers / 2 * perWriter
		if len(evs) != n {
			t.Errorf("group %s: %d events landed, want %d", g, len(evs), n)
		}
		seen := map[int]bool{}
		for _, e := range evs {
			seen[labelNumber(t, "E", e.Label)] = true
		}
		for i := 1; i <= n; i++ {
			if !seen[i] {
				t.Errorf("group %s: label E%d missing (labels must be handed out once each)", g, i)
				break
			}
		}
		if l, err := s.Labels(ctx, g); err != nil || l.E != n {
			t.Errorf("group %s: stored event counter %d (err %v), want %d", g, l.E, err, n)
		}
	}
}
