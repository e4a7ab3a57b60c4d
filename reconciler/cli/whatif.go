package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/causality"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
)

func (e *env) whatifCmd() *cobra.Command {
	c := e.newCLI("whatif --group ID [--triggers FILE] --since T [--until T] [--max-changes N] [--max-node-hours H] [-o FORMAT]\n\n"+
		"Replays the group's recorded samples of the window through the engine with the proposed\n"+
		"triggers (FILE: a JSON array of triggers as POST /v1/groups/{id}/triggers takes them, or an\n"+
		"object {\"triggers\": [...], \"group\": {...settings as PATCH takes them}}; without it, the\n"+
		"group's own) and prints what it would have done beside what really happened. With a gate,\n"+
		"it exits 4 when the replay goes past it, for CI.",
		"backtest proposed triggers on a group's recorded samples: whatif --group ID --triggers FILE --since 7d", true)
	w := c.windowFlags("samples")
	file := c.fs.String("triggers", "", "JSON `file` of the proposed triggers (- reads standard input)")
	maxChanges := c.fs.Int("max-changes", -1, "exit 4 when the replay makes more than `N` changes")
	maxNodeHours := c.fs.Float64("max-node-hours", -1, "exit 4 when the replay uses more than `H` node-hours")
	var req api.WhatIfRequest
	var since, until time.Time
	check := func(pos []string) error {
		if err := w.check(&since, &until)(pos); err != nil {
			return err
		}
		if since.IsZero() {
			return usagef("whatif: --since is required (RFC 3339, or a duration ago: 7d)")
		}
		req.Since = &since
		if !until.IsZero() {
			req.Until = &until
		}
		return nil
	}
	return c.onGroup(check, func(ctx context.Context, cl *client.Client, g api.Group) error {
		if *file != "" {
			if err := c.readProposal(*file, &req); err != nil {
				return err
			}
		}
		r, err := cl.WhatIf(ctx, g.ID, req)
		if err != nil {
			return err
		}
		var over []string
		if *maxChanges >= 0 && r.Replayed.Changes > *maxChanges {
			over = append(over, fmt.Sprintf("%d changes > --max-changes %d", r.Replayed.Changes, *maxChanges))
		}
		if *maxNodeHours >= 0 && r.Replayed.NodeHours > *maxNodeHours {
			over = append(over, fmt.Sprintf("%.1f node-hours > --max-node-hours %g", r.Replayed.NodeHours, *maxNodeHours))
		}
		if err := c.print(r, func(t *table) { whatifTable(t, g, r) }); err != nil {
			return err
		}
		for _, o := range over {
			fmt.Fprintf(c.stderr, "pesd: whatif: gate exceeded: %s\n", o)
		}
		if len(over) > 0 {
			return exitCode(ExitGate)
		}
		return nil
	})
}

// readProposal reads --triggers: an array of triggers, or an object with
// triggers and group settings.
func (c *cli) readProposal(path string, req *api.WhatIfRequest) error {
	b, err := c.readInput(path)
	if err != nil {
		return fmt.Errorf("whatif: %w", err)
	}
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		err = strictJSON(b, &req.Triggers)
	} else {
		var p struct {
			Triggers []api.TriggerSpec `json:"triggers"`
			Group    *api.GroupPatch   `json:"group"`
		}
		err = decodeObject(b, &p)
		req.Triggers, req.Group = p.Triggers, p.Group
	}
	if err != nil {
		return fmt.Errorf("whatif: %s: %w", path, err)
	}
	if req.Triggers == nil {
		req.Triggers = []api.TriggerSpec{} // the file's triggers, even none
	}
	return nil
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func whatifTable(t *table, g api.Group, r api.WhatIf) {
	queried := ""
	if r.Queried > 0 {
		queried = fmt.Sprintf(" (%d from Prometheus range queries)", r.Queried)
	}
	t.line("backtest of group %s from %s to %s: %d samples replayed%s, nodes booting in %s",
		g.Name, r.Since.Format(time.RFC3339), r.Until.Format(time.RFC3339), r.Samples, queried, r.BootTime)
	t.row("", "REPLAYED", "RECORDED")
	s, o := r.Replayed, r.Recorded
	t.row("changes", fmt.Sprint(s.Changes), fmt.Sprint(o.Changes))
	t.row("peak quantity", fmt.Sprint(s.PeakQuantity), fmt.Sprint(o.PeakQuantity))
	t.row("mean quantity", fmt.Sprintf("%.2f", s.MeanQuantity), fmt.Sprintf("%.2f", o.MeanQuantity))
	t.row("node-hours", fmt.Sprintf("%.1f", s.NodeHours), fmt.Sprintf("%.1f", o.NodeHours))
	t.row("suppressed firings", fmt.Sprint(s.Suppressed), fmt.Sprint(o.Suppressed))
	t.row("ignored firings", fmt.Sprint(s.Ignored), fmt.Sprint(o.Ignored))
	if s.ForecastClamps > 0 || o.ForecastClamps > 0 {
		t.row("forecast clamps", fmt.Sprint(s.ForecastClamps), fmt.Sprint(o.ForecastClamps))
	}
	if s.Notifications > 0 || o.Notifications > 0 {
		t.row("notifications", fmt.Sprint(s.Notifications), fmt.Sprint(o.Notifications))
	}
	if s.Currency != "" || o.Currency != "" {
		t.row("cost", strings.TrimSpace(s.Cost+" "+s.Currency), strings.TrimSpace(o.Cost+" "+o.Currency))
	}
	if s.Notifications > 0 {
		t.line("%s", causality.BacktestNotifications(s.Notifications))
	}
	if len(r.Changes) > 0 {
		t.line("")
		t.line("changes the replay would have made:")
		detailedChangesTable(t, r.Changes, true)
	}
}
