package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

type scanner interface{ Scan(dest ...any) error }

// reader implements store.Reader over a querier.
type reader struct {
	q   querier
	d   *Dialect
	sql *queries
}

var _ store.Reader = reader{}

// queries are the statements and conditions whose text depends on the
// dialect, built once per store.
type queries struct {
	nexusSelect string
	byID        string // rows whose id is in one List argument
	byChange    string // rows whose change_id is in one List argument
	causedBy    string // changes of the nexus of one event id argument
	narrowGroup string // the group condition when another narrows better
	samples     string
	points      string
}

func newQueries(d *Dialect) *queries {
	return &queries{
		nexusSelect: `SELECT id, group_id, attribution, period_id, created_at, ` +
			d.ListJSON("event_ids") + `, ` + d.ListJSON("change_ids") + `, decisive_event_id FROM nexus`,
		byID:     d.InList("id", "?"),
		byChange: d.InList("change_id", "?"),
		// The event and its nexus by primary key, then the (few) changes
		// by primary key.
		causedBy: d.InList("id", `(SELECT x.change_ids
			FROM events e JOIN nexus x ON x.id = e.nexus_id WHERE e.id = ?)`),
		narrowGroup: d.Unindexed("group_id") + " = ?",
		samples: `SELECT name, node_id, time, value FROM samples
			WHERE group_id = ? AND time >= ? ORDER BY time, ` + d.InsertOrder,
		points: `SELECT time, desired, actual FROM quantity_points
			WHERE group_id = ? AND time >= ? ORDER BY time, ` + d.InsertOrder,
	}
}

// getOne runs a one-row query; no row is store.ErrNotFound naming kind and id.
func getOne[T any](ctx context.Context, q querier, kind, id, query string, scan func(scanner) (T, error), args ...any) (T, error) {
	v, err := scan(q.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return v, notFound(kind, id)
	}
	if err != nil {
		return v, fmt.Errorf("get %s %q: %w", kind, id, err)
	}
	return v, nil
}

func queryAll[T any](ctx context.Context, q querier, what, query string, scan func(scanner) (T, error), args ...any) ([]T, error) {
	return queryInto(ctx, q, what, query, scan, []T{}, args...) // none is [], not null, on the wire
}

// queryInto is queryAll appending to out, which the caller sizes when it
// knows how many rows to expect: the records are large, and growing the
// slice row by row copies them again and again.
func queryInto[T any](ctx context.Context, q querier, what, query string, scan func(scanner) (T, error), out []T, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", what, err)
	}
	defer rows.Close()
	for n := 1; rows.Next(); n++ {
		// The read pool's statements do not watch ctx (detached): a
		// long scan stops here instead once the caller is gone.
		if n%1024 == 0 && ctx.Err() != nil {
			return nil, fmt.Errorf("list %s: %w", what, ctx.Err())
		}
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list %s: %w", what, err)
	}
	return out, nil
}

// keyset describes one paginated list: rows of a table in (timeCol, id)
// order, filtered by conds.
type keyset[T any] struct {
	what    string // for errors: "events"
	from    string // "SELECT <cols> FROM <table>"
	timeCol string
	conds   []string
	args    []any
	scan    func(scanner) (T, error)
	key     func(T) cursor
}

// page returns one page and the token of the next ("" on the last). The
// cursor is the (time, id) of the last item returned, so rows inserted
// meanwhile never shift a page: no duplicates, no gaps.
func (k keyset[T]) page(ctx context.Context, q querier, p store.Page) ([]T, string, error) {
	n, err := limit(p)
	if err != nil {
		return nil, "", err
	}
	conds, args := k.conds, k.args
	if p.Token != "" {
		c, err := decodeToken(p.Token)
		if err != nil {
			return nil, "", err
		}
		conds = append(conds[:len(conds):len(conds)], "("+k.timeCol+", id) > (?, ?)")
		args = append(args[:len(args):len(args)], c.Time, c.ID)
	}
	query := k.from
	if len(conds) > 0 {
		query += " WHERE " + strings.Join(conds, " AND ")
	}
	query += " ORDER BY " + k.timeCol + ", id LIMIT ?"
	args = append(args[:len(args):len(args)], n+1)
	items, err := queryInto(ctx, q, k.what, query, k.scan, make([]T, 0, min(n+1, 128)), args...)
	if err != nil {
		return nil, "", err
	}
	if len(items) <= n {
		return items, "", nil
	}
	items = items[:n]
	return items, encodeToken(k.key(items[n-1])), nil
}

// ---- groups

const groupCols = `id, name, driver, program, desired_quantity, min_quantity,
	max_quantity, aggregation_period, aggregation_policy, replacement,
	replacement_defer_window, init_deadline, cooldown, termination_policy,
	health_check, labels, sim, predictive, official_quantity, actual_quantity,
	status, next_harmonization_at, current_period_id, current_period_label,
	created_at, updated_at, deleted_at, kubernetes, metric_sources, billing, billing_history, tenant, engine_options`

func scanGroup(sc scanner) (api.Group, error) {
	var (
		g                         api.Group
		program                   string
		health, labels, sim, pred sql.NullString
		kube, sources, options    sql.NullString
		billing, billingHist      sql.NullString
		nextHarm, deleted         sql.NullString
		created, updated          string
	)
	err := sc.Scan(&g.ID, &g.Name, &g.Driver, &program, &g.DesiredQuantity, &g.MinQuantity,
		&g.MaxQuantity, &g.AggregationPeriod, &g.AggregationPolicy, &g.Replacement,
		&g.ReplacementDeferWindow, &g.InitDeadline, &g.Cooldown, &g.TerminationPolicy,
		&health, &labels, &sim, &pred, &g.OfficialQuantity, &g.ActualQuantity,
		&g.Status, &nextHarm, &g.CurrentPeriodID, &g.CurrentPeriodLabel,
		&created, &updated, &deleted, &kube, &sources, &billing, &billingHist, &g.Tenant, &options)
	if err != nil {
		return g, err
	}
	if err := decodeJSON(&g.Program, program); err != nil {
		return g, fmt.Errorf("group %s program: %w", g.ID, err)
	}
	for _, p := range []struct {
		col sql.NullString
		dst any
	}{{health, &g.HealthCheck}, {labels, &g.Labels}, {sim, &g.Sim}, {pred, &g.Predictive}, {kube, &g.Kubernetes}, {sources, &g.MetricSources},
		{billing, &g.Billing}, {billingHist, &g.BillingHistory}, {options, &g.EngineOptions}} {
		if err := fromJSON(p.col, p.dst); err != nil {
			return g, fmt.Errorf("group %s: %w", g.ID, err)
		}
	}
	if g.NextHarmonizationAt, err = parseTimePtr(nextHarm); err != nil {
		return g, err
	}
	if g.DeletedAt, err = parseTimePtr(deleted); err != nil {
		return g, err
	}
	if g.CreatedAt, err = parseTime(created); err != nil {
		return g, err
	}
	g.UpdatedAt, err = parseTime(updated)
	return g, err
}

func (r reader) GetGroup(ctx context.Context, id string) (api.Group, error) {
	return getOne(ctx, r.q, "group", id, `SELECT `+groupCols+` FROM groups WHERE id = ?`, scanGroup, id)
}

func (r reader) BillingHistory(ctx context.Context, groupID string) ([]api.BillingRate, error) {
	return getOne(ctx, r.q, "group", groupID, `SELECT billing_history FROM groups WHERE id = ?`,
		func(sc scanner) ([]api.BillingRate, error) {
			var (
				hist []api.BillingRate
				col  sql.NullString
			)
			if err := sc.Scan(&col); err != nil {
				return nil, err
			}
			if err := fromJSON(col, &hist); err != nil {
				return nil, fmt.Errorf("group %s billing_history: %w", groupID, err)
			}
			return hist, nil
		}, groupID)
}

func (r reader) GetGroupByName(ctx context.Context, tenant, name string) (api.Group, error) {
	// The live group through the partial unique index; only a miss reads
	// the deleted ones, which have no index on name (they are few, and
	// purged after the retention). With no tenant (an admin's view) a
	// name two tenants use is a conflict: the caller must give the id.
	cond, args := "name = ?", []any{name}
	if tenant != "" {
		cond, args = "tenant = ? AND name = ?", []any{tenant, name}
	}
	live, err := queryAll(ctx, r.q, "groups named "+strconv.Quote(name),
		`SELECT `+groupCols+` FROM groups WHERE `+cond+` AND status <> 'deleted' ORDER BY tenant LIMIT 2`, scanGroup, args...)
	switch {
	case err != nil:
		return api.Group{}, err
	case len(live) > 1:
		return api.Group{}, fmt.Errorf("groups named %q live in tenants %s and %s; use the group's id: %w",
			name, live[0].Tenant, live[1].Tenant, store.ErrConflict)
	case len(live) == 1:
		return live[0], nil
	}
	return getOne(ctx, r.q, "group named", name, `SELECT `+groupCols+` FROM groups
		WHERE `+cond+` AND status = 'deleted' ORDER BY deleted_at DESC, id DESC LIMIT 1`, scanGroup, args...)
}

func (r reader) ListGroups(ctx context.Context, f store.GroupFilter) ([]api.Group, string, error) {
	k := keyset[api.Group]{
		what: "groups", from: `SELECT ` + groupCols + ` FROM groups`, timeCol: "created_at",
		scan: scanGroup,
		key:  func(g api.Group) cursor { return cursor{FormatTime(g.CreatedAt), g.ID} },
	}
	if !f.IncludeDeleted {
		k.conds = []string{"status <> 'deleted'"}
	}
	if f.Tenant != "" {
		k.conds, k.args = append(k.conds, "tenant = ?"), append(k.args, f.Tenant)
	}
	return k.page(ctx, r.q, f.Page)
}

// ---- triggers

const triggerCols = `id, group_id, name, condition, for_duration, schedule,
	change_by, change_by_percent, set_to, priority, immediate, enabled,
	created_at, updated_at, target, notify`

func scanTrigger(sc scanner) (api.Trigger, error) {
	var (
		t                api.Trigger
		changeBy, setTo  sql.NullInt64
		pct              sql.NullFloat64
		created, updated string
		target, notify   sql.NullString
	)
	err := sc.Scan(&t.ID, &t.GroupID, &t.Name, &t.Condition, &t.For, &t.Schedule,
		&changeBy, &pct, &setTo, &t.Priority, &t.Immediate, &t.Enabled, &created, &updated, &target, &notify)
	if err != nil {
		return t, err
	}
	if err := fromJSON(target, &t.Target); err != nil {
		return t, fmt.Errorf("trigger %s target: %w", t.ID, err)
	}
	if err := fromJSON(notify, &t.Notify); err != nil {
		return t, fmt.Errorf("trigger %s notify: %w", t.ID, err)
	}
	t.ChangeBy, t.SetTo = intPtr(changeBy), intPtr(setTo)
	if pct.Valid {
		t.ChangeByPercent = &pct.Float64
	}
	if t.CreatedAt, err = parseTime(created); err != nil {
		return t, err
	}
	t.UpdatedAt, err = parseTime(updated)
	return t, err
}

func (r reader) GetTrigger(ctx context.Context, id string) (api.Trigger, error) {
	return getOne(ctx, r.q, "trigger", id, `SELECT `+triggerCols+` FROM triggers WHERE id = ?`, scanTrigger, id)
}

func (r reader) ListTriggers(ctx context.Context, groupID string) ([]api.Trigger, error) {
	return queryAll(ctx, r.q, "triggers",
		`SELECT `+triggerCols+` FROM triggers WHERE group_id = ? ORDER BY created_at, id`, scanTrigger, groupID)
}

// ---- nodes

// nodeFrom reads nodes n with their group's name and how many nodes of
// the group held the same index before (launched earlier, ties by id):
// the node's name is derived from the two (api.NodeName).
const nodeFrom = `SELECT n.id, n.group_id, n.idx, n.state, n.state_reason, n.launched_at,
	n.ready_at, n.terminated_at, n.change_id, n.handle, g.name,
	(SELECT count(*) FROM nodes o WHERE o.group_id = n.group_id AND o.idx = n.idx
		AND (o.launched_at < n.launched_at OR (o.launched_at = n.launched_at AND o.id < n.id)))
	FROM nodes n JOIN groups g ON g.id = n.group_id`

func scanNode(sc scanner) (api.Node, error) {
	var (
		n                     api.Node
		launched, group       string
		earlier               int
		ready, terminated, hd sql.NullString
	)
	err := sc.Scan(&n.ID, &n.GroupID, &n.Index, &n.State, &n.StateReason, &launched,
		&ready, &terminated, &n.ChangeID, &hd, &group, &earlier)
	if err != nil {
		return n, err
	}
	n.Name = api.NodeName(group, n.Index, earlier+1)
	if n.LaunchedAt, err = parseTime(launched); err != nil {
		return n, err
	}
	if n.ReadyAt, err = parseTimePtr(ready); err != nil {
		return n, err
	}
	if n.TerminatedAt, err = parseTimePtr(terminated); err != nil {
		return n, err
	}
	if err := fromJSON(hd, &n.Handle); err != nil {
		return n, fmt.Errorf("node %s handle: %w", n.ID, err)
	}
	return n, nil
}

func (r reader) GetNode(ctx context.Context, groupID, nodeID string) (api.Node, error) {
	return getOne(ctx, r.q, "node", nodeID,
		nodeFrom+` WHERE n.group_id = ? AND n.id = ?`, scanNode, groupID, nodeID)
}

func (r reader) ListNodes(ctx context.Context, groupID string, includeTerminated bool) ([]api.Node, error) {
	q := nodeFrom + ` WHERE n.group_id = ?`
	if !includeTerminated {
		q += ` AND n.state <> 'terminated'`
	}
	return queryAll(ctx, r.q, "nodes", q+` ORDER BY n.launched_at, n.id`, scanNode, groupID)
}

func (r reader) NodeTimes(ctx context.Context, groupID string, since, until time.Time) ([]api.Node, error) {
	return r.nodeTimes(ctx, `group_id = ?`, []any{groupID}, func(col string) string { return col }, since, until)
}

func (r reader) NodeTimesEndedSince(ctx context.Context, groupID string, since time.Time) ([]api.Node, error) {
	// Two ranges of the terminated index, sorted here: ordered by launch
	// in SQL, the planner walks every node of the group instead.
	ns, err := queryAll(ctx, r.q, "node times", `SELECT `+nodeTimeCols+` FROM nodes WHERE group_id = ? AND terminated_at IS NULL
		UNION ALL SELECT `+nodeTimeCols+` FROM nodes WHERE group_id = ? AND terminated_at >= ?`,
		scanNodeTime, groupID, groupID, FormatTime(since))
	slices.SortFunc(ns, func(a, b api.Node) int {
		return cmp.Or(a.LaunchedAt.Compare(b.LaunchedAt), strings.Compare(a.ID, b.ID))
	})
	return ns, err
}

func (r reader) NodeTimesOfChanges(ctx context.Context, groupID string, changeIDs []string, since, until time.Time) ([]api.Node, error) {
	if len(changeIDs) == 0 {
		return []api.Node{}, nil
	}
	// By the change index alone: the group's and launch's indexes would
	// walk every node of the group launched before until. The list form
	// serves one change too: "change_id = ?" with this ORDER BY took about
	// twice as long over the same plan (the causality benchmark's store).
	return r.nodeTimes(ctx, r.sql.byChange+` AND `+r.sql.narrowGroup, []any{r.d.List(changeIDs), groupID},
		r.d.Unindexed, since, until)
}

// nodeTimes reads the node times of the nodes where selects (args are
// its parameters) that ran in [since, until), either end open when zero,
// in launch order. col writes the window's columns in the conditions: as
// they are, or Unindexed when where narrows better.
func (r reader) nodeTimes(ctx context.Context, where string, args []any, col func(string) string, since, until time.Time) ([]api.Node, error) {
	q := `SELECT ` + nodeTimeCols + ` FROM nodes WHERE ` + where
	if !until.IsZero() {
		q += ` AND ` + col("launched_at") + ` < ?`
		args = append(args, FormatTime(until))
	}
	if !since.IsZero() {
		q += ` AND (terminated_at IS NULL OR ` + col("terminated_at") + ` >= ?)`
		args = append(args, FormatTime(since))
	}
	return queryAll(ctx, r.q, "node times", q+` ORDER BY launched_at, id`, scanNodeTime, args...)
}

const nodeTimeCols = `id, group_id, idx, state, launched_at, terminated_at, change_id`

func scanNodeTime(sc scanner) (api.Node, error) {
	var (
		n          api.Node
		launched   string
		terminated sql.NullString
	)
	err := sc.Scan(&n.ID, &n.GroupID, &n.Index, &n.State, &launched, &terminated, &n.ChangeID)
	if err != nil {
		return n, err
	}
	if n.LaunchedAt, err = parseTime(launched); err != nil {
		return n, err
	}
	n.TerminatedAt, err = parseTimePtr(terminated)
	return n, err
}

// ---- events

const eventCols = `id, group_id, label, type, source_kind, source_id, source_name,
	time, period_id, period_label, request, immediate, proposed_quantity,
	priority, status, reason, notes, observed, node_id, node_name, parent_change_id,
	nexus_id, description, source_principal, source_on_behalf_of, parent_event_id`

func scanEvent(sc scanner) (api.Event, error) {
	var (
		e        api.Event
		tm       string
		req      sql.NullString
		proposed sql.NullInt64
		notes    string
	)
	err := sc.Scan(&e.ID, &e.GroupID, &e.Label, &e.Type, &e.Source.Kind, &e.Source.ID,
		&e.Source.Name, &tm, &e.PeriodID, &e.PeriodLabel, &req, &e.Immediate, &proposed,
		&e.Priority, &e.Status, &e.Reason, &notes, &e.Observed, &e.NodeID, &e.NodeName, &e.ParentChangeID,
		&e.NexusID, &e.Description, &e.Source.Principal, &e.Source.OnBehalfOf, &e.ParentEventID)
	if err != nil {
		return e, err
	}
	if e.Time, err = parseTime(tm); err != nil {
		return e, err
	}
	if err := fromJSON(req, &e.Request); err != nil {
		return e, fmt.Errorf("event %s request: %w", e.ID, err)
	}
	e.ProposedQuantity = intPtr(proposed)
	// The column's empty array, on almost every event, is left out on the
	// wire: nothing to decode.
	if notes != "[]" {
		if err := decodeJSON(&e.Notes, notes); err != nil {
			return e, fmt.Errorf("event %s notes: %w", e.ID, err)
		}
		if len(e.Notes) == 0 {
			e.Notes = nil
		}
	}
	return e, nil
}

func (r reader) GetEvent(ctx context.Context, id string) (api.Event, error) {
	return getOne(ctx, r.q, "event", id, `SELECT `+eventCols+` FROM events WHERE id = ?`, scanEvent, id)
}

func (r reader) GetEventByLabel(ctx context.Context, groupID, label string) (api.Event, error) {
	return getOne(ctx, r.q, "event", label,
		`SELECT `+eventCols+` FROM events WHERE group_id = ? AND label = ? AND label <> ''`, scanEvent, groupID, label)
}

func (r reader) ListEvents(ctx context.Context, f store.EventFilter) ([]api.Event, string, error) {
	k := keyset[api.Event]{
		what: "events", from: `SELECT ` + eventCols + ` FROM events`, timeCol: "time",
		scan: scanEvent,
		key:  func(e api.Event) cursor { return cursor{FormatTime(e.Time), e.ID} },
	}
	k.conds, k.args = filter{groupID: f.GroupID, since: f.Since, until: f.Until, typ: f.Type,
		periodID: f.PeriodID, status: f.Status}.where(r.sql, "time")
	return k.page(ctx, r.q, f.Page)
}

// filter is what events and changes are filtered by.
type filter struct {
	groupID      string
	since, until time.Time
	typ          string
	periodID     string
	// periodIndexed: an index leads with the period (changes have one;
	// events have none: an event's commit would write a page to it).
	periodIndexed bool
	status        string
	causedBy      string // changes only
}

// where builds the conditions of a list. Since is inclusive and Until
// exclusive, so consecutive windows never overlap.
//
// An indexed period or a caused_by event picks out a few rows of one
// group, so then the group condition is written so that the planner does
// not walk the group's whole (time, id) index, which SQLite without
// statistics would prefer because it needs no sort.
func (f filter) where(q *queries, timeCol string) ([]string, []any) {
	var conds []string
	var args []any
	add := func(cond string, arg any) {
		conds = append(conds, cond)
		args = append(args, arg)
	}
	if f.groupID != "" {
		if f.periodID != "" && f.periodIndexed || f.causedBy != "" {
			add(q.narrowGroup, f.groupID)
		} else {
			add("group_id = ?", f.groupID)
		}
	}
	if !f.since.IsZero() {
		add(timeCol+" >= ?", FormatTime(f.since))
	}
	if !f.until.IsZero() {
		add(timeCol+" < ?", FormatTime(f.until))
	}
	if f.typ != "" {
		add("type = ?", f.typ)
	}
	if f.periodID != "" {
		add("period_id = ?", f.periodID)
	}
	if f.status != "" {
		add("status = ?", f.status)
	}
	if f.causedBy != "" {
		add(q.causedBy, f.causedBy)
	}
	return conds, args
}

// ---- changes

const changeCols = `id, group_id, label, type, amount, quantity_before,
	quantity_after, status, started_at, ended_at, period_id, period_label,
	nexus_id, attribution, node_ids, parts, description`

func scanChange(sc scanner) (api.Change, error) {
	var (
		c                   api.Change
		started             string
		ended, nodes, parts sql.NullString
	)
	err := sc.Scan(&c.ID, &c.GroupID, &c.Label, &c.Type, &c.Amount, &c.QuantityBefore,
		&c.QuantityAfter, &c.Status, &started, &ended, &c.PeriodID, &c.PeriodLabel,
		&c.NexusID, &c.Attribution, &nodes, &parts, &c.Description)
	if err != nil {
		return c, err
	}
	if c.StartedAt, err = parseTime(started); err != nil {
		return c, err
	}
	if c.EndedAt, err = parseTimePtr(ended); err != nil {
		return c, err
	}
	if err := fromJSONStrings(nodes, &c.NodeIDs); err != nil {
		return c, fmt.Errorf("change %s node_ids: %w", c.ID, err)
	}
	if err := fromJSON(parts, &c.Parts); err != nil {
		return c, fmt.Errorf("change %s parts: %w", c.ID, err)
	}
	return c, nil
}

func (r reader) GetChange(ctx context.Context, id string) (api.Change, error) {
	return getOne(ctx, r.q, "change", id, `SELECT `+changeCols+` FROM changes WHERE id = ?`, scanChange, id)
}

func (r reader) GetChangeByLabel(ctx context.Context, groupID, label string) (api.Change, error) {
	return getOne(ctx, r.q, "change", label,
		`SELECT `+changeCols+` FROM changes WHERE group_id = ? AND label = ? AND label <> ''`, scanChange, groupID, label)
}

func (r reader) ListChanges(ctx context.Context, f store.ChangeFilter) ([]api.Change, string, error) {
	k := keyset[api.Change]{
		what: "changes", from: `SELECT ` + changeCols + ` FROM changes`, timeCol: "started_at",
		scan: scanChange,
		key:  func(c api.Change) cursor { return cursor{FormatTime(c.StartedAt), c.ID} },
	}
	k.conds, k.args = filter{groupID: f.GroupID, since: f.Since, until: f.Until, typ: f.Type,
		periodID: f.PeriodID, periodIndexed: true, status: f.Status, causedBy: f.CausedBy}.where(r.sql, "started_at")
	return k.page(ctx, r.q, f.Page)
}

// ---- nexus

func scanNexus(sc scanner) (api.Nexus, error) {
	var (
		n               api.Nexus
		created         string
		events, changes string
	)
	if err := sc.Scan(&n.ID, &n.GroupID, &n.Attribution, &n.PeriodID, &created, &events, &changes, &n.DecisiveEventID); err != nil {
		return n, err
	}
	var err error
	if n.CreatedAt, err = parseTime(created); err != nil {
		return n, err
	}
	if err := fromJSONStrings(sql.NullString{String: events, Valid: true}, &n.EventIDs); err != nil {
		return n, fmt.Errorf("nexus %s event_ids: %w", n.ID, err)
	}
	if err := fromJSONStrings(sql.NullString{String: changes, Valid: true}, &n.ChangeIDs); err != nil {
		return n, fmt.Errorf("nexus %s change_ids: %w", n.ID, err)
	}
	return n, nil
}

// GetNexus reads one row: the members are ordered JSON arrays on it.
func (r reader) GetNexus(ctx context.Context, id string) (api.Nexus, error) {
	return getOne(ctx, r.q, "nexus", id, r.sql.nexusSelect+` WHERE id = ?`, scanNexus, id)
}

// GetNexusesByID returns the nexus rows in the order of ids; if any is
// missing the error wraps store.ErrNotFound and names it.
func (r reader) GetNexusesByID(ctx context.Context, ids []string) ([]api.Nexus, error) {
	return getByID(ctx, r, "nexus", r.sql.nexusSelect, ids, scanNexus, func(n api.Nexus) string { return n.ID })
}

// getByID returns the rows with the given ids in the order of ids
// (duplicates repeated); any missing id is store.ErrNotFound. The ids go
// in as one List argument, so the statement text (and its cached prepared
// statement) is the same for any number of ids.
//
// One id (a single GET's cause or period, the most common call) is read
// by primary key with "id = ?": the list argument would cost a JSON
// parse and a temporary table for nothing.
func getByID[T any](ctx context.Context, r reader, kind, from string, ids []string, scan func(scanner) (T, error), id func(T) string) ([]T, error) {
	if len(ids) == 0 {
		return []T{}, nil
	}
	var (
		items []T
		err   error
	)
	if one := ids[0]; !slices.ContainsFunc(ids[1:], func(id string) bool { return id != one }) {
		items, err = queryInto(ctx, r.q, kind, from+` WHERE id = ?`, scan, make([]T, 0, 1), one)
	} else {
		items, err = queryInto(ctx, r.q, kind, from+` WHERE `+r.sql.byID, scan, make([]T, 0, len(ids)), r.d.List(ids))
	}
	if err != nil {
		return nil, err
	}
	// Rows come in the database's order; answer in the order of ids,
	// indexing positions rather than copying the records into a map.
	at := make(map[string]int, len(items))
	for i := range items {
		at[id(items[i])] = i
	}
	out := make([]T, len(ids))
	for i, v := range ids {
		j, ok := at[v]
		if !ok {
			return nil, notFound(kind, v)
		}
		out[i] = items[j]
	}
	return out, nil
}

// GetEventsByID returns the events in the order of ids; if any is missing
// the error wraps store.ErrNotFound and names it.
func (r reader) GetEventsByID(ctx context.Context, ids []string) ([]api.Event, error) {
	return getByID(ctx, r, "event", `SELECT `+eventCols+` FROM events`, ids, scanEvent,
		func(e api.Event) string { return e.ID })
}

// GetChangesByID returns the changes in the order of ids; if any is
// missing the error wraps store.ErrNotFound and names it.
func (r reader) GetChangesByID(ctx context.Context, ids []string) ([]api.Change, error) {
	return getByID(ctx, r, "change", `SELECT `+changeCols+` FROM changes`, ids, scanChange,
		func(c api.Change) string { return c.ID })
}

// ---- periods

const periodCols = `id, group_id, label, started_at, ended_at, harmonized, policy,
	desired_before, desired_after, official_before, official_after, actual,
	in_flight, requests, suppressed, aggregated_quantity, clamps, change_ids,
	summary, notes, ignored`

func scanPeriod(sc scanner) (api.Period, error) {
	var (
		p                                              api.Period
		started                                        string
		ended, requests, suppressed, clamps, changeIDs sql.NullString
		notes, ignored                                 sql.NullString
		aggregated                                     sql.NullInt64
	)
	err := sc.Scan(&p.ID, &p.GroupID, &p.Label, &started, &ended, &p.Harmonized, &p.Policy,
		&p.DesiredBefore, &p.DesiredAfter, &p.OfficialBefore, &p.OfficialAfter, &p.Actual,
		&p.InFlight, &requests, &suppressed, &aggregated, &clamps, &changeIDs, &p.Summary, &notes, &ignored)
	if err != nil {
		return p, err
	}
	if p.StartedAt, err = parseTime(started); err != nil {
		return p, err
	}
	if p.EndedAt, err = parseTimePtr(ended); err != nil {
		return p, err
	}
	p.AggregatedQuantity = intPtr(aggregated)
	err = errors.Join(fromJSONArray(requests, &p.Requests), fromJSONArray(suppressed, &p.Suppressed),
		fromJSONArray(clamps, &p.Clamps), fromJSONStrings(changeIDs, &p.ChangeIDs),
		fromJSONArray(notes, &p.Notes), fromJSONArray(ignored, &p.Ignored))
	if err != nil {
		return p, fmt.Errorf("period %s: %w", p.ID, err)
	}
	return p, nil
}

func (r reader) GetPeriod(ctx context.Context, id string) (api.Period, error) {
	return getOne(ctx, r.q, "period", id, `SELECT `+periodCols+` FROM periods WHERE id = ?`, scanPeriod, id)
}

// GetPeriodsByID returns the periods in the order of ids; if any is
// missing the error wraps store.ErrNotFound and names it.
func (r reader) GetPeriodsByID(ctx context.Context, ids []string) ([]api.Period, error) {
	return getByID(ctx, r, "period", `SELECT `+periodCols+` FROM periods`, ids, scanPeriod,
		func(p api.Period) string { return p.ID })
}

func (r reader) GetPeriodByLabel(ctx context.Context, groupID, label string) (api.Period, error) {
	return getOne(ctx, r.q, "period", label,
		`SELECT `+periodCols+` FROM periods WHERE group_id = ? AND label = ? AND label <> ''`, scanPeriod, groupID, label)
}

func (r reader) ListPeriods(ctx context.Context, groupID string, p store.Page) ([]api.Period, string, error) {
	k := keyset[api.Period]{
		what: "periods", from: `SELECT ` + periodCols + ` FROM periods`, timeCol: "started_at",
		conds: []string{"group_id = ?"}, args: []any{groupID},
		scan: scanPeriod,
		key:  func(p api.Period) cursor { return cursor{FormatTime(p.StartedAt), p.ID} },
	}
	return k.page(ctx, r.q, p)
}

// ---- samples and quantity history

func scanSample(sc scanner) (store.StoredSample, error) {
	var s store.StoredSample
	var tm string
	if err := sc.Scan(&s.Name, &s.NodeID, &tm, &s.Value); err != nil {
		return s, err
	}
	var err error
	s.Time, err = parseTime(tm)
	return s, err
}

func scanPoint(sc scanner) (store.QuantityPoint, error) {
	var p store.QuantityPoint
	var tm string
	if err := sc.Scan(&tm, &p.Desired, &p.Actual); err != nil {
		return p, err
	}
	var err error
	p.Time, err = parseTime(tm)
	return p, err
}

func (r reader) CrashLoop(ctx context.Context, groupID string) (store.CrashLoop, error) {
	return getOne(ctx, r.q, "group", groupID, `SELECT crash_failures, crash_last_failure,
		crash_last_exit, crash_held, crash_held_change, crash_held_node FROM groups WHERE id = ?`,
		func(sc scanner) (store.CrashLoop, error) {
			var c store.CrashLoop
			var last string
			if err := sc.Scan(&c.Failures, &last, &c.LastExit, &c.Held, &c.HeldChange, &c.HeldNode); err != nil {
				return c, err
			}
			if last != "" {
				t, err := parseTime(last)
				if err != nil {
					return c, fmt.Errorf("crash_last_failure: %w", err)
				}
				c.LastFailure = t
			}
			return c, nil
		}, groupID)
}

func (r reader) QuantityHistory(ctx context.Context, groupID string, since time.Time) ([]store.QuantityPoint, error) {
	return queryAll(ctx, r.q, "quantity history",
		r.sql.points, scanPoint, groupID, FormatTime(since))
}

func (r reader) Labels(ctx context.Context, groupID string) (store.Labels, error) {
	return getOne(ctx, r.q, "group", groupID, `SELECT last_event_label, last_change_label,
		last_period_label FROM groups WHERE id = ?`, func(sc scanner) (store.Labels, error) {
		var l store.Labels
		err := sc.Scan(&l.E, &l.C, &l.H)
		return l, err
	}, groupID)
}
