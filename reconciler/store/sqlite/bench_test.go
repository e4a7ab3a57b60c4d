package sqlite

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// BenchmarkCausality1M measures the causality queries on a store of a
// million events and a million changes in 100 groups:
//
//	go test -run '^$' -bench Causality1M ./reconciler/store/sqlite/
//	PES_BENCH_EVENTS=100000 ...  # a smaller store while iterating
//	PES_BENCH_FRESH=1 ...        # rebuild the cached store
//
// The store is built through Update and the Insert methods and cached
// under os.TempDir(), keyed by the schema's migrations and the shape of
// the data, so later runs skip the load. Fixture reports how the store
// was built (build-s, build-cpu-s: the CPU time says more than the wall
// clock on a shared machine).
func BenchmarkCausality1M(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("PES_BENCH_EVENTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1000 {
			b.Fatalf("PES_BENCH_EVENTS=%q: want a number of at least 1000", v)
		}
	}
	f := causalityFixture(b, n)
	s, err := Open(f.path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 1))

	// Fixture only reports how the store was built; it does no work.
	b.Run("Fixture", func(b *testing.B) {
		b.ReportMetric(float64(f.Events), "events")
		b.ReportMetric(float64(f.Changes), "changes")
		b.ReportMetric(f.BuildSeconds, "build-s")
		b.ReportMetric(f.BuildCPU, "build-cpu-s")
	})
	// change -> causes, as GET /v1/changes/{id} reads them.
	b.Run("ChangeCauses", func(b *testing.B) {
		var ds []time.Duration
		for b.Loop() {
			id := f.SampleChanges[r.IntN(len(f.SampleChanges))]
			t0 := time.Now()
			c, err := s.GetChange(ctx, id)
			if err != nil {
				b.Fatal(err)
			}
			x, err := s.GetNexus(ctx, c.NexusID)
			if err != nil {
				b.Fatal(err)
			}
			evs, err := s.GetEventsByID(ctx, x.EventIDs)
			if err != nil || len(evs) == 0 {
				b.Fatal(len(evs), err)
			}
			ds = append(ds, time.Since(t0))
		}
		reportLatency(b, ds)
	})
	// event -> effects, as GET /v1/events/{id} reads them.
	b.Run("EventEffects", func(b *testing.B) {
		var ds []time.Duration
		for b.Loop() {
			id := f.SampleEvents[r.IntN(len(f.SampleEvents))]
			t0 := time.Now()
			e, err := s.GetEvent(ctx, id)
			if err != nil {
				b.Fatal(err)
			}
			x, err := s.GetNexus(ctx, e.NexusID)
			if err != nil {
				b.Fatal(err)
			}
			chs, err := s.GetChangesByID(ctx, x.ChangeIDs)
			if err != nil || len(chs) == 0 {
				b.Fatal(len(chs), err)
			}
			ds = append(ds, time.Since(t0))
		}
		reportLatency(b, ds)
	})
	// caused_by, as the pes_capacity_changes data source filters.
	b.Run("ListCausedBy", func(b *testing.B) {
		var ds []time.Duration
		for b.Loop() {
			i := r.IntN(len(f.SampleEvents))
			t0 := time.Now()
			chs, _, err := s.ListChanges(ctx, store.ChangeFilter{GroupID: f.SampleEventGroups[i], CausedBy: f.SampleEvents[i]})
			if err != nil || len(chs) == 0 {
				b.Fatal(len(chs), err)
			}
			ds = append(ds, time.Since(t0))
		}
		reportLatency(b, ds)
	})
	// A page of 1,000 changes of a group, each with the events that
	// caused it: one list, one batch of nexus rows, one batch of events.
	b.Run("List1000ChangesWithCauses", func(b *testing.B) {
		if len(f.ListGroups) == 0 {
			b.Skip("no group has 1,000 changes; load more events")
		}
		var ds []time.Duration
		for b.Loop() {
			g := f.ListGroups[r.IntN(len(f.ListGroups))]
			t0 := time.Now()
			chs, _, err := s.ListChanges(ctx, store.ChangeFilter{GroupID: g, Page: store.Page{Limit: 1000}})
			if err != nil || len(chs) != 1000 {
				b.Fatal(len(chs), err)
			}
			seen := map[string]bool{}
			var nexus []string
			for _, c := range chs {
				if !seen[c.NexusID] {
					seen[c.NexusID] = true
					nexus = append(nexus, c.NexusID)
				}
			}
			xs, err := s.GetNexusesByID(ctx, nexus)
			if err != nil {
				b.Fatal(err)
			}
			var causes []string
			for _, x := range xs {
				causes = append(causes, x.EventIDs...)
			}
			if _, err := s.GetEventsByID(ctx, causes); err != nil {
				b.Fatal(err)
			}
			ds = append(ds, time.Since(t0))
		}
		slices.Sort(ds)
		b.ReportMetric(ms(ds[len(ds)/2]), "p50-ms")
		b.ReportMetric(ms(ds[min(len(ds)-1, len(ds)*99/100)]), "p99-ms")
	})
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }

// reportLatency reports p50 and p99 of ds in microseconds.
func reportLatency(b *testing.B, ds []time.Duration) {
	slices.Sort(ds)
	at := func(q float64) float64 {
		return float64(ds[min(len(ds)-1, int(q*float64(len(ds))))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

// fixtureShape names the generator below; change it when the generator
// changes, so cached stores are rebuilt.
const fixtureShape = "causality-1"

// fixture describes a built store; its manifest is written last, so a
// directory without one is an interrupted build.
type fixture struct {
	path              string
	Events            int      `json:"events"`
	Changes           int      `json:"changes"`
	Nexus             int      `json:"nexus"`
	Groups            []string `json:"groups"`
	ListGroups        []string `json:"list_groups"` // with at least 1,000 changes
	SampleEvents      []string `json:"sample_events"`
	SampleEventGroups []string `json:"sample_event_groups"`
	SampleChanges     []string `json:"sample_changes"`
	BuildSeconds      float64  `json:"build_seconds"`
	BuildCPU          float64  `json:"build_cpu_seconds"`
}

// causalityFixture returns a store of about n events and n changes,
// from the cache when it holds one built by this schema and generator.
func causalityFixture(b *testing.B, n int) fixture {
	h := sha256.New()
	fmt.Fprintf(h, "%s %d\n", fixtureShape, n)
	err := fs.WalkDir(migrationFiles, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(migrationFiles, p)
		fmt.Fprintf(h, "%s %x\n", p, sha256.Sum256(data))
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	// One store per size: a build for a new schema replaces the old one.
	root := filepath.Join(os.TempDir(), "pes-sqlite-bench")
	prefix := fmt.Sprintf("n%d-", n)
	dir := filepath.Join(root, prefix+hex.EncodeToString(h.Sum(nil))[:16])
	manifest := filepath.Join(dir, "manifest.json")
	if os.Getenv("PES_BENCH_FRESH") == "" {
		if data, err := os.ReadFile(manifest); err == nil {
			var f fixture
			if err := json.Unmarshal(data, &f); err == nil {
				f.path = filepath.Join(dir, "pes.db")
				b.Logf("using the cached store %s (%d events, %d changes)", f.path, f.Events, f.Changes)
				return f
			}
		}
	}
	stale, _ := filepath.Glob(filepath.Join(root, prefix+"*"))
	for _, d := range stale {
		if err := os.RemoveAll(d); err != nil {
			b.Fatal(err)
		}
	}
	f := fixture{path: filepath.Join(dir, "pes.db")}
	s, err := Open(f.path)
	if err != nil {
		b.Fatal(err)
	}
	// Fewer collections while the loader churns through two million
	// short-lived rows: on two cores the collector otherwise takes a
	// quarter of the build.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	t0, cpu0 := time.Now(), cpuTime()
	loadCausality(b, s, n, &f)
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	f.BuildSeconds, f.BuildCPU = time.Since(t0).Seconds(), (cpuTime() - cpu0).Seconds()
	b.Logf("built %s: %d events, %d changes, %d nexus in %.1fs (%.1fs of CPU; %.0f events+changes per CPU-second)",
		f.path, f.Events, f.Changes, f.Nexus, f.BuildSeconds, f.BuildCPU, float64(f.Events+f.Changes)/f.BuildCPU)
	data, err := json.Marshal(f)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(manifest, data, 0o600); err != nil {
		b.Fatal(err)
	}
	return f
}

// loadCausality fills s with about n events and n changes in 100 groups,
// linked through nexus rows shaped like pesd's: 70% direct (one event,
// one change), 15% indirect (four aggregated events, one change), 15% one
// event with four effects; periods of about 50 events. It writes through
// Update and the Insert methods, about 50,000 events per transaction.
func loadCausality(b *testing.B, s *Store, n int, f *fixture) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(42, 42))
	const groups = 100
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	err := s.Update(ctx, func(tx store.Tx) error {
		for g := range groups {
			id := uuid.Must(uuid.NewV7()).String()
			f.Groups = append(f.Groups, id)
			if err := tx.InsertGroup(api.Group{ID: id, GroupConfig: api.GroupConfig{Name: fmt.Sprintf("group-%03d", g),
				Driver: api.DriverSim, Program: api.Program{Command: "sleep"}}, Status: api.GroupActive,
				CreatedAt: start, UpdatedAt: start}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	eventLabels, changeLabels := make([]int, groups), make([]int, groups)
	// UUIDv7 like pesd's ids: they sort by time, so inserts append to the
	// id indexes as they do in production.
	newID := func() string { return uuid.Must(uuid.NewV7()).String() }
	for step := 0; f.Events < n; {
		err := s.Update(ctx, func(tx store.Tx) error {
			for batch := 0; batch < 50_000 && f.Events < n; step++ {
				g := r.IntN(groups)
				gid := f.Groups[g]
				ne, nc := 1, 1
				switch p := r.IntN(100); {
				case p < 15:
					ne = 4
				case p < 30:
					nc = 4
				}
				tm := start.Add(time.Duration(step) * time.Second)
				period := fmt.Sprintf("%s-H%d", gid, eventLabels[g]/50+1)
				x := api.Nexus{ID: newID(), GroupID: gid, Attribution: api.AttributionDirect, PeriodID: period, CreatedAt: tm}
				if ne > 1 || nc > 1 {
					x.Attribution = api.AttributionIndirect
				}
				for range ne {
					eventLabels[g]++
					e := api.Event{ID: newID(), Label: "E" + strconv.Itoa(eventLabels[g]), GroupID: gid,
						Type: api.EventTriggerFired, Source: api.Source{Kind: api.SourceTrigger, ID: "t-1", Name: "cpu-high"},
						Time: tm, PeriodID: period, PeriodLabel: "H1", Request: &api.Request{ChangeBy: intp(4)},
						ProposedQuantity: intp(12), Priority: 50, Status: api.EventAggregated,
						Observed: "avg cpu_utilization 87.3 > 80 for 2m", NexusID: x.ID,
						Description: "trigger cpu-high asked for +4 (avg cpu_utilization 87.3 > 80 for 2m)"}
					if err := tx.InsertEvent(e); err != nil {
						return err
					}
					x.EventIDs = append(x.EventIDs, e.ID)
					if r.IntN(200) == 0 {
						f.SampleEvents = append(f.SampleEvents, e.ID)
						f.SampleEventGroups = append(f.SampleEventGroups, gid)
					}
				}
				for range nc {
					changeLabels[g]++
					c := api.Change{ID: newID(), Label: "C" + strconv.Itoa(changeLabels[g]), GroupID: gid,
						Type: api.ChangeAddNodes, Amount: 5, QuantityBefore: 7, QuantityAfter: 12,
						Status: api.ChangeCompleted, StartedAt: tm, EndedAt: &tm, PeriodID: period, PeriodLabel: "H1",
						NexusID: x.ID, Attribution: x.Attribution, NodeIDs: []string{"n-1", "n-2", "n-3", "n-4", "n-5"},
						Description: "add 5 nodes, 7 → 12"}
					if err := tx.InsertChange(c); err != nil {
						return err
					}
					x.ChangeIDs = append(x.ChangeIDs, c.ID)
					if r.IntN(200) == 0 {
						f.SampleChanges = append(f.SampleChanges, c.ID)
					}
				}
				if err := tx.InsertNexus(x); err != nil {
					return err
				}
				f.Events += ne
				f.Changes += nc
				f.Nexus++
				batch += ne
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	for g, n := range changeLabels {
		if n >= 1000 {
			f.ListGroups = append(f.ListGroups, f.Groups[g])
		}
	}
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// intp points at n (new(n) needs Go 1.26; go.mod asks for 1.25).
func intp(n int) *int { return &n }
