package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
)

// recommendCmd asks for the recommended configuration of the next
// execution of a program type, from its prior runs.
func (e *env) recommendCmd() *cobra.Command {
	c := e.newCLI("recommend --type T --input-size N [--deadline D] [--max-node-hours H] [--max-nodes N] [-o FORMAT]",
		"recommend the node quantity of the next execution of a program type: recommend --type wordcount --input-size 1e6 --deadline 1h", false)
	typ := c.fs.String("type", "", "the program `type` (an execution's program_type)")
	size := c.fs.String("input-size", "", "the next input's items, lines or files (`N`, as in 1e6)")
	deadline := c.fs.String("deadline", "", "how long the execution may take (a `duration`, as in 1h)")
	budget := c.fs.String("max-node-hours", "", "the budget in node-hours (`H`)")
	maxNodes := c.fs.String("max-nodes", "", "the most nodes to consider (`N`; default twice the largest run's)")
	var q api.RecommendationQuery
	check := func(pos []string) error {
		if err := noArgs(pos); err != nil {
			return err
		}
		if *typ == "" {
			return usagef("--type: required (the program type of the prior runs)")
		}
		var ae *api.Error
		if err := api.ValidateProgramType(*typ); errors.As(err, &ae) {
			return usagef("--type: %s", ae.Message)
		}
		// pesd's own reading of the query, so the CLI refuses what pesd
		// would, naming the flag.
		flags := map[string]string{"input_size": *size, "deadline": *deadline, "max_node_hours": *budget, "max_nodes": *maxNodes}
		var err error
		if q, err = api.ParseRecommendationQuery(func(k string) string { return flags[k] }); errors.As(err, &ae) {
			return usagef("--%s: %s", strings.ReplaceAll(ae.Field, "_", "-"), ae.Message)
		}
		return nil
	}
	return c.run(false, check, func(ctx context.Context, cl *client.Client) error {
		rec, err := cl.Recommend(ctx, *typ, q)
		if err != nil {
			return err
		}
		return c.print(rec, func(t *table) { recommendationTable(t, rec) })
	})
}

// recommendationTable is the recommendation for people: its sentence,
// then the figures and the runs.
func recommendationTable(t *table, r api.Recommendation) {
	t.line("%s", r.Explanation)
	if r.Status != api.RecommendationOK {
		return
	}
	t.line("")
	iv := func(i *api.Interval, f func(float64) string) string {
		return fmt.Sprintf("%s (%s–%s)", f(i.Value), f(i.Low), f(i.High))
	}
	secs := func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) + "s" }
	hours := func(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) }
	t.row("NODES", "NODE TYPE", "WALL", "NODE-HOURS", "CRITERION", "MET", "R²", "RUNS")
	t.row(itoa(r.NodeQuantity), orDash(r.NodeType), iv(r.WallSeconds, secs), iv(r.NodeHours, hours), r.Criterion,
		strconv.FormatBool(r.Met), strconv.FormatFloat(r.Model.R2, 'f', 3, 64), strings.Join(r.RunLabels, ", "))
	m := r.Model
	t.line("")
	t.line("model: t = %.4g + %.4g·size/n + %.4g·n seconds, spread %.3gs (interval ± %.3g×)", m.Overhead, m.PerItem, m.PerNode,
		m.Spread, m.IntervalWidth)
}
