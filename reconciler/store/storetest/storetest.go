// Package storetest is the conformance suite every store.Store must pass.
// A store's own tests call Run with a constructor of fresh, empty stores:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { ... })
//	}
//
// The suite checks behaviour the rest of pesd relies on, through the
// store interface only.
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

// Run runs the whole suite. newStore returns a fresh, empty store; the
// suite closes it.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Groups", testGroups},
		{"GroupErrors", testGroupErrors},
		{"UniqueLiveNames", testUniqueLiveNames},
		{"GroupByName", testGroupByName},
		{"ListGroups", testListGroups},
		{"Triggers", testTriggers},
		{"Nodes", testNodes},
		{"NodeTimesInLaunchOrder", testNodeTimesInLaunchOrder},
		{"NodeTimesEndedSince", testNodeTimesEndedSince},
		{"Events", testEvents},
		{"Changes", testChanges},
		{"Periods", testPeriods},
		{"Nexus", testNexus},
		{"ByID", testByID},
		{"Labels", testLabels},
		{"CrashLoop", testCrashLoop},
		{"Transactions", testTransactions},
		{"Pagination", testPagination},
		{"BadPages", testBadPages},
		{"EventFilters", testEventFilters},
		{"ChangeFilters", testChangeFilters},
		{"DeletedGroupHistory", testDeletedGroupHistory},
		{"SamplesAndHistory", testSamplesAndHistory},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"Executions", testExecutions},
		{"Runs", testRuns},
		{"Tokens", testTokens},
		{"Tenants", testTenants},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// t0 has nanoseconds so that precision loss shows.
var t0 = time.Date(2025, 3, 14, 10, 0, 0, 123456789, time.UTC)

// at is t0 plus n seconds.
func at(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

func ptr[T any](v T) *T { return &v }

// update runs fn in s.Update and fails the test on error.
func update(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// must fails the test on err.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErr checks that err wraps target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want one wrapping %v", what, err, target)
	}
}

// wantConflict checks that err wraps store.ErrConflict and says which
// rule was broken (the API shows the message in its 409).
func wantConflict(t *testing.T, what string, err error, rule string) {
	t.Helper()
	wantErr(t, what, err, store.ErrConflict)
	if err != nil && !strings.Contains(err.Error(), rule) {
		t.Errorf("%s: error %q does not say %q", what, err, rule)
	}
}

// group returns a live group with the defaults resolved.
func group(id, name string) api.Group {
	return api.Group{
		ID: id,
		GroupConfig: api.GroupConfig{
			Name:                   name,
			Driver:                 api.DriverSim,
			Program:                api.Program{Command: "sleep", Args: []string{"inf"}},
			DesiredQuantity:        3,
			MinQuantity:            api.DefaultMinQuantity,
			MaxQuantity:            api.DefaultMaxQuantity,
			AggregationPeriod:      api.DefaultAggregationPeriod,
			AggregationPolicy:      api.DefaultAggregationPolicy,
			Replacement:            api.DefaultReplacement,
			ReplacementDeferWindow: api.DefaultReplacementDeferWindow,
			InitDeadline:           api.DefaultInitDeadline,
			Cooldown:               api.DefaultCooldown,
			TerminationPolicy:      api.DefaultTerminationPolicy,
		},
		OfficialQuantity: 3,
		ActualQuantity:   0,
		Status:           api.GroupActive,
		CreatedAt:        t0,
		UpdatedAt:        t0,
	}
}

// insertGroups inserts live groups g1..gN named like their ids.
func insertGroups(t *testing.T, s store.Store, ids ...string) {
	t.Helper()
	update(t, s, func(tx store.Tx) error {
		for _, id := range ids {
			if err := tx.InsertGroup(group(id, "name-"+id)); err != nil {
				return err
			}
		}
		return nil
	})
}

// upsertNodes writes nodes in one update, in their order.
func upsertNodes(t *testing.T, s store.Store, nodes ...api.Node) {
	t.Helper()
	update(t, s, func(tx store.Tx) error {
		for _, n := range nodes {
			if err := tx.UpsertNode(n); err != nil {
				return err
			}
		}
		return nil
	})
}

func event(id, groupID string, tm time.Time) api.Event {
	return api.Event{
		ID: id, GroupID: groupID, Type: api.EventUserInstruction,
		Source: api.Source{Kind: api.SourceUser, Name: "alice"},
		Time:   tm, Status: api.EventAggregated, Priority: api.DefaultInstructionPriority,
		Request:          &api.Request{ChangeBy: ptr(2)},
		ProposedQuantity: ptr(5),
		Description:      "user alice asked for +2",
	}
}

func change(id, groupID string, tm time.Time) api.Change {
	return api.Change{
		ID: id, GroupID: groupID, Type: api.ChangeAddNodes, Amount: 2,
		QuantityBefore: 3, QuantityAfter: 5, Status: api.ChangeInProgress,
		StartedAt: tm, Attribution: api.AttributionIndirect,
		NodeIDs: []string{"n-1", "n-2"}, Description: "add 2 nodes",
	}
}

// ids returns the IDs of events, changes, periods or groups.
func ids[T any](items []T) []string {
	out := make([]string, len(items))
	for i, it := range items {
		switch v := any(it).(type) {
		case api.Event:
			out[i] = v.ID
		case api.Change:
			out[i] = v.ID
		case api.Period:
			out[i] = v.ID
		case api.Group:
			out[i] = v.ID
		case api.Trigger:
			out[i] = v.ID
		case api.Node:
			out[i] = v.ID
		default:
			panic(fmt.Sprintf("ids: %T", it))
		}
	}
	return out
}

func sameIDs(t *testing.T, what string, want, got []string) {
	t.Helper()
	if len(want) != len(got) {
		t.Errorf("%s: got %d items %v, want %d %v", what, len(got), short(got), len(want), short(want))
		return
	}
	for i := range want {
		if want[i] != got[i] {
			t.Errorf("%s: item %d is %s, want %s\n got  %v\n want %v", what, i, got[i], want[i], short(got), short(want))
			return
		}
	}
}

func short(s []string) []string {
	if len(s) > 12 {
		return append(s[:12:12], fmt.Sprintf("... (%d more)", len(s)-12))
	}
	return s
}

// pageAll follows next-page tokens to the end, checking that each page
// respects the limit.
func pageAll[T any](t *testing.T, limit int, fetch func(p store.Page) ([]T, string, error)) []T {
	t.Helper()
	var all []T
	tok := ""
	for i := 0; ; i++ {
		if i > 100000 {
			t.Fatal("pagination does not end")
		}
		items, next, err := fetch(store.Page{Limit: limit, Token: tok})
		if err != nil {
			t.Fatalf("page %d (limit %d): %v", i, limit, err)
		}
		max := limit
		if max == 0 {
			max = 100
		}
		if max > 1000 {
			max = 1000
		}
		if len(items) > max {
			t.Fatalf("page %d: %d items, limit %d", i, len(items), max)
		}
		if next != "" && len(items) != max {
			t.Fatalf("page %d: %d items (not full) but a next token", i, len(items))
		}
		all = append(all, items...)
		if next == "" {
			return all
		}
		tok = next
	}
}
