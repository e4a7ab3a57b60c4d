// Package engine makes pesd's capacity decisions as pure functions: no I/O,
// no clock reads (the time is an input). The controller gathers the inputs
// from the store and the drivers, calls the engine, then carries the
// decision out and records it. Decide, then act.
package engine

import (
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/cost"
)

// Bounds is the forecast range of authorized quantities for the time of a
// decision (SPEC §2.8). A nil *Bounds means predictive governing is off.
type Bounds struct {
	Lower, Upper int
	Start, End   time.Time // the forecast interval the bounds belong to
	Enforce      bool      // false: forecast_only, record without clamping
	// GovernInstructions extends governing to user instructions
	// (governs = ["triggers", "instructions"]); triggers are always governed.
	GovernInstructions bool
	// NotReady, when set, says why there is no forecast to govern by
	// ("forecast needs 24h of history; the group has 3h"). Nothing is
	// clamped; a decision with a request that would have been governed
	// says so (ForecastNotReady, which becomes the record's note), because governing that silently does
	// nothing looks like governing that allowed everything.
	NotReady string
}

// HarmonizeInput is everything a harmonization decision depends on.
type HarmonizeInput struct {
	Config         api.Config
	Now            time.Time
	DesiredBefore  int // the live desired quantity at the start of the period
	OfficialBefore int
	// Nodes are the group's nodes that are not terminated, with their
	// current states (ready, launching, unavailable, init_failed).
	Nodes []api.Node
	// Requests are the period's events with status aggregated, in time
	// order: user instructions and trigger firings (with Request and
	// ProposedQuantity set), and deferred replacement requests
	// (type replacement_requested), which do not propose a quantity but
	// are fulfilled by bringing the group back to the desired quantity.
	Requests []api.Event
	// Suppressed are the period's suppressed and ignored events, copied
	// into the record (Suppressed and Ignored apart) so "why did it not
	// scale?" has an answer.
	Suppressed []api.Event
	Bounds     *Bounds
	// PeriodLabel (e.g. "H2"), when known, is the record's Label.
	PeriodLabel string
	// Rates are the group's billing history parsed: when each node's paid
	// time ends, for termination_policy closest_to_billing_boundary.
	Rates cost.Rates
	// EndedEarly, when above 0, is the number of requests waiting that
	// ended the period before its time (harmonize_after_requests).
	EndedEarly int
}

// Decision is a decision record plus the actions that carry it out.
type Decision struct {
	// Period carries the record fields: Policy, DesiredBefore/After,
	// OfficialBefore/After, Actual, InFlight, Requests, Suppressed,
	// AggregatedQuantity, Clamps. The controller fills ID, Label, times
	// and ChangeIDs.
	Period api.Period
	// Launch is how many nodes to start.
	Launch int
	// Terminate lists the nodes to remove, in the order chosen (failed
	// and unready first, then by termination_policy).
	Terminate []string
	// CauseEventIDs are the events the resulting change(s) are attributed
	// to (indirect): every aggregated request of the period plus the
	// replacement requests the change fulfils. Empty when no change.
	CauseEventIDs []string
	// DecisiveEventID is the cause whose proposal the policy took (largest,
	// smallest, priority, first, last): seed 004's "the trigger that
	// determined the change", as data. Empty when the policy combines
	// proposals (average, sum) or there is no change.
	DecisiveEventID string
	// ForecastNotReady says that predictive governing would have bounded
	// a request had its forecast been ready (Bounds.NotReady says why);
	// the record's note is written from it (causality.WriteRecord).
	ForecastNotReady bool
	// Paid are the ready nodes closest_to_billing_boundary removed, with
	// when their paid time ends; the record's note is written from them.
	Paid []Paid
	// Silenced are the trigger firings a user instruction of the period
	// silenced (instructions_silence_triggers): they are in the record's
	// Ignored, and the controller records them ignored.
	Silenced []Silenced
	// Outranked are the increases set aside because the period has
	// decreases (decreases_outrank_increases), by event ID; the record's
	// requests mark them too.
	Outranked []string
	// EndedEarly is HarmonizeInput's, for the record's note.
	EndedEarly int
}

// Silenced is a trigger firing set aside by the user instruction By (its
// label).
type Silenced struct {
	EventID, Label, By string
}

// ImmediateInput is an immediate request (instruction or trigger marked
// immediate) acting at once.
type ImmediateInput struct {
	Config        api.Config
	Now           time.Time
	DesiredBefore int
	Nodes         []api.Node
	Event         api.Event // with Request set
	Bounds        *Bounds
	Rates         cost.Rates // as HarmonizeInput's
}

// ImmediateDecision is the outcome of an immediate request: the new
// desired quantity (official follows it), clamps applied, and the actions.
// The resulting change is attributed directly to the one event.
type ImmediateDecision struct {
	ProposedQuantity int
	DesiredAfter     int
	Clamps           []api.Clamp
	// ForecastNotReady: as Decision's.
	ForecastNotReady bool
	Launch           int
	Terminate        []string
	Paid             []Paid // as Decision's
}

// Admission is whether a trigger firing is accepted now and, when it is
// not, the facts of why: a lockdown (Launching is set) or a cooldown
// (CooldownUntil is set). causality.Suppression puts them into words.
type Admission struct {
	Suppressed bool
	// Launching are the nodes still launching, by the change that added
	// them, in order of first appearance; LaunchingUntil is the latest
	// init deadline among them.
	Launching      []Launching
	LaunchingUntil time.Time
	// Cooldown is the configured cooldown as written ("2m"); it runs from
	// LastScaleOutEnd, the end of LastScaleOut (a change label, or "" when
	// it has none), until CooldownUntil.
	Cooldown        string
	LastScaleOut    string
	LastScaleOutEnd time.Time
	CooldownUntil   time.Time
	// Removing, with lockdown_after_removal, are the nodes removals are
	// still terminating, by the change that removes them: the lockdown
	// lasts until they are gone.
	Removing []Launching
	// SilencedBy, with instructions_silence_triggers, is the label of the
	// user instruction in the open period that silences the firing: it
	// is recorded ignored rather than suppressed.
	SilencedBy string
}

// Status is the status of a refused firing: ignored when an instruction
// silenced it, suppressed otherwise.
func (a Admission) Status() string {
	if a.SilencedBy != "" {
		return api.EventIgnored
	}
	return api.EventSuppressed
}

// Launching counts the launching nodes one change added.
type Launching struct {
	Change string // its label; "" when unknown
	Nodes  int
}

// AdmitInput is what a trigger firing's admission depends on.
type AdmitInput struct {
	Config api.Config
	Now    time.Time
	// Nodes in flight (launching) with the change that launched them.
	Nodes []api.Node
	// LastScaleOutEnd is when the most recent add_nodes change ended
	// (zero if none or still in progress); the cooldown runs from it.
	LastScaleOutEnd  time.Time
	LastScaleOutID   string
	LastScaleOutName string // its label, e.g. "C7"
	// ChangeLabels optionally maps the IDs of the changes that launched
	// the in-flight nodes to their labels, for the lockdown reason.
	ChangeLabels map[string]string
	// Removals are the remove_nodes changes in progress, with their nodes.
	Removals []api.Change
	// Requests are the open period's aggregated requests: a user
	// instruction among them silences the firing (Silencer).
	Requests []api.Event
}

// Replace says whether the replacement of a lost node happens now or is
// deferred to the next harmonization (replacement policy; auto defers when
// the next harmonization is within replacement_defer_window).
type ReplaceInput struct {
	Config              api.Config
	Now                 time.Time
	NextHarmonizationAt time.Time
	// Lost is the node being replaced and Rates the group's billing: with
	// a price and replacement auto, the decision weighs the lost node's
	// paid time (Replace).
	Lost  api.Node
	Rates cost.Rates
}

// Replacement is the decision on a lost node's replacement: at once or
// deferred, and, when billing was weighed, the facts it weighed.
type Replacement struct {
	Now bool
	// Billing is set when the group has a price, replacement is auto and
	// the harmonization is within replacement_defer_window.
	Billing *PaidWeighed
}

// PaidWeighed are the facts of a billing-aware replacement decision: the
// lost node's paid time ends at PaidUntil; the harmonization comes at
// Harmonization; a replacement launched now would be billed at least
// MinimumBilled (a whole increment, or the minimum), MinimumMicros.
type PaidWeighed struct {
	Node          string // its name
	PaidUntil     time.Time
	Harmonization time.Time
	MinimumBilled time.Duration
	MinimumMicros int64
	Currency      string
}

// Functions the engine provides (see the files beside this one):
//
//	Propose(desired int, r api.Request) int
//	    the proposed desired quantity of a request relative to desired
//	Harmonize(in HarmonizeInput) Decision
//	Immediate(in ImmediateInput) ImmediateDecision
//	Admit(in AdmitInput) Admission
//	ReplaceNow(in ReplaceInput) bool
//	SelectForRemoval(nodes []api.Node, n int, policy string) []string
//	Reconcile(desired int, nodes []api.Node, policy string) (launch int, terminate []string)
//	    bring ready+launching to desired, counting in-flight nodes
//	Chosen(p api.Period) string
//	    the request a record's policy took, for explanations
