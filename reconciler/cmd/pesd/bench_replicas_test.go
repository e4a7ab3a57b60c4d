//go:build linux

package main

// Benchmarks of several replicas on one PostgreSQL: how long a killed
// replica's groups wait for their next harmonization, and the reconcile
// pass with 10,000 groups on three replicas against one.
//
//	go test -run '^$' -bench 'Replica' -benchtime 1x ./reconciler/cmd/pesd/

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
	"github.com/pes-project/terraform-provider-pes/reconciler/replica"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlstore"
)

// BenchmarkReplicaFailover: three replicas with 150 sim groups whose
// periods last a second; ten times, the replica owning the most groups is
// killed with SIGKILL, and the time from the kill to the first
// harmonization the new owner records for one of its groups is measured
// (TTL plus the time to notice and adopt), then the replica restarts.
func BenchmarkReplicaFailover(b *testing.B) {
	needE2E(b)
	for range b.N {
		const ttl = 5 * time.Second
		cl := startCluster(b, 3, "--lease-ttl", ttl.String(), "--evaluation-interval", "1s", "--observe-interval", "1s")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		cl.waitOwned(b, ctx, 30*time.Second)
		c := cl.roundRobin(b)
		for i := range 150 {
			cfg := replicaGroup(fmt.Sprintf("fo-%03d", i))
			cfg.AggregationPeriod = "1s"
			if _, err := c.CreateGroup(ctx, cfg); err != nil {
				b.Fatal(err)
			}
		}
		db, err := sql.Open("pgx", cl.dsn)
		if err != nil {
			b.Fatal(err)
		}
		var took []time.Duration
		for k := range 10 {
			cl.waitOwned(b, ctx, 30*time.Second)
			// Once the shards are spread (the last restart's rebalancing
			// is over), the victim: the replica owning the most groups,
			// by the leases in the database.
			var l api.ReplicaList
			eventually(b, time.Minute, "shards spread", func() (bool, string) {
				l, err = cl.alive(b).Replicas(ctx)
				if err != nil {
					return false, err.Error()
				}
				return balanced(l, 3)
			})
			owner := map[int]string{}
			for _, r := range l.Replicas {
				for _, ls := range r.Leases {
					owner[ls.Shard] = r.ID
				}
			}
			gs, err := cl.alive(b).ListAllGroups(ctx, client.GroupFilter{})
			if err != nil {
				b.Fatal(err)
			}
			byOwner := map[string][]string{}
			for _, g := range gs {
				o := owner[replica.ShardOf(g.ID, l.Shards)]
				byOwner[o] = append(byOwner[o], g.ID)
			}
			slot := 0
			for i := range 3 {
				if len(byOwner[cl.id(i)]) > len(byOwner[cl.id(slot)]) {
					slot = i
				}
			}
			victim := byOwner[cl.id(slot)]
			killed := time.Now()
			cl.proc(slot).kill9()
			var first string
			eventually(b, ttl+30*time.Second, "a harmonization by the new owner", func() (bool, string) {
				err := db.QueryRowContext(ctx, `SELECT coalesce(min(p.ended_at), '') FROM periods p
					WHERE p.group_id = ANY($1) AND p.harmonized AND p.ended_at > $2
					  AND EXISTS (SELECT 1 FROM events e WHERE e.group_id = p.group_id
					      AND e.type = $3 AND e.time > $2 AND e.time <= p.ended_at AND e.reason LIKE $4)`,
					victim, sqlstore.FormatTime(killed), api.EventOwnershipMoved, "%"+cl.id(slot)+"'s lease expired").Scan(&first)
				if err != nil {
					return false, err.Error()
				}
				return first != "", "none yet"
			})
			at, err := time.Parse(time.RFC3339Nano, first)
			if err != nil {
				b.Fatalf("period end %q: %v", first, err)
			}
			took = append(took, at.Sub(killed))
			b.Logf("kill %d: %d groups of %s, first harmonization by a new owner %s after the kill",
				k+1, len(victim), cl.id(slot), at.Sub(killed).Round(time.Millisecond))
			cl.start(slot)
		}
		db.Close()
		cancel()
		slices.Sort(took)
		p50, p99 := took[len(took)/2], took[(len(took)*99+99)/100-1]
		b.ReportMetric(float64(p50.Milliseconds()), "p50-ms")
		b.ReportMetric(float64(p99.Milliseconds()), "p99-ms")
		b.ReportMetric(ttl.Seconds()*1000, "ttl-ms")
		b.Logf("kill -9 -> first harmonization by the new owner, %d kills, TTL %s: p50 %s, p99 %s", len(took), ttl,
			p50.Round(time.Millisecond), p99.Round(time.Millisecond))
	}
}

// BenchmarkReplicaPass10k: 10,000 sim groups with a trigger each, the
// reconcile pass time of one replica owning them all, then
// of three replicas sharing them (the slowest replica's pass), with the
// replicas' CPU over the same window.
func BenchmarkReplicaPass10k(b *testing.B) {
	needE2E(b)
	for range b.N {
		cl := startCluster(b, 1, "--lease-ttl", "10s", "--evaluation-interval", "2s", "--observe-interval", "2s")
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		cl.waitOwned(b, ctx, 30*time.Second)
		c := cl.proc(0).client(b)
		const groups = 10000
		ids := make([]string, groups)
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := w; i < groups; i += 8 {
					cfg := replicaGroup(fmt.Sprintf("p-%05d", i))
					cfg.AggregationPeriod = "1h"
					cfg.Sim.BootTime = "0s"
					g, err := c.CreateGroup(ctx, cfg)
					if err != nil {
						b.Error(err)
						return
					}
					ids[i] = g.ID
					if _, err := c.CreateTrigger(ctx, g.ID, api.TriggerSpec{Name: ptr("load-high"),
						Condition: ptr("avg(load, '1m') > 50"), Request: api.Request{ChangeBy: ptr(1)}}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if b.Failed() {
			b.FailNow()
		}
		one, oneCPU := passTimes(b, cl, 1)
		cl.procs = append(cl.procs, nil, nil)
		cl.start(1)
		cl.start(2)
		// Wait for the shards to spread: each replica holds a third.
		eventually(b, 2*time.Minute, "shards spread over three replicas", func() (bool, string) {
			l, err := c.Replicas(ctx)
			if err != nil {
				return false, err.Error()
			}
			return balanced(l, 3)
		})
		three, threeCPU := passTimes(b, cl, 3)
		cancel()
		b.ReportMetric(float64(one.Microseconds())/1000, "1-replica-ms/pass")
		b.ReportMetric(float64(three.Microseconds())/1000, "3-replicas-ms/pass")
		b.ReportMetric(three.Seconds()/one.Seconds(), "pass-ratio")
		b.ReportMetric(float64(oneCPU.Milliseconds())/10, "1-replica-cpu-%")
		b.ReportMetric(float64(threeCPU.Milliseconds())/10, "3-replicas-cpu-%")
		b.Logf("reconcile pass with %d groups: 1 replica %s (CPU %.0f%% of a core), 3 replicas %s for the slowest (CPU %.0f%% of a core, all three)",
			groups, one.Round(time.Millisecond), float64(oneCPU.Milliseconds())/10, three.Round(time.Millisecond), float64(threeCPU.Milliseconds())/10)
	}
}

// passTimes reads the first n replicas' last pass time from /metrics
// every 500ms for 10s once their passes have started, and returns the
// median of the slowest replica's readings and the replicas' CPU time
// per second over the window.
func passTimes(b *testing.B, cl *cluster, n int) (time.Duration, time.Duration) {
	b.Helper()
	// Past the first passes after a start or a move, which load and
	// adopt the groups: three more passes on every replica.
	for i := range n {
		p0 := metric(b, cl.proc(i), "pes_reconcile_passes_total")
		eventually(b, 5*time.Minute, "three passes after the groups settled", func() (bool, string) {
			p := metric(b, cl.proc(i), "pes_reconcile_passes_total")
			return p >= p0+3, fmt.Sprintf("%g passes", p-p0)
		})
	}
	const window = 15 * time.Second
	cpu0 := make([]time.Duration, n)
	for i := range n {
		cpu0[i] = procCPU(b, cl.proc(i).cmd.Process.Pid)
	}
	readings := make([][]float64, n)
	start := time.Now()
	for time.Since(start) < window {
		for i := range n {
			readings[i] = append(readings[i], metric(b, cl.proc(i), "pes_reconcile_last_pass_seconds"))
		}
		time.Sleep(500 * time.Millisecond)
	}
	var cpu time.Duration
	for i := range n {
		cpu += procCPU(b, cl.proc(i).cmd.Process.Pid) - cpu0[i]
	}
	slowest := 0.0
	for _, r := range readings {
		slices.Sort(r)
		slowest = max(slowest, r[len(r)/2])
	}
	return time.Duration(slowest * float64(time.Second)), cpu * time.Second / time.Since(start)
}

// metric is the value of an unlabelled series of a replica's /metrics.
func metric(b *testing.B, p *pesdProc, name string) float64 {
	b.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.url+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				b.Fatal(err)
			}
			return f
		}
	}
	b.Fatalf("no %s on %s/metrics", name, p.url)
	return 0
}
