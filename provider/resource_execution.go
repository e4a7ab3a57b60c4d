package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/float64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
)

// Waits of pes_execution.
const (
	defaultExecutionTimeout = 30 * time.Minute
	executionPollInterval   = 500 * time.Millisecond
)

var (
	_ resource.Resource                   = (*executionResource)(nil)
	_ resource.ResourceWithConfigure      = (*executionResource)(nil)
	_ resource.ResourceWithImportState    = (*executionResource)(nil)
	_ resource.ResourceWithValidateConfig = (*executionResource)(nil)
)

func newExecutionResource() resource.Resource { return &executionResource{} }

type executionResource struct {
	resourceClient
}

type executionInputModel struct {
	Lines       types.String `tfsdk:"lines"`
	LinesPerJob types.Int64  `tfsdk:"lines_per_job"`
	Files       types.String `tfsdk:"files"`
	FilesPerJob types.Int64  `tfsdk:"files_per_job"`
	Items       types.List   `tfsdk:"items"`
	ItemsPerJob types.Int64  `tfsdk:"items_per_job"`
}

type executionProgramModel struct {
	Command types.String `tfsdk:"command"`
	Args    types.List   `tfsdk:"args"`
	Env     types.Map    `tfsdk:"env"`
}

type executionModel struct {
	ID                types.String           `tfsdk:"id"`
	Label             types.String           `tfsdk:"label"`
	GroupID           types.String           `tfsdk:"group_id"`
	Name              types.String           `tfsdk:"name"`
	ProgramType       types.String           `tfsdk:"program_type"`
	Program           *executionProgramModel `tfsdk:"program"`
	Input             *executionInputModel   `tfsdk:"input"`
	MaxParallel       types.Int64            `tfsdk:"max_parallel"`
	MaxAttempts       types.Int64            `tfsdk:"max_attempts"`
	OnCompleteScaleTo types.Int64            `tfsdk:"on_complete_scale_to"`
	SimItemDuration   types.String           `tfsdk:"sim_item_duration"`
	SuspendGrace      types.String           `tfsdk:"suspend_grace"`
	Suspended         types.Bool             `tfsdk:"suspended"`
	ReleaseNodes      types.Bool             `tfsdk:"release_nodes_on_suspend"`
	WaitForCompletion types.Bool             `tfsdk:"wait_for_completion"`
	Status            types.String           `tfsdk:"status"`
	JobCount          types.Int64            `tfsdk:"job_count"`
	Succeeded         types.Int64            `tfsdk:"jobs_succeeded"`
	Failed            types.Int64            `tfsdk:"jobs_failed"`
	Output            types.String           `tfsdk:"output"`
	Deadline          types.String           `tfsdk:"deadline"`
	MaxNodeHours      types.Float64          `tfsdk:"max_node_hours"`
	NodeQuantity      types.String           `tfsdk:"node_quantity"`
	Warnings          types.List             `tfsdk:"warnings"`
	Recommended       types.Int64            `tfsdk:"recommended_node_quantity"`
	Recommendation    types.String           `tfsdk:"recommendation"`
	Timeouts          timeouts.Value         `tfsdk:"timeouts"`
}

// nodeQuantityRecommended is node_quantity's one value: size the group by
// the recommendation at start.
const nodeQuantityRecommended = "recommended"

func (r *executionResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_execution"
}

func (r *executionResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	replaceInt := []planmodifier.Int64{int64planmodifier.RequiresReplace()}
	perJob := func(of string) schema.Int64Attribute {
		return schema.Int64Attribute{
			MarkdownDescription: "How many " + of + " make one job (default 1).",
			Optional:            true,
			Validators:          []validator.Int64{int64validator.AtLeast(1)},
		}
	}
	readStr := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: desc, Computed: true}
	}
	readInt := func(desc string) schema.Int64Attribute {
		return schema.Int64Attribute{MarkdownDescription: desc, Computed: true}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A distributed execution (compare `google_dataflow_job`): pesd splits `input` into " +
			"jobs and runs them on the nodes of a group, one job per free node, re-queueing the job of a lost " +
			"node from its checkpoint and retrying a failing job up to `max_attempts`. Create starts it and, " +
			"with `wait_for_completion`, waits for it to end, logging its progress. `suspended = true` " +
			"suspends it (every job checkpoints); `false` resumes it. Destroy cancels it if it is still running. " +
			"The job environment contract is in the executions guide.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "ID of the execution (a UUID).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"label": schema.StringAttribute{
				MarkdownDescription: "Label of the execution for people (`X1`), as in events and `pesd execution X1`.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"group_id":     schema.StringAttribute{MarkdownDescription: "ID of the group whose nodes run the jobs.", Required: true, PlanModifiers: replace},
			"name":         schema.StringAttribute{MarkdownDescription: "Name of the execution.", Optional: true, PlanModifiers: replace},
			"program_type": schema.StringAttribute{MarkdownDescription: "A name grouping runs of the same kind of program.", Optional: true, PlanModifiers: replace},
			"program": schema.SingleNestedAttribute{
				MarkdownDescription: "The job's program. Defaults to the group's program.",
				Optional:            true,
				PlanModifiers:       []planmodifier.Object{objectplanmodifier.RequiresReplace()},
				Attributes: map[string]schema.Attribute{
					"command": schema.StringAttribute{MarkdownDescription: "Executable to run, on pesd's machine.", Required: true},
					"args":    schema.ListAttribute{MarkdownDescription: "Arguments.", Optional: true, ElementType: types.StringType},
					"env":     schema.MapAttribute{MarkdownDescription: "Extra environment variables.", Optional: true, ElementType: types.StringType},
				},
			},
			"input": schema.SingleNestedAttribute{
				MarkdownDescription: "The input: exactly one of `lines` (a file on pesd's machine), `files` (a directory or a glob) or `items` (JSON values).",
				Required:            true,
				PlanModifiers:       []planmodifier.Object{objectplanmodifier.RequiresReplace()},
				Attributes: map[string]schema.Attribute{
					"lines":         schema.StringAttribute{MarkdownDescription: "A file split into lines.", Optional: true},
					"lines_per_job": perJob("lines"),
					"files":         schema.StringAttribute{MarkdownDescription: "A directory (each regular file) or a glob: one subset per file.", Optional: true},
					"files_per_job": perJob("files"),
					"items": schema.ListAttribute{MarkdownDescription: "Items, each a JSON value (`jsonencode(...)`).",
						Optional: true, ElementType: types.StringType, PlanModifiers: []planmodifier.List{listplanmodifier.RequiresReplace()}},
					"items_per_job": perJob("items"),
				},
			},
			"max_parallel": schema.Int64Attribute{MarkdownDescription: "At most this many jobs run at once (default: one per free node).",
				Optional: true, PlanModifiers: replaceInt, Validators: []validator.Int64{int64validator.AtLeast(0)}},
			"max_attempts": schema.Int64Attribute{MarkdownDescription: fmt.Sprintf("Runs of a job before it is failed. Defaults to `%d`.", api.DefaultMaxAttempts),
				Optional: true, PlanModifiers: replaceInt, Validators: []validator.Int64{int64validator.Between(1, 100)}},
			"on_complete_scale_to": schema.Int64Attribute{MarkdownDescription: "When the execution completes, scale the group to this many nodes (a change attributed to the completion event). Unset keeps the nodes.",
				Optional: true, PlanModifiers: replaceInt, Validators: []validator.Int64{int64validator.AtLeast(0)}},
			"sim_item_duration": schema.StringAttribute{MarkdownDescription: "On a `sim` group, how long one item of a job takes (default `1s`).",
				Optional: true, PlanModifiers: replace, Validators: []validator.String{durationValidator{}}},
			"suspend_grace": schema.StringAttribute{MarkdownDescription: "How long a job has after SIGTERM to checkpoint and exit. Defaults to `" + api.DefaultSuspendGrace + "`.",
				Optional: true, PlanModifiers: replace, Validators: []validator.String{durationValidator{}}},
			"suspended":                defaultedBool("Suspend the execution (every running job checkpoints; pesd keeps the state), or resume it when set back to `false`.", false),
			"release_nodes_on_suspend": defaultedBool("When suspended, scale the group to 0 nodes (attributed to the suspension); resume asks for them back.", false),
			"wait_for_completion":      defaultedBool("Wait, on create and on resume, until the execution ends, within the `timeouts`; a failure names the failed jobs and why.", true),
			"status":                   readStr("`pending`, `running`, `suspending`, `suspended`, `completed`, `completed_with_errors`, `failed` or `cancelled`."),
			"job_count":                readInt("Number of jobs the input was split into."),
			"jobs_succeeded":           readInt("Jobs that succeeded."),
			"jobs_failed":              readInt("Jobs that failed after `max_attempts`."),
			"output":                   readStr("The combined output file (the jobs' outputs in job order), once completed."),
			"deadline": schema.StringAttribute{MarkdownDescription: "How long the execution may take from its creation (a duration such as `1h`). " +
				"With `program_type`, a node quantity predicted (from the type's prior runs) to miss it gives a warning, recorded as an event of the group.",
				Optional: true, PlanModifiers: replace, Validators: []validator.String{durationValidator{}}},
			"max_node_hours": schema.Float64Attribute{MarkdownDescription: "The budget in node-hours. With `program_type`, a node quantity predicted to exceed it gives a warning.",
				Optional: true, PlanModifiers: []planmodifier.Float64{float64planmodifier.RequiresReplace()},
				Validators: []validator.Float64{float64validator.AtLeast(0)}},
			"node_quantity": schema.StringAttribute{MarkdownDescription: "`\"recommended\"` sizes the group to the recommendation from the prior runs of `program_type` " +
				"when the execution starts (meeting `deadline` and `max_node_hours`, within the group's `max_quantity`): a change caused by the start event, " +
				"whose explanation cites the recommendation. Unset runs on the nodes the group has. Fewer than 3 completed runs of the type fail the create.",
				Optional: true, PlanModifiers: replace, Validators: []validator.String{stringvalidator.OneOf(nodeQuantityRecommended)}},
			"warnings": schema.ListAttribute{MarkdownDescription: "The warnings given at creation (also shown as Terraform warnings): the node quantity is predicted to miss `deadline` or exceed `max_node_hours`.",
				Computed: true, ElementType: types.StringType, PlanModifiers: []planmodifier.List{listplanmodifier.UseStateForUnknown()}},
			"recommended_node_quantity": schema.Int64Attribute{MarkdownDescription: "The recommended node quantity, when one was made at creation (`node_quantity = \"recommended\"`, or beside a warning).",
				Computed: true, PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()}},
			"recommendation": schema.StringAttribute{MarkdownDescription: "The recommendation made at creation, in a sentence.",
				Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{
				Create: true, Update: true,
				CreateDescription: "How long create waits for the execution to end (`wait_for_completion`). Defaults to `30m`.",
				UpdateDescription: "How long a suspension or a resumption waits. Defaults to `30m`.",
			}),
		},
	}
}

func (m executionModel) create(ctx context.Context, diags *diag.Diagnostics) api.ExecutionCreate {
	in := api.ExecutionCreate{
		GroupID: m.GroupID.ValueString(), Name: m.Name.ValueString(), ProgramType: m.ProgramType.ValueString(),
		MaxParallel: int(m.MaxParallel.ValueInt64()), MaxAttempts: intPtr(m.MaxAttempts),
		SuspendGrace: m.SuspendGrace.ValueString(),
	}
	if p := m.Program; p != nil {
		in.Program = &api.Program{Command: p.Command.ValueString()}
		diags.Append(p.Args.ElementsAs(ctx, &in.Program.Args, false)...)
		diags.Append(p.Env.ElementsAs(ctx, &in.Program.Env, false)...)
	}
	if i := m.Input; i != nil {
		in.Input = api.ExecutionInput{Lines: i.Lines.ValueString(), LinesPerJob: intPtr(i.LinesPerJob),
			Files: i.Files.ValueString(), FilesPerJob: intPtr(i.FilesPerJob), ItemsPerJob: intPtr(i.ItemsPerJob)}
		var items []string
		diags.Append(i.Items.ElementsAs(ctx, &items, false)...)
		for _, it := range items {
			in.Input.Items = append(in.Input.Items, json.RawMessage(it))
		}
	}
	if !m.OnCompleteScaleTo.IsNull() {
		in.OnComplete = &api.OnComplete{ScaleTo: intPtr(m.OnCompleteScaleTo)}
	}
	if d := m.SimItemDuration.ValueString(); d != "" {
		in.Sim = &api.ExecutionSim{ItemDuration: d}
	}
	if d := m.Deadline.ValueString(); d != "" {
		if v, err := api.ParseDuration(d); err == nil {
			at := time.Now().Add(v).UTC()
			in.Deadline = &at
		}
	}
	in.MaxNodeHours = m.MaxNodeHours.ValueFloat64()
	in.UseRecommendation = m.NodeQuantity.ValueString() == nodeQuantityRecommended
	return in
}

// ValidateConfig checks at plan time what pesd would refuse: the
// recommended quantity comes from the runs of a program type.
func (r *executionResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var nq, pt types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("node_quantity"), &nq)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("program_type"), &pt)...)
	if nq.ValueString() == nodeQuantityRecommended && pt.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root("node_quantity"), "The recommended quantity needs a program type",
			`node_quantity = "recommended" sizes the group from the prior runs of program_type; set program_type.`)
	}
}

// warningDiags are an execution's warnings as Terraform warnings.
func warningDiags(x api.Execution) diag.Diagnostics {
	var diags diag.Diagnostics
	for _, w := range x.Warnings {
		summary := "Execution predicted to miss its deadline"
		if w.Kind == api.WarningMaxNodeHours {
			summary = "Execution predicted to exceed its node-hour budget"
		}
		diags.AddWarning(summary, fmt.Sprintf("%s.\n\npesd recorded it as event %s of the group. Set node_quantity = %q to size the group "+
			"by the recommendation, or change the group's desired_quantity.", w.Message, w.Event, nodeQuantityRecommended))
	}
	return diags
}

// observed copies pesd's view of the execution into the state.
func (m *executionModel) observed(x api.Execution) {
	m.ID, m.Label = types.StringValue(x.ID), types.StringValue(x.Label)
	m.Status = types.StringValue(x.Status)
	m.JobCount = types.Int64Value(int64(x.JobCount))
	m.Succeeded = types.Int64Value(int64(x.Counts[api.JobSucceeded]))
	m.Failed = types.Int64Value(int64(x.Counts[api.JobFailed]))
	m.Output = types.StringValue(x.Output)
	ws := make([]string, 0, len(x.Warnings))
	for _, w := range x.Warnings {
		ws = append(ws, w.Message)
	}
	m.Warnings, _ = types.ListValueFrom(context.Background(), types.StringType, ws)
	m.Recommended, m.Recommendation = types.Int64Null(), types.StringNull()
	if r := x.Recommendation; r != nil && r.Status == api.RecommendationOK {
		m.Recommended, m.Recommendation = types.Int64Value(int64(r.NodeQuantity)), types.StringValue(r.Explanation)
	}
	switch x.Status {
	case api.ExecutionSuspended, api.ExecutionSuspending:
		m.Suspended = types.BoolValue(true)
	case api.ExecutionRunning, api.ExecutionPending:
		m.Suspended = types.BoolValue(false)
	}
	// An ended execution keeps the suspended the configuration gave.
}

func (r *executionResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	if !r.c.ready(&resp.Diagnostics, "creating an execution") {
		return
	}
	plan, ok := load[executionModel](ctx, req.Plan, &resp.Diagnostics)
	if !ok {
		return
	}
	in := plan.create(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := api.ValidateExecutionCreate(&in); err != nil {
		resp.Diagnostics.Append(apiErrorDiag("Invalid execution", r.c.endpoint, "", err))
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultExecutionTimeout)
	resp.Diagnostics.Append(diags...)
	x, err := r.c.api.CreateExecution(ctx, in)
	if err != nil {
		resp.Diagnostics.Append(apiErrorDiag("Cannot create execution", r.c.endpoint, "group "+in.GroupID, err))
		return
	}
	resp.Diagnostics.Append(warningDiags(x)...)
	wantSuspended := plan.Suspended.ValueBool()
	if wantSuspended {
		x, err = r.c.api.SuspendExecution(ctx, x.ID, plan.ReleaseNodes.ValueBool())
	}
	if err == nil && (wantSuspended || plan.WaitForCompletion.ValueBool()) {
		x, err = r.wait(ctx, x, timeout, wantSuspended)
	}
	plan.observed(x)
	if plan.Suspended.IsUnknown() {
		plan.Suspended = types.BoolValue(wantSuspended)
	}
	resp.Diagnostics.Append(setState(ctx, &resp.State, &plan)...)
	if err != nil {
		resp.Diagnostics.Append(r.failure(x, err))
	} else if !wantSuspended {
		resp.Diagnostics.Append(r.ended(x))
	}
}

// wait polls the execution until it ends (or, with suspended, until it is
// suspended), logging its progress.
func (r *executionResource) wait(ctx context.Context, x api.Execution, timeout time.Duration, suspended bool) (api.Execution, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := ""
	for {
		if api.ExecutionDone(x.Status) || suspended && x.Status == api.ExecutionSuspended {
			return x, nil
		}
		line := fmt.Sprintf("execution %s %s: %d of %d jobs succeeded, %d running, %d failed",
			x.Label, x.Status, x.Counts[api.JobSucceeded], x.JobCount, x.Counts[api.JobRunning], x.Counts[api.JobFailed])
		if line != last {
			tflog.Info(ctx, line, map[string]any{"id": x.ID, "estimated_time_left": x.EstimatedTimeLeft})
			last = line
		}
		select {
		case <-ctx.Done():
			return x, ctx.Err()
		case <-time.After(executionPollInterval):
		}
		next, err := r.c.api.GetExecution(ctx, x.ID)
		if err != nil {
			return x, err
		}
		x = next
	}
}

// ended reports an execution that ended with failed jobs: which, and why.
func (r *executionResource) ended(x api.Execution) diag.Diagnostic {
	if x.Status != api.ExecutionFailed && x.Status != api.ExecutionCompletedWithErrors {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Execution %s (%s) ended %s: %d of %d jobs failed.\n", x.Label, x.ID, x.Status, x.Counts[api.JobFailed], x.JobCount)
	n := 0
	for _, j := range x.Jobs {
		if j.Status == api.JobFailed && n < 10 {
			fmt.Fprintf(&b, "- job %d, after %d attempts: %s\n", j.Index, j.Attempt, j.Reason)
			n++
		}
	}
	b.WriteString("\nSee `pesd execution " + x.Label + "` and the jobs' logs; fix the program or its input, then replace the resource.")
	return diag.NewErrorDiagnostic("Execution ended with failed jobs", b.String())
}

func (r *executionResource) failure(x api.Execution, err error) diag.Diagnostic {
	if errors.Is(err, context.DeadlineExceeded) {
		return diag.NewErrorDiagnostic("Execution did not finish in time",
			fmt.Sprintf("Execution %s (%s) is %s with %d of %d jobs done. Raise the timeouts, or set wait_for_completion = false.",
				x.Label, x.ID, x.Status, x.Counts[api.JobSucceeded], x.JobCount))
	}
	return apiErrorDiag("Cannot follow the execution", r.c.endpoint, x.ID, err)
}

func (r *executionResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	if !r.c.ready(&resp.Diagnostics, "reading an execution") {
		return
	}
	state, ok := load[executionModel](ctx, req.State, &resp.Diagnostics)
	if !ok {
		return
	}
	x, err := r.c.api.GetExecution(ctx, state.ID.ValueString())
	if client.IsNotFound(err) {
		resp.Diagnostics.AddWarning("Execution gone", fmt.Sprintf("pesd has no execution %s; Terraform removed it from the state.", state.ID.ValueString()))
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.Append(apiErrorDiag("Cannot read execution", r.c.endpoint, state.ID.ValueString(), err))
		return
	}
	if state.GroupID.IsNull() || state.GroupID.IsUnknown() { // import
		state.GroupID = types.StringValue(x.GroupID)
	}
	state.observed(x)
	resp.Diagnostics.Append(setState(ctx, &resp.State, &state)...)
}

// Update suspends or resumes; everything else replaces the execution.
func (r *executionResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	if !r.c.ready(&resp.Diagnostics, "updating an execution") {
		return
	}
	plan, state, ok := loadUpdate[executionModel](ctx, req, &resp.Diagnostics)
	if !ok {
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, defaultExecutionTimeout)
	resp.Diagnostics.Append(diags...)
	id := state.ID.ValueString()
	x, err := r.c.api.GetExecution(ctx, id)
	want := plan.Suspended.ValueBool()
	if err == nil && want != state.Suspended.ValueBool() && !api.ExecutionDone(x.Status) {
		if want {
			if x, err = r.c.api.SuspendExecution(ctx, id, plan.ReleaseNodes.ValueBool()); err == nil {
				x, err = r.wait(ctx, x, timeout, true)
			}
		} else if x, err = r.c.api.ResumeExecution(ctx, id); err == nil && plan.WaitForCompletion.ValueBool() {
			x, err = r.wait(ctx, x, timeout, false)
		}
	}
	next := plan
	next.ID, next.Label = state.ID, state.Label
	if x.ID != "" {
		next.observed(x)
	}
	next.Suspended = types.BoolValue(want)
	resp.Diagnostics.Append(setState(ctx, &resp.State, &next)...)
	if err != nil {
		resp.Diagnostics.Append(r.failure(x, err))
	} else if !want {
		resp.Diagnostics.Append(r.ended(x))
	}
}

// Delete cancels the execution if it is still running; its record stays
// in pesd's history.
func (r *executionResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	if !r.c.ready(&resp.Diagnostics, "deleting an execution") {
		return
	}
	r.c.deleteByID(ctx, req.State, &resp.Diagnostics, "execution", func(ctx context.Context, id string) error {
		x, err := r.c.api.GetExecution(ctx, id)
		if err != nil || api.ExecutionDone(x.Status) {
			return err
		}
		_, err = r.c.api.CancelExecution(ctx, id)
		return err
	})
}

func (r *executionResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
