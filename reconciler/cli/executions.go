package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
)

// executionCmds are the verbs of distributed executions (SPEC §2.9).
func (e *env) executionCmds() []*cobra.Command {
	return []*cobra.Command{e.runCmd(), e.executionsCmd(), e.executionCmd(), e.suspendCmd(), e.resumeCmd(), e.cancelCmd(), e.recommendCmd()}
}

// pollEvery is how often "pesd run" reads the execution while it waits.
const pollEvery = time.Second

func (e *env) runCmd() *cobra.Command {
	c := e.newCLI("run --group G (--input-lines FILE [--lines-per-job N] | --input-files DIR|GLOB [--files-per-job N]) [flags] [-- CMD ARGS...]", "run a program over an input on a group's nodes: run --group G --input-lines FILE --lines-per-job N -- CMD ARGS...", true)
	lines := c.fs.String("input-lines", "", "split this `file` into lines (a path on pesd's machine)")
	linesPer := c.fs.Int("lines-per-job", 0, "lines per job (default 1)")
	files := c.fs.String("input-files", "", "one job per file of this `dir or glob` (on pesd's machine)")
	filesPer := c.fs.Int("files-per-job", 0, "files per job (default 1)")
	name := c.fs.String("name", "", "execution `name`")
	ptype := c.fs.String("program-type", "", "program `type`, grouping runs of the same kind")
	maxPar := c.fs.Int("max-parallel", 0, "at most this many jobs at once (0: one per free node)")
	maxAtt := c.fs.Int("max-attempts", api.DefaultMaxAttempts, "runs of a job before it is failed")
	scaleTo := c.fs.Int("scale-to", -1, "scale the group to `N` nodes when the execution completes")
	deadline := c.fs.Duration("deadline", 0, "how long the execution may take; with --program-type, pesd warns when the group is predicted to miss it")
	budget := c.fs.Float64("max-node-hours", 0, "the budget in node-hours; with --program-type, pesd warns when the group is predicted to exceed it")
	recommended := c.fs.Bool("recommended", false, "size the group by the recommendation from the prior runs of --program-type when the execution starts")
	detach := c.fs.Bool("detach", false, "start the execution and return without waiting")
	// A run waits for the execution, not for one call.
	c.fs.Lookup("timeout").DefValue = "24h"
	c.timeout = 24 * time.Hour
	var cmd []string
	check := func(pos []string) error {
		cmd = pos
		if (*lines == "") == (*files == "") {
			return usagef("give one of --input-lines or --input-files")
		}
		if *recommended && *ptype == "" {
			return usagef("--recommended: needs --program-type (the recommendation comes from its prior runs)")
		}
		if *deadline < 0 || *budget < 0 {
			return usagef("--deadline and --max-node-hours must not be negative")
		}
		return nil
	}
	return c.onGroup(check, func(ctx context.Context, cl *client.Client, g api.Group) error {
		in := api.ExecutionCreate{GroupID: g.ID, Name: *name, ProgramType: *ptype, MaxParallel: *maxPar, MaxAttempts: maxAtt}
		// pesd reads the input on its machine, from its own directory:
		// a relative path is made absolute here.
		if *lines != "" {
			abs, err := filepath.Abs(*lines)
			if err != nil {
				return err
			}
			in.Input.Lines = abs
			if c.fs.Changed("lines-per-job") {
				in.Input.LinesPerJob = linesPer
			}
		} else {
			in.Input.Files = *files
			if abs, err := filepath.Abs(*files); err == nil {
				in.Input.Files = abs
			}
			if c.fs.Changed("files-per-job") {
				in.Input.FilesPerJob = filesPer
			}
		}
		if len(cmd) > 0 {
			in.Program = &api.Program{Command: cmd[0], Args: cmd[1:]}
		}
		if *scaleTo >= 0 {
			in.OnComplete = &api.OnComplete{ScaleTo: scaleTo}
		}
		if *deadline > 0 {
			at := time.Now().Add(*deadline).UTC()
			in.Deadline = &at
		}
		in.MaxNodeHours, in.UseRecommendation = *budget, *recommended
		x, err := cl.CreateExecution(ctx, in)
		if err != nil {
			return err
		}
		// pesd's warnings (also events of the group) go where errors go.
		for _, w := range x.Warnings {
			fmt.Fprintf(c.stderr, "warning: %s (event %s)\n", w.Message, w.Event)
		}
		if r := x.Recommendation; r != nil && x.UseRecommendation {
			fmt.Fprintf(c.stderr, "sized by the recommendation: %s\n", r.Explanation)
		}
		if *detach {
			return c.print(x, func(t *table) { executionLine(t, x) })
		}
		for !api.ExecutionDone(x.Status) && x.Status != api.ExecutionSuspended {
			if c.output == "table" {
				fmt.Fprintf(c.stderr, "\r%s", progressLine(x))
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(pollEvery):
			}
			if x, err = cl.GetExecution(ctx, x.ID); err != nil {
				return err
			}
		}
		if c.output == "table" {
			fmt.Fprintf(c.stderr, "\r%s\n", progressLine(x))
		}
		if err := c.print(x, func(t *table) { executionLine(t, x) }); err != nil {
			return err
		}
		if x.Status == api.ExecutionFailed || x.Status == api.ExecutionCompletedWithErrors {
			return fmt.Errorf("execution %s %s: %s", x.Label, x.Status, failedJobs(x))
		}
		return nil
	})
}

// progressLine is the one line "pesd run" keeps up to date.
func progressLine(x api.Execution) string {
	s := fmt.Sprintf("%s %s: %d/%d succeeded, %d running, %d queued, %d failed (%.0f%%), elapsed %s",
		x.Label, x.Status, x.Counts[api.JobSucceeded], x.JobCount, x.Counts[api.JobRunning],
		x.Counts[api.JobQueued], x.Counts[api.JobFailed], 100*x.Progress, orDash(x.Elapsed))
	if x.EstimatedTimeLeft != "" {
		s += ", about " + x.EstimatedTimeLeft + " left"
	}
	return s + "   "
}

func failedJobs(x api.Execution) string {
	s := ""
	for _, j := range x.Jobs {
		if j.Status == api.JobFailed {
			if s != "" {
				s += "; "
			}
			s += fmt.Sprintf("job %d: %s", j.Index, orDash(j.Reason))
		}
	}
	return orDash(s)
}

func executionLine(t *table, x api.Execution) {
	executionsTable(t, []api.Execution{x})
	if x.Output != "" {
		t.line("output: %s", x.Output)
	}
}

func executionsTable(t *table, xs []api.Execution) {
	t.row("LABEL", "ID", "GROUP", "NAME", "STATUS", "JOBS", "SUCCEEDED", "FAILED", "PROGRESS", "ELAPSED", "LEFT")
	for _, x := range xs {
		t.row(x.Label, x.ID, x.GroupID, orDash(x.Name), x.Status, itoa(x.JobCount), itoa(x.Counts[api.JobSucceeded]),
			itoa(x.Counts[api.JobFailed]), fmt.Sprintf("%.0f%%", 100*x.Progress), orDash(x.Elapsed), orDash(x.EstimatedTimeLeft))
	}
}

func jobsTable(t *table, jobs []api.Job) {
	t.row("INDEX", "STATUS", "ATTEMPT", "NODE", "PROGRESS", "STARTED", "ENDED", "EXIT", "REASON")
	for _, j := range jobs {
		exit := "-"
		if j.ExitCode != nil {
			exit = strconv.Itoa(*j.ExitCode)
		}
		t.row(itoa(j.Index), j.Status, itoa(j.Attempt), orDash(j.NodeID), fmt.Sprintf("%.0f%%", 100*j.Progress),
			tsp(j.StartedAt), tsp(j.EndedAt), exit, orDash(j.Reason))
	}
}

func (e *env) executionsCmd() *cobra.Command {
	c := e.newCLI("executions [--group G] [--status S] [-o FORMAT]", "list executions", true)
	status := c.fs.String("status", "", "only executions with this `status`")
	return c.run(false, nil, func(ctx context.Context, cl *client.Client) error {
		f := client.ExecutionFilter{Status: *status}
		if c.group != "" {
			g, err := cl.FindGroup(ctx, c.group, false)
			if err != nil {
				return err
			}
			f.GroupID = g.ID
		}
		xs, err := cl.ListAllExecutions(ctx, f)
		if err != nil {
			return err
		}
		return c.print(xs, func(t *table) { executionsTable(t, xs) })
	})
}

// oneExecution is the check of the verbs that take one execution.
func oneExecution(id *string) func(pos []string) error {
	return func(pos []string) error {
		if len(pos) != 1 {
			return usagef("want one execution (its label, X1, or its id)")
		}
		*id = pos[0]
		return nil
	}
}

func (e *env) executionCmd() *cobra.Command {
	c := e.newCLI("execution X1 [-o FORMAT]", "show an execution and its jobs: execution X1", false)
	var id string
	return c.run(false, oneExecution(&id), func(ctx context.Context, cl *client.Client) error {
		x, err := cl.GetExecution(ctx, id)
		if err != nil {
			return err
		}
		return c.print(x, func(t *table) {
			executionLine(t, x)
			t.line("")
			jobsTable(t, x.Jobs)
		})
	})
}

func (e *env) suspendCmd() *cobra.Command {
	c := e.newCLI("suspend X1 [--release-nodes]", "suspend an execution (its jobs checkpoint): suspend X1 [--release-nodes]", false)
	release := c.fs.Bool("release-nodes", false, "scale the group to 0 once the jobs have checkpointed")
	var id string
	return c.run(false, oneExecution(&id), func(ctx context.Context, cl *client.Client) error {
		x, err := cl.SuspendExecution(ctx, id, *release)
		if err != nil {
			return err
		}
		return c.print(x, func(t *table) { executionLine(t, x) })
	})
}

func (e *env) resumeCmd() *cobra.Command {
	return e.executionAction("resume", "resume a suspended execution: resume X1", (*client.Client).ResumeExecution)
}

func (e *env) cancelCmd() *cobra.Command {
	return e.executionAction("cancel", "cancel an execution: cancel X1", (*client.Client).CancelExecution)
}

func (e *env) executionAction(verb, short string,
	act func(*client.Client, context.Context, string) (api.Execution, error)) *cobra.Command {
	c := e.newCLI(verb+" X1", short, false)
	var id string
	return c.run(false, oneExecution(&id), func(ctx context.Context, cl *client.Client) error {
		x, err := act(cl, ctx, id)
		if err != nil {
			return err
		}
		return c.print(x, func(t *table) { executionLine(t, x) })
	})
}
