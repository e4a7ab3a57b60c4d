package openapi

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

type inner struct {
	A string `json:"a"`
	B int    `json:"b,omitempty"`
}

type outer struct {
	inner
	B     *int       `json:"b"` // shadows inner.B, as encoding/json does
	When  *time.Time `json:"when"`
	Maybe *inner     `json:"maybe,omitempty"`
	Kind  string     `json:"kind"`
	Tags  []string   `json:"tags,omitzero"`
	skip  int
	Gone  int `json:"-"`
}

// TestSchemasFollowEncodingJSON: embedded fields flattened and shadowed,
// omitempty/omitzero optional in answers, pointers without omitempty
// nullable, enums applied, unknown fields rejected; in requests nothing
// is required but what the operation names.
func TestSchemasFollowEncodingJSON(t *testing.T) {
	doc, err := Build(Spec{ErrorBody: struct {
		Msg string `json:"msg"`
	}{}, Enums: map[string][]string{"outer.kind": {"x", "y"}}}, []Operation{
		{Pattern: "GET /v1/o", ID: "get", Summary: "s", Status: 200, Response: outer{}},
		{Pattern: "POST /v1/o", ID: "post", Summary: "s", Status: 201, Body: &Body{Type: outer{}, Required: []string{"kind"}}, Response: outer{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(doc.Components.Schemas["outer"])
	want := `{"type":"object","properties":{"a":{"type":"string"},"b":{"type":["integer","null"]},"kind":{"type":"string","enum":["x","y"]},` +
		`"maybe":{"$ref":"#/components/schemas/inner"},"tags":{"type":"array","items":{"type":"string"}},"when":{"type":["string","null"],"format":"date-time"}},` +
		`"required":["a","b","kind","when"],"additionalProperties":false}`
	if string(b) != want {
		t.Errorf("response schema\n got %s\nwant %s", b, want)
	}
	body, _ := json.Marshal(doc.Paths["/v1/o"]["post"].RequestBody.Content["application/json"].Schema)
	if !strings.Contains(string(body), `"required":["kind"]`) || !strings.Contains(string(body), `"b":{"type":"integer"}`) {
		t.Errorf("request schema %s: want only kind required and b not nullable", body)
	}
	if doc.Components.Schemas["outerInput"] != nil {
		t.Error("a body written in place is also a component")
	}
	if got := doc.Paths["/v1/o"]["get"].Responses; got["400"] == nil || got["401"] == nil || got["200"] == nil {
		t.Errorf("responses %v: want 200 and the errors of every /v1 route", got)
	}
}

func TestBuildRejects(t *testing.T) {
	op := Operation{Pattern: "GET /x", ID: "x", Summary: "s", Status: 200}
	for name, ops := range map[string][]Operation{
		"a pattern twice": {op, {Pattern: "GET /x", ID: "y", Summary: "s", Status: 200}},
		"an id twice":     {op, {Pattern: "GET /y", ID: "x", Summary: "s", Status: 200}},
		"no summary":      {{Pattern: "GET /x", ID: "x", Status: 200}},
		"a func":          {{Pattern: "GET /x", ID: "x", Summary: "s", Status: 200, Response: struct{ F func() }{}}},
		"required unknown": {{Pattern: "POST /x", ID: "x", Summary: "s", Status: 200,
			Body: &Body{Type: inner{}, Required: []string{"c"}}}},
	} {
		if _, err := Build(Spec{ErrorBody: inner{}}, ops); err == nil {
			t.Errorf("%s: built", name)
		}
	}
}
