//go:build linux

package main

import (
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
)

// TestE2ELaunchReadsAsOneChange: through the real daemon with its default
// launch window, an immediate +95 on sim nodes whose boot times are
// staggered over 1.5 seconds is one change, caused by the instruction,
// with the parts its nodes became ready in; its explanation says so, and
// the changes table of the CLI shows one line for it.
func TestE2ELaunchReadsAsOneChange(t *testing.T) {
	needE2E(t)
	t.Parallel()
	d := startDaemon(t, t.TempDir(), "launch-token")
	c := d.client(t)
	ctx := ctxFor(t)

	cfg := simGroup("launch", 5)
	cfg.MaxQuantity = 100
	cfg.AggregationPeriod = "1h"
	boots := make([]string, 0, 100)
	for i := range 100 {
		switch {
		case i < 5:
			boots = append(boots, "100ms") // the group's own
		case i < 45:
			boots = append(boots, "1s")
		case i < 75:
			boots = append(boots, "2s")
		default:
			boots = append(boots, "2500ms")
		}
	}
	cfg.Sim.BootTimes = boots
	g, err := c.CreateGroup(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	waitActual(t, ctx, c, g.ID, 5, 15*time.Second)
	e, err := c.Instruct(ctx, g.ID, api.Instruction{Request: api.Request{ChangeBy: ptr(95)}, Immediate: true, Actor: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	waitActual(t, ctx, c, g.ID, 100, 30*time.Second)

	var launch []api.ChangeDetail
	eventually(t, 15*time.Second, "the launch completed", func() (bool, string) {
		ds, err := c.ListAllChangesDetailed(ctx, g.ID, client.ChangeFilter{CausedBy: e.ID})
		if err != nil {
			return false, err.Error()
		}
		launch = ds
		return len(ds) == 1 && ds[0].Status == api.ChangeCompleted, changeList(ds)
	})
	ch := launch[0]
	sum := 0
	for _, p := range ch.Parts {
		sum += p.Amount
	}
	if ch.Amount != 95 || ch.QuantityBefore != 5 || ch.QuantityAfter != 100 || ch.Attribution != api.AttributionDirect ||
		len(ch.Parts) < 2 || sum != 95 {
		t.Errorf("the launch: %s %d %d → %d %s, parts %+v; want add_nodes 95 5 → 100 direct, in 2 or more parts of 95 nodes in all",
			ch.Type, ch.Amount, ch.QuantityBefore, ch.QuantityAfter, ch.Attribution, ch.Parts)
	}
	if !strings.Contains(ch.Explanation, "Its 95 nodes became ready in ") {
		t.Errorf("explanation does not say how the nodes arrived: %s", ch.Explanation)
	}

	out := pesdCLI(t, d, "changes", "--group", "launch")
	if n := strings.Count(out, "add 95 nodes"); n != 1 {
		t.Errorf("pesd changes shows the launch on %d lines, want 1:\n%s", n, out)
	}
}

func changeList(ds []api.ChangeDetail) string {
	var ls []string
	for _, d := range ds {
		ls = append(ls, d.Label+" "+d.Description+" "+d.Status)
	}
	return "changes: " + strings.Join(ls, ", ")
}
