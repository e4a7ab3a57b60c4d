package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

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

// validationConfig is the create body groupConfig builds from m, made
// checkable at plan time, for ValidateConfig to hand to
// api.GroupConfigProblems. Unknown values read as null there (pesd's
// default); those a default would misjudge, and values an attribute
// validator already rejects, are replaced by values that pass, so the
// cross-field rules are checked once, on what is known. ok is false when
// too little is known to check anything.
func validationConfig(ctx context.Context, m nodeGroupModel) (cfg api.GroupConfig, ok bool) {
	// Lists and maps with unknown elements do not convert; what did is
	// enough to check, and the rest is checked at apply.
	cfg, _ = m.groupConfig(ctx)
	if !metricSourcesKnown(m.MetricSources) {
		cfg.MetricSources = nil // checked at apply
	}
	// An unknown driver, or one its validator reports, hides nothing
	// else (all errors in one plan): sim stands in, the driver that
	// requires nothing of the other attributes, and the driver's own
	// blocks (sim, kubernetes) are left for when the driver is known.
	standIn := knownEnum(cfg.Driver, api.Drivers()) == ""
	if standIn {
		cfg.Driver = api.DriverSim
	}

	if m.Name.IsNull() || m.Name.IsUnknown() {
		cfg.Name = "placeholder"
	}
	if m.Program.IsUnknown() {
		cfg.Program.Command = "placeholder"
	} else if !m.Program.IsNull() {
		var pm programModel
		if _, d := asModel(ctx, m.Program, &pm); d.HasError() {
			return cfg, false
		}
		if pm.Command.IsUnknown() {
			cfg.Program.Command = "placeholder"
		}
	}

	// Quantities: an unknown bound is as loose as it can be and an unknown
	// desired quantity sits on the lower bound, so only known values can
	// conflict. Out-of-range values are the attribute validators' to
	// report.
	// Unset, pesd sizes a local group's bound to its own host, which the
	// plan cannot see: only the apply can tell desired is above it.
	if m.MaxQuantity.IsUnknown() || (m.MaxQuantity.IsNull() && (standIn || cfg.Driver == api.DriverLocal)) {
		cfg.MaxQuantity = api.MaxQuantityLimit
	}
	if cfg.MinQuantity < 0 || cfg.MinQuantity > api.MaxQuantityLimit {
		cfg.MinQuantity = 0
	}
	if cfg.MaxQuantity < 0 || cfg.MaxQuantity > api.MaxQuantityLimit {
		cfg.MaxQuantity = api.MaxQuantityLimit
	}
	if d := m.DesiredQuantity; d.IsUnknown() || d.IsNull() || cfg.DesiredQuantity < 0 || cfg.DesiredQuantity > api.MaxQuantityLimit {
		cfg.DesiredQuantity = cfg.MinQuantity
	}

	for _, d := range []*string{&cfg.AggregationPeriod, &cfg.ReplacementDeferWindow, &cfg.InitDeadline, &cfg.Cooldown} {
		*d = knownDuration(*d)
	}
	cfg.AggregationPolicy = knownEnum(cfg.AggregationPolicy, api.AggregationPolicies())
	cfg.Replacement = knownEnum(cfg.Replacement, api.ReplacementPolicies())
	cfg.TerminationPolicy = knownEnum(cfg.TerminationPolicy, api.TerminationPolicies())

	if hc := cfg.HealthCheck; hc != nil {
		// Which fields apply depends on the type: without a known one
		// there is nothing to check.
		if knownEnum(hc.Type, api.HealthCheckTypes()) == "" {
			cfg.HealthCheck = nil
		} else {
			var hm healthCheckModel
			asModel(ctx, m.HealthCheck, &hm)
			if hm.Command.IsUnknown() && hc.Type == api.HealthExec {
				hc.Command = "placeholder"
			}
			if hc.Port < 0 || hc.Port > 65535 {
				hc.Port = 0
			}
			if hc.FailureThreshold < 0 || hc.FailureThreshold > api.MaxHealthFailureThreshold {
				hc.FailureThreshold = 0
			}
			hc.Interval = knownDuration(hc.Interval)
		}
	}

	validationKubernetes(ctx, m.Kubernetes, &cfg)
	if standIn {
		cfg.Sim, cfg.Kubernetes = nil, nil
	}

	if s := cfg.Sim; s != nil {
		s.BootTime = knownDuration(s.BootTime)
		for i := range s.BootTimes {
			s.BootTimes[i] = knownDuration(s.BootTimes[i])
		}
		s.InitFailures = max(s.InitFailures, 0)
	}

	if p := cfg.Predictive; p != nil {
		p.Mode = knownEnum(p.Mode, api.PredictiveModes())
		p.History, p.Interval, p.MinHistory = knownDuration(p.History), knownDuration(p.Interval), knownDuration(p.MinHistory)
		if !(p.Confidence > 0 && p.Confidence < 1) {
			p.Confidence = 0
		}
		var gov []string
		for _, g := range p.Governs {
			if knownEnum(g, api.PredictiveGoverns()) != "" {
				gov = append(gov, g)
			}
		}
		p.Governs = gov
	}
	return cfg, true
}

// knownDuration returns s when it is a well-formed duration, else "" (the
// default): its attribute validator reports a bad one.
func knownDuration(s string) string {
	if _, err := api.ParseDuration(s); err != nil {
		return ""
	}
	return s
}

// knownEnum returns s when it is one of allowed, else "" (the default):
// its attribute validator reports a bad one.
func knownEnum(s string, allowed []string) string {
	if api.ValidateEnum("", s, allowed) != nil {
		return ""
	}
	return s
}
