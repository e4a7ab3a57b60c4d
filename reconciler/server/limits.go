package server

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
)

// Timeouts of the HTTP server, so a slow or idle connection cannot stay
// open for ever.
type Timeouts struct {
	ReadHeader time.Duration // the request line and headers
	Read       time.Duration // the whole request, body included
	// Write bounds a whole answer: the biggest list (1,000 items a page)
	// takes milliseconds and a long poll of a group waits at most a
	// minute, so two minutes cut only a client that stopped reading.
	Write time.Duration
	Idle  time.Duration // a kept-alive connection between requests
}

// DefaultTimeouts are pesd's.
var DefaultTimeouts = Timeouts{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Write: 2 * time.Minute, Idle: 60 * time.Second}

// HTTPServer is the http.Server pesd serves h with.
func HTTPServer(h http.Handler, errLog *log.Logger, t Timeouts) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		ErrorLog:          errLog,
	}
}

// Limits bound what clients may ask of pesd at once. Zero values turn a
// limit off.
type Limits struct {
	// MaxInFlight caps the requests being answered at once; past it a
	// request gets 503 with Retry-After. /healthz and /readyz are not
	// counted: a probe must see pesd alive even when it is busy.
	MaxInFlight int
	// RatePerToken is the sustained requests per second of one bearer
	// token, with bursts up to RateBurst; past it a request gets 429 with
	// Retry-After. Requests without the valid token share one bucket.
	RatePerToken float64
	RateBurst    int
}

// DefaultLimits are generous: a Terraform apply of hundreds of resources
// or a busy dashboard stays far below them.
var DefaultLimits = Limits{MaxInFlight: 512, RatePerToken: 2000, RateBurst: 4000}

// Option configures New.
type Option func(*server)

// WithLimits sets the request limits; without it there are none.
func WithLimits(l Limits) Option {
	return func(s *server) { s.limits = newLimiter(l) }
}

// WithAccessLog sends the access log's lines (one per request) to l
// rather than to the logger New was given.
func WithAccessLog(l *slog.Logger) Option {
	return func(s *server) { s.accessLogger = l }
}

// WithReadiness adds to what /readyz asks: whether pesd can serve, and
// if not, why.
func WithReadiness(ready func(ctx context.Context) (bool, string)) Option {
	return func(s *server) { s.ready = ready }
}

// Writable is a store that says whether it can write (store.Watched).
type Writable interface {
	Writable(ctx context.Context) (bool, string)
}

// ReadyWhenWritable is pesd's readiness: ready while its store can write.
func ReadyWhenWritable(st Writable) Option {
	return WithReadiness(func(ctx context.Context) (bool, string) {
		if ok, why := st.Writable(ctx); !ok {
			return false, "the store cannot write: " + why
		}
		return true, ""
	})
}

// WithClock sets the clock a sample's time is checked against (the
// controller's); the real one without it.
func WithClock(c clock.Clock) Option {
	return func(s *server) { s.clock = c }
}

// limiter carries out Limits.
type limiter struct {
	Limits
	inFlight chan struct{} // a slot per request being answered
	mu       sync.Mutex
	buckets  map[[sha256.Size]byte]*rate.Limiter
	now      func() time.Time
}

func newLimiter(l Limits) *limiter {
	lim := &limiter{Limits: l, buckets: map[[sha256.Size]byte]*rate.Limiter{}, now: time.Now}
	if l.MaxInFlight > 0 {
		lim.inFlight = make(chan struct{}, l.MaxInFlight)
	}
	return lim
}

// admit answers 503 or 429 when r is past a limit, and otherwise returns
// the function that frees its slot when it is answered. authenticate
// runs once r holds a slot, so the store is asked about tokens at most
// --max-in-flight times at once; the rate limit's bucket is the token's
// it returns (nil: r needs none).
func (s *server) admit(w http.ResponseWriter, r *http.Request, authenticate func() *authentication) (release func(), ok bool) {
	l := s.limits
	if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
		return func() {}, true
	}
	if l.inFlight != nil {
		select {
		case l.inFlight <- struct{}{}:
		default:
			w.Header().Set("Retry-After", "1")
			writeAPIError(w, &api.Error{Code: api.CodeUnavailable, Status: http.StatusServiceUnavailable,
				Message: fmt.Sprintf("pesd is answering its maximum of %d requests at once (--max-in-flight); retry after 1s", l.MaxInFlight)})
			return nil, false
		}
		release = func() { <-l.inFlight }
	} else {
		release = func() {}
	}
	auth := authenticate()
	if l.RatePerToken <= 0 {
		return release, true
	}
	b := l.bucket(bucketKey(auth))
	now := l.now()
	allowed := b.AllowN(now, 1)
	remaining := max(0, int(math.Floor(b.TokensAt(now))))
	h := w.Header()
	h.Set("RateLimit-Limit", strconv.Itoa(l.RateBurst))
	h.Set("RateLimit-Remaining", strconv.Itoa(remaining))
	// Seconds until the bucket is full again.
	h.Set("RateLimit-Reset", strconv.Itoa(int(math.Ceil(float64(l.RateBurst-remaining)/l.RatePerToken))))
	h.Set("RateLimit-Policy", fmt.Sprintf("%d;w=1;burst=%d", int(l.RatePerToken), l.RateBurst))
	if !allowed {
		release()
		wait := max(1, int(math.Ceil((1-b.TokensAt(now))/l.RatePerToken)))
		h.Set("Retry-After", strconv.Itoa(wait))
		writeAPIError(w, &api.Error{Code: api.CodeExhausted, Status: http.StatusTooManyRequests,
			Message: fmt.Sprintf("rate limit of %g requests per second per token (burst %d) reached (--rate-limit, --rate-burst); retry after %ds",
				l.RatePerToken, l.RateBurst, wait)})
		return nil, false
	}
	return release, true
}

// bucketKey is the hash of the request's token when it authenticated;
// every other request shares the zero key, so wrong tokens cannot grow
// the map.
func bucketKey(auth *authentication) [sha256.Size]byte {
	if auth != nil && auth.err == nil {
		return auth.hash
	}
	return [sha256.Size]byte{}
}

func (l *limiter) bucket(key [sha256.Size]byte) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		b = rate.NewLimiter(rate.Limit(l.RatePerToken), l.RateBurst)
		l.buckets[key] = b
	}
	return b
}
