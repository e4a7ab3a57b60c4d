package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// billingAttribute is pes_node_group.billing: the price of node time.
func billingAttribute() schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		MarkdownDescription: "What the group's node time costs. With it pesd counts node-hours and money per change, " +
			"cause, trigger and actor (`pes_capacity_costs`), and `termination_policy = \"closest_to_billing_boundary\"` " +
			"and `replacement = \"auto\"` weigh time already paid for. A new price applies from the time it is set; " +
			"earlier node time keeps its price.",
		Optional: true,
		Attributes: map[string]schema.Attribute{
			"price_per_node_hour": schema.StringAttribute{
				MarkdownDescription: "The price of one node for one hour, a decimal string with at most six digits after the point (`\"0.25\"`). A string, so money stays exact.",
				Required:            true,
				Validators:          []validator.String{moneyValidator{}},
			},
			"currency": defaultedString("The ISO 4217 currency of the price.", api.DefaultCurrency),
			"increment": defaultedDuration("The billing granularity: a node's time is billed in whole increments (`1s`, `1m`, `1h`).",
				api.DefaultBillingIncrement),
			"minimum": defaultedDuration("The least time billed for one node (`1m`).", api.DefaultBillingMinimum),
		},
	}
}

type billingModel struct {
	PricePerNodeHour types.String `tfsdk:"price_per_node_hour"`
	Currency         types.String `tfsdk:"currency"`
	Increment        types.String `tfsdk:"increment"`
	Minimum          types.String `tfsdk:"minimum"`
}

var billingAttrTypes = map[string]attr.Type{
	"price_per_node_hour": types.StringType,
	"currency":            types.StringType,
	"increment":           types.StringType,
	"minimum":             types.StringType,
}

func (m billingModel) wire(context.Context) (api.Billing, diag.Diagnostics) {
	return api.Billing{
		PricePerNodeHour: m.PricePerNodeHour.ValueString(),
		Currency:         m.Currency.ValueString(),
		Increment:        m.Increment.ValueString(),
		Minimum:          m.Minimum.ValueString(),
	}, nil
}

func billingFrom(ctx context.Context, o types.Object) (*api.Billing, diag.Diagnostics) {
	return wireFrom(ctx, o, billingModel.wire)
}

func billingObject(prior types.Object, b *api.Billing) (types.Object, diag.Diagnostics) {
	if b == nil {
		return types.ObjectNull(billingAttrTypes), nil
	}
	return objectOf(prior, billingAttrTypes, func(pm billingModel) (map[string]attr.Value, diag.Diagnostics) {
		price := types.StringValue(b.PricePerNodeHour)
		// "0.250" and "0.25" are one price: keep the user's spelling.
		if p, err := api.ParseMoney(pm.PricePerNodeHour.ValueString()); err == nil {
			if q, err := api.ParseMoney(b.PricePerNodeHour); err == nil && p == q {
				price = pm.PricePerNodeHour
			}
		}
		return map[string]attr.Value{
			"price_per_node_hour": price,
			"currency":            types.StringValue(b.Currency),
			"increment":           keepDuration(pm.Increment, b.Increment),
			"minimum":             keepDuration(pm.Minimum, b.Minimum),
		}, nil
	})
}

// moneyValidator accepts what pesd reads as a price.
type moneyValidator struct{}

func (moneyValidator) Description(context.Context) string {
	return `a non-negative decimal string such as "0.25"`
}

func (v moneyValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (moneyValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := api.ParseMoney(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid price",
			fmt.Sprintf("%s: %v.", req.Path, err))
	}
}
