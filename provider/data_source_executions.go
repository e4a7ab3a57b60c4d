package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
)

var (
	_ datasource.DataSource              = (*executionsDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*executionsDataSource)(nil)
)

func newExecutionsDataSource() datasource.DataSource { return &executionsDataSource{} }

type executionsDataSource struct {
	dataSourceClient
}

type executionsModel struct {
	GroupID    types.String         `tfsdk:"group_id"`
	Status     types.String         `tfsdk:"status"`
	Executions []executionReadModel `tfsdk:"executions"`
}

type executionReadModel struct {
	ID                types.String   `tfsdk:"id"`
	Label             types.String   `tfsdk:"label"`
	GroupID           types.String   `tfsdk:"group_id"`
	Name              types.String   `tfsdk:"name"`
	ProgramType       types.String   `tfsdk:"program_type"`
	Status            types.String   `tfsdk:"status"`
	JobCount          types.Int64    `tfsdk:"job_count"`
	Progress          types.Float64  `tfsdk:"progress"`
	Elapsed           types.String   `tfsdk:"elapsed"`
	EstimatedTimeLeft types.String   `tfsdk:"estimated_time_left"`
	Output            types.String   `tfsdk:"output"`
	Jobs              []jobReadModel `tfsdk:"jobs"`
}

type jobReadModel struct {
	Index    types.Int64   `tfsdk:"index"`
	Status   types.String  `tfsdk:"status"`
	Attempt  types.Int64   `tfsdk:"attempt"`
	NodeID   types.String  `tfsdk:"node_id"`
	Progress types.Float64 `tfsdk:"progress"`
	ExitCode types.Int64   `tfsdk:"exit_code"`
	Reason   types.String  `tfsdk:"reason"`
}

func (d *executionsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_executions"
}

func (d *executionsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	job := map[string]schema.Attribute{
		"index":     computedInt("Index of the job in the execution, from 0."),
		"status":    computedString("`queued`, `running`, `succeeded`, `failed` or `suspended`."),
		"attempt":   computedInt("Attempts so far."),
		"node_id":   computedString("The node running the job, while it runs."),
		"progress":  computedFloat("Progress the job reported (0–1)."),
		"exit_code": computedInt("Exit status of its last attempt, once one ended."),
		"reason":    computedString("Why the job is in its status (a failure's exit status, a re-queue)."),
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Distributed executions and their jobs: status, counts, progress and the estimate of the time left.",
		Attributes: map[string]schema.Attribute{
			"group_id": schema.StringAttribute{MarkdownDescription: "Only the executions of this group.", Optional: true},
			"status": schema.StringAttribute{MarkdownDescription: "Only executions with this status: " + codeList(api.ExecutionStatuses()) + ".", Optional: true,
				Validators: []validator.String{stringvalidator.OneOf(api.ExecutionStatuses()...)}},
			"executions": computedList("The executions, oldest first.", map[string]schema.Attribute{
				"id":                  computedString("ID of the execution."),
				"label":               computedString("Label (`X1`)."),
				"group_id":            computedString("The group running it."),
				"name":                computedString("Name."),
				"program_type":        computedString("Program type."),
				"status":              computedString("Status of the execution."),
				"job_count":           computedInt("Number of jobs."),
				"progress":            computedFloat("Mean progress of the jobs (0–1)."),
				"elapsed":             computedString("Time since the start, until the end."),
				"estimated_time_left": computedString("Estimate of the time left, once a job has finished."),
				"output":              computedString("The combined output file, once completed."),
				"jobs":                computedList("The jobs in index order.", job),
			}),
		},
	}
}

func (d *executionsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if !d.c.ready(&resp.Diagnostics, "reading executions") {
		return
	}
	m, ok := load[executionsModel](ctx, req.Config, &resp.Diagnostics)
	if !ok {
		return
	}
	xs, err := d.c.api.ListAllExecutions(ctx, client.ExecutionFilter{GroupID: m.GroupID.ValueString(), Status: m.Status.ValueString()})
	if err != nil {
		resp.Diagnostics.Append(apiErrorDiag("Cannot list executions", d.c.endpoint, m.GroupID.ValueString(), err))
		return
	}
	m.Executions = make([]executionReadModel, 0, len(xs))
	for _, x := range xs {
		full, err := d.c.api.GetExecution(ctx, x.ID)
		if err != nil {
			resp.Diagnostics.Append(apiErrorDiag("Cannot read execution", d.c.endpoint, x.ID, err))
			return
		}
		m.Executions = append(m.Executions, executionRead(full))
	}
	resp.Diagnostics.Append(setState(ctx, &resp.State, &m)...)
}

func executionRead(x api.Execution) executionReadModel {
	out := executionReadModel{
		ID: types.StringValue(x.ID), Label: types.StringValue(x.Label), GroupID: types.StringValue(x.GroupID),
		Name: types.StringValue(x.Name), ProgramType: types.StringValue(x.ProgramType), Status: types.StringValue(x.Status),
		JobCount: types.Int64Value(int64(x.JobCount)), Progress: types.Float64Value(x.Progress),
		Elapsed: types.StringValue(x.Elapsed), EstimatedTimeLeft: types.StringValue(x.EstimatedTimeLeft),
		Output: types.StringValue(x.Output), Jobs: make([]jobReadModel, 0, len(x.Jobs)),
	}
	for _, j := range x.Jobs {
		jm := jobReadModel{Index: types.Int64Value(int64(j.Index)), Status: types.StringValue(j.Status),
			Attempt: types.Int64Value(int64(j.Attempt)), NodeID: types.StringValue(j.NodeID),
			Progress: types.Float64Value(j.Progress), ExitCode: types.Int64Null(), Reason: types.StringValue(j.Reason)}
		if j.ExitCode != nil {
			jm.ExitCode = types.Int64Value(int64(*j.ExitCode))
		}
		out.Jobs = append(out.Jobs, jm)
	}
	return out
}
