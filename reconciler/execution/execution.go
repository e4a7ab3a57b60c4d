// Package execution is the pure planner of distributed executions (SPEC
// §2.9, seed 003): it splits an input into jobs, assigns queued jobs to
// free ready nodes, applies the retry policy, moves the execution through
// its statuses and estimates the time left. It does no I/O and reads no
// clock: the controller passes in what it observed and carries out the
// decision (records it, then starts and stops jobs through the driver).
package execution

import (
	"fmt"
	"slices"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/cost"
)

// Why pesd asked a running job to stop (api.Job.Stopping): what its exit
// means.
const (
	StopSuspend  = "suspend"
	StopCancel   = "cancel"
	StopNodeLost = "node_lost"
)

// Range is one subset: items [Start, End) of the input.
type Range struct{ Start, End int }

// Split cuts n items into subsets of per items (the last may be
// shorter), in order.
func Split(n, per int) []Range {
	if per < 1 {
		per = 1
	}
	out := make([]Range, 0, (n+per-1)/per)
	for s := 0; s < n; s += per {
		out = append(out, Range{s, min(s+per, n)})
	}
	return out
}

// JobID is the id of one attempt of a job, as the job sees it in
// PES_JOB_ID and the driver knows it.
func JobID(executionID string, index, attempt int) string {
	return fmt.Sprintf("%s-%d-%d", executionID, index, attempt)
}

// Observed is the driver's view of one job attempt.
type Observed struct {
	Running  bool
	ExitCode int
	// Lost: the attempt ended but its exit status is unknown (a job
	// re-adopted after a restart of pesd), or the driver does not know it.
	Lost     bool
	Progress float64
	Reason   string
}

// Node is a node of the group as the planner needs it.
type Node struct {
	ID    string
	Ready bool
}

// Input is everything a plan reads.
type Input struct {
	Execution api.Execution
	Jobs      []api.Job // in index order
	// Nodes are the group's nodes in launch order.
	Nodes []Node
	// Busy are nodes running jobs of other executions.
	Busy map[string]bool
	// Observed is the driver's report by job attempt id; an attempt the
	// driver does not report is lost.
	Observed map[string]Observed
	Now      time.Time
}

// Why a job left running (or was moved by an action): the facts of its
// reason, which causality puts in words (api.Job.Reason).
type Why struct {
	Kind     string // Why*
	ExitCode int    // WhyRetried, WhyFailed
	// Observed is the driver's own words about how the attempt ended
	// ("killed by signal 9"), if any.
	Observed string
	NodeID   string // WhyNodeLost: the node that was lost
}

// Kinds of Why.
const (
	WhySuspended = "suspended"    // stopped for a suspension, its state saved
	WhyCancelled = "cancelled"    // stopped or dropped by a cancellation
	WhyNodeLost  = "node_lost"    // re-queued: its node was lost
	WhyLost      = "attempt_lost" // re-queued: the attempt ended unseen (pesd restarted, the driver forgot it)
	WhyRetried   = "retried"      // re-queued after a non-zero exit
	WhyFailed    = "failed"       // failed after max_attempts
	WhyResumed   = "resumed"      // queued again by a resumption
	// WhyGroupDeleted: the execution's group was deleted under it.
	WhyGroupDeleted = "group_deleted"
)

// Fact is something that happened to the execution, recorded as an event
// of its group; causality writes its words.
type Fact struct {
	Type    string // api.EventExecution* or api.EventJob*
	Job     int    // the job's index (job events)
	Attempt int
	Why     Why // job events
	// Counts at the moment of the fact.
	Queued, Succeeded, Failed, Total int
}

// Stop asks the driver to stop a running job attempt.
type Stop struct {
	JobID  string
	Index  int
	Reason string // StopSuspend, StopCancel, StopNodeLost
}

// Decision is what the controller records, then carries out.
type Decision struct {
	Execution api.Execution
	// Jobs are the jobs that changed, in index order.
	Jobs []api.Job
	// Launch are the indexes of jobs to start (already recorded as
	// running on their node with their new attempt).
	Launch []int
	Stop   []Stop
	Facts  []Fact
	// Why says, by job index, why a job in Jobs left running.
	Why map[int]Why
}

// Changed reports whether anything is to be recorded.
func (d Decision) Changed(before api.Execution) bool {
	return len(d.Jobs) > 0 || len(d.Facts) > 0 || d.Execution.Status != before.Status
}

// Plan decides one step of an execution: it settles the jobs whose
// attempts ended, stops the jobs that must stop, assigns queued jobs to
// free ready nodes (one job per node; max_parallel at most), and moves the
// execution's status.
func Plan(in Input) Decision {
	x := in.Execution
	jobs := slices.Clone(in.Jobs)
	changed := make(map[int]bool)
	d := Decision{Why: make(map[int]Why)}
	ready := make(map[string]bool, len(in.Nodes))
	for _, n := range in.Nodes {
		if n.Ready {
			ready[n.ID] = true
		}
	}
	busy := make(map[string]bool)

	if x.Status == api.ExecutionPending {
		x.Status = api.ExecutionRunning
		now := in.Now
		x.StartedAt = &now
		x.Usage = &api.ExecutionUsage{Nodes: len(ready), NodesMax: len(ready), At: now}
		d.Facts = append(d.Facts, fact(api.EventExecutionStarted, jobs))
	} else {
		x.Usage = Measure(x, len(ready), in.Now)
	}

	for i := range jobs {
		j := &jobs[i]
		if j.Status != api.JobRunning {
			continue
		}
		o, known := in.Observed[j.ID]
		if !known {
			o = Observed{Lost: true}
		}
		if o.Running {
			if o.Progress != j.Progress && o.Progress >= 0 && o.Progress <= 1 {
				j.Progress = o.Progress
				changed[i] = true
			}
			why := ""
			switch {
			case x.Status == api.ExecutionCancelled:
				why = StopCancel
			case x.Status == api.ExecutionSuspending:
				why = StopSuspend
			case !ready[j.NodeID]:
				why = StopNodeLost
			}
			if j.Stopping == "" && why != "" {
				j.Stopping = why
				changed[i] = true
			}
			if j.Stopping != "" {
				// Asked again every step until it ends: stopping is
				// idempotent, and a restart of pesd forgets nothing.
				d.Stop = append(d.Stop, Stop{JobID: j.ID, Index: j.Index, Reason: j.Stopping})
			}
			busy[j.NodeID] = true
			continue
		}
		changed[i] = true
		end := in.Now
		j.EndedAt = &end
		if !o.Lost {
			code := o.ExitCode
			j.ExitCode = &code
		}
		why := Why{ExitCode: o.ExitCode, Observed: o.Reason}
		switch {
		case j.Stopping == StopSuspend:
			j.Status, why.Kind = api.JobSuspended, WhySuspended
		case j.Stopping == StopCancel || x.Status == api.ExecutionCancelled:
			j.Status, why.Kind = api.JobFailed, WhyCancelled
		case j.Stopping == StopNodeLost || o.Lost:
			why.Kind = WhyLost
			if j.Stopping == StopNodeLost {
				why.Kind, why.NodeID = WhyNodeLost, j.NodeID
			}
			j.Status, j.NodeID = api.JobQueued, ""
			d.Facts = append(d.Facts, jobFact(api.EventJobRequeued, *j, jobs, why))
		case o.ExitCode == 0:
			j.Status, j.Progress = api.JobSucceeded, 1
			if j.StartedAt != nil {
				j.RunSeconds = in.Now.Sub(*j.StartedAt).Seconds()
			}
		default:
			j.Failures++
			if j.Failures >= x.MaxAttempts {
				j.Status, why.Kind = api.JobFailed, WhyFailed
				d.Facts = append(d.Facts, jobFact(api.EventJobFailed, *j, jobs, why))
			} else {
				j.Status, j.NodeID, why.Kind = api.JobQueued, "", WhyRetried
				d.Facts = append(d.Facts, jobFact(api.EventJobRetried, *j, jobs, why))
			}
		}
		if why.Kind != "" {
			d.Why[j.Index] = why
		}
		j.Stopping = ""
	}

	switch x.Status {
	case api.ExecutionSuspending:
		for i := range jobs {
			if jobs[i].Status == api.JobQueued {
				jobs[i].Status = api.JobSuspended
				changed[i] = true
			}
		}
		if count(jobs, api.JobRunning) == 0 {
			x.Status = api.ExecutionSuspended
			d.Facts = append(d.Facts, fact(api.EventExecutionSuspended, jobs))
		}
	case api.ExecutionRunning:
		d.Launch = assign(&x, jobs, in, ready, busy, changed)
	}

	if x.Status == api.ExecutionRunning && count(jobs, api.JobSucceeded)+count(jobs, api.JobFailed) == len(jobs) {
		failed := count(jobs, api.JobFailed)
		switch {
		case failed == 0:
			x.Status = api.ExecutionCompleted
		case failed == len(jobs):
			x.Status = api.ExecutionFailed
		default:
			x.Status = api.ExecutionCompletedWithErrors
		}
		end := in.Now
		x.EndedAt = &end
		d.Facts = append(d.Facts, fact(api.EventExecutionCompleted, jobs))
	}
	if x.Status == api.ExecutionCancelled && x.EndedAt == nil && count(jobs, api.JobRunning) == 0 {
		end := in.Now
		x.EndedAt = &end
	}

	for i := range jobs {
		if changed[i] {
			d.Jobs = append(d.Jobs, jobs[i])
		}
	}
	Summarize(&x, jobs, in.Now)
	d.Execution = x
	return d
}

// assign gives queued jobs, in index order, to free ready nodes in node
// order: one job per node, at most max_parallel running.
func assign(x *api.Execution, jobs []api.Job, in Input, ready, busy map[string]bool, changed map[int]bool) []int {
	running := count(jobs, api.JobRunning)
	var launch []int
	ni := 0
	for i := range jobs {
		if x.MaxParallel > 0 && running >= x.MaxParallel {
			break
		}
		j := &jobs[i]
		if j.Status != api.JobQueued {
			continue
		}
		for ni < len(in.Nodes) && (!ready[in.Nodes[ni].ID] || busy[in.Nodes[ni].ID] || in.Busy[in.Nodes[ni].ID]) {
			ni++
		}
		if ni == len(in.Nodes) {
			break
		}
		node := in.Nodes[ni].ID
		busy[node] = true
		j.Attempt++
		j.ID = JobID(x.ID, j.Index, j.Attempt)
		j.Status, j.NodeID, j.Stopping, j.ExitCode, j.EndedAt = api.JobRunning, node, "", nil, nil
		start := in.Now
		j.StartedAt = &start
		changed[i] = true
		launch = append(launch, j.Index)
		running++
	}
	return launch
}

// Suspend asks a running execution to suspend: its jobs are stopped (they
// checkpoint) at the next step. Anything else is a conflict.
func Suspend(x api.Execution, release bool, by string) (api.Execution, error) {
	if x.Status != api.ExecutionRunning && x.Status != api.ExecutionPending {
		return x, api.ExecutionActionError("suspend", x)
	}
	x.Status, x.ReleaseNodes, x.SuspendedBy = api.ExecutionSuspending, release, by
	return x, nil
}

// Resume puts a suspended (or suspending) execution back to running: its
// suspended jobs are queued again, with their checkpoints.
func Resume(x api.Execution, jobs []api.Job, now time.Time) (api.Execution, []api.Job, error) {
	if x.Status != api.ExecutionSuspended && x.Status != api.ExecutionSuspending {
		return x, nil, api.ExecutionActionError("resume", x)
	}
	x.Usage = Measure(x, -1, now) // the suspension ends now
	x.Status = api.ExecutionRunning
	var changed []api.Job
	for _, j := range jobs {
		if j.Status == api.JobSuspended {
			j.Status, j.NodeID = api.JobQueued, ""
			changed = append(changed, j)
		}
	}
	return x, changed, nil
}

// Cancel ends an execution: jobs not running are failed as cancelled,
// running ones are stopped at the next step.
func Cancel(x api.Execution, jobs []api.Job, now time.Time) (api.Execution, []api.Job, error) {
	if api.ExecutionDone(x.Status) {
		return x, nil, api.ExecutionActionError("cancel", x)
	}
	x.Usage = Measure(x, -1, now)
	x.Status = api.ExecutionCancelled
	var changed []api.Job
	for _, j := range jobs {
		if j.Status == api.JobQueued || j.Status == api.JobSuspended {
			j.Status = api.JobFailed
			changed = append(changed, j)
		}
	}
	if count(jobs, api.JobRunning) == 0 {
		x.EndedAt = &now
	}
	return x, changed, nil
}

// Measure adds the time since the last measure to x's usage: to its
// suspended time if x was suspended through it, else to its active time
// and its node-seconds at the ready nodes of the last measure. ready is
// the count ready now (-1: unchanged). It returns the new usage; x is
// not changed.
func Measure(x api.Execution, ready int, now time.Time) *api.ExecutionUsage {
	if x.Usage == nil {
		return nil // not started
	}
	u := *x.Usage
	if dt := now.Sub(u.At).Seconds(); dt > 0 {
		if x.Status == api.ExecutionSuspended {
			u.SuspendedSeconds += dt
		} else {
			u.ActiveSeconds += dt
			u.NodeSeconds += float64(u.Nodes) * dt
		}
		u.At = now
	}
	if ready >= 0 {
		u.Nodes = ready
		if x.Status != api.ExecutionSuspended {
			u.NodesMax = max(u.NodesMax, ready)
		}
	}
	return &u
}

// RunOf is the run record an ended execution leaves for its program
// type: wall time and node-hours without the time it was suspended.
// nodeType is the driver's ("" for local and sim).
func RunOf(x api.Execution, jobs []api.Job, id, driver, nodeType string) api.Run {
	r := api.Run{ID: id, ProgramType: x.ProgramType, Label: x.Label, ExecutionID: x.ID, GroupID: x.GroupID,
		Driver: driver, NodeType: nodeType, Status: x.Status, JobCount: len(jobs)}
	if x.StartedAt != nil {
		r.StartedAt = *x.StartedAt
	}
	if x.EndedAt != nil {
		r.EndedAt = *x.EndedAt
	}
	for _, j := range jobs {
		r.InputSize += float64(j.Items)
		// Failures counts an attempt's non-zero exits; all but a failed
		// job's last were retried.
		r.Retries += j.Failures
		if j.Status == api.JobFailed {
			r.Failures++
			if j.Failures > 0 {
				r.Retries--
			}
		}
	}
	if u := x.Usage; u != nil {
		r.WallSeconds, r.SuspendedSeconds, r.NodesMax = u.ActiveSeconds, u.SuspendedSeconds, u.NodesMax
		r.NodeHours = u.NodeSeconds / 3600
		r.NodesMean = float64(u.Nodes)
		if u.ActiveSeconds > 0 {
			r.NodesMean = u.NodeSeconds / u.ActiveSeconds
		}
	}
	return r
}

// Active is the time an ended execution ran: from its start to its end,
// less each suspension, from its execution_suspended event to the
// execution_resumed event after it (or the end). That is the time Measure
// counts as active, so node-hours and cost leave out the same time: the
// step that records the suspended event is the last measure that counts
// as active, and Resume measures at the time of its event. events are the
// execution's events (x.Events) in time order; other types are ignored.
func Active(x api.Execution, events []api.Event) []cost.Window {
	if x.StartedAt == nil || x.EndedAt == nil {
		return nil
	}
	var ws []cost.Window
	from := *x.StartedAt // the running stretch's start; zero while suspended
	for _, e := range events {
		switch {
		case e.Type == api.EventExecutionSuspended && !from.IsZero():
			ws = append(ws, cost.Window{Since: from, Until: e.Time})
			from = time.Time{}
		case e.Type == api.EventExecutionResumed && from.IsZero():
			from = e.Time
		}
	}
	if !from.IsZero() {
		ws = append(ws, cost.Window{Since: from, Until: *x.EndedAt})
	}
	return ws
}

// RunCost is what an ended execution's run cost under its group's billing
// (rates): the billed time of the group's nodes (package cost's pricing)
// over the time it ran (Active), in the billing's currency. nodes are the
// group's nodes that ran at some time from its start to its end. It is
// nil when no billing was in force while it ran.
func RunCost(x api.Execution, events []api.Event, nodes []api.Node, rates cost.Rates) *float64 {
	if x.StartedAt == nil || x.EndedAt == nil || rates.CurrencyIn(*x.StartedAt, *x.EndedAt) == "" {
		return nil
	}
	_, micros := cost.TotalIn(nodes, rates, *x.EndedAt, Active(x, events))
	c := float64(micros) / 1e6
	return &c
}

// Summarize fills the execution's counts, progress, elapsed time and
// estimate of the time left from its jobs.
func Summarize(x *api.Execution, jobs []api.Job, now time.Time) {
	x.JobCount = len(jobs)
	x.Counts = map[string]int{api.JobQueued: 0, api.JobRunning: 0, api.JobSucceeded: 0, api.JobFailed: 0, api.JobSuspended: 0}
	var progress, run float64
	done := 0
	for _, j := range jobs {
		x.Counts[j.Status]++
		progress += j.Progress
		if j.Status == api.JobSucceeded && j.RunSeconds > 0 {
			run += j.RunSeconds
			done++
		}
	}
	if len(jobs) > 0 {
		x.Progress = progress / float64(len(jobs))
	}
	x.Elapsed, x.EstimatedTimeLeft = "", ""
	if x.StartedAt != nil {
		end := now
		if x.EndedAt != nil {
			end = *x.EndedAt
		}
		x.Elapsed = end.Sub(*x.StartedAt).Round(time.Second).String()
	}
	if done == 0 || api.ExecutionDone(x.Status) {
		return
	}
	// The jobs left, each as long as the mean finished one, spread over
	// the jobs running now (at least one).
	left := 0.0
	for _, j := range jobs {
		if j.Status == api.JobQueued || j.Status == api.JobRunning || j.Status == api.JobSuspended {
			left += 1 - j.Progress
		}
	}
	lanes := max(1, x.Counts[api.JobRunning])
	eta := time.Duration(run / float64(done) * left / float64(lanes) * float64(time.Second))
	x.EstimatedTimeLeft = eta.Round(time.Second).String()
}

func count(jobs []api.Job, status string) int {
	n := 0
	for _, j := range jobs {
		if j.Status == status {
			n++
		}
	}
	return n
}

func fact(typ string, jobs []api.Job) Fact {
	return Fact{Type: typ, Queued: count(jobs, api.JobQueued), Succeeded: count(jobs, api.JobSucceeded),
		Failed: count(jobs, api.JobFailed), Total: len(jobs)}
}

func jobFact(typ string, j api.Job, jobs []api.Job, why Why) Fact {
	f := fact(typ, jobs)
	f.Job, f.Attempt, f.Why = j.Index, j.Attempt, why
	return f
}
