package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"syscall"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// Replicas is the seam of several pesd replicas on one database
// (*replica.Router implements it). Any replica answers the API: reads
// come from the database; a write for a group is forwarded to the
// replica that owns the group, at the address recorded with its lease,
// and answered as the owner answers. Writes are forwarded rather than
// queued in the database because the owner's answer is the record it
// writes (the event, the period): the client sees the same answer
// whichever replica it reaches.
type Replicas interface {
	// Self is this replica's id.
	Self() string
	// Owner is the replica owning the group now; ok is false while no
	// live lease holds its shard.
	Owner(ctx context.Context, groupID string) (r api.Replica, self, ok bool, err error)
	// Creator is a replica that can create a group (one holding a shard).
	Creator(ctx context.Context) (r api.Replica, self, ok bool, err error)
	// OwnerOf is the group's owner as of the last lease round, for the
	// group's owner field.
	OwnerOf(groupID string) string
	List(ctx context.Context) (api.ReplicaList, error)
}

// WithReplicas shares the groups with other replicas: writes for a group
// go to its owner, GET /v1/replicas lists the replicas and their leases,
// and groups show their owner.
func WithReplicas(r Replicas) Option { return func(s *server) { s.replicas = r } }

// HeaderForwardedBy names the replica that forwarded a request. A
// forwarded request is never forwarded again: the replica that gets it
// answers, 503 if the group moved meanwhile.
const HeaderForwardedBy = "X-Pes-Forwarded-By"

func (s *server) listReplicas(w http.ResponseWriter, r *http.Request) {
	if s.replicas == nil {
		// One pesd: it owns every group, and holds no leases.
		writeJSON(w, http.StatusOK, api.ReplicaList{Replicas: []api.Replica{{Self: true, Live: true, Leases: []api.Lease{}}}, Unowned: []int{}})
		return
	}
	l, err := s.replicas.List(r.Context())
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusOK, l)
}

// owned wraps a route's handler so the request is answered by the
// replica owning its group.
func (s *server) owned(pattern string, h http.HandlerFunc) http.HandlerFunc {
	method, path, _ := strings.Cut(pattern, " ")
	forward := method != http.MethodGet || path == "/v1/groups/{id}"
	if !forward || path == "/v1/triggers/validate" {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if s.replicas == nil || r.Header.Get(HeaderForwardedBy) != "" {
			h(w, r)
			return
		}
		var (
			rep        api.Replica
			self, ok   bool
			err        error
			groupID, _ = s.requestGroup(r, path)
		)
		switch {
		case pattern == "POST /v1/groups" && createsLocal(r):
			// A local group's nodes run on the host of the replica
			// reached, which keeps the group (pinned).
			h(w, r)
			return
		case pattern == "POST /v1/groups":
			rep, self, ok, err = s.replicas.Creator(r.Context())
		case groupID == "":
			// Not found or bad input: answered here as any replica would.
			h(w, r)
			return
		default:
			rep, self, ok, err = s.replicas.Owner(r.Context(), groupID)
		}
		switch {
		case err != nil:
			s.fail(w, r, err, "")
		case !ok:
			notApplied(w, "no pesd replica owns this group right now (its shard is moving after a replica left); nothing was changed: retry in a few seconds")
		case self:
			h(w, r)
		default:
			s.forwardTo(w, r, rep)
		}
	}
}

// requestGroup is the id of the group a request acts on, "" when it
// cannot be told (the handler then answers the error).
func (s *server) requestGroup(r *http.Request, path string) (string, error) {
	ctx := r.Context()
	switch {
	case strings.HasPrefix(path, "/v1/groups/{id}"):
		return s.groupID(ctx, tenantOf(r), r.PathValue("id"), false)
	case strings.HasPrefix(path, "/v1/triggers/{id}"):
		t, err := s.hist.ResolveTrigger(ctx, tenantOf(r), r.PathValue("id"), r.URL.Query().Get("group"))
		return t.GroupID, err
	case path == "/v1/executions":
		// The group is in the body: read it, and put it back for the
		// handler or the owner.
		body, err := io.ReadAll(io.LimitReader(r.Body, maxMetricsBodyBytes+1))
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err != nil {
			return "", err
		}
		var in struct {
			GroupID string `json:"group_id"`
		}
		if json.Unmarshal(body, &in) != nil || in.GroupID == "" {
			return "", nil
		}
		g, err := s.hist.ResolveGroup(ctx, tenantOf(r), in.GroupID, false)
		return g.ID, err
	case strings.HasPrefix(path, "/v1/executions/{id}"):
		xh, ok := s.hist.(ExecutionHistory)
		if !ok {
			return "", nil
		}
		x, err := xh.GetExecution(ctx, r.PathValue("id"))
		return x.GroupID, err
	}
	return "", nil
}

// createsLocal reports whether a POST /v1/groups asks for the local
// driver; the body is read and put back for the handler.
func createsLocal(r *http.Request) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	r.Body = io.NopCloser(bytes.NewReader(body))
	var in struct {
		Driver string `json:"driver"`
	}
	return err == nil && json.Unmarshal(body, &in) == nil && in.Driver == api.DriverLocal
}

// forwardTo sends the request to rep and relays its answer.
func (s *server) forwardTo(w http.ResponseWriter, r *http.Request, rep api.Replica) {
	s.log.DebugContext(r.Context(), "forwarded to the group's owner", "request_id", requestID(r), "owner", rep.ID, "method", r.Method, "path", r.URL.Path)
	target := &url.URL{Scheme: "http", Host: rep.Address}
	p := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = rep.Address
			pr.Out.Header.Set(HeaderForwardedBy, s.replicas.Self())
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			s.log.Warn("forward to the group's owner failed", "owner", rep.ID, "address", rep.Address, "err", err)
			if neverSent(err) {
				notApplied(w, "the group's owner, replica "+rep.ID+", could not be reached; nothing was changed: retry in a few seconds")
				return
			}
			// It may have acted before the connection broke: only the
			// client knows whether sending again is safe.
			w.Header().Set("Retry-After", "2")
			writeAPIError(w, &api.Error{Code: api.CodeUnavailable, Status: http.StatusServiceUnavailable,
				Message: "the group's owner, replica " + rep.ID + ", did not answer; it may or may not have acted"})
		},
	}
	p.ServeHTTP(w, r)
}

// neverSent reports whether a forward failed before it reached the owner:
// the connection was refused or could not be dialled.
func neverSent(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// owner sets the group's owner field.
func (s *server) owner(g *api.Group) {
	if s.replicas != nil && g.Status != api.GroupDeleted {
		g.Owner = s.replicas.OwnerOf(g.ID)
	}
}
