package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
)

var (
	_ datasource.DataSource              = (*capacityEventsDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*capacityEventsDataSource)(nil)
)

func newCapacityEventsDataSource() datasource.DataSource { return &capacityEventsDataSource{} }

type capacityEventsDataSource struct {
	dataSourceClient
}

type capacityEventsModel struct {
	filterModel
	Events []eventModel `tfsdk:"events"`
}

type eventModel struct {
	ID types.String `tfsdk:"id"`
	eventFields
	PeriodID        types.String  `tfsdk:"period_id"`
	ChangeBy        types.Int64   `tfsdk:"change_by"`
	ChangeByPercent types.Float64 `tfsdk:"change_by_percent"`
	SetTo           types.Int64   `tfsdk:"set_to"`
	Immediate       types.Bool    `tfsdk:"immediate"`
	Priority        types.Int64   `tfsdk:"priority"`
	NodeID          types.String  `tfsdk:"node_id"`
	ParentChangeID  types.String  `tfsdk:"parent_change_id"`
	NexusID         types.String  `tfsdk:"nexus_id"`
	Effects         []effectModel `tfsdk:"effects"`
	Explanation     types.String  `tfsdk:"explanation"`
}

func (d *capacityEventsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_capacity_events"
}

func (d *capacityEventsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	event := with(eventAttributes(), map[string]schema.Attribute{
		"id":                computedString("ID of the event."),
		"period_id":         computedString("ID of the aggregation period the event fell in."),
		"change_by":         computedInt("The request: change by this many nodes."),
		"change_by_percent": computedFloat("The request: change by this percentage."),
		"set_to":            computedInt("The request: set the desired quantity to this."),
		"immediate":         computedBool("Whether the request acted at once (direct attribution)."),
		"priority":          computedInt("Priority of the request."),
		"node_id":           computedString("The node the event is about, for node events."),
		"parent_change_id":  computedString("The change that caused this event (event chaining: a termination requesting a replacement)."),
		"nexus_id":          computedString("ID of the nexus linking the event to its effects."),
		"effects":           computedList("The changes the event caused, directly or together with others.", effectAttributes()),
		"explanation":       computedString("What the event caused (or why it caused nothing), written for a person; for a trigger request the forecast governed, how it was clamped."),
	})
	resp.Schema = historySchema("The events of a node group (instructions, trigger firings, node failures, replacements, "+
		"suppressed requests) with the changes each caused, so \"what did this do?\" and \"why did it not scale?\" have answers.",
		"events", api.EventTypes(), map[string]schema.Attribute{
			"events": computedList("The events, oldest first (by time, then label), each with the changes it caused and an explanation.", event),
		})
}

// Read lists the events with their effects and explanations, a page of
// up to historyPageSize in one request.
func (d *capacityEventsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	readHistory(ctx, d.c, req, resp, "capacity events", func(ctx context.Context, c *client.Client, m *capacityEventsModel) error {
		events, err := c.ListAllEventsDetailed(ctx, m.GroupID.ValueString(), m.eventFilter())
		m.Events = sortedMap(events, func(a, b api.EventDetail) int { return compareEvents(a.Event, b.Event) }, eventFrom)
		return err
	})
}

func eventFrom(d api.EventDetail) eventModel {
	var req api.Request
	if d.Request != nil {
		req = *d.Request
	}
	return eventModel{
		ID:              types.StringValue(d.ID),
		eventFields:     eventFieldsFrom(d.Event),
		PeriodID:        optString(d.PeriodID),
		ChangeBy:        types.Int64PointerValue(int64Ptr(req.ChangeBy)),
		ChangeByPercent: types.Float64PointerValue(req.ChangeByPercent),
		SetTo:           types.Int64PointerValue(int64Ptr(req.SetTo)),
		Immediate:       types.BoolValue(d.Immediate),
		Priority:        types.Int64Value(int64(d.Priority)),
		NodeID:          optString(d.NodeID),
		ParentChangeID:  optString(d.ParentChangeID),
		NexusID:         optString(d.NexusID),
		Effects:         effectsFrom(d.Effects),
		Explanation:     types.StringValue(d.Explanation),
	}
}
