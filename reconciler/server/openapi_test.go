package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/pes-project/terraform-provider-pes/reconciler/identity"
)

// loadOpenAPI parses and validates the description as an OpenAPI 3.1
// document (kin-openapi validates 3.1 documents' schemas as JSON Schema
// 2020-12).
func loadOpenAPI(t *testing.T, b []byte) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		t.Fatalf("load the OpenAPI document: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() || doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document is not valid: %v", err)
	}
	return doc
}

// TestOpenAPIServed: GET /v1/openapi.json answers, without a token, a
// valid OpenAPI 3.1 document, the one OpenAPI returns (and make docs
// publishes).
func TestOpenAPIServed(t *testing.T) {
	f := newFixture(t)
	resp, err := http.Get(f.srv.URL + "/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	served, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /v1/openapi.json without a token: %d %s: %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), served)
	}
	want, err := OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(served, want) {
		t.Error("the served description differs from OpenAPI()")
	}
	doc := loadOpenAPI(t, served)
	for _, name := range []string{"Group", "GroupPatchInput", "Event", "EventDetail", "ChangeDetail", "Period", "Trigger", "ErrorBody", "Error"} {
		if doc.Components.Schemas[name] == nil {
			t.Errorf("no component schema %s", name)
		}
	}
	for name := range doc.Components.Schemas {
		if !bytes.Contains(served, []byte(`"#/components/schemas/`+name+`"`)) {
			t.Errorf("component schema %s is described but never used", name)
		}
	}
	if doc.Components.Responses["Error"] == nil {
		t.Error("no shared Error response (the error envelope)")
	}
	// The error envelope as the wire has it.
	env := doc.Components.Schemas["ErrorBody"].Value
	if env.Properties["error"] == nil || len(env.Required) != 1 || env.Required[0] != "error" {
		t.Errorf("ErrorBody schema: %+v", env)
	}
	status, _, body := f.do(t, "GET", "/v1/openapi.json?x=1", "")
	assertError(t, status, body, http.StatusBadRequest, "invalid_argument", "x")
}

// TestEveryRouteDocumented walks the routes the router registered and
// fails for one the description lacks (or describes under another
// method), and for a described operation no route serves.
func TestEveryRouteDocumented(t *testing.T) {
	rec := newRecorder()
	s := New(rec, rec.reads(), testToken, nil).(*server)
	b, err := OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	doc := loadOpenAPI(t, b)
	if len(s.mux.patterns) == 0 {
		t.Fatal("no routes registered")
	}
	documented := 0
	for _, item := range doc.Paths.Map() {
		documented += len(item.Operations())
	}
	for _, p := range s.mux.patterns {
		method, path, ok := cutPattern(p)
		if !ok {
			t.Errorf("route %q has no method: every route names one", p)
			continue
		}
		item := doc.Paths.Value(path)
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("route %s is not in the OpenAPI description", p)
			continue
		}
		op := item.GetOperation(method)
		if op.OperationID == "" || op.Summary == "" {
			t.Errorf("route %s: operationId %q, summary %q; both are needed", p, op.OperationID, op.Summary)
		}
		if public := s.access[p] == identity.Public; public != (op.Security != nil && len(*op.Security) == 0) {
			t.Errorf("route %s: public %v, but its description says otherwise", p, public)
		}
	}
	// What is registered beside the table is the console's files only.
	for _, p := range s.mux.statics {
		if _, path, _ := cutPattern(p); path != "/ui" && !strings.HasPrefix(path, "/ui/") {
			t.Errorf("%s is registered as static files: only the console (/ui/) is; an API route goes in the table", p)
		}
	}
	if documented != len(s.mux.patterns) {
		t.Errorf("%d operations described, %d routes registered", documented, len(s.mux.patterns))
	}
}

func cutPattern(p string) (method, path string, ok bool) {
	for i := range len(p) {
		if p[i] == ' ' {
			return p[:i], p[i+1:], i > 0
		}
	}
	return "", p, false
}

// TestOpenAPIPublished: docs/openapi.json is the description as served;
// make docs writes it.
func TestOpenAPIPublished(t *testing.T) {
	want, err := OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("..", "..", "docs", "openapi.json"))
	if err != nil {
		t.Fatalf("%v: run make docs", err)
	}
	if !bytes.Equal(got, want) {
		t.Error("docs/openapi.json is out of date: run make docs and commit it")
	}
}
