package api

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// ValidateExecutionCreate checks a POST /v1/executions body and fills its
// defaults (max_attempts, the per-job counts, suspend_grace). What needs
// pesd's disk (the input file exists, the glob matches) or the group (it
// exists, its driver runs jobs) is checked by the controller, still as a
// 400 naming the field.
func ValidateExecutionCreate(in *ExecutionCreate) error {
	if strings.TrimSpace(in.GroupID) == "" {
		return Invalid("group_id", "is required: the group whose nodes run the jobs")
	}
	if in.Name != "" {
		if err := validateName("name", in.Name, false); err != nil {
			return err
		}
	}
	if in.ProgramType != "" {
		if err := validateName("program_type", in.ProgramType, false); err != nil {
			return err
		}
	}
	if in.Program != nil {
		if strings.TrimSpace(in.Program.Command) == "" {
			return Invalid("program.command", "is required when program is given (omit program to run the group's)")
		}
		if err := validateProgram(&GroupConfig{Driver: DriverLocal, Program: *in.Program}); err != nil {
			return err
		}
	}
	if err := validateInput(&in.Input); err != nil {
		return err
	}
	if in.MaxParallel < 0 {
		return Invalid("max_parallel", "must not be negative (0: as many jobs as there are free nodes); got %d", in.MaxParallel)
	}
	if in.MaxAttempts == nil {
		n := DefaultMaxAttempts
		in.MaxAttempts = &n
	}
	if *in.MaxAttempts < 1 || *in.MaxAttempts > 100 {
		return Invalid("max_attempts", "must be between 1 and 100 (each job runs at most this many times before it is failed); got %d", *in.MaxAttempts)
	}
	if oc := in.OnComplete; oc != nil {
		switch {
		case oc.KeepNodes && oc.ScaleTo != nil:
			return Invalid("on_complete", "give keep_nodes or scale_to, not both")
		case oc.ScaleTo != nil && (*oc.ScaleTo < 0 || *oc.ScaleTo > MaxQuantityLimit):
			return Invalid("on_complete.scale_to", "must be between 0 and %d; got %d", MaxQuantityLimit, *oc.ScaleTo)
		}
	}
	if in.SuspendGrace == "" {
		in.SuspendGrace = DefaultSuspendGrace
	}
	if _, err := ParseExecutionDurations(Execution{SuspendGrace: in.SuspendGrace, Sim: in.Sim}); err != nil {
		return err
	}
	if in.Deadline != nil && in.Deadline.IsZero() {
		return Invalid("deadline", "must be an RFC 3339 time")
	}
	if in.MaxNodeHours < 0 || math.IsInf(in.MaxNodeHours, 0) || math.IsNaN(in.MaxNodeHours) {
		return Invalid("max_node_hours", "must be a positive number of node-hours (0: no budget); got %g", in.MaxNodeHours)
	}
	if in.UseRecommendation && in.ProgramType == "" {
		return Invalid("use_recommendation", "needs program_type: the recommendation comes from prior runs of the same program type")
	}
	return nil
}

func validateInput(in *ExecutionInput) error {
	var given []string
	if in.Files != "" {
		given = append(given, "files")
	}
	if in.Lines != "" {
		given = append(given, "lines")
	}
	if len(in.Items) > 0 {
		given = append(given, "items")
	}
	switch {
	case len(given) == 0:
		if in.Items != nil {
			return Invalid("input.items", "is empty: give at least one item")
		}
		return Invalid("input", `is required: one of {"files": "<dir or glob>"}, {"lines": "<file>", "lines_per_job": N} or {"items": [...]}`)
	case len(given) > 1:
		return Invalid("input."+given[1], "input takes one of files, lines or items; got %s", strings.Join(given, " and "))
	}
	per := []struct {
		field string
		n     **int
		used  bool
	}{
		{"input.files_per_job", &in.FilesPerJob, in.Files != ""},
		{"input.lines_per_job", &in.LinesPerJob, in.Lines != ""},
		{"input.items_per_job", &in.ItemsPerJob, len(in.Items) > 0},
	}
	for _, p := range per {
		if *p.n == nil {
			if p.used {
				d := DefaultPerJob
				*p.n = &d
			}
			continue
		}
		if !p.used {
			return Invalid(p.field, "applies only with input.%s", strings.TrimSuffix(strings.TrimPrefix(p.field, "input."), "_per_job"))
		}
		if **p.n < 1 || **p.n > 1_000_000 {
			return Invalid(p.field, "must be between 1 and 1000000; got %d", **p.n)
		}
	}
	if len(in.Items) > MaxInlineItems {
		return Invalid("input.items", "holds %d items; at most %d may be inline (use input.lines for more)", len(in.Items), MaxInlineItems)
	}
	for _, f := range []struct{ field, v string }{{"input.files", in.Files}, {"input.lines", in.Lines}} {
		if strings.ContainsRune(f.v, 0) {
			return Invalid(f.field, "must not contain a NUL byte")
		}
	}
	return nil
}

// ExecutionActionError is the 409 of an action the execution's status
// does not allow.
func ExecutionActionError(action string, x Execution) *Error {
	return &Error{Code: CodeConflict, Status: 409, Field: "status",
		Message: fmt.Sprintf("execution %s is %s; %s", x.Label, x.Status, actionHint(action, x.Status))}
}

func actionHint(action, status string) string {
	switch {
	case ExecutionDone(status):
		return "it has ended and takes no more actions"
	case action == "resume":
		return "only a suspended (or suspending) execution can be resumed"
	case action == "suspend":
		return "only a running execution can be suspended"
	}
	return action + " does not apply"
}

// ExecutionDurations are an execution's durations, parsed, defaults
// applied: the code below the API reads these instead of parsing again.
type ExecutionDurations struct {
	SuspendGrace time.Duration
	// SimItem is how long one item of a job takes on the sim driver.
	SimItem time.Duration
}

// ParseExecutionDurations reads x's durations; its errors name the field.
func ParseExecutionDurations(x Execution) (ExecutionDurations, error) {
	var d ExecutionDurations
	grace := x.SuspendGrace
	if err := resolveDuration("suspend_grace", &grace, DefaultSuspendGrace, 0, &d.SuspendGrace); err != nil {
		return d, err
	}
	item := ""
	if x.Sim != nil {
		item = x.Sim.ItemDuration
	}
	if err := resolveDuration("sim.item_duration", &item, DefaultSimItemDuration, 0, &d.SimItem); err != nil {
		return d, err
	}
	return d, nil
}
