package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

var (
	_ datasource.DataSource              = (*capacityForecastDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*capacityForecastDataSource)(nil)
)

func newCapacityForecastDataSource() datasource.DataSource { return &capacityForecastDataSource{} }

type capacityForecastDataSource struct {
	dataSourceClient
}

type capacityForecastModel struct {
	ID         types.String            `tfsdk:"id"`
	GroupID    types.String            `tfsdk:"group_id"`
	Mode       types.String            `tfsdk:"mode"`
	Ready      types.Bool              `tfsdk:"ready"`
	Reason     types.String            `tfsdk:"reason"`
	Confidence types.Float64           `tfsdk:"confidence"`
	History    types.String            `tfsdk:"history"`
	Intervals  []forecastIntervalModel `tfsdk:"intervals"`
}

type forecastIntervalModel struct {
	Start    types.String  `tfsdk:"start"`
	End      types.String  `tfsdk:"end"`
	Expected types.Float64 `tfsdk:"expected"`
	Lower    types.Int64   `tfsdk:"lower"`
	Upper    types.Int64   `tfsdk:"upper"`
}

func (d *capacityForecastDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_capacity_forecast"
}

func (d *capacityForecastDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The forecast of a node group's authorized quantities (predictive governing). " +
			"From the group's recorded history of quantities pesd forecasts, for each coming interval, the expected " +
			"quantity and a range `[lower, upper]`. With the group's `predictive.mode = \"enforce\"`, a trigger " +
			"asking for a quantity outside the range of its interval gets the nearest authorized one instead; with " +
			"`forecast_only` the clamp is only recorded. Either way the clamp shows in the decision record and in the " +
			"explanations of [`pes_capacity_changes`](capacity_changes.md) and [`pes_capacity_events`](capacity_events.md).\n\n" +
			"The intervals start with the one holding the time of the read, so they move on with every refresh.",
		Attributes: map[string]schema.Attribute{
			"id": computedString("The group ID (the data source has no ID of its own)."),
			"group_id": schema.StringAttribute{
				MarkdownDescription: "ID of the node group.",
				Required:            true,
			},
			"mode": computedString("The group's predictive governing mode: `off`, `forecast_only` (clamps are recorded, " +
				"not applied) or `enforce` (trigger requests are clamped into the range)."),
			"ready": computedBool("Whether there is a forecast. False when governing is off, while the group has less " +
				"recorded history than `predictive.min_history`, or when its settings give no forecast; `reason` says which."),
			"reason": computedString("Why there is no forecast (e.g. `forecast needs 24h of history; the group has 3h`), " +
				"or, when `ready`, how the forecast was made."),
			"confidence": computedFloat("Share of quantities each range is meant to hold, e.g. `0.9`; null when governing is off."),
			"history":    computedString("How much recorded history the forecast reads, e.g. `14d`; null when governing is off."),
			"intervals": computedList("The forecast, one entry per coming interval (`predictive.interval` long), from the "+
				"one holding now, oldest first. Empty when `ready` is false.", map[string]schema.Attribute{
				"start":    computedString("Start of the interval (RFC 3339)."),
				"end":      computedString("End of the interval (RFC 3339), exclusive."),
				"expected": computedFloat("Expected quantity: the weighted mean of the same interval in past days (or weeks, from two weeks of history)."),
				"lower":    computedInt("Lowest authorized quantity: a trigger asking for less gets this."),
				"upper":    computedInt("Highest authorized quantity: a trigger asking for more gets this."),
			}),
		},
	}
}

func (d *capacityForecastDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if !d.c.ready(&resp.Diagnostics, "reading a capacity forecast") {
		return
	}
	m, ok := load[capacityForecastModel](ctx, req.Config, &resp.Diagnostics)
	if !ok {
		return
	}
	groupID := m.GroupID.ValueString()
	f, err := d.c.api.Forecast(ctx, groupID)
	if err != nil {
		resp.Diagnostics.Append(apiErrorDiag("Cannot read the capacity forecast", d.c.endpoint, groupID, err))
		return
	}
	m = forecastFrom(groupID, f)
	resp.Diagnostics.Append(setState(ctx, &resp.State, &m)...)
}

// forecastFrom converts pesd's forecast. pesd answers confidence 0 and no
// history when governing is off: those are null here, not settings.
func forecastFrom(groupID string, f api.Forecast) capacityForecastModel {
	m := capacityForecastModel{
		ID:         types.StringValue(groupID),
		GroupID:    types.StringValue(groupID),
		Mode:       types.StringValue(f.Mode),
		Ready:      types.BoolValue(f.Ready),
		Reason:     optString(f.Reason),
		Confidence: types.Float64Null(),
		History:    optString(f.History),
		Intervals:  make([]forecastIntervalModel, 0, len(f.Intervals)),
	}
	if f.Confidence != 0 {
		m.Confidence = types.Float64Value(f.Confidence)
	}
	for _, iv := range f.Intervals {
		m.Intervals = append(m.Intervals, forecastIntervalModel{
			Start:    timeString(iv.Start),
			End:      timeString(iv.End),
			Expected: types.Float64Value(iv.Expected),
			Lower:    types.Int64Value(int64(iv.Lower)),
			Upper:    types.Int64Value(int64(iv.Upper)),
		})
	}
	return m
}
