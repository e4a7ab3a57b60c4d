package causality

import (
	"fmt"
	"strings"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/execution"
)

// ExecutionFact is the sentence of an execution's event, e.g. "execution
// X1 started with 40 jobs queued". The controller records it as the
// event's reason; the event's description is built on it.
func ExecutionFact(label string, f execution.Fact) string {
	x := "execution " + label
	job := fmt.Sprintf("job %d of %s", f.Job, x)
	switch f.Type {
	case api.EventExecutionStarted:
		return fmt.Sprintf("%s started with %s queued", x, jobs(f.Queued))
	case api.EventExecutionCompleted:
		switch {
		case f.Failed == 0:
			return fmt.Sprintf("%s completed: %s succeeded", x, jobs(f.Succeeded))
		case f.Succeeded == 0:
			return fmt.Sprintf("%s failed: all %s failed", x, jobs(f.Failed))
		}
		return fmt.Sprintf("%s completed with errors: %d of %s succeeded, %d failed", x, f.Succeeded, jobs(f.Total), f.Failed)
	case api.EventExecutionSuspended:
		return fmt.Sprintf("%s suspended: %d of %s done, the others checkpointed", x, f.Succeeded, jobs(f.Total))
	case api.EventExecutionResumed:
		return fmt.Sprintf("%s resumed with %s queued", x, jobs(f.Queued))
	case api.EventExecutionCancelled:
		return fmt.Sprintf("%s cancelled with %d of %s done", x, f.Succeeded, jobs(f.Total))
	case api.EventJobFailed:
		return fmt.Sprintf("%s failed after %s (%s)", job, attempts(f.Attempt), ended(f.Why))
	case api.EventJobRetried:
		return fmt.Sprintf("%s failed on attempt %d (%s); retried", job, f.Attempt, ended(f.Why))
	case api.EventJobRequeued:
		return fmt.Sprintf("%s %s; it resumes from its last checkpoint", job, JobReason(f.Why))
	}
	return x + " " + strings.ReplaceAll(f.Type, "_", " ")
}

// JobReason is a job's reason (api.Job.Reason) for the facts of why it
// left running, or was moved by an action.
func JobReason(w execution.Why) string {
	switch w.Kind {
	case execution.WhySuspended:
		return "suspended: its state is saved"
	case execution.WhyCancelled:
		return "cancelled"
	case execution.WhyGroupDeleted:
		return "cancelled: the group was deleted"
	case execution.WhyNodeLost:
		if w.NodeID == "" {
			return "re-queued: its node was lost"
		}
		return "re-queued: its node " + w.NodeID + " was lost"
	case execution.WhyLost:
		s := "re-queued: its attempt ended unseen (pesd restarted, or the driver lost it)"
		if w.Observed != "" {
			s = "re-queued: " + w.Observed
		}
		return s
	case execution.WhyRetried:
		return ended(w) + "; retried"
	case execution.WhyFailed:
		return ended(w)
	case execution.WhyResumed:
		return "resumed"
	}
	return ""
}

// ExecutionGroupDeleted is the reason of an execution whose group was
// deleted under it.
func ExecutionGroupDeleted() string { return "cancelled: the group was deleted" }

// ended says how an attempt ended: the driver's words, or its exit status.
func ended(w execution.Why) string {
	if w.Observed != "" {
		return w.Observed
	}
	return fmt.Sprintf("exit status %d", w.ExitCode)
}

// ExecutionMetricNote is the note of a trigger firing over an
// execution's queue: which execution the metric counts, and the event
// that started it.
func ExecutionMetricNote(label string, started api.Event) string {
	if started.Label == "" {
		return fmt.Sprintf("jobs_queued and jobs_running count the jobs of execution %s", label)
	}
	return fmt.Sprintf("jobs_queued and jobs_running count the jobs of execution %s (%s: %s)", label, started.Label, started.Reason)
}

// executionWhat says what an execution's event is: its recorded sentence,
// and the capacity it asked for (on_complete, a suspension that releases
// the nodes, the resumption that takes them back).
func executionWhat(e api.Event) (string, bool) {
	if !strings.HasPrefix(e.Type, "execution_") && !strings.HasPrefix(e.Type, "job_") {
		return "", false
	}
	s := e.Reason
	if s == "" {
		s = strings.ReplaceAll(e.Type, "_", " ")
	}
	if e.Request != nil {
		s += "; asked for " + ask(e)
		if e.Immediate {
			s += " at once"
		}
	}
	if notes := joinNonEmpty("; ", e.Notes...); notes != "" {
		s += "; " + notes
	}
	return s, true
}

func jobs(n int) string { return plural(n, "job") }

func attempts(n int) string { return plural(n, "attempt") }
