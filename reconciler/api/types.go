// Package api holds the v1 wire types of pesd: one definition of each JSON
// shape, shared by the HTTP server, the Go client, the CLI and the Terraform
// provider. It is pure Go (no cgo, no store) so the provider can import it.
package api

import (
	"strconv"
	"time"
)

// Drivers.
const (
	DriverLocal = "local"
	DriverSim   = "sim"
)

// Aggregation policies (SPEC §2.1).
const (
	PolicyLargest  = "largest"
	PolicySmallest = "smallest"
	PolicyAverage  = "average"
	PolicySum      = "sum"
	PolicyPriority = "priority"
	PolicyFirst    = "first"
	PolicyLast     = "last"
)

// Replacement policies (SPEC §2.2).
const (
	ReplacementImmediate = "immediate"
	ReplacementDeferred  = "deferred"
	ReplacementAuto      = "auto"
)

// Termination policies (SPEC §2.3).
const (
	TerminateNewest = "newest"
	TerminateOldest = "oldest"
	// TerminateClosestToBillingBoundary removes the nodes whose paid
	// increment ends soonest (AWS's ClosestToNextInstanceHour); it needs
	// a billing block.
	TerminateClosestToBillingBoundary = "closest_to_billing_boundary"
)

// Health check types (SPEC §2.7).
const (
	HealthProcess = "process"
	HealthHTTP    = "http"
	HealthTCP     = "tcp"
	HealthExec    = "exec"
)

// Group statuses.
const (
	GroupActive = "active"
	// GroupDegraded is an active group whose nodes keep failing in their
	// first seconds (engine.DegradedAfter in a row); status_reason says
	// how. Read-only: pesd reports it, nothing sets it.
	GroupDegraded = "degraded"
	GroupDeleted  = "deleted"
)

// DefaultLocalMaxQuantity is the max_quantity of a local group that gives
// none, on a host with cpus CPUs (pesd's host, where its nodes run).
func DefaultLocalMaxQuantity(cpus int) int { return LocalMaxQuantityPerCPU * max(cpus, 1) }

// Default group configuration. pesd and the provider both use these so that
// a field left unset means the same thing everywhere.
const (
	DefaultAggregationPeriod      = "60s"
	DefaultAggregationPolicy      = PolicyLargest
	DefaultReplacement            = ReplacementAuto
	DefaultReplacementDeferWindow = "15s"
	DefaultInitDeadline           = "10m"
	DefaultCooldown               = "0s"
	DefaultTerminationPolicy      = TerminateNewest
	DefaultHealthInterval         = "2s"
	DefaultHealthFailureThreshold = 3
	DefaultSimBootTime            = "2s"
	DefaultMinQuantity            = 0
	// DefaultMaxQuantity is the max_quantity of a group that gives none,
	// but for the local driver (DefaultLocalMaxQuantity).
	DefaultMaxQuantity = 100
	// LocalMaxQuantityPerCPU sizes the default max_quantity of a local
	// group to the host: local nodes are processes on pesd's own machine,
	// and a mistyped instruction must not start hundreds of them there.
	LocalMaxQuantityPerCPU = 2
	// User instructions outrank triggers unless a priority is given.
	DefaultInstructionPriority = 100
	DefaultTriggerPriority     = 50
)

// Program is what each node runs.
type Program struct {
	Command string            `json:"command"`
	Args    []string          `json:"args,omitempty"`
	Env     map[string]string `json:"env,omitempty"`
}

// HealthCheck says how a node is judged ready and alive.
type HealthCheck struct {
	Type             string `json:"type"`
	Path             string `json:"path,omitempty"`
	Port             int    `json:"port,omitempty"` // 0: the node's PES_PORT
	Command          string `json:"command,omitempty"`
	Interval         string `json:"interval,omitempty"`
	FailureThreshold int    `json:"failure_threshold,omitempty"`
}

// SimConfig configures the sim driver's virtual nodes.
type SimConfig struct {
	BootTime string `json:"boot_time,omitempty"`
	// BootTimes, when set, gives the boot time of the first launches in
	// order (later launches use BootTime), so a scenario can have nodes
	// become ready at different moments.
	BootTimes    []string `json:"boot_times,omitempty"`
	InitFailures int      `json:"init_failures,omitempty"`
}

// Predictive governing modes and what it governs (SPEC §2.8).
const (
	PredictiveOff          = "off"
	PredictiveForecastOnly = "forecast_only"
	PredictiveEnforce      = "enforce"
	GovernTriggers         = "triggers"
	GovernInstructions     = "instructions"
)

// Predictive configures predictive governing (SPEC §2.8, seed 001).
type Predictive struct {
	Mode       string   `json:"mode"` // off | forecast_only | enforce
	History    string   `json:"history,omitempty"`
	Interval   string   `json:"interval,omitempty"`
	Confidence float64  `json:"confidence,omitempty"`
	MinHistory string   `json:"min_history,omitempty"`
	Governs    []string `json:"governs,omitempty"` // triggers, instructions
}

// GroupConfig is every user-settable field of a group. In a create request
// every field but name, driver, program and desired_quantity may be omitted
// and takes its default; Group echoes the resolved values.
type GroupConfig struct {
	Name                   string            `json:"name"`
	Driver                 string            `json:"driver"`
	Program                Program           `json:"program"`
	DesiredQuantity        int               `json:"desired_quantity"`
	MinQuantity            int               `json:"min_quantity"`
	MaxQuantity            int               `json:"max_quantity"`
	AggregationPeriod      string            `json:"aggregation_period"`
	AggregationPolicy      string            `json:"aggregation_policy"`
	Replacement            string            `json:"replacement"`
	ReplacementDeferWindow string            `json:"replacement_defer_window"`
	InitDeadline           string            `json:"init_deadline"`
	Cooldown               string            `json:"cooldown"`
	TerminationPolicy      string            `json:"termination_policy"`
	HealthCheck            *HealthCheck      `json:"health_check,omitempty"`
	Labels                 map[string]string `json:"labels,omitempty"`
	Sim                    *SimConfig        `json:"sim,omitempty"`
	Kubernetes             *KubernetesConfig `json:"kubernetes,omitempty"`
	Predictive             *Predictive       `json:"predictive,omitempty"`
	MetricSources          []MetricSource    `json:"metric_sources,omitempty"`
	// Billing prices the group's node time; nil: no costs are counted.
	Billing *Billing `json:"billing,omitempty"`
	// Tenant is the tenant the group belongs to: its creator's, or one an
	// admin names (default "default"). Names are unique per tenant, and a
	// token of another tenant never sees the group.
	Tenant string `json:"tenant,omitempty"`
	EngineOptions
}

// DefaultLockdownAfterRemoval: a removal locks the group down until its
// nodes are gone, as an addition does until its nodes are ready.
const DefaultLockdownAfterRemoval = true

// MaxHarmonizeAfterRequests bounds harmonize_after_requests.
const MaxHarmonizeAfterRequests = 10_000

// EngineOptions are seed 000's optional decision rules, flat in a group's
// JSON beside the other settings.
type EngineOptions struct {
	// LockdownAfterRemoval: a remove_nodes change locks the group down
	// until its nodes are terminated; trigger firings meanwhile are
	// suppressed. Unset means DefaultLockdownAfterRemoval; pesd echoes the
	// value it applied.
	LockdownAfterRemoval *bool `json:"lockdown_after_removal,omitempty"`
	// HarmonizeAfterRequests, when above 0, ends a period early once that
	// many requests wait in it.
	HarmonizeAfterRequests int `json:"harmonize_after_requests"`
	// InstructionsSilenceTriggers: a user instruction in a period makes
	// that period's trigger firings ignored (seed 000: the user's word
	// overrides the triggers').
	InstructionsSilenceTriggers bool `json:"instructions_silence_triggers"`
	// DecreasesOutrankIncreases: when a period has requests to shrink the
	// group, its requests to grow it are set aside before the policy
	// aggregates (seed 000's "decreases given higher priority").
	DecreasesOutrankIncreases bool `json:"decreases_outrank_increases"`
}

// LockdownOnRemoval is LockdownAfterRemoval with its default applied.
func (o EngineOptions) LockdownOnRemoval() bool {
	if o.LockdownAfterRemoval == nil {
		return DefaultLockdownAfterRemoval
	}
	return *o.LockdownAfterRemoval
}

// Group is a node group as pesd returns it.
type Group struct {
	ID string `json:"id"`
	GroupConfig
	OfficialQuantity int    `json:"official_quantity"`
	ActualQuantity   int    `json:"actual_quantity"`
	Status           string `json:"status"`
	StatusReason     string `json:"status_reason,omitempty"` // why degraded
	// Owner is the pesd replica reconciling the group (several replicas
	// on one PostgreSQL); empty with one pesd, or while its shard moves.
	Owner               string     `json:"owner,omitempty"`
	NextHarmonizationAt *time.Time `json:"next_harmonization_at,omitempty"`
	CurrentPeriodID     string     `json:"current_period_id,omitempty"`
	CurrentPeriodLabel  string     `json:"current_period_label,omitempty"`
	CreatedAt           time.Time  `json:"created_at"`
	UpdatedAt           time.Time  `json:"updated_at"`
	DeletedAt           *time.Time `json:"deleted_at,omitempty"`
	// BillingHistory is every billing the group has had, oldest first,
	// each in force from its time until the next (one with no price ends
	// billing). Read-only: pesd appends to it when billing changes.
	BillingHistory []BillingRate `json:"billing_history,omitempty"`
}

// GroupPatch is the body of PATCH /v1/groups/{id}: only the fields present
// change. A new desired_quantity is a user instruction (set_to).
//
// Labels replaces the group's labels: absent or null (a nil map in Go)
// leaves them unchanged, an empty object ({}, an empty non-nil map) clears
// them. omitzero keeps that difference on the wire: a nil map is left out,
// an empty one is sent as {}.
type GroupPatch struct {
	// Name and Driver cannot change; they are accepted only when equal to
	// the group's, so a client may send the whole configuration.
	Name                   *string           `json:"name,omitempty"`
	Driver                 *string           `json:"driver,omitempty"`
	DesiredQuantity        *int              `json:"desired_quantity,omitempty"`
	MinQuantity            *int              `json:"min_quantity,omitempty"`
	MaxQuantity            *int              `json:"max_quantity,omitempty"`
	AggregationPeriod      *string           `json:"aggregation_period,omitempty"`
	AggregationPolicy      *string           `json:"aggregation_policy,omitempty"`
	Replacement            *string           `json:"replacement,omitempty"`
	ReplacementDeferWindow *string           `json:"replacement_defer_window,omitempty"`
	InitDeadline           *string           `json:"init_deadline,omitempty"`
	Cooldown               *string           `json:"cooldown,omitempty"`
	TerminationPolicy      *string           `json:"termination_policy,omitempty"`
	HealthCheck            *HealthCheck      `json:"health_check,omitempty"`
	Labels                 map[string]string `json:"labels,omitzero"`
	Program                *Program          `json:"program,omitempty"`
	Sim                    *SimConfig        `json:"sim,omitempty"`
	Kubernetes             *KubernetesConfig `json:"kubernetes,omitempty"`
	Predictive             *Predictive       `json:"predictive,omitempty"`
	// MetricSources replaces the group's sources as Labels does: absent
	// leaves them, [] clears them.
	MetricSources []MetricSource `json:"metric_sources,omitzero"`
	// Billing replaces the group's billing from now on (earlier node time
	// keeps its price); an empty object {} removes it.
	Billing                     *Billing `json:"billing,omitempty"`
	LockdownAfterRemoval        *bool    `json:"lockdown_after_removal,omitempty"`
	HarmonizeAfterRequests      *int     `json:"harmonize_after_requests,omitempty"`
	InstructionsSilenceTriggers *bool    `json:"instructions_silence_triggers,omitempty"`
	DecreasesOutrankIncreases   *bool    `json:"decreases_outrank_increases,omitempty"`
	// Reason and Actor annotate the set_to instruction a new
	// desired_quantity produces (the provider sends "terraform"); when
	// Actor is empty pesd records "api".
	Reason string `json:"reason,omitempty"`
	Actor  string `json:"actor,omitempty"`
	// Immediate makes that instruction act at once (direct attribution)
	// instead of waiting for the end of the period.
	Immediate bool `json:"immediate,omitempty"`
}

// Request is one of the request forms (SPEC §2.1). Exactly one is set.
// Target is a trigger's form only: an instruction gives one of the other
// three.
type Request struct {
	ChangeBy        *int     `json:"change_by,omitempty"`
	ChangeByPercent *float64 `json:"change_by_percent,omitempty"`
	SetTo           *int     `json:"set_to,omitempty"`
	Target          *Target  `json:"target,omitempty"`
}

// Target tracking defaults (docs/guides/target-tracking.md).
const (
	DefaultTargetTolerance = 0.1
	DefaultTargetWindow    = "1m"
	// The HPA's default downscale stabilization window.
	DefaultScaleInStabilization = "5m"
)

// Target is target tracking: keep metric's mean over window at value. A
// trigger with a target proposes ceil(ready × observed / value), the HPA's
// formula, with its tolerance band (no change when |observed/value − 1| ≤
// tolerance); a scale-in takes the largest proposal over
// scale_in_stabilization. pesd echoes the defaults it applied.
type Target struct {
	Metric               string   `json:"metric"`
	Value                float64  `json:"value"`
	Tolerance            *float64 `json:"tolerance,omitempty"`
	Window               string   `json:"window,omitempty"`
	ScaleInStabilization string   `json:"scale_in_stabilization,omitempty"`
}

// Instruction is the body of POST /v1/groups/{id}/instructions.
type Instruction struct {
	Request
	Immediate bool   `json:"immediate,omitempty"`
	Priority  *int   `json:"priority,omitempty"`
	Reason    string `json:"reason,omitempty"`
	// Actor names who gave the instruction (a user name, "terraform"); when
	// empty pesd records "api".
	Actor string `json:"actor,omitempty"`
	// InReplyTo names the firing (an event's id) of a notify trigger that
	// this instruction answers: the instruction's event records it as its
	// parent (Event.ParentEventID), so the firing is a cause of the
	// changes the instruction makes.
	InReplyTo string `json:"in_reply_to,omitempty"`
}

// Notify is a trigger's webhook action (seed 000: a trigger that notifies
// another system, which then decides the change), in place of a request
// form. pesd POSTs each firing (NotifyPayload) to URL, signed with
// HMAC-SHA256 of the body under Secret in the NotifySignatureHeader
// header, and records a notified event; the receiver answers, if it
// wants a change, with an instruction whose in_reply_to names the firing.
// URL must be loopback or a host pesd serve allows (--notify-allow).
type Notify struct {
	URL string `json:"url"`
	// Secret is write-only: pesd keeps it to sign deliveries and never
	// returns it.
	Secret string `json:"secret,omitempty"`
}

// NotifyFiring reports whether e is a notify trigger's firing: a
// trigger_fired event without a request, since its receiver decides.
func (e Event) NotifyFiring() bool { return e.Type == EventTriggerFired && e.Request == nil }

// NotifySignatureHeader carries "sha256=" and the hex HMAC-SHA256 of a
// delivery's body under the trigger's secret.
const NotifySignatureHeader = "X-Pes-Signature"

// NotifyPayload is the body pesd POSTs to a notify trigger's URL.
type NotifyPayload struct {
	GroupID    string    `json:"group_id"`
	Group      string    `json:"group"`
	TriggerID  string    `json:"trigger_id"`
	Trigger    string    `json:"trigger"`
	EventID    string    `json:"event_id"`
	EventLabel string    `json:"event_label"`
	Observed   string    `json:"observed,omitempty"`
	Time       time.Time `json:"time"`
}

// Node states (SPEC §2.7).
const (
	NodeLaunching   = "launching"
	NodeReady       = "ready"
	NodeUnavailable = "unavailable"
	NodeInitFailed  = "init_failed"
	NodeTerminating = "terminating"
	NodeTerminated  = "terminated"
)

// Node is one unit of capacity.
type Node struct {
	ID      string `json:"id"`
	GroupID string `json:"group_id"`
	// Name is how people read the node: the group's name and the index,
	// with a generation suffix when the index was held before ("web-3",
	// then "web-3.2" for the next node at index 3). It is derived from
	// the store (NodeName), never chosen; the ID stays the node's key.
	Name         string     `json:"name,omitempty"`
	Index        int        `json:"index"`
	State        string     `json:"state"`
	StateReason  string     `json:"state_reason,omitempty"`
	LaunchedAt   time.Time  `json:"launched_at"`
	ReadyAt      *time.Time `json:"ready_at,omitempty"`
	TerminatedAt *time.Time `json:"terminated_at,omitempty"`
	ChangeID     string     `json:"change_id,omitempty"` // the change that launched it
	// Driver-specific handle needed to re-adopt the node after a restart
	// (local: pid, process start time, port, log path).
	Handle map[string]string `json:"handle,omitempty"`
}

// Trigger is a capacity-modification trigger (SPEC §2.5).
type Trigger struct {
	ID        string `json:"id"`
	GroupID   string `json:"group_id"`
	Name      string `json:"name"`
	Condition string `json:"condition"`
	For       string `json:"for,omitempty"`
	Schedule  string `json:"schedule,omitempty"`
	Request          // change_by | change_by_percent | set_to
	// Notify, in place of a request form, sends each firing to another
	// system, which decides the change (Notify).
	Notify    *Notify   `json:"notify,omitempty"`
	Priority  int       `json:"priority"`
	Immediate bool      `json:"immediate"`
	Enabled   bool      `json:"enabled"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Warnings, in the answer to a create or update, flag what pesd
	// accepted but doubts: a metric the group has never seen ("metric
	// cpu_utilisation has never been seen for this group; known: …").
	// Not stored.
	Warnings []string `json:"warnings,omitempty"`
	// Observed, in the answers to GET (one trigger or a group's list), is
	// the last value pesd has of each metric the trigger reads, from the
	// samples it keeps: for a target's metric the mean over the target's
	// window (as the trigger compares it), for a condition's metrics the
	// last sample. A metric with no sample in the last 15 minutes
	// (beyond the target's window) is left out.
	Observed []Observation `json:"observed,omitempty"`
}

// Observation is the last value pesd has of one metric of a group.
type Observation struct {
	Metric string  `json:"metric"`
	Value  float64 `json:"value"`
	// Time is the metric's last sample's.
	Time time.Time `json:"time"`
	// Window, for a target's metric, is the span ending at Time that
	// Value is the mean of ("1m"); without it Value is the last sample.
	Window string `json:"window,omitempty"`
}

// TriggerSpec is the body of POST /v1/groups/{id}/triggers; PATCH takes the
// same shape with only the fields to change (a request form given replaces
// the old one).
type TriggerSpec struct {
	Name      *string `json:"name,omitempty"`
	Condition *string `json:"condition,omitempty"`
	For       *string `json:"for,omitempty"`
	Schedule  *string `json:"schedule,omitempty"`
	Request
	// Notify given replaces the request form (and a request form given
	// replaces a notify).
	Notify    *Notify `json:"notify,omitempty"`
	Priority  *int    `json:"priority,omitempty"`
	Immediate *bool   `json:"immediate,omitempty"`
	Enabled   *bool   `json:"enabled,omitempty"`
}

// ValidateConditionRequest is the body of POST /v1/triggers/validate.
type ValidateConditionRequest struct {
	Condition string `json:"condition"`
}

// ValidateConditionResponse answers it.
type ValidateConditionResponse struct {
	Valid   bool   `json:"valid"`
	Message string `json:"message,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Hint    string `json:"hint,omitempty"`
	// Metrics names the metrics the condition reads.
	Metrics []string `json:"metrics,omitempty"`
}

// Sample is one metric sample pushed through the API.
type Sample struct {
	Name   string     `json:"name"`
	Value  float64    `json:"value"`
	NodeID string     `json:"node_id,omitempty"`
	Time   *time.Time `json:"time,omitempty"`
}

// MetricsRequest is the body of POST /v1/groups/{id}/metrics.
type MetricsRequest struct {
	Samples []Sample `json:"samples"`
}

// MetricsResponse answers it.
type MetricsResponse struct {
	Accepted int `json:"accepted"`
}

// Event types.
const (
	EventGroupCreated       = "group_created"
	EventGroupDeleted       = "group_deleted"
	EventUserInstruction    = "user_instruction"
	EventTriggerFired       = "trigger_fired"
	EventNodeInitFailed     = "node_init_failed"
	EventNodeUnavailable    = "node_unavailable"
	EventReplacementRequest = "replacement_requested"
	EventNodeTerminatedUser = "node_terminated_by_user"
	EventMetricsMissing     = "metrics_missing"
	// EventMetricsReturned ends a trigger's metrics_missing: its condition
	// can be decided again. Status applied: a notice, not a request.
	EventMetricsReturned = "metrics_returned"
	// EventOwnershipMoved records that another pesd replica took the
	// group over (its lease expired, or it was handed over). Status
	// applied: a notice, not a request; it never changes capacity.
	EventOwnershipMoved = "ownership_moved"
	// EventNotified records a notify trigger's delivery of its firing
	// (ParentEventID), delivered or failed after its retries (Reason says
	// how). Status applied: a notice, not a request.
	EventNotified = "notified"
)

// Event statuses.
const (
	EventApplied    = "applied"
	EventAggregated = "aggregated"
	EventSuppressed = "suppressed"
	EventIgnored    = "ignored"
)

// Source kinds.
const (
	SourceUser    = "user"
	SourceTrigger = "trigger"
	SourceSystem  = "system"
)

// Source says who or what produced an event.
type Source struct {
	Kind string `json:"kind"`
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
	// Principal is the authenticated principal whose token made the
	// request (issue 17): the name of the token, "admin" for the --token
	// bootstrap token. It is what the causality record rests on; events
	// pesd recorded by itself, or before principals existed, have none.
	Principal string `json:"principal,omitempty"`
	// OnBehalfOf is the actor the client named ("terraform", a user name),
	// kept beside the principal, never in its place.
	OnBehalfOf string `json:"on_behalf_of,omitempty"`
}

// Event is something that can cause a capacity change.
type Event struct {
	ID               string    `json:"id"`
	Label            string    `json:"label"`
	GroupID          string    `json:"group_id"`
	Type             string    `json:"type"`
	Source           Source    `json:"source"`
	Time             time.Time `json:"time"`
	PeriodID         string    `json:"period_id"`
	PeriodLabel      string    `json:"period_label"`
	Request          *Request  `json:"request"`
	Immediate        bool      `json:"immediate,omitempty"`
	ProposedQuantity *int      `json:"proposed_quantity"`
	Priority         int       `json:"priority"`
	Status           string    `json:"status"`
	// Reason is the reason given with the event: the requester's words
	// (an instruction's reason), or why the system recorded it.
	Reason string `json:"reason,omitempty"`
	// Notes are pesd's own notes about the event, apart from its reason:
	// how bounds clamped an immediate request ("clamped by max_quantity
	// 5: 9 → 5"), why predictive governing did not clamp it.
	Notes []string `json:"notes,omitempty"`
	// Observed holds what a trigger saw ("avg cpu_utilization 87.3 > 80 for 2m").
	Observed string `json:"observed,omitempty"`
	NodeID   string `json:"node_id,omitempty"`
	// NodeName is the name NodeID had when the event was recorded
	// (Node.Name), for people; NodeID stays the key.
	NodeName       string `json:"node_name,omitempty"`
	ParentChangeID string `json:"parent_change_id,omitempty"`
	// ParentEventID is the notify firing this event follows: the
	// notified event of its delivery, or the instruction that answered it
	// (in_reply_to). The firing joins the answer's nexus, so it is among
	// the causes of the answer's changes and they are among its effects.
	ParentEventID string `json:"parent_event_id,omitempty"`
	NexusID       string `json:"nexus_id,omitempty"`
	Description   string `json:"description"`
}

// Change types.
const (
	ChangeAddNodes    = "add_nodes"
	ChangeRemoveNodes = "remove_nodes"
	ChangeNodeLost    = "node_lost"
)

// Change statuses.
const (
	ChangeInProgress = "in_progress"
	ChangeCompleted  = "completed"
	ChangeFailed     = "failed"
)

// Attributions.
const (
	AttributionDirect   = "direct"
	AttributionIndirect = "indirect"
)

// Change is a change in capacity.
type Change struct {
	ID             string     `json:"id"`
	Label          string     `json:"label"`
	GroupID        string     `json:"group_id"`
	Type           string     `json:"type"`
	Amount         int        `json:"amount"`
	QuantityBefore int        `json:"quantity_before"`
	QuantityAfter  int        `json:"quantity_after"`
	Status         string     `json:"status"`
	StartedAt      time.Time  `json:"started_at"`
	EndedAt        *time.Time `json:"ended_at,omitempty"`
	PeriodID       string     `json:"period_id"`
	PeriodLabel    string     `json:"period_label"`
	NexusID        string     `json:"nexus_id"`
	Attribution    string     `json:"attribution"`
	NodeIDs        []string   `json:"node_ids"`
	// Parts are the steps in which an add_nodes change's nodes became
	// ready, when there were more than one: nodes of one launch that
	// become ready within pesd's launch window (--launch-window) of the
	// first are one change, and each part says when how many of them
	// arrived. Nodes that come later make another change of the same
	// nexus, as seed 000's C1 and C2 are.
	Parts       []ChangePart `json:"parts,omitempty"`
	Description string       `json:"description"`
}

// ChangePart is one step of an add_nodes change: Amount nodes became
// ready, the last of them at ReadyAt (nodes ready within the same second
// are one part).
type ChangePart struct {
	ReadyAt time.Time `json:"ready_at"`
	Amount  int       `json:"amount"`
}

// NodeName is the name of the node at index of group, the generation-th
// node to hold that index (1 for the first): "web-3", "web-3.2".
func NodeName(group string, index, generation int) string {
	name := group + "-" + strconv.Itoa(index)
	if generation > 1 {
		name += "." + strconv.Itoa(generation)
	}
	return name
}

// Nexus links a set of events to the set of changes they caused.
type Nexus struct {
	ID          string   `json:"id"`
	GroupID     string   `json:"group_id"`
	Attribution string   `json:"attribution"`
	PeriodID    string   `json:"period_id,omitempty"`
	EventIDs    []string `json:"event_ids"`
	ChangeIDs   []string `json:"change_ids"`
	// DecisiveEventID, on an indirect nexus, is the event whose proposal
	// the period's policy took (seed 004); empty when the policy combines
	// proposals (average, sum).
	DecisiveEventID string    `json:"decisive_event_id,omitempty"`
	CreatedAt       time.Time `json:"created_at"`
}

// Cause is one entry of a change's causes.
type Cause struct {
	Attribution string `json:"attribution"`
	// Decisive marks the cause the policy chose among several competing
	// requests (seed 004): at most one cause of a change has it.
	Decisive bool  `json:"decisive,omitempty"`
	Event    Event `json:"event"`
}

// Effect is one entry of an event's effects.
type Effect struct {
	Attribution string `json:"attribution"`
	Change      Change `json:"change"`
}

// List includes: GET /v1/groups/{id}/changes?include=causes answers
// ChangeDetail items, GET /v1/groups/{id}/events?include=effects
// EventDetail items.
const (
	IncludeCauses  = "causes"
	IncludeEffects = "effects"
)

// ChangeDetail is GET /v1/changes/{id}, and an item of
// GET /v1/groups/{id}/changes?include=causes.
type ChangeDetail struct {
	Change
	Causes      []Cause `json:"causes"`
	Explanation string  `json:"explanation"`
	// NodeHours and Cost are the node time of the nodes the change
	// launched and its price, so far or final once they are gone
	// (CostFinal): set for add_nodes changes, here and in lists with
	// causes alike. Cost is empty when the group has no billing.
	NodeHours *float64 `json:"node_hours,omitempty"`
	Cost      string   `json:"cost,omitempty"`
	Currency  string   `json:"currency,omitempty"`
	CostFinal *bool    `json:"cost_final,omitempty"`
}

// EventDetail is GET /v1/events/{id}, and an item of
// GET /v1/groups/{id}/events?include=effects.
type EventDetail struct {
	Event
	Effects     []Effect `json:"effects"`
	Explanation string   `json:"explanation"`
}

// Clamp kinds.
const (
	ClampMin      = "min_quantity"
	ClampMax      = "max_quantity"
	ClampForecast = "forecast"
)

// PeriodRequest is one request considered at harmonization.
type PeriodRequest struct {
	EventID          string `json:"event_id"`
	Label            string `json:"label"`
	ProposedQuantity int    `json:"proposed_quantity"`
	Priority         int    `json:"priority"`
	// Kind is user, trigger or replacement.
	Kind string `json:"kind,omitempty"`
	// Outranked is set on an increase that decreases_outrank_increases
	// set aside: the period also had decreases, and only they were
	// aggregated.
	Outranked bool `json:"outranked,omitempty"`
}

// PeriodSuppressed is one request that was not considered, with why.
type PeriodSuppressed struct {
	EventID string `json:"event_id"`
	Label   string `json:"label"`
	Reason  string `json:"reason"`
}

// Clamp records that a bound changed the aggregated quantity.
type Clamp struct {
	Kind  string `json:"kind"`
	Bound int    `json:"bound"`
	From  int    `json:"from"`
	To    int    `json:"to"`
	// Applied is false when predictive governing is forecast_only: the
	// record shows what would have happened.
	Applied bool `json:"applied"`
	// EventID is set when the clamp applied to one request (forecast
	// governing of a trigger request) rather than the aggregate.
	EventID string `json:"event_id,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

// Period is an aggregation period and, once harmonized, its decision record.
type Period struct {
	ID                 string             `json:"id"`
	Label              string             `json:"label"`
	GroupID            string             `json:"group_id"`
	StartedAt          time.Time          `json:"started_at"`
	EndedAt            *time.Time         `json:"ended_at"`
	Harmonized         bool               `json:"harmonized"`
	Policy             string             `json:"policy"`
	DesiredBefore      int                `json:"desired_before"`
	DesiredAfter       int                `json:"desired_after"`
	OfficialBefore     int                `json:"official_before"`
	OfficialAfter      int                `json:"official_after"`
	Actual             int                `json:"actual"`
	InFlight           int                `json:"in_flight"`
	Requests           []PeriodRequest    `json:"requests"`
	Suppressed         []PeriodSuppressed `json:"suppressed"`
	Ignored            []PeriodSuppressed `json:"ignored,omitempty"` // ignored events (missing data), apart from suppressed requests
	AggregatedQuantity *int               `json:"aggregated_quantity"`
	Clamps             []Clamp            `json:"clamps"`
	ChangeIDs          []string           `json:"change_ids"`
	// Notes say what the decision did not do and why, where no clamp
	// records it: "predictive governing did not clamp: forecast needs
	// 24h of history; the group has 3h".
	Notes []string `json:"notes,omitempty"`
	// Summary is the decision record in the text form of SPEC §2.3.
	Summary string `json:"summary,omitempty"`
}

// ForecastInterval is one interval of a forecast (seed 001).
type ForecastInterval struct {
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Expected float64   `json:"expected"`
	Lower    int       `json:"lower"`
	Upper    int       `json:"upper"`
}

// Forecast is GET /v1/groups/{id}/forecast.
type Forecast struct {
	GroupID    string             `json:"group_id"`
	Mode       string             `json:"mode"`
	Ready      bool               `json:"ready"`
	Reason     string             `json:"reason,omitempty"`
	Confidence float64            `json:"confidence"`
	History    string             `json:"history"`
	Intervals  []ForecastInterval `json:"intervals"`
}

// TimelinePoint is one step of a quantity series: from Time on, the
// quantity is Quantity.
type TimelinePoint struct {
	Time     time.Time `json:"time"`
	Quantity int       `json:"quantity"`
}

// TimelineHarmonization is one harmonization in a timeline: the decision
// record's label and what it decided (GET /v1/periods/{id} has the rest).
type TimelineHarmonization struct {
	PeriodID       string    `json:"period_id"`
	Label          string    `json:"label"`
	Time           time.Time `json:"time"`
	Policy         string    `json:"policy"`
	DesiredBefore  int       `json:"desired_before"`
	DesiredAfter   int       `json:"desired_after"`
	OfficialBefore int       `json:"official_before"`
	OfficialAfter  int       `json:"official_after"`
	Changes        int       `json:"changes"`
}

// Timeline is GET /v1/groups/{id}/timeline?since=&until=&buckets=: a
// group's desired, official and actual quantities over [since, until]
// as step series, with the harmonizations, changes and events in it,
// thinned for drawing: the window is cut into buckets (one a few pixels
// wide). When there are more changes (or events) than buckets, each
// bucket keeps one change of each type (the largest) and one event of
// each type and status (the last), so a week of 10,000 changes stays a
// small answer; fewer are all kept. The counts are of everything in the
// window; lists by page give every row.
type Timeline struct {
	GroupID            string                  `json:"group_id"`
	Since              time.Time               `json:"since"`
	Until              time.Time               `json:"until"`
	Buckets            int                     `json:"buckets"`
	Desired            []TimelinePoint         `json:"desired"`
	Official           []TimelinePoint         `json:"official"`
	Actual             []TimelinePoint         `json:"actual"`
	Harmonizations     []TimelineHarmonization `json:"harmonizations"`
	Changes            []Change                `json:"changes"`
	Events             []Event                 `json:"events"`
	HarmonizationCount int                     `json:"harmonization_count"`
	ChangeCount        int                     `json:"change_count"`
	EventCount         int                     `json:"event_count"`
}

// Timeline buckets: the default, and the most a request may ask for.
const (
	DefaultTimelineBuckets = 320
	MaxTimelineBuckets     = 2000
)

// HistoryImport answers POST /v1/groups/{id}/history, whose body is a
// quantity history exported from elsewhere: CSV lines time,desired[,actual]
// or a JSON array of {"time", "desired", "actual"?}. Imported counts the
// points recorded (those before the group's own history).
type HistoryImport struct {
	Imported int `json:"imported"`
}

// Page sizes of every list (SPEC §4): the page a list answers without
// ?limit=, and the largest one it answers. Readers that want everything
// ask for MaxPageLimit at a time.
const (
	DefaultPageLimit = 100
	MaxPageLimit     = 1000
)

// List is the envelope of every list answer.
type List[T any] struct {
	Items         []T    `json:"items"`
	NextPageToken string `json:"next_page_token,omitempty"`
}

// ErrorBody is the error envelope: {"error": {...}}.
type ErrorBody struct {
	Error Error `json:"error"`
}

// Error codes.
const (
	CodeInvalid      = "invalid_argument"
	CodeUnauthorized = "unauthenticated"
	CodeForbidden    = "permission_denied"
	CodeNotFound     = "not_found"
	CodeConflict     = "conflict"
	CodeTooLarge     = "payload_too_large"
	CodeInternal     = "internal"
	CodeUnavailable  = "unavailable"
	// CodeExhausted: a limit was reached (rate, requests in flight, series
	// per group); the message names it.
	CodeExhausted = "resource_exhausted"
	// CodeStorageUnavailable: the store cannot write (disk full, database
	// locked); nothing was changed, and a retry later succeeds.
	CodeStorageUnavailable = "storage_unavailable"
)

// Error is an API error. It is also a Go error, so the client returns it
// as is and callers use errors.As.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	// Status is the HTTP status; not on the wire. The client sets it from
	// the answer. Errors made in pesd need not set it: the server answers
	// them by Code.
	Status int `json:"-"`
}

// Redacted is t as pesd answers it: without its notify secret.
func (t Trigger) Redacted() Trigger {
	if t.Notify != nil {
		n := *t.Notify
		n.Secret = ""
		t.Notify = &n
	}
	return t
}

func (e *Error) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}
