package server

import (
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestAccessLog: one line per request with the route's pattern (not the
// path), the status and the duration, and never the token.
func TestAccessLog(t *testing.T) {
	f := newFixture(t)
	f.do(t, "GET", "/v1/groups/g1", "")
	f.do(t, "GET", "/v1/groups/nope", "")
	f.do(t, "GET", "/v1/nothing", "")
	logged := f.log.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`msg=request request_id=\S+ method=GET route="GET /v1/groups/\{id\}" status=200 duration_ms=[0-9.]+ `),
		regexp.MustCompile(`msg=request request_id=\S+ method=GET route="GET /v1/groups/\{id\}" status=404 duration_ms=[0-9.]+ `),
		regexp.MustCompile(`msg=request request_id=\S+ method=GET route=unmatched status=404 `),
	} {
		if !want.MatchString(logged) {
			t.Errorf("no access log line matching %s in\n%s", want, logged)
		}
	}
	if n := strings.Count(logged, "msg=request "); n != 3 {
		t.Errorf("%d access log lines for 3 requests", n)
	}
	if strings.Contains(logged, testToken) || strings.Contains(logged, "/v1/groups/g1") {
		t.Errorf("the access log holds the token or a path:\n%s", logged)
	}
}

// TestAccessLogElsewhere: WithAccessLog takes the access lines, and only
// them, away from the main logger.
func TestAccessLogElsewhere(t *testing.T) {
	f := newFixture(t)
	var access logBuffer
	h := New(f.svc, f.svc.reads(), testToken, slog.New(slog.NewTextHandler(f.log, nil)),
		WithAccessLog(slog.New(slog.NewTextHandler(&access, nil))))
	srv := httptest.NewServer(h)
	defer srv.Close()
	f.srv = srv
	f.do(t, "GET", "/v1/groups/g1", "")
	if n := strings.Count(access.String(), "msg=request "); n != 1 {
		t.Errorf("%d access lines in the access log for 1 request:\n%s", n, access.String())
	}
	if strings.Contains(f.log.String(), "msg=request ") {
		t.Errorf("the main log holds an access line:\n%s", f.log.String())
	}
}
