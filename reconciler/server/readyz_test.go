package server

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// deadStore is a read side whose store does not answer.
type deadStore struct{ History }

func (deadStore) ListGroups(context.Context, store.GroupFilter) ([]api.Group, string, error) {
	return nil, "", errors.New("database is closed")
}

// starting is a Service that is not ready yet.
type starting struct {
	*recorder
	err error
}

func (s starting) Ready(context.Context) error { return s.err }

// TestReadyz: 200 once the store answers and the Service is ready; 503
// (without a token, in the error envelope) naming what is not.
func TestReadyz(t *testing.T) {
	rec := newRecorder()
	tests := []struct {
		name     string
		svc      Service
		hist     History
		want     int
		wantText string
	}{
		{"ready", starting{rec, nil}, rec.reads(), 200, `{"status":"ok"}`},
		{"no Readiness: the store decides", rec, rec.reads(), 200, `{"status":"ok"}`},
		{"first pass pending", starting{rec, errors.New("the first reconcile pass has not run yet")}, rec.reads(), 503,
			"not ready: the first reconcile pass has not run yet"},
		{"store down", rec, deadStore{rec.reads()}, 503, "not ready: the store does not answer"},
		{"both", starting{rec, errors.New("pass pending")}, deadStore{rec.reads()}, 503, "the store does not answer; pass pending"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(New(tt.svc, tt.hist, testToken, nil))
			defer srv.Close()
			resp, err := http.Get(srv.URL + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var b bytes.Buffer
			_, _ = b.ReadFrom(resp.Body)
			if resp.StatusCode != tt.want || !strings.Contains(b.String(), tt.wantText) {
				t.Errorf("GET /readyz: %d %s, want %d with %q", resp.StatusCode, b.String(), tt.want, tt.wantText)
			}
			if tt.want == 503 {
				assertError(t, resp.StatusCode, b.Bytes(), 503, api.CodeUnavailable, "")
			}
			// Liveness does not depend on either.
			if r, err := http.Get(srv.URL + "/healthz"); err != nil || r.StatusCode != 200 {
				t.Errorf("GET /healthz: %v %v", r, err)
			} else {
				r.Body.Close()
			}
		})
	}
}
