package server

import (
	"errors"
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
