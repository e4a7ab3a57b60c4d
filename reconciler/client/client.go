// Package client is the Go client of pesd's v1 HTTP API (SPEC §4). The
// Terraform provider and the pesd CLI use it. It speaks the wire types of
// package api, retries what is safe to retry, and returns every non-2xx
// answer as the decoded *api.Error so callers can use errors.As.
//
// It is pure Go (no cgo): the provider binary links it.
package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/buildinfo"
)

// DefaultUserAgent is the User-Agent of a Client not given one: the
// client and its version ("pes-client/1.2.3").
var DefaultUserAgent = "pes-client/" + buildinfo.Version()

// Defaults of a new Client.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultRetryMax     = 4
	DefaultRetryWaitMin = 250 * time.Millisecond
	DefaultRetryWaitMax = 10 * time.Second
)

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 1 << 20

// Client talks to one pesd. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	token     string
	userAgent string
	actor     string
	http      *retryablehttp.Client
	timeout   time.Duration // of one attempt, 0 for none
}

// Option configures a Client.
type Option func(*settings)

type settings struct {
	userAgent    string
	actor        string
	httpClient   *http.Client
	timeout      time.Duration
	retryMax     int
	retryWaitMin time.Duration
	retryWaitMax time.Duration
	logger       *slog.Logger
	caCert       string
	insecure     bool
	clientCert   *tls.Certificate
}

// WithUserAgent sets the User-Agent header (the provider sends its name and
// version).
func WithUserAgent(ua string) Option { return func(s *settings) { s.userAgent = ua } }

// WithActor names who acts through this client ("terraform", a user
// name) in the causality record: it is the actor of the groups it creates
// and deletes, of the nodes it terminates, and of the patches and
// instructions it sends that name none. Without it pesd records "api".
func WithActor(name string) Option { return func(s *settings) { s.actor = name } }

// WithHTTPClient sets the underlying HTTP client (transport, TLS, proxies).
// Its Timeout is kept unless WithTimeout is also given.
func WithHTTPClient(c *http.Client) Option { return func(s *settings) { s.httpClient = c } }

// WithTimeout bounds each attempt (not the whole call with its retries: use
// the context for that).
func WithTimeout(d time.Duration) Option { return func(s *settings) { s.timeout = d } }

// WithRetryMax sets how many times a failed attempt is retried; 0 disables
// retries.
func WithRetryMax(n int) Option { return func(s *settings) { s.retryMax = n } }

// WithRetryWait sets the bounds of the exponential backoff between
// attempts. A Retry-After header from the server overrides it.
func WithRetryWait(minWait, maxWait time.Duration) Option {
	return func(s *settings) { s.retryWaitMin, s.retryWaitMax = minWait, maxWait }
}

// WithLogger logs requests and retries (at debug level) to l. Without it
// the client is silent.
func WithLogger(l *slog.Logger) Option { return func(s *settings) { s.logger = l } }

// New returns a client of the pesd at endpoint ("http://127.0.0.1:7400").
// An empty token sends no Authorization header (only /healthz answers
// then).
func New(endpoint, token string, opts ...Option) (*Client, error) {
	base, err := parseEndpoint(endpoint)
	if err != nil {
		return nil, err
	}
	s := settings{
		userAgent:    DefaultUserAgent,
		retryMax:     DefaultRetryMax,
		retryWaitMin: DefaultRetryWaitMin,
		retryWaitMax: DefaultRetryWaitMax,
	}
	for _, o := range opts {
		o(&s)
	}
	if s.retryMax < 0 {
		return nil, fmt.Errorf("retry max: must be 0 or more, got %d", s.retryMax)
	}
	if s.retryWaitMin < 0 || s.retryWaitMax < s.retryWaitMin {
		return nil, fmt.Errorf("retry wait: need 0 <= min <= max, got %s and %s", s.retryWaitMin, s.retryWaitMax)
	}

	hc := s.httpClient
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	} else {
		copied := *hc // never mutate the caller's client
		hc = &copied
	}
	if s.timeout > 0 {
		hc.Timeout = s.timeout
	}
	tlsCfg, err := s.tlsConfig()
	if err != nil {
		return nil, err
	}
	explicit := s.caCert != "" || s.insecure || s.clientCert != nil
	if hc, err = withTLS(hc, tlsCfg, explicit); err != nil {
		return nil, err
	}

	rc := &retryablehttp.Client{
		HTTPClient:   hc,
		RetryMax:     s.retryMax,
		RetryWaitMin: s.retryWaitMin,
		RetryWaitMax: s.retryWaitMax,
		CheckRetry:   checkRetry,
		// Exponential (min·2^n, capped at max), except that a Retry-After
		// on a 429 or 503 answer is honoured as given.
		Backoff:      retryablehttp.DefaultBackoff,
		ErrorHandler: keepLastResponse,
	}
	// Logger stays a nil interface without WithLogger, which keeps
	// retryablehttp silent (a typed nil *slog.Logger would not).
	if s.logger != nil {
		rc.Logger = s.logger
	}
	return &Client{base: base, token: token, userAgent: s.userAgent, actor: s.actor, http: rc, timeout: hc.Timeout}, nil
}

func parseEndpoint(endpoint string) (*url.URL, error) {
	if strings.TrimSpace(endpoint) == "" {
		return nil, errors.New("endpoint: must not be empty (for example http://127.0.0.1:7400)")
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("endpoint: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("endpoint: scheme must be http or https, got %q in %q", u.Scheme, endpoint)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("endpoint: no host in %q", endpoint)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("endpoint: must not have a query or fragment: %q", endpoint)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// Endpoint returns the base URL the client talks to.
func (c *Client) Endpoint() string { return c.base.String() }

// IsNotFound reports whether err is an API answer 404.
func IsNotFound(err error) bool { return hasStatus(err, http.StatusNotFound) }

// IsConflict reports whether err is an API answer 409.
func IsConflict(err error) bool { return hasStatus(err, http.StatusConflict) }

// IsUnauthorized reports whether err is an API answer 401.
func IsUnauthorized(err error) bool { return hasStatus(err, http.StatusUnauthorized) }

func hasStatus(err error, status int) bool {
	var ae *api.Error
	return errors.As(err, &ae) && ae.Status == status
}

// idempotentKey marks, in a request's context, whether the request may be
// sent again after the server has answered it.
type idempotentKey struct{}

// call is one API call. Idempotent requests (GET, PUT, DELETE, and POSTs
// marked so) are retried on connection errors, 429 and 5xx; the others
// only when the connection was never made.
type call struct {
	method     string
	path       string // escaped, starting with /
	query      url.Values
	body       any
	out        any
	idempotent bool
	// raw, when set, is sent as the body as it is (body is ignored),
	// with contentType.
	raw         []byte
	contentType string
	// header, when set, receives the headers of a 2xx answer.
	header *http.Header
}

func (c *Client) do(ctx context.Context, k call) error {
	// The path segments were escaped by the caller: build the URL from the
	// raw form so an escaped "/" in an ID stays escaped.
	rawURL := c.base.Scheme + "://" + c.base.Host + c.base.EscapedPath() + k.path
	if len(k.query) > 0 {
		rawURL += "?" + k.query.Encode()
	}

	var body any
	contentType := "application/json"
	switch {
	case k.raw != nil:
		body, contentType = k.raw, k.contentType
	case k.body != nil:
		b, err := json.Marshal(k.body)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", k.method, k.path, err)
		}
		body = b
	}
	ctx = context.WithValue(ctx, idempotentKey{}, k.idempotent)
	req, err := retryablehttp.NewRequestWithContext(ctx, k.method, rawURL, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", k.method, k.path, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", k.method, rawURL, explainTLS(err))
	}
	defer resp.Body.Close()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeError(resp)
	}
	if k.header != nil {
		*k.header = resp.Header
	}
	if k.out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		return nil
	}
	raw, err := readAnswer(resp)
	if err == nil {
		err = api.DecodeJSON(raw, k.out)
	}
	if err != nil {
		return fmt.Errorf("%s %s: decode answer (status %d): %w", k.method, k.path, resp.StatusCode, err)
	}
	return nil
}

// maxPresized bounds the buffer allocated up front from an answer's
// Content-Length; a longer answer grows it as it arrives.
const maxPresized = 64 << 20

// readAnswer reads the whole body of an answer, in a buffer of its
// Content-Length: a page of changes with causes is 1.6 MB, which
// io.ReadAll would reach by doubling, copying it a dozen times.
func readAnswer(resp *http.Response) ([]byte, error) {
	var b bytes.Buffer
	if n := resp.ContentLength; n > 0 && n < maxPresized {
		b.Grow(int(n) + bytes.MinRead) // room to see the end without growing
	}
	_, err := b.ReadFrom(resp.Body)
	return b.Bytes(), err
}

// decodeError turns a non-2xx answer into an *api.Error. An answer without
// the error envelope (a proxy, a panic page) still yields one, with a code
// derived from the status and the start of the body as the message.
func decodeError(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var env api.ErrorBody
	if err := json.Unmarshal(raw, &env); err != nil || env.Error.Message == "" && env.Error.Code == "" {
		env.Error = api.Error{Code: codeFor(resp.StatusCode), Message: fallbackMessage(resp, raw)}
	}
	e := env.Error
	e.Status = resp.StatusCode
	if e.Code == "" {
		e.Code = codeFor(resp.StatusCode)
	}
	if e.Message == "" {
		e.Message = fallbackMessage(resp, raw)
	}
	return &e
}

func fallbackMessage(resp *http.Response, raw []byte) string {
	msg := strings.TrimSpace(string(raw))
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	status := strconv.Itoa(resp.StatusCode) + " " + http.StatusText(resp.StatusCode)
	if msg == "" {
		return "pesd answered " + status
	}
	return "pesd answered " + status + ": " + msg
}

func codeFor(status int) string {
	switch {
	case status == http.StatusBadRequest:
		return api.CodeInvalid
	case status == http.StatusUnauthorized:
		return api.CodeUnauthorized
	case status == http.StatusForbidden:
		return api.CodeForbidden
	case status == http.StatusNotFound:
		return api.CodeNotFound
	case status == http.StatusConflict:
		return api.CodeConflict
	case status == http.StatusRequestEntityTooLarge:
		return api.CodeTooLarge
	case status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests:
		return api.CodeUnavailable
	case status >= 500:
		return api.CodeInternal
	default:
		return api.CodeInvalid
	}
}

// checkRetry is the retry policy. Idempotent requests follow
// retryablehttp's default (connection errors, 429, 5xx except 501). A
// request that is not idempotent is sent again only when it never reached
// the server (the dial failed) or the server says it changed nothing
// (api.HeaderNotApplied), so an instruction is never applied twice.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if idem, _ := ctx.Value(idempotentKey{}).(bool); idem {
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
	if resp != nil && resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get(api.HeaderNotApplied) != "" {
		return true, nil
	}
	return err != nil && neverSent(err), nil
}

// neverSent reports whether err means the request did not leave the
// client: the connection was refused or could not be dialled.
func neverSent(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// keepLastResponse hands the last answer back when retries are exhausted,
// so the caller decodes the server's error instead of a generic "giving
// up" message. Without an answer it reports the attempts.
func keepLastResponse(resp *http.Response, err error, attempts int) (*http.Response, error) {
	// A caller that gave up must hear that, not the answer that happened
	// to arrive meanwhile.
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		if resp != nil {
			resp.Body.Close()
		}
		return nil, err
	}
	if resp != nil {
		return resp, nil
	}
	if err == nil {
		err = errors.New("no answer")
	}
	return nil, fmt.Errorf("giving up after %d attempt(s): %w", attempts, err)
}

// seg escapes one path segment.
func seg(s string) string { return url.PathEscape(s) }
