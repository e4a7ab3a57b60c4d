package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// Helpers between Terraform values and wire values. Read keeps what the
// user wrote whenever pesd's answer means the same thing, so a refresh
// never shows a diff the user did not cause.

// keepString returns prior when it is known and equal to got, else got.
// An empty got becomes null when prior is null (pesd omits empty fields).
func keepString(prior types.String, got string) types.String {
	if !prior.IsNull() && !prior.IsUnknown() && prior.ValueString() == got {
		return prior
	}
	if got == "" && (prior.IsNull() || prior.IsUnknown()) {
		return types.StringNull()
	}
	return types.StringValue(got)
}

// keepDuration is keepString for durations: "60s" and "1m" are the same
// setting, so the user's spelling stays.
func keepDuration(prior types.String, got string) types.String {
	if !prior.IsNull() && !prior.IsUnknown() {
		a, errA := api.ParseDuration(prior.ValueString())
		b, errB := api.ParseDuration(got)
		if errA == nil && errB == nil && a == b {
			return prior
		}
	}
	return keepString(prior, got)
}

// optString maps "" to null: pesd omits empty optional strings.
func optString(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

// optInt maps 0 to null for fields where 0 means "not set".
func optInt(n int) types.Int64 {
	if n == 0 {
		return types.Int64Null()
	}
	return types.Int64Value(int64(n))
}

func intPtr(v types.Int64) *int {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	n := int(v.ValueInt64())
	return &n
}

func floatPtr(v types.Float64) *float64 {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	f := v.ValueFloat64()
	return &f
}

func boolPtr(v types.Bool) *bool {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	b := v.ValueBool()
	return &b
}

// strPtr returns a pointer to the value, or to "" for null: in a PATCH an
// empty string removes an optional setting.
func strPtr(v types.String) *string {
	s := v.ValueString()
	return &s
}

func timeString(t time.Time) types.String {
	if t.IsZero() {
		return types.StringNull()
	}
	return types.StringValue(t.UTC().Format(time.RFC3339Nano))
}

func timePtrString(t *time.Time) types.String {
	if t == nil {
		return types.StringNull()
	}
	return timeString(*t)
}

// stringList converts a list, keeping null when the user wrote nothing and
// pesd has nothing.
func stringList(prior types.List, got []string) (types.List, diag.Diagnostics) {
	if len(got) == 0 && (prior.IsNull() || prior.IsUnknown()) {
		return types.ListNull(types.StringType), nil
	}
	if got == nil {
		got = []string{}
	}
	return types.ListValueFrom(context.Background(), types.StringType, got)
}

// stringMap is stringList for maps.
func stringMap(prior types.Map, got map[string]string) (types.Map, diag.Diagnostics) {
	if len(got) == 0 && (prior.IsNull() || prior.IsUnknown()) {
		return types.MapNull(types.StringType), nil
	}
	if got == nil {
		got = map[string]string{}
	}
	return types.MapValueFrom(context.Background(), types.StringType, got)
}

// listStrings reads a list of strings; null and unknown give nil.
func listStrings(ctx context.Context, l types.List) ([]string, diag.Diagnostics) {
	if l.IsNull() || l.IsUnknown() {
		return nil, nil
	}
	var out []string
	diags := l.ElementsAs(ctx, &out, false)
	return out, diags
}

// mapStrings reads a map of strings; null and unknown give nil.
func mapStrings(ctx context.Context, m types.Map) (map[string]string, diag.Diagnostics) {
	if m.IsNull() || m.IsUnknown() {
		return nil, nil
	}
	out := map[string]string{}
	diags := m.ElementsAs(ctx, &out, false)
	return out, diags
}
