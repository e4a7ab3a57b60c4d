package api

import (
	"fmt"
	"maps"
	"math"
	"net"
	"net/url"
	"strings"
	"time"
)

// Limits of the validators. They keep arithmetic on quantities far from
// overflow and a single request cheap to apply.
const (
	// MaxQuantityLimit bounds every quantity (max_quantity, set_to,
	// |change_by|).
	MaxQuantityLimit = 1_000_000
	// MaxSamplesPerRequest bounds POST /v1/groups/{id}/metrics.
	MaxSamplesPerRequest = 10_000
	// MinAggregationPeriod is the shortest aggregation period.
	MinAggregationPeriod = time.Second
	// MinHealthInterval is the shortest health check interval.
	MinHealthInterval = 100 * time.Millisecond
	// MaxHealthFailureThreshold bounds health_check.failure_threshold.
	MaxHealthFailureThreshold = 100
	// MaxNameLength bounds group and trigger names (a DNS label).
	MaxNameLength = 63
	// MaxTriggerFor bounds a trigger's for (as package trigger does).
	MaxTriggerFor = 24 * time.Hour
	// MaxMetricNameLength bounds pushed metric names.
	MaxMetricNameLength = 128
	// MaxTextLength bounds free text: a reason, an actor, a node id, a
	// label value. Such text is stored with every event it annotates.
	MaxTextLength = 1024
	// MaxSampleFuture is how far ahead of pesd's clock a sample's time
	// may be (clock skew between hosts); MaxSampleAge how far behind. An
	// older past belongs in POST /v1/groups/{id}/history.
	MaxSampleFuture = 5 * time.Minute
	MaxSampleAge    = 24 * time.Hour
)

// validateText bounds a free-text field.
func validateText(field, s string) error {
	if len(s) > MaxTextLength {
		return Invalid(field, "must be at most %d bytes; got %d", MaxTextLength, len(s))
	}
	return nil
}

// Invalid returns the 400 error for field (a JSON path such as
// "health_check.port" or "samples[3].value").
func Invalid(field, format string, args ...any) *Error {
	return &Error{
		Code:    CodeInvalid,
		Status:  400, // http.StatusBadRequest, without linking net/http into every package that validates
		Field:   field,
		Message: fmt.Sprintf(format, args...),
	}
}

// GroupCreate is the decode-time shadow of GroupConfig for POST /v1/groups.
// A plain GroupConfig cannot tell an omitted quantity from 0, so a create
// request is decoded into this struct, whose quantity fields are pointers
// and shadow those of the embedded GroupConfig (encoding/json prefers the
// shallower field). Resolve uses that to require desired_quantity, whose 0
// is a legal value. For min_quantity and max_quantity the distinction does
// not matter: 0 and omitted mean the same (see ResolveGroupConfig), which
// is also what a Go client sending a whole GroupConfig relies on.
//
// Actor names who creates the group (a user name, "terraform"), as an
// instruction's does; it goes into the group_created event, not into the
// group's configuration. When empty pesd records "api".
type GroupCreate struct {
	GroupConfig
	DesiredQuantity *int   `json:"desired_quantity"`
	MinQuantity     *int   `json:"min_quantity"`
	MaxQuantity     *int   `json:"max_quantity"`
	Actor           string `json:"actor,omitempty"`
}

// Resolve returns the validated config of a create request with every
// default applied. hostCPUs is the number of CPUs of pesd's host: a local
// group that gives no max_quantity gets DefaultLocalMaxQuantity(hostCPUs),
// and a desired quantity above it is told so.
func (c GroupCreate) Resolve(hostCPUs int) (GroupConfig, error) {
	cfg := c.GroupConfig
	if err := validateText("actor", c.Actor); err != nil {
		return cfg, err
	}
	if c.DesiredQuantity == nil {
		return cfg, Invalid("desired_quantity", "is required: the number of nodes the group should start with")
	}
	cfg.DesiredQuantity = *c.DesiredQuantity
	if c.MinQuantity != nil {
		cfg.MinQuantity = *c.MinQuantity
	}
	if c.MaxQuantity != nil {
		cfg.MaxQuantity = *c.MaxQuantity
	}
	hostSized := cfg.Driver == DriverLocal && cfg.MaxQuantity == 0
	if hostSized {
		cfg.MaxQuantity = DefaultLocalMaxQuantity(hostCPUs)
	}
	err := ResolveGroupConfig(&cfg)
	if e, ok := err.(*Error); ok && hostSized && (e.Field == "desired_quantity" || e.Field == "min_quantity") {
		err = Invalid(e.Field, "%s (max_quantity of a local group defaults to %d × the %d CPUs of pesd's host; set max_quantity to allow more)",
			e.Message, LocalMaxQuantityPerCPU, max(hostCPUs, 1))
	}
	return cfg, err
}

// ResolveGroupConfig applies the defaults (the api.Default* constants) to
// cfg in place and validates it. The first problem found is returned as an
// *Error naming the field.
//
// Zero values mean "omitted". For min_quantity that is harmless: its
// default is 0. A group can never have max_quantity 0 (a group that may
// hold no node is a deleted group; park one with desired and min 0), so
// MaxQuantity 0 means "omitted" and becomes DefaultMaxQuantity, on the wire
// as in Go. Only a patch, whose fields are pointers, can say max 0, and is
// told it must be at least 1. DesiredQuantity 0 is legal; that it is present
// in a create request is checked by GroupCreate.Resolve.
func ResolveGroupConfig(cfg *GroupConfig) error {
	return resolveGroupConfig(cfg, true)
}

// ApplyGroupPatch returns cur with the fields present in p applied, with
// defaults applied and validated. The name and the driver cannot change: a
// patch may repeat them unchanged (a provider sending the whole config)
// but not alter them. A new desired_quantity must lie within the merged
// bounds; without one, the live desired quantity of cur is left to the
// controller to clamp at the next harmonization, so tightening bounds never
// fails because triggers had moved it.
func ApplyGroupPatch(cur GroupConfig, p GroupPatch) (GroupConfig, error) {
	next := cloneResolved(cur)
	if err := validateText("reason", p.Reason); err != nil {
		return cur, err
	}
	if err := validateText("actor", p.Actor); err != nil {
		return cur, err
	}
	if p.Name != nil && *p.Name != cur.Name {
		return cur, Invalid("name", "cannot be changed (it is %q); create a new group instead", cur.Name)
	}
	if p.Driver != nil && *p.Driver != cur.Driver {
		return cur, Invalid("driver", "cannot be changed (it is %q); create a new group instead", cur.Driver)
	}
	if p.DesiredQuantity != nil {
		next.DesiredQuantity = *p.DesiredQuantity
	}
	if p.MinQuantity != nil {
		next.MinQuantity = *p.MinQuantity
	}
	if p.MaxQuantity != nil {
		if *p.MaxQuantity < 1 {
			return cur, Invalid("max_quantity", "must be at least 1; got %d", *p.MaxQuantity)
		}
		next.MaxQuantity = *p.MaxQuantity
	}
	setString(&next.AggregationPeriod, p.AggregationPeriod)
	setString(&next.AggregationPolicy, p.AggregationPolicy)
	setString(&next.Replacement, p.Replacement)
	setString(&next.ReplacementDeferWindow, p.ReplacementDeferWindow)
	setString(&next.InitDeadline, p.InitDeadline)
	setString(&next.Cooldown, p.Cooldown)
	setString(&next.TerminationPolicy, p.TerminationPolicy)
	if p.LockdownAfterRemoval != nil {
		v := *p.LockdownAfterRemoval
		next.LockdownAfterRemoval = &v
	}
	if p.HarmonizeAfterRequests != nil {
		next.HarmonizeAfterRequests = *p.HarmonizeAfterRequests
	}
	if p.InstructionsSilenceTriggers != nil {
		next.InstructionsSilenceTriggers = *p.InstructionsSilenceTriggers
	}
	if p.DecreasesOutrankIncreases != nil {
		next.DecreasesOutrankIncreases = *p.DecreasesOutrankIncreases
	}
	if p.HealthCheck != nil {
		hc := *p.HealthCheck
		next.HealthCheck = &hc
	}
	switch {
	case p.Labels == nil: // absent: unchanged
	case len(p.Labels) == 0: // {}: cleared
		next.Labels = nil
	default:
		next.Labels = maps.Clone(p.Labels)
	}
	if p.Program != nil {
		next.Program = *p.Program
	}
	if p.Sim != nil {
		sim := *p.Sim
		sim.BootTimes = append([]string(nil), sim.BootTimes...)
		next.Sim = &sim
	}
	if p.Kubernetes != nil {
		next.Kubernetes = CloneKubernetes(p.Kubernetes)
	}
	if p.Predictive != nil {
		pr := *p.Predictive
		next.Predictive = &pr
	}
	if p.Billing != nil {
		if *p.Billing == (Billing{}) {
			next.Billing = nil
		} else {
			b := *p.Billing
			next.Billing = &b
		}
	}
	switch {
	case p.MetricSources == nil: // absent: unchanged
	case len(p.MetricSources) == 0: // []: cleared
		next.MetricSources = nil
	default:
		next.MetricSources = cloneSources(p.MetricSources)
	}
	if err := resolveGroupConfig(&next, p.DesiredQuantity != nil); err != nil {
		return cur, err
	}
	return next, nil
}

// cloneResolved copies what resolving writes through (the pointed-to
// health check, sim and predictive configs), so resolving the copy leaves
// the original alone.
func cloneResolved(c GroupConfig) GroupConfig {
	if c.HealthCheck != nil {
		hc := *c.HealthCheck
		c.HealthCheck = &hc
	}
	if c.Sim != nil {
		sim := *c.Sim
		sim.BootTimes = append([]string(nil), sim.BootTimes...)
		c.Sim = &sim
	}
	if c.Predictive != nil {
		pr := *c.Predictive
		c.Predictive = &pr
	}
	c.Kubernetes = CloneKubernetes(c.Kubernetes)
	c.MetricSources = cloneSources(c.MetricSources)
	if c.Billing != nil {
		b := *c.Billing
		c.Billing = &b
	}
	if c.LockdownAfterRemoval != nil {
		v := *c.LockdownAfterRemoval
		c.LockdownAfterRemoval = &v
	}
	return c
}

func setString(dst *string, src *string) {
	if src != nil {
		*dst = *src
	}
}

func resolveGroupConfig(cfg *GroupConfig, checkDesired bool) error {
	if errs := groupConfigProblems(cfg, checkDesired); len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// GroupConfigProblems is ResolveGroupConfig reporting every problem
// rather than the first, so a plan shows all of them at once: one error
// (an *Error naming its field) for each part of the config that is wrong.
// The first is ResolveGroupConfig's error.
func GroupConfigProblems(cfg *GroupConfig) []error {
	return groupConfigProblems(cfg, true)
}

// groupConfigProblems checks the parts of cfg one after the other, each
// on its own (the first problem of a part is its problem), and applies the
// defaults. Only the driver's own block (sim, kubernetes) depends on
// another part: it is checked once the driver is known to be valid.
func groupConfigProblems(cfg *GroupConfig, checkDesired bool) []error {
	var errs []error
	check := func(err error) bool {
		if err != nil {
			errs = append(errs, err)
		}
		return err == nil
	}
	check(validateName("name", cfg.Name, true))
	driverOK := check(validateDriver(cfg.Driver))
	check(validateProgram(cfg))
	check(resolveQuantities(cfg, checkDesired))

	var d Durations
	for _, f := range durationFields(cfg, &d) {
		check(resolveDuration(f.field, f.value, f.def, f.min, f.dst))
	}

	enums := []struct {
		field   string
		value   *string
		def     string
		allowed []string
	}{
		{"aggregation_policy", &cfg.AggregationPolicy, DefaultAggregationPolicy, AggregationPolicies()},
		{"replacement", &cfg.Replacement, DefaultReplacement, ReplacementPolicies()},
		{"termination_policy", &cfg.TerminationPolicy, DefaultTerminationPolicy, TerminationPolicies()},
	}
	for _, e := range enums {
		check(resolveEnum(e.field, e.value, e.def, e.allowed))
	}
	if check(ResolveBilling(cfg.Billing)) && cfg.Billing == nil && cfg.TerminationPolicy == TerminateClosestToBillingBoundary {
		check(Invalid("termination_policy", "%s needs a billing block (it removes the nodes whose paid time ends soonest)", TerminateClosestToBillingBoundary))
	}

	check(resolveEngineOptions(&cfg.EngineOptions))
	check(resolveHealthCheck(cfg))
	if driverOK {
		check(resolveSim(cfg))
		check(ResolveKubernetes(cfg))
	}
	check(resolvePredictive(cfg.Predictive))
	check(validateMetricSources(cfg.MetricSources))
	for k := range cfg.Labels {
		if k == "" || len(k) > MaxMetricNameLength {
			check(Invalid("labels", "keys must be 1 to %d characters; got %q", MaxMetricNameLength, k))
			break
		}
		if err := validateText("labels."+k, cfg.Labels[k]); err != nil {
			check(err)
			break
		}
	}
	return errs
}

// resolveEngineOptions checks harmonize_after_requests and writes the
// default of lockdown_after_removal.
func resolveEngineOptions(o *EngineOptions) error {
	if o.LockdownAfterRemoval == nil {
		v := DefaultLockdownAfterRemoval
		o.LockdownAfterRemoval = &v
	}
	if n := o.HarmonizeAfterRequests; n < 0 || n > MaxHarmonizeAfterRequests {
		return Invalid("harmonize_after_requests", "must be 0 (off: harmonize on time only) to %d; got %d", MaxHarmonizeAfterRequests, n)
	}
	return nil
}

func validateDriver(driver string) error {
	if driver == "" {
		return Invalid("driver", "is required: one of %s", strings.Join(Drivers(), ", "))
	}
	return ValidateEnum("driver", driver, Drivers())
}

// Enumerations, in the order error messages list them. They are functions
// so no caller can change the rules for everyone by appending to a slice.

// AggregationPolicies lists the aggregation_policy values.
func AggregationPolicies() []string {
	return []string{PolicyLargest, PolicySmallest, PolicyAverage, PolicySum, PolicyPriority, PolicyFirst, PolicyLast}
}

// ReplacementPolicies lists the replacement values.
func ReplacementPolicies() []string {
	return []string{ReplacementImmediate, ReplacementDeferred, ReplacementAuto}
}

// TerminationPolicies lists the termination_policy values.
func TerminationPolicies() []string {
	return []string{TerminateNewest, TerminateOldest, TerminateClosestToBillingBoundary}
}

// Drivers lists the driver values.
func Drivers() []string { return []string{DriverLocal, DriverSim, DriverKubernetes} }

// HealthCheckTypes lists the health_check.type values.
func HealthCheckTypes() []string { return []string{HealthProcess, HealthHTTP, HealthTCP, HealthExec} }

// PredictiveModes lists the predictive.mode values.
func PredictiveModes() []string {
	return []string{PredictiveOff, PredictiveForecastOnly, PredictiveEnforce}
}

// PredictiveGoverns lists the predictive.governs values.
func PredictiveGoverns() []string { return []string{GovernTriggers, GovernInstructions} }

// EventTypes lists the event type values (the type filter of event lists).
func EventTypes() []string {
	return []string{EventGroupCreated, EventGroupDeleted, EventUserInstruction, EventTriggerFired,
		EventNodeInitFailed, EventNodeUnavailable, EventReplacementRequest, EventNodeTerminatedUser,
		EventMetricsMissing, EventMetricsReturned, EventOwnershipMoved, EventExecutionStarted, EventExecutionCompleted, EventExecutionSuspended,
		EventExecutionResumed, EventExecutionCancelled, EventJobFailed, EventJobRetried, EventJobRequeued,
		EventExecutionWarning, EventNotified}
}

// ChangeTypes lists the change type values (the type filter of change lists).
func ChangeTypes() []string { return []string{ChangeAddNodes, ChangeRemoveNodes, ChangeNodeLost} }

// ValidateEnum returns an *Error naming field unless v is one of allowed.
func ValidateEnum(field, v string, allowed []string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return Invalid(field, "must be one of %s; got %q", strings.Join(allowed, ", "), v)
}

func resolveEnum(field string, v *string, def string, allowed []string) error {
	if *v == "" {
		*v = def
	}
	return ValidateEnum(field, *v, allowed)
}

// ValidateGroupName reports whether name could name a group (a lowercase
// DNS label), so a reference that cannot is not looked up by name.
func ValidateGroupName(name string) error { return validateName("name", name, true) }

// validateName checks a group name: a lowercase DNS label, because names
// end up in hostnames, environment variables and log file names.
func validateName(field, name string, required bool) error {
	if name == "" {
		if required {
			return Invalid(field, "is required: 1 to %d characters of a-z, 0-9 and -", MaxNameLength)
		}
		return nil
	}
	if len(name) > MaxNameLength {
		return Invalid(field, "must be at most %d characters; got %d", MaxNameLength, len(name))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return Invalid(field, "must be a lowercase DNS label (a-z, 0-9 and -); got %q", name)
		}
	}
	if name[0] == '-' || name[len(name)-1] == '-' {
		return Invalid(field, "must start and end with a letter or digit; got %q", name)
	}
	return nil
}

func validateProgram(cfg *GroupConfig) error {
	// sim nodes run nothing, so only local groups need a command.
	if cfg.Driver == DriverLocal && strings.TrimSpace(cfg.Program.Command) == "" {
		return Invalid("program.command", "is required: the executable each node runs")
	}
	if strings.ContainsRune(cfg.Program.Command, 0) {
		return Invalid("program.command", "must not contain a NUL byte")
	}
	for i, a := range cfg.Program.Args {
		if strings.ContainsRune(a, 0) {
			return Invalid(fmt.Sprintf("program.args[%d]", i), "must not contain a NUL byte")
		}
	}
	for k, v := range cfg.Program.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return Invalid("program.env", "variable names must be non-empty and contain neither = nor NUL; got %q", k)
		}
		if strings.ContainsRune(v, 0) {
			return Invalid("program.env."+k, "must not contain a NUL byte")
		}
	}
	return nil
}

func resolveQuantities(cfg *GroupConfig, checkDesired bool) error {
	if cfg.MaxQuantity == 0 {
		cfg.MaxQuantity = DefaultMaxQuantity
	}
	switch {
	case cfg.MinQuantity < 0:
		return Invalid("min_quantity", "must not be negative; got %d", cfg.MinQuantity)
	case cfg.MaxQuantity < 0:
		return Invalid("max_quantity", "must not be negative; got %d", cfg.MaxQuantity)
	case cfg.MaxQuantity > MaxQuantityLimit:
		return Invalid("max_quantity", "must be at most %d; got %d", MaxQuantityLimit, cfg.MaxQuantity)
	case cfg.MinQuantity > cfg.MaxQuantity:
		return Invalid("min_quantity", "must be ≤ max_quantity (%d > %d)", cfg.MinQuantity, cfg.MaxQuantity)
	}
	if checkDesired && (cfg.DesiredQuantity < cfg.MinQuantity || cfg.DesiredQuantity > cfg.MaxQuantity) {
		return Invalid("desired_quantity", "must be between min_quantity %d and max_quantity %d; got %d",
			cfg.MinQuantity, cfg.MaxQuantity, cfg.DesiredQuantity)
	}
	return nil
}

func resolveHealthCheck(cfg *GroupConfig) error {
	if cfg.HealthCheck == nil {
		cfg.HealthCheck = &HealthCheck{}
	}
	hc := cfg.HealthCheck
	if err := resolveEnum("health_check.type", &hc.Type, HealthProcess, HealthCheckTypes()); err != nil {
		return err
	}
	if hc.Path != "" && hc.Type != HealthHTTP {
		return Invalid("health_check.path", "only applies to type http; this check is %s", hc.Type)
	}
	if hc.Port != 0 && hc.Type != HealthHTTP && hc.Type != HealthTCP {
		return Invalid("health_check.port", "only applies to types http and tcp; this check is %s", hc.Type)
	}
	if hc.Command != "" && hc.Type != HealthExec {
		return Invalid("health_check.command", "only applies to type exec; this check is %s", hc.Type)
	}
	if hc.Port < 0 || hc.Port > 65535 {
		return Invalid("health_check.port", "must be between 1 and 65535 (omit it to use the node's PES_PORT); got %d", hc.Port)
	}
	switch hc.Type {
	case HealthHTTP:
		if hc.Path == "" {
			hc.Path = "/"
		}
		if !strings.HasPrefix(hc.Path, "/") {
			return Invalid("health_check.path", "must start with /; got %q", hc.Path)
		}
	case HealthExec:
		if strings.TrimSpace(hc.Command) == "" {
			return Invalid("health_check.command", "is required for type exec")
		}
	}
	var interval time.Duration
	if err := resolveDuration("health_check.interval", &hc.Interval, DefaultHealthInterval, MinHealthInterval, &interval); err != nil {
		return err
	}
	if hc.FailureThreshold == 0 {
		hc.FailureThreshold = DefaultHealthFailureThreshold
	}
	if hc.FailureThreshold < 1 || hc.FailureThreshold > MaxHealthFailureThreshold {
		return Invalid("health_check.failure_threshold", "must be between 1 and %d; got %d", MaxHealthFailureThreshold, hc.FailureThreshold)
	}
	return nil
}

func resolveSim(cfg *GroupConfig) error {
	if cfg.Driver != DriverSim {
		if cfg.Sim != nil {
			return Invalid("sim", "only applies to driver sim; this group's driver is %s", cfg.Driver)
		}
		return nil
	}
	if cfg.Sim == nil {
		cfg.Sim = &SimConfig{}
	}
	s := cfg.Sim
	if _, err := parseSim(s, 0); err != nil {
		return err
	}
	if s.InitFailures < 0 {
		return Invalid("sim.init_failures", "must not be negative; got %d", s.InitFailures)
	}
	return nil
}

func resolvePredictive(p *Predictive) error {
	if p == nil {
		return nil
	}
	if err := resolveEnum("predictive.mode", &p.Mode, PredictiveOff, PredictiveModes()); err != nil {
		return err
	}
	if _, err := ParsePredictive(*p); err != nil {
		return err
	}
	if p.Confidence != 0 && !(p.Confidence > 0 && p.Confidence < 1) {
		return Invalid("predictive.confidence", "must be between 0 and 1 exclusive (e.g. 0.9); got %v", p.Confidence)
	}
	seen := map[string]bool{}
	for i, g := range p.Governs {
		field := fmt.Sprintf("predictive.governs[%d]", i)
		if err := ValidateEnum(field, g, PredictiveGoverns()); err != nil {
			return err
		}
		if seen[g] {
			return Invalid(field, "%q is listed twice", g)
		}
		seen[g] = true
	}
	return nil
}

// ValidateInstruction checks a user instruction and applies the default
// priority.
func ValidateInstruction(in *Instruction) error {
	if in.Target != nil {
		return Invalid("target", "is a trigger's request form: an instruction gives change_by, change_by_percent or set_to")
	}
	if err := validateRequest(in.Request, true); err != nil {
		return err
	}
	if err := validateText("reason", in.Reason); err != nil {
		return err
	}
	if err := validateText("actor", in.Actor); err != nil {
		return err
	}
	if in.Priority == nil {
		p := DefaultInstructionPriority
		in.Priority = &p
	}
	if *in.Priority < 0 {
		return Invalid("priority", "must not be negative; got %d", *in.Priority)
	}
	return nil
}

// validateRequest checks the request form: exactly one (required) or at
// most one (a patch) of change_by, change_by_percent, set_to and target,
// and applies a target's defaults.
func validateRequest(r Request, required bool) error {
	given := requestForms(r)
	switch {
	case len(given) == 0 && required:
		return Invalid("change_by", "one of change_by, change_by_percent or set_to is required")
	case len(given) > 1:
		return Invalid(given[1], "conflicts with %s: give exactly one of change_by, change_by_percent, set_to, target", given[0])
	}
	return checkRequestValues(r)
}

// requestForms names the request forms r gives.
func requestForms(r Request) []string {
	var given []string
	if r.Target != nil {
		given = append(given, "target")
	}
	if r.ChangeBy != nil {
		given = append(given, "change_by")
	}
	if r.ChangeByPercent != nil {
		given = append(given, "change_by_percent")
	}
	if r.SetTo != nil {
		given = append(given, "set_to")
	}
	return given
}

func checkRequestValues(r Request) error {
	if r.Target != nil {
		if err := resolveTarget(r.Target); err != nil {
			return err
		}
	}
	if v := r.ChangeBy; v != nil {
		if *v == 0 {
			return Invalid("change_by", "must not be 0: a request that changes nothing")
		}
		if *v > MaxQuantityLimit || *v < -MaxQuantityLimit {
			return Invalid("change_by", "must be between -%d and %d; got %d", MaxQuantityLimit, MaxQuantityLimit, *v)
		}
	}
	if v := r.ChangeByPercent; v != nil {
		switch {
		case math.IsNaN(*v) || math.IsInf(*v, 0):
			return Invalid("change_by_percent", "must be a finite number")
		case *v == 0:
			return Invalid("change_by_percent", "must not be 0: a request that changes nothing")
		case *v <= -100 || *v > 1000:
			return Invalid("change_by_percent", "must be greater than -100 and at most 1000; got %v", *v)
		}
	}
	if v := r.SetTo; v != nil && (*v < 0 || *v > MaxQuantityLimit) {
		return Invalid("set_to", "must be between 0 and %d; got %d", MaxQuantityLimit, *v)
	}
	return nil
}

// ValidateTriggerSpec checks a trigger body. On create, a name, a
// condition (unless the trigger has a schedule: a scheduled trigger without
// a condition fires at every tick) and exactly one request form are
// required, and the defaults are applied: priority DefaultTriggerPriority,
// enabled true, immediate false. On patch every field is optional, at most
// one request form may be given, and an empty for or schedule removes it.
//
// The condition and the schedule are only checked for presence here: their
// grammar belongs to package trigger (trigger.ParseTrigger), which pesd
// and the provider call on the merged trigger.
func ValidateTriggerSpec(spec *TriggerSpec, create bool) error {
	if errs := TriggerSpecProblems(spec, create); len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// TriggerSpecProblems is ValidateTriggerSpec reporting every problem (one
// per field) rather than the first, for a plan to show them all at once.
func TriggerSpecProblems(spec *TriggerSpec, create bool) []error {
	var errs []error
	check := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	switch {
	case create && spec.Name == nil:
		check(Invalid("name", "is required: 1 to %d characters of letters, digits, -, _ and .", MaxNameLength))
	case spec.Name != nil:
		check(validateTriggerName(*spec.Name))
	}
	hasSchedule := spec.Schedule != nil && strings.TrimSpace(*spec.Schedule) != ""
	if create && spec.Condition == nil && !hasSchedule && spec.Target == nil {
		check(Invalid("condition", "is required: an expression such as avg(cpu_utilization, '2m') > 80 (or give a schedule)"))
	}
	if spec.For != nil && strings.TrimSpace(*spec.For) != "" {
		d, err := ParseDuration(*spec.For)
		switch {
		case err != nil:
			check(Invalid("for", "%v", err))
		case d > MaxTriggerFor:
			check(Invalid("for", "must be at most %s; got %q", MaxTriggerFor, *spec.For))
		}
	}
	if spec.Notify != nil {
		check(validateNotify(*spec.Notify))
		check(validateRequest(spec.Request, false))
		if f := requestForms(spec.Request); len(f) > 0 {
			check(Invalid(f[0], "conflicts with notify: a notify trigger leaves the change to its receiver"))
		}
	} else {
		check(validateRequest(spec.Request, create))
	}
	if spec.Priority != nil && *spec.Priority < 0 {
		check(Invalid("priority", "must not be negative; got %d", *spec.Priority))
	}
	if len(errs) > 0 {
		return errs
	}
	if create {
		if spec.Priority == nil {
			p := DefaultTriggerPriority
			spec.Priority = &p
		}
		if spec.Enabled == nil {
			t := true
			spec.Enabled = &t
		}
		if spec.Immediate == nil {
			f := false
			spec.Immediate = &f
		}
	}
	return nil
}

// MaxTargetTolerance bounds target.tolerance: a band wider than ±100%
// could never leave the band on the low side.
const MaxTargetTolerance = 1.0

// resolveTarget checks a target and applies its defaults.
func resolveTarget(t *Target) error {
	if err := validateMetricName(func() string { return "target.metric" }, t.Metric); err != nil && !computedMetric(t.Metric) {
		return err
	}
	if math.IsNaN(t.Value) || math.IsInf(t.Value, 0) || t.Value <= 0 {
		return Invalid("target.value", "must be a finite number greater than 0 (the ratio observed/value is the scaling factor); got %v", t.Value)
	}
	if t.Tolerance == nil {
		tol := DefaultTargetTolerance
		t.Tolerance = &tol
	}
	if v := *t.Tolerance; math.IsNaN(v) || v < 0 || v >= MaxTargetTolerance {
		return Invalid("target.tolerance", "must be at least 0 and less than %v (0.1 is ±10%%); got %v", MaxTargetTolerance, v)
	}
	for _, f := range []struct {
		field string
		v     *string
		def   string
		least time.Duration
	}{
		{"target.window", &t.Window, DefaultTargetWindow, time.Second},
		{"target.scale_in_stabilization", &t.ScaleInStabilization, DefaultScaleInStabilization, 0},
	} {
		*f.v = strings.TrimSpace(*f.v)
		if *f.v == "" {
			*f.v = f.def
		}
		d, err := ParseDuration(*f.v)
		if err != nil {
			return Invalid(f.field, "%v", err)
		}
		if d < f.least || d > MaxTriggerFor {
			return Invalid(f.field, "must be between %s and %s; got %q", f.least, MaxTriggerFor, *f.v)
		}
	}
	return nil
}

// validateTriggerName is laxer than a group name: trigger names only appear
// in descriptions ("trigger cpu-high"), never in hostnames.
func validateTriggerName(name string) error {
	if name == "" || len(name) > MaxNameLength {
		return Invalid("name", "must be 1 to %d characters; got %d", MaxNameLength, len(name))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return Invalid("name", "must use only letters, digits, -, _ and .; got %q", name)
		}
	}
	return nil
}

// Metrics pesd computes itself; a pushed sample must not shadow them.
func computedMetric(name string) bool {
	switch name {
	case "nodes_ready", "nodes_desired", MetricJobsQueued, MetricJobsRunning:
		return true
	}
	return false
}

// ValidateSamples checks pushed metric samples: at least one and at most
// MaxSamplesPerRequest, each named like an identifier (conditions refer to
// metrics by name) with a finite value, and timed (when a time is given)
// within MaxSampleAge before now and MaxSampleFuture after it.
func ValidateSamples(samples []Sample, now time.Time) error {
	if len(samples) == 0 {
		return Invalid("samples", "must hold at least one sample")
	}
	if len(samples) > MaxSamplesPerRequest {
		return Invalid("samples", "must hold at most %d samples; got %d: send them in several requests", MaxSamplesPerRequest, len(samples))
	}
	for i, s := range samples {
		// The field is named only for an error: a push of 10,000 valid
		// samples formats nothing.
		if err := validateMetricName(func() string { return fmt.Sprintf("samples[%d].name", i) }, s.Name); err != nil {
			return err
		}
		if math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
			return Invalid(fmt.Sprintf("samples[%d].value", i), "must be a finite number")
		}
		if len(s.NodeID) > MaxTextLength {
			return validateText(fmt.Sprintf("samples[%d].node_id", i), s.NodeID)
		}
		if s.Time == nil {
			continue
		}
		t := *s.Time
		if !t.IsZero() && !t.After(now.Add(MaxSampleFuture)) && !t.Before(now.Add(-MaxSampleAge)) {
			continue
		}
		field := fmt.Sprintf("samples[%d].time", i)
		switch {
		case t.IsZero():
			return Invalid(field, "must be an RFC 3339 time, or omitted for now")
		case t.After(now.Add(MaxSampleFuture)):
			return Invalid(field, "must be at most %s after pesd's clock (%s); got %s", MaxSampleFuture, now.UTC().Format(time.RFC3339), t.Format(time.RFC3339))
		case t.Before(now.Add(-MaxSampleAge)):
			return Invalid(field, "must be at most %s before pesd's clock (%s); got %s: import an older past with POST /v1/groups/{id}/history",
				MaxSampleAge, now.UTC().Format(time.RFC3339), t.Format(time.RFC3339))
		}
	}
	return nil
}

func validateMetricName(field func() string, name string) error {
	if name == "" {
		return Invalid(field(), "is required")
	}
	if len(name) > MaxMetricNameLength {
		return Invalid(field(), "must be at most %d characters; got %d", MaxMetricNameLength, len(name))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return Invalid(field(), "must be a letter or _ followed by letters, digits or _ (conditions name metrics this way); got %q", name)
		}
	}
	if computedMetric(name) {
		return Invalid(field(), "%s is computed by pesd and cannot be pushed", name)
	}
	return nil
}

// MaxNotifySecret bounds a notify secret's length.
const MaxNotifySecret = 1024

// validateNotify checks a notify's form: an http or https URL with a host,
// and a secret. Whether pesd may reach the host is NotifyAllowed's.
func validateNotify(n Notify) error {
	u, err := url.Parse(strings.TrimSpace(n.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return Invalid("notify.url", "must be an http or https URL such as http://127.0.0.1:9000/pes; got %q", n.URL)
	}
	if n.Secret == "" || len(n.Secret) > MaxNotifySecret {
		return Invalid("notify.secret", "is required: 1 to %d characters, the key deliveries are signed with", MaxNotifySecret)
	}
	return nil
}

// NotifyAllowed checks that pesd may POST to rawURL: its host is a
// loopback address (or localhost) or one of allow (host names or IPs,
// compared without case), so a trigger cannot make pesd reach an
// arbitrary host. The error names notify.url.
func NotifyAllowed(rawURL string, allow []string) error {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || u.Hostname() == "" {
		return Invalid("notify.url", "must be an http or https URL; got %q", rawURL)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || strings.EqualFold(host, "localhost") {
		return nil
	}
	for _, a := range allow {
		if strings.EqualFold(strings.TrimSpace(a), host) {
			return nil
		}
	}
	return Invalid("notify.url", "host %q is neither loopback nor allowed: pesd serve --notify-allow lists the hosts triggers may notify", host)
}
