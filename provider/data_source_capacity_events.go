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
	c *pesClient
}

type capacityEventsModel struct {
	ID      types.String `tfsdk:"id"`
	GroupID types.String `tfsdk:"group_id"`
	Since   types.String `tfsdk:"since"`
	Until   types.String `tfsdk:"until"`
	Type    types.String `tfsdk:"type"`
	Events  []eventModel `tfsdk:"events"`
}

type eventModel struct {
	ID               types.String  `tfsdk:"id"`
	Label            types.String  `tfsdk:"label"`
	Type             types.String  `tfsdk:"type"`
	SourceKind       types.String  `tfsdk:"source_kind"`
	SourceID         types.String  `tfsdk:"source_id"`
	SourceName       types.String  `tfsdk:"source_name"`
	Time             types.String  `tfsdk:"time"`
	PeriodID         types.String  `tfsdk:"period_id"`
	PeriodLabel      types.String  `tfsdk:"period_label"`
	ChangeBy         types.Int64   `tfsdk:"change_by"`
	ChangeByPercent  types.Float64 `tfsdk:"change_by_percent"`
	SetTo            types.Int64   `tfsdk:"set_to"`
	Immediate        types.Bool    `tfsdk:"immediate"`
	ProposedQuantity types.Int64   `tfsdk:"proposed_quantity"`
	Priority         types.Int64   `tfsdk:"priority"`
	Status           types.String  `tfsdk:"status"`
	Reason           types.String  `tfsdk:"reason"`
	Observed         types.String  `tfsdk:"observed"`
	NodeID           types.String  `tfsdk:"node_id"`
	ParentChangeID   types.String  `tfsdk:"parent_change_id"`
	NexusID          types.String  `tfsdk:"nexus_id"`
	Description      types.String  `tfsdk:"description"`
	Effects          []effectModel `tfsdk:"effects"`
	Explanation      types.String  `tfsdk:"explanation"`
}

type effectModel struct {
	Attribution    types.String `tfsdk:"attribution"`
	ChangeID       types.String `tfsdk:"change_id"`
	Label          types.String `tfsdk:"label"`
	Type           types.String `tfsdk:"type"`
	Amount         types.Int64  `tfsdk:"amount"`
	QuantityBefore types.Int64  `tfsdk:"quantity_before"`
	QuantityAfter  types.Int64  `tfsdk:"quantity_after"`
	Status         types.String `tfsdk:"status"`
	StartedAt      types.String `tfsdk:"started_at"`
	PeriodLabel    types.String `tfsdk:"period_label"`
	Description    types.String `tfsdk:"description"`
}

func (d *capacityEventsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_capacity_events"
}

func (d *capacityEventsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.c = clientFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *capacityEventsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attrs := filterAttributes("events", api.EventTypes())
	attrs["id"] = computedString("The group ID (the data source has no ID of its own).")
	attrs["events"] = schema.ListNestedAttribute{
		MarkdownDescription: "The events, oldest first (by time, then label), each with the changes it caused and an explanation.",
		Computed:            true,
		NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
			"id":                computedString("ID of the event."),
			"label":             computedString("Per-group sequence label, e.g. `E4`."),
			"type":              computedString("Type: " + codeList(api.EventTypes()) + "."),
			"source_kind":       computedString("`user`, `trigger` or `system`."),
			"source_id":         computedString("ID of the source (the trigger's ID for a trigger)."),
			"source_name":       computedString("Name of the source (a user name, `terraform`, a trigger name)."),
			"time":              computedString("When the event happened (RFC 3339)."),
			"period_id":         computedString("ID of the aggregation period the event fell in."),
			"period_label":      computedString("Label of that period, e.g. `H2`."),
			"change_by":         computedInt("The request: change by this many nodes."),
			"change_by_percent": schema.Float64Attribute{MarkdownDescription: "The request: change by this percentage.", Computed: true},
			"set_to":            computedInt("The request: set the desired quantity to this."),
			"immediate":         schema.BoolAttribute{MarkdownDescription: "Whether the request acted at once (direct attribution).", Computed: true},
			"proposed_quantity": computedInt("Desired quantity the event proposed, null when it proposed none."),
			"priority":          computedInt("Priority of the request."),
			"status":            computedString("`applied`, `aggregated`, `suppressed` or `ignored`."),
			"reason":            computedString("Why it was suppressed or ignored, or the reason given with an instruction."),
			"observed":          computedString("What a trigger observed, e.g. `avg cpu_utilization 87.3 > 80 for 2m`."),
			"node_id":           computedString("The node the event is about, for node events."),
			"parent_change_id":  computedString("The change that caused this event (event chaining: a termination requesting a replacement)."),
			"nexus_id":          computedString("ID of the nexus linking the event to its effects."),
			"description":       computedString("The event in words."),
			"effects": schema.ListNestedAttribute{
				MarkdownDescription: "The changes the event caused, directly or together with others.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"attribution":     computedString("`direct` or `indirect`."),
					"change_id":       computedString("ID of the change."),
					"label":           computedString("Label of the change, e.g. `C7`."),
					"type":            computedString("`add_nodes`, `remove_nodes` or `node_lost`."),
					"amount":          computedInt("Number of nodes."),
					"quantity_before": computedInt("Quantity before the change."),
					"quantity_after":  computedInt("Quantity after the change."),
					"status":          computedString("`in_progress`, `completed` or `failed`."),
					"started_at":      computedString("When the change started (RFC 3339)."),
					"period_label":    computedString("Label of the period of the change."),
					"description":     computedString("The change in words."),
				}},
			},
			"explanation": computedString("What the event caused (or why it caused nothing), written for a person."),
		}},
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "The events of a node group (instructions, trigger firings, node failures, replacements, " +
			"suppressed requests) with the changes each caused, so \"what did this do?\" and \"why did it not scale?\" have answers.",
		Attributes: attrs,
	}
}

func (d *capacityEventsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if d.c == nil {
		resp.Diagnostics.AddError("Provider not configured", "The pes provider was not configured before reading capacity events.")
		return
	}
	var m capacityEventsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	groupID := m.GroupID.ValueString()
	events, err := d.c.api.ListAllEvents(ctx, groupID, client.EventFilter{
		Since: parseTime(m.Since),
		Until: parseTime(m.Until),
		Type:  m.Type.ValueString(),
	})
	if err != nil {
		resp.Diagnostics.Append(apiErrorDiag("Cannot list capacity events", d.c.endpoint, groupID, err))
		return
	}
	sortEvents(events)

	m.ID = types.StringValue(groupID)
	m.Events = make([]eventModel, 0, len(events))
	for _, e := range events {
		detail, err := d.c.api.GetEvent(ctx, e.ID)
		if err != nil {
			resp.Diagnostics.Append(apiErrorDiag("Cannot read the effects of event "+e.Label, d.c.endpoint, e.ID, err))
			return
		}
		m.Events = append(m.Events, eventFrom(detail))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func eventFrom(d api.EventDetail) eventModel {
	var req api.Request
	if d.Request != nil {
		req = *d.Request
	}
	m := eventModel{
		ID:               types.StringValue(d.ID),
		Label:            types.StringValue(d.Label),
		Type:             types.StringValue(d.Type),
		SourceKind:       types.StringValue(d.Source.Kind),
		SourceID:         optString(d.Source.ID),
		SourceName:       optString(d.Source.Name),
		Time:             timeString(d.Time),
		PeriodID:         optString(d.PeriodID),
		PeriodLabel:      optString(d.PeriodLabel),
		ChangeBy:         types.Int64PointerValue(int64Ptr(req.ChangeBy)),
		ChangeByPercent:  types.Float64PointerValue(req.ChangeByPercent),
		SetTo:            types.Int64PointerValue(int64Ptr(req.SetTo)),
		Immediate:        types.BoolValue(d.Immediate),
		ProposedQuantity: types.Int64PointerValue(int64Ptr(d.ProposedQuantity)),
		Priority:         types.Int64Value(int64(d.Priority)),
		Status:           types.StringValue(d.Status),
		Reason:           optString(d.Reason),
		Observed:         optString(d.Observed),
		NodeID:           optString(d.NodeID),
		ParentChangeID:   optString(d.ParentChangeID),
		NexusID:          optString(d.NexusID),
		Description:      types.StringValue(d.Description),
		Effects:          make([]effectModel, 0, len(d.Effects)),
		Explanation:      types.StringValue(d.Explanation),
	}
	changes := make([]api.Change, len(d.Effects))
	attribution := make(map[string]string, len(d.Effects))
	for i, e := range d.Effects {
		changes[i] = e.Change
		attribution[e.Change.ID] = e.Attribution
	}
	sortChanges(changes)
	for _, c := range changes {
		m.Effects = append(m.Effects, effectModel{
			Attribution:    types.StringValue(attribution[c.ID]),
			ChangeID:       types.StringValue(c.ID),
			Label:          types.StringValue(c.Label),
			Type:           types.StringValue(c.Type),
			Amount:         types.Int64Value(int64(c.Amount)),
			QuantityBefore: types.Int64Value(int64(c.QuantityBefore)),
			QuantityAfter:  types.Int64Value(int64(c.QuantityAfter)),
			Status:         types.StringValue(c.Status),
			StartedAt:      timeString(c.StartedAt),
			PeriodLabel:    optString(c.PeriodLabel),
			Description:    types.StringValue(c.Description),
		})
	}
	return m
}
