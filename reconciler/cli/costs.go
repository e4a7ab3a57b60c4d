package cli

import (
	"context"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/causality"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
)

// costsTable writes a costs answer: one row per key, the largest cost
// first (by day: in time order), and a total line the rows add up to.
// Costs show to the cent; -o json keeps the exact figures.
func costsTable(t *table, c api.Costs) {
	money := func(micros int64) string {
		if c.Currency == "" {
			return "-" // never billed: node-hours only
		}
		return causality.Money(micros, c.Currency)
	}
	t.row(c.By, "NODE-HOURS", "COST", "CHANGES", "DESCRIPTION")
	for _, r := range c.Rows {
		t.row(r.Label, hours(r.NodeHours), money(r.CostMicros), itoa(len(r.ChangeIDs)), r.Description)
	}
	t.row("total", hours(c.TotalNodeHours), money(c.TotalCostMicros), "", ts(c.Since)+" to "+ts(c.Until))
}

// costsPageSize is the largest page pesd serves: a window of months by
// change is read in answers of a bounded size.
const costsPageSize = api.MaxPageLimit

func hours(h float64) string { return strconv.FormatFloat(h, 'f', 2, 64) }

func (e *env) costsCmd() *cobra.Command {
	c := e.newCLI("costs --group ID [--all] [--by cause|trigger|actor|change|day] [--since T] [--until T] [-o FORMAT]",
		"show what a group's capacity cost, and why", true)
	w := window{
		since: c.fs.String("since", "", "from `T` (RFC 3339, or a duration ago: 7d); default the group's creation"),
		until: c.fs.String("until", "", "until `T`; default now"),
	}
	c.deletedFlag()
	by := c.fs.String("by", api.CostsByCause, "one row per `key`: "+strings.Join(api.CostsBy(), ", "))
	var f client.CostsFilter
	check := w.check(&f.Since, &f.Until)
	return c.onGroup(func(pos []string) error {
		if err := api.ValidateEnum("by", *by, api.CostsBy()); err != nil {
			return usagef("--by: %s", err.(*api.Error).Message)
		}
		return check(pos)
	}, func(ctx context.Context, cl *client.Client, g api.Group) error {
		f.By, f.Limit = *by, costsPageSize
		costs, err := cl.AllCosts(ctx, g.ID, f)
		if err != nil {
			return err
		}
		return c.print(costs, func(t *table) { costsTable(t, costs) })
	})
}
