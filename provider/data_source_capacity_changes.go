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
	_ datasource.DataSource              = (*capacityChangesDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*capacityChangesDataSource)(nil)
)

func newCapacityChangesDataSource() datasource.DataSource { return &capacityChangesDataSource{} }

type capacityChangesDataSource struct {
	dataSourceClient
}

type capacityChangesModel struct {
	filterModel
	CausedBy types.String  `tfsdk:"caused_by"`
	Changes  []changeModel `tfsdk:"changes"`
}

// partModel is one step in which an add_nodes change's nodes became
// ready.
type partModel struct {
	ReadyAt types.String `tfsdk:"ready_at"`
	Amount  types.Int64  `tfsdk:"amount"`
}

type changeModel struct {
	ID types.String `tfsdk:"id"`
	changeFields
	EndedAt     types.String `tfsdk:"ended_at"`
	PeriodID    types.String `tfsdk:"period_id"`
	NexusID     types.String `tfsdk:"nexus_id"`
	Attribution types.String `tfsdk:"attribution"`
	NodeIDs     []string     `tfsdk:"node_ids"`
	Parts       []partModel  `tfsdk:"parts"`
	Causes      []causeModel `tfsdk:"causes"`
	Explanation types.String `tfsdk:"explanation"`
}

func (d *capacityChangesDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_capacity_changes"
}

func (d *capacityChangesDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = historySchema("The capacity changes of a node group with their causes: which events (user instructions, "+
		"trigger firings, node failures, replacements) caused each change, directly or indirectly, and an "+
		"explanation in words.",
		"changes", api.ChangeTypes(), map[string]schema.Attribute{
			"caused_by": schema.StringAttribute{
				MarkdownDescription: "Only the changes this event (an event ID) caused, directly or together with others.",
				Optional:            true,
			},
			"changes": computedList("The changes, oldest first (by start time, then label), each with its causes and an explanation.", changeDetailAttributes()),
		})
}

// changeDetailAttributes are a change's attributes with its causes and
// explanation, as pes_capacity_changes and pes_capacity_whatif list them.
func changeDetailAttributes() map[string]schema.Attribute {
	return with(changeAttributes(), map[string]schema.Attribute{
		"id":          computedString("ID of the change."),
		"ended_at":    computedString("When it ended (RFC 3339), null while in progress."),
		"period_id":   computedString("ID of the aggregation period the change belongs to."),
		"nexus_id":    computedString("ID of the nexus linking the change to its causes."),
		"attribution": computedString("`direct` (one event caused it at once) or `indirect` (several aggregated events caused it together)."),
		"node_ids":    computedStrings("The nodes added or removed."),
		"parts": computedList("For nodes added, the steps in which they became ready, when there were more than one: "+
			"the nodes of one launch that become ready within pesd's launch window (`--launch-window`, 3s by default) of the first are one change. "+
			"Empty otherwise.", map[string]schema.Attribute{
			"ready_at": computedString("When the last node of the part became ready (RFC 3339); nodes ready within the same second are one part."),
			"amount":   computedInt("How many nodes became ready."),
		}),
		"causes":      computedList("The events that caused the change, oldest first.", causeAttributes()),
		"explanation": computedString("Why the change happened, written for a person: the events, what each asked for, the policy and clamps (of `min_quantity`, `max_quantity` and, with predictive governing, the forecast)."),
	})
}

// Read lists the changes with their causes and explanations, a page of
// up to historyPageSize in one request.
func (d *capacityChangesDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	readHistory(ctx, d.c, req, resp, "capacity changes", func(ctx context.Context, c *client.Client, m *capacityChangesModel) error {
		changes, err := c.ListAllChangesDetailed(ctx, m.GroupID.ValueString(), m.changeFilter(m.CausedBy))
		m.Changes = sortedMap(changes, func(a, b api.ChangeDetail) int { return compareChanges(a.Change, b.Change) }, changeFrom)
		return err
	})
}

func changeFrom(d api.ChangeDetail) changeModel {
	return changeModel{
		ID:           types.StringValue(d.ID),
		changeFields: changeFieldsFrom(d.Change),
		EndedAt:      timePtrString(d.EndedAt),
		PeriodID:     optString(d.PeriodID),
		NexusID:      optString(d.NexusID),
		Attribution:  types.StringValue(d.Attribution),
		NodeIDs:      append([]string{}, d.NodeIDs...),
		Parts: sortedMap(d.Parts, func(a, b api.ChangePart) int { return a.ReadyAt.Compare(b.ReadyAt) },
			func(p api.ChangePart) partModel {
				return partModel{ReadyAt: timeString(p.ReadyAt), Amount: types.Int64Value(int64(p.Amount))}
			}),
		Causes:      causesFrom(d.Causes),
		Explanation: types.StringValue(d.Explanation),
	}
}
