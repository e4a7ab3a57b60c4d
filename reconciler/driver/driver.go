// Package driver runs nodes. Each driver (local: OS processes; sim: virtual
// nodes) sits behind the Driver interface and passes the conformance suite
// in drivertest. Drivers act and report; they decide nothing: the
// controller reads their observations level-based and converges.
//
// Drivers also push: whenever a node's observed state changes on its own
// (a process exits, a health check passes or fails, a boot timer ends) the
// driver calls the Notify function with the node's group ID, and the
// controller observes that group at once instead of at its next resync.
// A push carries no state; it says only "observe this group now". The
// controller still reads Observe and still resyncs every group on its
// observe interval, so a lost or late push only delays a reaction.
package driver

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// ErrUnsupported is returned (wrapped) by an operation a driver does not
// have, such as Fail on the local driver.
var ErrUnsupported = errors.New("not supported by this driver")

// ErrUnknownNode is returned (wrapped) for a node the driver does not know.
var ErrUnknownNode = errors.New("unknown node")

// ErrNotReady is returned (wrapped) by Fail for a node that is not ready
// (launching, unavailable or terminated), so callers can answer 409.
var ErrNotReady = errors.New("node is not ready")

// ErrCannotStart is returned (wrapped, with the OS error) by Launch when
// the node's program cannot start at all: its command does not exist or
// may not be run. Waiting will not help, so the controller judges the
// node failed at once instead of at its init deadline.
var ErrCannotStart = errors.New("program cannot start")

// NodeSpec is what a driver needs to launch one node.
type NodeSpec struct {
	GroupID     string
	NodeID      string
	Index       int
	Program     api.Program
	HealthCheck *api.HealthCheck
	Sim         *api.SimConfig
	Kubernetes  *api.KubernetesConfig
}

// Observation is the driver's view of one node at one moment.
type Observation struct {
	NodeID string
	// State is one of api.NodeLaunching, NodeReady, NodeUnavailable,
	// NodeTerminated. A driver never reports init_failed: that is the
	// controller's judgement against init_deadline.
	State  string
	Reason string    // why unavailable/terminated, for people
	Since  time.Time // when the node entered State
	// Handle is the driver's re-adoption data, to persist with the node.
	Handle map[string]string
	// Samples measured since the previous observation (local: the
	// cpu_utilization and memory_bytes metrics, one sample each).
	Samples []api.Sample
}

// Driver runs the nodes of groups.
type Driver interface {
	// Name is the driver's name as used in group config ("local", "sim").
	Name() string
	// Launch starts a node and returns at once; the node is launching
	// until its health check passes. The returned handle is persisted.
	Launch(ctx context.Context, spec NodeSpec) (map[string]string, error)
	// Terminate stops a node: gracefully, then forcibly after grace. It is
	// idempotent: terminating an unknown or terminated node is not an
	// error.
	Terminate(ctx context.Context, groupID, nodeID string, grace time.Duration) error
	// Observe reports every node the driver runs for the group.
	Observe(ctx context.Context, groupID string) ([]Observation, error)
	// Adopt re-attaches to nodes recorded before a restart of pesd. It
	// reports each of them: alive nodes keep their state; nodes that are
	// gone are reported unavailable with the reason. A spec without a
	// handle is a node whose launch may never have happened (or whose
	// handle was never stored): a driver that finds a trace of the launch
	// reports it as above; one that finds none leaves it out of the
	// report, and the caller launches it.
	Adopt(ctx context.Context, specs []AdoptSpec) ([]Observation, error)
	// Fail makes a ready node unavailable (sim only; others return
	// ErrUnsupported).
	Fail(ctx context.Context, groupID, nodeID string) error
	// SetNotify registers fn (nil: none), replacing any earlier one. From
	// then on the driver calls fn(groupID) after each change of a node's
	// observable state that the driver did not report from a call of its
	// own: launching → ready, ready → unavailable, a process gone, a
	// termination that completed in the background. The change must be
	// visible to Observe when fn is called. Pushes may be coalesced or
	// repeated, but a state change must not go without one.
	//
	// fn must return at once and must not call back into the driver: the
	// controller only queues the group. Drivers call it from their own
	// goroutines (or, on a fake clock, from the goroutine advancing it),
	// never while holding a lock fn could need.
	//
	// A new driver (kubernetes: from its informer's event handlers) calls
	// fn from wherever it learns of a change; drivertest checks that
	// every transition the suite causes is pushed.
	SetNotify(fn func(groupID string))
	// Close releases the driver's resources. Local nodes keep running, so
	// a restarted pesd can adopt them.
	Close() error
}

// MetricsNoticer is a driver that may be unable to sample its nodes'
// metrics (kubernetes, on a cluster without metrics.k8s.io). The
// controller says so once in each group's events, so a trigger over those
// metrics reads "no samples" with the reason, not 0.
type MetricsNoticer interface {
	// MetricsMissing says why the driver samples no metrics, or "".
	MetricsMissing() string
}

// Notifier holds a driver's Notify function; drivers embed it to
// implement SetNotify. The zero value pushes nothing.
type Notifier struct {
	fn atomic.Pointer[func(groupID string)]
}

// SetNotify registers fn, as Driver.SetNotify.
func (n *Notifier) SetNotify(fn func(groupID string)) {
	if fn == nil {
		n.fn.Store(nil)
		return
	}
	n.fn.Store(&fn)
}

// Notify pushes a change of groupID to the registered function, if any.
func (n *Notifier) Notify(groupID string) {
	if fn := n.fn.Load(); fn != nil {
		(*fn)(groupID)
	}
}

// Notifying reports whether a function is registered, so a driver can
// skip work (timers) that only serves pushes.
func (n *Notifier) Notifying() bool { return n.fn.Load() != nil }

// AdoptSpec is a node recorded in the store, to be re-adopted.
type AdoptSpec struct {
	NodeSpec
	State  string // the state last recorded
	Handle map[string]string
}
