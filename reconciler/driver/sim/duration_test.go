package sim_test

import (
	"context"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/sim"
)

// TestBootTimeInDays: a boot time the API accepts (its durations take
// days) launches, and the node boots for that long.
func TestBootTimeInDays(t *testing.T) {
	for bt, want := range map[string]time.Duration{"1d": 24 * time.Hour, "0.5d": 12 * time.Hour, "1d2h": 26 * time.Hour} {
		t.Run(bt, func(t *testing.T) {
			cfg := api.GroupConfig{Name: "g", Driver: api.DriverSim, Program: api.Program{Command: "w"}, DesiredQuantity: 1,
				Sim: &api.SimConfig{BootTime: bt}}
			if err := api.ResolveGroupConfig(&cfg); err != nil {
				t.Fatalf("the API rejects boot_time %q: %v", bt, err)
			}
			clk := clock.NewFake(t0)
			d := sim.New(clk)
			if _, err := d.Launch(context.Background(), driver.NodeSpec{GroupID: "g", NodeID: "n", Sim: cfg.Sim}); err != nil {
				t.Fatalf("Launch with boot_time %q: %v", bt, err)
			}
			clk.Advance(want - time.Nanosecond)
			if st := states(t, d, "g")["n"].State; st != api.NodeLaunching {
				t.Errorf("just before %s the node is %q, want launching", bt, st)
			}
			clk.Advance(time.Nanosecond)
			if st := states(t, d, "g")["n"].State; st != api.NodeReady {
				t.Errorf("after %s the node is %q, want ready", bt, st)
			}
		})
	}
}
