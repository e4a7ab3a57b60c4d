package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// The codec writes the same Terraform values as the framework's Set and
// reads back the same models as its Get, for models with nulls, unknowns,
// nested objects and nested models.
func TestCodecMatchesFramework(t *testing.T) {
	ctx := context.Background()
	schemaOf := func(r resource.Resource) tfsdk.State {
		var resp resource.SchemaResponse
		r.Schema(ctx, resource.SchemaRequest{}, &resp)
		return tfsdk.State{Schema: resp.Schema}
	}

	var group nodeGroupModel
	if d := group.fromGroup(api.Group{
		ID: "g1", GroupConfig: api.GroupConfig{Name: "web", Driver: api.DriverSim, DesiredQuantity: 2, MaxQuantity: 10,
			Program:     api.Program{Command: "worker", Args: []string{"a"}},
			HealthCheck: &api.HealthCheck{Type: api.HealthHTTP, Path: "/", Interval: "2s", FailureThreshold: 3},
			Sim:         &api.SimConfig{BootTime: "0s"},
			Labels:      map[string]string{"team": "a"}},
		Status: api.GroupActive,
	}, nodeGroupModel{}); d.HasError() {
		t.Fatal(d)
	}
	group.Timeouts = timeouts.Value{Object: types.ObjectNull(map[string]attr.Type{"create": types.StringType, "update": types.StringType})}
	planned := group
	planned.ID = types.StringUnknown()
	planned.ActualQuantity = types.Int64Unknown()

	trig := triggerModel{ID: types.StringValue("t1"), GroupID: types.StringValue("g1"), Name: types.StringValue("t"),
		Condition: types.StringValue("true"), ChangeBy: types.Int64Null(), Priority: types.Int64Value(50),
		Target: &targetModel{Metric: types.StringValue("cpu"), Value: types.Float64Value(50), Tolerance: types.Float64Null(),
			Window: types.StringUnknown(), ScaleInStabilization: types.StringValue("5m")}}
	bare := triggerModel{Name: types.StringValue("t"), ChangeBy: types.Int64Value(1)}

	tests := []struct {
		name  string
		st    tfsdk.State
		model any
		fresh func() any
	}{
		{"node group state", schemaOf(newNodeGroupResource()), &group, func() any { return &nodeGroupModel{} }},
		{"node group plan", schemaOf(newNodeGroupResource()), &planned, func() any { return &nodeGroupModel{} }},
		{"trigger with target", schemaOf(newTriggerResource()), &trig, func() any { return &triggerModel{} }},
		{"trigger with nulls", schemaOf(newTriggerResource()), &bare, func() any { return &triggerModel{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			byFramework, byCodec := tt.st, tt.st
			if d := byFramework.Set(ctx, tt.model); d.HasError() {
				t.Fatal(d)
			}
			if d := setState(ctx, &byCodec, tt.model); d.HasError() {
				t.Fatal(d)
			}
			if !byCodec.Raw.Equal(byFramework.Raw) {
				t.Fatalf("codec wrote\n%s\nframework wrote\n%s", byCodec.Raw, byFramework.Raw)
			}

			// Read back by each, then written by the framework: the same value.
			viaFramework, viaCodec := tt.fresh(), tt.fresh()
			if d := byFramework.Get(ctx, viaFramework); d.HasError() {
				t.Fatal(d)
			}
			if d := getModel(ctx, byFramework, viaCodec); d.HasError() {
				t.Fatal(d)
			}
			a, b := tt.st, tt.st
			if d := a.Set(ctx, viaFramework); d.HasError() {
				t.Fatal(d)
			}
			if d := b.Set(ctx, viaCodec); d.HasError() {
				t.Fatal(d)
			}
			if !a.Raw.Equal(b.Raw) {
				t.Fatalf("codec read\n%s\nframework read\n%s", b.Raw, a.Raw)
			}
		})
	}
}
