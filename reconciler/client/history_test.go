package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// TestImportHistory: the history goes as it is (CSV or JSON, the content
// type said), is sent again whole when a retry is needed, and errors come
// back as *api.Error.
func TestImportHistory(t *testing.T) {
	const csv = "time,desired\n2026-01-01T00:00:00Z,3\n"
	const json = "\n  [{\"time\":\"2026-01-01T00:00:00Z\",\"desired\":3}]"
	type seen struct{ method, path, contentType, body string }
	tests := []struct {
		name      string
		body      string
		fail      int // answer 503 to this many attempts first
		errStatus int // then answer this error instead of success
		want      int
		wantType  string
		attempts  int
	}{
		{name: "csv", body: csv, want: 2, wantType: "text/csv", attempts: 1},
		{name: "json", body: json, want: 1, wantType: "application/json", attempts: 1},
		{name: "retried whole after 503", body: csv, fail: 2, want: 2, wantType: "text/csv", attempts: 3},
		{name: "bad history", body: "yesterday,3\n", errStatus: 400, wantType: "text/csv", attempts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []seen
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				got = append(got, seen{r.Method, r.URL.EscapedPath(), r.Header.Get("Content-Type"), string(b)})
				n := len(got)
				mu.Unlock()
				switch {
				case n <= tt.fail:
					writeErr(w, 503, api.CodeUnavailable, "busy", "")
				case tt.errStatus != 0:
					writeErr(w, tt.errStatus, api.CodeInvalid, "line 1, column 1 (time): not an RFC 3339 time", "history")
				default:
					writeJSON(w, 200, api.HistoryImport{Imported: strings.Count(string(b), "\n")})
				}
			}))
			defer srv.Close()
			c := fastClient(t, srv.URL)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			n, err := c.ImportHistory(ctx, "g/1", strings.NewReader(tt.body))
			if tt.errStatus != 0 {
				var ae *api.Error
				if !errors.As(err, &ae) || ae.Status != tt.errStatus || ae.Field != "history" {
					t.Errorf("error %v, want an *api.Error %d naming history", err, tt.errStatus)
				}
			} else if err != nil || n != tt.want {
				t.Errorf("ImportHistory = %d, %v; want %d", n, err, tt.want)
			}
			if len(got) != tt.attempts {
				t.Fatalf("%d attempts, want %d", len(got), tt.attempts)
			}
			for _, s := range got {
				want := seen{"POST", "/v1/groups/g%2F1/history", tt.wantType, tt.body}
				if s != want {
					t.Errorf("request %+v, want %+v", s, want)
				}
			}
		})
	}
}

// TestImportHistoryReadError: a history that cannot be read is not sent.
func TestImportHistoryReadError(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls++ }))
	defer srv.Close()
	boom := errors.New("disk on fire")
	_, err := fastClient(t, srv.URL).ImportHistory(context.Background(), "g1", io.MultiReader(strings.NewReader("time,desired\n"), errReader{boom}))
	if !errors.Is(err, boom) || calls != 0 {
		t.Errorf("error %v after %d requests; want the read error and none", err, calls)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
