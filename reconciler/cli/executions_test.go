package cli

import (
	"strings"
	"testing"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// The execution verbs' command-line mistakes are told before connecting
// (exit 2, nothing sent).
func TestExecutionUsage(t *testing.T) {
	t.Setenv("PES_TOKEN", "t")
	t.Setenv("PES_ENDPOINT", "http://127.0.0.1:1")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--group", "g"}, "give one of --input-lines or --input-files"},
		{[]string{"run", "--group", "g", "--input-lines", "a", "--input-files", "b"}, "give one of --input-lines or --input-files"},
		{[]string{"run", "--input-lines", "a"}, "--group: required"},
		{[]string{"execution"}, "want one execution"},
		{[]string{"suspend", "X1", "X2"}, "want one execution"},
		{[]string{"resume"}, "want one execution"},
		{[]string{"cancel"}, "want one execution"},
		{[]string{"run", "--group", "g", "--input-lines", "a", "--recommended"}, "--recommended: needs --program-type"},
		{[]string{"run", "--group", "g", "--input-lines", "a", "--deadline", "soon"}, "deadline"},
		{[]string{"recommend", "--input-size", "1e6"}, "--type: required"},
		{[]string{"recommend", "--type", "Word_Count", "--input-size", "1e6"}, "--type:"},
		{[]string{"recommend", "--type", "wc"}, "--input-size: is required"},
		{[]string{"recommend", "--type", "wc", "--input-size", "lots"}, "--input-size: must be a positive number"},
		{[]string{"recommend", "--type", "wc", "--input-size", "1e6", "--deadline", "soon"}, "--deadline: must be a positive duration"},
		{[]string{"recommend", "--type", "wc", "--input-size", "1e6", "--max-node-hours", "-1"}, "--max-node-hours:"},
		{[]string{"recommend", "--type", "wc", "--input-size", "1e6", "--max-nodes", "0"}, "--max-nodes:"},
		{[]string{"recommend", "--type", "wc", "--input-size", "1e6", "extra"}, "unexpected argument"},
	} {
		code, _, errOut := runCLI(c.args...)
		if code != ExitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("pesd %s: exit %d, %q; want exit 2 saying %q", strings.Join(c.args, " "), code, errOut, c.want)
		}
	}
}

func TestProgressLine(t *testing.T) {
	x := executionFixture()
	got := progressLine(x)
	for _, want := range []string{"X1 running: 3/10 succeeded, 2 running, 5 queued, 0 failed (40%)", "elapsed 12s", "about 20s left"} {
		if !strings.Contains(got, want) {
			t.Errorf("progress line %q lacks %q", got, want)
		}
	}
}

func executionFixture() api.Execution {
	return api.Execution{Label: "X1", Status: api.ExecutionRunning, JobCount: 10, Progress: 0.4,
		Counts:  map[string]int{api.JobSucceeded: 3, api.JobRunning: 2, api.JobQueued: 5},
		Elapsed: "12s", EstimatedTimeLeft: "20s"}
}
