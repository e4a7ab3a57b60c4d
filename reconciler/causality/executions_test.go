package causality

import (
	"testing"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/execution"
)

func TestExecutionWords(t *testing.T) {
	cases := []struct {
		f    execution.Fact
		want string
	}{
		{execution.Fact{Type: api.EventExecutionStarted, Queued: 40, Total: 40}, "execution X1 started with 40 jobs queued"},
		{execution.Fact{Type: api.EventExecutionCompleted, Succeeded: 50, Total: 50}, "execution X1 completed: 50 jobs succeeded"},
		{execution.Fact{Type: api.EventExecutionCompleted, Succeeded: 48, Failed: 2, Total: 50}, "execution X1 completed with errors: 48 of 50 jobs succeeded, 2 failed"},
		{execution.Fact{Type: api.EventExecutionCompleted, Failed: 1, Total: 1}, "execution X1 failed: all 1 job failed"},
		{execution.Fact{Type: api.EventExecutionSuspended, Succeeded: 20, Total: 50}, "execution X1 suspended: 20 of 50 jobs done, the others checkpointed"},
		{execution.Fact{Type: api.EventJobFailed, Job: 7, Attempt: 3, Why: execution.Why{Kind: execution.WhyFailed, ExitCode: 2}},
			"job 7 of execution X1 failed after 3 attempts (exit status 2)"},
		{execution.Fact{Type: api.EventJobRetried, Job: 7, Attempt: 1, Why: execution.Why{Kind: execution.WhyRetried, ExitCode: 137, Observed: "killed by signal 9"}},
			"job 7 of execution X1 failed on attempt 1 (killed by signal 9); retried"},
		{execution.Fact{Type: api.EventJobRequeued, Job: 7, Why: execution.Why{Kind: execution.WhyNodeLost, NodeID: "n-3"}},
			"job 7 of execution X1 re-queued: its node n-3 was lost; it resumes from its last checkpoint"},
	}
	for _, c := range cases {
		if got := ExecutionFact("X1", c.f); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.f.Type, got, c.want)
		}
	}
	e := api.Event{Type: api.EventExecutionCompleted, Reason: "execution X1 completed: 4 jobs succeeded",
		Request: &api.Request{SetTo: ptr(2)}, Immediate: true}
	if got, want := DescribeEvent(e), "execution X1 completed: 4 jobs succeeded; asked for 2 nodes at once"; got != want {
		t.Errorf("description %q, want %q", got, want)
	}
}
