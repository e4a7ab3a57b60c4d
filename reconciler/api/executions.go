package api

import (
	"encoding/json"
	"time"
)

// Execution statuses (SPEC §2.9, seed 003): pending → running →
// (suspending → suspended → running)* → completed | completed_with_errors |
// failed | cancelled.
const (
	ExecutionPending             = "pending"
	ExecutionRunning             = "running"
	ExecutionSuspending          = "suspending"
	ExecutionSuspended           = "suspended"
	ExecutionCompleted           = "completed"
	ExecutionCompletedWithErrors = "completed_with_errors"
	ExecutionFailed              = "failed"
	ExecutionCancelled           = "cancelled"
)

// Job statuses.
const (
	JobQueued    = "queued"
	JobRunning   = "running"
	JobSucceeded = "succeeded"
	JobFailed    = "failed"
	JobSuspended = "suspended"
)

// Execution event types: each is an event of the execution's group in the
// causality record.
const (
	EventExecutionStarted   = "execution_started"
	EventExecutionCompleted = "execution_completed"
	EventExecutionSuspended = "execution_suspended"
	EventExecutionResumed   = "execution_resumed"
	EventExecutionCancelled = "execution_cancelled"
	EventJobFailed          = "job_failed"
	EventJobRetried         = "job_retried"
	EventJobRequeued        = "job_requeued"
)

// Execution metrics: while an execution runs, its queue is a metric of the
// group, so triggers can scale the group for it.
const (
	MetricJobsQueued  = "jobs_queued"
	MetricJobsRunning = "jobs_running"
)

// Execution defaults.
const (
	DefaultMaxAttempts  = 3
	DefaultSuspendGrace = "30s"
	// DefaultSimItemDuration is how long one item of a job takes on the
	// sim driver when the execution does not say.
	DefaultSimItemDuration = "1s"
	DefaultPerJob          = 1
	// MaxJobs bounds the jobs of one execution.
	MaxJobs = 100_000
	// MaxInlineItems bounds input.items.
	MaxInlineItems = 100_000
)

// ExecutionInput is one of files, lines or items (exactly one is set).
// The per-job counts are pointers so that an explicit 0 is told apart
// from omitted (default 1).
type ExecutionInput struct {
	// Files is a directory (every regular file in it) or a glob: one
	// subset per file, or per files_per_job files.
	Files       string `json:"files,omitempty"`
	FilesPerJob *int   `json:"files_per_job,omitempty"`
	// Lines is a file of pesd's machine split into lines_per_job lines.
	Lines       string `json:"lines,omitempty"`
	LinesPerJob *int   `json:"lines_per_job,omitempty"`
	// Items are inline JSON values, items_per_job a subset (one JSON
	// value a line in the job's input file).
	Items       []json.RawMessage `json:"items,omitempty"`
	ItemsPerJob *int              `json:"items_per_job,omitempty"`
}

// OnComplete says what happens to the group's nodes when the execution
// ends: keep them, or scale the group to scale_to (a change attributed to
// the completion event).
type OnComplete struct {
	KeepNodes bool `json:"keep_nodes,omitempty"`
	ScaleTo   *int `json:"scale_to,omitempty"`
}

// ExecutionSim configures jobs on the sim driver, which runs them
// virtually: each item takes item_duration of the driver's clock.
type ExecutionSim struct {
	ItemDuration string `json:"item_duration,omitempty"`
}

// ExecutionCreate is the body of POST /v1/executions.
type ExecutionCreate struct {
	GroupID     string `json:"group_id"`
	Name        string `json:"name,omitempty"`
	ProgramType string `json:"program_type,omitempty"`
	// Program defaults to the group's program.
	Program     *Program       `json:"program,omitempty"`
	Input       ExecutionInput `json:"input"`
	MaxParallel int            `json:"max_parallel,omitempty"`
	MaxAttempts *int           `json:"max_attempts,omitempty"`
	// Deadline is when it should be done; the estimate says whether it
	// will be, and with program_type a node quantity predicted to miss it
	// is warned of.
	Deadline *time.Time `json:"deadline,omitempty"`
	// MaxNodeHours is the budget: with program_type, a node quantity
	// predicted to exceed it is warned of.
	MaxNodeHours float64 `json:"max_node_hours,omitempty"`
	// UseRecommendation sizes the group to the recommendation from the
	// program type's prior runs at start (needs program_type).
	UseRecommendation bool          `json:"use_recommendation,omitempty"`
	OnComplete        *OnComplete   `json:"on_complete,omitempty"`
	Sim               *ExecutionSim `json:"sim,omitempty"`
	// SuspendGrace is how long a job has after SIGTERM to checkpoint
	// and exit before it is killed.
	SuspendGrace string `json:"suspend_grace,omitempty"`
	Actor        string `json:"actor,omitempty"`
}

// ExecutionSuspend is the (optional) body of POST
// /v1/executions/{id}/suspend.
type ExecutionSuspend struct {
	// ReleaseNodes scales the group to 0 once every job has checkpointed,
	// a change attributed to the suspension event; resume asks for the
	// quantity back.
	ReleaseNodes bool   `json:"release_nodes,omitempty"`
	Actor        string `json:"actor,omitempty"`
}

// ExecutionAction is the (optional) body of resume and cancel.
type ExecutionAction struct {
	Actor string `json:"actor,omitempty"`
}

// Execution is a finite run of one program over one input, on one group.
type Execution struct {
	ID          string         `json:"id"`
	Label       string         `json:"label"`
	GroupID     string         `json:"group_id"`
	Name        string         `json:"name,omitempty"`
	ProgramType string         `json:"program_type,omitempty"`
	Program     Program        `json:"program"`
	Input       ExecutionInput `json:"input"`
	MaxParallel int            `json:"max_parallel,omitempty"`
	MaxAttempts int            `json:"max_attempts"`
	Deadline    *time.Time     `json:"deadline,omitempty"`
	// MaxNodeHours and UseRecommendation are as created.
	MaxNodeHours      float64       `json:"max_node_hours,omitempty"`
	UseRecommendation bool          `json:"use_recommendation,omitempty"`
	OnComplete        *OnComplete   `json:"on_complete,omitempty"`
	Sim               *ExecutionSim `json:"sim,omitempty"`
	// Recommendation is the one made at creation (with use_recommendation,
	// or beside a warning).
	Recommendation *Recommendation `json:"recommendation,omitempty"`
	// Warnings are the warnings given at creation: the node quantity is
	// predicted to miss the deadline or exceed max_node_hours.
	Warnings []ExecutionWarning `json:"warnings,omitempty"`
	// Usage measures the group's ready nodes while the execution runs,
	// for its run record.
	Usage *ExecutionUsage `json:"usage,omitempty"`
	// SuspendGrace is resolved (default DefaultSuspendGrace).
	SuspendGrace string `json:"suspend_grace"`
	Status       string `json:"status"`
	// Reason says why the execution is in its status, for people.
	Reason string `json:"reason,omitempty"`
	// JobCount is how many jobs the input was split into.
	JobCount int `json:"job_count"`
	// Counts are the jobs by status.
	Counts map[string]int `json:"counts"`
	// Progress is the mean of the jobs' progress (0–1).
	Progress  float64    `json:"progress"`
	CreatedAt time.Time  `json:"created_at"`
	StartedAt *time.Time `json:"started_at,omitempty"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	UpdatedAt time.Time  `json:"updated_at"`
	// Elapsed is the wall time since the start (until the end);
	// EstimatedTimeLeft is "" until a job has finished.
	Elapsed           string `json:"elapsed"`
	EstimatedTimeLeft string `json:"estimated_time_left,omitempty"`
	// OutputDir holds one directory per job; Output is the combined
	// output (the jobs' outputs concatenated in job order), once the
	// execution completes.
	OutputDir string `json:"output_dir"`
	Output    string `json:"output,omitempty"`
	// ReleaseNodes and ReleasedQuantity record a suspension that
	// released the nodes, and the quantity resume asks for back.
	ReleaseNodes     bool `json:"release_nodes,omitempty"`
	ReleasedQuantity int  `json:"released_quantity,omitempty"`
	// SuspendedBy names who asked for the suspension under way or in
	// effect, the source of its event.
	SuspendedBy string `json:"suspended_by,omitempty"`
	// SuspendedByPrincipal is the authenticated principal that asked for
	// it (SuspendedBy is whom it acted for), kept for the event recorded
	// when the suspension completes.
	SuspendedByPrincipal string `json:"suspended_by_principal,omitempty"`
	// Events are the labels of the execution's events in the causality
	// record, oldest first.
	Events []string `json:"events"`
	Actor  string   `json:"actor,omitempty"`
	// Principal is the authenticated principal that started the
	// execution; its execution_started event names it.
	Principal string `json:"principal,omitempty"`
	// Jobs is filled by GET /v1/executions/{id}.
	Jobs []Job `json:"jobs,omitempty"`
}

// Job is one subset of the input.
type Job struct {
	ExecutionID string `json:"execution_id"`
	Index       int    `json:"index"`
	// ID is the job's id of its current (or last) attempt, as the job
	// sees it in PES_JOB_ID.
	ID string `json:"id"`
	// Items is how many lines, files or items the subset holds.
	Items    int    `json:"items"`
	Attempt  int    `json:"attempt"`
	Failures int    `json:"failures"`
	NodeID   string `json:"node_id,omitempty"`
	Status   string `json:"status"`
	// Stopping says why pesd asked the running job to stop ("suspend",
	// "cancel", "node_lost"): what its exit means.
	Stopping  string     `json:"stopping,omitempty"`
	Progress  float64    `json:"progress"`
	StartedAt *time.Time `json:"started_at,omitempty"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	ExitCode  *int       `json:"exit_code,omitempty"`
	Reason    string     `json:"reason,omitempty"`
	Input     string     `json:"input"`
	Output    string     `json:"output"`
	// Log is the job's stdout and stderr, every attempt's in turn (local
	// driver).
	Log string `json:"log,omitempty"`
	// Checkpoint is pesd's copy of the state the job last saved; "" when
	// it saved none.
	Checkpoint string `json:"checkpoint,omitempty"`
	// RunSeconds is the time the job's succeeded attempt ran, for the
	// estimate of time left.
	RunSeconds float64 `json:"run_seconds,omitempty"`
}

// ExecutionOutput is GET /v1/executions/{id}/output.
type ExecutionOutput struct {
	ExecutionID string `json:"execution_id"`
	Status      string `json:"status"`
	// Combined is the combined output file, once the execution completed.
	Combined string      `json:"combined,omitempty"`
	Jobs     []JobOutput `json:"jobs"`
}

// JobOutput is one job's output location.
type JobOutput struct {
	Index  int      `json:"index"`
	Status string   `json:"status"`
	Dir    string   `json:"dir"`
	Files  []string `json:"files"`
}

// ExecutionStatuses lists the execution statuses (the status filter).
func ExecutionStatuses() []string {
	return []string{ExecutionPending, ExecutionRunning, ExecutionSuspending, ExecutionSuspended,
		ExecutionCompleted, ExecutionCompletedWithErrors, ExecutionFailed, ExecutionCancelled}
}

// ExecutionDone reports whether status is final.
func ExecutionDone(status string) bool {
	switch status {
	case ExecutionCompleted, ExecutionCompletedWithErrors, ExecutionFailed, ExecutionCancelled:
		return true
	}
	return false
}

// ExecutionUsage is what an execution used, measured at each step of
// the planner: between two steps the group had the ready nodes counted at
// the first.
type ExecutionUsage struct {
	// NodeSeconds integrates the ready nodes over the time the execution
	// ran (not suspended); ActiveSeconds is that time, SuspendedSeconds
	// the rest since its start.
	NodeSeconds      float64 `json:"node_seconds"`
	ActiveSeconds    float64 `json:"active_seconds"`
	SuspendedSeconds float64 `json:"suspended_seconds"`
	NodesMax         int     `json:"nodes_max"`
	// Nodes were ready at At, the last measure.
	Nodes int       `json:"nodes"`
	At    time.Time `json:"at"`
}
