package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// nodeGroupFields are the attributes the pes_node_group resource and data
// source share: a group's configuration and its quantities as pesd
// reports them. The data source's schema is derived from the resource's
// for these attributes, so one conversion (fromGroup) serves both.
type nodeGroupFields struct {
	ID                          types.String `tfsdk:"id"`
	Name                        types.String `tfsdk:"name"`
	Tenant                      types.String `tfsdk:"tenant"`
	Driver                      types.String `tfsdk:"driver"`
	Program                     types.Object `tfsdk:"program"`
	DesiredQuantity             types.Int64  `tfsdk:"desired_quantity"`
	MinQuantity                 types.Int64  `tfsdk:"min_quantity"`
	MaxQuantity                 types.Int64  `tfsdk:"max_quantity"`
	AggregationPeriod           types.String `tfsdk:"aggregation_period"`
	AggregationPolicy           types.String `tfsdk:"aggregation_policy"`
	Replacement                 types.String `tfsdk:"replacement"`
	ReplacementDeferWindow      types.String `tfsdk:"replacement_defer_window"`
	InitDeadline                types.String `tfsdk:"init_deadline"`
	Cooldown                    types.String `tfsdk:"cooldown"`
	TerminationPolicy           types.String `tfsdk:"termination_policy"`
	LockdownAfterRemoval        types.Bool   `tfsdk:"lockdown_after_removal"`
	HarmonizeAfterRequests      types.Int64  `tfsdk:"harmonize_after_requests"`
	InstructionsSilenceTriggers types.Bool   `tfsdk:"instructions_silence_triggers"`
	DecreasesOutrankIncreases   types.Bool   `tfsdk:"decreases_outrank_increases"`
	HealthCheck                 types.Object `tfsdk:"health_check"`
	Labels                      types.Map    `tfsdk:"labels"`
	Sim                         types.Object `tfsdk:"sim"`
	Kubernetes                  types.Object `tfsdk:"kubernetes"`
	Predictive                  types.Object `tfsdk:"predictive"`
	MetricSources               types.List   `tfsdk:"metric_sources"`
	Billing                     types.Object `tfsdk:"billing"`
	OfficialQuantity            types.Int64  `tfsdk:"official_quantity"`
	ActualQuantity              types.Int64  `tfsdk:"actual_quantity"`
	Status                      types.String `tfsdk:"status"`
}

// fromGroup sets f from pesd's answer. prior is what Terraform had: values
// that mean the same as prior keep the user's spelling, and
// desired_quantity keeps the declared value so triggers never cause a
// diff. With an empty prior (import, the data source) everything comes
// from pesd, desired_quantity being the live one.
func (f *nodeGroupFields) fromGroup(g api.Group, prior nodeGroupFields) diag.Diagnostics {
	var diags, d diag.Diagnostics

	f.ID = types.StringValue(g.ID)
	f.Name = types.StringValue(g.Name)
	f.Tenant = optString(g.Tenant)
	f.Driver = types.StringValue(g.Driver)
	f.Program, d = programObject(prior.Program, g.Program)
	diags.Append(d...)
	f.DesiredQuantity = prior.DesiredQuantity
	if f.DesiredQuantity.IsNull() || f.DesiredQuantity.IsUnknown() {
		f.DesiredQuantity = types.Int64Value(int64(g.DesiredQuantity))
	}
	f.MinQuantity = types.Int64Value(int64(g.MinQuantity))
	f.MaxQuantity = types.Int64Value(int64(g.MaxQuantity))
	f.AggregationPeriod = keepDuration(prior.AggregationPeriod, g.AggregationPeriod)
	f.AggregationPolicy = types.StringValue(g.AggregationPolicy)
	f.Replacement = types.StringValue(g.Replacement)
	f.ReplacementDeferWindow = keepDuration(prior.ReplacementDeferWindow, g.ReplacementDeferWindow)
	f.InitDeadline = keepDuration(prior.InitDeadline, g.InitDeadline)
	f.Cooldown = keepDuration(prior.Cooldown, g.Cooldown)
	f.TerminationPolicy = types.StringValue(g.TerminationPolicy)
	f.LockdownAfterRemoval = types.BoolValue(g.LockdownOnRemoval())
	f.HarmonizeAfterRequests = types.Int64Value(int64(g.HarmonizeAfterRequests))
	f.InstructionsSilenceTriggers = types.BoolValue(g.InstructionsSilenceTriggers)
	f.DecreasesOutrankIncreases = types.BoolValue(g.DecreasesOutrankIncreases)
	f.HealthCheck, d = healthCheckObject(prior.HealthCheck, g.HealthCheck)
	diags.Append(d...)
	f.Labels, d = stringMap(prior.Labels, g.Labels)
	diags.Append(d...)
	f.Sim, d = simObject(prior.Sim, g.Sim)
	diags.Append(d...)
	f.Kubernetes, d = kubernetesObject(prior.Kubernetes, g.Kubernetes)
	diags.Append(d...)
	f.Predictive, d = predictiveObject(prior.Predictive, g.Predictive)
	diags.Append(d...)
	f.MetricSources, d = metricSourcesList(prior.MetricSources, g.MetricSources)
	diags.Append(d...)
	f.Billing, d = billingObject(prior.Billing, g.Billing)
	diags.Append(d...)
	f.OfficialQuantity = types.Int64Value(int64(g.OfficialQuantity))
	f.ActualQuantity = types.Int64Value(int64(g.ActualQuantity))
	f.Status = types.StringValue(g.Status)
	return diags
}

// The nested objects of a node group, as Terraform values. They are
// types.Object in the models (not Go structs) because any part of them may
// be unknown at plan time. Each has a model with a wire method (model →
// api value) and an ...Object function (api value → object).

type programModel struct {
	Command types.String `tfsdk:"command"`
	Args    types.List   `tfsdk:"args"`
	Env     types.Map    `tfsdk:"env"`
}

var programAttrTypes = map[string]attr.Type{
	"command": types.StringType,
	"args":    types.ListType{ElemType: types.StringType},
	"env":     types.MapType{ElemType: types.StringType},
}

type healthCheckModel struct {
	Type             types.String `tfsdk:"type"`
	Path             types.String `tfsdk:"path"`
	Port             types.Int64  `tfsdk:"port"`
	Command          types.String `tfsdk:"command"`
	Interval         types.String `tfsdk:"interval"`
	FailureThreshold types.Int64  `tfsdk:"failure_threshold"`
}

var healthCheckAttrTypes = map[string]attr.Type{
	"type":              types.StringType,
	"path":              types.StringType,
	"port":              types.Int64Type,
	"command":           types.StringType,
	"interval":          types.StringType,
	"failure_threshold": types.Int64Type,
}

type simModel struct {
	BootTime     types.String `tfsdk:"boot_time"`
	BootTimes    types.List   `tfsdk:"boot_times"`
	InitFailures types.Int64  `tfsdk:"init_failures"`
}

var simAttrTypes = map[string]attr.Type{
	"boot_time":     types.StringType,
	"boot_times":    types.ListType{ElemType: types.StringType},
	"init_failures": types.Int64Type,
}

type predictiveModel struct {
	Mode       types.String  `tfsdk:"mode"`
	History    types.String  `tfsdk:"history"`
	Interval   types.String  `tfsdk:"interval"`
	Confidence types.Float64 `tfsdk:"confidence"`
	MinHistory types.String  `tfsdk:"min_history"`
	Governs    types.List    `tfsdk:"governs"`
}

var predictiveAttrTypes = map[string]attr.Type{
	"mode":        types.StringType,
	"history":     types.StringType,
	"interval":    types.StringType,
	"confidence":  types.Float64Type,
	"min_history": types.StringType,
	"governs":     types.ListType{ElemType: types.StringType},
}

// asModel reads an object into a struct model. ok is false when the object
// is null or unknown (the model is then zero).
func asModel[T any](ctx context.Context, o types.Object, dst *T) (ok bool, diags diag.Diagnostics) {
	if o.IsNull() || o.IsUnknown() {
		return false, nil
	}
	if decodeAttributes(o.Attributes(), dst) == nil {
		return true, nil
	}
	diags = o.As(ctx, dst, basetypes.ObjectAsOptions{UnhandledNullAsEmpty: true, UnhandledUnknownAsEmpty: true})
	return !diags.HasError(), diags
}

// wireFrom reads a nested object into its model M and converts that to
// the wire value with wire; nil when the object is null or unknown.
func wireFrom[M, T any](ctx context.Context, o types.Object, wire func(M, context.Context) (T, diag.Diagnostics)) (*T, diag.Diagnostics) {
	var m M
	ok, diags := asModel(ctx, o, &m)
	if !ok {
		return nil, diags
	}
	v, d := wire(m, ctx)
	diags.Append(d...)
	return &v, diags
}

// objectOf builds a nested object from the values attrs returns; attrs
// gets the prior object's model (zero when prior is null), so the values
// can keep the user's spelling.
func objectOf[M any](prior types.Object, attrTypes map[string]attr.Type, attrs func(prior M) (map[string]attr.Value, diag.Diagnostics)) (types.Object, diag.Diagnostics) {
	var pm M
	_, diags := asModel(context.Background(), prior, &pm)
	vals, d := attrs(pm)
	diags.Append(d...)
	obj, d := types.ObjectValue(attrTypes, vals)
	diags.Append(d...)
	return obj, diags
}

func (m programModel) wire(ctx context.Context) (api.Program, diag.Diagnostics) {
	args, diags := listStrings(ctx, m.Args)
	env, d := mapStrings(ctx, m.Env)
	diags.Append(d...)
	return api.Program{Command: m.Command.ValueString(), Args: args, Env: env}, diags
}

// programFrom reads the program object; a null object is the empty
// program (sim groups run nothing).
func programFrom(ctx context.Context, o types.Object) (api.Program, diag.Diagnostics) {
	p, diags := wireFrom(ctx, o, programModel.wire)
	if p == nil {
		return api.Program{}, diags
	}
	return *p, diags
}

func programObject(prior types.Object, p api.Program) (types.Object, diag.Diagnostics) {
	if p.Command == "" && len(p.Args) == 0 && len(p.Env) == 0 && (prior.IsNull() || prior.IsUnknown()) {
		return types.ObjectNull(programAttrTypes), nil
	}
	return objectOf(prior, programAttrTypes, func(pm programModel) (map[string]attr.Value, diag.Diagnostics) {
		args, diags := stringList(pm.Args, p.Args)
		env, d := stringMap(pm.Env, p.Env)
		diags.Append(d...)
		return map[string]attr.Value{
			"command": keepString(pm.Command, p.Command),
			"args":    args,
			"env":     env,
		}, diags
	})
}

func (m healthCheckModel) wire(context.Context) (api.HealthCheck, diag.Diagnostics) {
	return api.HealthCheck{
		Type:             m.Type.ValueString(),
		Path:             m.Path.ValueString(),
		Port:             int(m.Port.ValueInt64()),
		Command:          m.Command.ValueString(),
		Interval:         m.Interval.ValueString(),
		FailureThreshold: int(m.FailureThreshold.ValueInt64()),
	}, nil
}

// healthCheckFrom reads the health_check object; nil when it is null.
func healthCheckFrom(ctx context.Context, o types.Object) (*api.HealthCheck, diag.Diagnostics) {
	return wireFrom(ctx, o, healthCheckModel.wire)
}

func healthCheckObject(prior types.Object, hc *api.HealthCheck) (types.Object, diag.Diagnostics) {
	if hc == nil {
		return types.ObjectNull(healthCheckAttrTypes), nil
	}
	return objectOf(prior, healthCheckAttrTypes, func(pm healthCheckModel) (map[string]attr.Value, diag.Diagnostics) {
		return map[string]attr.Value{
			"type":              types.StringValue(hc.Type),
			"path":              keepString(pm.Path, hc.Path),
			"port":              optInt(hc.Port),
			"command":           keepString(pm.Command, hc.Command),
			"interval":          keepDuration(pm.Interval, hc.Interval),
			"failure_threshold": types.Int64Value(int64(hc.FailureThreshold)),
		}, nil
	})
}

func (m simModel) wire(ctx context.Context) (api.SimConfig, diag.Diagnostics) {
	bt, diags := listStrings(ctx, m.BootTimes)
	return api.SimConfig{
		BootTime:     m.BootTime.ValueString(),
		BootTimes:    bt,
		InitFailures: int(m.InitFailures.ValueInt64()),
	}, diags
}

func simFrom(ctx context.Context, o types.Object) (*api.SimConfig, diag.Diagnostics) {
	return wireFrom(ctx, o, simModel.wire)
}

func simObject(prior types.Object, s *api.SimConfig) (types.Object, diag.Diagnostics) {
	if s == nil {
		return types.ObjectNull(simAttrTypes), nil
	}
	return objectOf(prior, simAttrTypes, func(pm simModel) (map[string]attr.Value, diag.Diagnostics) {
		bt, diags := stringList(pm.BootTimes, s.BootTimes)
		return map[string]attr.Value{
			"boot_time":     keepDuration(pm.BootTime, s.BootTime),
			"boot_times":    bt,
			"init_failures": types.Int64Value(int64(s.InitFailures)),
		}, diags
	})
}

func (m predictiveModel) wire(ctx context.Context) (api.Predictive, diag.Diagnostics) {
	gov, diags := listStrings(ctx, m.Governs)
	return api.Predictive{
		Mode:       m.Mode.ValueString(),
		History:    m.History.ValueString(),
		Interval:   m.Interval.ValueString(),
		Confidence: m.Confidence.ValueFloat64(),
		MinHistory: m.MinHistory.ValueString(),
		Governs:    gov,
	}, diags
}

func predictiveFrom(ctx context.Context, o types.Object) (*api.Predictive, diag.Diagnostics) {
	return wireFrom(ctx, o, predictiveModel.wire)
}

func predictiveObject(prior types.Object, p *api.Predictive) (types.Object, diag.Diagnostics) {
	// pesd cannot forget a predictive block once set (a PATCH without one
	// keeps it), so the provider sends mode "off" to remove it; read back,
	// a bare "off" is the same as no block.
	bare := p == nil || (p.Mode == api.PredictiveOff && p.History == "" && p.Interval == "" &&
		p.Confidence == 0 && p.MinHistory == "" && len(p.Governs) == 0)
	if bare && (prior.IsNull() || prior.IsUnknown()) {
		return types.ObjectNull(predictiveAttrTypes), nil
	}
	if p == nil {
		p = &api.Predictive{Mode: api.PredictiveOff}
	}
	return objectOf(prior, predictiveAttrTypes, func(pm predictiveModel) (map[string]attr.Value, diag.Diagnostics) {
		gov, diags := stringList(pm.Governs, p.Governs)
		conf := types.Float64Null()
		if p.Confidence != 0 {
			conf = types.Float64Value(p.Confidence)
		}
		return map[string]attr.Value{
			"mode":        types.StringValue(p.Mode),
			"history":     keepDuration(pm.History, p.History),
			"interval":    keepDuration(pm.Interval, p.Interval),
			"confidence":  conf,
			"min_history": keepDuration(pm.MinHistory, p.MinHistory),
			"governs":     gov,
		}, diags
	})
}
