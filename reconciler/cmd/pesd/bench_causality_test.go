//go:build linux

package main

// BenchmarkCausalityHTTP measures the causality queries of a real pesd
// over HTTP on a store of a million events and a million changes. The
// store is written directly through the store package (sqlite.Open and
// Update transactions), shaped like seed 000's timeline, and cached under
// os.TempDir() so repeated runs do not rebuild it; each run serves a copy,
// because pesd writes to its store (the open periods are harmonized).
// Benchmarks run only with -bench; the first build of the store takes
// minutes, hence the timeout:
//
//	go test -run '^$' -bench CausalityHTTP -timeout 30m ./reconciler/cmd/pesd/
//	PES_BENCH_EVENTS=100000 go test ...   # a smaller store while iterating

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/causality"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
	"github.com/pes-project/terraform-provider-pes/reconciler/engine"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlite"
)

// fixtureVersion names the shape of the generated store. Change it when
// the generator changes; the schema's version is added to the cache key
// from the migrations themselves.
const fixtureVersion = "3"

// fixturePrefix starts the name of every cache directory of this
// benchmark, whatever its version, schema or size.
const fixturePrefix = "pes-bench-causality-http-"

// migrationsDir is the sqlite store's migrations, relative to this
// package: their content keys the cache, so a new schema rebuilds it.
const migrationsDir = "../../store/sqlite/migrations"

const (
	fixtureGroups  = 200
	fixtureTxRows  = 50_000 // events, changes and nexus rows per transaction
	fixtureSamples = 4_000  // ids kept for the random lookups
	benchLookups   = 2_000  // random ids per latency figure
	benchListLimit = 1_000
)

// fixtureManifest describes a built store; it is written last, so a cache
// directory without one is an interrupted build.
type fixtureManifest struct {
	Key           string   `json:"key"`
	Events        int      `json:"events"`
	Changes       int      `json:"changes"`
	Nexus         int      `json:"nexus"`
	Periods       int      `json:"periods"`
	Groups        int      `json:"groups"`
	SampleEvents  []string `json:"sample_events"`
	SampleChanges []string `json:"sample_changes"`
	// ListGroups are the groups with the most changes, for the page of
	// benchListLimit.
	ListGroups   []string `json:"list_groups"`
	BuildSeconds float64  `json:"build_seconds"`
	BuildCPU     float64  `json:"build_cpu_seconds"`
}

func BenchmarkCausalityHTTP(b *testing.B) {
	needE2E(b)
	n := 1_000_000
	if v := os.Getenv("PES_BENCH_EVENTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1000 {
			b.Fatalf("PES_BENCH_EVENTS=%q: want a whole number of at least 1000", v)
		}
	}
	cached, m := causalityFixture(b, n)
	b.Logf("store: %d events, %d changes, %d nexus, %d periods in %d groups (built in %.0fs, %.0fs of CPU)",
		m.Events, m.Changes, m.Nexus, m.Periods, m.Groups, m.BuildSeconds, m.BuildCPU)

	dataDir := b.TempDir()
	t0 := time.Now()
	if err := copyFile(filepath.Join(cached, "pes.db"), filepath.Join(dataDir, "pes.db")); err != nil {
		b.Fatal(err)
	}
	b.Logf("copied the store in %s", time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	// A long retention: a cached store must not lose its deleted
	// groups' history to the purge as it ages.
	flags := append([]string{"--retention", "3650d"}, benchFlags()...)
	d := startDaemon(b, dataDir, "bench-token", flags...)
	b.Logf("pesd listening on the store after %s", time.Since(t0).Round(time.Millisecond))
	c := d.client(b)
	ctx := context.Background()

	r := rand.New(rand.NewPCG(7, 7))
	// A few hundred queries first: the copy is in the page cache, and
	// the reader connections' statement caches fill.
	for range 200 {
		if _, err := c.GetChange(ctx, m.SampleChanges[r.IntN(len(m.SampleChanges))]); err != nil {
			b.Fatal(err)
		}
	}

	pid := d.cmd.Process.Pid
	b.Run("change-causes", func(b *testing.B) {
		var ds []time.Duration
		cpu0 := procCPU(b, pid)
		for b.Loop() {
			for range benchLookups {
				id := m.SampleChanges[r.IntN(len(m.SampleChanges))]
				start := time.Now()
				ch, err := c.GetChange(ctx, id)
				ds = append(ds, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				if len(ch.Causes) == 0 && ch.Attribution == api.AttributionDirect {
					b.Fatalf("direct change %s has no cause", ch.Label)
				}
			}
		}
		reportLatency(b, ds)
		reportCPU(b, procCPU(b, pid)-cpu0, len(ds), "pesd-cpu-µs/get")
	})
	b.Run("event-effects", func(b *testing.B) {
		var ds []time.Duration
		cpu0 := procCPU(b, pid)
		for b.Loop() {
			for range benchLookups {
				id := m.SampleEvents[r.IntN(len(m.SampleEvents))]
				start := time.Now()
				e, err := c.GetEvent(ctx, id)
				ds = append(ds, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				if e.Explanation == "" {
					b.Fatalf("event %s has no explanation", e.Label)
				}
			}
		}
		reportLatency(b, ds)
		reportCPU(b, procCPU(b, pid)-cpu0, len(ds), "pesd-cpu-µs/get")
	})
	// The floor, for reference: the same GETs from the same client,
	// answered by a server that does nothing but give pesd's answer for
	// one change (serveFloor). The difference from change-causes is what
	// pesd itself spends on a GET.
	b.Run("get-floor", func(b *testing.B) {
		floor := startFloor(b, changeAnswer(b, d, m.SampleChanges[0]))
		fc, err := client.New(floor.url, d.token, client.WithRetryMax(2))
		if err != nil {
			b.Fatal(err)
		}
		var ds []time.Duration
		cpu0 := procCPU(b, floor.pid)
		for b.Loop() {
			for range benchLookups {
				id := m.SampleChanges[r.IntN(len(m.SampleChanges))]
				start := time.Now()
				_, err := fc.GetChange(ctx, id)
				ds = append(ds, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
			}
		}
		reportLatency(b, ds)
		reportCPU(b, procCPU(b, floor.pid)-cpu0, len(ds), "floor-cpu-µs/get")
	})
	// A page of 1,000 changes with their causes and explanations in one
	// request (?include=causes), as the provider's data source and
	// 'pesd changes --causes' read it: the goal of the causality issue is
	// under 100 ms on a million events and changes.
	b.Run("list1000-with-causes", func(b *testing.B) {
		var total time.Duration
		rounds, short := 0, 0
		cpu0 := procCPU(b, pid)
		for b.Loop() {
			g := m.ListGroups[r.IntN(len(m.ListGroups))]
			start := time.Now()
			l, err := c.ListChangesDetailed(ctx, g, client.ChangeFilter{Page: client.Page{Limit: benchListLimit}})
			total += time.Since(start)
			if err != nil {
				b.Fatal(err)
			}
			if len(l.Items) < benchListLimit {
				short++
			}
			for _, d := range l.Items {
				if d.Explanation == "" || (len(d.Causes) == 0 && d.Attribution == api.AttributionDirect) {
					b.Fatalf("change %s listed without its causes: %+v", d.Label, d)
				}
			}
			rounds++
		}
		if short > 0 {
			b.Logf("%d of %d pages had fewer than %d changes: the store is too small for this figure", short, rounds, benchListLimit)
		}
		b.ReportMetric(float64(total.Microseconds())/1000/float64(rounds), "list1000-ms")
		b.ReportMetric(float64(procCPU(b, pid)-cpu0)/float64(time.Millisecond)/float64(rounds), "pesd-cpu-ms/list1000")
		b.ReportMetric(0, "ns/op") // one op is a whole page; list1000-ms says it
	})
	// The same page of events with their effects.
	b.Run("events1000-with-effects", func(b *testing.B) {
		var total time.Duration
		rounds := 0
		for b.Loop() {
			g := m.ListGroups[r.IntN(len(m.ListGroups))]
			start := time.Now()
			if _, err := c.ListEventsDetailed(ctx, g, client.EventFilter{Page: client.Page{Limit: benchListLimit}}); err != nil {
				b.Fatal(err)
			}
			total += time.Since(start)
			rounds++
		}
		b.ReportMetric(float64(total.Microseconds())/1000/float64(rounds), "events1000-ms")
		b.ReportMetric(0, "ns/op")
	})
	// The old way, for comparison: the list without causes, then one GET
	// per change (1 + 1,000 requests, one after the other).
	b.Run("list1000-getloop", func(b *testing.B) {
		var total, list time.Duration
		rounds := 0
		for b.Loop() {
			g := m.ListGroups[r.IntN(len(m.ListGroups))]
			start := time.Now()
			l, err := c.ListChanges(ctx, g, client.ChangeFilter{Page: client.Page{Limit: benchListLimit}})
			if err != nil {
				b.Fatal(err)
			}
			list += time.Since(start)
			for _, ch := range l.Items {
				if _, err := c.GetChange(ctx, ch.ID); err != nil {
					b.Fatal(err)
				}
			}
			total += time.Since(start)
			rounds++
		}
		b.ReportMetric(float64(total.Microseconds())/1000/float64(rounds), "list1000-getloop-ms")
		b.ReportMetric(float64(list.Microseconds())/1000/float64(rounds), "list-only-ms")
		b.ReportMetric(0, "ns/op")
	})
}

// TestCausalityFixtureIsConsistent builds a small store with the
// benchmark's generator and reads it through pesd as the scenarios do: the
// generated causality must be what pesd itself would record, or the
// benchmark measures something pesd never serves.
func TestCausalityFixtureIsConsistent(t *testing.T) {
	needE2E(t)
	dataDir := t.TempDir()
	m, err := buildFixture(context.Background(), filepath.Join(dataDir, "pes.db"), 3000)
	if err != nil {
		t.Fatal(err)
	}
	if m.Events < 3000 || m.Changes < 3000 || m.Nexus == 0 || len(m.SampleEvents) == 0 || len(m.SampleChanges) == 0 {
		t.Fatalf("built %+v", m)
	}
	d := startDaemon(t, dataDir, "fixture-token", "--retention", "3650d")
	c := d.client(t)
	ctx := ctxFor(t)
	groups, err := c.ListAllGroups(ctx, client.GroupFilter{IncludeDeleted: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != fixtureGroups {
		t.Fatalf("pesd lists %d groups, want %d", len(groups), fixtureGroups)
	}
	checked := map[string]int{}
	for _, g := range groups {
		if checked[g.Status] == 2 {
			continue
		}
		checked[g.Status]++
		events, changes := checkCausality(t, ctx, c, g.ID)
		direct, indirect := 0, 0
		for _, ch := range changes {
			if ch.Attribution == api.AttributionDirect {
				direct++
			} else {
				indirect++
			}
		}
		if direct == 0 || indirect == 0 {
			t.Errorf("group %s (%s): %d direct and %d indirect changes, want both", g.Name, g.Status, direct, indirect)
		}
		t.Logf("group %s (%s): %d events and %d changes agree both ways", g.Name, g.Status, len(events), len(changes))
	}
	if checked[api.GroupActive] == 0 || checked[api.GroupDeleted] == 0 {
		t.Errorf("checked %v: want active and deleted groups", checked)
	}
}

// changeAnswer is pesd's answer to GET /v1/changes/{id}, for the floor
// to give.
func changeAnswer(b *testing.B, d *pesdProc, id string) floorAnswer {
	b.Helper()
	h, body, err := sendTo(http.DefaultClient, d.url, d.token, http.MethodGet, "/v1/changes/"+id, nil, http.StatusOK)
	if err != nil {
		b.Fatal(err)
	}
	return floorAnswer{Status: http.StatusOK, ContentType: h.Get("Content-Type"), Body: body}
}

// reportLatency reports the median and 99th percentile of ds.
func reportLatency(b *testing.B, ds []time.Duration) {
	slices.Sort(ds)
	at := func(q float64) float64 {
		i := min(int(q*float64(len(ds))), len(ds)-1)
		return float64(ds[i].Nanoseconds()) / 1e3
	}
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
	b.ReportMetric(0, "ns/op") // one op is a whole round; the percentiles say it
}

// reportCPU reports pesd's CPU time per request, in µs, over n requests.
// It includes what pesd does meanwhile in the background (its observe and
// evaluation ticks), a small share over thousands of requests; the
// process's clock counts in 10 ms ticks.
func reportCPU(b *testing.B, cpu time.Duration, n int, unit string) {
	b.ReportMetric(float64(cpu)/float64(time.Microsecond)/float64(n), unit)
}

// causalityFixture returns the cache directory of a store with at least
// n events and n changes, building it when it is missing.
func causalityFixture(b *testing.B, n int) (string, fixtureManifest) {
	key, err := fixtureKey(n)
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(os.TempDir(), fixturePrefix+key)
	if m, err := readManifest(dir); err == nil && m.Key == key {
		return dir, m
	}
	removeStaleFixtures(b, key)
	b.Logf("building the store in %s (cached for the next runs)", dir)
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
	// Build beside the cache and rename, so an interrupted build never
	// looks complete.
	tmp, err := os.MkdirTemp(os.TempDir(), "pes-bench-build-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	t0, cpu0 := time.Now(), cpuTime()
	m, err := buildFixture(context.Background(), filepath.Join(tmp, "pes.db"), n)
	if err != nil {
		b.Fatal(err)
	}
	m.Key = key
	m.BuildSeconds, m.BuildCPU = time.Since(t0).Seconds(), (cpuTime() - cpu0).Seconds()
	b.Logf("built %d events and %d changes in %.1fs (%.1fs of CPU: %.0f events+changes per CPU second)",
		m.Events, m.Changes, m.BuildSeconds, m.BuildCPU, float64(m.Events+m.Changes)/m.BuildCPU)
	if err := writeManifest(tmp, m); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		b.Fatal(err)
	}
	return dir, m
}

// removeStaleFixtures deletes the caches of other generator versions or
// schemas (a store of a million rows takes gigabytes); caches of other
// sizes with the same key otherwise stay.
func removeStaleFixtures(b *testing.B, key string) {
	current, _, _ := strings.Cut(key, "-n")
	old, _ := filepath.Glob(filepath.Join(os.TempDir(), fixturePrefix+"*"))
	for _, dir := range old {
		if strings.HasPrefix(filepath.Base(dir), fixturePrefix+current+"-n") {
			continue
		}
		b.Logf("removing a stale cache: %s", dir)
		if err := os.RemoveAll(dir); err != nil {
			b.Logf("remove %s: %v", dir, err)
		}
	}
}

// fixtureKey is the cache key: the generator's version, the schema (a
// hash of the migrations) and the size.
func fixtureKey(n int) (string, error) {
	h := sha256.New()
	ents, err := os.ReadDir(migrationsDir)
	if err != nil {
		return "", fmt.Errorf("schema version: %w", err)
	}
	for _, e := range ents {
		bs, err := os.ReadFile(filepath.Join(migrationsDir, e.Name()))
		if err != nil {
			return "", fmt.Errorf("schema version: %w", err)
		}
		fmt.Fprintf(h, "%s %d\n", e.Name(), len(bs))
		h.Write(bs)
	}
	return fmt.Sprintf("v%s-schema-%s-n%d", fixtureVersion, hex.EncodeToString(h.Sum(nil))[:12], n), nil
}

func readManifest(dir string) (fixtureManifest, error) {
	var m fixtureManifest
	bs, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(bs, &m); err != nil {
		return m, err
	}
	if _, err := os.Stat(filepath.Join(dir, "pes.db")); err != nil {
		return m, err
	}
	if len(m.SampleEvents) == 0 || len(m.SampleChanges) == 0 || len(m.ListGroups) == 0 {
		return m, errors.New("manifest without samples")
	}
	return m, nil
}

func writeManifest(dir string, m fixtureManifest) error {
	bs, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "manifest.json"), bs, 0o644)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// cpuTime is the CPU time this process has used: on a shared machine it
// says more about the cost of building than the wall clock does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ---- the generator

// fxTrigger is one of the seed's triggers.
type fxTrigger struct {
	name     string
	req      api.Request
	observed string
}

var fxTriggers = [...]fxTrigger{
	{"cpu-high", api.Request{ChangeBy: ptr(4)}, "avg cpu_utilization 87.3 > 80 over 10s"},
	{"net-high", api.Request{ChangeBy: ptr(2)}, "avg network_mbps 912 > 500 over 10s"},
	{"cpu-low", api.Request{ChangeBy: ptr(-2)}, "avg cpu_utilization 12.5 < 20 over 10s"},
}

// fxGroup is a group's state while its history is written.
type fxGroup struct {
	g       api.Group
	live    []string // ready nodes, oldest first
	period  api.Period
	changes int
	k       int // periods written
	trigIDs [len(fxTriggers)]string
	labels  store.Labels // stored by the last transaction of the build
}

// fxBuilder writes a store shaped like seed 000, one aggregation period
// of every group after another: per period, trigger firings (some
// suppressed by the cooldown), user instructions, missing data, lost
// nodes replaced at once (direct chains E → C → E → C) or deferred to the
// harmonization, user terminations, and the harmonization's changes
// attributed indirectly to the period's requests; each group starts with
// the seed's creation (8 nodes in three rows, one failed, its init
// failure and replacement).
type fxBuilder struct {
	ctx    context.Context
	tx     store.Tx
	r      *rand.Rand
	m      *fixtureManifest
	seen   [2]int // events, changes seen, for reservoir sampling
	rows   int
	groups []*fxGroup
}

func buildFixture(ctx context.Context, path string, n int) (fixtureManifest, error) {
	st, err := sqlite.Open(path)
	if err != nil {
		return fixtureManifest{}, err
	}
	m := fixtureManifest{Groups: fixtureGroups}
	fb := &fxBuilder{ctx: ctx, r: rand.New(rand.NewPCG(42, 42)), m: &m}
	// The history ends about now, so the deleted groups' history is
	// within pesd's retention.
	periods := n / (fixtureGroups * 2)
	start := time.Now().UTC().Truncate(time.Hour).Add(-time.Duration(periods+60) * time.Minute)

	err = st.Update(ctx, func(tx store.Tx) error {
		fb.tx = tx
		for i := range fixtureGroups {
			if err := fb.createGroup(i, start); err != nil {
				return err
			}
		}
		return nil
	})
	for k := 1; err == nil && (m.Events < n || m.Changes < n); {
		err = st.Update(ctx, func(tx store.Tx) error {
			fb.tx, fb.rows = tx, 0
			for ; fb.rows < fixtureTxRows && (m.Events < n || m.Changes < n); k++ {
				for _, g := range fb.groups {
					if err := fb.periodOf(g); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}
	if err == nil {
		err = st.Update(ctx, func(tx store.Tx) error {
			fb.tx = tx
			for i, g := range fb.groups {
				if err := fb.finish(g, i%10 == 9); err != nil {
					return err
				}
				if err := tx.SetLabels(g.g.ID, g.labels); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	// The groups with the most changes, for the page of 1000.
	byChanges := slices.Clone(fb.groups)
	slices.SortFunc(byChanges, func(a, b *fxGroup) int { return b.changes - a.changes })
	for _, g := range byChanges[:20] {
		m.ListGroups = append(m.ListGroups, g.g.ID)
	}
	return m, err
}

func newUUID() string { return uuid.Must(uuid.NewV7()).String() }

// sample keeps a uniform sample of ids (reservoir sampling).
func (fb *fxBuilder) sample(dst *[]string, seen *int, id string) {
	*seen++
	if len(*dst) < fixtureSamples {
		*dst = append(*dst, id)
	} else if j := fb.r.IntN(*seen); j < fixtureSamples {
		(*dst)[j] = id
	}
}

// event writes an event of group g in its current period.
func (fb *fxBuilder) event(g *fxGroup, e *api.Event) error {
	if err := fb.labelEvent(g, e); err != nil {
		return err
	}
	return fb.writeEvent(e)
}

// labelEvent takes the event's label when it happens; a request waiting
// for the harmonization is written then, with its nexus, so each row is
// written once (pesd writes it, then updates it).
func (fb *fxBuilder) labelEvent(g *fxGroup, e *api.Event) error {
	g.labels.E++
	label := fmt.Sprintf("E%d", g.labels.E)
	e.ID, e.Label, e.GroupID = newUUID(), label, g.g.ID
	e.PeriodID, e.PeriodLabel = g.period.ID, g.period.Label
	return nil
}

func (fb *fxBuilder) writeEvent(e *api.Event) error {
	e.Description = causality.DescribeEvent(*e)
	if err := fb.tx.InsertEvent(*e); err != nil {
		return err
	}
	fb.m.Events++
	fb.rows++
	fb.sample(&fb.m.SampleEvents, &fb.seen[0], e.ID)
	return nil
}

// change writes a change of group g; link has set its nexus.
func (fb *fxBuilder) change(g *fxGroup, c *api.Change) error {
	if c.NodeIDs == nil {
		c.NodeIDs = []string{}
	}
	c.Description = causality.DescribeChange(*c, nil)
	if err := fb.tx.InsertChange(*c); err != nil {
		return err
	}
	fb.m.Changes++
	fb.rows++
	g.changes++
	fb.sample(&fb.m.SampleChanges, &fb.seen[1], c.ID)
	return nil
}

// newChange labels a change of g in its current period.
func (fb *fxBuilder) newChange(g *fxGroup, c api.Change) (*api.Change, error) {
	g.labels.C++
	label := fmt.Sprintf("C%d", g.labels.C)
	c.ID, c.Label, c.GroupID = newUUID(), label, g.g.ID
	c.PeriodID, c.PeriodLabel = g.period.ID, g.period.Label
	if c.Status == "" {
		c.Status = api.ChangeCompleted
	}
	if c.EndedAt == nil && c.Status != api.ChangeInProgress {
		end := c.StartedAt.Add(2 * time.Second)
		c.EndedAt = &end
	}
	return &c, nil
}

// linkedEvent writes e with the nexus it is about to join.
func (fb *fxBuilder) linkedEvent(g *fxGroup, e *api.Event, nexusID string) error {
	e.NexusID = nexusID
	return fb.event(g, e)
}

func (fb *fxBuilder) openPeriod(g *fxGroup, at time.Time) error {
	g.labels.H++
	label := fmt.Sprintf("H%d", g.labels.H)
	g.period = api.Period{
		ID: newUUID(), Label: label, GroupID: g.g.ID, StartedAt: at, Policy: g.g.AggregationPolicy,
		DesiredBefore: g.g.DesiredQuantity, OfficialBefore: g.g.OfficialQuantity,
		Requests: []api.PeriodRequest{}, Suppressed: []api.PeriodSuppressed{}, Clamps: []api.Clamp{}, ChangeIDs: []string{},
	}
	// Written when it ends (or, still open, at the end of the build).
	fb.m.Periods++
	g.g.CurrentPeriodID, g.g.CurrentPeriodLabel = g.period.ID, g.period.Label
	return nil
}

func (fb *fxBuilder) nodes(g *fxGroup, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = newUUID()
	}
	g.live = append(g.live, ids...)
	return ids
}

// createGroup writes a group like the seed's and its creation: E1 asks
// for 8 nodes, which arrive as C1 (4), C2 (3) and C3 (1, failed); the
// init failure E2 removes it (C4) and asks for a replacement (E3, C5).
func (fb *fxBuilder) createGroup(i int, start time.Time) error {
	t := start.Add(time.Duration(i) * 300 * time.Millisecond)
	cfg := api.GroupConfig{
		Name: fmt.Sprintf("svc-%03d", i), Driver: api.DriverSim, Program: api.Program{Command: "sim-worker"},
		DesiredQuantity: 8, MinQuantity: 1, MaxQuantity: 20,
		AggregationPeriod: "60s", AggregationPolicy: api.PolicyLargest,
		Replacement: api.ReplacementAuto, ReplacementDeferWindow: "15s",
		InitDeadline: "10s", Cooldown: "30s", TerminationPolicy: api.TerminateNewest,
		Sim: &api.SimConfig{BootTime: "2s"},
	}
	g := &fxGroup{g: api.Group{ID: newUUID(), GroupConfig: cfg, OfficialQuantity: 8, Status: api.GroupActive,
		CreatedAt: t, UpdatedAt: t}, k: fb.r.IntN(8)}
	if err := fb.tx.InsertGroup(g.g); err != nil {
		return err
	}
	for j, tr := range fxTriggers {
		g.trigIDs[j] = newUUID()
		err := fb.tx.InsertTrigger(api.Trigger{ID: g.trigIDs[j], GroupID: g.g.ID, Name: tr.name,
			Condition: "avg(cpu_utilization, '10s') > 80", Request: tr.req, Priority: api.DefaultTriggerPriority,
			Enabled: false, CreatedAt: t, UpdatedAt: t})
		if err != nil {
			return err
		}
	}
	fb.groups = append(fb.groups, g)
	if err := fb.openPeriod(g, t); err != nil {
		return err
	}
	x := newUUID()
	e1 := api.Event{Type: api.EventGroupCreated, Source: api.Source{Kind: api.SourceUser, Name: "terraform"}, Time: t,
		Request: &api.Request{SetTo: ptr(8)}, Immediate: true, ProposedQuantity: ptr(8),
		Priority: api.DefaultInstructionPriority, Status: api.EventApplied}
	if err := fb.linkedEvent(g, &e1, x); err != nil {
		return err
	}
	var chs []*api.Change
	before := 0
	for _, part := range []struct {
		n      int
		status string
		boot   time.Duration
	}{{4, api.ChangeCompleted, 2 * time.Second}, {3, api.ChangeCompleted, 4 * time.Second}, {1, api.ChangeFailed, 10 * time.Second}} {
		end := t.Add(part.boot)
		ids := fb.nodes(g, part.n)
		after := before + part.n
		if part.status == api.ChangeFailed {
			after = before
			g.live = g.live[:len(g.live)-part.n]
		}
		c, err := fb.newChange(g, api.Change{Type: api.ChangeAddNodes, Amount: part.n, QuantityBefore: before, QuantityAfter: after,
			Status: part.status, StartedAt: t, EndedAt: &end, NodeIDs: ids})
		if err != nil {
			return err
		}
		chs = append(chs, c)
		before = after
	}
	if err := fb.writeLinked(g, api.AttributionDirect, "", t, x, []*api.Event{&e1}, chs); err != nil {
		return err
	}
	failed := chs[2].NodeIDs[0]
	return fb.fault(g, t.Add(10*time.Second), api.EventNodeInitFailed, api.ChangeRemoveNodes, failed,
		"not ready within init_deadline 10s", true)
}

// writeLinked writes a nexus whose events are already written with its id.
func (fb *fxBuilder) writeLinked(g *fxGroup, attribution, periodID string, at time.Time, x string, evs []*api.Event, chs []*api.Change) error {
	nx := api.Nexus{ID: x, GroupID: g.g.ID, Attribution: attribution, PeriodID: periodID, CreatedAt: at}
	for _, e := range evs {
		nx.EventIDs = append(nx.EventIDs, e.ID)
	}
	for _, c := range chs {
		nx.ChangeIDs = append(nx.ChangeIDs, c.ID)
		c.NexusID, c.Attribution = x, attribution
		if err := fb.change(g, c); err != nil {
			return err
		}
	}
	if err := fb.tx.InsertNexus(nx); err != nil {
		return err
	}
	fb.m.Nexus++
	fb.rows++
	return nil
}

// fault records a lost or failed node: the event, the change removing it
// (direct), and the replacement it requests, at once (direct) or deferred
// to the harmonization (returned, to be aggregated).
func (fb *fxBuilder) fault(g *fxGroup, at time.Time, eventType, changeType, node, reason string, now bool) error {
	_, err := fb.faultDeferred(g, at, eventType, changeType, node, reason, now)
	return err
}

func (fb *fxBuilder) faultDeferred(g *fxGroup, at time.Time, eventType, changeType, node, reason string, now bool) (*api.Event, error) {
	src := api.Source{Kind: api.SourceSystem, Name: "monitor"}
	if eventType == api.EventNodeTerminatedUser {
		src = api.Source{Kind: api.SourceUser, Name: "alice"}
	}
	x := newUUID()
	e := api.Event{Type: eventType, Source: src, Time: at, NodeID: node, Reason: reason, Status: api.EventApplied}
	if err := fb.linkedEvent(g, &e, x); err != nil {
		return nil, err
	}
	before := len(g.live)
	after := before
	if i := slices.Index(g.live, node); i >= 0 {
		g.live = slices.Delete(g.live, i, i+1)
		after = len(g.live)
	}
	lost, err := fb.newChange(g, api.Change{Type: changeType, Amount: 1, QuantityBefore: before, QuantityAfter: after,
		StartedAt: at, NodeIDs: []string{node}})
	if err != nil {
		return nil, err
	}
	if err := fb.writeLinked(g, api.AttributionDirect, "", at, x, []*api.Event{&e}, []*api.Change{lost}); err != nil {
		return nil, err
	}
	repl := api.Event{Type: api.EventReplacementRequest, Source: api.Source{Kind: api.SourceSystem, Name: "monitor"},
		Time: at, NodeID: node, ParentChangeID: lost.ID}
	if !now {
		repl.Status = api.EventAggregated
		repl.Reason = fmt.Sprintf("replacement deferred to the harmonization of %s, within replacement_defer_window 15s", g.period.Label)
		return &repl, fb.labelEvent(g, &repl)
	}
	repl.Status = api.EventApplied
	x = newUUID()
	if err := fb.linkedEvent(g, &repl, x); err != nil {
		return nil, err
	}
	end := at.Add(2 * time.Second)
	add, err := fb.newChange(g, api.Change{Type: api.ChangeAddNodes, Amount: 1, QuantityBefore: len(g.live),
		QuantityAfter: len(g.live) + 1, StartedAt: at, EndedAt: &end, NodeIDs: fb.nodes(g, 1)})
	if err != nil {
		return nil, err
	}
	return nil, fb.writeLinked(g, api.AttributionDirect, "", at, x, []*api.Event{&repl}, []*api.Change{add})
}

// periodOf writes one aggregation period of g and its harmonization.
func (fb *fxBuilder) periodOf(g *fxGroup) error {
	r := fb.r
	t0 := g.period.StartedAt
	at := func(from, to int) time.Time {
		return t0.Add(time.Duration(from)*time.Second + time.Duration(r.Int64N(int64(time.Duration(to-from)*time.Second))))
	}
	var reqs, suppressed []api.Event
	desired := g.g.DesiredQuantity

	// Load rises for four periods (cpu-high, net-high), then falls for
	// four (cpu-low), as in the seed's timeline graph.
	g.k++
	rising := (g.k/4)%2 == 0
	firings := 1
	switch p := r.IntN(100); {
	case p < 15:
		firings = 0
	case p < 30:
		firings = 2
	}
	for range firings {
		j := 2 // cpu-low
		if rising {
			j = min(r.IntN(10)/7, 1) // cpu-high 70%, net-high 30%
		}
		tr := fxTriggers[j]
		req := tr.req
		e := api.Event{Type: api.EventTriggerFired, Source: api.Source{Kind: api.SourceTrigger, ID: g.trigIDs[j], Name: tr.name},
			Time: at(5, 40), Request: &req, ProposedQuantity: ptr(engine.Propose(desired, req)),
			Priority: api.DefaultTriggerPriority, Observed: tr.observed, Status: api.EventAggregated}
		if r.IntN(100) >= 15 {
			if err := fb.labelEvent(g, &e); err != nil {
				return err
			}
			reqs = append(reqs, e)
			continue
		}
		e.Status = api.EventSuppressed
		e.Reason = fmt.Sprintf("cooldown: 30s after the last scale-out ended at %s", t0.Add(-20*time.Second).Format("15:04:05"))
		if err := fb.event(g, &e); err != nil {
			return err
		}
		suppressed = append(suppressed, e)
	}
	if r.IntN(100) < 15 {
		req := api.Request{ChangeBy: ptr(r.IntN(7) - 3)}
		if r.IntN(3) == 0 {
			req = api.Request{SetTo: ptr(4 + r.IntN(10))}
		}
		e := api.Event{Type: api.EventUserInstruction, Source: api.Source{Kind: api.SourceUser, Name: "alice"},
			Time: at(0, 55), Request: &req, ProposedQuantity: ptr(engine.Propose(desired, req)),
			Priority: api.DefaultInstructionPriority, Status: api.EventAggregated, Reason: "load test"}
		if err := fb.labelEvent(g, &e); err != nil {
			return err
		}
		reqs = append(reqs, e)
	}
	if r.IntN(100) < 5 {
		e := api.Event{Type: api.EventMetricsMissing, Source: api.Source{Kind: api.SourceTrigger, ID: g.trigIDs[1], Name: "net-high"},
			Time: at(0, 10), Priority: api.DefaultTriggerPriority, Status: api.EventIgnored,
			Reason: "no samples of network_mbps in the condition's window: the condition is not satisfied"}
		if err := fb.event(g, &e); err != nil {
			return err
		}
		suppressed = append(suppressed, e)
	}
	if len(g.live) > 1 && r.IntN(100) < 40 { // a node lost; deferred near the harmonization
		node := g.live[r.IntN(len(g.live))]
		sec := 10 + r.IntN(48)
		repl, err := fb.faultDeferred(g, at(sec, sec+1), api.EventNodeUnavailable, api.ChangeNodeLost, node,
			"health check failed 3 times", sec < 45)
		if err != nil {
			return err
		}
		if repl != nil {
			reqs = append(reqs, *repl)
		}
	}
	if len(g.live) > 1 && r.IntN(100) < 5 {
		if err := fb.fault(g, at(20, 30), api.EventNodeTerminatedUser, api.ChangeRemoveNodes, g.live[0],
			"terminated by the user", true); err != nil {
			return err
		}
	}
	return fb.harmonize(g, reqs, suppressed, t0.Add(60*time.Second))
}

// harmonize closes g's period as pesd does: the engine decides, the
// changes are attributed indirectly to the requests, the next period
// opens.
func (fb *fxBuilder) harmonize(g *fxGroup, reqs, suppressed []api.Event, at time.Time) error {
	slices.SortStableFunc(reqs, func(a, b api.Event) int { return a.Time.Compare(b.Time) })
	nodes := make([]api.Node, len(g.live))
	for i, id := range g.live {
		nodes[i] = api.Node{ID: id, GroupID: g.g.ID, Index: i, State: api.NodeReady, LaunchedAt: at.Add(-time.Hour)}
	}
	d := engine.Harmonize(engine.HarmonizeInput{
		Config: api.Config{GroupConfig: g.g.GroupConfig}, Now: at, DesiredBefore: g.g.DesiredQuantity, OfficialBefore: g.g.OfficialQuantity,
		Nodes: nodes, Requests: reqs, Suppressed: suppressed, PeriodLabel: g.period.Label,
	})
	causality.WriteRecord(&d, nil)
	var chs []*api.Change
	if len(d.Terminate) > 0 {
		before := len(g.live)
		for _, id := range d.Terminate {
			g.live = slices.DeleteFunc(g.live, func(x string) bool { return x == id })
		}
		c, err := fb.newChange(g, api.Change{Type: api.ChangeRemoveNodes, Amount: len(d.Terminate),
			QuantityBefore: before, QuantityAfter: len(g.live), StartedAt: at, NodeIDs: d.Terminate})
		if err != nil {
			return err
		}
		chs = append(chs, c)
	}
	if d.Launch > 0 {
		// As in the seed, nodes of one launch often become ready at
		// different times: one row per batch that arrived.
		parts := []int{d.Launch}
		if d.Launch > 1 && fb.r.IntN(100) < 40 {
			k := 1 + fb.r.IntN(d.Launch-1)
			parts = []int{k, d.Launch - k}
		}
		for i, n := range parts {
			end := at.Add(time.Duration(2+2*i) * time.Second)
			c, err := fb.newChange(g, api.Change{Type: api.ChangeAddNodes, Amount: n, QuantityBefore: len(g.live),
				QuantityAfter: len(g.live) + n, StartedAt: at, EndedAt: &end, NodeIDs: fb.nodes(g, n)})
			if err != nil {
				return err
			}
			chs = append(chs, c)
		}
	}
	p := d.Period
	p.ID, p.Label, p.GroupID, p.StartedAt = g.period.ID, g.period.Label, g.g.ID, g.period.StartedAt
	p.EndedAt, p.Harmonized = &at, true
	recorded := make([]api.Change, 0, len(chs))
	if len(chs) > 0 {
		byID := make(map[string]*api.Event, len(reqs))
		for i := range reqs {
			byID[reqs[i].ID] = &reqs[i]
		}
		var causes []*api.Event
		for _, id := range d.CauseEventIDs {
			if e, ok := byID[id]; ok {
				causes = append(causes, e)
			}
		}
		if len(causes) == 0 {
			return fmt.Errorf("group %s %s: changes without a request", g.g.Name, p.Label)
		}
		x := newUUID()
		for _, e := range causes {
			e.NexusID = x
		}
		if err := fb.writeLinked(g, api.AttributionIndirect, p.ID, at, x, causes, chs); err != nil {
			return err
		}
		for _, c := range chs {
			p.ChangeIDs = append(p.ChangeIDs, c.ID)
			recorded = append(recorded, *c)
		}
	}
	for i := range reqs {
		if err := fb.writeEvent(&reqs[i]); err != nil {
			return err
		}
	}
	p.Summary = causality.Summary(p, reqs, recorded)
	if err := fb.tx.InsertPeriod(p); err != nil {
		return err
	}
	g.g.DesiredQuantity, g.g.OfficialQuantity = p.DesiredAfter, p.OfficialAfter
	return fb.openPeriod(g, at)
}

// finish leaves g as pesd would after it: active with its ready nodes
// and an open period, or deleted (its nodes removed by the deletion).
func (fb *fxBuilder) finish(g *fxGroup, deleted bool) error {
	at := g.period.StartedAt.Add(time.Second)
	g.g.ActualQuantity = len(g.live)
	g.g.UpdatedAt = at
	if !deleted {
		// Never due: a pesd started on the fixture must not harmonize the
		// open periods while the checks and benchmarks read them (the
		// fixture lies in the past, and a cached one grows older).
		next := g.period.StartedAt.AddDate(100, 0, 0)
		g.g.NextHarmonizationAt = &next
		if err := fb.tx.InsertPeriod(g.period); err != nil {
			return err
		}
		for i, id := range g.live {
			n := api.Node{ID: id, GroupID: g.g.ID, Index: i, State: api.NodeReady, LaunchedAt: at.Add(-time.Hour)}
			n.ReadyAt = &n.LaunchedAt
			if err := fb.tx.UpsertNode(n); err != nil {
				return err
			}
		}
		return fb.tx.UpdateGroup(g.g)
	}
	x := newUUID()
	e := api.Event{Type: api.EventGroupDeleted, Source: api.Source{Kind: api.SourceUser, Name: "terraform"}, Time: at, Status: api.EventApplied}
	if err := fb.linkedEvent(g, &e, x); err != nil {
		return err
	}
	c, err := fb.newChange(g, api.Change{Type: api.ChangeRemoveNodes, Amount: len(g.live), QuantityBefore: len(g.live),
		StartedAt: at, NodeIDs: slices.Clone(g.live)})
	if err != nil {
		return err
	}
	if err := fb.writeLinked(g, api.AttributionDirect, "", at, x, []*api.Event{&e}, []*api.Change{c}); err != nil {
		return err
	}
	p := g.period
	p.EndedAt = &at
	p.Summary = causality.DeletedPeriodSummary(p.Label)
	if err := fb.tx.InsertPeriod(p); err != nil {
		return err
	}
	g.g.Status, g.g.DeletedAt, g.g.ActualQuantity, g.g.NextHarmonizationAt = api.GroupDeleted, &at, 0, nil
	g.live = nil
	return fb.tx.UpdateGroup(g.g)
}
