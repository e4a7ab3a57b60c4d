package server

import (
	"context"
	"io"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// Service is the write side of the API: the controller does every write
// (it serializes per group and actuates through drivers), and answers
// what needs its live state or its forecaster (Forecast). Reads go to
// History. Inputs reaching the Service have already been decoded and
// validated by the handlers (api.Validate*), with defaults applied.
// Errors it returns are *api.Error (code and field set; the server maps
// the code to a status) or wrap store.ErrNotFound / store.ErrConflict;
// anything else is a 500.
type Service interface {
	// CreateGroupBy creates a group; actor names who (a user name,
	// "terraform"; the Service records "api" when it is empty).
	CreateGroupBy(ctx context.Context, cfg api.GroupConfig, actor string) (api.Group, error)
	UpdateGroup(ctx context.Context, id string, patch api.GroupPatch) (api.Group, error)
	// DeleteGroupBy deletes a group; actor names who, as for
	// CreateGroupBy.
	DeleteGroupBy(ctx context.Context, id, actor string) error

	Instruct(ctx context.Context, groupID string, in api.Instruction) (api.Event, error)
	Harmonize(ctx context.Context, groupID string) (api.Period, error)

	// TerminateNodeBy terminates a node at the request of actor, as for
	// CreateGroupBy.
	TerminateNodeBy(ctx context.Context, groupID, nodeID, actor string) (api.Event, error)
	FailNode(ctx context.Context, groupID, nodeID string) error

	CreateTrigger(ctx context.Context, groupID string, spec api.TriggerSpec) (api.Trigger, error)
	UpdateTrigger(ctx context.Context, id string, spec api.TriggerSpec) (api.Trigger, error)
	DeleteTrigger(ctx context.Context, id string) error

	PushMetrics(ctx context.Context, groupID string, samples []api.Sample) (int, error)
	// WhatIf backtests a proposal over the group's recorded samples,
	// writing nothing to the group's record.
	WhatIf(ctx context.Context, groupID string, req api.WhatIfRequest) (api.WhatIf, error)

	Forecast(ctx context.Context, groupID string) (api.Forecast, error)
	// ImportHistory records a quantity history (CSV or JSON, read from r,
	// which the handler bounds) as the group's past for predictive
	// governing, and returns how many points it recorded.
	ImportHistory(ctx context.Context, groupID string, r io.Reader) (int, error)

	// WatchGroup returns a channel closed by the next committed write to
	// the group, and a function to call when the caller stops waiting;
	// the long-poll read (GET /v1/groups/{id}?wait=) waits on it, so it
	// answers as soon as the group changes without polling.
	WatchGroup(id string) (<-chan struct{}, func())
	// HasGroup reports whether id is the id of a group the Service holds
	// in memory in tenant (any tenant when empty), so a request naming it
	// needs no read of the store to resolve it. False is always a safe
	// answer: another tenant's group is then resolved, and not found.
	HasGroup(id, tenant string) bool

	ExecutionService
	RunService
}

// History is the read side of the API: every list and get, and the
// causality queries (history.Reader). Its errors are as the Service's.
type History interface {
	// ResolveGroup finds a group by its id or a live group by its name;
	// with includeDeleted, a name all of whose groups are deleted finds
	// the one deleted last (history.Reader.ResolveGroup). A non-empty
	// tenant finds only its own groups; another tenant's is not found.
	ResolveGroup(ctx context.Context, tenant, ref string, includeDeleted bool) (api.Group, error)
	// Owns reports whether tenant may see the record of kind id: false
	// only when it exists in another tenant's group (history.Reader.Owns).
	Owns(ctx context.Context, tenant, kind, id string) (bool, error)
	ListGroups(ctx context.Context, f store.GroupFilter) ([]api.Group, string, error)
	ListNodes(ctx context.Context, groupID string, includeTerminated bool) ([]api.Node, error)
	// ResolveTrigger finds a trigger by its id or, with group (an id or a
	// name, resolved within tenant), by its name within that group.
	ResolveTrigger(ctx context.Context, tenant, ref, group string) (api.Trigger, error)
	// GetTrigger and ListTriggers answer GET: the triggers with the last
	// values of what they read (api.Trigger.Observed).
	GetTrigger(ctx context.Context, id string) (api.Trigger, error)
	ListTriggers(ctx context.Context, groupID string) ([]api.Trigger, error)
	ListEvents(ctx context.Context, f store.EventFilter) ([]api.Event, string, error)
	// ListChanges takes f.CausedBy as an event's id or its label ("E4").
	ListChanges(ctx context.Context, f store.ChangeFilter) ([]api.Change, string, error)
	GetPeriod(ctx context.Context, id string) (api.Period, error)
	ListPeriods(ctx context.Context, groupID string, p store.Page) ([]api.Period, string, error)

	// ExplainChange / ExplainEvent answer the causality queries. Every
	// detail they return (one or a page) has non-nil Causes / Effects, so
	// the wire always reads [] rather than null.
	ExplainChange(ctx context.Context, id string) (api.ChangeDetail, error)
	ExplainEvent(ctx context.Context, id string) (api.EventDetail, error)
	// ExplainChanges / ExplainEvents answer them for a page of a list
	// (?include=causes, ?include=effects), in order, reading in batches
	// rather than once per item.
	ExplainChanges(ctx context.Context, changes []api.Change) ([]api.ChangeDetail, error)
	ExplainEvents(ctx context.Context, events []api.Event) ([]api.EventDetail, error)

	// Timeline is the console's chart of g over [since, until], thinned to
	// buckets (history.Reader.Timeline).
	Timeline(ctx context.Context, g api.Group, since, until time.Time, buckets int) (api.Timeline, error)

	// Costs is g's node time and money over [since, until) grouped by by,
	// live nodes counted until now (history.Reader.Costs); Costed adds
	// to changes' details the node time and cost of the nodes they
	// launched, and says it in their explanations.
	Costs(ctx context.Context, g api.Group, since, until, now time.Time, by string) (api.Costs, error)
	Costed(ctx context.Context, ds []api.ChangeDetail, now time.Time) ([]api.ChangeDetail, error)
	// TotalCost is a group's node time and money until now, for /metrics.
	TotalCost(ctx context.Context, groupID string, now time.Time) (seconds, micros int64, currency string, err error)

	ExecutionHistory
	RunHistory
}

// HealthSource is a Service that knows which groups are degraded (the
// controller: their nodes keep failing in their first seconds). The
// server shows it in a group's status and status_reason.
type HealthSource interface {
	Degraded(groupID string) (reason string, ok bool)
}

// health marks g degraded when the Service says it is.
func (s *server) health(g *api.Group) {
	s.owner(g)
	hs, ok := s.svc.(HealthSource)
	if !ok || g.Status != api.GroupActive {
		return
	}
	if why, ok := hs.Degraded(g.ID); ok {
		g.Status, g.StatusReason = api.GroupDegraded, why
	}
}
