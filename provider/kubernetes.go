package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// The kubernetes block of pes_node_group: the pods of a group whose
// driver is kubernetes.

type kubernetesModel struct {
	Namespace              types.String `tfsdk:"namespace"`
	Image                  types.String `tfsdk:"image"`
	Resources              types.Object `tfsdk:"resources"`
	NodeSelector           types.Map    `tfsdk:"node_selector"`
	Tolerations            types.List   `tfsdk:"tolerations"`
	Labels                 types.Map    `tfsdk:"labels"`
	Annotations            types.Map    `tfsdk:"annotations"`
	ServiceAccount         types.String `tfsdk:"service_account"`
	TerminationGracePeriod types.String `tfsdk:"termination_grace_period"`
}

type kubernetesResourcesModel struct {
	Requests types.Object `tfsdk:"requests"`
	Limits   types.Object `tfsdk:"limits"`
}

type kubernetesResourceListModel struct {
	CPU    types.String `tfsdk:"cpu"`
	Memory types.String `tfsdk:"memory"`
}

type kubernetesTolerationModel struct {
	Key               types.String `tfsdk:"key"`
	Operator          types.String `tfsdk:"operator"`
	Value             types.String `tfsdk:"value"`
	Effect            types.String `tfsdk:"effect"`
	TolerationSeconds types.Int64  `tfsdk:"toleration_seconds"`
}

var (
	kubernetesResourceListAttrTypes = map[string]attr.Type{"cpu": types.StringType, "memory": types.StringType}
	kubernetesResourcesAttrTypes    = map[string]attr.Type{
		"requests": types.ObjectType{AttrTypes: kubernetesResourceListAttrTypes},
		"limits":   types.ObjectType{AttrTypes: kubernetesResourceListAttrTypes},
	}
	kubernetesTolerationAttrTypes = map[string]attr.Type{
		"key": types.StringType, "operator": types.StringType, "value": types.StringType,
		"effect": types.StringType, "toleration_seconds": types.Int64Type,
	}
	kubernetesAttrTypes = map[string]attr.Type{
		"namespace":                types.StringType,
		"image":                    types.StringType,
		"resources":                types.ObjectType{AttrTypes: kubernetesResourcesAttrTypes},
		"node_selector":            types.MapType{ElemType: types.StringType},
		"tolerations":              types.ListType{ElemType: types.ObjectType{AttrTypes: kubernetesTolerationAttrTypes}},
		"labels":                   types.MapType{ElemType: types.StringType},
		"annotations":              types.MapType{ElemType: types.StringType},
		"service_account":          types.StringType,
		"termination_grace_period": types.StringType,
	}
)

// quantityValidator checks a Kubernetes quantity ("500m", "256Mi") with
// api.ParseQuantity, which accepts what the cluster does.
type quantityValidator struct{}

func (quantityValidator) Description(context.Context) string {
	return "a Kubernetes quantity such as 500m, 2, 256Mi or 1Gi"
}

func (v quantityValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (quantityValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := api.ParseQuantity(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid quantity", err.Error()+".")
	}
}

func resourceListAttr(what string) schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		MarkdownDescription: "The container's " + what + ".",
		Optional:            true,
		Attributes: map[string]schema.Attribute{
			"cpu": schema.StringAttribute{
				MarkdownDescription: "CPU, as a Kubernetes quantity (`500m`, `2`).",
				Optional:            true,
				Validators:          []validator.String{quantityValidator{}},
			},
			"memory": schema.StringAttribute{
				MarkdownDescription: "Memory, as a Kubernetes quantity (`256Mi`, `1Gi`).",
				Optional:            true,
				Validators:          []validator.String{quantityValidator{}},
			},
		},
	}
}

// kubernetesAttribute is the schema of the kubernetes block.
func kubernetesAttribute() schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		MarkdownDescription: "`kubernetes` driver only: the pod each node runs in. The `program`'s command, args and env " +
			"become the container's (an empty command keeps the image's entrypoint), and `health_check` its readiness " +
			"probe (`process`: the container running is enough). pesd needs a cluster (`pesd serve --kubeconfig`).",
		Optional: true,
		Attributes: map[string]schema.Attribute{
			"namespace": defaultedString("Namespace of the pods.", api.DefaultKubernetesNamespace),
			"image": schema.StringAttribute{
				MarkdownDescription: "Container image of the pods.",
				Required:            true,
			},
			"resources": schema.SingleNestedAttribute{
				MarkdownDescription: "The container's resource requests and limits.",
				Optional:            true,
				Attributes: map[string]schema.Attribute{
					"requests": resourceListAttr("requests"),
					"limits":   resourceListAttr("limits"),
				},
			},
			"node_selector": schema.MapAttribute{
				MarkdownDescription: "Node labels a pod's node must have.",
				Optional:            true,
				ElementType:         types.StringType,
			},
			"tolerations": schema.ListNestedAttribute{
				MarkdownDescription: "Taints the pods tolerate.",
				Optional:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"key": schema.StringAttribute{MarkdownDescription: "Taint key (empty with `Exists`: every taint).", Optional: true},
					"operator": defaultedString("`Equal` or `Exists`.", api.TolerationEqual,
						stringvalidator.OneOf(api.TolerationEqual, api.TolerationExists)),
					"value": schema.StringAttribute{MarkdownDescription: "Taint value, with `Equal`.", Optional: true},
					"effect": schema.StringAttribute{
						MarkdownDescription: "`NoSchedule`, `PreferNoSchedule` or `NoExecute`; unset, every effect.",
						Optional:            true,
						Validators:          []validator.String{stringvalidator.OneOf(api.EffectNoSchedule, api.EffectPreferNoSchedule, api.EffectNoExecute)},
					},
					"toleration_seconds": schema.Int64Attribute{
						MarkdownDescription: "With `NoExecute`: how long the pod stays on a tainted node.",
						Optional:            true,
					},
				}},
			},
			"labels": schema.MapAttribute{
				MarkdownDescription: "Labels of the pods, beside the ones pesd sets to find them again (`" + api.KubernetesLabelPrefix + "group-id`, `node-id`, `node-index`).",
				Optional:            true,
				ElementType:         types.StringType,
			},
			"annotations": schema.MapAttribute{
				MarkdownDescription: "Annotations of the pods.",
				Optional:            true,
				ElementType:         types.StringType,
			},
			"service_account": schema.StringAttribute{
				MarkdownDescription: "Service account the pods run as; unset, the namespace's default.",
				Optional:            true,
			},
			"termination_grace_period": schema.StringAttribute{
				MarkdownDescription: "The pods' termination grace period, and the grace pesd deletes them with at scale-in (e.g. `30s`); unset, pesd's.",
				Optional:            true,
				Validators:          durationValidators(),
			},
		},
	}
}

func (m kubernetesModel) wire(ctx context.Context) (api.KubernetesConfig, diag.Diagnostics) {
	var diags, d diag.Diagnostics
	k := api.KubernetesConfig{
		Namespace:              m.Namespace.ValueString(),
		Image:                  m.Image.ValueString(),
		ServiceAccount:         m.ServiceAccount.ValueString(),
		TerminationGracePeriod: m.TerminationGracePeriod.ValueString(),
	}
	k.NodeSelector, d = mapStrings(ctx, m.NodeSelector)
	diags.Append(d...)
	k.Labels, d = mapStrings(ctx, m.Labels)
	diags.Append(d...)
	k.Annotations, d = mapStrings(ctx, m.Annotations)
	diags.Append(d...)
	var rm kubernetesResourcesModel
	if ok, d := asModel(ctx, m.Resources, &rm); ok {
		diags.Append(d...)
		k.Resources = &api.KubernetesResources{}
		k.Resources.Requests, d = wireFrom(ctx, rm.Requests, kubernetesResourceListModel.wire)
		diags.Append(d...)
		k.Resources.Limits, d = wireFrom(ctx, rm.Limits, kubernetesResourceListModel.wire)
		diags.Append(d...)
	}
	if !m.Tolerations.IsNull() && !m.Tolerations.IsUnknown() {
		var ts []kubernetesTolerationModel
		diags.Append(m.Tolerations.ElementsAs(ctx, &ts, false)...)
		for _, t := range ts {
			kt := api.KubernetesToleration{Key: t.Key.ValueString(), Operator: t.Operator.ValueString(),
				Value: t.Value.ValueString(), Effect: t.Effect.ValueString()}
			if !t.TolerationSeconds.IsNull() && !t.TolerationSeconds.IsUnknown() {
				s := t.TolerationSeconds.ValueInt64()
				kt.TolerationSeconds = &s
			}
			k.Tolerations = append(k.Tolerations, kt)
		}
	}
	return k, diags
}

func (m kubernetesResourceListModel) wire(context.Context) (api.KubernetesResourceList, diag.Diagnostics) {
	return api.KubernetesResourceList{CPU: m.CPU.ValueString(), Memory: m.Memory.ValueString()}, nil
}

func kubernetesFrom(ctx context.Context, o types.Object) (*api.KubernetesConfig, diag.Diagnostics) {
	return wireFrom(ctx, o, kubernetesModel.wire)
}

// kubernetesObject is the block as pesd reports it, in the user's
// spelling where it means the same.
func kubernetesObject(prior types.Object, k *api.KubernetesConfig) (types.Object, diag.Diagnostics) {
	if k == nil {
		return types.ObjectNull(kubernetesAttrTypes), nil
	}
	return objectOf(prior, kubernetesAttrTypes, func(pm kubernetesModel) (map[string]attr.Value, diag.Diagnostics) {
		var diags, d diag.Diagnostics
		vals := map[string]attr.Value{
			"namespace":                types.StringValue(k.Namespace),
			"image":                    types.StringValue(k.Image),
			"service_account":          keepString(pm.ServiceAccount, k.ServiceAccount),
			"termination_grace_period": keepDuration(pm.TerminationGracePeriod, k.TerminationGracePeriod),
		}
		for name, m := range map[string]struct {
			prior types.Map
			got   map[string]string
		}{"node_selector": {pm.NodeSelector, k.NodeSelector}, "labels": {pm.Labels, k.Labels}, "annotations": {pm.Annotations, k.Annotations}} {
			vals[name], d = stringMap(m.prior, m.got)
			diags.Append(d...)
		}
		vals["resources"], d = resourcesObject(pm.Resources, k.Resources)
		diags.Append(d...)
		vals["tolerations"], d = tolerationsList(k.Tolerations)
		diags.Append(d...)
		return vals, diags
	})
}

func resourcesObject(prior types.Object, r *api.KubernetesResources) (types.Object, diag.Diagnostics) {
	if r == nil {
		return types.ObjectNull(kubernetesResourcesAttrTypes), nil
	}
	return objectOf(prior, kubernetesResourcesAttrTypes, func(pm kubernetesResourcesModel) (map[string]attr.Value, diag.Diagnostics) {
		var diags diag.Diagnostics
		list := func(prior types.Object, l *api.KubernetesResourceList) types.Object {
			if l == nil {
				return types.ObjectNull(kubernetesResourceListAttrTypes)
			}
			o, d := objectOf(prior, kubernetesResourceListAttrTypes, func(pl kubernetesResourceListModel) (map[string]attr.Value, diag.Diagnostics) {
				return map[string]attr.Value{"cpu": keepString(pl.CPU, l.CPU), "memory": keepString(pl.Memory, l.Memory)}, nil
			})
			diags.Append(d...)
			return o
		}
		return map[string]attr.Value{"requests": list(pm.Requests, r.Requests), "limits": list(pm.Limits, r.Limits)}, diags
	})
}

func tolerationsList(ts []api.KubernetesToleration) (types.List, diag.Diagnostics) {
	objType := types.ObjectType{AttrTypes: kubernetesTolerationAttrTypes}
	if len(ts) == 0 {
		return types.ListNull(objType), nil
	}
	var diags diag.Diagnostics
	elems := make([]attr.Value, 0, len(ts))
	for _, t := range ts {
		secs := types.Int64Null()
		if t.TolerationSeconds != nil {
			secs = types.Int64Value(*t.TolerationSeconds)
		}
		o, d := types.ObjectValue(kubernetesTolerationAttrTypes, map[string]attr.Value{
			"key": optString(t.Key), "operator": types.StringValue(t.Operator), "value": optString(t.Value),
			"effect": optString(t.Effect), "toleration_seconds": secs,
		})
		diags.Append(d...)
		elems = append(elems, o)
	}
	l, d := types.ListValue(objType, elems)
	diags.Append(d...)
	return l, diags
}

// validationKubernetes neutralizes what is not known at plan time in the
// kubernetes block of cfg, so validation reports only known problems: an
// unknown image is a placeholder, unknown tolerations are left to apply.
func validationKubernetes(ctx context.Context, o types.Object, cfg *api.GroupConfig) {
	if o.IsNull() {
		return
	}
	if o.IsUnknown() {
		cfg.Kubernetes = &api.KubernetesConfig{Image: "placeholder"}
		return
	}
	var km kubernetesModel
	if ok, d := asModel(ctx, o, &km); !ok || d.HasError() {
		cfg.Kubernetes = &api.KubernetesConfig{Image: "placeholder"}
		return
	}
	if cfg.Kubernetes == nil {
		cfg.Kubernetes = &api.KubernetesConfig{}
	}
	if km.Image.IsUnknown() {
		cfg.Kubernetes.Image = "placeholder"
	}
	if km.Namespace.IsUnknown() {
		cfg.Kubernetes.Namespace = ""
	}
	if km.Tolerations.IsUnknown() || !allElementsKnown(km.Tolerations) {
		cfg.Kubernetes.Tolerations = nil
	}
	if _, err := api.ParseTerminationGrace(*cfg.Kubernetes); err != nil {
		cfg.Kubernetes.TerminationGracePeriod = "" // its attribute validator reports it
	}
}

func allElementsKnown(l types.List) bool {
	for _, e := range l.Elements() {
		o, ok := e.(types.Object)
		if !ok || o.IsUnknown() || !allKnown(o) {
			return false
		}
	}
	return true
}
