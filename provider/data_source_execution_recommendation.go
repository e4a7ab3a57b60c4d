package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

var (
	_ datasource.DataSource              = (*recommendationDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*recommendationDataSource)(nil)
)

func newRecommendationDataSource() datasource.DataSource { return &recommendationDataSource{} }

type recommendationDataSource struct {
	dataSourceClient
}

type recommendationModel struct {
	ProgramType  types.String  `tfsdk:"program_type"`
	InputSize    types.Float64 `tfsdk:"input_size"`
	Deadline     types.String  `tfsdk:"deadline"`
	MaxNodeHours types.Float64 `tfsdk:"max_node_hours"`
	MaxNodes     types.Int64   `tfsdk:"max_nodes"`
	Status       types.String  `tfsdk:"status"`
	NodeQuantity types.Int64   `tfsdk:"node_quantity"`
	NodeType     types.String  `tfsdk:"node_type"`
	WallSeconds  *intervalRead `tfsdk:"wall_seconds"`
	NodeHours    *intervalRead `tfsdk:"node_hours"`
	Criterion    types.String  `tfsdk:"criterion"`
	Met          types.Bool    `tfsdk:"met"`
	Runs         types.Int64   `tfsdk:"runs"`
	RunLabels    types.List    `tfsdk:"run_labels"`
	R2           types.Float64 `tfsdk:"r2"`
	Explanation  types.String  `tfsdk:"explanation"`
}

type intervalRead struct {
	Value types.Float64 `tfsdk:"value"`
	Low   types.Float64 `tfsdk:"low"`
	High  types.Float64 `tfsdk:"high"`
}

func (d *recommendationDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_execution_recommendation"
}

func (d *recommendationDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	interval := func(desc string) schema.SingleNestedAttribute {
		return schema.SingleNestedAttribute{MarkdownDescription: desc, Computed: true, Attributes: map[string]schema.Attribute{
			"value": computedFloat("The prediction."),
			"low":   computedFloat("The low end of its interval (about 95%)."),
			"high":  computedFloat("The high end of its interval."),
		}}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "The recommended node quantity (and node type) for the next execution of a program type, from the " +
			"run records of its prior executions: wall time `t = a + b·input_size/n + c·n` fit by non-negative least squares, " +
			"then the cheapest quantity meeting `deadline`, the fastest within `max_node_hours`, or the knee of the curve. " +
			"Fewer than 3 completed runs give `status = \"not_enough_history\"` and a warning, not a guess.",
		Attributes: map[string]schema.Attribute{
			"program_type": schema.StringAttribute{MarkdownDescription: "The program type (an execution's `program_type`).", Required: true},
			"input_size": schema.Float64Attribute{MarkdownDescription: "The next input's items, lines or files.", Required: true,
				Validators: []validator.Float64{float64validator.AtLeast(0)}},
			"deadline": schema.StringAttribute{MarkdownDescription: "How long the execution may take (a duration such as `1h`).", Optional: true,
				Validators: []validator.String{durationValidator{}}},
			"max_node_hours": schema.Float64Attribute{MarkdownDescription: "The budget in node-hours.", Optional: true,
				Validators: []validator.Float64{float64validator.AtLeast(0)}},
			"max_nodes": schema.Int64Attribute{MarkdownDescription: "The most nodes to consider (default twice the largest run's).", Optional: true,
				Validators: []validator.Int64{int64validator.Between(1, api.MaxQuantityLimit)}},
			"status":        computedString("`ok`, or `not_enough_history` (fewer than 3 completed runs)."),
			"node_quantity": computedInt("The recommended node quantity (null without enough history)."),
			"node_type":     computedString("The node type of the runs, where the driver has one (kubernetes: requests and limits)."),
			"wall_seconds":  interval("Predicted wall time in seconds, with its interval."),
			"node_hours":    interval("Predicted node-hours, with its interval."),
			"criterion": computedString("What decided it: `" + api.CriterionCheapestWithinDeadline + "`, `" + api.CriterionFastestWithinBudget +
				"`, `" + api.CriterionKnee + "` or `" + api.CriterionFastest + "` (no quantity meets the criteria)."),
			"met":         computedBool("Whether the deadline and budget are predicted to be met."),
			"runs":        computedInt("How many completed runs the model was fit to."),
			"run_labels":  computedStrings("The runs, by label (an execution's `X3`, or an imported run's)."),
			"r2":          computedFloat("The fit's R²."),
			"explanation": computedString("The recommendation in a sentence."),
		},
	}
}

func (d *recommendationDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if !d.c.ready(&resp.Diagnostics, "reading a recommendation") {
		return
	}
	m, ok := load[recommendationModel](ctx, req.Config, &resp.Diagnostics)
	if !ok {
		return
	}
	q := api.RecommendationQuery{InputSize: m.InputSize.ValueFloat64(), MaxNodeHours: m.MaxNodeHours.ValueFloat64(),
		MaxNodes: int(m.MaxNodes.ValueInt64())}
	if s := m.Deadline.ValueString(); s != "" {
		v, err := api.ParseDuration(s)
		if err != nil {
			resp.Diagnostics.AddError("Invalid deadline", err.Error())
			return
		}
		q.Deadline = v
	}
	rec, err := d.c.api.Recommend(ctx, m.ProgramType.ValueString(), q)
	if err != nil {
		resp.Diagnostics.Append(apiErrorDiag("Cannot read the recommendation", d.c.endpoint, "program type "+m.ProgramType.ValueString(), err))
		return
	}
	m.Status, m.Runs, m.Explanation = types.StringValue(rec.Status), types.Int64Value(int64(rec.Runs)), types.StringValue(rec.Explanation)
	labels, diags := types.ListValueFrom(ctx, types.StringType, rec.RunLabels)
	resp.Diagnostics.Append(diags...)
	m.RunLabels = labels
	m.NodeQuantity, m.NodeType, m.Criterion, m.Met, m.R2 = types.Int64Null(), types.StringNull(), types.StringNull(), types.BoolValue(false), types.Float64Null()
	m.WallSeconds, m.NodeHours = nil, nil
	if rec.Status != api.RecommendationOK {
		resp.Diagnostics.AddWarning("Not enough history for a recommendation",
			fmt.Sprintf("%s. Run executions with program_type = %q, or import past runs (POST /v1/program-types/%s/runs).",
				rec.Explanation, rec.ProgramType, rec.ProgramType))
	} else {
		m.NodeQuantity, m.NodeType = types.Int64Value(int64(rec.NodeQuantity)), types.StringValue(rec.NodeType)
		m.Criterion, m.Met, m.R2 = types.StringValue(rec.Criterion), types.BoolValue(rec.Met), types.Float64Value(rec.Model.R2)
		iv := func(i *api.Interval) *intervalRead {
			return &intervalRead{Value: types.Float64Value(i.Value), Low: types.Float64Value(i.Low), High: types.Float64Value(i.High)}
		}
		m.WallSeconds, m.NodeHours = iv(rec.WallSeconds), iv(rec.NodeHours)
	}
	resp.Diagnostics.Append(setState(ctx, &resp.State, &m)...)
}
