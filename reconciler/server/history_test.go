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
