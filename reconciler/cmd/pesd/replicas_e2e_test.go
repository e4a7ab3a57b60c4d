//go:build linux

package main

// Several pesd replicas on one PostgreSQL: real processes on a
// test-started server, sim groups with triggers fed by pushed metrics,
// replicas killed with SIGKILL and paused with SIGSTOP, and the record
// checked in the database afterwards.

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/postgres/pgtest"
)

// replicaTTL is the lease TTL of the tests' replicas: short, so a run of
// kills fits in a test.
const replicaTTL = 4 * time.Second

// cluster is n pesd replicas on one database.
type cluster struct {
	t     testing.TB
	dsn   string
	token string
	flags []string

	mu    sync.Mutex
	procs []*pesdProc // by slot; a restart replaces the slot's process
}

func startCluster(t testing.TB, n int, flags ...string) *cluster {
	t.Helper()
	srv := pgtest.Start(t)
	c := &cluster{t: t, dsn: srv.NewDatabase(t), token: "replicas-token",
		flags: append([]string{"--store", "postgres", "--lease-ttl", replicaTTL.String()}, flags...)}
	c.procs = make([]*pesdProc, n)
	for i := range n {
		c.start(i)
	}
	return c
}

// start (re)starts the replica in slot i, on a data dir of its own.
func (c *cluster) start(i int) {
	c.t.Helper()
	p := startDaemon(c.t, c.t.TempDir(), c.token, append(slices.Clone(c.flags), "--dsn", c.dsn)...)
	c.mu.Lock()
	c.procs[i] = p
	c.mu.Unlock()
}

func (c *cluster) proc(i int) *pesdProc {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.procs[i]
}

// id is the replica id of slot i: its address, as pesd defaults it.
func (c *cluster) id(i int) string { return strings.TrimPrefix(c.proc(i).url, "http://") }

// alive is a client of a replica that has not been killed.
func (c *cluster) alive(t testing.TB) *client.Client {
	for i := range c.procs {
		p := c.proc(i)
		select {
		case <-p.exited:
		default:
			return p.client(t)
		}
	}
	t.Fatal("no replica alive")
	return nil
}

// roundRobin is a client whose requests go to the replicas in turn, each
// to the next (a replica killed meanwhile fails the request, which the
// client retries on the next).
func (c *cluster) roundRobin(t testing.TB) *client.Client {
	var n atomic.Uint64
	rt := roundTripper(func(r *http.Request) (*http.Response, error) {
		p := c.proc(int(n.Add(1) % uint64(len(c.procs))))
		u, _ := url.Parse(p.url)
		r = r.Clone(r.Context())
		r.URL.Host, r.Host = u.Host, u.Host
		return http.DefaultTransport.RoundTrip(r)
	})
	cl, err := client.New(c.proc(0).url, c.token, client.WithHTTPClient(&http.Client{Transport: rt}),
		client.WithRetryMax(6), client.WithRetryWait(50*time.Millisecond, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// waitOwned waits until every shard has a live owner other than gone
// (replica ids no longer running), and returns how long it took.
func (c *cluster) waitOwned(t testing.TB, ctx context.Context, timeout time.Duration, gone ...string) time.Duration {
	t.Helper()
	start := time.Now()
	cl := c.alive(t)
	eventually(t, timeout, "every shard owned by a live replica", func() (bool, string) {
		l, err := cl.Replicas(ctx)
		if err != nil {
			return false, err.Error()
		}
		if len(l.Unowned) > 0 {
			return false, fmt.Sprintf("unowned shards %v", l.Unowned)
		}
		for _, r := range l.Replicas {
			if slices.Contains(gone, r.ID) && len(r.Leases) > 0 {
				return false, fmt.Sprintf("replica %s, gone, still holds %d leases", r.ID, len(r.Leases))
			}
		}
		return true, ""
	})
	return time.Since(start)
}

// waitBalanced waits until n live replicas share the shards evenly, as
// they do once a start's rebalancing is over.
func (c *cluster) waitBalanced(t testing.TB, ctx context.Context, n int) {
	t.Helper()
	cl := c.alive(t)
	eventually(t, time.Minute, "shards spread evenly", func() (bool, string) {
		l, err := cl.Replicas(ctx)
		if err != nil {
			return false, err.Error()
		}
		return balanced(l, n)
	})
}

// balanced reports whether n live replicas share the shards as the
// keepers aim to: each at most its share, ceil(shards/n), so the last at
// least what the others leave.
func balanced(l api.ReplicaList, n int) (bool, string) {
	var held []int
	for _, r := range l.Replicas {
		if r.Live {
			shared := slices.DeleteFunc(slices.Clone(r.Leases), func(l api.Lease) bool { return l.Shard < 0 })
			held = append(held, len(shared))
		}
	}
	share := (l.Shards + n - 1) / n
	return len(held) == n && len(l.Unowned) == 0 && slices.Min(held) >= l.Shards-(n-1)*share,
		fmt.Sprintf("leases per replica %v", held)
}

// replicaGroup is a sim group of the replica tests: short periods, so
// many are harmonized during a run.
func replicaGroup(name string) api.GroupConfig {
	cfg := simGroup(name, 1)
	cfg.AggregationPeriod = "2s"
	cfg.Sim.BootTime = "100ms"
	return cfg
}

// TestE2EReplicasFailover: three replicas share 200 sim groups with
// triggers and pushed metrics. A replica killed with SIGKILL has its
// groups owned again within TTL + 5 s; over ten random kills and restarts
// every acknowledged write stays, no period is harmonized twice, no node
// is launched twice, and labels stay gapless.
func TestE2EReplicasFailover(t *testing.T) {
	needE2E(t)
	cl := startCluster(t, 3, "--evaluation-interval", "500ms", "--observe-interval", "500ms")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	api0 := cl.roundRobin(t)
	cl.waitOwned(t, ctx, 30*time.Second)

	const groups = 200
	acked := newAcks()
	ids := make([]string, groups)
	for i := range groups {
		g, err := api0.CreateGroup(ctx, replicaGroup(fmt.Sprintf("rep-%03d", i)))
		if err != nil {
			t.Fatalf("create group %d: %v", i, err)
		}
		ids[i] = g.ID
		acked.add("group", g.ID)
		tr, err := api0.CreateTrigger(ctx, g.ID, api.TriggerSpec{Name: ptr("load-high"),
			Condition: ptr("last(load) > 50"), Request: api.Request{ChangeBy: ptr(1)}})
		if err != nil {
			t.Fatalf("create trigger of group %d: %v", i, err)
		}
		acked.add("trigger", tr.ID)
	}
	// Every group shows its owner, one of the three. The replicas may
	// still be handing shards over as they rebalance after their starts
	// (a shard released is unowned until another takes it), so this holds
	// once that is over.
	eventually(t, time.Minute, "every group owned, by each of the three replicas some", func() (bool, string) {
		all, err := api0.ListAllGroups(ctx, client.GroupFilter{})
		if err != nil {
			return false, err.Error()
		}
		owners := map[string]int{}
		for _, g := range all {
			owners[g.Owner]++
		}
		for i := range 3 {
			if owners[cl.id(i)] == 0 || owners[""] > 0 {
				return false, fmt.Sprintf("owners of the %d groups %v", groups, owners)
			}
		}
		return true, ""
	})

	// Load: metrics pushed and instructions given, round-robin, while
	// replicas die. An instruction answered 2xx is acknowledged.
	load, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for load.Err() == nil {
				id := ids[rng.IntN(groups)]
				if rng.IntN(4) == 0 {
					e, err := api0.Instruct(load, id, api.Instruction{Request: api.Request{SetTo: ptr(1 + rng.IntN(3))}, Reason: "load"})
					if err == nil {
						acked.add("event", e.ID)
					}
					continue
				}
				_, _ = api0.PushMetrics(load, id, []api.Sample{{Name: "load", Value: float64(rng.IntN(100))}})
			}
		})
	}

	// One kill -9: the victim's groups have new owners within TTL + 5 s.
	victim := cl.id(1)
	killed := time.Now()
	cl.proc(1).kill9()
	cl.waitOwned(t, ctx, replicaTTL+5*time.Second, victim)
	survivor := cl.alive(t)
	eventually(t, replicaTTL+5*time.Second-time.Since(killed), "every group owned by a live replica", func() (bool, string) {
		gs, err := survivor.ListAllGroups(ctx, client.GroupFilter{})
		if err != nil {
			return false, err.Error()
		}
		for _, g := range gs {
			if g.Owner == "" || g.Owner == victim {
				return false, fmt.Sprintf("group %s owned by %q", g.Name, g.Owner)
			}
		}
		return true, ""
	})
	t.Logf("kill -9 of %s: every group owned by a live replica %s after the kill (TTL %s)", victim,
		time.Since(killed).Round(time.Millisecond), replicaTTL)
	cl.start(1)

	// Ten random kills and restarts.
	rng := rand.New(rand.NewPCG(1, 2))
	for k := range 10 {
		i := rng.IntN(3)
		gone := cl.id(i)
		if rng.IntN(2) == 0 {
			cl.proc(i).kill9()
		} else {
			_ = cl.proc(i).cmd.Process.Signal(syscall.SIGTERM)
			<-cl.proc(i).exited
		}
		time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond)
		cl.start(i)
		took := cl.waitOwned(t, ctx, replicaTTL+10*time.Second, gone)
		t.Logf("round %d: replica %s replaced; every shard owned after %s", k+1, gone, took.Round(time.Millisecond))
	}
	stopLoad()
	wg.Wait()
	cl.waitOwned(t, ctx, replicaTTL+10*time.Second)
	// Let the last pushes and instructions be harmonized.
	time.Sleep(3 * time.Second)

	if acked.count("event") == 0 {
		t.Fatal("no instruction was acknowledged during the run")
	}
	checkAcked(t, ctx, cl.alive(t), acked)
	db, err := sql.Open("pgx", cl.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkRecord(t, ctx, db)
	moved := 0
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE type = $1`, api.EventOwnershipMoved).Scan(&moved); err != nil {
		t.Fatal(err)
	}
	if moved == 0 {
		t.Error("no ownership_moved event was recorded over the kills")
	}
	var capacity int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE type = $1 AND nexus_id <> ''`, api.EventOwnershipMoved).Scan(&capacity); err != nil {
		t.Fatal(err)
	}
	if capacity != 0 {
		t.Errorf("%d ownership_moved events caused a capacity change", capacity)
	}
}

// acks are the writes the API acknowledged, by kind.
type acks struct {
	mu  sync.Mutex
	ids map[string][]string
}

func newAcks() *acks { return &acks{ids: map[string][]string{}} }

func (a *acks) add(kind, id string) {
	a.mu.Lock()
	a.ids[kind] = append(a.ids[kind], id)
	a.mu.Unlock()
}

func (a *acks) count(kind string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.ids[kind])
}

// checkAcked reads every acknowledged write back through the API.
func checkAcked(t *testing.T, ctx context.Context, c *client.Client, a *acks) {
	t.Helper()
	for kind, ids := range a.ids {
		for _, id := range ids {
			var err error
			switch kind {
			case "group":
				_, err = c.GetGroup(ctx, id)
			case "trigger":
				_, err = c.GetTrigger(ctx, id)
			case "event":
				_, err = c.GetEvent(ctx, id)
			}
			if err != nil {
				t.Errorf("acknowledged %s %s: %v", kind, id, err)
			}
		}
	}
	t.Logf("acknowledged writes read back: %d groups, %d triggers, %d instructions",
		len(a.ids["group"]), len(a.ids["trigger"]), len(a.ids["event"]))
}

// checkRecord checks the whole record in the database: no period
// harmonized twice (periods of a group never overlap and each is ended
// once), no node launched twice for a change, labels gapless per group.
func checkRecord(t *testing.T, ctx context.Context, db *sql.DB) {
	t.Helper()
	queries := []struct{ what, q string }{
		{"groups whose event labels have gaps", `SELECT group_id FROM events GROUP BY group_id
			HAVING count(*) <> max(substr(label, 2)::int) OR count(DISTINCT label) <> count(*)`},
		{"groups whose change labels have gaps", `SELECT group_id FROM changes GROUP BY group_id
			HAVING count(*) <> max(substr(label, 2)::int) OR count(DISTINCT label) <> count(*)`},
		{"groups whose period labels have gaps", `SELECT group_id FROM periods GROUP BY group_id
			HAVING count(*) <> max(substr(label, 2)::int) OR count(DISTINCT label) <> count(*)`},
		// Two harmonizations of one span of time: periods that overlap.
		{"periods harmonized twice (overlapping periods of one group)", `SELECT a.group_id || ' ' || a.label || '/' || b.label
			FROM periods a JOIN periods b ON a.group_id = b.group_id AND a.id < b.id
			WHERE a.ended_at IS NOT NULL AND b.ended_at IS NOT NULL
			  AND a.started_at < b.ended_at AND b.started_at < a.ended_at`},
		{"groups with more than one open period", `SELECT group_id FROM periods WHERE ended_at IS NULL
			GROUP BY group_id HAVING count(*) > 1`},
		// Every launched node belongs to one change, and a change launches
		// no more nodes than it adds.
		{"add_nodes changes with more nodes than their amount", `SELECT c.label || ' of ' || c.group_id FROM changes c
			JOIN nodes n ON n.change_id = c.id AND n.group_id = c.group_id
			WHERE c.type = 'add_nodes' GROUP BY c.id, c.label, c.group_id, c.amount HAVING count(*) > abs(c.amount)`},
	}
	for _, q := range queries {
		rows, err := db.QueryContext(ctx, q.q)
		if err != nil {
			t.Fatalf("%s: %v", q.what, err)
		}
		var bad []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			bad = append(bad, s)
		}
		rows.Close()
		if len(bad) > 0 {
			t.Errorf("%s: %d, e.g. %v", q.what, len(bad), bad[:min(5, len(bad))])
		}
	}
	var periods, harmonized int
	if err := db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE harmonized) FROM periods`).Scan(&periods, &harmonized); err != nil {
		t.Fatal(err)
	}
	t.Logf("record: %d periods, %d harmonized", periods, harmonized)
	if harmonized == 0 {
		t.Error("no period was harmonized during the run")
	}
}

// TestE2EReplicasFencing: the owner of a group is paused (SIGSTOP) past
// its lease, another replica takes the group over, and the paused one is
// woken (SIGCONT) with writes waiting for it. Its stale writes are
// refused by the store and logged, and the record holds no double
// action.
func TestE2EReplicasFencing(t *testing.T) {
	needE2E(t)
	cl := startCluster(t, 3, "--evaluation-interval", "500ms", "--observe-interval", "200ms")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	api0 := cl.roundRobin(t)
	cl.waitBalanced(t, ctx, 3)
	var ids []string
	for i := range 30 {
		g, err := api0.CreateGroup(ctx, replicaGroup(fmt.Sprintf("fence-%02d", i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, g.ID)
	}
	g, err := api0.GetGroup(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	slot := slices.IndexFunc([]int{0, 1, 2}, func(i int) bool { return cl.id(i) == g.Owner })
	if slot < 0 {
		t.Fatalf("group %s's owner %q is none of the replicas", g.ID, g.Owner)
	}
	paused := cl.proc(slot)
	mine := []string{}
	for _, id := range ids {
		if g, err := api0.GetGroup(ctx, id); err == nil && g.Owner == cl.id(slot) {
			mine = append(mine, id)
		}
	}
	if err := paused.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := true
	defer func() {
		if stopped {
			_ = paused.cmd.Process.Signal(syscall.SIGCONT)
		}
	}()
	// Another replica takes the group over and harmonizes it.
	var others *client.Client
	for i := range 3 {
		if i != slot {
			others = cl.proc(i).client(t)
			break
		}
	}
	eventually(t, replicaTTL+10*time.Second, "the paused replica's group owned by another", func() (bool, string) {
		g, err := others.GetGroup(ctx, ids[0])
		if err != nil {
			return false, err.Error()
		}
		return g.Owner != "" && g.Owner != cl.id(slot), "owner " + g.Owner
	})
	evs, err := others.ListAllEvents(ctx, ids[0], client.EventFilter{Type: api.EventOwnershipMoved})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(evs, func(e api.Event) bool { return strings.Contains(e.Reason, cl.id(slot)+"'s lease expired") }) {
		t.Fatalf("ownership_moved events of group %s: %+v, want one saying %s's lease expired", ids[0], evs, cl.id(slot))
	}
	if _, err := others.Harmonize(ctx, ids[0]); err != nil {
		t.Fatalf("harmonize through the new owner: %v", err)
	}

	// Writes wait in the paused replica's listen queue, sent to it as if
	// forwarded (so it acts on them itself): when it wakes, they race its
	// keeper's renewal, and its loop's pass is due at once too.
	var (
		answered sync.WaitGroup
		statusMu sync.Mutex
		statuses = map[int]int{}
	)
	for _, id := range mine {
		answered.Go(func() {
			r, err := http.NewRequestWithContext(ctx, http.MethodPost, paused.url+"/v1/groups/"+id+"/harmonize", nil)
			if err != nil {
				return
			}
			r.Header.Set("Authorization", "Bearer "+cl.token)
			r.Header.Set("X-Pes-Forwarded-By", "test")
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				return
			}
			resp.Body.Close()
			statusMu.Lock()
			statuses[resp.StatusCode]++
			statusMu.Unlock()
		})
	}
	time.Sleep(300 * time.Millisecond)
	if err := paused.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	stopped = false
	answered.Wait()
	// Every write waiting for the woken replica is refused: by the store,
	// for its stale token, if it reached the database first; or before
	// it, once the replica's renewal, which carries the same tokens, was
	// refused and it dropped the groups. Either is logged.
	if statuses[http.StatusServiceUnavailable] != len(mine) {
		t.Errorf("the %d harmonizations sent to the woken replica were answered %v, want 503 (not applied) for all", len(mine), statuses)
	}
	const fenced, renewal = "write refused: stale fencing token", "leases lost: another replica holds these shards now"
	eventually(t, 10*time.Second, "the woken replica logs its refused writes", func() (bool, string) {
		b, _ := os.ReadFile(paused.logPath)
		return strings.Contains(string(b), fenced) || strings.Contains(string(b), renewal), "no refusal logged yet"
	})
	b, _ := os.ReadFile(paused.logPath)
	t.Logf("the woken replica: %d writes refused for a stale token, %d renewals refused; answers %v; e.g. %s",
		strings.Count(string(b), fenced), strings.Count(string(b), renewal), statuses,
		cmp.Or(firstLine(string(b), fenced), firstLine(string(b), renewal)))
	cl.waitOwned(t, ctx, replicaTTL+10*time.Second)
	time.Sleep(time.Second)
	db, err := sql.Open("pgx", cl.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkRecord(t, ctx, db)
}

// firstLine is the first line of s containing sub.
func firstLine(s, sub string) string {
	for l := range strings.Lines(s) {
		if strings.Contains(l, sub) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// TestE2EReplicasScenarios: every scenario of the suite, against three
// replicas on one PostgreSQL reached round-robin, so each request of a
// scenario lands on the next replica: reads from the database, writes
// forwarded to the group's owner.
func TestE2EReplicasScenarios(t *testing.T) {
	needE2E(t)
	cl := startCluster(t, 3, fastTriggers...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Once the start's rebalancing is over, as clients meet a cluster.
	cl.waitBalanced(t, ctx, 3)
	c := cl.roundRobin(t)
	for name, run := range map[string]func(*testing.T, *client.Client){
		"Aggregation":        scenarioAggregation,
		"CausalityAgrees":    scenarioCausalityAgrees,
		"DeleteKeepsHistory": scenarioDeleteKeepsHistory,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			run(t, c)
		})
	}
	t.Cleanup(func() {
		// Cleanups run after the parallel subtests: count the writes
		// that reached a replica not owning their group.
		forwarded := 0
		for i := range cl.procs {
			b, _ := os.ReadFile(cl.proc(i).logPath)
			forwarded += strings.Count(string(b), "forwarded to the group's owner")
		}
		t.Logf("%d requests forwarded to their group's owner", forwarded)
		if forwarded == 0 {
			t.Error("no request was forwarded: the round-robin client never reached a replica not owning the group")
		}
	})
}

// TestE2EReplicasLocalPinned: a local group's nodes are processes of its
// replica's host, so the group is pinned to the replica that created it.
// Another replica forwards writes to it, does not take the group over
// when it dies (the nodes could not move), and the replica restarted with
// the same --replica-id and data dir adopts its nodes again.
func TestE2EReplicasLocalPinned(t *testing.T) {
	needE2E(t)
	cl := startCluster(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Slot 0 again, with an id and a data dir it keeps over a restart.
	dir := t.TempDir()
	pinnedFlags := append(slices.Clone(cl.flags), "--dsn", cl.dsn, "--replica-id", "host-a")
	old := cl.id(0)
	cl.proc(0).kill9()
	cl.procs[0] = startDaemon(t, dir, cl.token, pinnedFlags...)
	cl.waitOwned(t, ctx, 30*time.Second, old)
	a, b := cl.proc(0).client(t), cl.proc(1).client(t)

	g, err := a.CreateGroup(ctx, api.GroupConfig{Name: "pinned", Driver: api.DriverLocal,
		Program: api.Program{Command: "sleep", Args: []string{"300"}}, DesiredQuantity: 1, MaxQuantity: 2})
	if err != nil {
		t.Fatal(err)
	}
	if g.Owner != "host-a" {
		t.Errorf("local group created on host-a: owner %q", g.Owner)
	}
	waitActual(t, ctx, b, g.ID, 1, 20*time.Second)
	nodes, err := b.ListNodes(ctx, g.ID, client.NodeFilter{})
	if err != nil || len(nodes) != 1 {
		t.Fatalf("nodes of the local group: %v, %v", nodes, err)
	}
	// Through the other replica: forwarded to host-a.
	if _, err := b.Instruct(ctx, g.ID, api.Instruction{Request: api.Request{SetTo: ptr(1)}, Reason: "through b"}); err != nil {
		t.Fatalf("instruction through the other replica: %v", err)
	}

	cl.proc(0).kill9()
	time.Sleep(replicaTTL + 3*time.Second)
	evs, err := b.ListAllEvents(ctx, g.ID, client.EventFilter{Type: api.EventOwnershipMoved})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 0 {
		t.Errorf("the pinned group was taken over: %+v", evs)
	}
	if l, err := b.Replicas(ctx); err != nil || len(l.Unowned) != 0 {
		t.Errorf("the shared shards after host-a died: unowned %v, %v", l.Unowned, err)
	}

	cl.procs[0] = startDaemon(t, dir, cl.token, pinnedFlags...)
	a = cl.proc(0).client(t)
	waitActual(t, ctx, a, g.ID, 1, 20*time.Second)
	again, err := a.ListNodes(ctx, g.ID, client.NodeFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 1 || again[0].ID != nodes[0].ID {
		t.Errorf("after host-a's restart the group has nodes %+v, want its node %s adopted", again, nodes[0].ID)
	}
	// pesd replicas prints the route table of the replicas.
	cl.waitOwned(t, ctx, 30*time.Second)
	t.Setenv("PES_ENDPOINT", cl.proc(1).url)
	t.Setenv("PES_TOKEN", cl.token)
	code, out, errOut := runCLI("replicas")
	if code != 0 {
		t.Fatalf("pesd replicas: exit %d\n%s", code, errOut)
	}
	for _, want := range []string{"REPLICA", "host-a", "home", cl.id(1) + " (this)", "shards, leases of 4s; unowned: none"} {
		if !strings.Contains(out, want) {
			t.Errorf("pesd replicas lacks %q:\n%s", want, out)
		}
	}
	if err := a.DeleteGroup(ctx, g.ID); err != nil {
		t.Errorf("delete the local group: %v", err)
	}
}
