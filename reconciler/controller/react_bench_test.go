package controller

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/local"
	"github.com/pes-project/terraform-provider-pes/reconciler/engine"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlite"
)

// launchClock is a driver that stamps every launch it passes on.
type launchClock struct {
	driver.Driver
	launched chan time.Time
}

func (d *launchClock) Launch(ctx context.Context, spec driver.NodeSpec) (map[string]string, error) {
	h, err := d.Driver.Launch(ctx, spec)
	if err == nil {
		select {
		case d.launched <- time.Now():
		default:
		}
	}
	return h, err
}

// BenchmarkLocalKillToLaunch measures, on a controller with its default
// intervals, a real SQLite file and the local driver running `sleep`
// nodes, the time from kill -9 of a node process until the driver is
// asked to launch its replacement: detection, the causality records and
// the launch. It kills 50 nodes (one at a time, each replaced and ready
// before the next kill) and reports p50 and p99.
//
// Each kill is of the group's oldest node, and only once it has run past
// engine.EarlyFailure: a node that dies sooner counts toward a crash loop,
// and its replacement rightly waits out a backoff (1 s, 2 s, 4 s …),
// which is not what this figure is about. With enough nodes the oldest is
// always that old, after the first wait.
func BenchmarkLocalKillToLaunch(b *testing.B) {
	const kills, size = 50, 30
	dir := b.TempDir()
	ld, err := local.New(dir)
	if err != nil {
		b.Fatal(err)
	}
	drv := &launchClock{Driver: ld, launched: make(chan time.Time, 16)}
	st, err := sqlite.Open(filepath.Join(dir, "pes.db"))
	if err != nil {
		b.Fatal(err)
	}
	c, err := New(Options{Store: st, Drivers: map[string]driver.Driver{api.DriverLocal: drv}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	c.Start(ctx)
	var groupID string
	b.Cleanup(func() {
		if groupID != "" {
			_ = c.DeleteGroup(ctx, groupID)
		}
		c.Close()
		ld.Close()
		st.Close()
	})
	cfg := api.GroupConfig{
		Name: "kill-bench", Driver: api.DriverLocal, DesiredQuantity: size, MaxQuantity: size,
		Program:     api.Program{Command: "sleep", Args: []string{"600"}},
		HealthCheck: &api.HealthCheck{Type: api.HealthProcess, Interval: "100ms"},
		Replacement: api.ReplacementImmediate, InitDeadline: "30s",
	}
	if err := api.ResolveGroupConfig(&cfg); err != nil {
		b.Fatal(err)
	}
	g, err := c.CreateGroup(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	groupID = g.ID
	// ready are the group's ready nodes, oldest first.
	ready := func() []api.Node {
		nodes, err := st.ListNodes(ctx, g.ID, false)
		if err != nil {
			b.Fatal(err)
		}
		nodes = slices.DeleteFunc(nodes, func(n api.Node) bool { return n.State != api.NodeReady })
		slices.SortFunc(nodes, func(a, b api.Node) int { return a.LaunchedAt.Compare(b.LaunchedAt) })
		return nodes
	}
	// waitReady waits for every node to be ready, and for the oldest to
	// have run past the early-failure window; it returns the oldest's pid.
	waitReady := func() int {
		deadline := time.Now().Add(30*time.Second + engine.EarlyFailure)
		for {
			nodes := ready()
			if len(nodes) == size && time.Since(nodes[0].LaunchedAt) > engine.EarlyFailure {
				pid, err := strconv.Atoi(nodes[0].Handle[local.HandlePID])
				if err != nil {
					b.Fatalf("node %s: pid %q: %v", nodes[0].ID, nodes[0].Handle[local.HandlePID], err)
				}
				return pid
			}
			if time.Now().After(deadline) {
				b.Fatalf("group not back to %d ready nodes, the oldest past %s, within 30s: %d ready", size, engine.EarlyFailure, len(nodes))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	var lat []time.Duration
	for b.Loop() {
		lat = lat[:0]
		for range kills {
			pid := waitReady()
			// Kill at a random moment, not right after the state the
			// wait saw was written: a loop that reacts only on a ticker
			// would otherwise always be measured at the same phase.
			time.Sleep(rand.N(500 * time.Millisecond))
			for len(drv.launched) > 0 {
				<-drv.launched
			}
			start := time.Now()
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				b.Fatal(err)
			}
			select {
			case at := <-drv.launched:
				lat = append(lat, at.Sub(start))
			case <-time.After(30 * time.Second):
				b.Fatalf("no replacement launched within 30s of kill -9")
			}
		}
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	b.Logf("%d kills: %s", len(lat), fmt.Sprint(lat))
}
