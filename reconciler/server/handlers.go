package server

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/forecast"
	"github.com/pes-project/terraform-provider-pes/reconciler/governor"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
	"github.com/pes-project/terraform-provider-pes/reconciler/trigger"
)

// Groups.

func (s *server) createGroup(w http.ResponseWriter, r *http.Request) {
	if err := newQuery(r.URL).done(); err != nil {
		s.fail(w, r, err, "")
		return
	}
	var in api.GroupCreate
	if err := decodeBody(w, r, maxBodyBytes, &in); err != nil {
		s.fail(w, r, err, "")
		return
	}
	cfg, err := in.Resolve()
	if err == nil {
		err = checkPredictive(cfg.Predictive)
	}
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	g, err := s.svc.CreateGroup(r.Context(), cfg)
	if err != nil {
		s.fail(w, r, err, "group "+cfg.Name)
		return
	}
	w.Header().Set("Location", "/v1/groups/"+g.ID)
	writeJSON(w, http.StatusCreated, g)
}

func (s *server) listGroups(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r.URL)
	f := store.GroupFilter{IncludeDeleted: q.bool("include_deleted")}
	sc := scope("groups", q.get("include_deleted"))
	f.Limit = q.limit()
	f.Token = q.pageToken(sc)
	if err := q.done(); err != nil {
		s.fail(w, r, err, "")
		return
	}
	items, next, err := s.svc.Store().ListGroups(r.Context(), f)
	if err != nil {
		s.fail(w, r, err, "groups")
		return
	}
	writeList(w, items, sealToken(sc, next))
}

func (s *server) getGroup(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := newQuery(r.URL).done(); err != nil {
		s.fail(w, r, err, "")
		return
	}
	g, err := s.svc.Store().GetGroup(r.Context(), id)
	if err != nil {
		s.fail(w, r, err, "group "+id)
		return
	}
	writeJSON(w, http.StatusOK, g)
}

func (s *server) updateGroup(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var p api.GroupPatch
	if err := decodeBody(w, r, maxBodyBytes, &p); err != nil {
		s.fail(w, r, err, "")
		return
	}
	if err := newQuery(r.URL).done(); err != nil {
		s.fail(w, r, err, "")
		return
	}
	// Validate against the current config so the error names the field;
	// the controller applies the patch again under its per-group lock.
	cur, err := s.svc.Store().GetGroup(r.Context(), id)
	if err != nil {
		s.fail(w, r, err, "group "+id)
		return
	}
	next, err := api.ApplyGroupPatch(cur.GroupConfig, p)
	if err == nil && p.Predictive != nil {
		err = checkPredictive(next.Predictive)
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
	writeJSON(w, http.StatusOK, g)
}

// checkPredictive rejects predictive settings that api checks field by
// field but that only fail together (min_history longer than history, an
// interval over a day), so a bad config is a 400 naming predictive.<field>
// now rather than a note in every later decision record. forecast.ConfigFrom
// is the governor's own reading of the settings.
func checkPredictive(p *api.Predictive) error {
	if p == nil {
		return nil
	}
	_, err := forecast.ConfigFrom(*p)
	return err
}

func (s *server) deleteGroup(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := newQuery(r.URL).done(); err != nil {
		s.fail(w, r, err, "")
		return
	}
	if err := s.svc.DeleteGroup(r.Context(), id); err != nil {
		s.fail(w, r, err, "group "+id)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) instruct(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var in api.Instruction
	if err := decodeBody(w, r, maxBodyBytes, &in); err != nil {
		s.fail(w, r, err, "")
		return
	}
	if err := api.ValidateInstruction(&in); err != nil {
		s.fail(w, r, err, "")
		return
	}
	e, err := s.svc.Instruct(r.Context(), id, in)
	if err != nil {
		s.fail(w, r, err, "group "+id)
		return
	}
	w.Header().Set("Location", "/v1/events/"+e.ID)
	writeJSON(w, http.StatusCreated, e)
}

func (s *server) harmonize(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := newQuery(r.URL).done(); err != nil {
		s.fail(w, r, err, "")
		return
	}
	p, err := s.svc.Harmonize(r.Context(), id)
	if err != nil {
		s.fail(w, r, err, "group "+id)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *server) forecast(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := newQuery(r.URL).done(); err != nil {
		s.fail(w, r, err, "")
		return
	}
	f, err := s.svc.Forecast(r.Context(), id)
	if err != nil {
		s.fail(w, r, err, "group "+id)
		return
	}
	writeJSON(w, http.StatusOK, f)
}

// importHistory reads a quantity history exported from elsewhere, CSV or
// JSON (the parser tells them apart, so the Content-Type is not needed).
func (s *server) importHistory(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := newQuery(r.URL).done(); err != nil {
		s.fail(w, r, err, "")
		return
	}
	body := http.MaxBytesReader(w, r.Body, governor.MaxImportBytes)
	n, err := s.svc.ImportHistory(r.Context(), id, body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		err = &api.Error{Code: api.CodeTooLarge, Status: http.StatusRequestEntityTooLarge, Field: "history",
			Message: fmt.Sprintf("history is larger than %d MiB; downsample it (one point a minute is plenty)", governor.MaxImportBytes>>20)}
	}
	if err != nil {
		s.fail(w, r, err, "group "+id)
		return
	}
	writeJSON(w, http.StatusOK, api.HistoryImport{Imported: n})
}

func (s *server) pushMetrics(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var in api.MetricsRequest
	if err := decodeBody(w, r, maxMetricsBodyBytes, &in); err != nil {
		s.fail(w, r, err, "")
		return
	}
	if err := api.ValidateSamples(in.Samples); err != nil {
		s.fail(w, r, err, "")
		return
	}
	n, err := s.svc.PushMetrics(r.Context(), id, in.Samples)
	if err != nil {
		s.fail(w, r, err, "group "+id)
		return
	}
	writeJSON(w, http.StatusOK, api.MetricsResponse{Accepted: n})
}

// Nodes.

func (s *server) listNodes(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q := newQuery(r.URL)
	all := q.bool("include_terminated")
	sc := scope("nodes", id, q.get("include_terminated"))
	limit := q.limit()
	tok := q.pageToken(sc)
	if err := q.done(); err != nil {
		s.fail(w, r, err, "")
		return
	}
	if _, err := s.svc.Store().GetGroup(r.Context(), id); err != nil {
		s.fail(w, r, err, "group "+id)
		return
	}
	nodes, err := s.svc.Store().ListNodes(r.Context(), id, all)
	if err != nil {
		s.fail(w, r, err, "group "+id)
		return
	}
	page, next, ok := pageOf(nodes, limit, tok)
	if !ok {
		s.fail(w, r, api.Invalid("page_token", "is not a token this list returned; omit it to start from the first page"), "")
		return
	}
	writeList(w, page, sealToken(sc, next))
}

func (s *server) terminateNode(w http.ResponseWriter, r *http.Request) {
	id, node := r.PathValue("id"), r.PathValue("node")
	if err := newQuery(r.URL).done(); err != nil {
		s.fail(w, r, err, "")
		return
	}
	e, err := s.svc.TerminateNode(r.Context(), id, node)
	if err != nil {
		s.fail(w, r, err, "node "+node+" of group "+id)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

func (s *server) failNode(w http.ResponseWriter, r *http.Request) {
	id, node := r.PathValue("id"), r.PathValue("node")
	if err := newQuery(r.URL).done(); err != nil {
		s.fail(w, r, err, "")
		return
	}
	if err := s.svc.FailNode(r.Context(), id, node); err != nil {
		s.fail(w, r, err, "node "+node+" of group "+id)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Triggers.

func (s *server) createTrigger(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var spec api.TriggerSpec
	if err := decodeBody(w, r, maxBodyBytes, &spec); err != nil {
		s.fail(w, r, err, "")
		return
	}
	if err := api.ValidateTriggerSpec(&spec, true); err != nil {
		s.fail(w, r, err, "")
		return
	}
	if err := checkTrigger(mergeTrigger(api.Trigger{GroupID: id}, spec)); err != nil {
		s.fail(w, r, err, "")
		return
	}
	t, err := s.svc.CreateTrigger(r.Context(), id, spec)
	if err != nil {
		s.fail(w, r, err, "group "+id)
		return
	}
	w.Header().Set("Location", "/v1/triggers/"+t.ID)
	writeJSON(w, http.StatusCreated, t)
}

func (s *server) listTriggers(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q := newQuery(r.URL)
	sc := scope("triggers", id)
	limit := q.limit()
	tok := q.pageToken(sc)
	if err := q.done(); err != nil {
		s.fail(w, r, err, "")
		return
	}
	if _, err := s.svc.Store().GetGroup(r.Context(), id); err != nil {
		s.fail(w, r, err, "group "+id)
		return
	}
	ts, err := s.svc.Store().ListTriggers(r.Context(), id)
	if err != nil {
		s.fail(w, r, err, "group "+id)
		return
	}
	page, next, ok := pageOf(ts, limit, tok)
	if !ok {
		s.fail(w, r, api.Invalid("page_token", "is not a token this list returned; omit it to start from the first page"), "")
		return
	}
	writeList(w, page, sealToken(sc, next))
}

func (s *server) getTrigger(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := newQuery(r.URL).done(); err != nil {
		s.fail(w, r, err, "")
		return
	}
	t, err := s.svc.Store().GetTrigger(r.Context(), id)
	if err != nil {
		s.fail(w, r, err, "trigger "+id)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *server) updateTrigger(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var spec api.TriggerSpec
	if err := decodeBody(w, r, maxBodyBytes, &spec); err != nil {
		s.fail(w, r, err, "")
		return
	}
	if err := newQuery(r.URL).done(); err != nil {
		s.fail(w, r, err, "")
		return
	}
	if err := api.ValidateTriggerSpec(&spec, false); err != nil {
		s.fail(w, r, err, "")
		return
	}
	cur, err := s.svc.Store().GetTrigger(r.Context(), id)
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
	if err := newQuery(r.URL).done(); err != nil {
		s.fail(w, r, err, "")
		return
	}
	if err := s.svc.DeleteTrigger(r.Context(), id); err != nil {
		s.fail(w, r, err, "trigger "+id)
		return
	}
	w.WriteHeader(http.StatusNoContent)
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
	var in api.ValidateConditionRequest
	if err := decodeBody(w, r, maxBodyBytes, &in); err != nil {
		s.fail(w, r, err, "")
		return
	}
	if err := newQuery(r.URL).done(); err != nil {
		s.fail(w, r, err, "")
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

func (s *server) listEvents(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q := newQuery(r.URL)
	f := store.EventFilter{GroupID: id, Since: q.time("since"), Until: q.time("until"), Type: q.enum("type", api.EventTypes())}
	sc := scope("events", id, q.get("since"), q.get("until"), q.get("type"))
	f.Limit = q.limit()
	f.Token = q.pageToken(sc)
	if err := q.done(); err != nil {
		s.fail(w, r, err, "")
		return
	}
	if err := checkRange(f.Since, f.Until); err != nil {
		s.fail(w, r, err, "")
		return
	}
	if _, err := s.svc.Store().GetGroup(r.Context(), id); err != nil {
		s.fail(w, r, err, "group "+id)
		return
	}
	items, next, err := s.svc.Store().ListEvents(r.Context(), f)
	if err != nil {
		s.fail(w, r, err, "events of group "+id)
		return
	}
	writeList(w, items, sealToken(sc, next))
}

func (s *server) getEvent(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := newQuery(r.URL).done(); err != nil {
		s.fail(w, r, err, "")
		return
	}
	e, err := s.svc.ExplainEvent(r.Context(), id)
	if err != nil {
		s.fail(w, r, err, "event "+id)
		return
	}
	if e.Effects == nil {
		e.Effects = []api.Effect{}
	}
	writeJSON(w, http.StatusOK, e)
}

func (s *server) listChanges(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q := newQuery(r.URL)
	f := store.ChangeFilter{GroupID: id, Since: q.time("since"), Until: q.time("until"),
		Type: q.enum("type", api.ChangeTypes()), CausedBy: strings.TrimSpace(q.get("caused_by"))}
	sc := scope("changes", id, q.get("since"), q.get("until"), q.get("type"), f.CausedBy)
	f.Limit = q.limit()
	f.Token = q.pageToken(sc)
	if err := q.done(); err != nil {
		s.fail(w, r, err, "")
		return
	}
	if err := checkRange(f.Since, f.Until); err != nil {
		s.fail(w, r, err, "")
		return
	}
	if _, err := s.svc.Store().GetGroup(r.Context(), id); err != nil {
		s.fail(w, r, err, "group "+id)
		return
	}
	if isLabel(f.CausedBy, 'E') {
		// People read labels ("E4"); resolve one to the event's id.
		e, err := s.svc.Store().GetEventByLabel(r.Context(), id, strings.ToUpper(f.CausedBy))
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				err = api.Invalid("caused_by", "group %s has no event %s", id, strings.ToUpper(f.CausedBy))
			}
			s.fail(w, r, err, "")
			return
		}
		f.CausedBy = e.ID
	}
	items, next, err := s.svc.Store().ListChanges(r.Context(), f)
	if err != nil {
		s.fail(w, r, err, "changes of group "+id)
		return
	}
	writeList(w, items, sealToken(sc, next))
}

func (s *server) getChange(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := newQuery(r.URL).done(); err != nil {
		s.fail(w, r, err, "")
		return
	}
	c, err := s.svc.ExplainChange(r.Context(), id)
	if err != nil {
		s.fail(w, r, err, "change "+id)
		return
	}
	if c.Causes == nil {
		c.Causes = []api.Cause{}
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *server) listPeriods(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q := newQuery(r.URL)
	sc := scope("periods", id)
	p := store.Page{Limit: q.limit(), Token: q.pageToken(sc)}
	if err := q.done(); err != nil {
		s.fail(w, r, err, "")
		return
	}
	if _, err := s.svc.Store().GetGroup(r.Context(), id); err != nil {
		s.fail(w, r, err, "group "+id)
		return
	}
	items, next, err := s.svc.Store().ListPeriods(r.Context(), id, p)
	if err != nil {
		s.fail(w, r, err, "periods of group "+id)
		return
	}
	writeList(w, items, sealToken(sc, next))
}

func (s *server) getPeriod(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := newQuery(r.URL).done(); err != nil {
		s.fail(w, r, err, "")
		return
	}
	p, err := s.svc.Store().GetPeriod(r.Context(), id)
	if err != nil {
		s.fail(w, r, err, "period "+id)
		return
	}
	writeJSON(w, http.StatusOK, p)
}
