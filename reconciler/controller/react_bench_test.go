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
// intervals, a real SQLite file and the local driver running 3 `sleep`
// nodes, the time from kill -9 of a node process until the driver is
// asked to launch its replacement: detection, the causality records and
// the launch. It kills 50 nodes (one at a time, each replaced and ready
// before the next kill) and reports p50 and p99.
func BenchmarkLocalKillToLaunch(b *testing.B) {
	const kills = 50
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
		Name: "kill-bench", Driver: api.DriverLocal, DesiredQuantity: 3, MaxQuantity: 10,
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
	readyPIDs := func() []int {
		var pids []int
		nodes, err := st.ListNodes(ctx, g.ID, false)
		if err != nil {
			b.Fatal(err)
		}
		for _, n := range nodes {
			if n.State == api.NodeReady {
				pid, _ := strconv.Atoi(n.Handle[local.HandlePID])
				pids = append(pids, pid)
			}
		}
		return pids
	}
	waitReady := func() []int {
		deadline := time.Now().Add(30 * time.Second)
		for {
			if pids := readyPIDs(); len(pids) == 3 {
				return pids
			}
			if time.Now().After(deadline) {
				b.Fatalf("group not back to 3 ready nodes within 30s: %v", readyPIDs())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	var lat []time.Duration
	for b.Loop() {
		lat = lat[:0]
		for range kills {
			pids := waitReady()
			// Kill at a random moment, not right after the state the
			// wait saw was written: a loop that reacts only on a ticker
			// would otherwise always be measured at the same phase.
			time.Sleep(rand.N(500 * time.Millisecond))
			for len(drv.launched) > 0 {
				<-drv.launched
			}
			start := time.Now()
			if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
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
