package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
	"github.com/pes-project/terraform-provider-pes/reconciler/controller"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/sim"
	"github.com/pes-project/terraform-provider-pes/reconciler/history"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlite"
)

// faultStore is a real SQLite store whose writes fail, while armed, as a
// full disk makes them fail. A real full disk (a small tmpfs) or a
// read-only remount needs mount privileges the tests do not have; the
// sqlite package's TestUnavailable checks that SQLite's own errors are
// the same ErrUnavailable.
type faultStore struct {
	store.Store
	armed atomic.Bool
}

func (f *faultStore) Update(ctx context.Context, fn func(tx store.Tx) error) error {
	if f.armed.Load() {
		return &store.UnavailableError{Cause: "the disk is full", Err: fmt.Errorf("sqlite: commit: %w", syscall.ENOSPC)}
	}
	return f.Store.Update(ctx, fn)
}

// TestStorageFault: while the store cannot write, a write answers 503
// storage_unavailable naming the cause and /readyz fails while /healthz
// stays ok; when the fault clears /readyz recovers by itself, writes
// succeed again, and every acknowledged write is there.
func TestStorageFault(t *testing.T) {
	ctx := context.Background()
	sq, err := sqlite.Open(filepath.Join(t.TempDir(), "pes.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sq.Close() })
	faulty := &faultStore{Store: sq}
	st := store.Watch(faulty)
	ctrl, err := controller.New(controller.Options{Store: st, Clock: clock.Real{},
		Drivers: map[string]driver.Driver{api.DriverSim: sim.New(clock.Real{})}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctrl.Close() })
	srv := httptest.NewServer(New(ctrl, history.New(st), testToken, nil, ReadyWhenWritable(st)))
	t.Cleanup(srv.Close)

	do := func(method, path, body string) (int, http.Header, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, raw
	}
	code, _, raw := do("POST", "/v1/groups", `{"name":"web","driver":"sim","desired_quantity":1}`)
	if code != 201 {
		t.Fatalf("create: %d %s", code, raw)
	}
	var g api.Group
	mustDecode(t, raw, &g)
	acked := 0
	instruct := func() (int, http.Header, []byte) {
		code, h, raw := do("POST", "/v1/groups/web/instructions", fmt.Sprintf(`{"change_by":1,"reason":"n%d"}`, acked))
		if code == 201 || code == 200 {
			acked++
		}
		return code, h, raw
	}
	for range 3 {
		if code, _, raw := instruct(); code >= 300 {
			t.Fatalf("instruction before the fault: %d %s", code, raw)
		}
	}
	if err := ctrl.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if code, _, raw := do("GET", "/readyz", ""); code != 200 {
		t.Fatalf("/readyz before the fault: %d %s", code, raw)
	}

	faulty.armed.Store(true)
	code, h, raw := instruct()
	e := assertError(t, code, raw, http.StatusServiceUnavailable, api.CodeStorageUnavailable, "")
	if !strings.Contains(e.Message, "the disk is full") {
		t.Errorf("message %q does not name the cause", e.Message)
	}
	if h.Get("Retry-After") == "" {
		t.Errorf("503 storage_unavailable without Retry-After")
	}
	if code, _, raw := do("GET", "/readyz", ""); code != 503 || !strings.Contains(string(raw), "the disk is full") {
		t.Errorf("/readyz while the store cannot write: %d %s, want 503 naming the cause", code, raw)
	}
	if code, _, _ := do("GET", "/healthz", ""); code != 200 {
		t.Errorf("/healthz while the store cannot write: %d, want 200 (liveness)", code)
	}
	// The loop goes on, and fails to write too.
	if err := ctrl.Tick(ctx); err == nil {
		t.Log("the pass had nothing to write")
	}

	faulty.armed.Store(false)
	if code, _, raw := do("GET", "/readyz", ""); code != 200 {
		t.Errorf("/readyz after the fault cleared: %d %s, want 200 by itself", code, raw)
	}
	if code, _, raw := instruct(); code >= 300 {
		t.Fatalf("instruction after the fault: %d %s", code, raw)
	}
	if err := ctrl.Tick(ctx); err != nil {
		t.Errorf("pass after the fault: %v", err)
	}
	code, _, raw = do("GET", "/v1/groups/web/events?type=user_instruction", "")
	var evs api.List[api.Event]
	if err := json.Unmarshal(raw, &evs); err != nil || code != 200 {
		t.Fatalf("events: %d %s", code, raw)
	}
	if len(evs.Items) != acked {
		t.Errorf("%d user instructions stored, %d acknowledged", len(evs.Items), acked)
	}
}
