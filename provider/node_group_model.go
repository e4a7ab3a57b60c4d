package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// The nested objects of a node group, as Terraform values. They are
// types.Object in the models (not Go structs) because any part of them may
// be unknown at plan time.

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
	diags = o.As(ctx, dst, basetypes.ObjectAsOptions{UnhandledNullAsEmpty: true, UnhandledUnknownAsEmpty: true})
	return !diags.HasError(), diags
}

// programFrom reads the program object; a null object is the empty
// program (sim groups run nothing).
func programFrom(ctx context.Context, o types.Object) (api.Program, diag.Diagnostics) {
	var m programModel
	ok, diags := asModel(ctx, o, &m)
	if !ok {
		return api.Program{}, diags
	}
	args, d := listStrings(ctx, m.Args)
	diags.Append(d...)
	env, d := mapStrings(ctx, m.Env)
	diags.Append(d...)
	return api.Program{Command: m.Command.ValueString(), Args: args, Env: env}, diags
}

func programObject(prior types.Object, p api.Program) (types.Object, diag.Diagnostics) {
	if p.Command == "" && len(p.Args) == 0 && len(p.Env) == 0 && (prior.IsNull() || prior.IsUnknown()) {
		return types.ObjectNull(programAttrTypes), nil
	}
	var pm programModel
	_, diags := asModel(context.Background(), prior, &pm)
	args, d := stringList(pm.Args, p.Args)
	diags.Append(d...)
	env, d := stringMap(pm.Env, p.Env)
	diags.Append(d...)
	obj, d := types.ObjectValue(programAttrTypes, map[string]attr.Value{
		"command": keepString(pm.Command, p.Command),
		"args":    args,
		"env":     env,
	})
	diags.Append(d...)
	return obj, diags
}

// healthCheckFrom reads the health_check object; nil when it is null.
func healthCheckFrom(ctx context.Context, o types.Object) (*api.HealthCheck, diag.Diagnostics) {
	var m healthCheckModel
	ok, diags := asModel(ctx, o, &m)
	if !ok {
		return nil, diags
	}
	return &api.HealthCheck{
		Type:             m.Type.ValueString(),
		Path:             m.Path.ValueString(),
		Port:             int(m.Port.ValueInt64()),
		Command:          m.Command.ValueString(),
		Interval:         m.Interval.ValueString(),
		FailureThreshold: int(m.FailureThreshold.ValueInt64()),
	}, diags
}

func healthCheckObject(prior types.Object, hc *api.HealthCheck) (types.Object, diag.Diagnostics) {
	if hc == nil {
		return types.ObjectNull(healthCheckAttrTypes), nil
	}
	var pm healthCheckModel
	_, diags := asModel(context.Background(), prior, &pm)
	obj, d := types.ObjectValue(healthCheckAttrTypes, map[string]attr.Value{
		"type":              types.StringValue(hc.Type),
		"path":              keepString(pm.Path, hc.Path),
		"port":              optInt(hc.Port),
		"command":           keepString(pm.Command, hc.Command),
		"interval":          keepDuration(pm.Interval, hc.Interval),
		"failure_threshold": types.Int64Value(int64(hc.FailureThreshold)),
	})
	diags.Append(d...)
	return obj, diags
}

func simFrom(ctx context.Context, o types.Object) (*api.SimConfig, diag.Diagnostics) {
	var m simModel
	ok, diags := asModel(ctx, o, &m)
	if !ok {
		return nil, diags
	}
	bt, d := listStrings(ctx, m.BootTimes)
	diags.Append(d...)
	return &api.SimConfig{
		BootTime:     m.BootTime.ValueString(),
		BootTimes:    bt,
		InitFailures: int(m.InitFailures.ValueInt64()),
	}, diags
}

func simObject(prior types.Object, s *api.SimConfig) (types.Object, diag.Diagnostics) {
	if s == nil {
		return types.ObjectNull(simAttrTypes), nil
	}
	var pm simModel
	_, diags := asModel(context.Background(), prior, &pm)
	bt, d := stringList(pm.BootTimes, s.BootTimes)
	diags.Append(d...)
	obj, d := types.ObjectValue(simAttrTypes, map[string]attr.Value{
		"boot_time":     keepDuration(pm.BootTime, s.BootTime),
		"boot_times":    bt,
		"init_failures": types.Int64Value(int64(s.InitFailures)),
	})
	diags.Append(d...)
	return obj, diags
}

func predictiveFrom(ctx context.Context, o types.Object) (*api.Predictive, diag.Diagnostics) {
	var m predictiveModel
	ok, diags := asModel(ctx, o, &m)
	if !ok {
		return nil, diags
	}
	gov, d := listStrings(ctx, m.Governs)
	diags.Append(d...)
	return &api.Predictive{
		Mode:       m.Mode.ValueString(),
		History:    m.History.ValueString(),
		Interval:   m.Interval.ValueString(),
		Confidence: m.Confidence.ValueFloat64(),
		MinHistory: m.MinHistory.ValueString(),
		Governs:    gov,
	}, diags
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
	var pm predictiveModel
	_, diags := asModel(context.Background(), prior, &pm)
	gov, d := stringList(pm.Governs, p.Governs)
	diags.Append(d...)
	conf := types.Float64Null()
	if p.Confidence != 0 {
		conf = types.Float64Value(p.Confidence)
	}
	obj, d := types.ObjectValue(predictiveAttrTypes, map[string]attr.Value{
		"mode":        types.StringValue(p.Mode),
		"history":     keepDuration(pm.History, p.History),
		"interval":    keepDuration(pm.Interval, p.Interval),
		"confidence":  conf,
		"min_history": keepDuration(pm.MinHistory, p.MinHistory),
		"governs":     gov,
	})
	diags.Append(d...)
	return obj, diags
}
