package server

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// TestIdleConnectionsClosed opens 500 connections to a server built by
// HTTPServer (pesd's own), half of which send one request and then stay
// idle and half of which send nothing, and checks the server closes every
// one of them by itself. The timeouts are shortened so the test is quick;
// the point is that HTTPServer sets them.
func TestIdleConnectionsClosed(t *testing.T) {
	const conns = 500
	to := DefaultTimeouts
	to.Idle, to.ReadHeader = time.Second, time.Second
	rec := newRecorder()
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = HTTPServer(New(rec, rec.reads(), testToken, nil), nil, to)
	srv.Start()
	defer srv.Close()

	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			br := bufio.NewReader(c)
			if i%2 == 0 {
				if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: pesd\r\n\r\n"); err != nil {
					errs <- err
					return
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					errs <- err
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			// Generous against a loaded machine; without the server's
			// timeouts the read would block for ever.
			c.SetReadDeadline(time.Now().Add(30 * time.Second))
			_, err = br.ReadByte()
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				errs <- errors.New("connection still open 30s after its idle timeout")
			}
		}()
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n == 0 {
			t.Error(err)
		}
		n++
	}
	if n > 0 {
		t.Errorf("%d of %d connections not closed by the server", n, conns)
	}
}

func TestDefaultTimeoutsAllSet(t *testing.T) {
	s := HTTPServer(http.NotFoundHandler(), nil, DefaultTimeouts)
	for name, d := range map[string]time.Duration{"ReadHeaderTimeout": s.ReadHeaderTimeout, "ReadTimeout": s.ReadTimeout,
		"WriteTimeout": s.WriteTimeout, "IdleTimeout": s.IdleTimeout} {
		if d <= 0 {
			t.Errorf("%s is not set", name)
		}
	}
	// A long poll of a group waits up to api.MaxWaitTime; the write
	// timeout must outlast it.
	if s.WriteTimeout <= api.MaxWaitTime {
		t.Errorf("WriteTimeout %v cuts a long poll of %v", s.WriteTimeout, api.MaxWaitTime)
	}
}

func limitedFixture(t *testing.T, l Limits) (*server, *httptest.Server) {
	t.Helper()
	rec := newRecorder()
	h := New(rec, rec.reads(), testToken, slog.New(slog.DiscardHandler), WithLimits(l))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return h.(*server), srv
}

func get(t *testing.T, srv *httptest.Server, path, token string) (*http.Response, api.Error) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body api.ErrorBody
	if resp.StatusCode >= 400 {
		mustDecode(t, raw, &body)
	}
	return resp, body.Error
}

func TestInFlightCap(t *testing.T) {
	s, srv := limitedFixture(t, Limits{MaxInFlight: 3})
	// Three requests being answered: take their slots.
	for range 3 {
		s.limits.inFlight <- struct{}{}
	}
	resp, e := get(t, srv, "/v1/groups", testToken)
	if resp.StatusCode != http.StatusServiceUnavailable || e.Code != api.CodeUnavailable {
		t.Fatalf("4th request in flight: %d %q, want 503 %s", resp.StatusCode, e.Code, api.CodeUnavailable)
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Error("503 past the in-flight cap has no Retry-After")
	}
	if want := "maximum of 3 requests"; !strings.Contains(e.Message, want) {
		t.Errorf("message %q does not name the cap (%q)", e.Message, want)
	}
	// Probes still answer.
	if resp, _ := get(t, srv, "/healthz", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz at the cap: %d, want 200", resp.StatusCode)
	}
	<-s.limits.inFlight
	if resp, _ := get(t, srv, "/v1/groups", testToken); resp.StatusCode != http.StatusOK {
		t.Errorf("after a slot freed: %d, want 200", resp.StatusCode)
	}
	if n := len(s.limits.inFlight); n != 2 {
		t.Errorf("%d slots taken after the request, want 2 (each request frees its own)", n)
	}
}

func TestRateLimitPerToken(t *testing.T) {
	s, srv := limitedFixture(t, Limits{RatePerToken: 1, RateBurst: 2})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.limits.now = func() time.Time { return now }

	for i, wantRemaining := range []string{"1", "0"} {
		resp, _ := get(t, srv, "/v1/groups", testToken)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d within the burst: %d", i+1, resp.StatusCode)
		}
		if got := resp.Header.Get("RateLimit-Limit"); got != "2" {
			t.Errorf("RateLimit-Limit = %q, want 2", got)
		}
		if got := resp.Header.Get("RateLimit-Remaining"); got != wantRemaining {
			t.Errorf("request %d: RateLimit-Remaining = %q, want %s", i+1, got, wantRemaining)
		}
	}
	resp, e := get(t, srv, "/v1/groups", testToken)
	if resp.StatusCode != http.StatusTooManyRequests || e.Code != api.CodeExhausted {
		t.Fatalf("past the burst: %d %q, want 429 %s", resp.StatusCode, e.Code, api.CodeExhausted)
	}
	if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("Retry-After = %q, want whole seconds ≥ 1", resp.Header.Get("Retry-After"))
	}
	if !strings.Contains(e.Message, "rate limit of 1 requests per second") {
		t.Errorf("message %q does not name the limit", e.Message)
	}
	// Wrong tokens have a bucket of their own: they do not use up the
	// valid token's, nor it theirs.
	if resp, _ := get(t, srv, "/v1/groups", "wrong"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong token: %d, want 401 (its own bucket is full)", resp.StatusCode)
	}
	now = now.Add(time.Second)
	if resp, _ := get(t, srv, "/v1/groups", testToken); resp.StatusCode != http.StatusOK {
		t.Errorf("a second later: %d, want 200", resp.StatusCode)
	}
}
