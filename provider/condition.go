package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/trigger"
)

// conditionValidator compiles a trigger condition with pesd's own compiler
// (package trigger), so a condition that plans is one pesd accepts. The
// diagnostic points at the attribute and, inside it, at the line and
// column, with the hint the compiler gives.
type conditionValidator struct{}

func (conditionValidator) Description(context.Context) string {
	return "an expression of the pes condition language, e.g. avg(cpu_utilization, '2m') > 80"
}

func (v conditionValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (conditionValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	src := req.ConfigValue.ValueString()
	if err := checkCondition(src); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid trigger condition", conditionErrorDetail(src, err))
	}
}

// compiled holds what compiling each condition source gave (a
// compileResult), for the life of the plugin process: Terraform validates
// every trigger instance in each of validate, plan and apply, and
// ValidateConfig checks the condition again, so with count one source is
// compiled hundreds of times an apply. The sources are the configuration's
// own, so the map is as small as the configuration.
var compiled sync.Map

type compileResult struct{ err error }

// checkCondition is the error trigger.Compile gives for src.
func checkCondition(src string) error {
	if r, ok := compiled.Load(src); ok {
		return r.(compileResult).err
	}
	_, err := trigger.Compile(src)
	compiled.Store(src, compileResult{err})
	return err
}

// conditionErrorDetail renders a compile error the way compilers do: the
// message with its position, the offending line, a caret under the column,
// and the hint.
func conditionErrorDetail(src string, err error) string {
	var ce *trigger.CompileError
	if !errors.As(err, &ce) {
		return err.Error()
	}
	var b strings.Builder
	if ce.Line > 0 {
		fmt.Fprintf(&b, "line %d, column %d: %s\n", ce.Line, ce.Column, ce.Message)
		lines := strings.Split(src, "\n")
		if ce.Line <= len(lines) {
			line := lines[ce.Line-1]
			col := max(ce.Column, 1)
			pad := strings.Repeat(" ", min(col-1, len([]rune(line))))
			fmt.Fprintf(&b, "\n    %s\n    %s^\n", line, pad)
		}
	} else {
		b.WriteString(ce.Message + "\n")
	}
	if ce.Hint != "" {
		fmt.Fprintf(&b, "\nHint: %s", ce.Hint)
	}
	return strings.TrimRight(b.String(), "\n")
}

// scheduleValidator checks a cron schedule as pesd parses it.
type scheduleValidator struct{}

func (scheduleValidator) Description(context.Context) string {
	return `a 5-field cron expression in UTC ("0 8 * * 1-5") or a descriptor such as "@hourly"`
}

func (v scheduleValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (scheduleValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := trigger.ParseSchedule(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid schedule",
			fmt.Sprintf("%s: %v.", req.Path, err))
	}
}

// forValidator checks a trigger's for duration as pesd parses it.
type forValidator struct{}

func (forValidator) Description(context.Context) string {
	return `a duration such as "2m" the condition must hold continuously`
}

func (v forValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (forValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := api.ParseTriggerFor(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration",
			fmt.Sprintf("%s: %v.", req.Path, err))
	}
}
