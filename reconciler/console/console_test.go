package console_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestConsoleFiles: pesd serves the console's files without a token (they
// hold no data), from the binary, under a policy that lets them load
// nothing from elsewhere and run no inline script; /ui goes to /ui/.
func TestConsoleFiles(t *testing.T) {
	p := startPesd(t, time.Now())
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		path, wantType, wantBody string
		wantStatus               int
	}{
		{path: "/ui/", wantStatus: 200, wantType: "text/html", wantBody: `<script src="app.js" defer></script>`},
		{path: "/ui/app.js", wantStatus: 200, wantType: "text/javascript", wantBody: "sessionStorage"},
		{path: "/ui/console.css", wantStatus: 200, wantType: "text/css", wantBody: "stroke-dasharray"},
		{path: "/ui", wantStatus: http.StatusMovedPermanently},
		{path: "/ui/nope.js", wantStatus: 404},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := client.Get(p.url + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %.200s", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantStatus == http.StatusMovedPermanently && resp.Header.Get("Location") != "/ui/" {
				t.Errorf("redirects to %q, want /ui/", resp.Header.Get("Location"))
			}
			if tt.wantStatus != 200 {
				return
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.wantType) {
				t.Errorf("Content-Type %q, want %s", ct, tt.wantType)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") {
				t.Errorf("Content-Security-Policy %q, want default-src 'self' and no unsafe-inline", csp)
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body does not hold %q", tt.wantBody)
			}
		})
	}
	// The data stays behind the token.
	resp, err := http.Get(p.url + "/v1/groups")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /v1/groups without a token: %d, want 401", resp.StatusCode)
	}
}
