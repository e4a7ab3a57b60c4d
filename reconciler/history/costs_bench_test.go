package history_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/history"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlite"
)

// BenchmarkCosts90Days answers a costs query over 90 days of a group that
// kept about 200 nodes through 100,000 changes (50,000 harmonizations
// adding two nodes for two requests, 50,000 removals), on a real SQLite
// file: every node, change, nexus, cause and decision record of the
// window is read and attributed.
//
//	go test -run '^$' -bench Costs90Days ./reconciler/history/
func BenchmarkCosts90Days(b *testing.B) {
	const (
		days = 90
		live = 200
	)
	changes := 100_000
	if v := os.Getenv("PES_BENCH_CHANGES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 100 {
			b.Fatalf("PES_BENCH_CHANGES=%q: want a number of at least 100", v)
		}
		changes = n
	}
	path := filepath.Join(b.TempDir(), "pes.db")
	st, err := sqlite.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	start := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	g, built := costsFixture(b, st, start, days, live, changes)
	h := history.New(st)
	ctx := context.Background()
	until := start.Add(days * 24 * time.Hour)
	b.Run("Fixture", func(b *testing.B) {
		b.ReportMetric(float64(changes), "changes")
		b.ReportMetric(built.Seconds(), "build-s")
	})
	t1 := time.Now()
	if _, err := h.Costs(ctx, g, start, until, until, api.CostsByCause); err != nil {
		b.Fatal(err)
	}
	b.Logf("first query: %s (build %s)", time.Since(t1), built)
	for _, by := range []string{api.CostsByCause, api.CostsByTrigger, api.CostsByDay} {
		b.Run(by, func(b *testing.B) {
			var ds []time.Duration
			cpu0 := cpuTime()
			for b.Loop() {
				for range 10 {
					t0 := time.Now()
					c, err := h.Costs(ctx, g, start, until, until, by)
					if err != nil {
						b.Fatal(err)
					}
					ds = append(ds, time.Since(t0))
					if len(c.Rows) == 0 || c.TotalCostMicros == 0 {
						b.Fatalf("no costs: %+v", c.Rows)
					}
				}
			}
			cpu := cpuTime() - cpu0
			slices.Sort(ds)
			at := func(q float64) float64 {
				return float64(ds[min(len(ds)-1, int(q*float64(len(ds))))].Microseconds()) / 1e3
			}
			b.ReportMetric(at(0.5), "p50-ms")
			b.ReportMetric(at(0.99), "p99-ms")
			b.ReportMetric(cpu.Seconds()*1e3/float64(len(ds)), "cpu-ms/query")
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// costsFixture writes the group's history through the store's Update.
func costsFixture(b *testing.B, st store.Store, start time.Time, days, live, changes int) (api.Group, time.Duration) {
	b.Helper()
	t0 := time.Now()
	ctx := context.Background()
	id := func() string { return uuid.Must(uuid.NewV7()).String() }
	g := api.Group{ID: id(), GroupConfig: api.GroupConfig{Name: "bench", Driver: api.DriverSim, DesiredQuantity: live,
		MaxQuantity: 1000, AggregationPeriod: "60s", AggregationPolicy: api.PolicyLargest, Replacement: api.ReplacementAuto,
		ReplacementDeferWindow: "15s", InitDeadline: "10m", Cooldown: "0s", TerminationPolicy: api.TerminateOldest,
		Billing: &api.Billing{PricePerNodeHour: "0.0416", Currency: "USD", Increment: "1s", Minimum: "1m"}},
		Status: api.GroupActive, CreatedAt: start, UpdatedAt: start}
	g.BillingHistory = api.NextBillingHistory(nil, g.Billing, start)
	// A price change halfway through.
	g.BillingHistory = api.NextBillingHistory(g.BillingHistory,
		&api.Billing{PricePerNodeHour: "0.05", Currency: "USD", Increment: "1s", Minimum: "1m"}, start.Add(time.Duration(days)*12*time.Hour))
	step := time.Duration(days) * 24 * time.Hour / time.Duration(changes/2+1)
	labels := store.Labels{}
	var nodes []api.Node // live, oldest first
	node := func(idx int, at time.Time, change string) api.Node {
		return api.Node{ID: id(), GroupID: g.ID, Index: idx, State: api.NodeReady, LaunchedAt: at, ReadyAt: &at, ChangeID: change}
	}
	event := func(at time.Time, typ string, src api.Source, req *api.Request, status string) api.Event {
		labels.E++
		return api.Event{ID: id(), Label: fmt.Sprintf("E%d", labels.E), GroupID: g.ID, Type: typ, Source: src, Time: at,
			Request: req, Status: status, Description: typ}
	}
	change := func(at time.Time, typ string, n, before int, nexus string, nodeIDs []string) api.Change {
		labels.C++
		return api.Change{ID: id(), Label: fmt.Sprintf("C%d", labels.C), GroupID: g.ID, Type: typ, Amount: n,
			QuantityBefore: before, QuantityAfter: before + map[bool]int{true: n, false: -n}[typ == api.ChangeAddNodes],
			Status: api.ChangeCompleted, StartedAt: at, EndedAt: &at, NexusID: nexus, Attribution: api.AttributionIndirect,
			NodeIDs: nodeIDs, Description: typ}
	}
	write := func(fn func(tx store.Tx) error) {
		if err := st.Update(ctx, fn); err != nil {
			b.Fatal(err)
		}
	}
	write(func(tx store.Tx) error {
		if err := tx.InsertGroup(g); err != nil {
			return err
		}
		e := event(start, api.EventGroupCreated, api.Source{Kind: api.SourceUser, Name: "terraform"}, &api.Request{SetTo: &live}, api.EventApplied)
		nx := api.Nexus{ID: id(), GroupID: g.ID, Attribution: api.AttributionDirect, EventIDs: []string{e.ID}, CreatedAt: start}
		ch := change(start, api.ChangeAddNodes, live, 0, nx.ID, nil)
		ch.Attribution = api.AttributionDirect
		nx.ChangeIDs = []string{ch.ID}
		e.NexusID = nx.ID
		for i := range live {
			n := node(i, start, ch.ID)
			nodes = append(nodes, n)
			ch.NodeIDs = append(ch.NodeIDs, n.ID)
			if err := tx.UpsertNode(n); err != nil {
				return err
			}
		}
		return insertAll(tx, []api.Event{e}, []api.Change{ch}, []api.Nexus{nx}, nil)
	})
	triggers := []string{"cpu-high", "queue-deep", "latency", "nightly"}
	const batch = 2500
	for i := 0; i < changes/2-1; {
		write(func(tx store.Tx) error {
			var evs []api.Event
			var chs []api.Change
			var nxs []api.Nexus
			var ps []api.Period
			for end := min(i+batch, changes/2-1); i < end; i++ {
				at := start.Add(time.Duration(i+1) * step)
				labels.H++
				// A harmonization: two requests, +2 (chosen) and +1, add 2.
				p := api.Period{ID: id(), Label: fmt.Sprintf("H%d", labels.H), GroupID: g.ID, StartedAt: at.Add(-time.Minute),
					EndedAt: &at, Harmonized: true, Policy: api.PolicyLargest, DesiredBefore: live, DesiredAfter: live + 2,
					OfficialBefore: live, OfficialAfter: live + 2, Actual: live, Suppressed: []api.PeriodSuppressed{},
					Clamps: []api.Clamp{}}
				two, one := 2, 1
				e1 := event(at.Add(-30*time.Second), api.EventTriggerFired, api.Source{Kind: api.SourceTrigger, Name: triggers[i%len(triggers)]},
					&api.Request{ChangeBy: &two}, api.EventAggregated)
				e2 := event(at.Add(-20*time.Second), api.EventUserInstruction, api.Source{Kind: api.SourceUser, Name: fmt.Sprintf("user%d", i%7)},
					&api.Request{ChangeBy: &one}, api.EventAggregated)
				p.Requests = []api.PeriodRequest{
					{EventID: e1.ID, Label: e1.Label, ProposedQuantity: live + 2, Kind: "trigger"},
					{EventID: e2.ID, Label: e2.Label, ProposedQuantity: live + 1, Kind: "user"},
				}
				nx := api.Nexus{ID: id(), GroupID: g.ID, Attribution: api.AttributionIndirect, PeriodID: p.ID,
					EventIDs: []string{e1.ID, e2.ID}, CreatedAt: at}
				add := change(at, api.ChangeAddNodes, 2, live, nx.ID, nil)
				add.PeriodID, add.PeriodLabel = p.ID, p.Label
				for k := range 2 {
					n := node(live+k, at, add.ID)
					nodes = append(nodes, n)
					add.NodeIDs = append(add.NodeIDs, n.ID)
					if err := tx.UpsertNode(n); err != nil {
						return err
					}
				}
				// The next harmonization removes the two oldest (a request of -2).
				later := at.Add(step / 2)
				minus := -2
				e3 := event(later.Add(-10*time.Second), api.EventTriggerFired, api.Source{Kind: api.SourceTrigger, Name: "cpu-low"},
					&api.Request{ChangeBy: &minus}, api.EventApplied)
				rx := api.Nexus{ID: id(), GroupID: g.ID, Attribution: api.AttributionDirect, EventIDs: []string{e3.ID}, CreatedAt: later}
				rm := change(later, api.ChangeRemoveNodes, 2, live+2, rx.ID, nil)
				for _, n := range nodes[:2] {
					n.State, n.TerminatedAt = api.NodeTerminated, &later
					rm.NodeIDs = append(rm.NodeIDs, n.ID)
					if err := tx.UpsertNode(n); err != nil {
						return err
					}
				}
				nodes = nodes[2:]
				nx.ChangeIDs, rx.ChangeIDs = []string{add.ID}, []string{rm.ID}
				e1.NexusID, e2.NexusID, e3.NexusID = nx.ID, nx.ID, rx.ID
				p.ChangeIDs = []string{add.ID}
				evs = append(evs, e1, e2, e3)
				chs = append(chs, add, rm)
				nxs = append(nxs, nx, rx)
				ps = append(ps, p)
			}
			if err := insertAll(tx, evs, chs, nxs, ps); err != nil {
				return err
			}
			return tx.SetLabels(g.ID, labels)
		})
	}
	return g, time.Since(t0)
}

func insertAll(tx store.Tx, evs []api.Event, chs []api.Change, nxs []api.Nexus, ps []api.Period) error {
	for _, p := range ps {
		if err := tx.InsertPeriod(p); err != nil {
			return err
		}
	}
	for _, n := range nxs {
		if err := tx.InsertNexus(n); err != nil {
			return err
		}
	}
	for _, e := range evs {
		if err := tx.InsertEvent(e); err != nil {
			return err
		}
	}
	for _, c := range chs {
		if err := tx.InsertChange(c); err != nil {
			return err
		}
	}
	return nil
}
