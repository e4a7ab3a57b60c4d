package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// TestCLICosts: pesd costs prints a table with a total line the rows add
// up to, -o json gives the same data, and a wrong --by or --since is a
// usage error.
func TestCLICosts(t *testing.T) {
	ctrl := inProcessPesd(t)
	cfg := api.GroupConfig{Name: "web", Driver: api.DriverSim, Program: api.Program{Command: "w"}, DesiredQuantity: 3, MaxQuantity: 20,
		Billing: &api.Billing{PricePerNodeHour: "3600"}} // a dollar a node-second: whole seconds show
	if err := api.ResolveGroupConfig(&cfg); err != nil {
		t.Fatal(err)
	}
	g, err := ctrl.CreateGroupBy(context.Background(), cfg, "alice")
	if err != nil {
		t.Fatal(err)
	}
	// Wait (poll) for a whole node-second, so the cost is not 0.
	var costs api.Costs
	for deadline := time.Now().Add(20 * time.Second); ; {
		code, out, errOut := runCLI("costs", "--group", "web", "--by", "actor", "--since", "7d", "-o", "json")
		if code != ExitOK || json.Unmarshal([]byte(out), &costs) != nil {
			t.Fatalf("costs -o json: exit %d\n%s%s", code, out, errOut)
		}
		if costs.TotalNodeSeconds > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if costs.GroupID != g.ID || costs.By != api.CostsByActor || len(costs.Rows) != 1 || costs.Rows[0].Key != "user:alice" ||
		costs.Rows[0].CostMicros != costs.TotalCostMicros || costs.TotalCostMicros == 0 {
		t.Fatalf("costs by actor: %+v", costs)
	}

	code, out, errOut := runCLI("costs", "--group", "web", "--by", "trigger")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != ExitOK || len(lines) != 3 || !strings.HasPrefix(lines[0], "trigger") || !strings.Contains(lines[0], "NODE-HOURS") ||
		!strings.HasPrefix(lines[1], "no trigger: user instructions") || !strings.HasPrefix(lines[2], "total") || !strings.Contains(lines[2], "$") {
		t.Errorf("costs table: exit %d\n%s%s", code, out, errOut)
	}

	for _, tc := range []struct{ args []string }{
		{[]string{"costs", "--group", "web", "--by", "colour"}},
		{[]string{"costs", "--group", "web", "--since", "last week"}},
		{[]string{"costs", "--by", "day"}},
	} {
		if code, _, errOut := runCLI(tc.args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d (usage)\n%s", tc.args, code, ExitUsage, errOut)
		}
	}
}
