package history

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/causality"
	"github.com/pes-project/terraform-provider-pes/reconciler/cost"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlite"
)

// The ledger's tallies give the answer cutting every node gives, to the
// micro-unit, whatever the window: wholly inside it, cut by its edges (at
// a price change, across midnights), with live and recently ended nodes,
// asked again once the attributions settled, and as /metrics totals.
func TestLedgerAnswersAsEveryNodeCut(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "pes.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	now := t0.Add(72 * time.Hour)
	g := api.Group{ID: "g1", GroupConfig: api.GroupConfig{Name: "web", Driver: api.DriverSim, MaxQuantity: 100,
		AggregationPeriod: "60s", AggregationPolicy: api.PolicyLargest, Replacement: api.ReplacementAuto,
		ReplacementDeferWindow: "15s", InitDeadline: "10m", Cooldown: "0s", TerminationPolicy: api.TerminateOldest,
		Billing: &api.Billing{PricePerNodeHour: "0.40", Currency: "USD", Increment: "1m", Minimum: "10m"}},
		Status: api.GroupActive, CreatedAt: t0, UpdatedAt: t0}
	g.BillingHistory = api.NextBillingHistory(nil, g.Billing, t0)
	g.BillingHistory = api.NextBillingHistory(g.BillingHistory,
		&api.Billing{PricePerNodeHour: "0.25", Currency: "USD", Increment: "1m", Minimum: "10m"}, t0.Add(30*time.Hour+17*time.Second))
	seed := uint64(7)
	rnd := func(n int64) int64 {
		seed = seed*6364136223846793005 + 1442695040888963407
		return int64(seed>>33) % n
	}
	err = st.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertGroup(g); err != nil {
			return err
		}
		for c := range 12 {
			at := t0.Add(time.Duration(rnd(int64(60*time.Hour/time.Second))) * time.Second)
			end := at
			e1 := api.Event{ID: fmt.Sprintf("e%d-a", c), Label: fmt.Sprintf("E%d", 2*c+1), GroupID: g.ID, Type: api.EventTriggerFired,
				Source: api.Source{Kind: api.SourceTrigger, Name: []string{"cpu", "queue"}[c%2]}, Time: at, Status: api.EventAggregated}
			e2 := api.Event{ID: fmt.Sprintf("e%d-b", c), Label: fmt.Sprintf("E%d", 2*c+2), GroupID: g.ID, Type: api.EventUserInstruction,
				Source: api.Source{Kind: api.SourceUser, Name: "alice"}, Time: at, Status: api.EventAggregated}
			nx := api.Nexus{ID: fmt.Sprintf("x%d", c), GroupID: g.ID, Attribution: api.AttributionIndirect,
				EventIDs: []string{e1.ID, e2.ID}, CreatedAt: at}
			ch := api.Change{ID: fmt.Sprintf("c%d", c), Label: fmt.Sprintf("C%d", c+1), GroupID: g.ID, Type: api.ChangeAddNodes,
				Amount: 3, Status: api.ChangeCompleted, StartedAt: at, EndedAt: &end, NexusID: nx.ID, Attribution: api.AttributionIndirect}
			if c%3 == 0 { // a direct change
				nx.Attribution, nx.EventIDs, ch.Attribution = api.AttributionDirect, []string{e2.ID}, api.AttributionDirect
			}
			nx.ChangeIDs = []string{ch.ID}
			for k := range 3 {
				n := api.Node{ID: fmt.Sprintf("n%d-%d", c, k), GroupID: g.ID, Index: 3*c + k, State: api.NodeReady,
					LaunchedAt: at.Add(time.Duration(rnd(300)) * time.Second), ChangeID: ch.ID}
				switch rnd(4) {
				case 0: // live
				case 1: // ended within the last hour (not settled)
					n.State, n.TerminatedAt = api.NodeTerminated, ptr(now.Add(-time.Duration(rnd(3600))*time.Second))
				default:
					stop := n.LaunchedAt.Add(time.Duration(rnd(int64(30*time.Hour/time.Second))) * time.Second)
					if stop.After(now.Add(-time.Hour)) {
						stop = now.Add(-2 * time.Hour)
					}
					if stop.Before(n.LaunchedAt) {
						stop = n.LaunchedAt.Add(5 * time.Minute)
					}
					n.State, n.TerminatedAt = api.NodeTerminated, &stop
				}
				ch.NodeIDs = append(ch.NodeIDs, n.ID)
				if err := tx.UpsertNode(n); err != nil {
					return err
				}
			}
			for _, err := range []error{tx.InsertNexus(nx), tx.InsertEvent(e1), tx.InsertEvent(e2), tx.InsertChange(ch)} {
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	h := New(st)
	all, err := st.NodeTimes(ctx, g.ID, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	rec := cost.Records{Changes: map[string]api.Change{}, Shares: map[string][]cost.Share{}}
	var ids []string
	for c := range 12 {
		ids = append(ids, fmt.Sprintf("c%d", c))
	}
	if err := h.costRecords(ctx, ids, &rec); err != nil {
		t.Fatal(err)
	}
	rates := cost.ParseRates(g.BillingHistory)
	windows := [][2]time.Time{
		{t0, now},
		{t0.Add(5*time.Hour + 17*time.Minute + 3*time.Second), t0.Add(40*time.Hour + 3*time.Second)},
		{t0.Add(29 * time.Hour), t0.Add(31 * time.Hour)},
		{t0.Add(15 * time.Hour), t0.Add(15*time.Hour + 20*time.Minute)},
		{now.Add(-90 * time.Minute), now},
	}
	for round := range 2 { // the second once the attributions are kept
		for _, w := range windows {
			for _, by := range api.CostsBy() {
				want := cost.Compute(all, rates, rec, cost.Query{Since: w[0], Until: w[1], Now: now, By: by})
				got, err := h.Costs(ctx, g, w[0], w[1], now, by)
				if err != nil {
					t.Fatal(err)
				}
				what := fmt.Sprintf("round %d, [%s, %s) by %s", round, w[0].Format(time.RFC3339), w[1].Format(time.RFC3339), by)
				if got.TotalNodeSeconds != want.NodeSeconds || got.TotalCostMicros != want.Micros {
					t.Errorf("%s: total %d s %d µ, cutting every node %d s %d µ", what, got.TotalNodeSeconds, got.TotalCostMicros, want.NodeSeconds, want.Micros)
				}
				if len(got.Rows) != len(want.Rows) {
					t.Errorf("%s: %d rows, cutting every node %d", what, len(got.Rows), len(want.Rows))
					continue
				}
				for _, r := range got.Rows {
					e, ok := rec.Events[r.Key]
					if by != api.CostsByCause || !ok {
						continue
					}
					if d := causality.CostRowDescription(by, e.Label, &e, nil, r.NodeSeconds, r.CostMicros, "USD", true, len(r.ChangeIDs)); r.Description != d {
						t.Errorf("%s: row %s says %q, want %q", what, r.Key, r.Description, d)
					}
				}
				for i, r := range want.Rows {
					if g := got.Rows[i]; g.Key != r.Key || g.NodeSeconds != r.NodeSeconds || g.CostMicros != r.Micros || len(g.ChangeIDs) != len(r.ChangeIDs) || len(g.EventIDs) != len(r.EventIDs) {
						t.Errorf("%s: row %d is %s %d s %d µ (%d changes, %d events), cutting every node %s %d s %d µ (%d, %d)", what, i,
							g.Key, g.NodeSeconds, g.CostMicros, len(g.ChangeIDs), len(g.EventIDs), r.Key, r.NodeSeconds, r.Micros, len(r.ChangeIDs), len(r.EventIDs))
					}
				}
			}
		}
	}
	if n := len(h.ledger.group(g.ID).byID); n == 0 {
		t.Error("nothing was tallied: the test would not test the ledger")
	}
	secs, micros, _, err := h.TotalCost(ctx, g.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := cost.OfChange(all, rates, now); secs != want.NodeSeconds || micros != want.Micros {
		t.Errorf("TotalCost %d s %d µ, every node %d s %d µ", secs, micros, want.NodeSeconds, want.Micros)
	}
}

func ptr[T any](v T) *T { return &v }
