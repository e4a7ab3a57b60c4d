package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

var (
	_ datasource.DataSource              = (*nodeGroupDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*nodeGroupDataSource)(nil)
)

func newNodeGroupDataSource() datasource.DataSource { return &nodeGroupDataSource{} }

type nodeGroupDataSource struct {
	c *pesClient
}

type nodeGroupDataModel struct {
	ID                     types.String `tfsdk:"id"`
	Name                   types.String `tfsdk:"name"`
	Driver                 types.String `tfsdk:"driver"`
	Program                types.Object `tfsdk:"program"`
	DesiredQuantity        types.Int64  `tfsdk:"desired_quantity"`
	MinQuantity            types.Int64  `tfsdk:"min_quantity"`
	MaxQuantity            types.Int64  `tfsdk:"max_quantity"`
	AggregationPeriod      types.String `tfsdk:"aggregation_period"`
	AggregationPolicy      types.String `tfsdk:"aggregation_policy"`
	Replacement            types.String `tfsdk:"replacement"`
	ReplacementDeferWindow types.String `tfsdk:"replacement_defer_window"`
	InitDeadline           types.String `tfsdk:"init_deadline"`
	Cooldown               types.String `tfsdk:"cooldown"`
	TerminationPolicy      types.String `tfsdk:"termination_policy"`
	HealthCheck            types.Object `tfsdk:"health_check"`
	Labels                 types.Map    `tfsdk:"labels"`
	Sim                    types.Object `tfsdk:"sim"`
	Predictive             types.Object `tfsdk:"predictive"`
	OfficialQuantity       types.Int64  `tfsdk:"official_quantity"`
	ActualQuantity         types.Int64  `tfsdk:"actual_quantity"`
	Status                 types.String `tfsdk:"status"`
	NextHarmonizationAt    types.String `tfsdk:"next_harmonization_at"`
	CurrentPeriodLabel     types.String `tfsdk:"current_period_label"`
	CreatedAt              types.String `tfsdk:"created_at"`
}

func (d *nodeGroupDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_node_group"
}

func (d *nodeGroupDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.c = clientFrom(req.ProviderData, &resp.Diagnostics)
}

func computedStrings(desc string) schema.ListAttribute {
	return schema.ListAttribute{MarkdownDescription: desc, Computed: true, ElementType: types.StringType}
}

func (d *nodeGroupDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A node group as pesd sees it now: its configuration and the live desired, " +
			"official and actual quantities. Works for groups not managed by this configuration, and for " +
			"deleted groups (whose history pesd keeps).",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "ID of the group.",
				Required:            true,
			},
			"name":   computedString("Name of the group."),
			"driver": computedString("`local` or `sim`."),
			"program": schema.SingleNestedAttribute{
				MarkdownDescription: "The program every node runs.",
				Computed:            true,
				Attributes: map[string]schema.Attribute{
					"command": computedString("Executable."),
					"args":    computedStrings("Arguments."),
					"env": schema.MapAttribute{
						MarkdownDescription: "Extra environment variables.",
						Computed:            true,
						ElementType:         types.StringType,
					},
				},
			},
			"desired_quantity":         computedInt("Live desired quantity (as moved by triggers and instructions)."),
			"min_quantity":             computedInt("Lower bound of the desired quantity."),
			"max_quantity":             computedInt("Upper bound of the desired quantity."),
			"aggregation_period":       computedString("Length of an aggregation period."),
			"aggregation_policy":       computedString("How a period's requests combine."),
			"replacement":              computedString("Replacement policy of failed nodes."),
			"replacement_defer_window": computedString("With replacement `auto`, how close a harmonization defers a replacement."),
			"init_deadline":            computedString("How long a node may take to become ready."),
			"cooldown":                 computedString("Quiet time after a scale-out's lockdown."),
			"termination_policy":       computedString("Which nodes go first on scale-in."),
			"health_check": schema.SingleNestedAttribute{
				MarkdownDescription: "How a node is judged ready and alive.",
				Computed:            true,
				Attributes: map[string]schema.Attribute{
					"type":              computedString("`process`, `http`, `tcp` or `exec`."),
					"path":              computedString("Path of an `http` check."),
					"port":              computedInt("Port of an `http` or `tcp` check; null for the node's `PES_PORT`."),
					"command":           computedString("Command of an `exec` check."),
					"interval":          computedString("Time between checks."),
					"failure_threshold": computedInt("Consecutive failures after which a node is unavailable."),
				},
			},
			"labels": schema.MapAttribute{
				MarkdownDescription: "Labels of the group.",
				Computed:            true,
				ElementType:         types.StringType,
			},
			"sim": schema.SingleNestedAttribute{
				MarkdownDescription: "Settings of the `sim` driver (null for other drivers).",
				Computed:            true,
				Attributes: map[string]schema.Attribute{
					"boot_time":     computedString("How long a virtual node takes to become ready."),
					"boot_times":    computedStrings("Boot times of the first launches."),
					"init_failures": computedInt("How many of the next launches never become ready."),
				},
			},
			"predictive": schema.SingleNestedAttribute{
				MarkdownDescription: "Predictive governing settings (null when never set).",
				Computed:            true,
				Attributes: map[string]schema.Attribute{
					"mode":        computedString("`off`, `forecast_only` or `enforce`."),
					"history":     computedString("History the forecast uses."),
					"interval":    computedString("Length of a forecast interval."),
					"confidence":  schema.Float64Attribute{MarkdownDescription: "Confidence of the authorized range.", Computed: true},
					"min_history": computedString("History needed before the forecast governs."),
					"governs":     computedStrings("What the range governs."),
				},
			},
			"official_quantity":     computedInt("Quantity recorded at the last harmonization or immediate change."),
			"actual_quantity":       computedInt("Nodes ready now."),
			"status":                computedString("`active` or `deleted`."),
			"next_harmonization_at": computedString("When the current aggregation period ends (RFC 3339)."),
			"current_period_label":  computedString("Label of the current aggregation period, e.g. `H3`."),
			"created_at":            computedString("When the group was created (RFC 3339)."),
		},
	}
}

func (d *nodeGroupDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if d.c == nil {
		resp.Diagnostics.AddError("Provider not configured", "The pes provider was not configured before reading a node group.")
		return
	}
	var m nodeGroupDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	id := m.ID.ValueString()
	g, err := d.c.api.GetGroup(ctx, id)
	if err != nil {
		resp.Diagnostics.Append(apiErrorDiag(fmt.Sprintf("Cannot read node group %s", id), d.c.endpoint, id, err))
		return
	}
	resp.Diagnostics.Append(m.fromGroup(g)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (m *nodeGroupDataModel) fromGroup(g api.Group) diag.Diagnostics {
	// The resource's conversion with no prior: everything from pesd.
	var r nodeGroupModel
	diags := r.fromGroup(g, nodeGroupModel{
		Program:     types.ObjectNull(programAttrTypes),
		HealthCheck: types.ObjectNull(healthCheckAttrTypes),
		Labels:      types.MapNull(types.StringType),
		Sim:         types.ObjectNull(simAttrTypes),
		Predictive:  types.ObjectNull(predictiveAttrTypes),
	})
	m.ID = r.ID
	m.Name = r.Name
	m.Driver = r.Driver
	m.Program = r.Program
	m.DesiredQuantity = types.Int64Value(int64(g.DesiredQuantity))
	m.MinQuantity = r.MinQuantity
	m.MaxQuantity = r.MaxQuantity
	m.AggregationPeriod = r.AggregationPeriod
	m.AggregationPolicy = r.AggregationPolicy
	m.Replacement = r.Replacement
	m.ReplacementDeferWindow = r.ReplacementDeferWindow
	m.InitDeadline = r.InitDeadline
	m.Cooldown = r.Cooldown
	m.TerminationPolicy = r.TerminationPolicy
	m.HealthCheck = r.HealthCheck
	m.Labels = r.Labels
	m.Sim = r.Sim
	m.Predictive = r.Predictive
	m.OfficialQuantity = r.OfficialQuantity
	m.ActualQuantity = r.ActualQuantity
	m.Status = r.Status
	m.NextHarmonizationAt = timePtrString(g.NextHarmonizationAt)
	m.CurrentPeriodLabel = optString(g.CurrentPeriodLabel)
	m.CreatedAt = timeString(g.CreatedAt)
	return diags
}
