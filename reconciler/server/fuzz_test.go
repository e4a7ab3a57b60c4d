package server

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// The fuzz targets send arbitrary bodies (and queries) through the whole
// handler, decoding and validation included, with a recording Service.
// Whatever the input: no panic, no 5xx, a rejected request is a 4xx in
// the error envelope that reached no Service write, and an accepted one
// handed the Service input that validates again unchanged. Seeds are in
// testdata/fuzz; `go test` runs them, `go test -fuzz=FuzzDecodeGroup`
// explores.

func FuzzDecodeGroup(f *testing.F) {
	fuzzBody(f, "POST", "/v1/groups", func(t *testing.T, c call) {
		cfg := c.args[0].(api.GroupConfig)
		assertStable(t, cfg, func(v *api.GroupConfig) error { return api.ResolveGroupConfig(v) })
	})
}

func FuzzDecodeGroupPatch(f *testing.F) {
	fuzzBody(f, "PATCH", "/v1/groups/g1", func(t *testing.T, c call) {
		p := c.args[1].(api.GroupPatch)
		cfg, err := api.ApplyGroupPatch(newRecorder().reader.group.GroupConfig, p)
		if err != nil {
			t.Fatalf("accepted patch does not apply: %v", err)
		}
		// Without a new desired_quantity the live one may lie outside new
		// bounds (the controller clamps it), so re-check as a patch would.
		assertStable(t, cfg, func(v *api.GroupConfig) error {
			var err error
			*v, err = api.ApplyGroupPatch(*v, api.GroupPatch{})
			return err
		})
	})
}

func FuzzDecodeInstruction(f *testing.F) {
	fuzzBody(f, "POST", "/v1/groups/g1/instructions", func(t *testing.T, c call) {
		assertStable(t, c.args[1].(api.Instruction), api.ValidateInstruction)
	})
}

func FuzzDecodeTrigger(f *testing.F) {
	fuzzBody(f, "POST", "/v1/groups/g1/triggers", func(t *testing.T, c call) {
		spec := c.args[1].(api.TriggerSpec)
		assertStable(t, spec, func(v *api.TriggerSpec) error { return api.ValidateTriggerSpec(v, true) })
		if err := checkTrigger(mergeTrigger(api.Trigger{}, spec)); err != nil {
			t.Fatalf("accepted trigger does not compile: %v", err)
		}
	})
}

func FuzzDecodeMetrics(f *testing.F) {
	fuzzBody(f, "POST", "/v1/groups/g1/metrics", func(t *testing.T, c call) {
		if err := api.ValidateSamples(c.args[1].([]api.Sample), time.Now()); err != nil {
			t.Fatalf("accepted samples do not validate: %v", err)
		}
	})
}

// FuzzListQuery fuzzes the query string of a list.
func FuzzListQuery(f *testing.F) {
	f.Fuzz(func(t *testing.T, rawQuery string) {
		req := httptest.NewRequest("GET", "/v1/groups/g1/changes", nil)
		req.URL.RawQuery = rawQuery
		serveFuzz(t, req, nil)
	})
}

func fuzzBody(f *testing.F, method, path string, accepted func(*testing.T, call)) {
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(method, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		serveFuzz(t, req, accepted)
	})
}

func serveFuzz(t *testing.T, req *http.Request, accepted func(*testing.T, call)) {
	svc := newRecorder()
	var log bytes.Buffer
	h := New(svc, svc.reads(), testToken, slog.New(slog.NewTextHandler(&log, nil)))
	req.Header.Set("Authorization", "Bearer "+testToken)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	body, _ := io.ReadAll(w.Result().Body)

	switch {
	case w.Code >= 500 || strings.Contains(log.String(), "panic"):
		t.Fatalf("status %d for input that must be a 4xx at worst: %s\n%s", w.Code, body, log.String())
	case w.Code >= 400:
		var env api.ErrorBody
		if err := json.Unmarshal(body, &env); err != nil || env.Error.Code == "" || env.Error.Message == "" {
			t.Fatalf("status %d without an error envelope: %s", w.Code, body)
		}
		if calls := svc.writes(); len(calls) > 0 {
			t.Fatalf("rejected input reached the Service: %v", calls)
		}
	case accepted != nil:
		calls := svc.writes()
		if len(calls) != 1 {
			t.Fatalf("status %d but Service writes %v", w.Code, calls)
		}
		accepted(t, calls[0])
	}
}

// assertStable checks that validating what the Service received succeeds
// and changes nothing: the handler passed it on validated and defaulted.
func assertStable[T any](t *testing.T, v T, validate func(*T) error) {
	t.Helper()
	again := deepCopy(t, v)
	if err := validate(&again); err != nil {
		t.Fatalf("the Service got input that does not validate: %v\n%+v", err, v)
	}
	if a, b := mustJSON(t, again), mustJSON(t, v); a != b {
		t.Fatalf("validating again changed the input:\n got %s\nwant %s", a, b)
	}
}

func deepCopy[T any](t *testing.T, v T) T {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
