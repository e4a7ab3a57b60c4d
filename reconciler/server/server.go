// Package server is pesd's HTTP API v1 (SPEC §4). Handlers decode and
// validate every request strictly (api.Validate*, api.ResolveGroupConfig,
// trigger.Compile) before anything reaches the Service, so bad input is a
// 400 naming the field and never a 500.
package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
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
)

type server struct {
	svc       Service
	hist      History
	tokenHash [sha256.Size]byte
	noToken   bool
	log       *slog.Logger
	mux       *router
	metrics   *httpMetrics
	// hostCPUs sizes the default max_quantity of local groups, whose
	// nodes run on this host.
	hostCPUs int
	// public are the routes that need no token.
	public  map[string]bool
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
// the API and holds no data (as docs/openapi.json does); /healthz,
// /readyz, /metrics and the console's files under /ui/ are open. An empty
// token rejects every /v1 request: pesd never runs its API unauthenticated
// by accident.
func New(svc Service, hist History, token string, logger *slog.Logger, opts ...Option) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &server{
		svc:       svc,
		hist:      hist,
		tokenHash: sha256.Sum256([]byte(token)),
		noToken:   token == "",
		log:       logger,
		mux:       &router{ServeMux: http.NewServeMux()},
		metrics:   newHTTPMetrics(),
		hostCPUs:  runtime.NumCPU(),
		public:    map[string]bool{},
		limits:    newLimiter(Limits{}), // pesd passes WithLimits(DefaultLimits)
		clock:     clock.Real{},
	}
	for _, o := range opts {
		o(s)
	}
	s.routes()
	return s
}

// routes builds the router from the route table and the description
// served from it.
func (s *server) routes() {
	table := s.table()
	for _, r := range table {
		s.mux.HandleFunc(r.Pattern, s.owned(r.Pattern, r.handler))
		if r.Public {
			s.public[r.Pattern] = true
		}
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
		// The access log: the route's pattern rather than the path (ids
		// say little, and the label set of the metrics is the same), and
		// never a header: the token stays out of the log.
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request", slog.String("request_id", id),
			slog.String("method", r.Method), slog.String("route", route), slog.Int("status", rec.status()),
			slog.Float64("duration_ms", float64(d.Microseconds())/1000), slog.String("remote", r.RemoteAddr))
	}()

	release, ok := s.admit(rec, r)
	if !ok {
		return
	}
	defer release()
	if (r.URL.Path == "/v1" || strings.HasPrefix(r.URL.Path, "/v1/")) && !s.public[route] && !s.authorized(rec, r) {
		return
	}
	if route == "unmatched" {
		s.notRouted(rec, r)
		return
	}
	s.mux.ServeHTTP(rec, r)
}

// authorized checks the bearer token in constant time (hashing first, so
// not even the length leaks) and answers 401 when it is wrong.
func (s *server) authorized(w http.ResponseWriter, r *http.Request) bool {
	unauthorized := func(msg string) bool {
		writeAPIError(w, &api.Error{Code: api.CodeUnauthorized, Status: http.StatusUnauthorized, Message: msg})
		return false
	}
	if s.noToken {
		return unauthorized("pesd was started without a token; restart it with --token or PES_TOKEN")
	}
	if r.Header.Get("Authorization") == "" {
		return unauthorized("missing bearer token: send the header \"Authorization: Bearer <token>\"")
	}
	got, ok := bearerHash(r)
	if !ok {
		return unauthorized("the Authorization header must be \"Bearer <token>\"")
	}
	if !s.validToken(got) {
		return unauthorized("invalid bearer token")
	}
	return true
}

// bearerHash is the hash of r's bearer token; false when r has none.
func bearerHash(r *http.Request) ([sha256.Size]byte, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return [sha256.Size]byte{}, false
	}
	return sha256.Sum256([]byte(strings.TrimSpace(token))), true
}

// validToken compares in constant time.
func (s *server) validToken(h [sha256.Size]byte) bool {
	return !s.noToken && subtle.ConstantTimeCompare(h[:], s.tokenHash[:]) == 1
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
