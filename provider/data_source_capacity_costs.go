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
	_ datasource.DataSource              = (*capacityCostsDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*capacityCostsDataSource)(nil)
)

func newCapacityCostsDataSource() datasource.DataSource { return &capacityCostsDataSource{} }

type capacityCostsDataSource struct {
	dataSourceClient
}

type capacityCostsModel struct {
	ID             types.String   `tfsdk:"id"`
	GroupID        types.String   `tfsdk:"group_id"`
	Since          types.String   `tfsdk:"since"`
	Until          types.String   `tfsdk:"until"`
	By             types.String   `tfsdk:"by"`
	Currency       types.String   `tfsdk:"currency"`
	Rule           types.String   `tfsdk:"rule"`
	TotalNodeHours types.Float64  `tfsdk:"total_node_hours"`
	TotalCost      types.String   `tfsdk:"total_cost"`
	Rows           []costRowModel `tfsdk:"rows"`
}

type costRowModel struct {
	Key         types.String  `tfsdk:"key"`
	Label       types.String  `tfsdk:"label"`
	Type        types.String  `tfsdk:"type"`
	Name        types.String  `tfsdk:"name"`
	NodeHours   types.Float64 `tfsdk:"node_hours"`
	Cost        types.String  `tfsdk:"cost"`
	ChangeIDs   types.List    `tfsdk:"change_ids"`
	EventIDs    types.List    `tfsdk:"event_ids"`
	Description types.String  `tfsdk:"description"`
}

func (d *capacityCostsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_capacity_costs"
}

func (d *capacityCostsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "What a node group's capacity cost, and why: node-hours and money over a window, by the " +
			"cause, trigger, actor, change or day behind them (seed 000's \"why was I charged for 12 nodes?\"). " +
			"Node time runs from launch to termination and is priced by the group's `billing`; each node's time is " +
			"charged to the change that launched it and, through its causes, to the events, triggers and people behind " +
			"it (the rule is in `rule` and in the [costs guide](../guides/costs.md)). The rows add up exactly to the totals.\n\n" +
			"Without `until` the window ends at the time of the read, so the figures grow with every refresh.",
		Attributes: map[string]schema.Attribute{
			"id": computedString("The group ID (the data source has no ID of its own)."),
			"group_id": schema.StringAttribute{
				MarkdownDescription: "ID of the node group. Deleted groups keep their cost history and can still be queried.",
				Required:            true,
			},
			"since": schema.StringAttribute{
				MarkdownDescription: "Start of the window, an RFC 3339 time; the group's creation when unset.",
				Optional:            true,
				Validators:          []validator.String{timeValidator{}},
			},
			"until": schema.StringAttribute{
				MarkdownDescription: "End of the window, an RFC 3339 time; the time of the read when unset.",
				Optional:            true,
				Validators:          []validator.String{timeValidator{}},
			},
			"by": schema.StringAttribute{
				MarkdownDescription: "How rows are grouped: " + codeList(api.CostsBy()) + ". Defaults to `cause`.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.OneOf(api.CostsBy()...)},
			},
			"currency":         computedString("The billing currency (null when the group was never billed: node-hours only)."),
			"rule":             computedString("The attribution rule, in words."),
			"total_node_hours": computedFloat("Node-hours billed in the window."),
			"total_cost":       computedString("What they cost, a decimal string (`\"10.383333\"`, exact to a millionth)."),
			"rows": computedList("One row per key, the largest cost first (by `day`: in time order).", map[string]schema.Attribute{
				"key": computedString("The key: an event ID (`cause`), `trigger:<name>` or the source kind of what no trigger caused " +
					"(`trigger`), `<kind>:<name>` (`actor`), a change ID (`change`), a date (`day`)."),
				"label":       computedString("The key for people: `E5`, `trigger cpu-high`, `user alice`, `C7`, `2026-12-07`."),
				"type":        computedString("The cause's event type (`cause`), its source kind (`trigger`, `actor`), the change type (`change`)."),
				"name":        computedString("The cause's source name: the trigger's or the user's."),
				"node_hours":  computedFloat("Node-hours of the row."),
				"cost":        computedString("What they cost, a decimal string; the rows add up to `total_cost`."),
				"change_ids":  computedStrings("The changes behind the row."),
				"event_ids":   computedStrings("The events behind the row (a replacement's failure and its request)."),
				"description": computedString("The row in words."),
			}),
		},
	}
}

func (d *capacityCostsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if !d.c.ready(&resp.Diagnostics, "reading capacity costs") {
		return
	}
	m, ok := load[capacityCostsModel](ctx, req.Config, &resp.Diagnostics)
	if !ok {
		return
	}
	groupID := m.GroupID.ValueString()
	c, err := d.c.api.AllCosts(ctx, groupID, client.CostsFilter{
		Since: parseTime(m.Since), Until: parseTime(m.Until), By: m.By.ValueString(),
		Page: client.Page{Limit: historyPageSize},
	})
	if err != nil {
		resp.Diagnostics.Append(apiErrorDiag("Cannot read capacity costs", d.c.endpoint, groupID, err))
		return
	}
	m.ID = types.StringValue(groupID)
	m.Currency = optString(c.Currency)
	m.Rule = types.StringValue(c.Rule)
	m.TotalNodeHours = types.Float64Value(c.TotalNodeHours)
	m.TotalCost = types.StringValue(c.TotalCost)
	m.Rows = make([]costRowModel, 0, len(c.Rows))
	for _, r := range c.Rows {
		changes, diags := types.ListValueFrom(ctx, types.StringType, r.ChangeIDs)
		resp.Diagnostics.Append(diags...)
		events, diags := types.ListValueFrom(ctx, types.StringType, r.EventIDs)
		resp.Diagnostics.Append(diags...)
		m.Rows = append(m.Rows, costRowModel{
			Key: types.StringValue(r.Key), Label: types.StringValue(r.Label),
			Type: optString(r.Type), Name: optString(r.Name),
			NodeHours: types.Float64Value(r.NodeHours), Cost: types.StringValue(r.Cost),
			ChangeIDs: changes, EventIDs: events, Description: types.StringValue(r.Description),
		})
	}
	resp.Diagnostics.Append(setState(ctx, &resp.State, &m)...)
}
