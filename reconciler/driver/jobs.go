package driver

import (
	"context"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// The environment contract of an execution job (SPEC §2.9): every job
// attempt gets these variables.
const (
	EnvJobID      = "PES_JOB_ID"      // the attempt's id
	EnvJobIndex   = "PES_JOB_INDEX"   // the job's index in the execution, from 0
	EnvInput      = "PES_INPUT"       // a file holding the job's subset
	EnvOutput     = "PES_OUTPUT"      // a directory for its results
	EnvStateDir   = "PES_STATE_DIR"   // its checkpoint directory, restored on resume or retry
	EnvProgress   = "PES_PROGRESS"    // a file it may write a fraction (0–1) to
	EnvCheckpoint = "PES_CHECKPOINT"  // "1": on SIGTERM, save state to PES_STATE_DIR and exit 0
	EnvAttempt    = "PES_JOB_ATTEMPT" // the attempt number, from 1
)

// JobSpec is one attempt of an execution job, to run on a node.
type JobSpec struct {
	GroupID string
	NodeID  string
	// JobID identifies the attempt (unique across attempts).
	JobID   string
	Index   int
	Attempt int
	Program api.Program
	// Input is the file holding the job's subset; Items how many items.
	Input string
	Items int
	// OutputDir is pesd's directory for the job's output: the driver
	// fills it when the attempt succeeds (exit 0 without a stop).
	OutputDir string
	// Log is the file the attempt's stdout and stderr are appended to
	// (every attempt's, in turn); "" keeps them in the driver's own place.
	Log string
	// CheckpointDir is pesd's copy of the job's state: the driver
	// restores it into the attempt's state directory before the start,
	// and copies the state back whenever the attempt ends.
	CheckpointDir string
	// Progress is the job's progress when the attempt starts (sim jobs
	// resume from it).
	Progress float64
	// ItemDuration is how long one item takes on the sim driver.
	ItemDuration time.Duration
}

// JobObservation is the driver's view of one job attempt.
type JobObservation struct {
	JobID   string
	NodeID  string
	Running bool
	// ExitCode is the attempt's exit status once it ended; Lost says the
	// status is unknown (an attempt re-adopted after a restart of pesd
	// ended without pesd as its parent).
	ExitCode int
	Lost     bool
	// Stopped says the attempt ended after StopJob.
	Stopped  bool
	Progress float64
	Reason   string
}

// JobRunner is the optional capability of a driver that runs execution
// jobs on its nodes. Drivers that have it pass drivertest.RunJobs.
type JobRunner interface {
	// StartJob starts an attempt on a node of the group and returns at
	// once. Starting an attempt id already known starts nothing.
	StartJob(ctx context.Context, spec JobSpec) error
	// StopJob asks an attempt to stop: SIGTERM (with PES_CHECKPOINT=1
	// the job saves its state and exits 0), then a kill after grace. It
	// returns at once and is idempotent; unknown attempts are not an
	// error.
	StopJob(ctx context.Context, groupID, jobID string, grace time.Duration) error
	// ObserveJobs reports every attempt of the group the driver knows
	// that has not been forgotten.
	ObserveJobs(ctx context.Context, groupID string) ([]JobObservation, error)
	// ForgetJob drops an ended attempt from the reports, once pesd has
	// recorded its end.
	ForgetJob(groupID, jobID string)
	// AdoptJobs re-attaches to attempts started before a restart of
	// pesd. Attempts it finds no trace of are left out, and the caller
	// treats them as lost; a driver whose jobs leave no trace (sim)
	// starts them again from their recorded progress. Adopting an attempt
	// already known does nothing.
	AdoptJobs(ctx context.Context, specs []JobSpec) error
}
