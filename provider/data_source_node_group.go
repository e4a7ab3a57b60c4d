package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

var (
	_ datasource.DataSource                     = (*nodeGroupDataSource)(nil)
	_ datasource.DataSourceWithConfigure        = (*nodeGroupDataSource)(nil)
	_ datasource.DataSourceWithConfigValidators = (*nodeGroupDataSource)(nil)
)

func newNodeGroupDataSource() datasource.DataSource { return &nodeGroupDataSource{} }

type nodeGroupDataSource struct {
	dataSourceClient
}

// nodeGroupDataModel is the data source: the fields it shares with the
// resource, with desired_quantity the live one, and where the group is
// in its aggregation periods.
type nodeGroupDataModel struct {
	nodeGroupFields
	NextHarmonizationAt types.String `tfsdk:"next_harmonization_at"`
	CurrentPeriodLabel  types.String `tfsdk:"current_period_label"`
	CreatedAt           types.String `tfsdk:"created_at"`
}

// nodeGroupDataDocs describe the attributes the data source shares with
// the resource: what each value is (the resource's descriptions also say
// how to set it). Nested attributes keep the resource's descriptions.
var nodeGroupDataDocs = map[string]string{
	"id":                            "ID of the group.",
	"name":                          "Name of the group.",
	"tenant":                        "Tenant the group belongs to.",
	"driver":                        "`local`, `sim` or `kubernetes`.",
	"program":                       "The program every node runs.",
	"desired_quantity":              "Live desired quantity (as moved by triggers and instructions).",
	"min_quantity":                  "Lower bound of the desired quantity.",
	"max_quantity":                  "Upper bound of the desired quantity.",
	"aggregation_period":            "Length of an aggregation period.",
	"aggregation_policy":            "How a period's requests combine.",
	"replacement":                   "Replacement policy of failed nodes.",
	"replacement_defer_window":      "With replacement `auto`, how close a harmonization defers a replacement.",
	"init_deadline":                 "How long a node may take to become ready.",
	"cooldown":                      "Quiet time after a scale-out's lockdown.",
	"termination_policy":            "Which nodes go first on scale-in.",
	"lockdown_after_removal":        "Whether a removal locks the group down until its nodes are gone.",
	"harmonize_after_requests":      "How many waiting requests end a period early (`0`: on time only).",
	"instructions_silence_triggers": "Whether a user instruction makes its period's trigger firings `ignored`.",
	"decreases_outrank_increases":   "Whether a period's decreases set its increases aside.",
	"health_check":                  "How a node is judged ready and alive.",
	"labels":                        "Labels of the group.",
	"sim":                           "Settings of the `sim` driver (null for other drivers).",
	"kubernetes":                    "Settings of the `kubernetes` driver's pods (null for other drivers).",
	"metric_sources":                "The group's metric sources: Prometheus queries pesd runs at every evaluation pass.",
	"predictive":                    "Predictive governing settings (null when never set). The forecast itself is read with [`pes_capacity_forecast`](capacity_forecast.md).",
	"billing":                       "What the group's node time costs (null when not set). Costs are read with [`pes_capacity_costs`](capacity_costs.md).",
	"official_quantity":             "Quantity recorded at the last harmonization or immediate change.",
	"actual_quantity":               "Nodes ready now.",
	"status":                        "`active` or `deleted`.",
}

func (d *nodeGroupDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_node_group"
}

func (d *nodeGroupDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attrs, diags := nodeGroupDataAttributes(ctx)
	resp.Diagnostics.Append(diags...)
	// Exactly one of id and name picks the group; the other is read back.
	attrs["id"] = schema.StringAttribute{MarkdownDescription: "ID of the group. Give `id` or `name`.", Optional: true, Computed: true}
	attrs["name"] = schema.StringAttribute{MarkdownDescription: "Name of the group, as an alternative to `id`: it finds the live group " +
		"of that name. A deleted group is read by its `id` (the error for its name gives it).", Optional: true, Computed: true}
	attrs["next_harmonization_at"] = computedString("When the current aggregation period ends (RFC 3339).")
	attrs["current_period_label"] = computedString("Label of the current aggregation period, e.g. `H3`.")
	attrs["created_at"] = computedString("When the group was created (RFC 3339).")
	resp.Schema = schema.Schema{
		MarkdownDescription: "A node group as pesd sees it now: its configuration and the live desired, " +
			"official and actual quantities. Works for groups not managed by this configuration, and for " +
			"deleted groups (whose history pesd keeps).",
		Attributes: attrs,
	}
}

// ConfigValidators: the group is picked by exactly one of id and name.
func (d *nodeGroupDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{
		datasourcevalidator.ExactlyOneOf(path.MatchRoot("id"), path.MatchRoot("name")),
	}
}

// nodeGroupDataAttributes are the read-only twins of the resource's
// attributes that the data source shares (those of nodeGroupDataDocs).
func nodeGroupDataAttributes(ctx context.Context) (map[string]schema.Attribute, diag.Diagnostics) {
	var rs resource.SchemaResponse
	(&nodeGroupResource{}).Schema(ctx, resource.SchemaRequest{}, &rs)
	attrs := make(map[string]schema.Attribute, len(nodeGroupDataDocs))
	for name, desc := range nodeGroupDataDocs {
		a, ok := rs.Schema.Attributes[name]
		if !ok {
			rs.Diagnostics.AddError("Invalid pes_node_group data source schema",
				fmt.Sprintf("The resource has no attribute %q. This is a bug in the provider; please report it.", name))
			continue
		}
		ro, err := readOnly(a, desc)
		if err != nil {
			rs.Diagnostics.AddError("Invalid pes_node_group data source schema",
				fmt.Sprintf("Attribute %q: %v. This is a bug in the provider; please report it.", name, err))
			continue
		}
		attrs[name] = ro
	}
	return attrs, rs.Diagnostics
}

func (d *nodeGroupDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if !d.c.ready(&resp.Diagnostics, "reading a node group") {
		return
	}
	m, ok := load[nodeGroupDataModel](ctx, req.Config, &resp.Diagnostics)
	if !ok {
		return
	}
	// pesd takes a live group's name wherever it takes an id.
	id := m.ID.ValueString()
	if id == "" {
		id = m.Name.ValueString()
	}
	g, err := d.c.api.GetGroup(ctx, id)
	if err != nil {
		resp.Diagnostics.Append(apiErrorDiag(fmt.Sprintf("Cannot read node group %s", id), d.c.endpoint, id, err))
		return
	}
	resp.Diagnostics.Append(m.fromGroup(g)...)
	resp.Diagnostics.Append(setState(ctx, &resp.State, &m)...)
}

func (m *nodeGroupDataModel) fromGroup(g api.Group) diag.Diagnostics {
	// No prior: everything from pesd, as on import.
	diags := m.nodeGroupFields.fromGroup(g, nodeGroupFields{})
	m.NextHarmonizationAt = timePtrString(g.NextHarmonizationAt)
	m.CurrentPeriodLabel = optString(g.CurrentPeriodLabel)
	m.CreatedAt = timeString(g.CreatedAt)
	return diags
}
