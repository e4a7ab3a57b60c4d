package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// durationValidator accepts what pesd accepts: api.ParseDuration.
type durationValidator struct{}

func (durationValidator) Description(context.Context) string {
	return `a duration such as "90s", "5m" or "1h30m"`
}

func (v durationValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (durationValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := api.ParseDuration(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration",
			fmt.Sprintf("%s: %v; got %q.", req.Path, err, req.ConfigValue.ValueString()))
	}
}

// timeValidator accepts RFC 3339 times, as the API's since/until filters do.
type timeValidator struct{}

func (timeValidator) Description(context.Context) string {
	return `an RFC 3339 time such as "2026-01-02T15:04:05Z"`
}

func (v timeValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (timeValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := time.Parse(time.RFC3339Nano, req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid time",
			fmt.Sprintf("%s: not an RFC 3339 time such as \"2026-01-02T15:04:05Z\"; got %q.", req.Path, req.ConfigValue.ValueString()))
	}
}

// validDuration returns v when it is a known, well-formed duration, else
// "" (the default).
func validDuration(v types.String) string {
	if v.IsNull() || v.IsUnknown() {
		return ""
	}
	if _, err := api.ParseDuration(v.ValueString()); err != nil {
		return ""
	}
	return v.ValueString()
}

// validEnum returns v when it is known and one of allowed, else "" (the
// default): attribute validators report bad values.
func validEnum(v types.String, allowed []string) string {
	if v.IsNull() || v.IsUnknown() || api.ValidateEnum("", v.ValueString(), allowed) != nil {
		return ""
	}
	return v.ValueString()
}

// validationConfig builds the group config ValidateConfig hands to
// api.ResolveGroupConfig. Unknown values and values an attribute validator
// already rejects are replaced by values that pass, so the cross-field
// rules are checked once, on what is known. ok is false when too little is
// known to check anything.
func validationConfig(ctx context.Context, m nodeGroupModel) (cfg api.GroupConfig, ok bool) {
	driver := validEnum(m.Driver, api.Drivers())
	if driver == "" {
		return cfg, false
	}
	cfg.Driver = driver
	cfg.Name = "placeholder"
	if !m.Name.IsNull() && !m.Name.IsUnknown() {
		cfg.Name = m.Name.ValueString()
	}

	if m.Program.IsUnknown() {
		cfg.Program.Command = "placeholder"
	} else if !m.Program.IsNull() {
		var pm programModel
		if _, d := asModel(ctx, m.Program, &pm); d.HasError() {
			return cfg, false
		}
		cfg.Program.Command = pm.Command.ValueString()
		if pm.Command.IsUnknown() {
			cfg.Program.Command = "placeholder"
		}
		cfg.Program.Args, _ = listStrings(ctx, pm.Args)
		cfg.Program.Env, _ = mapStrings(ctx, pm.Env)
	}

	// Quantities: an unknown bound is as loose as it can be and an unknown
	// desired quantity sits on the lower bound, so only known values can
	// conflict.
	if !m.MinQuantity.IsUnknown() {
		cfg.MinQuantity = int(m.MinQuantity.ValueInt64())
	}
	cfg.MaxQuantity = api.MaxQuantityLimit
	if !m.MaxQuantity.IsUnknown() {
		cfg.MaxQuantity = int(m.MaxQuantity.ValueInt64()) // null: 0, the default
	}
	// Out-of-range values are the attribute validators' to report.
	if cfg.MinQuantity < 0 || cfg.MinQuantity > api.MaxQuantityLimit {
		cfg.MinQuantity = 0
	}
	if cfg.MaxQuantity < 0 || cfg.MaxQuantity > api.MaxQuantityLimit {
		cfg.MaxQuantity = api.MaxQuantityLimit
	}
	cfg.DesiredQuantity = cfg.MinQuantity
	if d := m.DesiredQuantity; !d.IsUnknown() && !d.IsNull() && d.ValueInt64() >= 0 && d.ValueInt64() <= api.MaxQuantityLimit {
		cfg.DesiredQuantity = int(d.ValueInt64())
	}

	cfg.AggregationPeriod = validDuration(m.AggregationPeriod)
	cfg.ReplacementDeferWindow = validDuration(m.ReplacementDeferWindow)
	cfg.InitDeadline = validDuration(m.InitDeadline)
	cfg.Cooldown = validDuration(m.Cooldown)
	cfg.AggregationPolicy = validEnum(m.AggregationPolicy, api.AggregationPolicies())
	cfg.Replacement = validEnum(m.Replacement, api.ReplacementPolicies())
	cfg.TerminationPolicy = validEnum(m.TerminationPolicy, api.TerminationPolicies())

	if !m.HealthCheck.IsNull() && !m.HealthCheck.IsUnknown() {
		var hm healthCheckModel
		if _, d := asModel(ctx, m.HealthCheck, &hm); !d.HasError() {
			if t := validEnum(hm.Type, api.HealthCheckTypes()); t != "" {
				hc := &api.HealthCheck{
					Type:             t,
					Path:             hm.Path.ValueString(),
					Port:             int(hm.Port.ValueInt64()),
					Command:          hm.Command.ValueString(),
					Interval:         validDuration(hm.Interval),
					FailureThreshold: int(hm.FailureThreshold.ValueInt64()),
				}
				if hm.Command.IsUnknown() && t == api.HealthExec {
					hc.Command = "placeholder"
				}
				if hc.Port < 0 || hc.Port > 65535 {
					hc.Port = 0
				}
				if hc.FailureThreshold < 0 || hc.FailureThreshold > api.MaxHealthFailureThreshold {
					hc.FailureThreshold = 0
				}
				cfg.HealthCheck = hc
			}
		}
	}

	if m.Labels.IsUnknown() {
		cfg.Labels = nil
	} else {
		cfg.Labels, _ = mapStrings(ctx, m.Labels)
	}

	if !m.Sim.IsNull() && !m.Sim.IsUnknown() {
		var sm simModel
		if _, d := asModel(ctx, m.Sim, &sm); !d.HasError() {
			s := &api.SimConfig{BootTime: validDuration(sm.BootTime)}
			if n := sm.InitFailures.ValueInt64(); n > 0 {
				s.InitFailures = int(n)
			}
			cfg.Sim = s
		}
	}

	if !m.Predictive.IsNull() && !m.Predictive.IsUnknown() {
		var pm predictiveModel
		if _, d := asModel(ctx, m.Predictive, &pm); !d.HasError() {
			p := &api.Predictive{
				Mode:       validEnum(pm.Mode, api.PredictiveModes()),
				History:    validDuration(pm.History),
				Interval:   validDuration(pm.Interval),
				MinHistory: validDuration(pm.MinHistory),
			}
			if c := pm.Confidence.ValueFloat64(); c > 0 && c < 1 {
				p.Confidence = c
			}
			gov, _ := listStrings(ctx, pm.Governs)
			for _, g := range gov {
				if api.ValidateEnum("", g, api.PredictiveGoverns()) == nil {
					p.Governs = append(p.Governs, g)
				}
			}
			cfg.Predictive = p
		}
	}
	return cfg, true
}
