package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// tx is the write side: store.Tx over one *sql.Tx (its reader's
// querier), with the context Update was given.
type tx struct {
	reader
	ctx context.Context
	// fenced are the shards whose token this transaction has checked,
	// and holds the lease rows of.
	fenced map[int]int64
}

var _ store.Tx = (*tx)(nil)
var _ store.FencedTx = (*tx)(nil)

// CheckFence refuses f when its shard's lease is no longer f's: another
// owner or another generation. A shard is checked once per transaction:
// its row stays held until the end.
func (t *tx) CheckFence(f store.Fence) error {
	if t.d.FenceQuery == "" {
		return fmt.Errorf("%s: this store keeps no leases: it serves one pesd", t.d.Name)
	}
	if g, ok := t.fenced[f.Shard]; ok && g == f.Generation {
		return nil
	}
	cur := store.Lease{Shard: f.Shard}
	err := t.q.QueryRowContext(t.ctx, t.d.FenceQuery, f.Shard).Scan(&cur.Owner, &cur.Generation, &cur.ExpiresAt, &cur.Released)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return t.d.mapErr(fmt.Sprintf("check the lease of shard %d", f.Shard), err)
	}
	if err != nil || cur.Owner != f.Owner || cur.Generation != f.Generation || cur.Released {
		return &store.FencedError{Fence: f, Current: cur}
	}
	if t.fenced == nil {
		t.fenced = make(map[int]int64)
	}
	t.fenced[f.Shard] = f.Generation
	return nil
}

func (t *tx) exec(what, query string, args ...any) (sql.Result, error) {
	res, err := t.q.ExecContext(t.ctx, query, args...)
	if err != nil {
		return nil, t.d.mapErr(what, err)
	}
	return res, nil
}

// execOn is exec for a statement on one row, verb kind "id": the error's
// context is built only on error, since a pass runs tens of thousands.
func (t *tx) execOn(verb, kind, id, query string, args ...any) (sql.Result, error) {
	res, err := t.q.ExecContext(t.ctx, query, args...)
	if err != nil {
		return nil, t.d.mapErr(verb+" "+kind+" "+strconv.Quote(id), err)
	}
	return res, nil
}

// update runs an UPDATE; no row matched is store.ErrNotFound.
func (t *tx) update(kind, id, query string, args ...any) error {
	res, err := t.execOn("update", kind, id, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("update %s %q: %w", kind, id, err)
	}
	if n == 0 {
		return notFound(kind, id)
	}
	return nil
}

// jsonArgs encodes several nested parts, stopping at the first error.
func jsonArgs(what string, vs ...any) ([]any, error) {
	out := make([]any, len(vs))
	for i, v := range vs {
		j, err := toJSON(v)
		if err != nil {
			return nil, fmt.Errorf("%s: encode: %w", what, err)
		}
		out[i] = j
	}
	return out, nil
}

// ---- groups

func groupArgs(g api.Group) ([]any, error) {
	js, err := jsonArgs("group "+g.ID, g.Program, g.HealthCheck, g.Labels, g.Sim, g.Predictive, g.Kubernetes, g.MetricSources, g.Billing, g.BillingHistory, g.EngineOptions)
	if err != nil {
		return nil, err
	}
	return []any{g.Name, g.Driver, js[0], g.DesiredQuantity, g.MinQuantity,
		g.MaxQuantity, g.AggregationPeriod, g.AggregationPolicy, g.Replacement,
		g.ReplacementDeferWindow, g.InitDeadline, g.Cooldown, g.TerminationPolicy,
		js[1], js[2], js[3], js[4], g.OfficialQuantity, g.ActualQuantity,
		g.Status, fmtTimePtr(g.NextHarmonizationAt), g.CurrentPeriodID, g.CurrentPeriodLabel,
		FormatTime(g.CreatedAt), FormatTime(g.UpdatedAt), fmtTimePtr(g.DeletedAt), js[5], js[6], js[7], js[8], g.Tenant, js[9], g.ID}, nil
}

func (t *tx) InsertGroup(g api.Group) error {
	if g.ID == "" {
		return fmt.Errorf("insert group: empty id")
	}
	args, err := groupArgs(g)
	if err != nil {
		return err
	}
	_, err = t.execOn("insert", "group", g.ID, `INSERT INTO groups (name, driver, program,
		desired_quantity, min_quantity, max_quantity, aggregation_period, aggregation_policy,
		replacement, replacement_defer_window, init_deadline, cooldown, termination_policy,
		health_check, labels, sim, predictive, official_quantity, actual_quantity, status,
		next_harmonization_at, current_period_id, current_period_label, created_at,
		updated_at, deleted_at, kubernetes, metric_sources, billing, billing_history, tenant, engine_options, id)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, args...)
	return err
}

func (t *tx) UpdateGroup(g api.Group) error {
	args, err := groupArgs(g)
	if err != nil {
		return err
	}
	return t.update("group", g.ID, `UPDATE groups SET name = ?, driver = ?, program = ?,
		desired_quantity = ?, min_quantity = ?, max_quantity = ?, aggregation_period = ?,
		aggregation_policy = ?, replacement = ?, replacement_defer_window = ?,
		init_deadline = ?, cooldown = ?, termination_policy = ?, health_check = ?,
		labels = ?, sim = ?, predictive = ?, official_quantity = ?, actual_quantity = ?,
		status = ?, next_harmonization_at = ?, current_period_id = ?,
		current_period_label = ?, created_at = ?, updated_at = ?, deleted_at = ?,
		kubernetes = ?, metric_sources = ?, billing = ?, billing_history = ?, tenant = ?, engine_options = ?
		WHERE id = ?`, args...)
}

func (t *tx) UpdateGroupState(g api.Group, l store.Labels) error {
	if err := checkLabels(g.ID, l); err != nil {
		return err
	}
	return t.update("group", g.ID, `UPDATE groups SET desired_quantity = ?,
		official_quantity = ?, actual_quantity = ?, next_harmonization_at = ?,
		current_period_id = ?, current_period_label = ?, updated_at = ?,
		last_event_label = ?, last_change_label = ?, last_period_label = ? WHERE id = ?`,
		g.DesiredQuantity, g.OfficialQuantity, g.ActualQuantity,
		fmtTimePtr(g.NextHarmonizationAt), g.CurrentPeriodID, g.CurrentPeriodLabel,
		FormatTime(g.UpdatedAt), l.E, l.C, l.H, g.ID)
}

// ---- triggers

func triggerArgs(tr api.Trigger) ([]any, error) {
	js, err := jsonArgs("trigger "+strconv.Quote(tr.ID), tr.Target, tr.Notify)
	if err != nil {
		return nil, err
	}
	return []any{tr.GroupID, tr.Name, tr.Condition, tr.For, tr.Schedule,
		nullInt(tr.ChangeBy), nullFloat(tr.ChangeByPercent), nullInt(tr.SetTo),
		tr.Priority, tr.Immediate, tr.Enabled,
		FormatTime(tr.CreatedAt), FormatTime(tr.UpdatedAt), js[0], js[1], tr.ID}, nil
}

func (t *tx) InsertTrigger(tr api.Trigger) error {
	if tr.ID == "" {
		return fmt.Errorf("insert trigger: empty id")
	}
	args, err := triggerArgs(tr)
	if err != nil {
		return err
	}
	_, err = t.execOn("insert", "trigger", tr.ID, `INSERT INTO triggers (group_id, name,
		condition, for_duration, schedule, change_by, change_by_percent, set_to, priority,
		immediate, enabled, created_at, updated_at, target, notify, id)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, args...)
	return err
}

func (t *tx) UpdateTrigger(tr api.Trigger) error {
	args, err := triggerArgs(tr)
	if err != nil {
		return err
	}
	return t.update("trigger", tr.ID, `UPDATE triggers SET group_id = ?, name = ?,
		condition = ?, for_duration = ?, schedule = ?, change_by = ?, change_by_percent = ?,
		set_to = ?, priority = ?, immediate = ?, enabled = ?, created_at = ?, updated_at = ?,
		target = ?, notify = ?
		WHERE id = ?`, args...)
}

func (t *tx) DeleteTrigger(id string) error {
	res, err := t.exec("delete trigger "+strconv.Quote(id), `DELETE FROM triggers WHERE id = ?`, id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete trigger %q: %w", id, err)
	} else if n == 0 {
		return notFound("trigger", id)
	}
	return nil
}

// ---- nodes

func (t *tx) UpsertNode(n api.Node) error {
	if n.ID == "" || n.GroupID == "" {
		return fmt.Errorf("upsert node: empty id or group_id")
	}
	handle, err := toJSON(n.Handle)
	if err != nil {
		return fmt.Errorf("upsert node %q: encode handle: %w", n.ID, err)
	}
	_, err = t.execOn("upsert", "node", n.ID, `INSERT INTO nodes (group_id, id, idx, state,
		state_reason, launched_at, ready_at, terminated_at, change_id, handle)
		VALUES (?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT (group_id, id) DO UPDATE SET idx = excluded.idx, state = excluded.state,
		state_reason = excluded.state_reason, launched_at = excluded.launched_at,
		ready_at = excluded.ready_at, terminated_at = excluded.terminated_at,
		change_id = excluded.change_id, handle = excluded.handle`,
		n.GroupID, n.ID, n.Index, n.State, n.StateReason, FormatTime(n.LaunchedAt),
		fmtTimePtr(n.ReadyAt), fmtTimePtr(n.TerminatedAt), n.ChangeID, handle)
	return err
}

// ---- labels

func checkLabels(groupID string, l store.Labels) error {
	if l.E < 0 || l.C < 0 || l.H < 0 {
		return fmt.Errorf("set labels of group %q: negative counter in %+v", groupID, l)
	}
	return nil
}

// SetLabels writes the counters, which live in the group's row.
func (t *tx) SetLabels(groupID string, l store.Labels) error {
	if err := checkLabels(groupID, l); err != nil {
		return err
	}
	return t.update("group", groupID, `UPDATE groups SET last_event_label = ?,
		last_change_label = ?, last_period_label = ? WHERE id = ?`, l.E, l.C, l.H, groupID)
}

// SetCrashLoop writes the group's crash loop, which lives in its row.
func (t *tx) SetCrashLoop(groupID string, c store.CrashLoop) error {
	if c.Failures < 0 {
		return fmt.Errorf("set crash loop of group %q: negative failures %d", groupID, c.Failures)
	}
	last := ""
	if !c.LastFailure.IsZero() {
		last = FormatTime(c.LastFailure)
	}
	return t.update("group", groupID, `UPDATE groups SET crash_failures = ?,
		crash_last_failure = ?, crash_last_exit = ?, crash_held = ?, crash_held_change = ?,
		crash_held_node = ? WHERE id = ?`,
		c.Failures, last, c.LastExit, c.Held, c.HeldChange, c.HeldNode, groupID)
}

// ---- events

func eventArgs(e api.Event) ([]any, error) {
	req, err := toJSON(e.Request)
	if err != nil {
		return nil, fmt.Errorf("event %q: encode request: %w", e.ID, err)
	}
	notes, err := toJSON(e.Notes)
	if err != nil {
		return nil, fmt.Errorf("event %q: encode notes: %w", e.ID, err)
	}
	if notes == nil {
		notes = "[]" // the column is never NULL: no notes is an empty array
	}
	return []any{e.GroupID, e.Label, e.Type, e.Source.Kind, e.Source.ID, e.Source.Name,
		FormatTime(e.Time), e.PeriodID, e.PeriodLabel, req, e.Immediate,
		nullInt(e.ProposedQuantity), e.Priority, e.Status, e.Reason, notes, e.Observed, e.NodeID,
		e.NodeName, e.ParentChangeID, e.NexusID, e.Description, e.Source.Principal, e.Source.OnBehalfOf, e.ParentEventID, e.ID}, nil
}

func (t *tx) InsertEvent(e api.Event) error {
	if e.ID == "" {
		return fmt.Errorf("insert event: empty id")
	}
	args, err := eventArgs(e)
	if err != nil {
		return err
	}
	_, err = t.execOn("insert", "event", e.ID, `INSERT INTO events (group_id, label, type,
		source_kind, source_id, source_name, time, period_id, period_label, request,
		immediate, proposed_quantity, priority, status, reason, notes, observed, node_id,
		node_name, parent_change_id, nexus_id, description, source_principal,
		source_on_behalf_of, parent_event_id, id)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, args...)
	return err
}

func (t *tx) UpdateEvent(e api.Event) error {
	args, err := eventArgs(e)
	if err != nil {
		return err
	}
	// The event's identity (group, label, time, period) is set at insert
	// and never rewritten: setting its columns would update all three of
	// the table's indexes for each event a harmonization links or
	// settles, and check the group's reference.
	args = append(args[2:6:6], args[9:]...)
	return t.update("event", e.ID, `UPDATE events SET type = ?,
		source_kind = ?, source_id = ?, source_name = ?,
		request = ?, immediate = ?, proposed_quantity = ?, priority = ?,
		status = ?, reason = ?, notes = ?, observed = ?, node_id = ?, node_name = ?, parent_change_id = ?,
		nexus_id = ?, description = ?, source_principal = ?, source_on_behalf_of = ?, parent_event_id = ? WHERE id = ?`, args...)
}

// ---- changes

func changeArgs(c api.Change) ([]any, error) {
	nodes, err := toJSON(c.NodeIDs)
	if err != nil {
		return nil, fmt.Errorf("change %q: encode node_ids: %w", c.ID, err)
	}
	parts, err := toJSON(c.Parts)
	if err != nil {
		return nil, fmt.Errorf("change %q: encode parts: %w", c.ID, err)
	}
	return []any{c.GroupID, c.Label, c.Type, c.Amount, c.QuantityBefore, c.QuantityAfter,
		c.Status, FormatTime(c.StartedAt), fmtTimePtr(c.EndedAt), c.PeriodID, c.PeriodLabel,
		c.NexusID, c.Attribution, nodes, parts, c.Description, c.ID}, nil
}

func (t *tx) InsertChange(c api.Change) error {
	if c.ID == "" {
		return fmt.Errorf("insert change: empty id")
	}
	args, err := changeArgs(c)
	if err != nil {
		return err
	}
	_, err = t.execOn("insert", "change", c.ID, `INSERT INTO changes (group_id, label, type,
		amount, quantity_before, quantity_after, status, started_at, ended_at, period_id,
		period_label, nexus_id, attribution, node_ids, parts, description, id)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, args...)
	return err
}

func (t *tx) UpdateChange(c api.Change) error {
	args, err := changeArgs(c)
	if err != nil {
		return err
	}
	return t.update("change", c.ID, `UPDATE changes SET group_id = ?, label = ?, type = ?,
		amount = ?, quantity_before = ?, quantity_after = ?, status = ?, started_at = ?,
		ended_at = ?, period_id = ?, period_label = ?, nexus_id = ?, attribution = ?,
		node_ids = ?, parts = ?, description = ? WHERE id = ?`, args...)
}

// ---- nexus

// members binds a nexus's member ids; nil is stored as empty (a nexus
// always answers with lists).
func (t *tx) members(ids []string) any {
	if ids == nil {
		ids = []string{}
	}
	return t.d.List(ids)
}

// InsertNexus stores the nexus with its members in the caller's order.
// Membership is the caller's to keep consistent with the NexusID of the
// events and changes (store.Tx says so); the store does not check it.
func (t *tx) InsertNexus(n api.Nexus) error {
	if n.ID == "" {
		return fmt.Errorf("insert nexus: empty id")
	}
	_, err := t.execOn("insert", "nexus", n.ID, `INSERT INTO nexus (group_id, attribution,
		period_id, created_at, event_ids, change_ids, decisive_event_id, id) VALUES (?,?,?,?,?,?,?,?)`,
		n.GroupID, n.Attribution, n.PeriodID, FormatTime(n.CreatedAt), t.members(n.EventIDs), t.members(n.ChangeIDs), n.DecisiveEventID, n.ID)
	return err
}

// UpdateNexus rewrites the nexus, members included.
func (t *tx) UpdateNexus(n api.Nexus) error {
	return t.update("nexus", n.ID, `UPDATE nexus SET group_id = ?, attribution = ?, period_id = ?,
		created_at = ?, event_ids = ?, change_ids = ?, decisive_event_id = ? WHERE id = ?`,
		n.GroupID, n.Attribution, n.PeriodID, FormatTime(n.CreatedAt), t.members(n.EventIDs), t.members(n.ChangeIDs), n.DecisiveEventID, n.ID)
}

// ---- periods

func periodArgs(p api.Period) ([]any, error) {
	js, err := jsonArgs("period "+p.ID, p.Requests, p.Suppressed, p.Clamps, p.ChangeIDs, p.Notes, p.Ignored)
	if err != nil {
		return nil, err
	}
	// The identity first: UpdatePeriod leaves it out.
	return []any{p.GroupID, p.Label, FormatTime(p.StartedAt), fmtTimePtr(p.EndedAt),
		p.Harmonized, p.Policy, p.DesiredBefore, p.DesiredAfter, p.OfficialBefore,
		p.OfficialAfter, p.Actual, p.InFlight, js[0], js[1], nullInt(p.AggregatedQuantity),
		js[2], js[3], p.Summary, js[4], js[5], p.ID}, nil
}

func (t *tx) InsertPeriod(p api.Period) error {
	if p.ID == "" {
		return fmt.Errorf("insert period: empty id")
	}
	args, err := periodArgs(p)
	if err != nil {
		return err
	}
	_, err = t.execOn("insert", "period", p.ID, `INSERT INTO periods (group_id, label,
		started_at, ended_at, harmonized, policy, desired_before, desired_after,
		official_before, official_after, actual, in_flight, requests, suppressed,
		aggregated_quantity, clamps, change_ids, summary, notes, ignored, id)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, args...)
	return err
}

func (t *tx) UpdatePeriod(p api.Period) error {
	args, err := periodArgs(p)
	if err != nil {
		return err
	}
	// The period's identity (group, label, start) is set at insert and
	// never rewritten: setting its columns would update both of the
	// table's indexes and check the group's reference, at every close.
	return t.update("period", p.ID, `UPDATE periods SET ended_at = ?, harmonized = ?, policy = ?, desired_before = ?,
		desired_after = ?, official_before = ?, official_after = ?, actual = ?,
		in_flight = ?, requests = ?, suppressed = ?, aggregated_quantity = ?, clamps = ?,
		change_ids = ?, summary = ?, notes = ?, ignored = ? WHERE id = ?`, args[3:]...)
}

// ---- samples and quantity history

func (t *tx) InsertQuantityPoints(groupID string, ps []store.QuantityPoint) error {
	for _, p := range ps {
		if _, err := t.execOn("insert", "quantity points for group", groupID,
			`INSERT INTO quantity_points (group_id, time, desired, actual) VALUES (?,?,?,?)`,
			groupID, FormatTime(p.Time), p.Desired, p.Actual); err != nil {
			return err
		}
	}
	return nil
}
