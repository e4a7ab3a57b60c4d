package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/cli"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
)

// causedBy describes changes as "quantity_before→quantity_after [trigger
// names]", what a backtest must reproduce.
func causedBy(cs []api.ChangeDetail) []string {
	var out []string
	for _, c := range cs {
		var names []string
		for _, cause := range c.Causes {
			names = append(names, cause.Event.Source.Name)
		}
		slices.Sort(names)
		out = append(out, fmt.Sprintf("%d→%d %v", c.QuantityBefore, c.QuantityAfter, slices.Compact(names)))
	}
	return out
}

// TestE2EWhatIf runs a group with two triggers on a real pesd through a
// quiet, a busy and a quiet phase of pushed load, then backtests the
// window: with the group's own triggers the replay reproduces the
// record's changes (count, quantities, causes by trigger name); with a
// threshold the load never passes it makes none, explained; pesd whatif
// exits 4 past --max-changes and 0 within it. Phases switch 1.5s into a
// period, so every period sees its evaluations on one side or the other
// whatever the phase of pesd's evaluation ticks.
func TestE2EWhatIf(t *testing.T) {
	needE2E(t)
	d := startDaemon(t, t.TempDir(), "whatif-token")
	ctx := ctxFor(t)
	c := d.client(t)
	cfg := simGroup("shop", 1)
	cfg.MinQuantity, cfg.MaxQuantity, cfg.AggregationPeriod, cfg.Cooldown = 1, 3, "4s", "1s"
	cfg.Sim = &api.SimConfig{BootTime: "1s"}
	g, err := c.CreateGroup(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []api.TriggerSpec{
		{Name: ptrTo("busy"), Condition: ptrTo("last(load) > 0.8"), Request: api.Request{ChangeBy: ptrTo(2)}},
		{Name: ptrTo("quiet"), Condition: ptrTo("last(load) < 0.3"), Request: api.Request{ChangeBy: ptrTo(-2)}},
	} {
		if _, err := c.CreateTrigger(ctx, g.ID, s); err != nil {
			t.Fatal(err)
		}
	}
	var load atomic.Value
	load.Store(0.1)
	stop := make(chan struct{})
	pushed := make(chan struct{})
	go func() {
		defer close(pushed)
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
			if _, err := c.PushMetrics(ctx, g.ID, []api.Sample{{Name: "load", Value: load.Load().(float64)}}); err != nil {
				t.Errorf("push: %v", err)
				return
			}
		}
	}()
	// nextPeriod waits for the end of the open period and returns its
	// time. Right at the end the group may still show that period's end
	// (pesd harmonizes a moment later): it waits for a later one.
	var last time.Time
	nextPeriod := func() time.Time {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			cur, err := c.GetGroup(ctx, g.ID)
			if err != nil {
				t.Fatalf("group: %v", err)
			}
			if at := cur.NextHarmonizationAt; at != nil && at.After(last) {
				last = *at
				time.Sleep(time.Until(last))
				return last
			}
		}
		t.Fatalf("no period after %s", last)
		return last
	}
	since := nextPeriod()
	nextPeriod()
	at := nextPeriod()
	time.Sleep(time.Until(at.Add(1500 * time.Millisecond)))
	load.Store(0.9)
	nextPeriod()
	nextPeriod()
	at = nextPeriod()
	time.Sleep(time.Until(at.Add(1500 * time.Millisecond)))
	load.Store(0.1)
	nextPeriod()
	nextPeriod()
	until := nextPeriod().Add(-time.Second)
	time.Sleep(time.Second) // the last period's records are written
	close(stop)
	<-pushed

	real, err := c.ListAllChangesDetailed(ctx, g.ID, client.ChangeFilter{Since: since, Until: until})
	if err != nil {
		t.Fatal(err)
	}
	want := causedBy(real)
	if len(want) != 2 || !strings.HasPrefix(want[0], "1→3") || !strings.HasPrefix(want[1], "3→1") {
		t.Fatalf("the record: %v, want a scale-out 1→3 then a scale-in 3→1", want)
	}
	eventsBefore, err := c.ListAllEvents(ctx, g.ID, client.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}

	got, err := c.WhatIf(ctx, g.ID, api.WhatIfRequest{Since: &since, Until: &until})
	if err != nil {
		t.Fatalf("whatif: %v", err)
	}
	if have := causedBy(got.Changes); !slices.Equal(have, want) {
		t.Errorf("replay with the group's own triggers: %v, want the record's %v", have, want)
	}
	if got.Replayed.Changes != got.Recorded.Changes || got.Replayed.PeakQuantity != 3 || got.Recorded.PeakQuantity != 3 {
		t.Errorf("summaries: replayed %+v, recorded %+v", got.Replayed, got.Recorded)
	}
	if got.BootTime != "1s" {
		t.Errorf("boot time %q, want 1s (the group's nodes)", got.BootTime)
	}

	// pesd governs replays as it governs groups: proposed predictive
	// settings are replayed, and with a minute of history the forecast is
	// not ready, so nothing is clamped and the record is reproduced.
	governed, err := c.WhatIf(ctx, g.ID, api.WhatIfRequest{Since: &since, Until: &until,
		Group: &api.GroupPatch{Predictive: &api.Predictive{Mode: api.PredictiveEnforce}}})
	if err != nil {
		t.Fatalf("whatif with predictive enforce: %v", err)
	}
	if have := causedBy(governed.Changes); !slices.Equal(have, want) || governed.Replayed.ForecastClamps != 0 {
		t.Errorf("replay governed without enough history: %v, %d clamps; want the record's %v", have, governed.Replayed.ForecastClamps, want)
	}
	if !slices.ContainsFunc(governed.Periods, func(p api.Period) bool {
		return slices.ContainsFunc(p.Notes, func(n string) bool { return strings.Contains(n, "history") })
	}) {
		t.Errorf("no period of the governed replay notes the forecast's missing history")
	}

	proposed := `[{"name":"busy","condition":"last(load) > 0.95","change_by":2},
		{"name":"quiet","condition":"last(load) < 0.3","change_by":-2}]`
	var spec []api.TriggerSpec
	if err := json.Unmarshal([]byte(proposed), &spec); err != nil {
		t.Fatal(err)
	}
	alt, err := c.WhatIf(ctx, g.ID, api.WhatIfRequest{Since: &since, Until: &until, Triggers: spec})
	if err != nil {
		t.Fatalf("whatif proposed: %v", err)
	}
	if len(alt.Changes) != 0 || alt.Replayed.PeakQuantity != 1 || alt.Replayed.NodeHours >= got.Replayed.NodeHours {
		t.Errorf("with busy > 0.95 (load peaks at 0.9): %v %+v, want no change at 1 node", causedBy(alt.Changes), alt.Replayed)
	}
	if !slices.ContainsFunc(alt.Periods, func(p api.Period) bool { return p.Summary != "" && len(p.Requests)+len(p.Suppressed) > 0 }) {
		t.Errorf("the proposed replay's periods record no decision: %+v", alt.Periods)
	}
	eventsAfter, err := c.ListAllEvents(ctx, g.ID, client.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(eventsAfter) != len(eventsBefore) {
		t.Errorf("the backtests wrote to the group's record: %d events, had %d", len(eventsAfter), len(eventsBefore))
	}

	// The CLI, as a CI step runs it.
	file := filepath.Join(t.TempDir(), "proposed.json")
	if err := os.WriteFile(file, []byte(`{"triggers":[{"name":"busy","condition":"last(load) > 0.8","change_by":2},
		{"name":"quiet","condition":"last(load) < 0.3","change_by":-2}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	window := []string{"whatif", "--group", "shop", "--triggers", file,
		"--since", since.Format(time.RFC3339Nano), "--until", until.Format(time.RFC3339Nano)}
	code, out, errOut := pesdExit(t, d, "", append(window, "--max-changes", "1")...)
	if code != cli.ExitGate || !strings.Contains(errOut, "2 changes > --max-changes 1") {
		t.Errorf("whatif past --max-changes 1: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, cli.ExitGate, out, errOut)
	}
	code, out, errOut = pesdExit(t, d, "", append(window, "--max-changes", "2", "--max-node-hours", "1")...)
	if code != cli.ExitOK || !strings.Contains(out, "REPLAYED") || !strings.Contains(out, "busy") {
		t.Errorf("whatif within its gates: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	code, _, errOut = pesdExit(t, d, "", "whatif", "--group", "shop", "--since", "30d")
	if code != cli.ExitError || !strings.Contains(errOut, "since") || !strings.Contains(errOut, "metric history") {
		t.Errorf("whatif over 30d with a 14d history: exit %d, want 1 naming since\n%s", code, errOut)
	}
}
