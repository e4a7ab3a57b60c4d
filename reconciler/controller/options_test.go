package controller

import (
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// TestInstructionsSilenceTriggers: with instructions_silence_triggers, a
// firing before the period's instruction is ignored at the harmonization
// and one after it at once, both with the reason, stored and in the
// record; the change is the instruction's alone.
func TestInstructionsSilenceTriggers(t *testing.T) {
	h := newHarness(t)
	g := h.createGroup(api.GroupConfig{Name: "quiet", DesiredQuantity: 2, MaxQuantity: 10, AggregationPeriod: "1h",
		Sim: &api.SimConfig{BootTime: "1s"}, EngineOptions: api.EngineOptions{InstructionsSilenceTriggers: true}})
	h.runTo(2*time.Second, nil)
	for _, name := range []string{"queue", "cpu"} {
		if _, err := h.c.CreateTrigger(h.ctx, g.ID, api.TriggerSpec{
			Name: ptr(name), Condition: ptr("last(" + name + ") > 100"), Request: api.Request{ChangeBy: ptr(5)},
		}); err != nil {
			t.Fatal(err)
		}
	}
	h.push(g.ID, api.Sample{Name: "queue", Value: 500})
	h.tick() // queue fires, aggregated: no instruction yet
	if _, err := h.c.Instruct(h.ctx, g.ID, api.Instruction{Request: api.Request{ChangeBy: ptr(1)}, Actor: "alice"}); err != nil {
		t.Fatal(err)
	}
	h.push(g.ID, api.Sample{Name: "cpu", Value: 500})
	h.tick() // cpu fires after the instruction: ignored at once
	fired := eventsOfType(h.events(g.ID), api.EventTriggerFired)
	if len(fired) != 2 || fired[0].Status != api.EventAggregated || fired[1].Status != api.EventIgnored ||
		!strings.Contains(fired[1].Reason, "instructions_silence_triggers") {
		t.Fatalf("firings before harmonization: %+v", fired)
	}
	p, err := h.c.Harmonize(h.ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.DesiredAfter != 3 {
		t.Errorf("desired after %d, want 3 (the instruction's +1 alone)\n%s", p.DesiredAfter, p.Summary)
	}
	fired = eventsOfType(h.events(g.ID), api.EventTriggerFired)
	ignored := map[string]string{}
	for _, s := range p.Ignored {
		ignored[s.EventID] = s.Reason
	}
	for _, e := range fired {
		if e.Status != api.EventIgnored || !strings.Contains(e.Reason, "user instruction") || ignored[e.ID] != e.Reason || e.NexusID != "" {
			t.Errorf("firing %s: %s %q nexus %q; record's ignored %q", e.Label, e.Status, e.Reason, e.NexusID, ignored[e.ID])
		}
	}
	if len(p.Requests) != 1 || !strings.Contains(strings.Join(p.Notes, "\n"), "instructions_silence_triggers") {
		t.Errorf("record requests %+v notes %q: want the instruction alone and a note", p.Requests, p.Notes)
	}
}

// TestHarmonizeAfterRequests: the third waiting request ends the period
// at once, long before its hour; the record says why.
func TestHarmonizeAfterRequests(t *testing.T) {
	h := newHarness(t)
	g := h.createGroup(api.GroupConfig{Name: "eager", DesiredQuantity: 2, MaxQuantity: 10, AggregationPeriod: "1h",
		Sim: &api.SimConfig{BootTime: "1s"}, EngineOptions: api.EngineOptions{HarmonizeAfterRequests: 3}})
	h.runTo(2*time.Second, nil)
	for i, n := range []int{1, 3, 2} {
		if _, err := h.c.Instruct(h.ctx, g.ID, api.Instruction{Request: api.Request{ChangeBy: ptr(n)}}); err != nil {
			t.Fatal(err)
		}
		ended := 0
		for _, p := range h.periods(g.ID) {
			if p.Harmonized {
				ended++
			}
		}
		if want := map[bool]int{true: 1, false: 0}[i == 2]; ended != want {
			t.Fatalf("after %d requests: %d periods harmonized, want %d", i+1, ended, want)
		}
	}
	p := h.periods(g.ID)[0]
	if p.DesiredAfter != 5 || p.EndedAt == nil || p.EndedAt.Sub(t0) != 2*time.Second ||
		!strings.Contains(strings.Join(p.Notes, "\n"), "ended early: 3 requests were waiting") {
		t.Errorf("%s: desired %d ended %v notes %q; want 5, at +2s, ended early", p.Label, p.DesiredAfter, p.EndedAt, p.Notes)
	}
	if got := h.group(g.ID); got.DesiredQuantity != 5 {
		t.Errorf("desired %d, want 5", got.DesiredQuantity)
	}
}

// TestLockdownAfterRemoval: while a harmonization's removal still has a
// node terminating (its termination lost once), a trigger firing is
// suppressed with the removal named; with lockdown_after_removal false
// it is aggregated.
func TestLockdownAfterRemoval(t *testing.T) {
	tests := []struct {
		name     string
		lockdown bool
		status   string
		reason   string
	}{
		{"default: locked down", true, api.EventSuppressed, "lockdown after removal: 1 node removed by C2 is still terminating"},
		{"option off", false, api.EventAggregated, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			g := h.createGroup(api.GroupConfig{Name: "shrink", DesiredQuantity: 3, MaxQuantity: 10, AggregationPeriod: "1h",
				Sim: &api.SimConfig{BootTime: "1s"}, EngineOptions: api.EngineOptions{LockdownAfterRemoval: ptr(tt.lockdown)}})
			h.runTo(2*time.Second, nil)
			if _, err := h.c.CreateTrigger(h.ctx, g.ID, api.TriggerSpec{
				Name: ptr("queue"), Condition: ptr("last(queue) > 100"), Request: api.Request{ChangeBy: ptr(1)},
			}); err != nil {
				t.Fatal(err)
			}
			if _, err := h.c.Instruct(h.ctx, g.ID, api.Instruction{Request: api.Request{SetTo: ptr(2)}}); err != nil {
				t.Fatal(err)
			}
			h.drv.terminateLost = 1
			if _, err := h.c.Harmonize(h.ctx, g.ID); err != nil {
				t.Fatal(err)
			}
			if n := len(h.nodes(g.ID, api.NodeTerminating)); n != 1 {
				t.Fatalf("%d nodes terminating after the removal, want 1", n)
			}
			h.push(g.ID, api.Sample{Name: "queue", Value: 500})
			h.tick()
			fired := eventsOfType(h.events(g.ID), api.EventTriggerFired)
			if len(fired) != 1 || fired[0].Status != tt.status || !strings.Contains(fired[0].Reason, tt.reason) {
				t.Fatalf("firings %+v, want one %s %q", fired, tt.status, tt.reason)
			}
		})
	}
}
