package provider

import (
	"context"
	"encoding/json"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

var (
	_ datasource.DataSource              = (*capacityWhatIfDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*capacityWhatIfDataSource)(nil)
)

func newCapacityWhatIfDataSource() datasource.DataSource { return &capacityWhatIfDataSource{} }

type capacityWhatIfDataSource struct {
	dataSourceClient
}

type capacityWhatIfModel struct {
	ID           types.String  `tfsdk:"id"`
	GroupID      types.String  `tfsdk:"group_id"`
	Since        types.String  `tfsdk:"since"`
	Until        types.String  `tfsdk:"until"`
	TriggersJSON types.String  `tfsdk:"triggers_json"`
	GroupJSON    types.String  `tfsdk:"group_json"`
	BootTime     types.String  `tfsdk:"boot_time"`
	Samples      types.Int64   `tfsdk:"samples"`
	Queried      types.Int64   `tfsdk:"queried"`
	Replayed     *summaryModel `tfsdk:"replayed"`
	Recorded     *summaryModel `tfsdk:"recorded"`
	Changes      []changeModel `tfsdk:"changes"`
}

type summaryModel struct {
	Changes        types.Int64   `tfsdk:"changes"`
	PeakQuantity   types.Int64   `tfsdk:"peak_quantity"`
	MeanQuantity   types.Float64 `tfsdk:"mean_quantity"`
	NodeHours      types.Float64 `tfsdk:"node_hours"`
	Suppressed     types.Int64   `tfsdk:"suppressed"`
	Ignored        types.Int64   `tfsdk:"ignored"`
	ForecastClamps types.Int64   `tfsdk:"forecast_clamps"`
	Notifications  types.Int64   `tfsdk:"notifications"`
	Cost           types.String  `tfsdk:"cost"`
	Currency       types.String  `tfsdk:"currency"`
}

func (d *capacityWhatIfDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_capacity_whatif"
}

func summaryAttribute(desc string) schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{MarkdownDescription: desc, Computed: true, Attributes: map[string]schema.Attribute{
		"changes":       computedInt("Capacity changes started in the window."),
		"peak_quantity": computedInt("Highest desired quantity in the window."),
		"mean_quantity": computedFloat("Desired quantity averaged over the window's time."),
		"node_hours":    computedFloat("Desired quantity integrated over the window, in node-hours."),
		"suppressed":    computedInt("Firings the window's decision records suppressed (cooldown, lockdown)."),
		"ignored":       computedInt("Firings the window's decision records ignored (missing data)."),
		"forecast_clamps": computedInt("Forecast clamps in the window's decision records: firings predictive governing " +
			"held to its forecast range (under `forecast_only`, recorded without being applied). The replay is governed " +
			"as live decisions are, by the group's `predictive` settings or those of `group_json`, with a forecast of the " +
			"group's real quantity history."),
		"notifications": computedInt("Firings of notify triggers in the window. They request no capacity: live, each is " +
			"sent to its receiver, whose answer decides the change. The replay sends none, so the changes those answers " +
			"would have made are not in its `changes`."),
		"cost": computedString("What the nodes' time over the window cost at the group's billing rates, a decimal string, " +
			"totalled as `pes_capacity_costs` totals it; null when the group has no billing."),
		"currency": computedString("The billing currency of `cost`; null when the group has no billing."),
	}}
}

func (d *capacityWhatIfDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A backtest of proposed triggers (and group settings) on a node group's recorded metric samples: " +
			"pesd replays the window through the same engine on the sim driver with a fake clock, the nodes booting in the " +
			"time the group's own nodes took, and answers the changes it would have made, each with its causes and " +
			"explanation, and a summary beside what really happened. It writes nothing to the group's record. pesd keeps " +
			"samples for `pesd serve --metric-history` (14 days by default), which bounds the window; metrics of the " +
			"group's Prometheus `metric_sources` are replayed from Prometheus range queries where pesd kept none.\n\n" +
			"Put it beside a trigger change so that `terraform plan` shows what the change would have done last week.",
		Attributes: map[string]schema.Attribute{
			"id": computedString("The group ID (the data source has no ID of its own)."),
			"group_id": schema.StringAttribute{
				MarkdownDescription: "ID of the node group.",
				Required:            true,
			},
			"since": schema.StringAttribute{
				MarkdownDescription: "Start of the window: an RFC 3339 time, or a duration ago such as `7d` or `36h`.",
				Required:            true,
			},
			"until": schema.StringAttribute{
				MarkdownDescription: "End of the window (RFC 3339 or a duration ago); default now.",
				Optional:            true,
			},
			"triggers_json": schema.StringAttribute{
				MarkdownDescription: "The proposed triggers, a JSON array of objects as `POST /v1/groups/{id}/triggers` " +
					"takes them (`jsonencode([{ name = \"busy\", condition = \"avg(cpu, '5m') > 80\", change_by = 2 }])`). " +
					"Absent: the group's own triggers.",
				Optional: true,
			},
			"group_json": schema.StringAttribute{
				MarkdownDescription: "Proposed group settings, a JSON object as `PATCH /v1/groups/{id}` takes it " +
					"(`aggregation_period`, `aggregation_policy`, `cooldown`, `min_quantity`, `max_quantity`, `predictive`).",
				Optional: true,
			},
			"boot_time": computedString("The boot time the replayed nodes took: the median of the group's observed launches."),
			"samples":   computedInt("How many samples were replayed."),
			"queried": computedInt("How many of the replayed samples came from Prometheus range queries: a metric of the " +
				"group's `metric_sources` is asked of Prometheus (`query_range`, a step of pesd's evaluation interval) over " +
				"the times pesd kept none of its samples."),
			"replayed": summaryAttribute("The replay's summary."),
			"recorded": summaryAttribute("The same summary of what really happened over the window."),
			"changes":  computedList("The changes the replay would have made, oldest first, each with its causes and explanation.", changeDetailAttributes()),
		},
	}
}

func (d *capacityWhatIfDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if !d.c.ready(&resp.Diagnostics, "reading a backtest") {
		return
	}
	m, ok := load[capacityWhatIfModel](ctx, req.Config, &resp.Diagnostics)
	if !ok {
		return
	}
	in, diags := m.request(time.Now())
	if resp.Diagnostics.Append(diags...); diags.HasError() {
		return
	}
	groupID := m.GroupID.ValueString()
	r, err := d.c.api.WhatIf(ctx, groupID, in)
	if err != nil {
		resp.Diagnostics.Append(apiErrorDiag("Cannot backtest", d.c.endpoint, groupID, err))
		return
	}
	m.fill(r)
	resp.Diagnostics.Append(setState(ctx, &resp.State, &m)...)
}

// request builds the API's request, each mistake naming its attribute.
func (m capacityWhatIfModel) request(now time.Time) (api.WhatIfRequest, diag.Diagnostics) {
	var in api.WhatIfRequest
	var diags diag.Diagnostics
	when := func(name string, v types.String) *time.Time {
		if v.IsNull() || v.IsUnknown() {
			return nil
		}
		t, err := api.ParseTimeOrAgo(v.ValueString(), now)
		if err != nil {
			diags.AddAttributeError(path.Root(name), "Invalid "+name, err.Error())
			return nil
		}
		return &t
	}
	in.Since, in.Until = when("since", m.Since), when("until", m.Until)
	decode := func(name string, v types.String, out any) {
		if v.IsNull() || v.IsUnknown() {
			return
		}
		if err := json.Unmarshal([]byte(v.ValueString()), out); err != nil {
			diags.AddAttributeError(path.Root(name), "Invalid "+name, err.Error())
		}
	}
	decode("triggers_json", m.TriggersJSON, &in.Triggers)
	if !m.TriggersJSON.IsNull() && in.Triggers == nil {
		in.Triggers = []api.TriggerSpec{}
	}
	if !m.GroupJSON.IsNull() {
		in.Group = &api.GroupPatch{}
		decode("group_json", m.GroupJSON, in.Group)
	}
	return in, diags
}

func (m *capacityWhatIfModel) fill(r api.WhatIf) {
	m.ID = m.GroupID
	m.BootTime = types.StringValue(r.BootTime)
	m.Samples = types.Int64Value(int64(r.Samples))
	m.Queried = types.Int64Value(int64(r.Queried))
	m.Replayed, m.Recorded = summaryFrom(r.Replayed), summaryFrom(r.Recorded)
	m.Changes = sortedMap(r.Changes, func(a, b api.ChangeDetail) int { return compareChanges(a.Change, b.Change) }, changeFrom)
}

func summaryFrom(s api.WhatIfSummary) *summaryModel {
	return &summaryModel{
		Changes:        types.Int64Value(int64(s.Changes)),
		PeakQuantity:   types.Int64Value(int64(s.PeakQuantity)),
		MeanQuantity:   types.Float64Value(s.MeanQuantity),
		NodeHours:      types.Float64Value(s.NodeHours),
		Suppressed:     types.Int64Value(int64(s.Suppressed)),
		Ignored:        types.Int64Value(int64(s.Ignored)),
		ForecastClamps: types.Int64Value(int64(s.ForecastClamps)),
		Notifications:  types.Int64Value(int64(s.Notifications)),
		Cost:           optString(s.Cost),
		Currency:       optString(s.Currency),
	}
}
