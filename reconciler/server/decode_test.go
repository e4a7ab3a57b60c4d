package server

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

func TestJSONPath(t *testing.T) {
	tests := map[string]string{
		"GroupConfig.health_check.port": "health_check.port",
		"Request.change_by":             "change_by",
		"samples.value":                 "samples.value",
		"":                              "",
	}
	for in, want := range tests {
		if got := jsonPath(in); got != want {
			t.Errorf("jsonPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDecodeShadowing checks the shape check follows encoding/json's rule
// that a shallower field shadows an embedded one: api.GroupCreate's
// pointer quantities receive the values, so omitted is told from 0.
func TestDecodeShadowing(t *testing.T) {
	tests := []struct {
		body        string
		wantDesired *int
		wantField   string
	}{
		{body: `{"desired_quantity":0}`, wantDesired: ptr(0)},
		{body: `{"desired_quantity":7}`, wantDesired: ptr(7)},
		{body: `{"name":"x"}`},
		{body: `{"desired_quantity":null}`},
		{body: `{"desired_quantity":-3}`, wantDesired: ptr(-3)},
		{body: `{"desired_quantity":"3"}`, wantField: "desired_quantity"},
		{body: `{"health_check":{"interval":5}}`, wantField: "health_check.interval"},
		{body: `{"program":{"env":{"A":1}}}`, wantField: "program.env.A"},
		{body: `{"sim":{"boot_times":["1s",2]}}`, wantField: "sim.boot_times[1]"},
		{body: `{"desired_quantity":99999999999999999999}`, wantField: "desired_quantity"},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			var c api.GroupCreate
			err := decodeJSON([]byte(tt.body), "application/json", &c)
			if tt.wantField != "" {
				var e *api.Error
				if !errors.As(err, &e) || e.Field != tt.wantField || e.Status != 400 {
					t.Fatalf("got %v, want a 400 on %s", err, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.wantDesired == nil && c.DesiredQuantity != nil:
				t.Errorf("desired %d, want omitted", *c.DesiredQuantity)
			case tt.wantDesired != nil && (c.DesiredQuantity == nil || *c.DesiredQuantity != *tt.wantDesired):
				t.Errorf("desired %v, want %d", c.DesiredQuantity, *tt.wantDesired)
			}
		})
	}
}

// requestTypes are the types handlers decode bodies into.
var requestTypes = []any{
	&api.GroupCreate{}, &api.GroupPatch{}, &api.Instruction{},
	&api.MetricsRequest{}, &api.TriggerSpec{}, &api.ValidateConditionRequest{},
}

// TestRequestNamesLowercase guards decodeFast's premise: every JSON name
// of every request, nested ones included, is lowercase ASCII, so a key
// that is lowercase ASCII matches encoding/json's case-folding lookup only
// where it matches exactly.
func TestRequestNamesLowercase(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type, path string)
	walk = func(rt reflect.Type, path string) {
		for rt.Kind() == reflect.Pointer || rt.Kind() == reflect.Slice || rt.Kind() == reflect.Map {
			rt = rt.Elem()
		}
		if rt.Kind() != reflect.Struct || rt == timeType || seen[rt] {
			return
		}
		seen[rt] = true
		for name, ft := range jsonFields(rt) {
			for _, c := range []byte(name) {
				if c >= 0x80 || 'A' <= c && c <= 'Z' {
					t.Errorf("%s%s: JSON name %q is not lowercase ASCII; decodeFast would accept a key differing only in case", path, rt, name)
					break
				}
			}
			walk(ft, path+name+".")
		}
	}
	for _, v := range requestTypes {
		walk(reflect.TypeOf(v), "")
	}
}

func TestPlainKeys(t *testing.T) {
	tests := map[string]bool{
		`{"name":"Web","time":"2026-01-02T10:00:00Z"}`: true,
		`{"a":{"b":["X","Y"]},"c":"\"Q\":"}`:           true,
		`{"Name":"web"}`:                               false,
		`{"name" : 1, "labels":{"Team" :"a"}}`:         false,
		`{"na\u006de":"web"}`:                          false,
		`{"nam\u00e9":"web"}`:                          false,
		"{\"\u017fim\":{}}":                            false, // ſ folds to s
		`["A", "B"]`:                                   true,
	}
	for body, want := range tests {
		if got := plainKeys([]byte(body)); got != want {
			t.Errorf("plainKeys(%s) = %v, want %v", body, got, want)
		}
	}
}

// FuzzDecodeOnce checks that decoding once answers exactly as the full
// check does: the same error (status, code, field, message) or the same
// value, for every request type.
func FuzzDecodeOnce(f *testing.F) {
	for _, seed := range []string{
		``, `null`, ` {} `, `{}x`, `{"name":"web"}`, `{"Name":"web"}`, `{"NAME":"web","name":"x"}`,
		`{"desired_quantity":3,"Desired_Quantity":4}`, `{"samples":[{"name":"q","value":1.5,"time":"2026-01-02T10:00:00Z"}]}`,
		`{"samples":[{"name":"q","value":1.5,"Time":"2026-01-02T10:00:00Z"}]}`, `{"samples":[{"value":"1"}]}`,
		`{"change_by":1.5}`, `{"change_by":1e3}`, `{"change_by":99999999999999999999}`, `{"labels":{"Team":"a"}}`,
		`{"program":{"env":{"PATH":"/bin"}}}`, `{"sim":{"boot_times":["1s",2]}}`, `{"name":5,"name":"x"}`,
		"{\"\u017fim\":{}}", `{"condition":"last(q) > 1","for":"2m"}`, `{"health_check":{"interval":5}}`, `[1]`, `"x"`,
		`{"samples":[{"name":"q","value":1,"time":"2026-01-02 10:00:00"}]}`, `{"reason":"a\u0041"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, v := range requestTypes {
			typ := reflect.TypeOf(v).Elem()
			once, full := reflect.New(typ).Interface(), reflect.New(typ).Interface()
			errOnce := decodeJSON(body, "application/json", once)
			errFull := decodeChecked(body, "application/json", full)
			if fmt.Sprintf("%#v", errOnce) != fmt.Sprintf("%#v", errFull) {
				t.Fatalf("%s: decoding once gives %#v, the full check %#v", typ, errOnce, errFull)
			}
			if errOnce == nil && !reflect.DeepEqual(once, full) {
				t.Fatalf("%s: decoding once gives %+v, the full check %+v", typ, once, full)
			}
		}
	})
}
