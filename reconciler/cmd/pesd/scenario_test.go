//go:build linux

package main

// Acceptance scenarios through the real daemon: pesd built by TestMain,
// its HTTP API, its SQLite file and the sim driver. Triggers are fed by
// pushed metrics and evaluated every 200ms; periods last an hour, so only
// an explicit harmonize ends one.

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/cli/clitest"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
)

// fastTriggers are the serve flags of the scenarios: triggers evaluated
// every 200ms, nodes observed every 100ms.
var fastTriggers = []string{"--evaluation-interval", "200ms", "--observe-interval", "100ms"}

// scene drives one group of a running pesd through its API.
type scene struct {
	t   *testing.T
	ctx context.Context
	c   *client.Client
	g   api.Group
}

func newScene(t *testing.T, ctx context.Context, c *client.Client, cfg api.GroupConfig) *scene {
	t.Helper()
	g, err := c.CreateGroup(ctx, cfg)
	if err != nil {
		t.Fatalf("create group %s: %v", cfg.Name, err)
	}
	return &scene{t: t, ctx: ctx, c: c, g: g}
}

// push sends one group-level sample taken now.
func (s *scene) push(name string, v float64) {
	s.t.Helper()
	r, err := s.c.PushMetrics(s.ctx, s.g.ID, []api.Sample{{Name: name, Value: v}})
	if err != nil {
		s.t.Fatalf("push %s=%g: %v", name, v, err)
	}
	if r.Accepted != 1 {
		s.t.Fatalf("push %s=%g: %d samples accepted, want 1", name, v, r.Accepted)
	}
}

func (s *scene) trigger(spec api.TriggerSpec) api.Trigger {
	s.t.Helper()
	tr, err := s.c.CreateTrigger(s.ctx, s.g.ID, spec)
	if err != nil {
		s.t.Fatalf("create trigger %s: %v", *spec.Name, err)
	}
	return tr
}

func (s *scene) instruct(in api.Instruction) api.Event {
	s.t.Helper()
	e, err := s.c.Instruct(s.ctx, s.g.ID, in)
	if err != nil {
		s.t.Fatalf("instruction %+v: %v", in, err)
	}
	return e
}

func (s *scene) harmonize() api.Period {
	s.t.Helper()
	p, err := s.c.Harmonize(s.ctx, s.g.ID)
	if err != nil {
		s.t.Fatalf("harmonize: %v", err)
	}
	return p
}

func (s *scene) patch(p api.GroupPatch) {
	s.t.Helper()
	if _, err := s.c.UpdateGroup(s.ctx, s.g.ID, p); err != nil {
		s.t.Fatalf("patch group: %v", err)
	}
}

// waitEvent polls the group's events until one matches.
func (s *scene) waitEvent(what string, match func(api.Event) bool) api.Event {
	s.t.Helper()
	var found api.Event
	eventually(s.t, 15*time.Second, what, func() (bool, string) {
		evs, err := s.c.ListAllEvents(s.ctx, s.g.ID, client.EventFilter{})
		if err != nil {
			return false, err.Error()
		}
		for _, e := range evs {
			if match(e) {
				found = e
				return true, ""
			}
		}
		return false, eventList(evs)
	})
	return found
}

// waitFired waits for a firing of the named trigger with the given status
// in the given period.
func (s *scene) waitFired(trigger, status, periodID string) api.Event {
	s.t.Helper()
	return s.waitEvent(fmt.Sprintf("trigger %s fired (%s)", trigger, status), func(e api.Event) bool {
		return e.Type == api.EventTriggerFired && e.Source.Name == trigger && e.Status == status && e.PeriodID == periodID
	})
}

// settle waits until the group has its desired quantity ready and no
// change in progress, and returns the group.
func (s *scene) settle() api.Group {
	s.t.Helper()
	var g api.Group
	eventually(s.t, 15*time.Second, "group settled", func() (bool, string) {
		var err error
		if g, err = s.c.GetGroup(s.ctx, s.g.ID); err != nil {
			return false, err.Error()
		}
		chs, err := s.c.ListAllChanges(s.ctx, s.g.ID, client.ChangeFilter{})
		if err != nil {
			return false, err.Error()
		}
		var open []string
		for _, ch := range chs {
			if ch.Status == api.ChangeInProgress {
				open = append(open, ch.Label)
			}
		}
		return g.ActualQuantity == g.DesiredQuantity && len(open) == 0,
			fmt.Sprintf("desired %d actual %d, in progress %v", g.DesiredQuantity, g.ActualQuantity, open)
	})
	s.g = g
	return g
}

// readyNode returns one ready node of the group.
func (s *scene) readyNode() string {
	s.t.Helper()
	nodes, err := s.c.ListNodes(s.ctx, s.g.ID, client.NodeFilter{})
	if err != nil {
		s.t.Fatal(err)
	}
	for _, n := range nodes {
		if n.State == api.NodeReady {
			return n.ID
		}
	}
	s.t.Fatalf("group %s has no ready node: %+v", s.g.Name, nodes)
	return ""
}

func eventList(evs []api.Event) string {
	parts := make([]string, 0, len(evs))
	for _, e := range evs {
		parts = append(parts, fmt.Sprintf("%s %s/%s %s", e.Label, e.Type, e.Source.Name, e.Status))
	}
	return "events: " + strings.Join(parts, ", ")
}

// scenarioGroup is a sim group whose periods only end by an explicit
// harmonize.
func scenarioGroup(name string, desired int) api.GroupConfig {
	cfg := simGroup(name, desired)
	cfg.MaxQuantity = 20
	cfg.AggregationPeriod = "1h"
	cfg.Sim.BootTime = "100ms"
	return cfg
}

// The scenario triggers read pushed metrics. A baseline below both
// thresholds is pushed before they exist, so neither reports missing data.
const (
	queueHigh   = "queue-high"
	latencyHigh = "latency-high"
)

func pushBaseline(s *scene) {
	s.t.Helper()
	s.push("queue_depth", 10)
	s.push("latency_ms", 100)
}

func ptr[T any](v T) *T { return &v }

// TestScenarioAggregation: two triggers fed by pushed metrics and a user
// instruction in one period are aggregated by POST /harmonize as each
// policy says, and the period record shows every request, the policy,
// the aggregated quantity and the change.
func TestScenarioAggregation(t *testing.T) {
	needE2E(t)
	d := startDaemon(t, t.TempDir(), "scenario-token", fastTriggers...)
	scenarioAggregation(t, d.client(t))
}

func scenarioAggregation(t *testing.T, c *client.Client) {
	ctx := ctxFor(t)

	// Desired 4. The requests, in this order:
	//   user     set_to 3                      → 3, priority 100 (default)
	//   latency  change_by_percent 75 (+3)     → 7, priority 150
	//   queue    change_by 4                   → 8, priority 50 (default)
	// so that the priority policy's choice is neither the first, the
	// last, the smallest nor the largest proposal.
	const desired = 4
	tests := []struct {
		policy   string
		want     int
		decisive string // the request the policy chose; "" when it combines them
	}{
		{api.PolicyLargest, 8, queueHigh},
		{api.PolicySmallest, 3, "alice"},
		{api.PolicyAverage, 6, ""}, // (3+7+8)/3
		{api.PolicySum, 10, ""},    // 4 - 1 + 3 + 4
		{api.PolicyPriority, 7, latencyHigh},
		{api.PolicyFirst, 3, "alice"},
		{api.PolicyLast, 8, queueHigh},
	}
	for _, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			t.Parallel()
			cfg := scenarioGroup("agg-"+tt.policy, desired)
			cfg.AggregationPolicy = tt.policy
			s := newScene(t, ctx, c, cfg)
			g := s.settle()
			period := g.CurrentPeriodID
			pushBaseline(s)
			s.trigger(api.TriggerSpec{Name: ptr(queueHigh), Condition: ptr("last(queue_depth) > 100"),
				Request: api.Request{ChangeBy: ptr(4)}})
			s.trigger(api.TriggerSpec{Name: ptr(latencyHigh), Condition: ptr("avg(latency_ms, '1m') > 250"),
				Request: api.Request{ChangeByPercent: ptr(75.0)}, Priority: ptr(150)})

			user := s.instruct(api.Instruction{Request: api.Request{SetTo: ptr(3)}, Actor: "alice", Reason: "night"})
			s.push("latency_ms", 1000)
			lat := s.waitFired(latencyHigh, api.EventAggregated, period)
			s.push("queue_depth", 500)
			queue := s.waitFired(queueHigh, api.EventAggregated, period)

			p := s.harmonize()
			checkPeriodRecord(t, p, period, tt.policy, desired, tt.want, []api.Event{user, lat, queue},
				[]int{3, 7, 8}, []int{api.DefaultInstructionPriority, 150, api.DefaultTriggerPriority})

			// The stored record is the one harmonize answered.
			stored, err := c.GetPeriod(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if stored.Summary != p.Summary || !slices.Equal(stored.ChangeIDs, p.ChangeIDs) || !stored.Harmonized {
				t.Errorf("GET /v1/periods/%s differs from the harmonize answer:\n got %+v\nwant %+v", p.ID, stored, p)
			}

			// The change, its causes and its explanation.
			ch, err := c.GetChange(ctx, p.ChangeIDs[0])
			if err != nil {
				t.Fatal(err)
			}
			wantType, wantAmount := api.ChangeAddNodes, tt.want-desired
			if tt.want < desired {
				wantType, wantAmount = api.ChangeRemoveNodes, desired-tt.want
			}
			if ch.Type != wantType || ch.Amount != wantAmount || ch.Attribution != api.AttributionIndirect ||
				ch.PeriodID != p.ID || ch.PeriodLabel != p.Label {
				t.Errorf("change %s: %s %d, %s, period %s %s; want %s %d, indirect, period %s %s",
					ch.Label, ch.Type, ch.Amount, ch.Attribution, ch.PeriodLabel, ch.PeriodID, wantType, wantAmount, p.Label, p.ID)
			}
			var causes, decisive []string
			for _, cs := range ch.Causes {
				causes = append(causes, cs.Event.ID)
				if cs.Attribution != api.AttributionIndirect {
					t.Errorf("cause %s of %s is %s, want indirect", cs.Event.Label, ch.Label, cs.Attribution)
				}
				if cs.Decisive {
					// Triggers by name, users by whom the admin token acted for.
					who := cs.Event.Source.Name
					if cs.Event.Source.OnBehalfOf != "" {
						who = cs.Event.Source.OnBehalfOf
					}
					decisive = append(decisive, who)
				}
			}
			// Seed 004: the request the policy chose is named as data, once.
			if want := []string{tt.decisive}; (tt.decisive == "" && len(decisive) > 0) || (tt.decisive != "" && !slices.Equal(decisive, want)) {
				t.Errorf("decisive causes of %s: %v, want %q", ch.Label, decisive, tt.decisive)
			}
			if want := []string{user.ID, lat.ID, queue.ID}; !sameSet(causes, want) {
				t.Errorf("causes of %s: %v, want the three requests %v", ch.Label, causes, want)
			}
			for _, e := range []api.Event{user, lat, queue} {
				if !mentions(ch.Explanation, e.Label) {
					t.Errorf("explanation of %s does not name %s: %s", ch.Label, e.Label, ch.Explanation)
				}
			}
			if want := fmt.Sprintf("Policy %s chose %+d → desired %d", tt.policy, tt.want-desired, tt.want); !strings.Contains(ch.Explanation, want) {
				t.Errorf("explanation of %s lacks %q: %s", ch.Label, want, ch.Explanation)
			}

			g = s.settle()
			if g.DesiredQuantity != tt.want || g.OfficialQuantity != tt.want {
				t.Errorf("after harmonization: desired %d official %d, want %d", g.DesiredQuantity, g.OfficialQuantity, tt.want)
			}
			t.Logf("%s\n%s", p.Summary, ch.Explanation)
		})
	}
}

// checkPeriodRecord checks a decision record against the requests that
// went into it (in time order) and what the policy should make of them.
func checkPeriodRecord(t *testing.T, p api.Period, periodID, policy string, before, want int, reqs []api.Event, proposed, priority []int) {
	t.Helper()
	if p.ID != periodID || !p.Harmonized || p.EndedAt == nil {
		t.Errorf("record %s (%s): harmonized %v, ended %v; want period %s harmonized", p.Label, p.ID, p.Harmonized, p.EndedAt, periodID)
	}
	if p.Policy != policy {
		t.Errorf("record %s: policy %q, want %q", p.Label, p.Policy, policy)
	}
	if len(p.Requests) != len(reqs) {
		t.Fatalf("record %s: %d requests %+v, want %d", p.Label, len(p.Requests), p.Requests, len(reqs))
	}
	for i, e := range reqs {
		r := p.Requests[i]
		if r.EventID != e.ID || r.Label != e.Label || r.ProposedQuantity != proposed[i] || r.Priority != priority[i] {
			t.Errorf("record %s request %d: %+v, want event %s (%s) proposing %d at priority %d",
				p.Label, i, r, e.Label, e.ID, proposed[i], priority[i])
		}
		if e.ProposedQuantity == nil || *e.ProposedQuantity != proposed[i] || e.Priority != priority[i] {
			t.Errorf("event %s: proposed %v priority %d, want %d and %d", e.Label, e.ProposedQuantity, e.Priority, proposed[i], priority[i])
		}
	}
	if len(p.Suppressed) != 0 {
		t.Errorf("record %s: suppressed %+v, want none", p.Label, p.Suppressed)
	}
	if p.AggregatedQuantity == nil || *p.AggregatedQuantity != want {
		t.Errorf("record %s: aggregated %v, want %d", p.Label, p.AggregatedQuantity, want)
	}
	if len(p.Clamps) != 0 {
		t.Errorf("record %s: clamps %+v, want none", p.Label, p.Clamps)
	}
	if p.DesiredBefore != before || p.DesiredAfter != want || p.OfficialBefore != before || p.OfficialAfter != want {
		t.Errorf("record %s: desired %d → %d, official %d → %d; want %d → %d for both",
			p.Label, p.DesiredBefore, p.DesiredAfter, p.OfficialBefore, p.OfficialAfter, before, want)
	}
	if p.Actual != before || p.InFlight != 0 {
		t.Errorf("record %s: actual %d in flight %d, want %d and 0", p.Label, p.Actual, p.InFlight, before)
	}
	if len(p.ChangeIDs) != 1 {
		t.Fatalf("record %s: changes %v, want one", p.Label, p.ChangeIDs)
	}
	for _, e := range reqs {
		if !mentions(p.Summary, e.Label) {
			t.Errorf("record %s summary does not name %s:\n%s", p.Label, e.Label, p.Summary)
		}
	}
}

// mentions reports whether text names label as a word: E1 is not E12.
func mentions(text, label string) bool {
	return regexp.MustCompile(`\b` + regexp.QuoteMeta(label) + `\b`).MatchString(text)
}

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

// causalScenario is what playCausal leaves in the record.
type causalScenario struct {
	s *scene
	// suppressed: queue-high firing in H1 during the cooldown.
	suppressed api.Event
	// h2: the harmonization of period 2 and the requests it aggregated
	// (an instruction, two firings, a deferred replacement).
	h2       api.Period
	h2Causes []api.Event
}

// playCausal plays a scenario with every kind of cause on one sim group:
//
//	H1: creation (one node never boots: init failure, replaced at once);
//	    queue-high fires during the 1h cooldown (suppressed); alice asks
//	    for +1; the user terminates a node (replaced at once); the cooldown
//	    is lifted; harmonize.
//	H2: replacement becomes deferred; bob asks for -1; latency-high and
//	    queue-high fire (aggregated); a node fails (its replacement waits
//	    for the harmonization); harmonize.
//	H3: an immediate instruction (+1).
func playCausal(t *testing.T, ctx context.Context, c *client.Client, name string) causalScenario {
	t.Helper()
	cfg := scenarioGroup(name, 2)
	cfg.Cooldown = "1h"
	cfg.Replacement = api.ReplacementImmediate
	cfg.InitDeadline = "1s"
	cfg.Sim.InitFailures = 1
	s := newScene(t, ctx, c, cfg)
	cs := causalScenario{s: s}

	eventually(t, 15*time.Second, "init failure chain", func() (bool, string) {
		_, status, err := findChain(ctx, c, s.g.ID, api.EventNodeInitFailed, "")
		if err != nil {
			return false, err.Error()
		}
		return status == "", status
	})
	g := s.settle()
	h1 := g.CurrentPeriodID

	pushBaseline(s)
	s.trigger(api.TriggerSpec{Name: ptr(queueHigh), Condition: ptr("last(queue_depth) > 100"),
		Request: api.Request{ChangeBy: ptr(2)}})
	s.trigger(api.TriggerSpec{Name: ptr(latencyHigh), Condition: ptr("last(latency_ms) > 250"),
		Request: api.Request{ChangeBy: ptr(1)}})
	s.push("queue_depth", 500)
	cs.suppressed = s.waitFired(queueHigh, api.EventSuppressed, h1)
	if !strings.HasPrefix(cs.suppressed.Reason, "cooldown") {
		t.Errorf("suppressed firing %s: reason %q, want the cooldown", cs.suppressed.Label, cs.suppressed.Reason)
	}
	alice := s.instruct(api.Instruction{Request: api.Request{ChangeBy: ptr(1)}, Actor: "alice"})
	if _, err := c.TerminateNode(ctx, s.g.ID, s.readyNode()); err != nil {
		t.Fatalf("terminate node: %v", err)
	}
	s.settle()
	s.push("queue_depth", 10)
	s.patch(api.GroupPatch{Cooldown: ptr("0s")})
	p1 := s.harmonize()
	if !slices.ContainsFunc(p1.Suppressed, func(x api.PeriodSuppressed) bool { return x.EventID == cs.suppressed.ID }) {
		t.Errorf("record %s does not list the suppressed firing %s: %+v", p1.Label, cs.suppressed.Label, p1.Suppressed)
	}
	if len(p1.Requests) != 1 || p1.Requests[0].EventID != alice.ID {
		t.Errorf("record %s requests %+v, want only %s", p1.Label, p1.Requests, alice.Label)
	}
	g = s.settle()
	h2 := g.CurrentPeriodID

	s.patch(api.GroupPatch{Replacement: ptr(api.ReplacementDeferred)})
	bob := s.instruct(api.Instruction{Request: api.Request{ChangeBy: ptr(-1)}, Actor: "bob"})
	s.push("latency_ms", 1000)
	lat := s.waitFired(latencyHigh, api.EventAggregated, h2)
	s.push("queue_depth", 500)
	queue := s.waitFired(queueHigh, api.EventAggregated, h2)
	// Back to normal, so neither trigger fires again after H2.
	s.push("queue_depth", 10)
	s.push("latency_ms", 100)
	lost := s.readyNode()
	if err := c.FailNode(ctx, s.g.ID, lost); err != nil {
		t.Fatalf("fail node %s: %v", lost, err)
	}
	repl := s.waitEvent("deferred replacement of "+lost, func(e api.Event) bool {
		return e.Type == api.EventReplacementRequest && e.NodeID == lost && e.Status == api.EventAggregated
	})
	cs.h2 = s.harmonize()
	cs.h2Causes = []api.Event{bob, lat, queue, repl}
	s.settle()

	s.instruct(api.Instruction{Request: api.Request{ChangeBy: ptr(1)}, Immediate: true, Actor: "carol"})
	s.settle()
	return cs
}

// checkCausality reads every event and change of a group both ways and
// checks that the answers agree: each effect's change lists the event as
// a cause with the same attribution and vice versa, the caused_by filter
// gives the same changes, every change has a cause, and every
// explanation names the causes. It returns the details by id.
func checkCausality(t testing.TB, ctx context.Context, c *client.Client, groupID string) (map[string]api.EventDetail, map[string]api.ChangeDetail) {
	t.Helper()
	evs, err := c.ListAllEvents(ctx, groupID, client.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	chs, err := c.ListAllChanges(ctx, groupID, client.ChangeFilter{})
	if err != nil {
		t.Fatal(err)
	}
	type link struct{ event, change string }
	fromEvents, fromChanges := map[link]string{}, map[link]string{}
	events, changes := map[string]api.EventDetail{}, map[string]api.ChangeDetail{}
	labels := map[string]string{}
	for _, e := range evs {
		labels[e.ID] = e.Label
	}
	for _, ch := range chs {
		labels[ch.ID] = ch.Label
	}

	for _, e := range evs {
		d, err := c.GetEvent(ctx, e.ID)
		if err != nil {
			t.Fatalf("GET /v1/events/%s (%s): %v", e.ID, e.Label, err)
		}
		events[e.ID] = d
		if d.Label != e.Label || d.NexusID != e.NexusID || d.Status != e.Status || d.GroupID != groupID {
			t.Errorf("event %s: GET says %s nexus %q status %s group %s, the list says %s nexus %q status %s",
				e.ID, d.Label, d.NexusID, d.Status, d.GroupID, e.Label, e.NexusID, e.Status)
		}
		if !mentions(d.Explanation, e.Label) || d.Description == "" {
			t.Errorf("event %s: description %q, explanation %q", e.Label, d.Description, d.Explanation)
		}
		var effects []string
		for _, ef := range d.Effects {
			effects = append(effects, ef.Change.ID)
			fromEvents[link{e.ID, ef.Change.ID}] = ef.Attribution
			if labels[ef.Change.ID] == "" {
				t.Errorf("effect %s of %s is not among the group's changes", ef.Change.ID, e.Label)
			}
			if ef.Change.NexusID != e.NexusID {
				t.Errorf("effect %s of %s: nexus %q, event's %q", ef.Change.Label, e.Label, ef.Change.NexusID, e.NexusID)
			}
		}
		if (e.Status == api.EventSuppressed || e.Status == api.EventIgnored) && len(effects) > 0 {
			t.Errorf("event %s is %s but has effects %v", e.Label, e.Status, effects)
		}
		// caused_by takes the event's id or, for people, its label.
		for _, by := range []string{e.ID, e.Label} {
			filtered, err := c.ListAllChanges(ctx, groupID, client.ChangeFilter{CausedBy: by})
			if err != nil {
				t.Fatalf("changes caused_by %s: %v", by, err)
			}
			var byFilter []string
			for _, ch := range filtered {
				byFilter = append(byFilter, ch.ID)
			}
			if !sameSet(byFilter, effects) {
				t.Errorf("event %s: caused_by=%s lists %v, effects are %v", e.Label, by, labelsOf(labels, byFilter), labelsOf(labels, effects))
			}
		}
	}

	for _, ch := range chs {
		d, err := c.GetChange(ctx, ch.ID)
		if err != nil {
			t.Fatalf("GET /v1/changes/%s (%s): %v", ch.ID, ch.Label, err)
		}
		changes[ch.ID] = d
		if d.Label != ch.Label || d.NexusID != ch.NexusID || d.GroupID != groupID {
			t.Errorf("change %s: GET says %s nexus %q group %s, the list says %s nexus %q", ch.ID, d.Label, d.NexusID, d.GroupID, ch.Label, ch.NexusID)
		}
		if len(d.Causes) == 0 {
			t.Errorf("change %s (%s) has no cause: %s", ch.Label, ch.Description, d.Explanation)
		}
		if !mentions(d.Explanation, ch.Label) || d.Description == "" {
			t.Errorf("change %s: description %q, explanation %q", ch.Label, d.Description, d.Explanation)
		}
		decisive := 0
		for _, cs := range d.Causes {
			if cs.Decisive {
				decisive++
				if cs.Attribution != api.AttributionIndirect {
					t.Errorf("change %s: decisive cause %s is %s; only a harmonization chooses", ch.Label, cs.Event.Label, cs.Attribution)
				}
			}
		}
		if decisive > 1 {
			t.Errorf("change %s has %d decisive causes, want at most one", ch.Label, decisive)
		}
		for _, cs := range d.Causes {
			fromChanges[link{cs.Event.ID, ch.ID}] = cs.Attribution
			if labels[cs.Event.ID] == "" {
				t.Errorf("cause %s of %s is not among the group's events", cs.Event.ID, ch.Label)
			}
			if cs.Attribution != ch.Attribution {
				t.Errorf("change %s is %s but its cause %s is %s", ch.Label, ch.Attribution, cs.Event.Label, cs.Attribution)
			}
			if !mentions(d.Explanation, cs.Event.Label) {
				t.Errorf("explanation of %s does not name its cause %s: %s", ch.Label, cs.Event.Label, d.Explanation)
			}
		}
		if ch.Attribution == api.AttributionDirect && len(d.Causes) != 1 {
			t.Errorf("direct change %s has %d causes, want 1", ch.Label, len(d.Causes))
		}
	}

	for l, a := range fromEvents {
		if b, ok := fromChanges[l]; !ok || a != b {
			t.Errorf("event %s lists effect %s (%s); the change lists it as a cause: %v (%q)",
				labels[l.event], labels[l.change], a, ok, b)
		}
	}
	for l, b := range fromChanges {
		if _, ok := fromEvents[l]; !ok {
			t.Errorf("change %s lists cause %s (%s); the event does not list the change among its effects",
				labels[l.change], labels[l.event], b)
		}
	}
	return events, changes
}

func labelsOf(labels map[string]string, ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, labels[id])
	}
	slices.Sort(out)
	return out
}

// TestScenarioCausalityAgrees: in a scenario with triggers, instructions,
// node failures, init failures and suppressed firings, change → causes,
// event → effects and the caused_by filter agree for every event and
// change.
func TestScenarioCausalityAgrees(t *testing.T) {
	needE2E(t)
	t.Parallel()
	d := startDaemon(t, t.TempDir(), "scenario-token", fastTriggers...)
	scenarioCausalityAgrees(t, d.client(t))
}

func scenarioCausalityAgrees(t *testing.T, c *client.Client) {
	ctx := ctxFor(t)
	sc := playCausal(t, ctx, c, "causal")

	events, changes := checkCausality(t, ctx, c, sc.s.g.ID)

	// Every kind of cause is in the record.
	seen := map[string]bool{}
	for _, e := range events {
		seen[e.Type+"/"+e.Status] = true
	}
	for _, want := range []string{
		api.EventGroupCreated + "/" + api.EventApplied,
		api.EventNodeInitFailed + "/" + api.EventApplied,
		api.EventReplacementRequest + "/" + api.EventApplied,
		api.EventReplacementRequest + "/" + api.EventAggregated,
		api.EventTriggerFired + "/" + api.EventSuppressed,
		api.EventTriggerFired + "/" + api.EventAggregated,
		api.EventUserInstruction + "/" + api.EventAggregated,
		api.EventUserInstruction + "/" + api.EventApplied,
		api.EventNodeTerminatedUser + "/" + api.EventApplied,
		api.EventNodeUnavailable + "/" + api.EventApplied,
	} {
		if !seen[want] {
			t.Errorf("the scenario left no %s event; saw %v", want, slices.Sorted(maps.Keys(seen)))
		}
	}

	// The suppressed firing caused nothing, and says why.
	sup := events[sc.suppressed.ID]
	if len(sup.Effects) != 0 || !strings.Contains(sup.Explanation, "cooldown") {
		t.Errorf("suppressed %s: effects %+v, explanation %q; want none and the cooldown", sup.Label, sup.Effects, sup.Explanation)
	}

	// The aggregated change of H2 has exactly the period's requests as
	// causes, and its explanation names them all.
	var agg []api.ChangeDetail
	for _, id := range sc.h2.ChangeIDs {
		agg = append(agg, changes[id])
	}
	if len(agg) == 0 {
		t.Fatalf("record %s made no change: %+v", sc.h2.Label, sc.h2)
	}
	want := make([]string, 0, len(sc.h2Causes))
	for _, e := range sc.h2Causes {
		want = append(want, e.ID)
	}
	for _, ch := range agg {
		var got []string
		for _, cs := range ch.Causes {
			got = append(got, cs.Event.ID)
		}
		if !sameSet(got, want) || ch.Attribution != api.AttributionIndirect {
			t.Errorf("%s change %s: causes %v, want %v", ch.Attribution, ch.Label,
				labelsOf(labelsByID(events), got), labelsOf(labelsByID(events), want))
		}
		for _, e := range sc.h2Causes {
			if !mentions(ch.Explanation, e.Label) {
				t.Errorf("explanation of %s does not name %s: %s", ch.Label, e.Label, ch.Explanation)
			}
		}
		t.Logf("%s", ch.Explanation)
	}
	t.Logf("%d events, %d changes agree both ways", len(events), len(changes))
}

func labelsByID(events map[string]api.EventDetail) map[string]string {
	out := make(map[string]string, len(events))
	for id, e := range events {
		out[id] = e.Label
	}
	return out
}

// TestScenarioDeleteKeepsHistory: deleting a group keeps its events,
// changes and explanations queryable, by id and through the lists, and
// the group reads back as deleted.
func TestScenarioDeleteKeepsHistory(t *testing.T) {
	needE2E(t)
	t.Parallel()
	d := startDaemon(t, t.TempDir(), "scenario-token", fastTriggers...)
	scenarioDeleteKeepsHistory(t, d.client(t))
}

func scenarioDeleteKeepsHistory(t *testing.T, c *client.Client) {
	ctx := ctxFor(t)
	sc := playCausal(t, ctx, c, "doomed")
	id := sc.s.g.ID
	live := sc.s.g.ActualQuantity

	events, changes := checkCausality(t, ctx, c, id)
	periods, err := c.ListAllPeriods(ctx, id, client.Page{})
	if err != nil {
		t.Fatal(err)
	}

	if err := c.DeleteGroup(ctx, id); err != nil {
		t.Fatalf("delete: %v", err)
	}
	g, err := c.GetGroup(ctx, id)
	if err != nil {
		t.Fatalf("GET a deleted group: %v", err)
	}
	if g.Status != api.GroupDeleted || g.DeletedAt == nil {
		t.Errorf("deleted group: status %q deleted_at %v", g.Status, g.DeletedAt)
	}
	listed := func(includeDeleted bool) bool {
		gs, err := c.ListAllGroups(ctx, client.GroupFilter{IncludeDeleted: includeDeleted})
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(gs, func(g api.Group) bool { return g.ID == id })
	}
	if listed(false) || !listed(true) {
		t.Errorf("deleted group listed by default: %v, with include_deleted: %v; want false, true", listed(false), listed(true))
	}

	// The deletion is itself an event: it removed the live nodes.
	del := sc.s.waitEvent("group_deleted", func(e api.Event) bool { return e.Type == api.EventGroupDeleted })
	eventually(t, 15*time.Second, "nodes of the deleted group terminated", func() (bool, string) {
		nodes, err := c.ListNodes(ctx, id, client.NodeFilter{})
		if err != nil {
			return false, err.Error()
		}
		return len(nodes) == 0, fmt.Sprintf("%d nodes left", len(nodes))
	})
	after, afterChanges := checkCausality(t, ctx, c, id)
	dd := after[del.ID]
	if len(dd.Effects) != 1 || dd.Effects[0].Change.Type != api.ChangeRemoveNodes || dd.Effects[0].Change.Amount != live {
		t.Errorf("%s: effects %+v, want one remove_nodes of the %d live nodes", dd.Label, dd.Effects, live)
	}

	// Everything recorded before the deletion reads the same after it.
	for eid, before := range events {
		a, ok := after[eid]
		switch {
		case !ok:
			t.Errorf("event %s is gone from the list after the deletion", before.Label)
		case a.Label != before.Label || a.Explanation != before.Explanation || !sameEffects(a.Effects, before.Effects):
			t.Errorf("event %s changed with the deletion:\n before %s %+v\n after  %s %+v",
				before.Label, before.Explanation, before.Effects, a.Explanation, a.Effects)
		}
	}
	for cid, before := range changes {
		a, ok := afterChanges[cid]
		switch {
		case !ok:
			t.Errorf("change %s is gone from the list after the deletion", before.Label)
		case a.Label != before.Label || a.Explanation != before.Explanation || !sameCauses(a.Causes, before.Causes):
			t.Errorf("change %s changed with the deletion:\n before %s %+v\n after  %s %+v",
				before.Label, before.Explanation, before.Causes, a.Explanation, a.Causes)
		}
	}
	for _, p := range periods {
		a, err := c.GetPeriod(ctx, p.ID)
		if err != nil {
			t.Errorf("period %s after the deletion: %v", p.Label, err)
			continue
		}
		if p.Harmonized && (a.Summary != p.Summary || !slices.Equal(a.ChangeIDs, p.ChangeIDs)) {
			t.Errorf("record %s changed with the deletion:\n%s\n%s", p.Label, p.Summary, a.Summary)
		}
	}
	after2, err := c.ListAllPeriods(ctx, id, client.Page{})
	if err != nil || len(after2) != len(periods) {
		t.Errorf("periods after the deletion: %d (%v), want the %d before", len(after2), err, len(periods))
	}
	// Filters still work on the deleted group's history.
	if got, err := c.ListAllChanges(ctx, id, client.ChangeFilter{Type: api.ChangeNodeLost}); err != nil || len(got) == 0 {
		t.Errorf("node_lost changes of the deleted group: %d, %v", len(got), err)
	}
	if got, err := c.ListAllEvents(ctx, id, client.EventFilter{Type: api.EventTriggerFired}); err != nil || len(got) != 3 {
		t.Errorf("trigger_fired events of the deleted group: %d, %v; want 3", len(got), err)
	}
}

func sameEffects(a, b []api.Effect) bool {
	return slices.EqualFunc(a, b, func(x, y api.Effect) bool { return x.Attribution == y.Attribution && x.Change.ID == y.Change.ID })
}

func sameCauses(a, b []api.Cause) bool {
	return slices.EqualFunc(a, b, func(x, y api.Cause) bool { return x.Attribution == y.Attribution && x.Event.ID == y.Event.ID })
}

// errRecorder is a testing.TB that records failures instead of failing,
// so a test can check that a checker catches what it should.
type errRecorder struct {
	testing.TB
	errs []string
}

func (r *errRecorder) Helper() {}

func (r *errRecorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *errRecorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *errRecorder) Fatal(args ...any) {
	r.errs = append(r.errs, fmt.Sprint(args...))
	runtime.Goexit()
}

// TestCheckCausalityCatches runs checkCausality against the CLI tests'
// fake pesd, consistent and then with one answer made wrong, so the
// scenarios' checker is known to see a disagreement.
func TestCheckCausalityCatches(t *testing.T) {
	f := clitest.NewAPI()
	e2, c1, c3 := f.Events[1], f.Changes[0], f.Changes[2]
	tests := []struct {
		name string
		path string
		body any
		want string // in one of the reported errors; "" for none
	}{
		{"consistent", "", nil, ""},
		{"effect missing", "/v1/events/e-2", api.EventDetail{Event: e2, Effects: []api.Effect{}, Explanation: "Event E2 did nothing."},
			"the event does not list the change"},
		{"attributions differ", "/v1/events/e-2",
			api.EventDetail{Event: e2, Effects: []api.Effect{{Attribution: api.AttributionIndirect, Change: f.Changes[1]}}, Explanation: "Event E2."},
			"lists effect C2 (indirect)"},
		{"change without cause", "/v1/changes/c-3", api.ChangeDetail{Change: c3, Causes: []api.Cause{}, Explanation: "Change C3."},
			"has no cause"},
		{"explanation misses a cause", "/v1/changes/c-1",
			api.ChangeDetail{Change: c1, Causes: f.Causes(c1), Explanation: "Change C1 added 3 nodes."},
			"does not name its cause E1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := f.Handler()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == tt.path && r.Header.Get("Authorization") == "Bearer "+clitest.Token {
					clitest.WriteJSON(w, http.StatusOK, tt.body)
					return
				}
				fake.ServeHTTP(w, r)
			}))
			t.Cleanup(srv.Close)
			c, err := client.New(srv.URL, clitest.Token, client.WithRetryMax(0))
			if err != nil {
				t.Fatal(err)
			}
			rec := &errRecorder{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				checkCausality(rec, t.Context(), c, "g-web")
			}()
			<-done
			if tt.want == "" {
				if len(rec.errs) > 0 {
					t.Errorf("a consistent record: checkCausality reported %q", rec.errs)
				}
				return
			}
			if !slices.ContainsFunc(rec.errs, func(e string) bool { return strings.Contains(e, tt.want) }) {
				t.Errorf("checkCausality reported %q, want an error with %q", rec.errs, tt.want)
			}
		})
	}
}
