package controller

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// nexusOf returns the events and changes linked by a nexus.
func nexusOf(t *testing.T, h *harness, id string) api.Nexus {
	t.Helper()
	if id == "" {
		t.Fatalf("no nexus")
	}
	nx, err := h.st.GetNexus(h.ctx, id)
	if err != nil {
		t.Fatalf("GetNexus: %v", err)
	}
	return nx
}

func eventsOfType(es []api.Event, typ string) []api.Event {
	var out []api.Event
	for _, e := range es {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// TestLockdownAndCooldown: a trigger satisfied while a scale-out is
// launching (lockdown) and during the cooldown after it is recorded as
// suppressed with the reason, and shows in its period's record.
func TestLockdownAndCooldown(t *testing.T) {
	h := newHarness(t)
	g := h.createGroup(api.GroupConfig{
		Name: "locked", DesiredQuantity: 2, MaxQuantity: 10, AggregationPeriod: "20s",
		Cooldown: "30s", InitDeadline: "60s", Sim: &api.SimConfig{BootTime: "10s"},
	})
	load := func(time.Duration) { h.push(g.ID, api.Sample{Name: "load", Value: 1}) }
	load(0)
	if _, err := h.c.CreateTrigger(h.ctx, g.ID, api.TriggerSpec{
		Name: ptr("busy"), Condition: ptr("last(load) > 0"), Request: api.Request{ChangeBy: ptr(1)},
	}); err != nil {
		t.Fatal(err)
	}
	// +1s: the two nodes boot until +10s: lockdown. +10s: C1 ends, the
	// cooldown runs to +40s. H1 at +20s, H2 at +40s, H3 at +60s with the
	// one accepted firing (+41s); its node boots until +70s: lockdown.
	h.runTo(62*time.Second, load)

	fired := eventsOfType(h.events(g.ID), api.EventTriggerFired)
	tests := []struct {
		at     time.Duration
		status string
		reason string // substring
		period string
	}{
		{1 * time.Second, api.EventSuppressed, "lockdown: 2 nodes added by C1 are still launching", "H1"},
		{21 * time.Second, api.EventSuppressed, "cooldown: 30s after C1 ended at 10:00:10, until 10:00:40", "H2"},
		{41 * time.Second, api.EventAggregated, "", "H3"},
		{61 * time.Second, api.EventSuppressed, "lockdown: 1 node added by C2 is still launching", "H4"},
	}
	if len(fired) != len(tests) {
		t.Fatalf("got %d firings, want %d (once per period): %v", len(fired), len(tests), labelsOf(fired))
	}
	periods := h.periods(g.ID)
	for i, tt := range tests {
		e := fired[i]
		if e.Time.Sub(t0) != tt.at || e.Status != tt.status || !strings.Contains(e.Reason, tt.reason) || e.PeriodLabel != tt.period {
			t.Errorf("firing %d: +%s %s %q in %s; want +%s %s %q in %s", i, e.Time.Sub(t0), e.Status, e.Reason,
				e.PeriodLabel, tt.at, tt.status, tt.reason, tt.period)
		}
		if e.ProposedQuantity == nil {
			t.Errorf("firing %d: no proposed quantity", i)
		}
		if tt.status != api.EventSuppressed || i >= len(periods) || periods[i].EndedAt == nil {
			continue
		}
		p := periods[i]
		if len(p.Suppressed) != 1 || p.Suppressed[0].EventID != e.ID || p.Suppressed[0].Reason != e.Reason {
			t.Errorf("%s suppressed %+v, want %s with its reason", p.Label, p.Suppressed, e.Label)
		}
		if p.DesiredAfter != 2 || !strings.Contains(p.Summary, "suppressed: "+e.Label) {
			t.Errorf("%s: desired after %d, summary %q", p.Label, p.DesiredAfter, p.Summary)
		}
	}
	if p := periods[2]; p.DesiredAfter != 3 || len(p.Requests) != 1 || len(p.ChangeIDs) != 1 {
		t.Errorf("H3: desired %d→%d, %d requests, %d changes; want 2→3 from the accepted firing", p.DesiredBefore, p.DesiredAfter,
			len(p.Requests), len(p.ChangeIDs))
	}
}

// TestImmediateInstructions: immediate instructions act at once, attributed
// directly; others wait for the harmonization.
func TestImmediateInstructions(t *testing.T) {
	tests := []struct {
		name     string
		in       api.Instruction
		status   string
		desired  int // desired and official right after
		change   string
		amount   int
		notesHas string // in the event's notes; its reason stays the instruction's
	}{
		{"immediate change_by", api.Instruction{Request: api.Request{ChangeBy: ptr(3)}, Immediate: true}, api.EventApplied, 7, api.ChangeAddNodes, 3, ""},
		{"immediate set_to scale-in", api.Instruction{Request: api.Request{SetTo: ptr(1)}, Immediate: true}, api.EventApplied, 1, api.ChangeRemoveNodes, 3, ""},
		{"immediate percent", api.Instruction{Request: api.Request{ChangeByPercent: ptr(50.0)}, Immediate: true}, api.EventApplied, 6, api.ChangeAddNodes, 2, ""},
		{"clamped by max_quantity", api.Instruction{Request: api.Request{SetTo: ptr(50)}, Immediate: true}, api.EventApplied, 10, api.ChangeAddNodes, 6, "clamped by max_quantity 10: 50 → 10"},
		{"clamped, with a reason", api.Instruction{Request: api.Request{SetTo: ptr(50)}, Immediate: true, Reason: "launch day"}, api.EventApplied, 10, api.ChangeAddNodes, 6, "clamped by max_quantity 10: 50 → 10"},
		{"aggregated", api.Instruction{Request: api.Request{ChangeBy: ptr(2)}}, api.EventAggregated, 4, "", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			g := h.createGroup(api.GroupConfig{Name: "imm", DesiredQuantity: 4, MaxQuantity: 10, Sim: &api.SimConfig{BootTime: "1s"}})
			h.runTo(2*time.Second, nil)
			e, err := h.c.Instruct(h.ctx, g.ID, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			notes := strings.Join(e.Notes, "; ")
			if e.Status != tt.status || e.Source.Kind != api.SourceUser || e.Source.Name != "api" ||
				e.Reason != tt.in.Reason || !strings.Contains(notes, tt.notesHas) || (tt.notesHas == "") != (len(e.Notes) == 0) {
				t.Errorf("event %s from %s %q reason %q notes %q; want %s from user api, reason %q, notes with %q",
					e.Status, e.Source.Kind, e.Source.Name, e.Reason, e.Notes, tt.status, tt.in.Reason, tt.notesHas)
			}
			got := h.group(g.ID)
			if got.DesiredQuantity != tt.desired || got.OfficialQuantity != tt.desired {
				t.Errorf("desired/official %d/%d right after, want %d", got.DesiredQuantity, got.OfficialQuantity, tt.desired)
			}
			if tt.change == "" {
				if e.NexusID != "" {
					t.Errorf("an aggregated instruction has a nexus before harmonization")
				}
				return
			}
			nx := nexusOf(t, h, e.NexusID)
			if nx.Attribution != api.AttributionDirect || len(nx.EventIDs) != 1 || len(nx.ChangeIDs) != 1 {
				t.Fatalf("nexus %+v, want one event directly causing one change", nx)
			}
			c, err := h.st.GetChange(h.ctx, nx.ChangeIDs[0])
			if err != nil {
				t.Fatal(err)
			}
			if c.Type != tt.change || c.Amount != tt.amount || c.Attribution != api.AttributionDirect {
				t.Errorf("change %s %d (%s), want %s %d direct", c.Type, c.Amount, c.Attribution, tt.change, tt.amount)
			}
			h.runTo(5*time.Second, nil)
			if got := h.group(g.ID); got.ActualQuantity != tt.desired {
				t.Errorf("actual %d after the change, want %d", got.ActualQuantity, tt.desired)
			}
		})
	}
}

// TestImmediateTrigger: a trigger marked immediate acts at once.
func TestImmediateTrigger(t *testing.T) {
	h := newHarness(t)
	g := h.createGroup(api.GroupConfig{Name: "hot", DesiredQuantity: 2, MaxQuantity: 10, Sim: &api.SimConfig{BootTime: "1s"}})
	h.runTo(2*time.Second, nil)
	if _, err := h.c.CreateTrigger(h.ctx, g.ID, api.TriggerSpec{
		Name: ptr("spike"), Condition: ptr("last(queue_depth) > 100"), Request: api.Request{SetTo: ptr(5)},
		Immediate: ptr(true),
	}); err != nil {
		t.Fatal(err)
	}
	h.push(g.ID, api.Sample{Name: "queue_depth", Value: 500})
	h.tick()
	fired := eventsOfType(h.events(g.ID), api.EventTriggerFired)
	if len(fired) != 1 || fired[0].Status != api.EventApplied || !fired[0].Immediate {
		t.Fatalf("firings %v, want one applied immediate", labelsOf(fired))
	}
	nx := nexusOf(t, h, fired[0].NexusID)
	if nx.Attribution != api.AttributionDirect || len(nx.ChangeIDs) != 1 {
		t.Errorf("nexus %+v, want direct to one change", nx)
	}
	if got := h.group(g.ID); got.DesiredQuantity != 5 || got.OfficialQuantity != 5 {
		t.Errorf("desired/official %d/%d, want 5/5", got.DesiredQuantity, got.OfficialQuantity)
	}
}

// TestTerminateNode: a user's termination of a node is an event causing a
// removal directly, then a replacement per the group's policy.
func TestTerminateNode(t *testing.T) {
	tests := []struct {
		replacement string
		status      string // of the replacement request
		attribution string // of the replacement's add_nodes change
	}{
		{api.ReplacementImmediate, api.EventApplied, api.AttributionDirect},
		{api.ReplacementDeferred, api.EventAggregated, api.AttributionIndirect},
	}
	for _, tt := range tests {
		t.Run(tt.replacement, func(t *testing.T) {
			h := newHarness(t)
			g := h.createGroup(api.GroupConfig{Name: "term", DesiredQuantity: 3, AggregationPeriod: "30s",
				Replacement: tt.replacement, Sim: &api.SimConfig{BootTime: "1s"}})
			h.runTo(2*time.Second, nil)
			victim := h.nodes(g.ID, api.NodeReady)[0].ID
			e, err := h.c.TerminateNode(h.ctx, g.ID, victim)
			if err != nil {
				t.Fatal(err)
			}
			if e.Type != api.EventNodeTerminatedUser || e.Source.Kind != api.SourceUser || e.NodeID != victim {
				t.Errorf("event %s from %s for %s", e.Type, e.Source.Kind, e.NodeID)
			}
			nx := nexusOf(t, h, e.NexusID)
			removal, err := h.st.GetChange(h.ctx, nx.ChangeIDs[0])
			if err != nil {
				t.Fatal(err)
			}
			if removal.Type != api.ChangeRemoveNodes || removal.Attribution != api.AttributionDirect ||
				removal.QuantityBefore != 3 || removal.QuantityAfter != 2 || removal.Status != api.ChangeCompleted {
				t.Errorf("removal %s %s %d→%d %s", removal.Type, removal.Attribution, removal.QuantityBefore, removal.QuantityAfter, removal.Status)
			}
			if n := h.simNodes(g.ID); n[api.NodeTerminated] != 1 {
				t.Errorf("sim nodes %v, want the victim terminated", n)
			}
			repl := eventsOfType(h.events(g.ID), api.EventReplacementRequest)
			if len(repl) != 1 || repl[0].ParentChangeID != removal.ID || repl[0].Status != tt.status {
				t.Fatalf("replacement requests %+v, want one %s chained to %s", repl, tt.status, removal.Label)
			}
			h.runTo(35*time.Second, nil) // past H1
			rn := nexusOf(t, h, eventsOfType(h.events(g.ID), api.EventReplacementRequest)[0].NexusID)
			if rn.Attribution != tt.attribution || len(rn.ChangeIDs) != 1 {
				t.Errorf("replacement nexus %+v, want %s", rn, tt.attribution)
			}
			got := h.group(g.ID)
			if got.DesiredQuantity != 3 || got.ActualQuantity != 3 {
				t.Errorf("desired/actual %d/%d, want 3/3", got.DesiredQuantity, got.ActualQuantity)
			}
		})
	}
}

// TestDeleteGroupKeepsHistory: deleting terminates every node through one
// change caused by group_deleted; the history stays readable until the
// retention runs out.
func TestDeleteGroupKeepsHistory(t *testing.T) {
	h := newHarness(t)
	h.opts.Retention = 24 * time.Hour
	h.crash() // pick up the retention
	g := h.createGroup(api.GroupConfig{Name: "gone", DesiredQuantity: 3, Sim: &api.SimConfig{BootTime: "1s"}})
	h.runTo(2*time.Second, nil)
	if err := h.c.DeleteGroup(h.ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	got := h.group(g.ID)
	if got.Status != api.GroupDeleted || got.DeletedAt == nil || got.ActualQuantity != 0 {
		t.Errorf("group %s deleted_at %v actual %d", got.Status, got.DeletedAt, got.ActualQuantity)
	}
	if n := h.simNodes(g.ID); n[api.NodeTerminated] != 3 {
		t.Errorf("sim nodes %v, want 3 terminated", n)
	}
	del := eventsOfType(h.events(g.ID), api.EventGroupDeleted)
	if len(del) != 1 {
		t.Fatalf("group_deleted events: %v", labelsOf(del))
	}
	d, err := h.hist().ExplainEvent(h.ctx, del[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Effects) != 1 || d.Effects[0].Change.Type != api.ChangeRemoveNodes || d.Effects[0].Change.Amount != 3 {
		t.Errorf("effects of group_deleted: %+v", d.Effects)
	}
	var apiErr *api.Error
	if _, err := h.c.Instruct(h.ctx, g.ID, api.Instruction{Request: api.Request{ChangeBy: ptr(1)}}); !errors.As(err, &apiErr) || apiErr.Code != api.CodeConflict {
		t.Errorf("Instruct on a deleted group: %v, want a conflict", err)
	}
	h.runTo(10*time.Second, nil)
	if len(h.changes(g.ID)) != 2 || len(h.events(g.ID)) != 2 {
		t.Errorf("history after deletion: %d changes, %d events; want 2 and 2", len(h.changes(g.ID)), len(h.events(g.ID)))
	}
	h.clk.Advance(25 * time.Hour)
	h.crash() // the purge runs at most hourly; a new controller purges at once
	h.tick()
	if _, err := h.st.GetGroup(h.ctx, g.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("group after retention: %v, want not found", err)
	}
}

// TestMissingDataOncePerOutage: a condition over a metric with no samples
// is not satisfied, and the event log says so when the data goes missing
// and when it returns: 24 hours without data on a 60s period are 2
// events, not 1,440. (It said so once per period before.) The record of
// the period lists the missing data as ignored, apart from suppressed
// requests.
func TestMissingDataOncePerOutage(t *testing.T) {
	h := newHarness(t)
	g := h.createGroup(api.GroupConfig{Name: "quiet", DesiredQuantity: 1, MinQuantity: 1, AggregationPeriod: "60s",
		Sim: &api.SimConfig{BootTime: "1s"}})
	if _, err := h.c.CreateTrigger(h.ctx, g.ID, api.TriggerSpec{
		Name: ptr("scale-in"), Condition: ptr("avg(queue_depth, '1m') < 5"), Request: api.Request{ChangeBy: ptr(-1)},
	}); err != nil {
		t.Fatal(err)
	}
	// 24 hours of passes every 10s without a sample, then data again.
	for h.elapsed() < 24*time.Hour {
		h.clk.Advance(10 * time.Second)
		h.tick()
	}
	h.push(g.ID, api.Sample{Name: "queue_depth", Value: 50})
	h.clk.Advance(10 * time.Second)
	h.tick()

	var outage []api.Event
	for _, e := range h.events(g.ID) {
		if e.Type == api.EventMetricsMissing || e.Type == api.EventMetricsReturned {
			outage = append(outage, e)
		}
	}
	if len(outage) != 2 {
		t.Fatalf("%d missing/returned events over 24h, want 2: %v", len(outage), labelsOf(outage))
	}
	missing, back := outage[0], outage[1]
	if missing.Type != api.EventMetricsMissing || missing.Status != api.EventIgnored || !strings.Contains(missing.Reason, "queue_depth") ||
		missing.Source.Name != "scale-in" || missing.PeriodLabel != "H1" {
		t.Errorf("%s: %s %s %q from %q in %s; want metrics_missing ignored over queue_depth in H1", missing.Label, missing.Type,
			missing.Status, missing.Reason, missing.Source.Name, missing.PeriodLabel)
	}
	if back.Type != api.EventMetricsReturned || back.Time.Sub(t0) != 24*time.Hour+10*time.Second ||
		back.Description != "trigger scale-in has data again (avg(queue_depth, 1m) = 50)" {
		t.Errorf("%s: %s at +%s %q; want metrics_returned at +24h0m10s", back.Label, back.Type, back.Time.Sub(t0), back.Description)
	}
	if cur := h.group(g.ID).CurrentPeriodLabel; cur != "H1441" {
		t.Errorf("current period %s after 24h of 60s periods, want H1441", cur)
	}
	p, err := h.st.GetPeriod(h.ctx, missing.PeriodID)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Ignored) != 1 || p.Ignored[0].EventID != missing.ID || len(p.Suppressed) != 0 ||
		p.DesiredAfter != 1 || !strings.Contains(p.Summary, "ignored: "+missing.Label) {
		t.Errorf("H1 ignored %+v suppressed %+v desired %d summary %q; want the missing data ignored and no scale-in",
			p.Ignored, p.Suppressed, p.DesiredAfter, p.Summary)
	}
	for _, p := range h.periods(g.ID) {
		if p.Label != "H1" && (len(p.Ignored) != 0 || len(p.Suppressed) != 0) {
			t.Errorf("%s ignored %+v suppressed %+v; the outage was recorded in H1", p.Label, p.Ignored, p.Suppressed)
		}
	}
	if n := len(eventsOfType(h.events(g.ID), api.EventTriggerFired)); n != 0 {
		t.Errorf("%d firings without data", n)
	}
}

// TestOutageSurvivesRestart: a pesd restarted in the period that recorded
// the missing data knows the outage goes on: it records the data's return
// even when its first pass already has data, and no second return after
// another restart.
func TestOutageSurvivesRestart(t *testing.T) {
	h := newHarness(t)
	g := h.createGroup(api.GroupConfig{Name: "quiet", DesiredQuantity: 1, MinQuantity: 1, AggregationPeriod: "60s",
		Sim: &api.SimConfig{BootTime: "1s"}})
	if _, err := h.c.CreateTrigger(h.ctx, g.ID, api.TriggerSpec{
		Name: ptr("scale-in"), Condition: ptr("avg(queue_depth, '1m') < 5"), Request: api.Request{ChangeBy: ptr(-1)},
	}); err != nil {
		t.Fatal(err)
	}
	h.runTo(10*time.Second, nil)
	h.crash()
	// The data is back by the restarted pesd's first pass.
	h.push(g.ID, api.Sample{Name: "queue_depth", Value: 50})
	h.runTo(20*time.Second, nil)
	h.crash()
	h.runTo(30*time.Second, nil)
	var types []string
	for _, e := range h.events(g.ID) {
		if e.Type == api.EventMetricsMissing || e.Type == api.EventMetricsReturned {
			types = append(types, e.Type)
		}
	}
	if strings.Join(types, ",") != "metrics_missing,metrics_returned" {
		t.Errorf("events %v across a restart, want metrics_missing then metrics_returned", types)
	}
}

// TestPatchDesiredIsInstruction: a new desired_quantity in a PATCH is a
// user instruction set_to with the patch's actor and immediate flag.
func TestPatchDesiredIsInstruction(t *testing.T) {
	h := newHarness(t)
	g := h.createGroup(api.GroupConfig{Name: "tf", DesiredQuantity: 2, Sim: &api.SimConfig{BootTime: "1s"}})
	got, err := h.c.UpdateGroup(h.ctx, g.ID, api.GroupPatch{DesiredQuantity: ptr(5), Actor: "terraform", Cooldown: ptr("1m")})
	if err != nil {
		t.Fatal(err)
	}
	if got.DesiredQuantity != 2 || got.Cooldown != "1m" {
		t.Errorf("after PATCH: desired %d cooldown %q, want 2 (until harmonization) and 1m", got.DesiredQuantity, got.Cooldown)
	}
	got, err = h.c.UpdateGroup(h.ctx, g.ID, api.GroupPatch{DesiredQuantity: ptr(4), Actor: "terraform", Immediate: true})
	if err != nil {
		t.Fatal(err)
	}
	if got.DesiredQuantity != 4 || got.OfficialQuantity != 4 {
		t.Errorf("after immediate PATCH: desired/official %d/%d, want 4/4", got.DesiredQuantity, got.OfficialQuantity)
	}
	ins := eventsOfType(h.events(g.ID), api.EventUserInstruction)
	if len(ins) != 2 {
		t.Fatalf("instructions %v", labelsOf(ins))
	}
	for i, want := range []struct {
		setTo  int
		status string
	}{{5, api.EventAggregated}, {4, api.EventApplied}} {
		e := ins[i]
		if e.Source.Name != "terraform" || e.Request == nil || e.Request.SetTo == nil || *e.Request.SetTo != want.setTo || e.Status != want.status {
			t.Errorf("%s: from %q request %+v %s, want terraform set_to %d %s", e.Label, e.Source.Name, e.Request, e.Status, want.setTo, want.status)
		}
	}
}

// localish is a driver without Fail, standing in for local in error tests.
type localish struct{ driver.Driver }

func (localish) Name() string { return api.DriverLocal }
func (localish) Fail(context.Context, string, string) error {
	return driver.ErrUnsupported
}

// TestErrors: bad requests get a clear error naming the field, with the
// status the server maps: never a panic, never an unexplained failure.
func TestErrors(t *testing.T) {
	h := newHarness(t)
	h.opts.Drivers[api.DriverLocal] = localish{h.sim}
	h.crash()
	g := h.createGroup(api.GroupConfig{Name: "err", DesiredQuantity: 1, Sim: &api.SimConfig{BootTime: "1s"}})
	lg := h.createGroup(api.GroupConfig{Name: "local", Driver: api.DriverLocal, DesiredQuantity: 1})
	h.runTo(2*time.Second, nil)
	gone := h.createGroup(api.GroupConfig{Name: "gone", DesiredQuantity: 0})
	if err := h.c.DeleteGroup(h.ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	node := h.nodes(g.ID, api.NodeReady)[0].ID
	lnode := h.nodes(lg.ID, "")[0].ID

	tests := []struct {
		name     string
		call     func() error
		code     string // "": store.ErrNotFound
		field    string
		contains string
	}{
		{"fail a local node", func() error { return h.c.FailNode(h.ctx, lg.ID, lnode) }, api.CodeConflict, "driver", "only sim nodes can be failed on demand"},
		{"unknown group", func() error { _, err := h.c.Instruct(h.ctx, "nope", api.Instruction{}); return err }, "", "", ""},
		{"deleted group", func() error { _, err := h.c.Harmonize(h.ctx, gone.ID); return err }, api.CodeConflict, "id", "deleted"},
		{"unknown trigger", func() error { _, err := h.c.UpdateTrigger(h.ctx, "nope", api.TriggerSpec{}); return err }, "", "", ""},
		{"delete unknown trigger", func() error { return h.c.DeleteTrigger(h.ctx, "nope") }, "", "", ""},
		{"unknown node", func() error { _, err := h.c.TerminateNode(h.ctx, g.ID, "nope"); return err }, "", "", ""},
		{"duplicate name", func() error {
			cfg := api.GroupConfig{Name: "err", Driver: api.DriverSim, Program: api.Program{Command: "x"}, DesiredQuantity: 1}
			_ = api.ResolveGroupConfig(&cfg)
			_, err := h.c.CreateGroup(h.ctx, cfg)
			return err
		}, api.CodeConflict, "name", "already exists"},
		{"driver not enabled", func() error {
			_, err := h.c.CreateGroup(h.ctx, api.GroupConfig{Name: "k", Driver: "kubernetes", DesiredQuantity: 1})
			return err
		}, api.CodeInvalid, "driver", "not enabled"},
		{"bad condition", func() error {
			_, err := h.c.CreateTrigger(h.ctx, g.ID, api.TriggerSpec{Name: ptr("bad"), Condition: ptr("avg(cpu_utilization) >"), Request: api.Request{ChangeBy: ptr(1)}})
			return err
		}, api.CodeInvalid, "condition", ""},
		{"terminate twice", func() error {
			if _, err := h.c.TerminateNode(h.ctx, g.ID, node); err != nil {
				return err
			}
			_, err := h.c.TerminateNode(h.ctx, g.ID, node)
			return err
		}, api.CodeConflict, "node_id", "already"},
		{"fail a node that is not ready", func() error {
			nodes := h.nodes(g.ID, api.NodeLaunching)
			if len(nodes) == 0 {
				return errors.New("no launching node")
			}
			return h.c.FailNode(h.ctx, g.ID, nodes[0].ID)
		}, api.CodeConflict, "node_id", "not ready"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if tt.code == "" {
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("got %v, want store.ErrNotFound", err)
				}
				return
			}
			var apiErr *api.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("got %v, want an *api.Error", err)
			}
			if apiErr.Code != tt.code || apiErr.Field != tt.field || !strings.Contains(apiErr.Message, tt.contains) {
				t.Errorf("got %s %s %q, want %s %s containing %q", apiErr.Code, apiErr.Field, apiErr.Message, tt.code, tt.field, tt.contains)
			}
		})
	}
}

// TestStartClose: the background loop stops when closed, and Close
// without Start is fine.
func TestStartClose(t *testing.T) {
	h := newHarness(t)
	if err := h.c.Close(); err != nil {
		t.Fatal(err)
	}
	h.c.Start(h.ctx)
	if err := h.c.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(h.ctx)
	cancel()
	if err := h.c.Run(ctx); err != nil {
		t.Errorf("Run after its context ended: %v", err)
	}
}

// TestWindowsSurviveRestart: pushed samples are stored, and a restarted
// pesd rebuilds the windows from them, so a condition over the last 30s
// still sees the samples pushed before the restart.
func TestWindowsSurviveRestart(t *testing.T) {
	h := newHarness(t)
	g := h.createGroup(api.GroupConfig{Name: "windows", DesiredQuantity: 1, MaxQuantity: 5, AggregationPeriod: "5m",
		Sim: &api.SimConfig{BootTime: "1s"}})
	h.runTo(12*time.Second, nil)
	for i := range 10 {
		at := t0.Add(time.Duration(i) * time.Second)
		h.push(g.ID, api.Sample{Name: "queue_depth", Value: 200, Time: &at})
	}
	h.crash()
	if _, err := h.c.CreateTrigger(h.ctx, g.ID, api.TriggerSpec{
		Name: ptr("backlog"), Condition: ptr("avg(queue_depth, '30s') > 100 and count(queue_depth, '30s') >= 10"),
		Request: api.Request{ChangeBy: ptr(1)},
	}); err != nil {
		t.Fatal(err)
	}
	h.tick()
	fired := eventsOfType(h.events(g.ID), api.EventTriggerFired)
	if len(fired) != 1 || !strings.Contains(fired[0].Observed, "200") {
		t.Fatalf("firings after restart %v, want one that saw the pushed samples", labelsOf(fired))
	}
	if n := len(eventsOfType(h.events(g.ID), api.EventMetricsMissing)); n != 0 {
		t.Errorf("%d metrics_missing events after restart", n)
	}
}

// TestTriggerLifecycle: updating, disabling and deleting a trigger keep
// the evaluation in step.
func TestTriggerLifecycle(t *testing.T) {
	h := newHarness(t)
	g := h.createGroup(api.GroupConfig{Name: "life", DesiredQuantity: 1, MaxQuantity: 9, AggregationPeriod: "10s",
		Sim: &api.SimConfig{BootTime: "1s"}})
	load := func(time.Duration) { h.push(g.ID, api.Sample{Name: "load", Value: 1}) }
	load(0)
	tr, err := h.c.CreateTrigger(h.ctx, g.ID, api.TriggerSpec{
		Name: ptr("busy"), Condition: ptr("last(load) > 0"), Request: api.Request{ChangeBy: ptr(1)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Priority != api.DefaultTriggerPriority || !tr.Enabled || tr.GroupID != g.ID {
		t.Errorf("created %+v, want default priority, enabled", tr)
	}
	// Periods of 10s: a satisfied trigger fires at +1s, +11s, +21s...
	// while it is enabled; a rename keeps its state (no second firing in
	// the period), re-enabling starts afresh.
	steps := []struct {
		name   string
		spec   *api.TriggerSpec // nil: delete (after the first step)
		to     time.Duration    // run to
		firing int              // firings in total so far
		source string           // name on the last firing
	}{
		{"enabled", nil, 12 * time.Second, 2, "busy"},
		{"renamed, set_to", &api.TriggerSpec{Name: ptr("hot"), Request: api.Request{SetTo: ptr(4)}}, 22 * time.Second, 3, "hot"},
		{"disabled", &api.TriggerSpec{Enabled: ptr(false)}, 32 * time.Second, 3, "hot"},
		{"enabled again", &api.TriggerSpec{Enabled: ptr(true)}, 42 * time.Second, 5, "hot"},
		{"deleted", nil, 52 * time.Second, 5, "hot"},
	}
	for i, st := range steps {
		switch {
		case i == 0:
		case st.spec == nil:
			if err := h.c.DeleteTrigger(h.ctx, tr.ID); err != nil {
				t.Fatal(err)
			}
		default:
			if _, err := h.c.UpdateTrigger(h.ctx, tr.ID, *st.spec); err != nil {
				t.Fatal(err)
			}
		}
		h.runTo(st.to, load)
		fired := eventsOfType(h.events(g.ID), api.EventTriggerFired)
		if len(fired) != st.firing {
			t.Fatalf("%s: %d firings, want %d: %v", st.name, len(fired), st.firing, labelsOf(fired))
		}
		if last := fired[len(fired)-1]; last.Source.Name != st.source || last.Source.ID != tr.ID {
			t.Errorf("%s: last firing from %q, want %q", st.name, last.Source.Name, st.source)
		}
	}
	if _, err := h.st.GetTrigger(h.ctx, tr.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted trigger: %v", err)
	}
	if got := h.group(g.ID); got.DesiredQuantity != 4 {
		t.Errorf("desired %d, want 4 (set_to 4 after 1 → 2)", got.DesiredQuantity)
	}
}
