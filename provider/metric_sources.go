package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// pes_node_group.metric_sources: metrics pesd reads itself, by Prometheus
// query, at every evaluation pass.

type metricSourceModel struct {
	Name       types.String `tfsdk:"name"`
	Prometheus types.Object `tfsdk:"prometheus"`
}

type prometheusModel struct {
	Address types.String `tfsdk:"address"`
	Query   types.String `tfsdk:"query"`
}

var prometheusAttrTypes = map[string]attr.Type{
	"address": types.StringType,
	"query":   types.StringType,
}

var metricSourceAttrTypes = map[string]attr.Type{
	"name":       types.StringType,
	"prometheus": types.ObjectType{AttrTypes: prometheusAttrTypes},
}

func metricSourcesAttribute() schema.ListNestedAttribute {
	return schema.ListNestedAttribute{
		MarkdownDescription: "Metrics pesd reads itself at every evaluation pass rather than having them pushed: " +
			"each is a Prometheus instant query returning one series or a scalar, whose value joins the group's " +
			"metric windows under `name`, so conditions and targets use it like any metric " +
			"(`avg(rps, '2m') > 500`). A failing or empty query makes conditions over it not satisfied, " +
			"recorded once per outage with the query's error; a firing names the query it read.",
		Optional: true,
		NestedObject: schema.NestedAttributeObject{
			Attributes: map[string]schema.Attribute{
				"name": schema.StringAttribute{
					MarkdownDescription: "The metric's name in conditions: a letter or `_`, then letters, digits or `_`.",
					Required:            true,
				},
				"prometheus": schema.SingleNestedAttribute{
					MarkdownDescription: "The Prometheus query.",
					Required:            true,
					Attributes: map[string]schema.Attribute{
						"address": schema.StringAttribute{
							MarkdownDescription: "The Prometheus server (`http://prometheus:9090`); unset, pesd's `--prometheus-url`.",
							Optional:            true,
						},
						"query": schema.StringAttribute{
							MarkdownDescription: "A PromQL expression returning one series or a scalar, e.g. `sum(rate(http_requests_total{job=\"web\"}[1m]))`; " +
								"parsed at plan time with Prometheus's PromQL parser, which names the line and column of an error.",
							Required: true,
						},
					},
				},
			},
		},
	}
}

// metricSourcesFrom reads the configured list; null gives nil. Unknown
// parts read as empty: validationConfig leaves a list with unknown parts
// for the apply to check.
func metricSourcesFrom(ctx context.Context, l types.List) ([]api.MetricSource, diag.Diagnostics) {
	if l.IsNull() || l.IsUnknown() {
		return nil, nil
	}
	var ms []metricSourceModel
	diags := l.ElementsAs(ctx, &ms, false)
	if diags.HasError() {
		return nil, diags
	}
	out := make([]api.MetricSource, len(ms))
	for i, m := range ms {
		out[i].Name = m.Name.ValueString()
		if m.Prometheus.IsNull() || m.Prometheus.IsUnknown() {
			continue
		}
		var p prometheusModel
		_, d := asModel(ctx, m.Prometheus, &p)
		diags.Append(d...)
		out[i].Prometheus = &api.PrometheusSource{Address: p.Address.ValueString(), Query: p.Query.ValueString()}
	}
	return out, diags
}

// metricSourcesKnown reports whether every part of the list is known.
func metricSourcesKnown(l types.List) bool {
	if l.IsUnknown() {
		return false
	}
	for _, e := range l.Elements() {
		o, ok := e.(types.Object)
		if !ok || o.IsUnknown() || !allKnown(o) {
			return false
		}
		if p, ok := o.Attributes()["prometheus"].(types.Object); ok && !p.IsNull() && !allKnown(p) {
			return false
		}
	}
	return true
}

// metricSourcesList is the state of pesd's sources.
func metricSourcesList(prior types.List, got []api.MetricSource) (types.List, diag.Diagnostics) {
	elem := types.ObjectType{AttrTypes: metricSourceAttrTypes}
	if len(got) == 0 && (prior.IsNull() || prior.IsUnknown()) {
		return types.ListNull(elem), nil
	}
	var diags diag.Diagnostics
	vals := make([]attr.Value, 0, len(got))
	for _, s := range got {
		prom := types.ObjectNull(prometheusAttrTypes)
		if s.Prometheus != nil {
			o, d := types.ObjectValue(prometheusAttrTypes, map[string]attr.Value{
				"address": optString(s.Prometheus.Address),
				"query":   types.StringValue(s.Prometheus.Query),
			})
			diags.Append(d...)
			prom = o
		}
		o, d := types.ObjectValue(metricSourceAttrTypes, map[string]attr.Value{
			"name": types.StringValue(s.Name), "prometheus": prom,
		})
		diags.Append(d...)
		vals = append(vals, o)
	}
	l, d := types.ListValue(elem, vals)
	diags.Append(d...)
	return l, diags
}
