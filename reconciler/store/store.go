// Package store is pesd's persistence interface. Implementations live in
// subpackages (sqlite; later postgres) and must all pass the conformance
// suite in storetest. Every method that returns nil has made its write
// durable: a kill -9 of pesd afterwards loses nothing.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// ErrNotFound is returned (wrapped) when a row does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned (wrapped) when a unique constraint is violated,
// e.g. a second live group with the same name.
var ErrConflict = errors.New("conflict")

// ErrUnavailable is returned (wrapped, after the cause in words: "the
// disk is full", "the database is locked") when the store cannot write
// for a reason outside the request: nothing was written, and the same
// write succeeds once the cause is gone.
var ErrUnavailable = errors.New("the store cannot write")

// UnavailableError is an ErrUnavailable with its cause in words.
type UnavailableError struct {
	Cause string // "the disk is full"
	Err   error  // the database's error
}

func (e *UnavailableError) Error() string {
	return ErrUnavailable.Error() + ": " + e.Cause + ": " + e.Err.Error()
}

func (e *UnavailableError) Unwrap() []error { return []error{ErrUnavailable, e.Err} }

// Store is the whole persistence surface.
type Store interface {
	Reader
	// Update runs fn in one transaction: all its writes land or none do.
	// Writes made through tx are visible to reads through tx.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// PurgeBefore deletes the history (events, changes, nexus, periods,
	// nodes, triggers) of groups deleted before t, and the groups.
	PurgeBefore(ctx context.Context, t time.Time) (int, error)
	Close() error
}

// Page is a page request. Limit 0 means a default of 100; the token is
// opaque (returned as NextPageToken by the previous page).
type Page struct {
	Limit int
	Token string
}

// EventFilter filters events. Zero values do not filter.
type EventFilter struct {
	GroupID  string
	Since    time.Time
	Until    time.Time
	Type     string
	PeriodID string
	Status   string
	Page
}

// ChangeFilter filters changes. CausedBy keeps changes linked to that
// event through a nexus.
type ChangeFilter struct {
	GroupID  string
	Since    time.Time
	Until    time.Time
	Type     string
	CausedBy string
	PeriodID string
	Status   string
	Page
}

// GroupFilter filters groups. Deleted groups are listed only when
// IncludeDeleted is set.
type GroupFilter struct {
	IncludeDeleted bool
	// Tenant keeps the groups of one tenant; empty keeps every tenant's.
	Tenant string
	Page
}

// Reader is every query. Lists return items in time order (oldest first,
// ties by id) and the token of the next page ("" on the last).
type Reader interface {
	GetGroup(ctx context.Context, id string) (api.Group, error)
	// BillingHistory is GetGroup's BillingHistory alone, for what prices
	// node time and reads nothing else of the group.
	BillingHistory(ctx context.Context, groupID string) ([]api.BillingRate, error)
	// GetGroupByName returns tenant's live group named name or, when no
	// live group has that name, the group of that name deleted last (names
	// are unique among a tenant's live groups only); ErrNotFound when none
	// ever had it. An empty tenant looks in every tenant: a name live in
	// two is ErrConflict.
	GetGroupByName(ctx context.Context, tenant, name string) (api.Group, error)
	ListGroups(ctx context.Context, f GroupFilter) ([]api.Group, string, error)

	GetTrigger(ctx context.Context, id string) (api.Trigger, error)
	ListTriggers(ctx context.Context, groupID string) ([]api.Trigger, error)

	GetNode(ctx context.Context, groupID, nodeID string) (api.Node, error)
	// ListNodes returns the group's nodes; terminated ones only when
	// includeTerminated.
	ListNodes(ctx context.Context, groupID string, includeTerminated bool) ([]api.Node, error)
	// NodeTimes returns the group's nodes that ran at some time in
	// [since, until): launched before until and not terminated before
	// since (a zero time does not bound), oldest first. Only what node-time
	// accounting reads is set: ID, GroupID, Index, State, LaunchedAt,
	// TerminatedAt, ChangeID (no name, which costs a count per node).
	NodeTimes(ctx context.Context, groupID string, since, until time.Time) ([]api.Node, error)
	// NodeTimesEndedSince returns the group's live nodes and those
	// terminated at or after since, oldest first, set as NodeTimes sets
	// them: the node time a ledger of time settled before since has yet
	// to take in. It reads only those nodes, however many ended before.
	NodeTimesEndedSince(ctx context.Context, groupID string, since time.Time) ([]api.Node, error)
	// NodeTimesOfChanges returns what NodeTimes returns of the nodes the
	// changes changeIDs launched, and only those: it reads them by change,
	// not every node of the group launched before until.
	NodeTimesOfChanges(ctx context.Context, groupID string, changeIDs []string, since, until time.Time) ([]api.Node, error)

	GetEvent(ctx context.Context, id string) (api.Event, error)
	// GetEventByLabel finds "E4" within a group.
	GetEventByLabel(ctx context.Context, groupID, label string) (api.Event, error)
	ListEvents(ctx context.Context, f EventFilter) ([]api.Event, string, error)

	GetChange(ctx context.Context, id string) (api.Change, error)
	GetChangeByLabel(ctx context.Context, groupID, label string) (api.Change, error)
	ListChanges(ctx context.Context, f ChangeFilter) ([]api.Change, string, error)

	// Causes and effects are read through nexus rows (an event or a
	// change belongs to at most one nexus):
	//   change -> causes: GetNexus(change.NexusID).EventIDs
	//   event  -> effects: GetNexus(event.NexusID).ChangeIDs
	GetNexus(ctx context.Context, id string) (api.Nexus, error)
	// The ByID reads answer in the order of ids (a repeated id is
	// repeated); any missing id fails the call with ErrNotFound naming it.
	// GetNexusesByID serves lists of changes with their causes: one read
	// for the nexus of every change on a page instead of one per change.
	GetNexusesByID(ctx context.Context, ids []string) ([]api.Nexus, error)
	GetEventsByID(ctx context.Context, ids []string) ([]api.Event, error)
	GetChangesByID(ctx context.Context, ids []string) ([]api.Change, error)

	GetPeriod(ctx context.Context, id string) (api.Period, error)
	// GetPeriodsByID serves lists of changes with their causes: the
	// decision records of a page's periods in one read.
	GetPeriodsByID(ctx context.Context, ids []string) ([]api.Period, error)
	GetPeriodByLabel(ctx context.Context, groupID, label string) (api.Period, error)
	ListPeriods(ctx context.Context, groupID string, p Page) ([]api.Period, string, error)

	// Samples returns the stored metric samples of a group since t, for
	// rebuilding in-memory windows at start-up.
	Samples(ctx context.Context, groupID string, since time.Time) ([]StoredSample, error)
	// QuantityHistory returns the recorded desired/actual quantities of a
	// group since t (for forecasting).
	QuantityHistory(ctx context.Context, groupID string, since time.Time) ([]QuantityPoint, error)

	// Labels returns the group's label counters as last set (zero for a
	// group that never set them; ErrNotFound for no group).
	Labels(ctx context.Context, groupID string) (Labels, error)
	// CrashLoop returns the group's crash loop as last set (zero for a
	// group that never set it; ErrNotFound for no group).
	CrashLoop(ctx context.Context, groupID string) (CrashLoop, error)

	ExecutionReader
	RunReader
	IdentityReader
}

// Tx is the write side, used inside Store.Update. It also reads, seeing its
// own writes.
type Tx interface {
	Reader

	InsertGroup(g api.Group) error
	UpdateGroup(g api.Group) error
	// UpdateGroupState writes only what a reconcile pass changes in a
	// group: desired, official and actual quantities, next
	// harmonization, open period and updated time, and its label
	// counters (as SetLabels). The rest (the configuration, status and
	// deleted time, which indexes cover) stays as stored.
	UpdateGroupState(g api.Group, l Labels) error

	InsertTrigger(t api.Trigger) error
	UpdateTrigger(t api.Trigger) error
	DeleteTrigger(id string) error

	UpsertNode(n api.Node) error

	// SetLabels records the group's label counters: the numbers of the
	// last labels issued. The caller issues labels from counters it holds
	// and sets them in the transaction that writes the labelled rows, so
	// a rolled-back transaction takes its labels back with it. The
	// controller lets the event counter lag (an instruction writes only
	// its event): it finds the last event label from the events.
	SetLabels(groupID string, l Labels) error
	// SetCrashLoop records the group's run of early node failures and the
	// replacement its backoff holds, so a restarted pesd keeps backing off
	// (and the group stays degraded) instead of relaunching at once.
	SetCrashLoop(groupID string, c CrashLoop) error

	InsertEvent(e api.Event) error
	// UpdateEvent rewrites an event; its identity (group, label, time,
	// period) stays as inserted.
	UpdateEvent(e api.Event) error
	InsertChange(c api.Change) error
	UpdateChange(c api.Change) error
	// InsertNexus stores the nexus; the caller sets NexusID on its events
	// and changes too.
	InsertNexus(n api.Nexus) error
	UpdateNexus(n api.Nexus) error

	InsertPeriod(p api.Period) error
	UpdatePeriod(p api.Period) error

	InsertSamples(groupID string, s []StoredSample) error
	// DeleteSamplesBefore drops samples older than t (retention).
	DeleteSamplesBefore(groupID string, t time.Time) error
	InsertQuantityPoints(groupID string, p []QuantityPoint) error

	ExecutionWriter
	RunWriter
	IdentityWriter
}

// Labels are a group's label counters: the number of the last event
// label issued (E7 is 7), of the last change label (C) and of the last
// period label (H).
type Labels struct {
	E, C, H int
}

// CrashLoop is a group's run of early node failures (engine.CrashLoop)
// and the replacement its backoff holds.
type CrashLoop struct {
	Failures    int
	LastFailure time.Time // zero when Failures is 0
	LastExit    string
	// Held: a replacement waits for the backoff; HeldChange removed
	// HeldNode (both "" for a harmonization's launch).
	Held                 bool
	HeldChange, HeldNode string
}

// StoredSample is one persisted metric sample.
type StoredSample struct {
	Name   string
	NodeID string
	Time   time.Time
	Value  float64
}

// QuantityPoint is one recorded desired/actual pair.
type QuantityPoint struct {
	Time    time.Time
	Desired int
	Actual  int
}
