package trigger

import (
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// TestParseForAgreesWithAPI: a trigger's "for" is accepted by package
// trigger exactly when the API's validation accepts it, with the same
// value, so pesd never stores a trigger it then cannot evaluate.
func TestParseForAgreesWithAPI(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, true},
		{"0s", 0, true},
		{"90s", 90 * time.Second, true},
		{" 2m ", 2 * time.Minute, true},
		{"1d", 24 * time.Hour, true},
		{"0.5d", 12 * time.Hour, true},
		{"0d12h", 12 * time.Hour, true},
		{"24h", 24 * time.Hour, true},
		{"1d1s", 0, false},
		{"2d", 0, false},
		{"25h", 0, false},
		{"-1m", 0, false},
		{"5 minutes", 0, false},
		{"d", 0, false},
		{"1e2d", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFor(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("ParseFor(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
			}
			name, cond, by := "t", "last(cpu) > 1", 1
			spec := api.TriggerSpec{Name: &name, Condition: &cond, For: &tt.in, Request: api.Request{ChangeBy: &by}}
			apiErr := api.ValidateTriggerSpec(&spec, true)
			if (apiErr == nil) != (err == nil) {
				t.Errorf("for %q: the API says %v, package trigger says %v", tt.in, apiErr, err)
			}
		})
	}
}
