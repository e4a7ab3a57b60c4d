package server_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// law is the known law of the synthetic program type: t = 30s +
// 0.6s·size/n + 2s·n.
func law(size float64, n int) float64 { return 30 + 0.6*size/float64(n) + 2*float64(n) }

// lawRunsJSON is six runs at 2, 4, 8, 16, 24 and 32 nodes following
// the law with Gaussian noise (sd 5s), as a runs import.
func lawRunsJSON(size float64) string {
	rng := rand.New(rand.NewPCG(7, 3))
	var runs []map[string]any
	end := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i, n := range []int{2, 4, 8, 16, 24, 32} {
		runs = append(runs, map[string]any{"label": fmt.Sprintf("law-%d", n), "input_size": size, "nodes_mean": n,
			"wall_seconds": law(size, n) + rng.NormFloat64()*5, "ended_at": end.Add(time.Duration(i) * time.Hour)})
	}
	b, _ := json.Marshal(runs)
	return string(b)
}

func items(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprint(i)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// TestRecommendationOnSim is acceptance 1 and 4 through the API on the
// sim driver: six runs of a known law imported into a program type, the
// recommendation for a deadline within one node of the true optimum,
// its predicted time within 10% of the true time, its interval covering
// it; then an execution with use_recommendation sizes its sim group to
// it at start, in a change caused by the start event whose explanation
// cites the recommendation and its runs.
func TestRecommendationOnSim(t *testing.T) {
	c := newConformance(t)
	c.tick(time.Second)
	const size = 5000
	var imp api.RunsImport
	c.json("POST", "/v1/program-types/synthetic/runs", lawRunsJSON(size), 200, &imp)
	if imp.Imported != 6 {
		t.Fatalf("imported %+v, want 6", imp)
	}
	// Importing the same runs again records nothing.
	c.json("POST", "/v1/program-types/synthetic/runs", lawRunsJSON(size), 200, &imp)
	if imp.Imported != 0 || imp.Skipped != 6 {
		t.Fatalf("imported again %+v, want 6 skipped", imp)
	}

	deadline := 5 * time.Minute
	truth := 0
	for n := 1; truth == 0; n++ {
		if law(size, n) <= deadline.Seconds() {
			truth = n
		}
	}
	var rec api.Recommendation
	c.json("GET", fmt.Sprintf("/v1/program-types/synthetic/recommendation?input_size=%d&deadline=5m", size), "", 200, &rec)
	if rec.Status != api.RecommendationOK || rec.Criterion != api.CriterionCheapestWithinDeadline || !rec.Met {
		t.Fatalf("recommendation %+v", rec)
	}
	trueTime := law(size, rec.NodeQuantity)
	t.Logf("true optimum %d nodes; recommended: %s", truth, rec.Explanation)
	t.Logf("at %d nodes: true %.1fs, predicted %.1fs (%.1f–%.1f); model %+v", rec.NodeQuantity, trueTime,
		rec.WallSeconds.Value, rec.WallSeconds.Low, rec.WallSeconds.High, *rec.Model)
	if d := rec.NodeQuantity - truth; d < -1 || d > 1 {
		t.Errorf("recommended %d nodes; the true optimum is %d", rec.NodeQuantity, truth)
	}
	if math.Abs(rec.WallSeconds.Value-trueTime) > 0.1*trueTime {
		t.Errorf("predicted %.1fs; the true time is %.1fs", rec.WallSeconds.Value, trueTime)
	}
	if trueTime < rec.WallSeconds.Low || trueTime > rec.WallSeconds.High {
		t.Errorf("interval %.1f–%.1fs misses the true time %.1fs", rec.WallSeconds.Low, rec.WallSeconds.High, trueTime)
	}
	if !strings.Contains(rec.Explanation, "cheapest that meets the 5m deadline; based on 6 runs of synthetic, fit R²") {
		t.Errorf("explanation %q", rec.Explanation)
	}

	// use_recommendation: the group (2 nodes) is sized to the
	// recommendation when the execution starts. The deadline is the
	// same 5 minutes from now.
	var g api.Group
	c.json("POST", "/v1/groups", `{"name":"batch","driver":"sim","desired_quantity":2,"max_quantity":64,"sim":{"boot_time":"1s"}}`, 201, &g)
	c.tick(2 * time.Second)
	var x api.Execution
	c.json("POST", "/v1/executions", fmt.Sprintf(`{"group_id":"batch","program_type":"synthetic","use_recommendation":true,
		"input":{"items":%s,"items_per_job":100},"deadline":%q,"sim":{"item_duration":"1ms"}}`,
		items(size), c.clk.Now().Add(deadline).Format(time.RFC3339)), 201, &x)
	if x.Recommendation == nil || x.Recommendation.NodeQuantity != rec.NodeQuantity {
		t.Fatalf("execution's recommendation %+v, want %d nodes", x.Recommendation, rec.NodeQuantity)
	}
	c.json("GET", "/v1/groups/batch", "", 200, &g)
	if g.DesiredQuantity != rec.NodeQuantity {
		t.Errorf("group desired %d, want the recommended %d", g.DesiredQuantity, rec.NodeQuantity)
	}
	var changes api.List[api.ChangeDetail]
	c.json("GET", "/v1/groups/batch/changes?include=causes&caused_by="+x.Events[0], "", 200, &changes)
	if len(changes.Items) != 1 {
		t.Fatalf("changes caused by %s: %d, want 1", x.Events[0], len(changes.Items))
	}
	ch := changes.Items[0]
	t.Logf("%s", ch.Explanation)
	if len(ch.Causes) != 1 || ch.Causes[0].Event.Type != api.EventExecutionStarted || ch.Attribution != "direct" {
		t.Errorf("causes of %s: %+v", ch.Label, ch.Causes)
	}
	want := fmt.Sprintf("set to %d by the recommendation from 6 prior runs of synthetic (law-2, law-4, law-8, law-16, law-24 and 1 more)", rec.NodeQuantity)
	if ch.QuantityAfter != rec.NodeQuantity || !strings.Contains(ch.Explanation, want) {
		t.Errorf("change %s → %d: explanation %q, want it to say %q", ch.Label, ch.QuantityAfter, ch.Explanation, want)
	}
	// It runs to completion and leaves a run record.
	for range 10 {
		c.tick(time.Second)
	}
	var runs api.List[api.Run]
	c.json("GET", "/v1/program-types/synthetic/runs", "", 200, &runs)
	last := runs.Items[len(runs.Items)-1]
	if len(runs.Items) != 7 || last.Label != x.Label || last.InputSize != size || last.JobCount != 50 || last.Driver != api.DriverSim {
		t.Errorf("runs after %s: %d, the last %+v", x.Label, len(runs.Items), last)
	}
}

// TestRecommendationWarning is acceptance 3 through the API: a node
// quantity too small for the deadline is accepted, with a warning in the
// answer beside the recommendation, and recorded as an event.
func TestRecommendationWarning(t *testing.T) {
	c := newConformance(t)
	c.tick(time.Second)
	const size = 5000
	c.json("POST", "/v1/program-types/synthetic/runs", lawRunsJSON(size), 200, nil)
	c.json("POST", "/v1/groups", `{"name":"small","driver":"sim","desired_quantity":2,"max_quantity":64,"sim":{"boot_time":"1s"}}`, 201, nil)
	c.tick(2 * time.Second)
	var x api.Execution
	c.json("POST", "/v1/executions", fmt.Sprintf(`{"group_id":"small","program_type":"synthetic",
		"input":{"items":%s,"items_per_job":500},"deadline":%q,"sim":{"item_duration":"1ms"}}`,
		items(size), c.clk.Now().Add(5*time.Minute).Format(time.RFC3339)), 201, &x)
	if len(x.Warnings) != 1 || x.Warnings[0].Kind != api.WarningDeadline || x.Recommendation == nil {
		t.Fatalf("warnings %+v, recommendation %v", x.Warnings, x.Recommendation)
	}
	w := x.Warnings[0]
	t.Logf("%s: %s", w.Event, w.Message)
	if !strings.Contains(w.Message, "execution "+x.Label+": 2 nodes are predicted to take") ||
		!strings.Contains(w.Message, "past its deadline in 5m; recommended: 13 nodes") {
		t.Errorf("warning %q", w.Message)
	}
	var events api.List[api.Event]
	c.json("GET", "/v1/groups/small/events?type=execution_warning", "", 200, &events)
	if len(events.Items) != 1 || events.Items[0].Label != w.Event || events.Items[0].Reason != w.Message {
		t.Fatalf("warning events %+v, want %s", events.Items, w.Event)
	}
	t.Logf("event %s: %s", events.Items[0].Label, events.Items[0].Description)
	// The quantity was left as asked: 2 nodes.
	var g api.Group
	c.json("GET", "/v1/groups/small", "", 200, &g)
	if g.DesiredQuantity != 2 {
		t.Errorf("desired %d, want the 2 asked for", g.DesiredQuantity)
	}
}

// TestRecommendationWarningOfTenant: an execution's creation reads only
// its group's tenant's runs. The runs the admin imports are the default
// tenant's, so the same execution on a group of tenant beta is neither
// warned nor sized: beta has no history.
func TestRecommendationWarningOfTenant(t *testing.T) {
	c := newConformance(t)
	c.tick(time.Second)
	const size = 5000
	c.json("POST", "/v1/program-types/synthetic/runs", lawRunsJSON(size), 200, nil)
	c.json("POST", "/v1/groups", `{"name":"small-beta","tenant":"beta","driver":"sim","desired_quantity":2,"max_quantity":64,"sim":{"boot_time":"1s"}}`, 201, nil)
	c.tick(2 * time.Second)
	create := func(extra string) string {
		return fmt.Sprintf(`{"group_id":"small-beta","program_type":"synthetic",
		"input":{"items":%s,"items_per_job":500},"deadline":%q,"sim":{"item_duration":"1ms"}%s}`,
			items(size), c.clk.Now().Add(5*time.Minute).Format(time.RFC3339), extra)
	}
	var x api.Execution
	c.json("POST", "/v1/executions", create(""), 201, &x)
	if len(x.Warnings) != 0 || x.Recommendation != nil {
		t.Errorf("execution of tenant beta warned from the default tenant's runs: %+v, %v", x.Warnings, x.Recommendation)
	}
	body := c.json("POST", "/v1/executions", create(`,"use_recommendation":true`), 400, nil)
	if !strings.Contains(string(body), "use_recommendation") || !strings.Contains(string(body), "not enough history") {
		t.Errorf("use_recommendation in tenant beta: %s", body)
	}
}

// TestRecommendationNotEnoughHistory is acceptance 5: fewer than 3 runs
// say so with the count; use_recommendation without them is a 400 naming
// it; bad query parameters are a 400 naming the parameter.
func TestRecommendationNotEnoughHistory(t *testing.T) {
	c := newConformance(t)
	c.tick(time.Second)
	c.call("POST", "/v1/program-types/wordcount/runs", "text/csv",
		"input_size,nodes_mean,wall_seconds,status\n1000,2,300,completed\n1000,4,200,completed\n1000,8,100,failed\n", 200, nil)
	var rec api.Recommendation
	c.json("GET", "/v1/program-types/wordcount/recommendation?input_size=1e6&deadline=1h", "", 200, &rec)
	t.Logf("%s", rec.Explanation)
	if rec.Status != api.RecommendationNotEnoughRuns || rec.Runs != 2 || rec.NodeQuantity != 0 ||
		rec.Explanation != "not enough history: 2 runs of wordcount completed; a recommendation needs 3" {
		t.Errorf("recommendation %+v", rec)
	}
	c.json("POST", "/v1/groups", `{"name":"wc","driver":"sim","desired_quantity":1,"sim":{"boot_time":"1s"}}`, 201, nil)
	var e api.ErrorBody
	c.json("POST", "/v1/executions", `{"group_id":"wc","program_type":"wordcount","use_recommendation":true,"input":{"items":[1]}}`, 400, &e)
	if e.Error.Field != "use_recommendation" || !strings.Contains(e.Error.Message, "not enough history: 2 runs") {
		t.Errorf("use_recommendation without history: %+v", e.Error)
	}
	for _, tc := range []struct{ query, field string }{
		{"", "input_size"},
		{"input_size=lots", "input_size"},
		{"input_size=-5", "input_size"},
		{"input_size=10&deadline=soon", "deadline"},
		{"input_size=10&deadline=-1h", "deadline"},
		{"input_size=10&max_node_hours=0", "max_node_hours"},
		{"input_size=10&max_nodes=0", "max_nodes"},
		{"input_size=10&max_nodes=2.5", "max_nodes"},
		{"input_size=10&budget=3", "budget"},
	} {
		var e api.ErrorBody
		c.json("GET", "/v1/program-types/wordcount/recommendation?"+tc.query, "", 400, &e)
		if e.Error.Field != tc.field {
			t.Errorf("?%s: field %q (%s), want %q", tc.query, e.Error.Field, e.Error.Message, tc.field)
		}
	}
	var e2 api.ErrorBody
	c.json("GET", "/v1/program-types/Not_A_Type/recommendation?input_size=1", "", 400, &e2)
	if e2.Error.Field != "type" {
		t.Errorf("bad type: %+v", e2.Error)
	}
	for _, tc := range []struct{ ct, body, field string }{
		{"text/csv", "input_size,nodes_mean\n1,2\n", "runs[0].wall_seconds"},
		{"text/csv", "size,nodes_mean,wall_seconds\n1,2,3\n", "runs"},
		{"application/json", `[{"input_size":1,"nodes_mean":2,"wall_seconds":-3}]`, "runs[0].wall_seconds"},
		{"application/json", `[{"input_size":1,"nodes_mean":2,"wall_seconds":3,"nodes":4}]`, "runs[0].nodes"},
		{"application/json", `[{"input_size":"x","nodes_mean":2,"wall_seconds":3}]`, "runs[0].input_size"},
	} {
		var e api.ErrorBody
		c.call("POST", "/v1/program-types/wordcount/runs", tc.ct, tc.body, 400, &e)
		if e.Error.Field != tc.field {
			t.Errorf("import %q: field %q (%s), want %q", tc.body, e.Error.Field, e.Error.Message, tc.field)
		}
	}
}
