// Package server is pesd's HTTP API v1 (SPEC §4). Handlers decode and
// validate every request strictly (api.Validate*, api.ResolveGroupConfig,
// trigger.Compile) before anything reaches the Service, so bad input is a
// 400 naming the field and never a 500.
package server

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
	"github.com/pes-project/terraform-provider-pes/reconciler/console"
	"github.com/pes-project/terraform-provider-pes/reconciler/identity"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

type server struct {
	svc  Service
	hist History
	// ids authenticates bearer tokens: the bootstrap token and those
	// issued from tokenStore.
	ids           *identity.Tokens
	bootstrap     string
	tokenStore    store.Store
	metricsPublic bool
	log           *slog.Logger
	accessLogger  *slog.Logger // of the access log's lines; log without WithAccessLog
	mux           *router
	metrics       *httpMetrics
	// hostCPUs sizes the default max_quantity of local groups, whose
	// nodes run on this host.
	hostCPUs int
	// access is what each route (by pattern) asks of its caller.
	access  map[string]identity.Access
	openapi []byte // GET /v1/openapi.json
	limits  *limiter
	ready   func(ctx context.Context) (bool, string)
	clock   clock.Clock // of sample times
	// replicas, when several pesd share one database: writes go to
	// their group's owner (WithReplicas).
	replicas Replicas
}

// New returns the HTTP handler of the API: svc does the writes, hist
// answers the reads. Every /v1 route requires
// "Authorization: Bearer <token>" but /v1/openapi.json, which describes
// the API and holds no data (as docs/openapi.json does), and so does
// /metrics unless WithMetricsPublic; /healthz, /readyz and the console's
// files under /ui/ are open. token is the bootstrap token, the admin
// principal "admin"; WithIdentity adds the tokens pesd issued. With
// neither, every /v1 request is refused: pesd never runs its API
// unauthenticated by accident.
func New(svc Service, hist History, token string, logger *slog.Logger, opts ...Option) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &server{
		svc:       svc,
		hist:      hist,
		bootstrap: token,
		log:       logger,
		mux:       &router{ServeMux: http.NewServeMux()},
		metrics:   newHTTPMetrics(),
		hostCPUs:  runtime.NumCPU(),
		access:    map[string]identity.Access{},
		limits:    newLimiter(Limits{}), // pesd passes WithLimits(DefaultLimits)
		clock:     clock.Real{},
	}
	for _, o := range opts {
		o(s)
	}
	if s.accessLogger == nil {
		s.accessLogger = s.log
	}
	s.ids = identity.New(s.tokenStore, s.clock, s.bootstrap)
	s.routes()
	return s
}

// routes builds the router from the route table and the description
// served from it.
func (s *server) routes() {
	table := s.table()
	for _, r := range table {
		s.mux.HandleFunc(r.Pattern, s.owned(r.Pattern, r.handler))
		s.access[r.Pattern] = accessOf(r)
	}
	s.openapi = mustOpenAPI(table)
	// The web console: public files (they hold no data) whose pages read
	// /v1 with the token the user gives them. Not API routes, so not in
	// the table nor the description.
	s.mux.static("GET "+console.Prefix, console.Handler())
	s.mux.static("GET /ui", http.RedirectHandler(console.Prefix, http.StatusMovedPermanently))
}

// router is the ServeMux that remembers what was registered on it, so
// the tests can check each registered route is described, however it
// was registered.
type router struct {
	*http.ServeMux
	patterns []string
	statics  []string // files that are not API routes (the console)
}

// static registers a handler of files that are not API routes.
func (r *router) static(pattern string, h http.Handler) {
	r.statics = append(r.statics, pattern)
	r.ServeMux.Handle(pattern, h)
}

func (r *router) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	r.patterns = append(r.patterns, pattern)
	r.ServeMux.HandleFunc(pattern, h)
}

func (r *router) Handle(pattern string, h http.Handler) {
	r.patterns = append(r.patterns, pattern)
	r.ServeMux.Handle(pattern, h)
}

type ctxKey struct{}

func requestID(r *http.Request) string {
	id, _ := r.Context().Value(ctxKey{}).(string)
	return id
}

// ServeHTTP wraps the mux: request id, metrics, panic recovery, bearer
// auth, and JSON answers for unknown routes and methods.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	s.metrics.start()
	id := uuid.NewString()
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, id))
	w.Header().Set("X-Request-Id", id)
	rec := &statusRecorder{ResponseWriter: w}

	_, route := s.mux.Handler(r)
	if route == "" {
		route = "unmatched"
	}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				s.metrics.observe(route, 499, time.Since(start))
				panic(v)
			}
			s.logPanic(r, v, debug.Stack())
			if !rec.wroteHeader {
				writeAPIError(rec, &api.Error{Code: api.CodeInternal, Status: http.StatusInternalServerError,
					Message: "internal error; the pesd log has the details under request_id " + id})
			}
		}
		d := time.Since(start)
		s.metrics.observe(route, rec.status(), d)
		s.accessLog(r, id, route, rec.status(), d)
	}()

	// Authenticated within the limits, so the rate limit is per token;
	// wrong tokens share one bucket.
	var auth *authentication
	release, ok := s.admit(rec, r, func() *authentication {
		if (r.URL.Path == "/v1" || strings.HasPrefix(r.URL.Path, "/v1/") || route == "GET /metrics") &&
			(route == "unmatched" || s.access[route] != identity.Public) {
			a := s.authenticate(r)
			auth = &a
		}
		return auth
	})
	if !ok {
		return
	}
	defer release()
	if auth != nil {
		if auth.err != nil {
			writeAPIError(rec, auth.err)
			return
		}
		if a := s.access[route]; route != "unmatched" && !auth.principal.May(a) {
			writeAPIError(rec, forbidden(auth.principal, a))
			return
		}
		r = r.WithContext(identity.With(r.Context(), auth.principal))
	} else if route == "GET /metrics" && r.Header.Get("Authorization") != "" {
		// --metrics-public: a scrape with a token gets its series, one
		// without gets the aggregate ones and costs no token lookup.
		if a := s.authenticate(r); a.err == nil {
			r = r.WithContext(identity.With(r.Context(), a.principal))
		}
	}
	if route == "unmatched" {
		s.notRouted(rec, r)
		return
	}
	s.mux.ServeHTTP(rec, r)
}

// accessLog writes the access log line of a request: the route's
// pattern rather than the path (ids say little, and the label set of the
// metrics is the same), and never a header, so the token stays out of
// the log. The record goes to the handler straight: Logger.LogAttrs would
// also look up its caller, for a source pesd's handlers do not print.
func (s *server) accessLog(r *http.Request, id, route string, status int, d time.Duration) {
	ctx, h := r.Context(), s.accessLogger.Handler()
	if !h.Enabled(ctx, slog.LevelInfo) {
		return
	}
	rec := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
	rec.AddAttrs(slog.String("request_id", id), slog.String("method", r.Method), slog.String("route", route),
		slog.Int("status", status), slog.Float64("duration_ms", float64(d.Microseconds())/1000), slog.String("remote", r.RemoteAddr))
	_ = h.Handle(ctx, rec) // as Logger.LogAttrs: a log that cannot be written has no one to tell
}

// bearerHash is the hash of r's bearer token; false when r has none.
func bearerHash(r *http.Request) ([sha256.Size]byte, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return [sha256.Size]byte{}, false
	}
	return identity.Hash(strings.TrimSpace(token)), true
}

// notRouted answers a path no route matches (404) or a method the path
// does not take (405, with Allow), in the error envelope rather than the
// mux's plain text.
func (s *server) notRouted(w http.ResponseWriter, r *http.Request) {
	h, _ := s.mux.Handler(r)
	probe := &headerProbe{header: http.Header{}}
	h.ServeHTTP(probe, r)
	if probe.code == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", probe.header.Get("Allow"))
		writeAPIError(w, &api.Error{Code: api.CodeInvalid, Status: http.StatusMethodNotAllowed,
			Message: r.Method + " is not allowed on " + r.URL.Path + "; allowed: " + probe.header.Get("Allow")})
		return
	}
	writeAPIError(w, &api.Error{Code: api.CodeNotFound, Status: http.StatusNotFound,
		Message: "no such endpoint: " + r.Method + " " + r.URL.Path})
}

// headerProbe records what the mux's own 404/405 handler would answer.
type headerProbe struct {
	header http.Header
	code   int
}

func (p *headerProbe) Header() http.Header         { return p.header }
func (p *headerProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *headerProbe) WriteHeader(code int)        { p.code = code }

// statusRecorder remembers the status code for the metrics and whether a
// panic can still be answered.
type statusRecorder struct {
	http.ResponseWriter
	code        int
	wroteHeader bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.code, r.wroteHeader = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if !r.wroteHeader {
		r.code, r.wroteHeader = http.StatusOK, true
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) status() int {
	if !r.wroteHeader {
		return http.StatusOK
	}
	return r.code
}
