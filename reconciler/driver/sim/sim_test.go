package sim_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/drivertest"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/sim"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func TestConformance(t *testing.T) {
	// Each test gets one fake clock, shared by the driver instances it
	// creates, so a "restart" keeps the time.
	var mu sync.Mutex
	clocks := map[*testing.T]*clock.Fake{}
	clockFor := func(t *testing.T) *clock.Fake {
		mu.Lock()
		defer mu.Unlock()
		c, ok := clocks[t]
		if !ok {
			c = clock.NewFake(t0)
			clocks[t] = c
		}
		return c
	}
	drivertest.Run(t, drivertest.Harness{
		New:   func(t *testing.T) driver.Driver { return sim.New(clockFor(t)) },
		Clock: func(t *testing.T) clock.Clock { return clockFor(t) },
		Spec: func(g, n string, i int) driver.NodeSpec {
			return driver.NodeSpec{GroupID: g, NodeID: n, Index: i, Sim: &api.SimConfig{BootTime: "3s"}}
		},
		Kill: func(t *testing.T, d driver.Driver, g, n string, _ map[string]string) {
			if err := d.Fail(context.Background(), g, n); err != nil {
				t.Fatalf("Fail: %v", err)
			}
		},
		Eventually: func(t *testing.T, what string, cond func() bool) {
			t.Helper()
			c := clockFor(t)
			for range 36000 { // an hour of fake time in 100ms steps
				if cond() {
					return
				}
				c.Advance(100 * time.Millisecond)
			}
			t.Fatalf("waited an hour of fake time for %s", what)
		},
		Jobs: &drivertest.JobHarness{
			Job: func(t *testing.T, g, n, j string, long bool) driver.JobSpec {
				items := 3
				if long {
					items = 1_000_000
				}
				return driver.JobSpec{GroupID: g, NodeID: n, JobID: j, Items: items, ItemDuration: time.Second}
			},
		},
	})
}

// states observes a group at the clock's current time.
func states(t *testing.T, d *sim.Driver, g string) map[string]driver.Observation {
	t.Helper()
	obs, err := d.Observe(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]driver.Observation{}
	for _, o := range obs {
		m[o.NodeID] = o
	}
	return m
}

func TestBootTimesAndInitFailures(t *testing.T) {
	// The seed 000 opening: 8 nodes, 4 ready at T2, 3 at T3, the eighth
	// never; later launches use boot_time.
	cfg := &api.SimConfig{
		BootTime:     "5s",
		BootTimes:    []string{"2s", "2s", "2s", "2s", "3s", "3s", "3s"},
		InitFailures: 1,
	}
	tests := []struct {
		at   time.Duration
		want []string // state of launches 0..9 (8 and 9 launched at 0 as well)
	}{
		{0, []string{"launching", "launching", "launching", "launching", "launching", "launching", "launching", "launching", "launching", "launching"}},
		{2 * time.Second, []string{"ready", "ready", "ready", "ready", "launching", "launching", "launching", "launching", "launching", "launching"}},
		{3 * time.Second, []string{"ready", "ready", "ready", "ready", "ready", "ready", "ready", "launching", "launching", "launching"}},
		{5 * time.Second, []string{"ready", "ready", "ready", "ready", "ready", "ready", "ready", "launching", "ready", "ready"}},
		{time.Hour, []string{"ready", "ready", "ready", "ready", "ready", "ready", "ready", "launching", "ready", "ready"}},
	}
	clk := clock.NewFake(t0)
	d := sim.New(clk)
	g := "g"
	for i := range 10 {
		if _, err := d.Launch(context.Background(), driver.NodeSpec{GroupID: g, NodeID: fmt.Sprint("n", i), Index: i, Sim: cfg}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range tests {
		t.Run(tt.at.String(), func(t *testing.T) {
			clk.Set(t0.Add(tt.at))
			got := states(t, d, g)
			for i, want := range tt.want {
				o := got[fmt.Sprint("n", i)]
				if o.State != want {
					t.Errorf("launch %d at +%s is %q, want %q", i, tt.at, o.State, want)
				}
				if want == api.NodeReady && o.Since.After(clk.Now()) {
					t.Errorf("launch %d ready since %v, after now %v", i, o.Since, clk.Now())
				}
			}
		})
	}
	// Ready since is the boot moment, not the observation moment.
	if got, want := states(t, d, g)["n4"].Since, t0.Add(3*time.Second); !got.Equal(want) {
		t.Errorf("n4 ready since %v, want %v", got, want)
	}
	// The failed launch is marked so a restart does not make it boot.
	if h := states(t, d, g)["n7"].Handle; h[sim.HandleInitFailure] != "true" {
		t.Errorf("init-failure node handle %v, want %s=true", h, sim.HandleInitFailure)
	}
}

func TestInitFailuresApplyPerGroup(t *testing.T) {
	clk := clock.NewFake(t0)
	d := sim.New(clk)
	cfg := &api.SimConfig{BootTime: "1s", InitFailures: 2}
	for _, g := range []string{"a", "b"} {
		for i := range 3 {
			if _, err := d.Launch(context.Background(), driver.NodeSpec{GroupID: g, NodeID: fmt.Sprint(g, i), Sim: cfg}); err != nil {
				t.Fatal(err)
			}
		}
	}
	clk.Advance(time.Minute)
	for _, g := range []string{"a", "b"} {
		got := states(t, d, g)
		for i, want := range []string{"launching", "launching", "ready"} {
			if st := got[fmt.Sprint(g, i)].State; st != want {
				t.Errorf("group %s launch %d is %q, want %q", g, i, st, want)
			}
		}
	}
}

func TestDefaultBootTime(t *testing.T) {
	def := api.DefaultDurations().Sim.BootTime
	clk := clock.NewFake(t0)
	d := sim.New(clk)
	if _, err := d.Launch(context.Background(), driver.NodeSpec{GroupID: "g", NodeID: "n"}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(def - time.Nanosecond)
	if st := states(t, d, "g")["n"].State; st != api.NodeLaunching {
		t.Errorf("just before the default boot time the node is %q", st)
	}
	clk.Advance(time.Nanosecond)
	if st := states(t, d, "g")["n"].State; st != api.NodeReady {
		t.Errorf("at the default boot time the node is %q", st)
	}
}

func TestLaunchRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name  string
		spec  driver.NodeSpec
		field string
	}{
		{"bad boot_time", driver.NodeSpec{GroupID: "g", NodeID: "n", Sim: &api.SimConfig{BootTime: "soon"}}, "sim.boot_time"},
		{"negative boot_time", driver.NodeSpec{GroupID: "g", NodeID: "n", Sim: &api.SimConfig{BootTime: "-1s"}}, "sim.boot_time"},
		{"bad boot_times entry", driver.NodeSpec{GroupID: "g", NodeID: "n", Sim: &api.SimConfig{BootTimes: []string{"1x"}}}, "sim.boot_times[0]"},
		{"negative init_failures", driver.NodeSpec{GroupID: "g", NodeID: "n", Sim: &api.SimConfig{InitFailures: -1}}, "sim.init_failures"},
		{"no group", driver.NodeSpec{NodeID: "n"}, "group_id"},
		{"no node", driver.NodeSpec{GroupID: "g"}, "node_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := sim.New(clock.NewFake(t0))
			_, err := d.Launch(context.Background(), tt.spec)
			if err == nil {
				t.Fatal("Launch accepted it")
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error %q does not name %s", err, tt.field)
			}
			if len(states(t, d, "g")) != 0 {
				t.Error("a rejected launch left a node behind")
			}
		})
	}
}

func TestFail(t *testing.T) {
	clk := clock.NewFake(t0)
	d := sim.New(clk)
	ctx := context.Background()
	spec := func(n string) driver.NodeSpec {
		return driver.NodeSpec{GroupID: "g", NodeID: n, Sim: &api.SimConfig{BootTime: "1s"}}
	}
	for _, n := range []string{"ready", "failed", "gone", "launching"} {
		if n == "launching" {
			clk.Advance(time.Second)
		}
		if _, err := d.Launch(ctx, spec(n)); err != nil {
			t.Fatal(err)
		}
	}
	// "ready", "failed" and "gone" were launched early enough to be ready.
	if err := d.Fail(ctx, "g", "failed"); err != nil {
		t.Fatalf("Fail of a ready node: %v", err)
	}
	if err := d.Terminate(ctx, "g", "gone", 0); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		node    string
		wantErr error
	}{
		{"launching", driver.ErrNotReady},
		{"failed", driver.ErrNotReady},
		{"gone", driver.ErrNotReady},
		{"nobody", driver.ErrUnknownNode},
		{"ready", nil},
	}
	for _, tt := range tests {
		err := d.Fail(ctx, "g", tt.node)
		if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
			t.Errorf("Fail(%s) = %v, want %v", tt.node, err, tt.wantErr)
		}
	}
	if err := d.Fail(ctx, "nogroup", "ready"); !errors.Is(err, driver.ErrUnknownNode) {
		t.Errorf("Fail in an unknown group = %v, want ErrUnknownNode", err)
	}
	got := states(t, d, "g")
	if o := got["ready"]; o.State != api.NodeUnavailable || o.Reason == "" || !o.Since.Equal(clk.Now()) {
		t.Errorf("failed node observed as %+v, want unavailable since now with a reason", o)
	}
	if st := got["launching"].State; st != api.NodeLaunching {
		t.Errorf("a refused Fail changed the launching node to %q", st)
	}
}

func TestAdopt(t *testing.T) {
	clk := clock.NewFake(t0)
	d := sim.New(clk)
	spec := func(n string) driver.NodeSpec {
		return driver.NodeSpec{GroupID: "g", NodeID: n, Sim: &api.SimConfig{BootTime: "10s"}}
	}
	tests := []struct {
		node   string
		state  string
		handle map[string]string
		now    string // state at adoption
		later  string // state 10s after adoption
	}{
		{"ready", api.NodeReady, map[string]string{sim.HandleBootTime: "10s"}, api.NodeReady, api.NodeReady},
		{"launching", api.NodeLaunching, map[string]string{sim.HandleBootTime: "10s"}, api.NodeLaunching, api.NodeReady},
		{"never-boots", api.NodeLaunching, map[string]string{sim.HandleInitFailure: "true"}, api.NodeLaunching, api.NodeLaunching},
		{"init-failed", api.NodeInitFailed, map[string]string{sim.HandleBootTime: "10s"}, api.NodeLaunching, api.NodeLaunching},
		{"unavailable", api.NodeUnavailable, map[string]string{sim.HandleBootTime: "10s"}, api.NodeUnavailable, api.NodeUnavailable},
		{"terminating", api.NodeTerminating, map[string]string{sim.HandleBootTime: "10s"}, api.NodeTerminated, api.NodeTerminated},
		{"terminated", api.NodeTerminated, map[string]string{sim.HandleBootTime: "10s"}, api.NodeTerminated, api.NodeTerminated},
	}
	var specs []driver.AdoptSpec
	for _, tt := range tests {
		specs = append(specs, driver.AdoptSpec{NodeSpec: spec(tt.node), State: tt.state, Handle: tt.handle})
	}
	obs, err := d.Adopt(context.Background(), specs)
	if err != nil {
		t.Fatal(err)
	}
	if len(obs) != len(tests) {
		t.Fatalf("Adopt reported %d nodes, want %d", len(obs), len(tests))
	}
	for i, tt := range tests {
		if obs[i].NodeID != tt.node || obs[i].State != tt.now {
			t.Errorf("adopted %s (recorded %s) is %s %q, want %q", tt.node, tt.state, obs[i].NodeID, obs[i].State, tt.now)
		}
	}
	// Launching boots from the adoption moment, not the original launch.
	clk.Advance(10*time.Second - time.Nanosecond)
	if st := states(t, d, "g")["launching"].State; st != api.NodeLaunching {
		t.Errorf("adopted launching node is %q before its boot time has passed since adoption", st)
	}
	clk.Advance(time.Nanosecond)
	got := states(t, d, "g")
	for _, tt := range tests {
		if st := got[tt.node].State; st != tt.later {
			t.Errorf("10s after adoption %s is %q, want %q", tt.node, st, tt.later)
		}
	}
	// Adopting again reports the node as it is, without recreating it.
	again, err := d.Adopt(context.Background(), specs[1:2])
	if err != nil {
		t.Fatal(err)
	}
	if again[0].State != api.NodeReady {
		t.Errorf("re-adopting a booted node reports %q, want ready", again[0].State)
	}
	if _, err := d.Adopt(context.Background(), []driver.AdoptSpec{{NodeSpec: spec("x"), State: "exploded"}}); err == nil {
		t.Error("Adopt accepted a recorded state that is not a node state")
	}
}

func TestAdoptedLaunchesCount(t *testing.T) {
	// After a restart, boot_times and init_failures are not spent twice.
	clk := clock.NewFake(t0)
	cfg := &api.SimConfig{BootTimes: []string{"1s"}, BootTime: "2s", InitFailures: 1}
	d := sim.New(clk)
	_, err := d.Adopt(context.Background(), []driver.AdoptSpec{
		{NodeSpec: driver.NodeSpec{GroupID: "g", NodeID: "a", Sim: cfg}, State: api.NodeReady, Handle: map[string]string{sim.HandleBootTime: "1s"}},
		{NodeSpec: driver.NodeSpec{GroupID: "g", NodeID: "b", Sim: cfg}, State: api.NodeLaunching, Handle: map[string]string{sim.HandleInitFailure: "true"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	h, err := d.Launch(context.Background(), driver.NodeSpec{GroupID: "g", NodeID: "c", Sim: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if h[sim.HandleBootTime] != "2s" {
		t.Errorf("the first launch after adopting two nodes has handle %v, want boot_time 2s", h)
	}
}
