package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
)

var (
	_ datasource.DataSource              = (*capacityChangesDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*capacityChangesDataSource)(nil)
)

func newCapacityChangesDataSource() datasource.DataSource { return &capacityChangesDataSource{} }

type capacityChangesDataSource struct {
	c *pesClient
}

type capacityChangesModel struct {
	ID       types.String  `tfsdk:"id"`
	GroupID  types.String  `tfsdk:"group_id"`
	Since    types.String  `tfsdk:"since"`
	Until    types.String  `tfsdk:"until"`
	Type     types.String  `tfsdk:"type"`
	CausedBy types.String  `tfsdk:"caused_by"`
	Changes  []changeModel `tfsdk:"changes"`
}

type changeModel struct {
	ID             types.String `tfsdk:"id"`
	Label          types.String `tfsdk:"label"`
	Type           types.String `tfsdk:"type"`
	Amount         types.Int64  `tfsdk:"amount"`
	QuantityBefore types.Int64  `tfsdk:"quantity_before"`
	QuantityAfter  types.Int64  `tfsdk:"quantity_after"`
	Status         types.String `tfsdk:"status"`
	StartedAt      types.String `tfsdk:"started_at"`
	EndedAt        types.String `tfsdk:"ended_at"`
	PeriodID       types.String `tfsdk:"period_id"`
	PeriodLabel    types.String `tfsdk:"period_label"`
	NexusID        types.String `tfsdk:"nexus_id"`
	Attribution    types.String `tfsdk:"attribution"`
	NodeIDs        []string     `tfsdk:"node_ids"`
	Description    types.String `tfsdk:"description"`
	Causes         []causeModel `tfsdk:"causes"`
	Explanation    types.String `tfsdk:"explanation"`
}

type causeModel struct {
	Attribution      types.String `tfsdk:"attribution"`
	EventID          types.String `tfsdk:"event_id"`
	Label            types.String `tfsdk:"label"`
	Type             types.String `tfsdk:"type"`
	SourceKind       types.String `tfsdk:"source_kind"`
	SourceID         types.String `tfsdk:"source_id"`
	SourceName       types.String `tfsdk:"source_name"`
	Time             types.String `tfsdk:"time"`
	PeriodLabel      types.String `tfsdk:"period_label"`
	ProposedQuantity types.Int64  `tfsdk:"proposed_quantity"`
	Status           types.String `tfsdk:"status"`
	Reason           types.String `tfsdk:"reason"`
	Observed         types.String `tfsdk:"observed"`
	Description      types.String `tfsdk:"description"`
}

func (d *capacityChangesDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_capacity_changes"
}

func (d *capacityChangesDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.c = clientFrom(req.ProviderData, &resp.Diagnostics)
}

// filterAttributes are the since/until/type filters shared by the change
// and event data sources.
func filterAttributes(kind string, typeValues []string) map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"group_id": schema.StringAttribute{
			MarkdownDescription: "ID of the node group. Deleted groups keep their history and can still be queried.",
			Required:            true,
		},
		"since": schema.StringAttribute{
			MarkdownDescription: "Only " + kind + " at or after this RFC 3339 time.",
			Optional:            true,
			Validators:          []validator.String{timeValidator{}},
		},
		"until": schema.StringAttribute{
			MarkdownDescription: "Only " + kind + " before this RFC 3339 time.",
			Optional:            true,
			Validators:          []validator.String{timeValidator{}},
		},
		"type": schema.StringAttribute{
			MarkdownDescription: "Only " + kind + " of this type: " + codeList(typeValues) + ".",
			Optional:            true,
			Validators:          []validator.String{stringvalidator.OneOf(typeValues...)},
		},
	}
}

func codeList(vals []string) string {
	s := ""
	for i, v := range vals {
		if i > 0 {
			s += ", "
		}
		s += "`" + v + "`"
	}
	return s
}

func computedString(desc string) schema.StringAttribute {
	return schema.StringAttribute{MarkdownDescription: desc, Computed: true}
}

func computedInt(desc string) schema.Int64Attribute {
	return schema.Int64Attribute{MarkdownDescription: desc, Computed: true}
}

func (d *capacityChangesDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attrs := filterAttributes("changes", api.ChangeTypes())
	attrs["id"] = computedString("The group ID (the data source has no ID of its own).")
	attrs["caused_by"] = schema.StringAttribute{
		MarkdownDescription: "Only the changes this event (an event ID) caused, directly or together with others.",
		Optional:            true,
	}
	attrs["changes"] = schema.ListNestedAttribute{
		MarkdownDescription: "The changes, oldest first (by start time, then label), each with its causes and an explanation.",
		Computed:            true,
		NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
			"id":              computedString("ID of the change."),
			"label":           computedString("Per-group sequence label, e.g. `C7`."),
			"type":            computedString("`add_nodes`, `remove_nodes` or `node_lost`."),
			"amount":          computedInt("Number of nodes (positive; the type gives the direction)."),
			"quantity_before": computedInt("Quantity before the change."),
			"quantity_after":  computedInt("Quantity after the change."),
			"status":          computedString("`in_progress`, `completed` or `failed`."),
			"started_at":      computedString("When the change started (RFC 3339)."),
			"ended_at":        computedString("When it ended (RFC 3339), null while in progress."),
			"period_id":       computedString("ID of the aggregation period the change belongs to."),
			"period_label":    computedString("Label of that period, e.g. `H2`."),
			"nexus_id":        computedString("ID of the nexus linking the change to its causes."),
			"attribution":     computedString("`direct` (one event caused it at once) or `indirect` (several aggregated events caused it together)."),
			"node_ids": schema.ListAttribute{
				MarkdownDescription: "The nodes added or removed.",
				Computed:            true,
				ElementType:         types.StringType,
			},
			"description": computedString("What the change did, in words."),
			"causes": schema.ListNestedAttribute{
				MarkdownDescription: "The events that caused the change, oldest first.",
				Computed:            true,
				NestedObject:        schema.NestedAttributeObject{Attributes: causeAttributes()},
			},
			"explanation": computedString("Why the change happened, written for a person: the events, what each asked for, the policy and clamps."),
		}},
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "The capacity changes of a node group with their causes: which events (user instructions, " +
			"trigger firings, node failures, replacements) caused each change, directly or indirectly, and an " +
			"explanation in words.",
		Attributes: attrs,
	}
}

func causeAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"attribution":       computedString("`direct` or `indirect`."),
		"event_id":          computedString("ID of the event."),
		"label":             computedString("Label of the event, e.g. `E4`."),
		"type":              computedString("Type of the event, e.g. `trigger_fired`, `user_instruction`, `node_unavailable`."),
		"source_kind":       computedString("`user`, `trigger` or `system`."),
		"source_id":         computedString("ID of the source (the trigger's ID for a trigger)."),
		"source_name":       computedString("Name of the source (a user name, `terraform`, a trigger name)."),
		"time":              computedString("When the event happened (RFC 3339)."),
		"period_label":      computedString("Label of the period of the event."),
		"proposed_quantity": computedInt("Desired quantity the event proposed, null when it proposed none."),
		"status":            computedString("`applied`, `aggregated`, `suppressed` or `ignored`."),
		"reason":            computedString("Why it was suppressed or ignored, or the reason given with an instruction."),
		"observed":          computedString("What a trigger observed, e.g. `avg cpu_utilization 87.3 > 80 for 2m`."),
		"description":       computedString("The event in words."),
	}
}

func (d *capacityChangesDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if d.c == nil {
		resp.Diagnostics.AddError("Provider not configured", "The pes provider was not configured before reading capacity changes.")
		return
	}
	var m capacityChangesModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	groupID := m.GroupID.ValueString()
	f := client.ChangeFilter{
		Since:    parseTime(m.Since),
		Until:    parseTime(m.Until),
		Type:     m.Type.ValueString(),
		CausedBy: m.CausedBy.ValueString(),
	}
	changes, err := d.c.api.ListAllChanges(ctx, groupID, f)
	if err != nil {
		resp.Diagnostics.Append(apiErrorDiag("Cannot list capacity changes", d.c.endpoint, groupID, err))
		return
	}
	sortChanges(changes)

	m.ID = types.StringValue(groupID)
	m.Changes = make([]changeModel, 0, len(changes))
	for _, c := range changes {
		detail, err := d.c.api.GetChange(ctx, c.ID)
		if err != nil {
			resp.Diagnostics.Append(apiErrorDiag("Cannot read the causes of change "+c.Label, d.c.endpoint, c.ID, err))
			return
		}
		m.Changes = append(m.Changes, changeFrom(detail))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func parseTime(v types.String) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, v.ValueString()) // validated at plan time
	return t
}

func changeFrom(d api.ChangeDetail) changeModel {
	// Causes are ordered as events are everywhere else.
	events := make([]api.Event, len(d.Causes))
	attribution := make(map[string]string, len(d.Causes))
	for i, c := range d.Causes {
		events[i] = c.Event
		attribution[c.Event.ID] = c.Attribution
	}
	sortEvents(events)

	m := changeModel{
		ID:             types.StringValue(d.ID),
		Label:          types.StringValue(d.Label),
		Type:           types.StringValue(d.Type),
		Amount:         types.Int64Value(int64(d.Amount)),
		QuantityBefore: types.Int64Value(int64(d.QuantityBefore)),
		QuantityAfter:  types.Int64Value(int64(d.QuantityAfter)),
		Status:         types.StringValue(d.Status),
		StartedAt:      timeString(d.StartedAt),
		EndedAt:        timePtrString(d.EndedAt),
		PeriodID:       optString(d.PeriodID),
		PeriodLabel:    optString(d.PeriodLabel),
		NexusID:        optString(d.NexusID),
		Attribution:    types.StringValue(d.Attribution),
		NodeIDs:        append([]string{}, d.NodeIDs...),
		Description:    types.StringValue(d.Description),
		Causes:         make([]causeModel, 0, len(events)),
		Explanation:    types.StringValue(d.Explanation),
	}
	for _, e := range events {
		m.Causes = append(m.Causes, causeFrom(attribution[e.ID], e))
	}
	return m
}

func causeFrom(attribution string, e api.Event) causeModel {
	return causeModel{
		Attribution:      types.StringValue(attribution),
		EventID:          types.StringValue(e.ID),
		Label:            types.StringValue(e.Label),
		Type:             types.StringValue(e.Type),
		SourceKind:       types.StringValue(e.Source.Kind),
		SourceID:         optString(e.Source.ID),
		SourceName:       optString(e.Source.Name),
		Time:             timeString(e.Time),
		PeriodLabel:      optString(e.PeriodLabel),
		ProposedQuantity: types.Int64PointerValue(int64Ptr(e.ProposedQuantity)),
		Status:           types.StringValue(e.Status),
		Reason:           optString(e.Reason),
		Observed:         optString(e.Observed),
		Description:      types.StringValue(e.Description),
	}
}
