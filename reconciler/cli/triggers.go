package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
)

// triggersCmd is "pesd triggers": alone it lists a group's triggers, as
// "triggers list" does; create, get and delete handle one.
func (e *env) triggersCmd() *cobra.Command {
	cmd := e.triggersList("triggers --group G [-o FORMAT]", "list a group's triggers; create, get or delete one")
	cmd.AddCommand(e.triggersList("list --group G [-o FORMAT]", "list a group's triggers, with each target and last observed value"),
		e.triggersCreate(), e.triggersGet(), e.triggersDelete())
	return cmd
}

func (e *env) triggersList(use, short string) *cobra.Command {
	c := e.newCLI(use, short, true)
	c.deletedFlag()
	return c.onGroup(nil, func(ctx context.Context, cl *client.Client, g api.Group) error {
		return printList(ctx, c, g, struct{}{}, func(ctx context.Context, id string, _ struct{}) ([]api.Trigger, error) {
			return cl.ListTriggers(ctx, id)
		}, triggersTable)
	})
}

func (e *env) triggersCreate() *cobra.Command {
	c := e.newCLI("create --group G -f FILE [-o FORMAT]\n\n"+
		"FILE holds one trigger as POST /v1/groups/{id}/triggers takes it, in JSON or YAML\n"+
		"(the same field names); - reads standard input.", "create a trigger from a JSON or YAML file", true)
	var spec api.TriggerSpec
	return c.onGroup(c.fileFlag("trigger", &spec), func(ctx context.Context, cl *client.Client, g api.Group) error {
		tr, err := cl.CreateTrigger(ctx, g.ID, spec)
		if err != nil {
			return err
		}
		c.warn(tr.Warnings)
		return c.print(tr, func(t *table) { triggersTable(t, []api.Trigger{tr}) })
	})
}

// warn tells what pesd accepted but doubts, whatever the output format.
func (c *cli) warn(warnings []string) {
	for _, w := range warnings {
		fmt.Fprintf(c.stderr, "pesd: warning: %s\n", w)
	}
}

// findTrigger reads the trigger ref names: with --group the name (or id)
// of one of that group's triggers, without it an id.
func (c *cli) findTrigger(ctx context.Context, cl *client.Client, ref string) (api.Trigger, error) {
	if c.group == "" {
		return cl.GetTrigger(ctx, ref)
	}
	return cl.FindTrigger(ctx, c.group, ref)
}

func (e *env) triggersGet() *cobra.Command {
	c := e.newCLI("get NAME|ID [--group G] [-o FORMAT]", "show one trigger (a name needs --group)", true)
	var ref string
	return c.run(false, oneArg("trigger", "its name with --group, or its ID", &ref), func(ctx context.Context, cl *client.Client) error {
		tr, err := c.findTrigger(ctx, cl, ref)
		if err != nil {
			return err
		}
		return c.print(tr, func(t *table) { triggersTable(t, []api.Trigger{tr}) })
	})
}

func (e *env) triggersDelete() *cobra.Command {
	c := e.newCLI("delete NAME|ID [--group G] [-o FORMAT]", "delete a trigger (a name needs --group)", true)
	var ref string
	return c.run(false, oneArg("trigger", "its name with --group, or its ID", &ref), func(ctx context.Context, cl *client.Client) error {
		tr, err := c.findTrigger(ctx, cl, ref)
		if err != nil {
			return err
		}
		if err := cl.DeleteTrigger(ctx, tr.ID); err != nil {
			return err
		}
		// -o json|yaml: the trigger as it was.
		return c.print(tr, func(t *table) { t.line("trigger %s (%s) deleted", tr.Name, tr.ID) })
	})
}

// triggersTable lists triggers: what each asks for (TARGET for target
// tracking), the last value pesd has of what it reads, and when it
// fires; -o wide adds the priority, whether it acts at once, and when it
// was created and changed.
func triggersTable(t *table, triggers []api.Trigger) {
	id := t.ids(mapOf(triggers, func(tr api.Trigger) string { return tr.ID })...)
	head := []string{"NAME", "ID", "ENABLED", "REQUEST", "TARGET", "OBSERVED"}
	if t.wide {
		head = append(head, "PRIORITY", "IMMEDIATE", "CREATED", "UPDATED")
	}
	t.row(append(head, "WHEN")...)
	for _, tr := range triggers {
		row := []string{tr.Name, id(tr.ID), strconv.FormatBool(tr.Enabled), requestForm(tr.Request), target(t, tr.Target), observed(t, tr.Observed)}
		if t.wide {
			row = append(row, itoa(tr.Priority), strconv.FormatBool(tr.Immediate), ts(tr.CreatedAt), ts(tr.UpdatedAt))
		}
		t.row(append(row, when(tr))...)
	}
}

// requestForm reads a request as its field and value: change_by +4,
// change_by_percent -10%, set_to 5, target.
func requestForm(r api.Request) string {
	switch {
	case r.ChangeBy != nil:
		return fmt.Sprintf("change_by %+d", *r.ChangeBy)
	case r.ChangeByPercent != nil:
		return fmt.Sprintf("change_by_percent %+g%%", *r.ChangeByPercent)
	case r.SetTo != nil:
		return "set_to " + itoa(*r.SetTo)
	case r.Target != nil:
		return "target"
	}
	return "-"
}

// target reads "cpu_utilization 60 ±10%", and -o wide "over 1m".
func target(t *table, tg *api.Target) string {
	if tg == nil {
		return "-"
	}
	s := tg.Metric + " " + g(tg.Value)
	if tg.Tolerance != nil {
		s += " ±" + g(100**tg.Tolerance) + "%"
	}
	if t.wide && tg.Window != "" {
		s += " over " + tg.Window
	}
	return s
}

// observed reads the last values: "84.2" of the one metric a trigger
// reads (the table has its name), "cpu 84.2, queue_depth 12" of several;
// -o wide names each metric and tells over what and when:
// "cpu_utilization 71.5 (mean 1m) at 2026-01-02T10:05:00Z".
func observed(t *table, obs []api.Observation) string {
	parts := make([]string, 0, len(obs))
	for _, o := range obs {
		switch {
		case t.wide:
			s := o.Metric + " " + g(o.Value)
			if o.Window != "" {
				s += " (mean " + o.Window + ")"
			}
			parts = append(parts, s+" at "+ts(o.Time))
		case len(obs) == 1:
			parts = append(parts, g(o.Value))
		default:
			parts = append(parts, o.Metric+" "+g(o.Value))
		}
	}
	return orDash(strings.Join(parts, ", "))
}

// when reads what makes the trigger fire: its condition (and for how
// long), or its schedule.
func when(tr api.Trigger) string {
	var parts []string
	if tr.Schedule != "" {
		parts = append(parts, "schedule "+tr.Schedule)
	}
	if tr.Condition != "" {
		c := tr.Condition
		if tr.For != "" {
			c += " for " + tr.For
		}
		parts = append(parts, c)
	}
	return orDash(strings.Join(parts, "; "))
}

func g(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
