package api

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Recommendations (seed 003): every execution of a program type that
// ends leaves a run record; a model fit to a type's runs recommends the
// node quantity of the next execution.

// MinRuns is how many completed runs of a program type a recommendation
// needs: fewer, and the answer says "not enough history" rather than
// guessing.
const MinRuns = 3

// MaxRunsImport bounds one import of runs (POST
// /v1/program-types/{type}/runs), in bytes.
const MaxRunsImport = 4 << 20

// Recommendation statuses.
const (
	RecommendationOK            = "ok"
	RecommendationNotEnoughRuns = "not_enough_history"
)

// Recommendation criteria: what decided the quantity.
const (
	// CriterionCheapestWithinDeadline: the fewest node-hours whose
	// predicted wall time meets the deadline.
	CriterionCheapestWithinDeadline = "cheapest_within_deadline"
	// CriterionFastestWithinBudget: the shortest predicted wall time
	// whose node-hours stay within max_node_hours.
	CriterionFastestWithinBudget = "fastest_within_budget"
	// CriterionKnee: neither given, the fewest nodes whose predicted time
	// is within KneeTolerance of the fastest.
	CriterionKnee = "knee"
	// CriterionFastest: the criteria cannot be met; the fastest quantity
	// within the budget (or within max_nodes) instead.
	CriterionFastest = "fastest_possible"
)

// KneeTolerance is the knee of the curve: adding nodes past the fewest
// whose predicted time is within 10% of the fastest buys little.
const KneeTolerance = 0.10

// Run is the record an ended execution leaves for its program type, or
// a run imported from elsewhere. Wall time excludes the time the
// execution was suspended (SuspendedSeconds), and node-hours count only
// the time it ran.
type Run struct {
	ID          string `json:"id"`
	ProgramType string `json:"program_type"`
	// Label is the execution's label (X3), or an imported run's own (or
	// one made from its content, so importing a file twice records it
	// once).
	Label       string `json:"label"`
	ExecutionID string `json:"execution_id,omitempty"`
	GroupID     string `json:"group_id,omitempty"`
	Driver      string `json:"driver,omitempty"`
	Imported    bool   `json:"imported,omitempty"`
	// Status is the execution's final status; only completed runs
	// (completed, completed_with_errors) are fit.
	Status string `json:"status"`
	// InputSize is the input's items, lines or files; JobCount the jobs
	// it was split into.
	InputSize float64 `json:"input_size"`
	JobCount  int     `json:"job_count"`
	// NodesMean is the time-weighted mean of the group's ready nodes
	// while the execution ran; NodesMax their most.
	NodesMean float64 `json:"nodes_mean"`
	NodesMax  int     `json:"nodes_max"`
	// NodeType is the driver's node type where it has one (kubernetes:
	// the pod's requests and limits); "" for local and sim.
	NodeType         string    `json:"node_type,omitempty"`
	StartedAt        time.Time `json:"started_at"`
	EndedAt          time.Time `json:"ended_at"`
	WallSeconds      float64   `json:"wall_seconds"`
	SuspendedSeconds float64   `json:"suspended_seconds"`
	NodeHours        float64   `json:"node_hours"`
	// Cost is what the run cost under its group's billing, in the
	// billing's currency: the billed time of the group's nodes (whole
	// increments, at least the minimum, at the price of each moment, as
	// GET /v1/groups/{id}/costs counts it) over the time the execution
	// ran, its suspensions left out as NodeHours leaves them out. Absent
	// only when the group had no billing while it ran; an imported run
	// keeps the cost it brought, if any.
	Cost *float64 `json:"cost,omitempty"`
	// Failures are jobs that failed for good; Retries the attempts that
	// failed and were retried.
	Failures int `json:"failures"`
	Retries  int `json:"retries"`
	// Note says what the figures exclude, for people.
	Note string `json:"note,omitempty"`
}

// Completed reports whether a run is fit by the model.
func (r Run) Completed() bool {
	return r.Status == ExecutionCompleted || r.Status == ExecutionCompletedWithErrors
}

// RunsImport answers POST /v1/program-types/{type}/runs.
type RunsImport struct {
	Imported int `json:"imported"`
	// Skipped are runs already recorded (the same label).
	Skipped int `json:"skipped"`
}

// RecommendationQuery is the query of GET
// /v1/program-types/{type}/recommendation.
type RecommendationQuery struct {
	// InputSize is the next input's items, lines or files (required).
	InputSize float64
	// Deadline is how long the execution may take (0: none).
	Deadline time.Duration
	// MaxNodeHours is the budget (0: none).
	MaxNodeHours float64
	// MaxNodes bounds the quantity (0: twice the largest run's).
	MaxNodes int
}

// ParseRecommendationQuery reads the query parameters; each error names
// its parameter. get returns a parameter's value ("" when absent).
func ParseRecommendationQuery(get func(string) string) (RecommendationQuery, error) {
	var q RecommendationQuery
	// Every parameter is read before any is judged, so the caller can
	// tell a parameter this request does not take from one it does.
	s, deadline, budget, maxNodes := get("input_size"), get("deadline"), get("max_node_hours"), get("max_nodes")
	if s == "" {
		return q, Invalid("input_size", "is required: the next input's items, lines or files (as in input_size=1e6)")
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return q, Invalid("input_size", "must be a positive number such as 1e6; got %q", s)
	}
	q.InputSize = v
	if s := deadline; s != "" {
		d, err := ParseDuration(s)
		if err != nil || d <= 0 {
			return q, Invalid("deadline", "must be a positive duration such as 1h or 90m; got %q", s)
		}
		q.Deadline = d
	}
	if s := budget; s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v <= 0 || math.IsInf(v, 0) || math.IsNaN(v) {
			return q, Invalid("max_node_hours", "must be a positive number such as 8.5; got %q", s)
		}
		q.MaxNodeHours = v
	}
	if s := maxNodes; s != "" {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > MaxQuantityLimit {
			return q, Invalid("max_nodes", "must be a whole number from 1 to %d; got %q", MaxQuantityLimit, s)
		}
		q.MaxNodes = n
	}
	return q, nil
}

// Values is the query as URL parameters, for clients.
func (q RecommendationQuery) Values() map[string]string {
	v := map[string]string{"input_size": strconv.FormatFloat(q.InputSize, 'g', -1, 64)}
	if q.Deadline > 0 {
		v["deadline"] = q.Deadline.String()
	}
	if q.MaxNodeHours > 0 {
		v["max_node_hours"] = strconv.FormatFloat(q.MaxNodeHours, 'g', -1, 64)
	}
	if q.MaxNodes > 0 {
		v["max_nodes"] = strconv.Itoa(q.MaxNodes)
	}
	return v
}

// Interval is a prediction with its interval.
type Interval struct {
	Value float64 `json:"value"`
	Low   float64 `json:"low"`
	High  float64 `json:"high"`
}

// Model is the fit of a program type's runs: wall seconds
// t = a + b·size/n + c·n (fixed overhead, parallel work, coordination
// cost), non-negative coefficients by least squares.
type Model struct {
	// Overhead is a (seconds), PerItem b (seconds per item on one node),
	// PerNode c (seconds per node).
	Overhead float64 `json:"overhead_seconds"`
	PerItem  float64 `json:"per_item_seconds"`
	PerNode  float64 `json:"per_node_seconds"`
	// Spread is the residuals' standard deviation in seconds; a
	// prediction's interval is ± IntervalWidth times it.
	Spread        float64 `json:"spread_seconds"`
	IntervalWidth float64 `json:"interval_width"`
	// R2 is the fit's coefficient of determination.
	R2   float64 `json:"r2"`
	Runs int     `json:"runs"`
}

// Recommendation answers GET /v1/program-types/{type}/recommendation.
type Recommendation struct {
	ProgramType string `json:"program_type"`
	// Status is "ok", or "not_enough_history" with Runs under MinRuns
	// (and nothing recommended).
	Status string `json:"status"`
	// Runs is how many completed runs the model was fit to; RunLabels
	// and RunIDs name them.
	Runs      int      `json:"runs"`
	RunLabels []string `json:"run_labels"`
	RunIDs    []string `json:"run_ids"`
	InputSize float64  `json:"input_size"`
	// Deadline and MaxNodeHours are the criteria asked for.
	Deadline     string  `json:"deadline,omitempty"`
	MaxNodeHours float64 `json:"max_node_hours,omitempty"`
	MaxNodes     int     `json:"max_nodes,omitempty"`
	// NodeQuantity and NodeType are the recommendation.
	NodeQuantity int    `json:"node_quantity,omitempty"`
	NodeType     string `json:"node_type,omitempty"`
	// WallSeconds and NodeHours are predicted, with intervals.
	WallSeconds *Interval `json:"wall_seconds,omitempty"`
	NodeHours   *Interval `json:"node_hours,omitempty"`
	// Criterion says what decided it (Criterion*); Met is false when the
	// deadline or budget cannot be met by any quantity up to max_nodes.
	Criterion string `json:"criterion,omitempty"`
	Met       bool   `json:"met"`
	Model     *Model `json:"model,omitempty"`
	// Explanation is the recommendation in a sentence, for people.
	Explanation string `json:"explanation"`
}

// ExecutionWarning is a warning given when an execution was created:
// its node quantity is predicted to miss its deadline or exceed its
// budget. It is recorded as an event of the group.
type ExecutionWarning struct {
	// Kind is "deadline" or "max_node_hours".
	Kind    string `json:"kind"`
	Message string `json:"message"`
	// Event is the label of the warning's event.
	Event string `json:"event"`
}

// Warning kinds.
const (
	WarningDeadline     = "deadline"
	WarningMaxNodeHours = "max_node_hours"
)

// EventExecutionWarning is the event of an execution created with a
// node quantity predicted to miss its criteria.
const EventExecutionWarning = "execution_warning"

// ValidateProgramType checks the {type} of a program-type route.
func ValidateProgramType(t string) error { return validateName("type", t, true) }
