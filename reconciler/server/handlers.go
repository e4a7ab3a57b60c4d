package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/forecast"
	"github.com/pes-project/terraform-provider-pes/reconciler/governor"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
	"github.com/pes-project/terraform-provider-pes/reconciler/trigger"
)

// The shapes every handler shares. A route's handler says what is its
// own (the body, the filters, the Service call) and one of these does the
// rest the same way for every route: the query checked, the errors
// answered, the answer written.

// none is the answer of a call that has none (204).
type none struct{}

// serve answers a request without a body or query parameters: do is the
// call, status the answer's status (204 writes no body). what names the
// object for a 404.
func serve[T any](s *server, w http.ResponseWriter, r *http.Request, what string, status int, do func(context.Context) (T, error)) {
	serveQuery(s, w, r, newQuery(r.URL), what, status, do)
}

// serveQuery is serve for a request whose query parameters the caller
// read from q for do.
func serveQuery[T any](s *server, w http.ResponseWriter, r *http.Request, q *query, what string, status int, do func(context.Context) (T, error)) {
	if err := q.done(); err != nil {
		s.fail(w, r, err, "")
		return
	}
	v, err := do(r.Context())
	if err != nil {
		s.fail(w, r, err, what)
		return
	}
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, v)
}

// decodeRequest reads a request whose JSON body is a T and that takes no
// query parameters, checks it with check (nil: no check) and answers
// the first problem itself; ok reports whether the caller goes on.
func decodeRequest[T any](s *server, w http.ResponseWriter, r *http.Request, limit int64, check func(*T) error) (in T, ok bool) {
	err := decodeBody(w, r, limit, &in)
	if err == nil {
		err = newQuery(r.URL).done()
	}
	if err == nil && check != nil {
		err = check(&in)
	}
	if err != nil {
		s.fail(w, r, err, "")
		return in, false
	}
	return in, true
}

// created answers 201 with the new object and its Location.
func created(w http.ResponseWriter, location string, v any) {
	w.Header().Set("Location", location)
	writeJSON(w, http.StatusCreated, v)
}

// listing is what a list route says about itself; serveList does the rest.
type listing struct {
	// name is the list's ("events"), for page tokens and messages.
	name string
	// filters are the raw values of its filters: a page token is valid
	// only with the filters it was issued for.
	filters []string
	// check, when set, checks the filters together once each is valid
	// (until after since).
	check func() error
}

// serveList answers a list: q holds the filters the caller read; limit
// and page_token are read here, then fetch reads one page. The group of
// the path (if any) was resolved by byGroup.
func serveList[T any](s *server, w http.ResponseWriter, r *http.Request, q *query, l listing,
	fetch func(context.Context, store.Page) ([]T, string, error)) {
	id := r.PathValue("id")
	parts := []string{l.name}
	if id != "" {
		parts = append(parts, id)
	}
	sc := scope(append(parts, l.filters...)...)
	p := store.Page{Limit: q.limit(), Token: q.pageToken(sc)}
	err := q.done()
	if err == nil && l.check != nil {
		err = l.check()
	}
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	what := l.name
	if id != "" {
		what += " of group " + id
	}
	items, next, err := fetch(r.Context(), p)
	if err != nil {
		s.fail(w, r, err, what)
		return
	}
	writeList(w, items, sealToken(sc, next))
}

// inMemory pages a list the store returns whole (nodes, triggers).
func inMemory[T any](all func(context.Context) ([]T, error)) func(context.Context, store.Page) ([]T, string, error) {
	return func(ctx context.Context, p store.Page) ([]T, string, error) {
		items, err := all(ctx)
		if err != nil {
			return nil, "", err
		}
		page, next, ok := pageOf(items, p.Limit, p.Token)
		if !ok {
			return nil, "", api.Invalid("page_token", "is not a token this list returned; omit it to start from the first page")
		}
		return page, next, nil
	}
}

// detailed turns a page of records into their details (causes or effects
// and explanations), explained together.
func detailed[T, D any](fetch func(context.Context, store.Page) ([]T, string, error),
	explain func(context.Context, []T) ([]D, error)) func(context.Context, store.Page) ([]D, string, error) {
	return func(ctx context.Context, p store.Page) ([]D, string, error) {
		items, next, err := fetch(ctx, p)
		if err != nil || len(items) == 0 {
			return nil, next, err
		}
		ds, err := explain(ctx, items)
		return ds, next, err
	}
}

// Groups.

func (s *server) createGroup(w http.ResponseWriter, r *http.Request) {
	var cfg api.GroupConfig
	in, ok := decodeRequest(s, w, r, maxBodyBytes, func(in *api.GroupCreate) error {
		var err error
		if cfg, err = in.Resolve(s.hostCPUs); err != nil {
			return err
		}
		return forecast.Check(cfg.Predictive)
	})
	if !ok {
		return
	}
	tenant, err := tenantForCreate(r, cfg.Tenant)
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	cfg.Tenant = tenant
	g, err := s.svc.CreateGroupBy(r.Context(), cfg, in.Actor)
	if err != nil {
		s.fail(w, r, err, "group "+cfg.Name)
		return
	}
	s.owner(&g)
	created(w, "/v1/groups/"+g.ID, g)
}

func (s *server) listGroups(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r.URL)
	f := store.GroupFilter{IncludeDeleted: q.bool("include_deleted"), Tenant: tenantOf(r)}
	serveList(s, w, r, q, listing{name: "groups", filters: []string{q.get("include_deleted")}},
		func(ctx context.Context, p store.Page) ([]api.Group, string, error) {
			f.Page = p
			gs, next, err := s.hist.ListGroups(ctx, f)
			for i := range gs {
				s.health(&gs[i])
			}
			return gs, next, err
		})
}

// getGroup answers a group by id or name (as byGroup resolves them); with
// include_deleted, a name whose groups are all deleted answers the one
// deleted last, which is how a client reaches its history by name. With
// ?wait=<cond>[&timeout=<d>] it waits for the condition (api.GroupWait)
// first: it answers as soon as the condition holds, the group is deleted,
// or the timeout passes, with the group as it is then and api.HeaderWait
// saying which.
func (s *server) getGroup(w http.ResponseWriter, r *http.Request) {
	ref := r.PathValue("id")
	q := newQuery(r.URL)
	deleted := q.bool("include_deleted")
	cond, timeout, waiting := q.wait()
	serveQuery(s, w, r, q, "group "+ref, http.StatusOK, func(ctx context.Context) (api.Group, error) {
		g, err := s.hist.ResolveGroup(ctx, tenantOf(r), ref, deleted)
		if err != nil {
			return g, err
		}
		if waiting {
			g, outcome, werr := s.waitGroup(ctx, g.ID, cond, timeout)
			if werr != nil {
				return g, werr
			}
			w.Header().Set(api.HeaderWait, outcome)
			s.health(&g)
			return g, nil
		}
		s.health(&g)
		return g, err
	})
}

// waitGroup re-reads group id each time a commit writes it, until cond
// holds, the group is deleted, or timeout passes.
func (s *server) waitGroup(ctx context.Context, id string, cond api.GroupWait, timeout time.Duration) (api.Group, string, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		// Watch before reading, so a write in between is not missed.
		changed, done := s.svc.WatchGroup(id)
		// id is the group ResolveGroup found for the caller's tenant.
		g, err := s.hist.ResolveGroup(ctx, "", id, true)
		switch {
		case err != nil:
			done()
			return g, "", err
		case cond.Holds(g):
			done()
			return g, api.WaitMet, nil
		case g.Status == api.GroupDeleted:
			done()
			return g, api.WaitDeleted, nil
		}
		select {
		case <-changed:
			done()
		case <-deadline.C:
			done()
			return g, api.WaitTimeout, nil
		case <-ctx.Done():
			done()
			return g, "", ctx.Err()
		}
	}
}

func (s *server) updateGroup(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	p, ok := decodeRequest[api.GroupPatch](s, w, r, maxBodyBytes, nil)
	if !ok {
		return
	}
	// Validate against the current config so the error names the field;
	// the controller applies the patch again under its per-group lock.
	next, err := api.ApplyGroupPatch(groupOf(r).GroupConfig, p)
	if err == nil && p.Predictive != nil {
		err = forecast.Check(next.Predictive)
	}
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	g, err := s.svc.UpdateGroup(r.Context(), id, p)
	if err != nil {
		s.fail(w, r, err, "group "+id)
		return
	}
	s.health(&g)
	writeJSON(w, http.StatusOK, g)
}

func (s *server) deleteGroup(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q := newQuery(r.URL)
	actor := q.actor()
	serveQuery(s, w, r, q, "group "+id, http.StatusNoContent, func(ctx context.Context) (none, error) {
		return none{}, s.svc.DeleteGroupBy(ctx, id, actor)
	})
}

func (s *server) instruct(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	in, ok := decodeRequest(s, w, r, maxBodyBytes, api.ValidateInstruction)
	if !ok {
		return
	}
	e, err := s.svc.Instruct(r.Context(), id, in)
	if err != nil {
		s.fail(w, r, err, "group "+id)
		return
	}
	created(w, "/v1/events/"+e.ID, e)
}

func (s *server) harmonize(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	serve(s, w, r, "group "+id, http.StatusOK, func(ctx context.Context) (api.Period, error) {
		return s.svc.Harmonize(ctx, id)
	})
}

func (s *server) forecast(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	serve(s, w, r, "group "+id, http.StatusOK, func(ctx context.Context) (api.Forecast, error) {
		return s.svc.Forecast(ctx, id)
	})
}

// importHistory reads a quantity history exported from elsewhere, CSV or
// JSON (the parser tells them apart, so the Content-Type is not needed).
func (s *server) importHistory(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	serve(s, w, r, "group "+id, http.StatusOK, func(ctx context.Context) (api.HistoryImport, error) {
		body := http.MaxBytesReader(w, r.Body, governor.MaxImportBytes)
		n, err := s.svc.ImportHistory(ctx, id, body)
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			err = &api.Error{Code: api.CodeTooLarge, Status: http.StatusRequestEntityTooLarge, Field: "history",
				Message: fmt.Sprintf("history is larger than %d MiB; downsample it (one point a minute is plenty)", governor.MaxImportBytes>>20)}
		}
		return api.HistoryImport{Imported: n}, err
	})
}

func (s *server) pushMetrics(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	in, ok := decodeRequest(s, w, r, maxMetricsBodyBytes, func(in *api.MetricsRequest) error {
		return api.ValidateSamples(in.Samples, s.clock.Now())
	})
	if !ok {
		return
	}
	n, err := s.svc.PushMetrics(r.Context(), id, in.Samples)
	if err != nil {
		s.fail(w, r, err, "group "+id)
		return
	}
	writeJSON(w, http.StatusOK, api.MetricsResponse{Accepted: n})
}

func (s *server) whatIf(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	in, ok := decodeRequest[api.WhatIfRequest](s, w, r, maxBodyBytes, nil)
	if !ok {
		return
	}
	out, err := s.svc.WhatIf(r.Context(), id, in)
	if err != nil {
		s.fail(w, r, err, "group "+id)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// Nodes.

func (s *server) listNodes(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q := newQuery(r.URL)
	all := q.bool("include_terminated")
	serveList(s, w, r, q, listing{name: "nodes", filters: []string{q.get("include_terminated")}},
		inMemory(func(ctx context.Context) ([]api.Node, error) { return s.hist.ListNodes(ctx, id, all) }))
}

func (s *server) terminateNode(w http.ResponseWriter, r *http.Request) {
	id, node := r.PathValue("id"), r.PathValue("node")
	q := newQuery(r.URL)
	actor := q.actor()
	serveQuery(s, w, r, q, "node "+node+" of group "+id, http.StatusOK, func(ctx context.Context) (api.Event, error) {
		return s.svc.TerminateNodeBy(ctx, id, node, actor)
	})
}

func (s *server) failNode(w http.ResponseWriter, r *http.Request) {
	id, node := r.PathValue("id"), r.PathValue("node")
	serve(s, w, r, "node "+node+" of group "+id, http.StatusNoContent, func(ctx context.Context) (none, error) {
		return none{}, s.svc.FailNode(ctx, id, node)
	})
}

// Triggers.

func (s *server) createTrigger(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	spec, ok := decodeRequest(s, w, r, maxBodyBytes, func(spec *api.TriggerSpec) error {
		if err := api.ValidateTriggerSpec(spec, true); err != nil {
			return err
		}
		return checkTrigger(mergeTrigger(api.Trigger{GroupID: id}, *spec))
	})
	if !ok {
		return
	}
	t, err := s.svc.CreateTrigger(r.Context(), id, spec)
	if err != nil {
		s.fail(w, r, err, "group "+id)
		return
	}
	created(w, "/v1/triggers/"+t.ID, t)
}

func (s *server) listTriggers(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	serveList(s, w, r, newQuery(r.URL), listing{name: "triggers"},
		inMemory(func(ctx context.Context) ([]api.Trigger, error) { return s.hist.ListTriggers(ctx, id) }))
}

func (s *server) getTrigger(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	serve(s, w, r, "trigger "+id, http.StatusOK, func(ctx context.Context) (api.Trigger, error) {
		return s.hist.GetTrigger(ctx, id)
	})
}

func (s *server) updateTrigger(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	spec, ok := decodeRequest(s, w, r, maxBodyBytes, func(spec *api.TriggerSpec) error {
		return api.ValidateTriggerSpec(spec, false)
	})
	if !ok {
		return
	}
	cur, err := s.hist.ResolveTrigger(r.Context(), "", id, "")
	if err != nil {
		s.fail(w, r, err, "trigger "+id)
		return
	}
	if err := checkTrigger(mergeTrigger(cur, spec)); err != nil {
		s.fail(w, r, err, "")
		return
	}
	t, err := s.svc.UpdateTrigger(r.Context(), id, spec)
	if err != nil {
		s.fail(w, r, err, "trigger "+id)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *server) deleteTrigger(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	serve(s, w, r, "trigger "+id, http.StatusNoContent, func(ctx context.Context) (none, error) {
		return none{}, s.svc.DeleteTrigger(ctx, id)
	})
}

// mergeTrigger returns cur with the evaluable fields of spec applied, to
// check the trigger as it will be.
func mergeTrigger(cur api.Trigger, spec api.TriggerSpec) api.Trigger {
	if spec.Condition != nil {
		cur.Condition = *spec.Condition
	}
	if spec.For != nil {
		cur.For = *spec.For
	}
	if spec.Schedule != nil {
		cur.Schedule = *spec.Schedule
	}
	if spec.ChangeBy != nil || spec.ChangeByPercent != nil || spec.SetTo != nil || spec.Target != nil {
		cur.Request, cur.Notify = spec.Request, nil
	}
	if spec.Notify != nil {
		cur.Request, cur.Notify = api.Request{}, spec.Notify
	}
	return cur
}

// checkTrigger compiles the condition and parses for and schedule with
// package trigger, as the evaluator will, and turns a problem into a 400
// naming the field; a condition error carries its line and column.
func checkTrigger(t api.Trigger) error {
	_, err := trigger.ParseTrigger(t)
	if err == nil {
		return nil
	}
	var fe *trigger.FieldError
	if errors.As(err, &fe) {
		return api.Invalid(fe.Field, "%s", fe.Err.Error())
	}
	return api.Invalid("condition", "%v", err)
}

func (s *server) validateCondition(w http.ResponseWriter, r *http.Request) {
	in, ok := decodeRequest[api.ValidateConditionRequest](s, w, r, maxBodyBytes, nil)
	if !ok {
		return
	}
	// A condition that does not compile is an answer, not a bad request:
	// the provider asks at plan time and shows the position.
	c, err := trigger.Compile(in.Condition)
	if err != nil {
		resp := api.ValidateConditionResponse{Message: err.Error()}
		var ce *trigger.CompileError
		if errors.As(err, &ce) {
			resp.Message, resp.Line, resp.Column, resp.Hint = ce.Message, ce.Line, ce.Column, ce.Hint
		}
		writeJSON(w, http.StatusOK, resp)
		return
	}
	writeJSON(w, http.StatusOK, api.ValidateConditionResponse{Valid: true, Metrics: c.Metrics()})
}

// History: events, changes, periods.

// listEvents answers events, or with ?include=effects each event with its
// effects and explanation.
func (s *server) listEvents(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q := newQuery(r.URL)
	f := store.EventFilter{GroupID: id, Since: q.time("since"), Until: q.time("until"), Type: q.enum("type", api.EventTypes())}
	l := listing{name: "events", filters: []string{q.get("since"), q.get("until"), q.get("type")},
		check: func() error { return checkRange(f.Since, f.Until) }}
	effects := q.include(api.IncludeEffects)
	list := func(ctx context.Context, p store.Page) ([]api.Event, string, error) {
		f.Page = p
		return s.hist.ListEvents(ctx, f)
	}
	if effects {
		serveList(s, w, r, q, l, detailed(list, s.hist.ExplainEvents))
		return
	}
	serveList(s, w, r, q, l, list)
}

func (s *server) getEvent(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	serve(s, w, r, "event "+id, http.StatusOK, func(ctx context.Context) (api.EventDetail, error) {
		return s.hist.ExplainEvent(ctx, id)
	})
}

// listChanges answers changes, or with ?include=causes each change with
// its causes and explanation.
func (s *server) listChanges(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q := newQuery(r.URL)
	f := store.ChangeFilter{GroupID: id, Since: q.time("since"), Until: q.time("until"),
		Type: q.enum("type", api.ChangeTypes()), CausedBy: strings.TrimSpace(q.get("caused_by"))}
	l := listing{name: "changes", filters: []string{q.get("since"), q.get("until"), q.get("type"), f.CausedBy},
		check: func() error { return checkRange(f.Since, f.Until) }}
	causes := q.include(api.IncludeCauses)
	list := func(ctx context.Context, p store.Page) ([]api.Change, string, error) {
		f.Page = p
		return s.hist.ListChanges(ctx, f)
	}
	if causes {
		serveList(s, w, r, q, l, detailed(list, s.explainChanges))
		return
	}
	serveList(s, w, r, q, l, list)
}

func (s *server) getChange(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	serve(s, w, r, "change "+id, http.StatusOK, func(ctx context.Context) (api.ChangeDetail, error) {
		d, err := s.hist.ExplainChange(ctx, id)
		if err != nil {
			return d, err
		}
		ds, err := s.hist.Costed(ctx, []api.ChangeDetail{d}, s.clock.Now())
		if err != nil {
			return d, err
		}
		return ds[0], nil
	})
}

func (s *server) listPeriods(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	serveList(s, w, r, newQuery(r.URL), listing{name: "periods"},
		func(ctx context.Context, p store.Page) ([]api.Period, string, error) {
			return s.hist.ListPeriods(ctx, id, p)
		})
}

// timeline answers the console's chart. The window is the caller's to
// give (since and until both), so the answer depends on no clock.
func (s *server) timeline(w http.ResponseWriter, r *http.Request) {
	g := groupOf(r)
	q := newQuery(r.URL)
	since, until := q.time("since"), q.time("until")
	buckets := api.DefaultTimelineBuckets
	if v := q.get("buckets"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > api.MaxTimelineBuckets {
			q.setErr(api.Invalid("buckets", "must be a whole number from 1 to %d; got %q", api.MaxTimelineBuckets, v))
		}
		buckets = n
	}
	switch {
	case q.get("since") == "":
		q.setErr(api.Invalid("since", "is required: the start of the window, an RFC 3339 time"))
	case q.get("until") == "":
		q.setErr(api.Invalid("until", "is required: the end of the window, an RFC 3339 time"))
	}
	if err := checkRange(since, until); err != nil {
		q.setErr(err)
	}
	serveQuery(s, w, r, q, "group "+g.ID, http.StatusOK, func(ctx context.Context) (api.Timeline, error) {
		return s.hist.Timeline(ctx, g, since, until, buckets)
	})
}

// explainChanges is a page of changes with their causes, explanations
// and costs, as GET /v1/changes/{id} answers each one.
func (s *server) explainChanges(ctx context.Context, cs []api.Change) ([]api.ChangeDetail, error) {
	ds, err := s.hist.ExplainChanges(ctx, cs)
	if err != nil {
		return ds, err
	}
	return s.hist.Costed(ctx, ds, s.clock.Now())
}

// costs answers a group's node time and money over a window: since
// defaults to the group's creation, until to now. With limit it answers
// a page of the rows and the whole window's totals; its page token
// carries the window the first page resolved, so a later page reads the
// same window even though until defaults to a moving now.
func (s *server) costs(w http.ResponseWriter, r *http.Request) {
	g := groupOf(r)
	q := newQuery(r.URL)
	now := s.clock.Now()
	since, until := q.time("since"), q.time("until")
	by := q.enum("by", api.CostsBy())
	if by == "" {
		by = api.CostsByCause
	}
	limit := 0 // all rows, as before costs were paged
	if q.get("limit") != "" {
		limit = q.limit()
	}
	sc := scope("costs", g.ID, by, q.get("since"), q.get("until"))
	offset, paged := "", false
	if tok := q.get("page_token"); tok != "" {
		var ok bool
		offset, since, until, ok = openCostsToken(sc, tok)
		if !ok {
			q.setErr(api.Invalid("page_token", "is not a token of this query; pass the next_page_token of the previous page "+
				"with the same by, since and until, or omit it to start from the first page"))
		}
		paged = true
	}
	if err := checkRange(since, until); err != nil {
		q.setErr(err)
	}
	switch {
	case since.IsZero():
		since = g.CreatedAt
	case until.IsZero() && since.After(now):
		q.setErr(api.Invalid("since", "must not be after now (%s)", now.Format(time.RFC3339)))
	}
	if until.IsZero() {
		until = now
		if until.Before(since) { // a group created after now on a fake clock
			until = since
		}
	}
	serveQuery(s, w, r, q, "group "+g.ID, http.StatusOK, func(ctx context.Context) (api.Costs, error) {
		c, err := s.hist.Costs(ctx, g, since, until, now, by)
		if err != nil || (limit == 0 && !paged) {
			return c, err
		}
		if limit == 0 { // a page token without limit: the rest
			limit = max(len(c.Rows), 1)
		}
		rows, next, ok := pageOf(c.Rows, limit, offset)
		if !ok {
			return api.Costs{}, api.Invalid("page_token", "is not a token this list returned; omit it to start from the first page")
		}
		c.Rows = rows
		if next != "" {
			c.NextPageToken = sealToken(sc, next+" "+since.Format(time.RFC3339Nano)+" "+until.Format(time.RFC3339Nano))
		}
		return c, nil
	})
}

// openCostsToken reads a costs page token: the offset of its page and
// the window the first page resolved.
func openCostsToken(scope, tok string) (offset string, since, until time.Time, ok bool) {
	inner, ok := openToken(scope, tok)
	parts := strings.Split(inner, " ")
	if !ok || len(parts) != 3 {
		return "", time.Time{}, time.Time{}, false
	}
	since, err1 := time.Parse(time.RFC3339Nano, parts[1])
	until, err2 := time.Parse(time.RFC3339Nano, parts[2])
	return parts[0], since, until, err1 == nil && err2 == nil
}

func (s *server) getPeriod(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	serve(s, w, r, "period "+id, http.StatusOK, func(ctx context.Context) (api.Period, error) {
		return s.hist.GetPeriod(ctx, id)
	})
}
