package server

import (
	"context"
	"net/http"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// Names work wherever ids go: a route's {id} is resolved here, once,
// before its handler runs, so handlers, the Service and the controller
// only ever see ids.

type groupKey struct{}

// byGroup resolves the {id} of a /v1/groups/{id}/… route (a group's id,
// or the name of a live group: history.Reader.ResolveGroup) and runs h
// with the group's id in its place. It answers a group it cannot find
// itself: a deleted group's name gets a 404 that says where its history
// is. The id of a group the Service holds passes as it is, with no read
// of the store: a busy route (instructions, metric pushes) pays for no
// read its handler does not use.
func (s *server) byGroup(h http.HandlerFunc) http.HandlerFunc {
	full := s.withGroup(h)
	return func(w http.ResponseWriter, r *http.Request) {
		if s.svc.HasGroup(r.PathValue("id"), tenantOf(r)) {
			h(w, r)
			return
		}
		full(w, r)
	}
}

// withGroup is byGroup for a handler that reads the group itself:
// groupOf(r).
func (s *server) withGroup(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ref := r.PathValue("id")
		g, err := s.hist.ResolveGroup(r.Context(), tenantOf(r), ref, false)
		if err != nil {
			s.fail(w, r, err, "group "+ref)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), groupKey{}, g))
		r.SetPathValue("id", g.ID)
		h(w, r)
	}
}

// groupID is the id of the group ref names in tenant (history.Reader.
// ResolveGroup), for a caller that needs only the id: the id of a group
// the Service holds is answered with no read of the store, as byGroup
// does.
func (s *server) groupID(ctx context.Context, tenant, ref string, includeDeleted bool) (string, error) {
	if s.svc.HasGroup(ref, tenant) {
		return ref, nil
	}
	g, err := s.hist.ResolveGroup(ctx, tenant, ref, includeDeleted)
	return g.ID, err
}

// groupOf is the group withGroup resolved, as it was when the request came.
func groupOf(r *http.Request) api.Group {
	g, _ := r.Context().Value(groupKey{}).(api.Group)
	return g
}

// byTrigger resolves the {id} of a /v1/triggers/{id} route: a trigger's
// id, or with the query parameter group (a group's id or name) the name of
// one of that group's triggers. h runs with the trigger's id in its place
// and the parameter consumed, so it reads as a request by id.
func (s *server) byTrigger(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		groups, given := q["group"]
		if !given {
			h(w, r)
			return
		}
		ref := r.PathValue("id")
		if len(groups) != 1 || groups[0] == "" {
			s.fail(w, r, api.Invalid("group", "takes one group id or name, whose trigger named %s is meant", ref), "")
			return
		}
		t, err := s.hist.ResolveTrigger(r.Context(), tenantOf(r), ref, groups[0])
		if err != nil {
			s.fail(w, r, err, "trigger "+ref+" of group "+groups[0])
			return
		}
		q.Del("group")
		u := *r.URL
		u.RawQuery = q.Encode()
		r.URL = &u
		r.SetPathValue("id", t.ID)
		h(w, r)
	}
}
