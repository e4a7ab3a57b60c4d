//go:build linux

package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestOperability runs the real pesd as a deployment would watch it:
// JSON logs with the version at start and an access line per request
// (never the token), /readyz once the first pass has run, /metrics with
// the build, the Go runtime and the request histograms, the OpenAPI
// description without a token, and pesd version.
func TestOperability(t *testing.T) {
	needE2E(t)
	const token = "operability-token-4f1c"
	d := startDaemon(t, t.TempDir(), token, "--log-format", "json")

	get := func(path string, auth bool) (int, string) {
		req, _ := http.NewRequest("GET", d.url+path, nil)
		if auth {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	eventually(t, 10*time.Second, "/readyz answers 200", func() (bool, string) {
		code, body := get("/readyz", false)
		return code == 200, body
	})
	if code, body := get("/v1/groups", true); code != 200 {
		t.Fatalf("GET /v1/groups: %d %s", code, body)
	}
	if code, body := get("/v1/openapi.json", false); code != 200 || !strings.Contains(body, `"openapi": "3.1.0"`) {
		t.Errorf("GET /v1/openapi.json without a token: %d %.200s", code, body)
	}
	if code, _ := get("/metrics", false); code != http.StatusUnauthorized {
		t.Errorf("/metrics without a token: %d, want 401 (it needs one unless --metrics-public)", code)
	}
	_, metrics := get("/metrics", true)
	for _, want := range []string{"pes_build_info{", `goversion="` + runtime.Version() + `"`, "go_goroutines ", "process_start_time_seconds ",
		`pes_http_request_duration_seconds_bucket{code="200",route="GET /v1/groups",le="0.005"}`, "pes_reconcile_passes_total "} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	if code := d.term(t); code != 0 {
		t.Errorf("pesd exited %d after SIGTERM", code)
	}
	raw, err := os.ReadFile(d.logPath)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), token) {
		t.Error("the log holds the token")
	}
	var started, access bool
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("--log-format json wrote a line that is not JSON: %q", line)
		}
		switch rec["msg"] {
		case "pesd started":
			started = rec["version"] != nil && rec["commit"] != nil && rec["go"] == runtime.Version()
		case "request":
			if rec["route"] == "GET /v1/groups" && rec["status"] == float64(200) && rec["duration_ms"] != nil {
				access = true
			}
		}
	}
	if !started || !access {
		t.Errorf("log: start line with the version %v, access line of GET /v1/groups %v:\n%s", started, access, raw)
	}

	out, err := exec.Command(pesdBin, "version").Output()
	if err != nil {
		t.Fatalf("pesd version: %v", err)
	}
	if lines := strings.Split(strings.TrimSpace(string(out)), "\n"); len(lines) != 3 ||
		!strings.HasPrefix(lines[0], "pesd ") || !strings.HasPrefix(lines[1], "commit ") || !strings.HasPrefix(lines[2], runtime.Version()) {
		t.Errorf("pesd version printed:\n%s", out)
	}
}

// TestPprofListener starts pesd with --pprof on a loopback port: the
// profiles answer there without a token, and never on the API's listener.
func TestPprofListener(t *testing.T) {
	needE2E(t)
	d := startDaemon(t, t.TempDir(), "pprof-token", "--pprof", "127.0.0.1:0")
	// pesd logs the profiling listener's address before it prints the
	// API's, so the line is there once startDaemon returns.
	raw, err := os.ReadFile(d.logPath)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`msg="pprof listening" addr=(http://127\.0\.0\.1:[0-9]+/debug/pprof/)`).FindStringSubmatch(string(raw))
	if m == nil {
		t.Fatalf("pesd did not log the pprof address:\n%s", raw)
	}
	get := func(url string) (int, string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(m[1]); code != 200 || !strings.Contains(body, "goroutine") || !strings.Contains(body, "profile") {
		t.Errorf("GET %s: %d %.300s", m[1], code, body)
	}
	if code, body := get(m[1] + "goroutine?debug=1"); code != 200 || !strings.Contains(body, "goroutine profile:") {
		t.Errorf("GET %sgoroutine?debug=1: %d %.300s", m[1], code, body)
	}
	if code, body := get(d.url + "/debug/pprof/"); code == 200 {
		t.Errorf("the API listener serves the profiles: GET %s/debug/pprof/: %d %.300s", d.url, code, body)
	}
}
