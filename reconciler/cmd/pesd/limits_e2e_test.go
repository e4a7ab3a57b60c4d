//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// TestE2ELimits: issue 18's limits over real HTTP against a real pesd: a
// 2 KB reason is a 400 naming the field, a sample from year 9999 a 400
// naming its time, and a push past the series cap a 429 naming the cap.
func TestE2ELimits(t *testing.T) {
	needE2E(t)
	d := startDaemon(t, t.TempDir(), "limits-token", "--max-series-per-group", "3")
	c := d.client(t)
	g, err := c.CreateGroup(ctxFor(t), simGroup("limits", 1))
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	call := func(method, path, body string) (int, api.ErrorBody) {
		t.Helper()
		req, err := http.NewRequest(method, d.url+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+d.token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out api.ErrorBody
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		if resp.StatusCode >= 400 {
			if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
				t.Fatalf("%s %s: %d with a body that is no error envelope: %v: %s", method, path, resp.StatusCode, err, buf.String())
			}
		}
		return resp.StatusCode, out
	}
	reason := strings.Repeat("r", 2048)
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		field, message           string
	}{
		{"2 KB reason on an instruction", "POST", "/v1/groups/" + g.ID + "/instructions",
			`{"change_by":1,"reason":"` + reason + `"}`, 400, "reason", "at most 1024 bytes; got 2048"},
		{"2 KB reason on a patch", "PATCH", "/v1/groups/" + g.ID,
			`{"desired_quantity":2,"reason":"` + reason + `"}`, 400, "reason", "at most 1024 bytes; got 2048"},
		{"a sample from year 9999", "POST", "/v1/groups/" + g.ID + "/metrics",
			`{"samples":[{"name":"q","value":1,"time":"9999-01-01T00:00:00Z"}]}`, 400, "samples[0].time", "at most 5m0s after"},
		{"3 series, the cap", "POST", "/v1/groups/" + g.ID + "/metrics",
			`{"samples":[{"name":"a","value":1},{"name":"b","value":1},{"name":"c","value":1}]}`, 200, "", ""},
		{"a 4th series", "POST", "/v1/groups/" + g.ID + "/metrics",
			`{"samples":[{"name":"d","value":1}]}`, 429, "samples", "cap of 3 series per group"},
	} {
		status, body := call(tc.method, tc.path, tc.body)
		if status != tc.status || body.Error.Field != tc.field || !strings.Contains(body.Error.Message, tc.message) {
			t.Errorf("%s: %d %+v, want %d naming %q with %q", tc.name, status, body.Error, tc.status, tc.field, tc.message)
		}
	}
}
