package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
)

// Defaults of the wait for capacity.
const (
	defaultCapacityTimeout = 10 * time.Minute
	// capacityLogEvery bounds one long poll of the wait, so a long wait
	// logs its progress at least this often.
	capacityLogEvery = 10 * time.Second
	// capacityPollInterval paces the wait against a pesd without the
	// long poll.
	capacityPollInterval = 500 * time.Millisecond
	// eventsInTimeoutDetail is how many of the group's latest events a
	// capacity timeout shows, enough to see why nodes are not ready.
	eventsInTimeoutDetail = 10
)

var (
	_ resource.Resource                   = (*nodeGroupResource)(nil)
	_ resource.ResourceWithConfigure      = (*nodeGroupResource)(nil)
	_ resource.ResourceWithImportState    = (*nodeGroupResource)(nil)
	_ resource.ResourceWithValidateConfig = (*nodeGroupResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*nodeGroupResource)(nil)
)

func newNodeGroupResource() resource.Resource { return &nodeGroupResource{} }

type nodeGroupResource struct {
	resourceClient
}

// nodeGroupModel is the resource: the fields it shares with the data
// source, and how Terraform waits for capacity.
type nodeGroupModel struct {
	nodeGroupFields
	WaitForCapacity        types.Bool     `tfsdk:"wait_for_capacity"`
	CurrentDesiredQuantity types.Int64    `tfsdk:"current_desired_quantity"`
	Timeouts               timeouts.Value `tfsdk:"timeouts"`
}

func (r *nodeGroupResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_node_group"
}

func (r *nodeGroupResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	defaultHealth, _ := types.ObjectValue(healthCheckAttrTypes, map[string]attr.Value{
		"type":              types.StringValue(api.HealthProcess),
		"path":              types.StringNull(),
		"port":              types.Int64Null(),
		"command":           types.StringNull(),
		"interval":          types.StringValue(api.DefaultHealthInterval),
		"failure_threshold": types.Int64Value(api.DefaultHealthFailureThreshold),
	})

	resp.Schema = schema.Schema{
		MarkdownDescription: "A node group: a set of nodes running one program, resized by " +
			"[`pes_trigger`](trigger.md) and instructions, with every capacity change recorded with its causes.\n\n" +
			"`desired_quantity` is the *declared* quantity. Triggers move the live desired quantity " +
			"(`current_desired_quantity`) without producing a diff on the next plan; changing " +
			"`desired_quantity` in the configuration sends a user instruction (`set_to`, immediate) " +
			"that shows in the causality record as a user event from `terraform`.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "ID of the group (a UUID).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the group: a lowercase DNS label (a-z, 0-9 and `-`, at most 63 characters). Changing it replaces the group.",
				Required:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"tenant": schema.StringAttribute{
				MarkdownDescription: "Tenant the group belongs to. Unset, the tenant of the provider's token (`default` for an admin token); " +
					"only an admin token may name one, and a token of another tenant never sees the group. Changing it replaces the group.",
				Optional: true,
				Computed: true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplaceIfConfigured(),
					stringplanmodifier.UseStateForUnknown()},
			},
			"driver": schema.StringAttribute{
				MarkdownDescription: "What runs the nodes: `local` (OS processes on pesd's machine), `sim` (virtual nodes for tests, demos and what-if runs) or `kubernetes` (one pod per node on pesd's cluster, see `kubernetes`). Changing it replaces the group.",
				Required:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{stringvalidator.OneOf(api.Drivers()...)},
			},
			"program": schema.SingleNestedAttribute{
				MarkdownDescription: "The program every node runs. Required for the `local` driver; `sim` nodes run nothing. " +
					"Each node gets `PES_PORT` (a free port), `PES_NODE_ID` and `PES_GROUP` in its environment; " +
					"write `$${PES_PORT}` in Terraform to pass a literal `${PES_PORT}` for pesd to expand.",
				Optional: true,
				Attributes: map[string]schema.Attribute{
					"command": schema.StringAttribute{
						MarkdownDescription: "Executable to run, looked up in pesd's `PATH`.",
						Required:            true,
					},
					"args": schema.ListAttribute{
						MarkdownDescription: "Arguments. `${PES_PORT}` and the other `PES_` variables are expanded by pesd.",
						Optional:            true,
						ElementType:         types.StringType,
					},
					"env": schema.MapAttribute{
						MarkdownDescription: "Extra environment variables.",
						Optional:            true,
						ElementType:         types.StringType,
					},
				},
			},
			"desired_quantity": schema.Int64Attribute{
				MarkdownDescription: "Declared number of nodes. Sent at creation and, when changed here, as an immediate " +
					"user instruction `set_to` from `terraform`. Triggers moving the live quantity do not change it " +
					"(see `current_desired_quantity`). Must lie within `min_quantity` and `max_quantity`.",
				Required:   true,
				Validators: []validator.Int64{int64validator.Between(0, api.MaxQuantityLimit)},
			},
			"min_quantity": defaultedInt("Lower bound of the desired quantity; every aggregated request is clamped to it.",
				api.DefaultMinQuantity, int64validator.Between(0, api.MaxQuantityLimit)),
			"max_quantity": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Upper bound of the desired quantity; every aggregated request is clamped to it. "+
					"Unset, pesd chooses: %d × the number of CPUs of pesd's host for `local` groups (their nodes are processes "+
					"on that machine, so a mistaken instruction cannot start hundreds of them), `%d` for other drivers. "+
					"The value chosen is kept in the state; removing the attribute later keeps it.",
					api.LocalMaxQuantityPerCPU, api.DefaultMaxQuantity),
				Optional: true,
				Computed: true,
				// Known after the first apply, then the same on every plan:
				// no diff for a value pesd chose.
				PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
				Validators:    []validator.Int64{int64validator.Between(1, api.MaxQuantityLimit)},
			},
			"aggregation_period": defaultedDuration("Length of an aggregation period (a duration such as `60s`, at least `1s`). "+
				"Requests that are not immediate are collected during the period and combined at its end, the *harmonization*.",
				api.DefaultAggregationPeriod),
			"aggregation_policy": defaultedString("How a period's requests combine into one desired quantity: `largest` (the largest proposal), "+
				"`smallest`, `average` (rounded mean), `sum` (prior desired plus every delta), `priority` (the "+
				"highest-priority request, ties to the latest), `first` or `last`.",
				api.DefaultAggregationPolicy, stringvalidator.OneOf(api.AggregationPolicies()...)),
			"replacement": defaultedString("When a failed node is replaced: `immediate`, `deferred` (at the next harmonization) or `auto` "+
				"(deferred when the next harmonization is within `replacement_defer_window`, since it may shrink the group anyway).",
				api.DefaultReplacement, stringvalidator.OneOf(api.ReplacementPolicies()...)),
			"replacement_defer_window": defaultedDuration("With `replacement = \"auto\"`, how close the next harmonization must be for a replacement to wait for it.",
				api.DefaultReplacementDeferWindow),
			"init_deadline": defaultedDuration("How long a launching node may take to become ready before it counts as failed to initialize (at least `1s`).",
				api.DefaultInitDeadline),
			"cooldown": defaultedDuration("Quiet time after a scale-out's lockdown ends. Trigger firings during lockdown or cooldown are recorded as suppressed events, so \"why did it not scale?\" has an answer.",
				api.DefaultCooldown),
			"termination_policy": defaultedString("Which ready nodes go first on scale-in, after failed and unready ones: `newest`, `oldest`, or `closest_to_billing_boundary` (the nodes whose paid increment ends soonest; needs `billing`).",
				api.DefaultTerminationPolicy, stringvalidator.OneOf(api.TerminationPolicies()...)),
			"lockdown_after_removal": defaultedBool("Lock the group down while a removal's nodes are terminating, as a scale-out does while its "+
				"nodes launch: trigger firings until the removed nodes are gone are recorded as suppressed, with that reason.",
				api.DefaultLockdownAfterRemoval),
			"harmonize_after_requests": defaultedInt(fmt.Sprintf("Harmonize early once this many requests (instructions and trigger "+
				"firings that are not immediate) wait in the period, instead of waiting for `aggregation_period` to end; the "+
				"period's decision record says it ended early. `0` (up to `%d`) harmonizes on time only.", api.MaxHarmonizeAfterRequests),
				0, int64validator.Between(0, api.MaxHarmonizeAfterRequests)),
			"instructions_silence_triggers": defaultedBool("A user instruction in a period overrides that period's trigger firings: they "+
				"are recorded as `ignored` with that reason, before and after the instruction, and the decision record lists them.",
				false),
			"decreases_outrank_increases": defaultedBool("When a period has requests to shrink the group, its requests to grow it are set "+
				"aside (marked `outranked` in the decision record) and `aggregation_policy` combines the decreases only.",
				false),
			"health_check": schema.SingleNestedAttribute{
				MarkdownDescription: "How a node is judged ready and alive. Defaults to a `process` check (the process is alive).",
				Optional:            true,
				Computed:            true,
				Default:             objectdefault.StaticValue(defaultHealth),
				Attributes: map[string]schema.Attribute{
					"type": schema.StringAttribute{
						MarkdownDescription: "`process` (alive), `http` (a 2xx/3xx answer on `path`), `tcp` (the port accepts connections) or `exec` (`command` exits 0).",
						Required:            true,
						Validators:          []validator.String{stringvalidator.OneOf(api.HealthCheckTypes()...)},
					},
					"path": schema.StringAttribute{
						MarkdownDescription: "`http` only: the path to GET. Defaults to `/` for `http`.",
						Optional:            true,
						Computed:            true,
					},
					"port": schema.Int64Attribute{
						MarkdownDescription: "`http` and `tcp` only: the port to probe; unset, the node's `PES_PORT`.",
						Optional:            true,
						Validators:          []validator.Int64{int64validator.Between(1, 65535)},
					},
					"command": schema.StringAttribute{
						MarkdownDescription: "`exec` only: a shell command that exits 0 when the node is healthy.",
						Optional:            true,
					},
					"interval": defaultedDuration("Time between checks (at least `100ms`).", api.DefaultHealthInterval),
					"failure_threshold": defaultedInt("Consecutive failed checks after which a ready node is unavailable.",
						api.DefaultHealthFailureThreshold, int64validator.Between(1, api.MaxHealthFailureThreshold)),
				},
			},
			"labels": schema.MapAttribute{
				MarkdownDescription: "Free-form labels kept with the group. Removing some or all of them here removes them in pesd.",
				Optional:            true,
				ElementType:         types.StringType,
			},
			"sim": schema.SingleNestedAttribute{
				MarkdownDescription: "`sim` driver only: how the virtual nodes behave. Filled with the defaults for `sim` groups.",
				Optional:            true,
				Computed:            true,
				Attributes: map[string]schema.Attribute{
					"boot_time": defaultedDuration("How long a virtual node takes to become ready.", api.DefaultSimBootTime),
					"boot_times": schema.ListAttribute{
						MarkdownDescription: "Boot times of the first launches, in order (later launches use `boot_time`), so nodes become ready at different moments.",
						Optional:            true,
						ElementType:         types.StringType,
						Validators:          []validator.List{listvalidator.ValueStringsAre(durationValidator{})},
					},
					"init_failures": defaultedInt("How many of the next launches never become ready (to exercise `init_deadline`).",
						0, int64validator.AtLeast(0)),
				},
			},
			"kubernetes":     kubernetesAttribute(),
			"metric_sources": metricSourcesAttribute(),
			"billing":        billingAttribute(),
			"predictive": schema.SingleNestedAttribute{
				MarkdownDescription: "Predictive governing: a forecast from the group's recorded history bounds the " +
					"quantities triggers may ask for. With `enforce`, a trigger's request outside the forecast range of its " +
					"interval is replaced by the nearest authorized quantity, and the clamp is written in the decision record " +
					"and in the explanations of [`pes_capacity_changes`](../data-sources/capacity_changes.md). " +
					"Read the forecast with [`pes_capacity_forecast`](../data-sources/capacity_forecast.md).",
				Optional: true,
				Attributes: map[string]schema.Attribute{
					"mode": defaultedString("`off`, `forecast_only` (record what would have been clamped) or `enforce`.",
						api.PredictiveOff, stringvalidator.OneOf(api.PredictiveModes()...)),
					"history": schema.StringAttribute{
						MarkdownDescription: "How much recorded history the forecast uses (e.g. `14d`); unset, pesd's default.",
						Optional:            true,
						Validators:          durationValidators(),
					},
					"interval": schema.StringAttribute{
						MarkdownDescription: "Length of a forecast interval (e.g. `1h`); unset, pesd's default.",
						Optional:            true,
						Validators:          durationValidators(),
					},
					"confidence": schema.Float64Attribute{
						MarkdownDescription: "Confidence of the authorized range, between 0 and 1 exclusive (e.g. `0.9`); unset, pesd's default.",
						Optional:            true,
						Validators:          []validator.Float64{float64validator.Between(0, 1)},
					},
					"min_history": schema.StringAttribute{
						MarkdownDescription: "History needed before the forecast governs anything; unset, pesd's default.",
						Optional:            true,
						Validators:          durationValidators(),
					},
					"governs": schema.ListAttribute{
						MarkdownDescription: "What the range governs: `triggers` (always) and optionally `instructions`.",
						Optional:            true,
						ElementType:         types.StringType,
						Validators:          []validator.List{listvalidator.ValueStringsAre(stringvalidator.OneOf(api.PredictiveGoverns()...))},
					},
				},
			},
			"wait_for_capacity": defaultedBool("Wait, on create and update, until `actual_quantity` reaches the live desired quantity, within the `timeouts`. On timeout the error lists the group's latest events.", true),
			"current_desired_quantity": schema.Int64Attribute{
				MarkdownDescription: "Live desired quantity in pesd, as moved by triggers and instructions since the last apply.",
				Computed:            true,
			},
			"official_quantity": schema.Int64Attribute{
				MarkdownDescription: "Quantity recorded at the last harmonization or immediate change.",
				Computed:            true,
			},
			"actual_quantity": schema.Int64Attribute{
				MarkdownDescription: "Nodes ready now, as measured by monitoring.",
				Computed:            true,
			},
			"status": schema.StringAttribute{
				MarkdownDescription: "`active`, or `deleted` once the group is deleted (its history is kept).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{
				Create:            true,
				Update:            true,
				CreateDescription: "How long create waits for capacity (`wait_for_capacity`). Defaults to `10m`.",
				UpdateDescription: "How long update waits for capacity (`wait_for_capacity`). Defaults to `10m`.",
			}),
		},
	}
}

// ValidateConfig checks what no single attribute can: min ≤ desired ≤ max,
// which health check fields fit which type, sim only on sim groups. It
// runs pesd's own validation (api.GroupConfigProblems) so plan and apply
// agree, and reports every problem it finds; values already reported by
// attribute validators, or unknown yet, are replaced by stand-ins that
// pass so each problem is reported once.
func (r *nodeGroupResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	m, ok := load[nodeGroupModel](ctx, req.Config, &resp.Diagnostics)
	if !ok {
		return
	}
	cfg, ok := validationConfig(ctx, m)
	if !ok {
		return
	}
	// Every problem, not the first: a plan shows them all at once.
	for _, err := range api.GroupConfigProblems(&cfg) {
		resp.Diagnostics.Append(validationDiag("Invalid node group configuration", err))
	}
}

// validationDiag reports a validation error of package api at the
// attribute it names.
func validationDiag(summary string, err error) diag.Diagnostic {
	if ae, ok := err.(*api.Error); ok && ae.Field != "" {
		if p, ok := attrPath(ae.Field); ok {
			return diag.NewAttributeErrorDiagnostic(p, summary, ae.Error()+".")
		}
	}
	return diag.NewErrorDiagnostic(summary, err.Error())
}

func (r *nodeGroupResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	plan, planOK := load[nodeGroupModel](ctx, req.Plan, &resp.Diagnostics)
	config, configOK := load[nodeGroupModel](ctx, req.Config, &resp.Diagnostics)
	if !planOK || !configOK {
		return
	}

	// Computed parts of nested objects take the values pesd will resolve,
	// so the plan shows them and apply matches it.
	// Resolve from the configuration, where an omitted value is null, not
	// the unknown the plan shows for it; an omitted block is pesd's default.
	if hc, ok := resolvedHealthCheck(ctx, config.HealthCheck); ok {
		obj, d := healthCheckObject(config.HealthCheck, hc)
		resp.Diagnostics.Append(d...)
		plan.HealthCheck = obj
	}
	if !plan.Driver.IsUnknown() {
		if plan.Driver.ValueString() != api.DriverSim {
			if config.Sim.IsNull() {
				plan.Sim = types.ObjectNull(simAttrTypes)
			}
		} else if s, ok := resolvedSim(ctx, config.Sim); ok {
			obj, d := simObject(config.Sim, s)
			resp.Diagnostics.Append(d...)
			plan.Sim = obj
		}
	}
	resp.Diagnostics.Append(setPlan(ctx, &resp.Plan, &plan)...)
}

// resolvedHealthCheck returns the health check pesd will store for the
// configured object (null: the default check), or false when parts of it
// are not known yet.
func resolvedHealthCheck(ctx context.Context, o types.Object) (*api.HealthCheck, bool) {
	return resolved(ctx, o, healthCheckFrom, func(c *api.GroupConfig) **api.HealthCheck { return &c.HealthCheck })
}

// resolvedSim is resolvedHealthCheck for the sim object of a sim group.
func resolvedSim(ctx context.Context, o types.Object) (*api.SimConfig, bool) {
	return resolved(ctx, o, simFrom, func(c *api.GroupConfig) **api.SimConfig { return &c.Sim })
}

// resolved reads a configured nested object with from, resolves it as
// pesd will (api.ResolveGroupConfig, in the field of a sim group that
// field names) and returns the result; false when parts of the object are
// unknown or invalid (ValidateConfig reports those).
func resolved[T any](ctx context.Context, o types.Object,
	from func(context.Context, types.Object) (*T, diag.Diagnostics),
	field func(*api.GroupConfig) **T,
) (*T, bool) {
	if o.IsUnknown() || !allKnown(o) {
		return nil, false
	}
	v, d := from(ctx, o)
	if d.HasError() {
		return nil, false
	}
	cfg := api.GroupConfig{Name: "plan", Driver: api.DriverSim}
	*field(&cfg) = v
	if api.ResolveGroupConfig(&cfg) != nil {
		return nil, false
	}
	return *field(&cfg), true
}

func allKnown(o types.Object) bool {
	for _, v := range o.Attributes() {
		if v.IsUnknown() {
			return false
		}
	}
	return true
}

func (r *nodeGroupResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	if !r.c.ready(&resp.Diagnostics, "creating a node group") {
		return
	}
	plan, ok := load[nodeGroupModel](ctx, req.Plan, &resp.Diagnostics)
	if !ok {
		return
	}
	cfg, diags := plan.groupConfig(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultCapacityTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}

	g, err := r.c.api.CreateGroup(ctx, cfg)
	if err != nil {
		resp.Diagnostics.Append(apiErrorDiag("Cannot create node group", r.c.endpoint, "", err))
		return
	}
	tflog.Info(ctx, "created node group", map[string]any{"id": g.ID, "name": g.Name})
	r.finish(ctx, g, plan, timeout, &resp.State, &resp.Diagnostics)
}

// finish waits for capacity when asked and writes the state. The state is
// written even when the wait fails, so Terraform keeps track of the group
// (and marks it tainted).
func (r *nodeGroupResource) finish(ctx context.Context, g api.Group, plan nodeGroupModel, timeout time.Duration, st *tfsdk.State, diags *diag.Diagnostics) {
	if plan.WaitForCapacity.ValueBool() {
		waited, err := r.waitForCapacity(ctx, g, timeout)
		if waited.ID != "" {
			g = waited
		}
		if err != nil {
			diags.Append(r.capacityDiag(ctx, g, timeout, err))
		}
	}
	var state nodeGroupModel
	diags.Append(state.fromGroup(g, plan)...)
	diags.Append(setState(ctx, st, &state)...)
}

// waitForCapacity waits until the group's ready nodes reach the live
// desired quantity or the timeout passes. It long-polls pesd
// (client.WaitGroup), which answers as soon as the group changes, so a
// group that is ready at once is waited for in milliseconds; each poll
// lasts at most capacityLogEvery, so a long wait logs its progress.
func (r *nodeGroupResource) waitForCapacity(ctx context.Context, g api.Group, timeout time.Duration) (api.Group, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	for {
		if g.ActualQuantity >= g.DesiredQuantity {
			tflog.Info(ctx, "node group has its capacity", map[string]any{"id": g.ID, "actual": g.ActualQuantity, "desired": g.DesiredQuantity,
				"waited": time.Since(start).Round(time.Millisecond).String()})
			return g, nil
		}
		if g.Status == api.GroupDeleted {
			return g, fmt.Errorf("the group was deleted while Terraform waited for its capacity")
		}
		tflog.Info(ctx, fmt.Sprintf("waiting for capacity: %d of %d nodes ready", g.ActualQuantity, g.DesiredQuantity),
			map[string]any{"id": g.ID, "actual": g.ActualQuantity, "desired": g.DesiredQuantity,
				"waited": time.Since(start).Round(time.Second).String()})
		cond := api.GroupWait{Field: "actual_quantity", Op: ">=", Value: g.DesiredQuantity}
		wait := capacityLogEvery
		if dl, ok := ctx.Deadline(); ok {
			wait = min(wait, time.Until(dl))
		}
		next, _, err := r.c.api.WaitGroup(ctx, g.ID, cond, wait)
		if isUnknownParam(err, "wait") {
			// A pesd older than the long poll: read again shortly.
			select {
			case <-ctx.Done():
				return g, ctx.Err()
			case <-time.After(capacityPollInterval):
			}
			next, err = r.c.api.GetGroup(ctx, g.ID)
		}
		if err != nil {
			if ctx.Err() != nil {
				return g, ctx.Err()
			}
			return g, err
		}
		g = next
	}
}

// isUnknownParam reports whether err is pesd refusing a query parameter
// it does not know.
func isUnknownParam(err error, name string) bool {
	var ae *api.Error
	return errors.As(err, &ae) && ae.Status == 400 && ae.Field == name && strings.Contains(ae.Message, "is not a parameter")
}

// capacityDiag explains a failed wait for capacity with the group's latest
// events, which say why nodes are not ready (init failures, lost nodes,
// clamps).
func (r *nodeGroupResource) capacityDiag(ctx context.Context, g api.Group, timeout time.Duration, err error) diag.Diagnostic {
	if !errors.Is(err, context.DeadlineExceeded) {
		return apiErrorDiag("Cannot wait for the node group's capacity", r.c.endpoint, g.ID, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "After %s the group %q had %d of %d nodes ready (official quantity %d).\n",
		timeout, g.Name, g.ActualQuantity, g.DesiredQuantity, g.OfficialQuantity)
	// The caller's context may be done too; the events get their own.
	evCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	events, evErr := latestEvents(evCtx, r.c.api, g.ID, eventsInTimeoutDetail)
	switch {
	case evErr != nil:
		fmt.Fprintf(&b, "\nThe group's events could not be read: %v.\n", evErr)
	case len(events) == 0:
		b.WriteString("\npesd recorded no events for the group.\n")
	default:
		b.WriteString("\nLatest events:\n")
		for _, e := range events {
			fmt.Fprintf(&b, "  %s %s %s: %s\n", e.Label, e.Time.UTC().Format(time.RFC3339), e.Type, e.Description)
		}
	}
	b.WriteString("\nRaise timeouts.create / timeouts.update, set wait_for_capacity = false, or look at the nodes " +
		"(`pesd events --group " + g.ID + "`).\n\nID: " + g.ID)
	return diag.NewErrorDiagnostic("Node group did not reach its desired quantity", b.String())
}

// latestEvents returns the group's last n events, oldest first.
func latestEvents(ctx context.Context, c *client.Client, groupID string, n int) ([]api.Event, error) {
	events, err := c.ListAllEvents(ctx, groupID, client.EventFilter{})
	if err != nil {
		return nil, err
	}
	sortEvents(events)
	if len(events) > n {
		events = events[len(events)-n:]
	}
	return events, nil
}

func (r *nodeGroupResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	if !r.c.ready(&resp.Diagnostics, "reading a node group") {
		return
	}
	state, ok := load[nodeGroupModel](ctx, req.State, &resp.Diagnostics)
	if !ok {
		return
	}
	id := state.ID.ValueString()
	g, err := r.c.api.GetGroup(ctx, id)
	if client.IsNotFound(err) || (err == nil && g.Status == api.GroupDeleted) {
		resp.Diagnostics.AddWarning("Node group deleted outside Terraform",
			fmt.Sprintf("pesd has no active node group %s (%s). Terraform removed it from the state and will plan to create it again. "+
				"Its history (events and changes) is still in pesd.", id, state.Name.ValueString()))
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.Append(apiErrorDiag("Cannot read node group", r.c.endpoint, id, err))
		return
	}
	var next nodeGroupModel
	resp.Diagnostics.Append(next.fromGroup(g, state)...)
	resp.Diagnostics.Append(setState(ctx, &resp.State, &next)...)
}

func (r *nodeGroupResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	if !r.c.ready(&resp.Diagnostics, "updating a node group") {
		return
	}
	plan, state, ok := loadUpdate[nodeGroupModel](ctx, req, &resp.Diagnostics)
	if !ok {
		return
	}
	cfg, diags := plan.groupConfig(ctx)
	resp.Diagnostics.Append(diags...)
	timeout, diags := plan.Timeouts.Update(ctx, defaultCapacityTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}

	id := state.ID.ValueString()
	patch := patchFor(cfg)
	if !plan.DesiredQuantity.Equal(state.DesiredQuantity) {
		// The declared quantity changed: a user instruction from Terraform
		// (the client's actor), acting at once so the apply can wait for it.
		d := cfg.DesiredQuantity
		patch.DesiredQuantity = &d
		patch.Immediate = true
		patch.Reason = fmt.Sprintf("desired_quantity changed in configuration from %d to %d",
			state.DesiredQuantity.ValueInt64(), plan.DesiredQuantity.ValueInt64())
	}
	if patch.Labels == nil && len(state.Labels.Elements()) > 0 {
		// No labels planned where there were some: an empty map clears
		// them (nil would leave them as they are).
		patch.Labels = map[string]string{}
	}
	if cfg.Predictive == nil && !state.Predictive.IsNull() {
		patch.Predictive = &api.Predictive{Mode: api.PredictiveOff}
	}
	if cfg.Billing == nil && !state.Billing.IsNull() {
		patch.Billing = &api.Billing{} // {} removes it
	}
	if patch.MetricSources == nil && len(state.MetricSources.Elements()) > 0 {
		// As labels: an empty list clears them, nil would keep them.
		patch.MetricSources = []api.MetricSource{}
	}

	g, err := r.c.api.UpdateGroup(ctx, id, patch)
	if err != nil {
		resp.Diagnostics.Append(apiErrorDiag("Cannot update node group", r.c.endpoint, id, err))
		return
	}
	r.finish(ctx, g, plan, timeout, &resp.State, &resp.Diagnostics)
}

// patchFor is a PATCH carrying the whole configuration but the desired
// quantity (which is an instruction, sent only when it changed).
func patchFor(cfg api.GroupConfig) api.GroupPatch {
	return api.GroupPatch{
		Name:                        &cfg.Name,
		Driver:                      &cfg.Driver,
		MinQuantity:                 &cfg.MinQuantity,
		MaxQuantity:                 &cfg.MaxQuantity,
		AggregationPeriod:           &cfg.AggregationPeriod,
		AggregationPolicy:           &cfg.AggregationPolicy,
		Replacement:                 &cfg.Replacement,
		ReplacementDeferWindow:      &cfg.ReplacementDeferWindow,
		InitDeadline:                &cfg.InitDeadline,
		Cooldown:                    &cfg.Cooldown,
		TerminationPolicy:           &cfg.TerminationPolicy,
		LockdownAfterRemoval:        cfg.LockdownAfterRemoval,
		HarmonizeAfterRequests:      &cfg.HarmonizeAfterRequests,
		InstructionsSilenceTriggers: &cfg.InstructionsSilenceTriggers,
		DecreasesOutrankIncreases:   &cfg.DecreasesOutrankIncreases,
		HealthCheck:                 cfg.HealthCheck,
		Labels:                      cfg.Labels,
		Program:                     &cfg.Program,
		Sim:                         cfg.Sim,
		Kubernetes:                  cfg.Kubernetes,
		Predictive:                  cfg.Predictive,
		MetricSources:               cfg.MetricSources,
		Billing:                     cfg.Billing,
	}
}

func (r *nodeGroupResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	if r.c.ready(&resp.Diagnostics, "deleting a node group") {
		r.c.deleteByID(ctx, req.State, &resp.Diagnostics, "node group", r.c.api.DeleteGroup)
	}
}

// ImportState takes the group's ID or the name of a live group
// ("terraform import pes_node_group.web web"); the state keeps the ID.
func (r *nodeGroupResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if !r.c.ready(&resp.Diagnostics, "importing a node group") {
		return
	}
	g, err := r.c.api.GetGroup(ctx, req.ID)
	if err != nil {
		resp.Diagnostics.Append(apiErrorDiag("Cannot import node group "+req.ID, r.c.endpoint, req.ID, err))
		return
	}
	if g.Status == api.GroupDeleted {
		resp.Diagnostics.AddError("Cannot import a deleted node group",
			fmt.Sprintf("Node group %s (%s) was deleted; pesd keeps its history, which the pes_node_group data source "+
				"and pes_capacity_changes read by ID, but it cannot be managed again. Create a new group instead.", g.Name, g.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), g.ID)...)
}

// groupConfig is the create body for a planned (fully known) model.
func (m nodeGroupModel) groupConfig(ctx context.Context) (api.GroupConfig, diag.Diagnostics) {
	var diags diag.Diagnostics
	prog, d := programFrom(ctx, m.Program)
	diags.Append(d...)
	hc, d := healthCheckFrom(ctx, m.HealthCheck)
	diags.Append(d...)
	sim, d := simFrom(ctx, m.Sim)
	diags.Append(d...)
	kube, d := kubernetesFrom(ctx, m.Kubernetes)
	diags.Append(d...)
	pred, d := predictiveFrom(ctx, m.Predictive)
	diags.Append(d...)
	labels, d := mapStrings(ctx, m.Labels)
	diags.Append(d...)
	sources, d := metricSourcesFrom(ctx, m.MetricSources)
	diags.Append(d...)
	billing, d := billingFrom(ctx, m.Billing)
	diags.Append(d...)
	return api.GroupConfig{
		Name:                   m.Name.ValueString(),
		Tenant:                 m.Tenant.ValueString(),
		Driver:                 m.Driver.ValueString(),
		Program:                prog,
		DesiredQuantity:        int(m.DesiredQuantity.ValueInt64()),
		MinQuantity:            int(m.MinQuantity.ValueInt64()),
		MaxQuantity:            int(m.MaxQuantity.ValueInt64()),
		AggregationPeriod:      m.AggregationPeriod.ValueString(),
		AggregationPolicy:      m.AggregationPolicy.ValueString(),
		Replacement:            m.Replacement.ValueString(),
		ReplacementDeferWindow: m.ReplacementDeferWindow.ValueString(),
		InitDeadline:           m.InitDeadline.ValueString(),
		Cooldown:               m.Cooldown.ValueString(),
		TerminationPolicy:      m.TerminationPolicy.ValueString(),
		HealthCheck:            hc,
		Labels:                 labels,
		Sim:                    sim,
		Kubernetes:             kube,
		Predictive:             pred,
		MetricSources:          sources,
		Billing:                billing,
		EngineOptions: api.EngineOptions{
			LockdownAfterRemoval:        m.LockdownAfterRemoval.ValueBoolPointer(),
			HarmonizeAfterRequests:      int(m.HarmonizeAfterRequests.ValueInt64()),
			InstructionsSilenceTriggers: m.InstructionsSilenceTriggers.ValueBool(),
			DecreasesOutrankIncreases:   m.DecreasesOutrankIncreases.ValueBool(),
		},
	}, diags
}

// fromGroup sets m from pesd's answer; prior is the plan (after create or
// update) or the state (on refresh), empty on import. See
// nodeGroupFields.fromGroup.
func (m *nodeGroupModel) fromGroup(g api.Group, prior nodeGroupModel) diag.Diagnostics {
	diags := m.nodeGroupFields.fromGroup(g, prior.nodeGroupFields)
	m.WaitForCapacity = prior.WaitForCapacity
	if m.WaitForCapacity.IsNull() || m.WaitForCapacity.IsUnknown() {
		m.WaitForCapacity = types.BoolValue(true)
	}
	m.Timeouts = prior.Timeouts
	m.CurrentDesiredQuantity = types.Int64Value(int64(g.DesiredQuantity))
	return diags
}
