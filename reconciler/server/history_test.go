package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/governor"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// TestImportHistoryRoute: POST /v1/groups/{id}/history hands the body, CSV
// or JSON, to the Service as it came, bounds it at governor.MaxImportBytes,
// and answers the Service's errors as every route does.
func TestImportHistoryRoute(t *testing.T) {
	const csv = "time,desired\n2026-01-01T00:00:00Z,3\n2026-01-01T00:01:00Z,4\n"
	const json = `[{"time":"2026-01-01T00:00:00Z","desired":3}]` + "\n"
	tests := []struct {
		name       string
		path       string
		body       string
		svcErr     error
		wantStatus int
		wantCode   string
		wantField  string
		wantBody   string // the body the Service read; "" when it must not be called
	}{
		{name: "csv", path: "/v1/groups/g1/history", body: csv, wantStatus: 200, wantBody: csv},
		{name: "json", path: "/v1/groups/g1/history", body: json, wantStatus: 200, wantBody: json},
		{name: "at the limit", path: "/v1/groups/g1/history", body: strings.Repeat("#", governor.MaxImportBytes-1) + "\n",
			wantStatus: 200, wantBody: strings.Repeat("#", governor.MaxImportBytes-1) + "\n"},
		{name: "over the limit", path: "/v1/groups/g1/history", body: strings.Repeat("#", governor.MaxImportBytes) + "\n",
			wantStatus: http.StatusRequestEntityTooLarge, wantCode: api.CodeTooLarge, wantField: "history"},
		{name: "unknown query parameter", path: "/v1/groups/g1/history?format=csv", body: csv,
			wantStatus: 400, wantCode: api.CodeInvalid, wantField: "format"},
		{name: "bad history", path: "/v1/groups/g1/history", body: "yesterday,3\n",
			svcErr:     api.Invalid("history", "line 1, column 1 (time): not an RFC 3339 time"),
			wantStatus: 400, wantCode: api.CodeInvalid, wantField: "history"},
		{name: "unknown group", path: "/v1/groups/nope/history", body: csv,
			svcErr:     fmt.Errorf("group nope: %w", store.ErrNotFound),
			wantStatus: 404, wantCode: api.CodeNotFound},
		{name: "no forecaster", path: "/v1/groups/g1/history", body: csv,
			svcErr:     &api.Error{Code: api.CodeConflict, Status: 409, Message: "this pesd has no forecaster"},
			wantStatus: 409, wantCode: api.CodeConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.svc.err = tt.svcErr
			status, _, body := f.do(t, "POST", tt.path, tt.body)
			if status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %.300s", status, tt.wantStatus, body)
			}
			if tt.wantCode != "" {
				var e api.ErrorBody
				mustDecode(t, body, &e)
				if e.Error.Code != tt.wantCode || e.Error.Field != tt.wantField || e.Error.Message == "" {
					t.Errorf("error %+v, want code %s field %q with a message", e.Error, tt.wantCode, tt.wantField)
				}
			}
			c, called := f.svc.last("ImportHistory")
			switch {
			case tt.wantBody == "" && called && tt.svcErr == nil:
				t.Errorf("the Service imported %d bytes", len(c.args[1].(string)))
			case tt.wantBody != "" && !called:
				t.Fatalf("ImportHistory was not called")
			case tt.wantBody != "" && c.args[1].(string) != tt.wantBody:
				t.Errorf("the Service read %d bytes, want %d", len(c.args[1].(string)), len(tt.wantBody))
			}
		})
	}
}

// TestTimelineRoute: GET /v1/groups/{id}/timeline answers a group's
// timeline by id or name, and 400 naming a wrong parameter (servertest
// has the missing and inverted windows, run here and on pesd).
func TestTimelineRoute(t *testing.T) {
	const win = "since=2026-01-01T00:00:00Z&until=2026-01-01T01:00:00Z"
	tests := []struct {
		name       string
		path       string
		wantStatus int
		wantField  string
	}{
		{name: "window", path: "/v1/groups/g1/timeline?" + win, wantStatus: 200},
		{name: "by name", path: "/v1/groups/web/timeline?" + win + "&buckets=10", wantStatus: 200},
		{name: "bad time", path: "/v1/groups/g1/timeline?since=yesterday&until=2026-01-01T00:00:00Z", wantStatus: 400, wantField: "since"},
		{name: "too many buckets", path: fmt.Sprintf("/v1/groups/g1/timeline?%s&buckets=%d", win, api.MaxTimelineBuckets+1), wantStatus: 400, wantField: "buckets"},
		{name: "unknown parameter", path: "/v1/groups/g1/timeline?" + win + "&limit=5", wantStatus: 400, wantField: "limit"},
		{name: "unknown group", path: "/v1/groups/nope/timeline?" + win, wantStatus: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			status, _, body := f.do(t, "GET", tt.path, "")
			if status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %.300s", status, tt.wantStatus, body)
			}
			if status == 400 {
				var e api.ErrorBody
				mustDecode(t, body, &e)
				if e.Error.Field != tt.wantField {
					t.Errorf("error %+v, want field %q", e.Error, tt.wantField)
				}
			}
			if status == 200 {
				var tl api.Timeline
				mustDecode(t, body, &tl)
				if tl.GroupID != "g1" || len(tl.Desired) == 0 || len(tl.Official) == 0 || len(tl.Actual) == 0 {
					t.Errorf("timeline %+v, want g1's with three series", tl)
				}
			}
		})
	}
}
