package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/helpers/validatordiag"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/float64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
	"github.com/pes-project/terraform-provider-pes/reconciler/trigger"
)

// conditionAlways is the condition of a trigger that only has a schedule;
// pesd stores it so.
const conditionAlways = "true"

var (
	_ resource.Resource                   = (*triggerResource)(nil)
	_ resource.ResourceWithConfigure      = (*triggerResource)(nil)
	_ resource.ResourceWithImportState    = (*triggerResource)(nil)
	_ resource.ResourceWithValidateConfig = (*triggerResource)(nil)
)

func newTriggerResource() resource.Resource { return &triggerResource{} }

type triggerResource struct {
	resourceClient
}

type triggerModel struct {
	ID              types.String  `tfsdk:"id"`
	GroupID         types.String  `tfsdk:"group_id"`
	Name            types.String  `tfsdk:"name"`
	Condition       types.String  `tfsdk:"condition"`
	For             types.String  `tfsdk:"for"`
	Schedule        types.String  `tfsdk:"schedule"`
	ChangeBy        types.Int64   `tfsdk:"change_by"`
	ChangeByPercent types.Float64 `tfsdk:"change_by_percent"`
	SetTo           types.Int64   `tfsdk:"set_to"`
	Target          *targetModel  `tfsdk:"target"`
	Notify          *notifyModel  `tfsdk:"notify"`
	Priority        types.Int64   `tfsdk:"priority"`
	Immediate       types.Bool    `tfsdk:"immediate"`
	Enabled         types.Bool    `tfsdk:"enabled"`
}

// notifyModel is pes_trigger.notify.
type notifyModel struct {
	URL    types.String `tfsdk:"url"`
	Secret types.String `tfsdk:"secret"`
}

func (n *notifyModel) api() *api.Notify {
	if n == nil {
		return nil
	}
	return &api.Notify{URL: n.URL.ValueString(), Secret: n.Secret.ValueString()}
}

// notifyFrom is the state of pesd's notify. pesd never returns the
// secret, so the state keeps the one written (prior).
func notifyFrom(n *api.Notify, prior *notifyModel) *notifyModel {
	if n == nil {
		return nil
	}
	secret := types.StringNull()
	if prior != nil {
		secret = prior.Secret
	}
	return &notifyModel{URL: types.StringValue(n.URL), Secret: secret}
}

// targetModel is pes_trigger.target.
type targetModel struct {
	Metric               types.String  `tfsdk:"metric"`
	Value                types.Float64 `tfsdk:"value"`
	Tolerance            types.Float64 `tfsdk:"tolerance"`
	Window               types.String  `tfsdk:"window"`
	ScaleInStabilization types.String  `tfsdk:"scale_in_stabilization"`
}

func (t *targetModel) api() *api.Target {
	if t == nil {
		return nil
	}
	return &api.Target{
		Metric: t.Metric.ValueString(), Value: t.Value.ValueFloat64(), Tolerance: floatPtr(t.Tolerance),
		Window: t.Window.ValueString(), ScaleInStabilization: t.ScaleInStabilization.ValueString(),
	}
}

// targetFrom is the state of pesd's target; prior keeps the user's
// spelling of durations.
func targetFrom(t *api.Target, prior *targetModel) *targetModel {
	if t == nil {
		return nil
	}
	if prior == nil {
		prior = &targetModel{}
	}
	return &targetModel{
		Metric:               types.StringValue(t.Metric),
		Value:                types.Float64Value(t.Value),
		Tolerance:            types.Float64PointerValue(t.Tolerance),
		Window:               keepDuration(prior.Window, t.Window),
		ScaleInStabilization: keepDuration(prior.ScaleInStabilization, t.ScaleInStabilization),
	}
}

func (r *triggerResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_trigger"
}

func (r *triggerResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A capacity trigger of a node group: when its `condition` holds (for `for`, or at a " +
			"`schedule` tick) it asks for a change of the desired quantity. A firing is an event carrying what " +
			"the trigger observed; unless `immediate`, it is aggregated with the period's other requests at " +
			"harmonization, so the resulting change is attributed to it *indirectly*. A trigger fires at most " +
			"once per aggregation period while it stays satisfied.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "ID of the trigger (a UUID).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"group_id": schema.StringAttribute{
				MarkdownDescription: "ID of the node group the trigger belongs to, or the name of a live group (kept as written). Changing it replaces the trigger.",
				Required:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Name shown in events and explanations (\"trigger cpu-high asked for +4\"): letters, digits, `-`, `_` and `.`.",
				Required:            true,
			},
			"condition": schema.StringAttribute{
				MarkdownDescription: "Expression over the group's metrics, checked at plan time. Functions: " +
					"`avg(m, w)`, `min(m, w)`, `max(m, w)`, `sum(m, w)`, `count(m, w)`, `last(m)`, `percentile(m, q, w)`, " +
					"`rate(m, w)` (`m` a metric name, `w` a window such as `'2m'`), `hour()`, `weekday()`; " +
					"`and`, `or`, `not`, comparisons and arithmetic. Metrics: `cpu_utilization`, `memory_bytes`, " +
					"`nodes_ready`, `nodes_desired`, `jobs_queued` and `jobs_running` (while an execution runs on the group) and any pushed metric. A metric with no samples in its window " +
					"makes the condition false. Required unless `schedule` is set; a scheduled trigger without a " +
					"condition has the condition `true`.",
				Optional:   true,
				Computed:   true,
				Default:    stringdefault.StaticString(conditionAlways),
				Validators: []validator.String{conditionValidator{}},
			},
			"for": schema.StringAttribute{
				MarkdownDescription: "How long the condition must hold continuously before the trigger fires (e.g. `2m`, at most `24h`).",
				Optional:            true,
				Validators:          []validator.String{forValidator{}},
			},
			"schedule": schema.StringAttribute{
				MarkdownDescription: "Cron schedule in UTC (`0 8 * * 1-5`, `@hourly`): the trigger fires at each tick when its condition holds.",
				Optional:            true,
				Validators:          []validator.String{scheduleValidator{}},
			},
			"change_by": schema.Int64Attribute{
				MarkdownDescription: "Ask for the desired quantity plus this many nodes (negative to remove). Exactly one of `change_by`, `change_by_percent`, `set_to`, `target` and `notify`.",
				Optional:            true,
			},
			"change_by_percent": schema.Float64Attribute{
				MarkdownDescription: "Ask for the desired quantity changed by this percentage (greater than -100, at most 1000, not 0).",
				Optional:            true,
			},
			"set_to": schema.Int64Attribute{
				MarkdownDescription: "Ask for exactly this desired quantity.",
				Optional:            true,
			},
			"target": schema.SingleNestedAttribute{
				MarkdownDescription: "Target tracking: keep the mean of `metric` over `window` at `value`. Every " +
					"evaluation proposes `ceil(ready × observed / value)`, the Kubernetes HPA's formula, with its " +
					"tolerance band and its rules for nodes still launching; a scale-in takes the largest proposal " +
					"over `scale_in_stabilization`. A proposal that changes the desired quantity is a firing, at most " +
					"one per period, aggregated like any other request. A `condition`, when given, gates it; `for` " +
					"and `schedule` must be unset. See the target-tracking guide.",
				Optional: true,
				Attributes: map[string]schema.Attribute{
					"metric": schema.StringAttribute{
						MarkdownDescription: "The metric to track (pushed, sampled by the driver, or a group metric source).",
						Required:            true,
					},
					"value": schema.Float64Attribute{
						MarkdownDescription: "The target value of the metric's mean (greater than 0).",
						Required:            true,
						Validators:          []validator.Float64{float64validator.AtLeast(1e-9)},
					},
					"tolerance": schema.Float64Attribute{
						MarkdownDescription: fmt.Sprintf("No change while |observed/value − 1| is at most this (0 to below %v). Defaults to `%v`.", api.MaxTargetTolerance, api.DefaultTargetTolerance),
						Optional:            true,
						Computed:            true,
						Default:             float64default.StaticFloat64(api.DefaultTargetTolerance),
						Validators:          []validator.Float64{float64validator.Between(0, api.MaxTargetTolerance-1e-9)},
					},
					"window": schema.StringAttribute{
						MarkdownDescription: fmt.Sprintf("The window the metric's mean is taken over (1s to 24h). Defaults to `%s`.", api.DefaultTargetWindow),
						Optional:            true,
						Computed:            true,
						Default:             stringdefault.StaticString(api.DefaultTargetWindow),
						Validators:          []validator.String{forValidator{}},
					},
					"scale_in_stabilization": schema.StringAttribute{
						MarkdownDescription: fmt.Sprintf("A scale-in goes no lower than the largest proposal over this window, as the HPA's downscale stabilization (0s to 24h). Defaults to `%s`, the HPA's.", api.DefaultScaleInStabilization),
						Optional:            true,
						Computed:            true,
						Default:             stringdefault.StaticString(api.DefaultScaleInStabilization),
						Validators:          []validator.String{forValidator{}},
					},
				},
			},
			"notify": schema.SingleNestedAttribute{
				MarkdownDescription: "Notify another system instead of asking for a change (seed 000): each firing is " +
					"POSTed as JSON (`group_id`, `group`, `trigger_id`, `trigger`, `event_id`, `event_label`, `observed`, " +
					"`time`) to `url`, signed in the `" + api.NotifySignatureHeader + "` header with `sha256=` and the hex " +
					"HMAC-SHA256 of the body under `secret`, and retried with a doubling backoff. pesd records a `notified` " +
					"event for each delivery, failed ones with the error. The receiver decides the change: it answers with " +
					"an instruction whose `in_reply_to` is the firing's `event_id`, and the firing is then among the causes " +
					"of the changes it makes. `url` must be loopback or a host pesd allows (`pesd serve --notify-allow`).",
				Optional: true,
				Attributes: map[string]schema.Attribute{
					"url": schema.StringAttribute{
						MarkdownDescription: "The receiver's `http` or `https` URL, checked at plan time; pesd refuses a host that is neither loopback nor in its `--notify-allow` list.",
						Required:            true,
					},
					"secret": schema.StringAttribute{
						MarkdownDescription: "The key deliveries are signed with. Write-only in pesd: it is never returned, so the state keeps the one written here.",
						Required:            true,
						Sensitive:           true,
					},
				},
			},
			"priority": defaultedInt(fmt.Sprintf("Priority of the trigger's requests, used by the `priority` aggregation policy "+
				"(user instructions default to %d).", api.DefaultInstructionPriority), api.DefaultTriggerPriority),
			"immediate": defaultedBool("Act at once instead of at the end of the period; the change is then attributed to the firing *directly*.", false),
			"enabled":   defaultedBool("Whether the trigger is evaluated.", true),
		},
	}
}

// ValidateConfig runs pesd's trigger validation (api.ValidateTriggerSpec)
// for what attribute validators cannot see, like "condition is required
// unless there is a schedule" and the name rules.
func (r *triggerResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	m, ok := load[triggerModel](ctx, req.Config, &resp.Diagnostics)
	if !ok {
		return
	}
	checkOneRequestForm(m, &resp.Diagnostics)
	spec := triggerValidationSpec(m)
	// Every problem, not the first: a plan shows them all at once.
	problems := api.TriggerSpecProblems(spec, true)
	for _, err := range problems {
		resp.Diagnostics.Append(validationDiag("Invalid trigger configuration", err))
	}
	if len(problems) > 0 {
		return
	}
	// The trigger as pesd will compile it: rules across fields, such as a
	// target's for and schedule, are package trigger's.
	t := api.Trigger{Request: spec.Request}
	for dst, src := range map[*string]*string{&t.Condition: spec.Condition, &t.For: spec.For, &t.Schedule: spec.Schedule} {
		if src != nil {
			*dst = *src
		}
	}
	if _, err := trigger.ParseTrigger(t); err != nil {
		var fe *trigger.FieldError
		if errors.As(err, &fe) {
			err = api.Invalid(fe.Field, "%s", fe.Err.Error())
		}
		resp.Diagnostics.Append(validationDiag("Invalid trigger configuration", err))
	}
}

// checkOneRequestForm reports a trigger with no request form, or with
// several, exactly as an ExactlyOneOf validator on each form would: one
// diagnostic at each form's path. One check of the loaded model replaces
// five validators that each walked the whole configuration on every
// validation, a tenth of the provider's CPU in an apply. Unknown forms
// delay the check, as they delay the validators.
func checkOneRequestForm(m triggerModel, diags *diag.Diagnostics) {
	forms := []struct {
		name       string
		set, known bool
	}{
		{"change_by", !m.ChangeBy.IsNull(), !m.ChangeBy.IsUnknown()},
		{"change_by_percent", !m.ChangeByPercent.IsNull(), !m.ChangeByPercent.IsUnknown()},
		{"set_to", !m.SetTo.IsNull(), !m.SetTo.IsUnknown()},
		{"target", m.Target != nil, true}, // a pointer cannot hold an unknown: load fails first
		{"notify", m.Notify != nil, true},
	}
	count := 0
	all := make([]path.Expression, len(forms))
	for i, f := range forms {
		if !f.known {
			return
		}
		if f.set {
			count++
		}
		all[i] = path.MatchRoot(f.name)
	}
	if count == 1 {
		return
	}
	for _, f := range forms {
		exprs := path.MatchRoot(f.name).MergeExpressions(all...)
		msg := fmt.Sprintf("%d attributes specified when one (and only one) of %s is required", count, exprs)
		if count == 0 {
			msg = fmt.Sprintf("No attribute specified when one (and only one) of %s is required", exprs)
		}
		diags.Append(validatordiag.InvalidAttributeCombinationDiagnostic(path.Root(f.name), msg))
	}
}

// triggerValidationSpec builds the spec ValidateConfig checks: unknown
// values, and values attribute validators already report, become values
// that pass.
func triggerValidationSpec(m triggerModel) *api.TriggerSpec {
	known := func(v interface {
		IsNull() bool
		IsUnknown() bool
	}) bool {
		return !v.IsNull() && !v.IsUnknown()
	}
	placeholder := "placeholder"
	spec := &api.TriggerSpec{Name: &placeholder}
	if known(m.Name) {
		spec.Name = m.Name.ValueStringPointer()
	}
	switch {
	case m.Schedule.IsUnknown():
		s := "@hourly"
		spec.Schedule = &s
	case known(m.Schedule):
		if _, err := trigger.ParseSchedule(m.Schedule.ValueString()); err == nil {
			spec.Schedule = m.Schedule.ValueStringPointer()
		}
	}
	if known(m.For) {
		if _, err := api.ParseTriggerFor(m.For.ValueString()); err == nil {
			spec.For = m.For.ValueStringPointer()
		}
	}
	if !m.Condition.IsNull() {
		always := conditionAlways // unknown, or reported by conditionValidator
		spec.Condition = &always
		if known(m.Condition) {
			if checkCondition(m.Condition.ValueString()) == nil {
				spec.Condition = m.Condition.ValueStringPointer()
			}
		}
	}
	// checkOneRequestForm reports a missing or doubled request form; check the
	// value of the first one given.
	switch {
	case known(m.ChangeBy):
		spec.ChangeBy = intPtr(m.ChangeBy)
	case known(m.ChangeByPercent):
		spec.ChangeByPercent = floatPtr(m.ChangeByPercent)
	case known(m.SetTo):
		spec.SetTo = intPtr(m.SetTo)
	case m.Target != nil:
		tg := m.Target.api()
		// Unknown parts take values that pass; known ones are checked.
		if m.Target.Metric.IsUnknown() {
			tg.Metric = "placeholder"
		}
		if m.Target.Value.IsUnknown() {
			tg.Value = 1
		}
		if m.Target.Window.IsUnknown() {
			tg.Window = ""
		}
		if m.Target.ScaleInStabilization.IsUnknown() {
			tg.ScaleInStabilization = ""
		}
		spec.Target = tg
	case m.Notify != nil:
		n := api.Notify{URL: "http://127.0.0.1/", Secret: "placeholder"}
		if known(m.Notify.URL) {
			n.URL = m.Notify.URL.ValueString()
		}
		if known(m.Notify.Secret) {
			n.Secret = m.Notify.Secret.ValueString()
		}
		spec.Notify = &n
	default:
		one := 1
		spec.ChangeBy = &one
	}
	spec.Priority = intPtr(m.Priority)
	return spec
}

func (m triggerModel) spec() api.TriggerSpec {
	s := api.TriggerSpec{
		Name:      m.Name.ValueStringPointer(),
		Condition: m.Condition.ValueStringPointer(),
		For:       strPtr(m.For),
		Schedule:  strPtr(m.Schedule),
		Request: api.Request{
			ChangeBy:        intPtr(m.ChangeBy),
			ChangeByPercent: floatPtr(m.ChangeByPercent),
			SetTo:           intPtr(m.SetTo),
			Target:          m.Target.api(),
		},
		Notify:    m.Notify.api(),
		Priority:  intPtr(m.Priority),
		Immediate: boolPtr(m.Immediate),
		Enabled:   boolPtr(m.Enabled),
	}
	return s
}

// triggerFrom is the state for pesd's answer t; prior (plan or state)
// keeps the user's spelling of values that mean the same.
func triggerFrom(t api.Trigger, prior triggerModel) triggerModel {
	return triggerModel{
		ID:              types.StringValue(t.ID),
		GroupID:         types.StringValue(t.GroupID),
		Name:            types.StringValue(t.Name),
		Condition:       keepString(prior.Condition, t.Condition),
		For:             keepDuration(prior.For, t.For),
		Schedule:        keepString(prior.Schedule, t.Schedule),
		ChangeBy:        types.Int64PointerValue(int64Ptr(t.ChangeBy)),
		ChangeByPercent: types.Float64PointerValue(t.ChangeByPercent),
		SetTo:           types.Int64PointerValue(int64Ptr(t.SetTo)),
		Target:          targetFrom(t.Target, prior.Target),
		Notify:          notifyFrom(t.Notify, prior.Notify),
		Priority:        types.Int64Value(int64(t.Priority)),
		Immediate:       types.BoolValue(t.Immediate),
		Enabled:         types.BoolValue(t.Enabled),
	}
}

// warnTrigger shows pesd's warnings about a trigger it accepted, such as a
// metric the group has never seen (a misspelling would wait for data
// silently).
func warnTrigger(t api.Trigger, diags *diag.Diagnostics) {
	for _, w := range t.Warnings {
		diags.AddWarning("Trigger "+t.Name+" reads a metric pesd has not seen", w)
	}
}

func int64Ptr(p *int) *int64 {
	if p == nil {
		return nil
	}
	n := int64(*p)
	return &n
}

func (r *triggerResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	if !r.c.ready(&resp.Diagnostics, "creating a trigger") {
		return
	}
	plan, ok := load[triggerModel](ctx, req.Plan, &resp.Diagnostics)
	if !ok {
		return
	}
	spec := plan.spec()
	if plan.For.IsNull() {
		spec.For = nil
	}
	if plan.Schedule.IsNull() {
		spec.Schedule = nil
	}
	t, err := r.c.api.CreateTrigger(ctx, plan.GroupID.ValueString(), spec)
	if err != nil {
		resp.Diagnostics.Append(apiErrorDiag("Cannot create trigger", r.c.endpoint, "group "+plan.GroupID.ValueString(), err))
		return
	}
	warnTrigger(t, &resp.Diagnostics)
	state := triggerFrom(t, plan)
	state.GroupID = r.groupRef(ctx, plan.GroupID, t.GroupID)
	resp.Diagnostics.Append(setState(ctx, &resp.State, &state)...)
}

// groupRef is the group_id to keep for a trigger of group id: the
// configured one when it names that group (pesd takes a live group's name
// where an id goes), so group_id = "web" makes no diff; else id.
func (r *triggerResource) groupRef(ctx context.Context, configured types.String, id string) types.String {
	if configured.IsNull() || configured.IsUnknown() || configured.ValueString() == id {
		return types.StringValue(id)
	}
	if g, err := r.c.api.GetGroup(ctx, configured.ValueString()); err == nil && g.ID == id {
		return configured
	}
	return types.StringValue(id)
}

func (r *triggerResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	if !r.c.ready(&resp.Diagnostics, "reading a trigger") {
		return
	}
	state, ok := load[triggerModel](ctx, req.State, &resp.Diagnostics)
	if !ok {
		return
	}
	id := state.ID.ValueString()
	t, err := r.c.api.GetTrigger(ctx, id)
	if client.IsNotFound(err) {
		resp.Diagnostics.AddWarning("Trigger deleted outside Terraform",
			fmt.Sprintf("pesd has no trigger %s (%s). Terraform removed it from the state and will plan to create it again.",
				id, state.Name.ValueString()))
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.Append(apiErrorDiag("Cannot read trigger", r.c.endpoint, id, err))
		return
	}
	next := triggerFrom(t, state)
	next.GroupID = r.groupRef(ctx, state.GroupID, t.GroupID)
	resp.Diagnostics.Append(setState(ctx, &resp.State, &next)...)
}

func (r *triggerResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	if !r.c.ready(&resp.Diagnostics, "updating a trigger") {
		return
	}
	plan, state, ok := loadUpdate[triggerModel](ctx, req, &resp.Diagnostics)
	if !ok {
		return
	}
	id := state.ID.ValueString()
	// The whole spec: an empty for or schedule removes it, and the request
	// form given replaces the old one.
	t, err := r.c.api.UpdateTrigger(ctx, id, plan.spec())
	if err != nil {
		resp.Diagnostics.Append(apiErrorDiag("Cannot update trigger", r.c.endpoint, id, err))
		return
	}
	warnTrigger(t, &resp.Diagnostics)
	next := triggerFrom(t, plan)
	next.GroupID = r.groupRef(ctx, plan.GroupID, t.GroupID)
	resp.Diagnostics.Append(setState(ctx, &resp.State, &next)...)
}

func (r *triggerResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	if r.c.ready(&resp.Diagnostics, "deleting a trigger") {
		r.c.deleteByID(ctx, req.State, &resp.Diagnostics, "trigger", r.c.api.DeleteTrigger)
	}
}

// ImportState takes the trigger's ID, or GROUP/NAME: its group's ID or
// name and its own name ("terraform import pes_trigger.cpu web/cpu-high").
func (r *triggerResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	group, name, ok := strings.Cut(req.ID, "/")
	if !ok {
		resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
		return
	}
	if !r.c.ready(&resp.Diagnostics, "importing a trigger") {
		return
	}
	t, err := r.c.api.FindTrigger(ctx, group, name)
	if err != nil {
		resp.Diagnostics.Append(apiErrorDiag("Cannot import trigger "+req.ID, r.c.endpoint, req.ID, err))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), t.ID)...)
}
