package provider

import (
	"context"
	"slices"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
)

// The causality data sources show every event and change in two places:
// pes_capacity_events lists events, each with the changes it caused
// (effects); pes_capacity_changes lists changes, each with the events that
// caused it (causes). What an event or a change says of itself is
// declared, described and converted once, here.

// filterModel holds the filters both data sources take.
type filterModel struct {
	ID      types.String `tfsdk:"id"`
	GroupID types.String `tfsdk:"group_id"`
	Since   types.String `tfsdk:"since"`
	Until   types.String `tfsdk:"until"`
	Type    types.String `tfsdk:"type"`
}

// filterAttributes are the attributes of filterModel; kind is "changes"
// or "events" and typeValues the types the type filter takes.
func filterAttributes(kind string, typeValues []string) map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"id": computedString("The group ID (the data source has no ID of its own)."),
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

// filters lets readHistory reach the filters a model embeds.
func (f *filterModel) filters() *filterModel { return f }

// historyPageSize is the largest page pesd serves: a page of changes with
// their causes (or events with their effects) is one request.
const historyPageSize = api.MaxPageLimit

func (f *filterModel) eventFilter() client.EventFilter {
	return client.EventFilter{
		Since: parseTime(f.Since),
		Until: parseTime(f.Until),
		Type:  f.Type.ValueString(),
		Page:  client.Page{Limit: historyPageSize},
	}
}

func (f *filterModel) changeFilter(causedBy types.String) client.ChangeFilter {
	return client.ChangeFilter{
		Since:    parseTime(f.Since),
		Until:    parseTime(f.Until),
		Type:     f.Type.ValueString(),
		CausedBy: causedBy.ValueString(),
		Page:     client.Page{Limit: historyPageSize},
	}
}

// historySchema is the schema of a causality data source: its
// description, the filters (kind is "changes" or "events", typeValues
// the types the type filter takes) and its own attributes.
func historySchema(description, kind string, typeValues []string, own map[string]schema.Attribute) schema.Schema {
	return schema.Schema{
		MarkdownDescription: description,
		Attributes:          with(filterAttributes(kind, typeValues), own),
	}
}

// readHistory is the Read of both causality data sources: it loads the
// configuration into M, has fill list the group's history into it (what
// is "capacity changes" or "capacity events", for messages) and stores
// the result with the group ID as the data source's ID.
func readHistory[M any, PM interface {
	*M
	filters() *filterModel
}](ctx context.Context, c *pesClient, req datasource.ReadRequest, resp *datasource.ReadResponse, what string,
	fill func(context.Context, *client.Client, PM) error,
) {
	if !c.ready(&resp.Diagnostics, "reading "+what) {
		return
	}
	m, ok := load[M](ctx, req.Config, &resp.Diagnostics)
	if !ok {
		return
	}
	f := PM(&m).filters()
	if err := fill(ctx, c.api, &m); err != nil {
		resp.Diagnostics.Append(apiErrorDiag("Cannot list "+what, c.endpoint, f.GroupID.ValueString(), err))
		return
	}
	f.ID = f.GroupID
	resp.Diagnostics.Append(setState(ctx, &resp.State, &m)...)
}

func parseTime(v types.String) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, v.ValueString()) // validated at plan time
	return t
}

// eventFields is what an event says of itself, as an event and as a cause.
type eventFields struct {
	Label            types.String `tfsdk:"label"`
	Type             types.String `tfsdk:"type"`
	SourceKind       types.String `tfsdk:"source_kind"`
	SourceID         types.String `tfsdk:"source_id"`
	SourceName       types.String `tfsdk:"source_name"`
	SourcePrincipal  types.String `tfsdk:"source_principal"`
	SourceOnBehalfOf types.String `tfsdk:"source_on_behalf_of"`
	Time             types.String `tfsdk:"time"`
	PeriodLabel      types.String `tfsdk:"period_label"`
	ProposedQuantity types.Int64  `tfsdk:"proposed_quantity"`
	Status           types.String `tfsdk:"status"`
	Reason           types.String `tfsdk:"reason"`
	Notes            []string     `tfsdk:"notes"`
	Observed         types.String `tfsdk:"observed"`
	Description      types.String `tfsdk:"description"`
}

func eventAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"label":       computedString("Per-group sequence label of the event, e.g. `E4`."),
		"type":        computedString("Type of the event: " + codeList(api.EventTypes()) + "."),
		"source_kind": computedString("`user`, `trigger` or `system`."),
		"source_id":   computedString("ID of the source (the trigger's ID for a trigger)."),
		"source_name": computedString("Name of the source: a user's principal (the name of the token that asked), a trigger's name."),
		"source_principal": computedString("The authenticated principal whose token asked for the event: the name `pesd tokens create` " +
			"gave the token, `admin` for pesd's bootstrap token. Null for pesd's own events and for events recorded before principals."),
		"source_on_behalf_of": computedString("The actor the client named beside its token (the provider names `terraform`), " +
			"when it is not the principal itself."),
		"time":              computedString("When the event happened (RFC 3339)."),
		"period_label":      computedString("Label of the aggregation period the event fell in, e.g. `H2`."),
		"proposed_quantity": computedInt("Desired quantity the event proposed, null when it proposed none."),
		"status":            computedString("`applied`, `aggregated`, `suppressed` or `ignored`."),
		"reason":            computedString("The reason given with the event: the requester's words (an instruction's `reason`), or why it was suppressed or ignored. pesd's own remarks are in `notes`."),
		"notes":             computedStrings("pesd's own notes about the event, apart from its `reason`: how `min_quantity` and `max_quantity` (or, with predictive governing, the forecast) clamped an immediate request, or why the forecast did not govern it. Empty when pesd has none."),
		"observed":          computedString("What a trigger observed, e.g. `avg cpu_utilization 87.3 > 80 for 2m`."),
		"description":       computedString("The event in words."),
	}
}

func eventFieldsFrom(e api.Event) eventFields {
	return eventFields{
		Label:            types.StringValue(e.Label),
		Type:             types.StringValue(e.Type),
		SourceKind:       types.StringValue(e.Source.Kind),
		SourceID:         optString(e.Source.ID),
		SourceName:       optString(e.Source.Name),
		SourcePrincipal:  optString(e.Source.Principal),
		SourceOnBehalfOf: optString(e.Source.OnBehalfOf),
		Time:             timeString(e.Time),
		PeriodLabel:      optString(e.PeriodLabel),
		ProposedQuantity: types.Int64PointerValue(int64Ptr(e.ProposedQuantity)),
		Status:           types.StringValue(e.Status),
		Reason:           optString(e.Reason),
		Notes:            append([]string{}, e.Notes...),
		Observed:         optString(e.Observed),
		Description:      types.StringValue(e.Description),
	}
}

// changeFields is what a change says of itself, as a change and as an
// effect.
type changeFields struct {
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

func changeAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"label":           computedString("Per-group sequence label of the change, e.g. `C7`."),
		"type":            computedString(codeList(api.ChangeTypes()) + "."),
		"amount":          computedInt("Number of nodes (positive; the type gives the direction)."),
		"quantity_before": computedInt("Quantity before the change."),
		"quantity_after":  computedInt("Quantity after the change."),
		"status":          computedString("`in_progress`, `completed` or `failed`."),
		"started_at":      computedString("When the change started (RFC 3339)."),
		"period_label":    computedString("Label of the aggregation period the change belongs to, e.g. `H2`."),
		"description":     computedString("What the change did, in words."),
	}
}

func changeFieldsFrom(c api.Change) changeFields {
	return changeFields{
		Label:          types.StringValue(c.Label),
		Type:           types.StringValue(c.Type),
		Amount:         types.Int64Value(int64(c.Amount)),
		QuantityBefore: types.Int64Value(int64(c.QuantityBefore)),
		QuantityAfter:  types.Int64Value(int64(c.QuantityAfter)),
		Status:         types.StringValue(c.Status),
		StartedAt:      timeString(c.StartedAt),
		PeriodLabel:    optString(c.PeriodLabel),
		Description:    types.StringValue(c.Description),
	}
}

// causeModel is one event that caused a change.
type causeModel struct {
	Attribution types.String `tfsdk:"attribution"`
	Decisive    types.Bool   `tfsdk:"decisive"`
	EventID     types.String `tfsdk:"event_id"`
	eventFields
}

// effectModel is one change an event caused.
type effectModel struct {
	Attribution types.String `tfsdk:"attribution"`
	ChangeID    types.String `tfsdk:"change_id"`
	changeFields
}

func causeAttributes() map[string]schema.Attribute {
	return with(eventAttributes(), map[string]schema.Attribute{
		"attribution": computedString("`direct` or `indirect`."),
		"decisive": computedBool("True on the one cause whose request the period's aggregation policy chose among " +
			"competing requests (the trigger or instruction that determined the change); false on the others, and on " +
			"every cause when the policy combines requests (`average`, `sum`) or the change is direct."),
		"event_id": computedString("ID of the event."),
	})
}

func effectAttributes() map[string]schema.Attribute {
	return with(changeAttributes(), map[string]schema.Attribute{
		"attribution": computedString("`direct` or `indirect`."),
		"change_id":   computedString("ID of the change."),
	})
}

// causesFrom lists causes in the order events are listed everywhere else.
func causesFrom(causes []api.Cause) []causeModel {
	return sortedMap(causes, func(a, b api.Cause) int { return compareEvents(a.Event, b.Event) },
		func(c api.Cause) causeModel {
			return causeModel{
				Attribution: types.StringValue(c.Attribution),
				Decisive:    types.BoolValue(c.Decisive),
				EventID:     types.StringValue(c.Event.ID),
				eventFields: eventFieldsFrom(c.Event),
			}
		})
}

// effectsFrom lists effects in the order changes are listed everywhere
// else.
func effectsFrom(effects []api.Effect) []effectModel {
	return sortedMap(effects, func(a, b api.Effect) int { return compareChanges(a.Change, b.Change) },
		func(e api.Effect) effectModel {
			return effectModel{
				Attribution:  types.StringValue(e.Attribution),
				ChangeID:     types.StringValue(e.Change.ID),
				changeFields: changeFieldsFrom(e.Change),
			}
		})
}

// sortedMap converts items in the order cmp gives them, leaving items as
// they are.
func sortedMap[T, M any](items []T, cmp func(a, b T) int, conv func(T) M) []M {
	items = slices.Clone(items)
	slices.SortStableFunc(items, cmp)
	out := make([]M, 0, len(items))
	for _, it := range items {
		out = append(out, conv(it))
	}
	return out
}
