package controller

import (
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// TestTargetTracking: a target trigger over cpu_utilization 60 scales 4 → 7
// when the nodes run at 105 (ceil(4 × 105/60)), holds while the metric is
// within the tolerance band, and scales in to ceil(7 × 20/60) = 3 only
// once its scale_in_stabilization window has forgotten the proposals of 7.
func TestTargetTracking(t *testing.T) {
	h := newHarness(t)
	g := h.createGroup(api.GroupConfig{Name: "tracked", DesiredQuantity: 4, MaxQuantity: 20, AggregationPeriod: "30s",
		Sim: &api.SimConfig{BootTime: "1s"}})
	tol := 0.1
	tr, err := h.c.CreateTrigger(h.ctx, g.ID, api.TriggerSpec{
		Name: ptr("cpu-target"),
		Request: api.Request{Target: &api.Target{Metric: "cpu_utilization", Value: 60, Tolerance: &tol,
			Window: "1s", ScaleInStabilization: "2m"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// The load is spread over the ready nodes: 420 is 105 on each of 4.
	load := 420.0
	push := func(time.Duration) {
		// What the nodes report is the sim's state, before pesd observes it.
		if n := h.simNodes(g.ID)[api.NodeReady]; n > 0 {
			h.push(g.ID, api.Sample{Name: "cpu_utilization", Value: load / float64(n)})
		}
	}

	h.runTo(35*time.Second, push) // H1 at +30s
	fired := eventsOfType(h.events(g.ID), api.EventTriggerFired)
	if len(fired) != 1 {
		for _, e := range h.events(g.ID) {
			t.Logf("%s +%s %s %s %q", e.Label, e.Time.Sub(t0), e.Type, e.Status, e.Description)
		}
		t.Fatalf("%d firings by +35s, want 1: %v", len(fired), labelsOf(fired))
	}
	e := fired[0]
	want := "target cpu_utilization 60: observed 105 over 4 ready → 7"
	if e.ProposedQuantity == nil || *e.ProposedQuantity != 7 || e.Observed != want || e.Request == nil || e.Request.Target == nil ||
		!strings.Contains(e.Description, want) || e.Source.ID != tr.ID {
		t.Fatalf("firing %s: proposed %v observed %q description %q; want 7 and %q", e.Label, e.ProposedQuantity, e.Observed, e.Description, want)
	}
	if p := h.periods(g.ID)[0]; p.DesiredAfter != 7 || len(p.Requests) != 1 || p.Requests[0].ProposedQuantity != 7 ||
		!strings.Contains(p.Summary, "target cpu_utilization 60 → 7") {
		t.Fatalf("H1: desired %d→%d requests %+v summary %q; want → 7 from the target", p.DesiredBefore, p.DesiredAfter, p.Requests, p.Summary)
	}

	// 7 nodes at 60: nothing to do.
	h.runTo(3*time.Minute, push)
	if n := len(eventsOfType(h.events(g.ID), api.EventTriggerFired)); n != 1 {
		t.Fatalf("%d firings at the target, want still 1", n)
	}
	// Load drops at +3m to 20 a node: the proposal is 3, held by the
	// proposals of 7 over the last 2m until +5m.
	load = 140
	h.runTo(5*time.Minute-time.Second, push)
	if n := len(eventsOfType(h.events(g.ID), api.EventTriggerFired)); n != 1 {
		t.Fatalf("a scale-in before the stabilization window passed: %d firings by +4m59s", n)
	}
	h.runTo(6*time.Minute, push)
	fired = eventsOfType(h.events(g.ID), api.EventTriggerFired)
	if len(fired) != 2 {
		t.Fatalf("%d firings by +6m, want the scale-in as the 2nd: %v", len(fired), labelsOf(fired))
	}
	in := fired[1]
	if in.Time.Sub(t0) < 5*time.Minute || *in.ProposedQuantity != 3 ||
		in.Observed != "target cpu_utilization 60: observed 20 over 7 ready → 3" {
		t.Fatalf("scale-in %s at +%s: proposed %d observed %q; want 3 after +5m", in.Label, in.Time.Sub(t0), *in.ProposedQuantity, in.Observed)
	}
	if got := h.group(g.ID).DesiredQuantity; got != 3 {
		t.Fatalf("desired %d at +6m, want 3", got)
	}
}

// TestTargetStabilizationNoted: a scale-in partly held back by the
// stabilization window goes to the largest proposal over it, and the
// period's record says so.
func TestTargetStabilizationNoted(t *testing.T) {
	h := newHarness(t)
	g := h.createGroup(api.GroupConfig{Name: "held", DesiredQuantity: 10, MaxQuantity: 20, AggregationPeriod: "30s",
		Sim: &api.SimConfig{BootTime: "1s"}})
	if _, err := h.c.CreateTrigger(h.ctx, g.ID, api.TriggerSpec{
		Name:    ptr("cpu-target"),
		Request: api.Request{Target: &api.Target{Metric: "cpu", Value: 60, Window: "1s", ScaleInStabilization: "1m"}},
	}); err != nil {
		t.Fatal(err)
	}
	// Until +30s at the target (proposals of 10), to +40s at 48
	// (ceil(10 × 48/60) = 8, held by the 10s), then 12 (proposals of 2).
	push := func(now time.Duration) {
		cpu := 60.0
		switch {
		case now > 40*time.Second:
			cpu = 12
		case now > 30*time.Second:
			cpu = 48
		}
		h.push(g.ID, api.Sample{Name: "cpu", Value: cpu})
	}
	h.runTo(89*time.Second, push)
	if n := len(eventsOfType(h.events(g.ID), api.EventTriggerFired)); n != 0 {
		for _, e := range h.events(g.ID) {
			t.Logf("%s +%s %s %s %q", e.Label, e.Time.Sub(t0), e.Type, e.Status, e.Description)
		}
		t.Fatalf("%d firings while the proposals of 10 are in the window", n)
	}
	// At +100s the 8s of +31s to +40s leave the window too; before, the
	// scale-in goes to 8.
	h.runTo(95*time.Second, push)
	fired := eventsOfType(h.events(g.ID), api.EventTriggerFired)
	if len(fired) != 1 {
		for _, e := range h.events(g.ID) {
			t.Logf("%s +%s %s %s %s %q", e.Label, e.Time.Sub(t0), e.PeriodLabel, e.Type, e.Status, e.Description)
		}
		t.Fatalf("%d firings by +95s, want 1: %v", len(fired), labelsOf(fired))
	}
	e := fired[0]
	note := "scale-in held by scale_in_stabilization 1m: proposed 2, the largest proposal over it was 8 at 10:00:"
	if *e.ProposedQuantity != 8 || e.Time.Sub(t0) != 90*time.Second || len(e.Notes) != 1 || !strings.HasPrefix(e.Notes[0], note) {
		t.Fatalf("%s at +%s proposed %d notes %q; want 8 at +90s (the 10 of +30s out of the window) noting %q", e.Label, e.Time.Sub(t0), *e.ProposedQuantity, e.Notes, note)
	}
	var rec *api.Period
	for _, p := range h.periods(g.ID) {
		if p.Label == e.PeriodLabel {
			rec = &p
		}
	}
	if rec == nil || rec.DesiredAfter != 8 || len(rec.Notes) != 1 || rec.Notes[0] != e.Label+": "+e.Notes[0] {
		t.Fatalf("record of %s: %+v; want desired 8 and the note %q", e.PeriodLabel, rec, e.Label+": "+e.Notes[0])
	}
}

// TestUnknownMetricWarning: a trigger over a metric the group has never
// seen is accepted with a warning naming the metrics it has seen; one
// over known metrics (pushed, computed or a metric source's) has none.
func TestUnknownMetricWarning(t *testing.T) {
	h := newHarness(t)
	g := h.createGroup(api.GroupConfig{Name: "web", DesiredQuantity: 1, AggregationPeriod: "30s",
		MetricSources: []api.MetricSource{{Name: "rps", Prometheus: &api.PrometheusSource{Query: "up"}}}})
	h.push(g.ID, api.Sample{Name: "cpu_utilization", Value: 50})
	tr, err := h.c.CreateTrigger(h.ctx, g.ID, api.TriggerSpec{
		Name: ptr("typo"), Condition: ptr("avg(cpu_utilisation, '2m') > 80 and last(rps) > 1"), Request: api.Request{ChangeBy: ptr(1)},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "metric cpu_utilisation has never been seen for this group; known: cpu_utilization, nodes_desired, nodes_ready, rps"
	if len(tr.Warnings) != 1 || tr.Warnings[0] != want {
		t.Fatalf("warnings %q, want [%q]", tr.Warnings, want)
	}
	tg, err := h.c.CreateTrigger(h.ctx, g.ID, api.TriggerSpec{
		Name: ptr("target"), Request: api.Request{Target: &api.Target{Metric: "cpu", Value: 60}},
	})
	if err != nil || len(tg.Warnings) != 1 || !strings.HasPrefix(tg.Warnings[0], "metric cpu has never been seen") {
		t.Fatalf("target over cpu: %v, warnings %q", err, tg.Warnings)
	}
	ok, err := h.c.UpdateTrigger(h.ctx, tr.ID, api.TriggerSpec{Condition: ptr("avg(cpu_utilization, '2m') > 80 and last(nodes_ready) < 5")})
	if err != nil || len(ok.Warnings) != 0 {
		t.Fatalf("fixed condition: %v, warnings %q", err, ok.Warnings)
	}
}

// TestTargetMissingNodes: over a metric the nodes report themselves
// (samples with their node_id), a ready node that sent nothing over the
// window counts as the HPA's missing pod: at 0 on a scale-out, at the
// target on a scale-in. Samples naming no node of the group are a
// group-wide metric, over every ready node.
func TestTargetMissingNodes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		value float64
		// byNode names the samples' node_id from the node; "" sends none.
		byNode func(api.Node) string
		want   int
		text   string
	}{
		// (4 × 120 + 0) / (5 × 60) = 1.6 → ceil(1.6 × 5); 10 without the rule.
		{"scale-out, one silent", 120, func(n api.Node) string { return n.ID }, 8,
			"target cpu 60: observed 120 over 4 ready, 1 not reporting → 8"},
		// (4 × 20 + 60) / (5 × 60) = 0.47 → ceil(0.47 × 5); 2 without the rule.
		{"scale-in, one silent", 20, func(n api.Node) string { return n.ID }, 3,
			"target cpu 60: observed 20 over 4 ready, 1 not reporting → 3"},
		{"node ids of no node", 120, func(n api.Node) string { return "host-" + n.Name }, 10,
			"target cpu 60: observed 120 over 5 ready → 10"},
		{"no node ids", 120, func(api.Node) string { return "" }, 10,
			"target cpu 60: observed 120 over 5 ready → 10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			g := h.createGroup(api.GroupConfig{Name: "tracked", DesiredQuantity: 5, MaxQuantity: 20, AggregationPeriod: "30s",
				Sim: &api.SimConfig{BootTime: "1s"}})
			h.runTo(5*time.Second, nil)
			ready := h.nodes(g.ID, api.NodeReady)
			if len(ready) != 5 {
				t.Fatalf("%d ready nodes at +5s, want 5", len(ready))
			}
			// All five report, then the last one stops and the other
			// four go on: by +20s its sample is out of the 10s window.
			for _, n := range ready {
				h.push(g.ID, api.Sample{Name: "cpu", Value: tc.value, NodeID: tc.byNode(n)})
			}
			four := func(time.Duration) {
				for _, n := range ready[:4] {
					h.push(g.ID, api.Sample{Name: "cpu", Value: tc.value, NodeID: tc.byNode(n)})
				}
			}
			h.runTo(20*time.Second, four)
			if _, err := h.c.CreateTrigger(h.ctx, g.ID, api.TriggerSpec{
				Name:    ptr("cpu-target"),
				Request: api.Request{Target: &api.Target{Metric: "cpu", Value: 60, Window: "10s", ScaleInStabilization: "0s"}},
			}); err != nil {
				t.Fatal(err)
			}
			h.runTo(29*time.Second, four)
			fired := eventsOfType(h.events(g.ID), api.EventTriggerFired)
			if len(fired) != 1 {
				t.Fatalf("%d firings in the first period, want 1: %v", len(fired), labelsOf(fired))
			}
			if e := fired[0]; *e.ProposedQuantity != tc.want || e.Observed != tc.text {
				t.Fatalf("%s: proposed %d, %q; want %d, %q", e.Label, *e.ProposedQuantity, e.Observed, tc.want, tc.text)
			}
		})
	}
}
