package standin

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// The stand-in must serve exactly the schemas it was given: a schema
// written and read back is the same, nested attributes, blocks and
// descriptions included.
func TestSchemasRoundTrip(t *testing.T) {
	nested := &tfprotov6.SchemaObject{Nesting: tfprotov6.SchemaObjectNestingModeList, Attributes: []*tfprotov6.SchemaAttribute{
		{Name: "port", Type: tftypes.Number, Optional: true, Computed: true},
		{Name: "tags", Type: tftypes.Map{ElementType: tftypes.String}, Optional: true, Sensitive: true},
	}}
	s := Schemas{
		Capabilities: &tfprotov6.ServerCapabilities{GetProviderSchemaOptional: true, PlanDestroy: true},
		Provider:     &tfprotov6.Schema{Block: &tfprotov6.SchemaBlock{Attributes: []*tfprotov6.SchemaAttribute{{Name: "endpoint", Type: tftypes.String, Optional: true}}}},
		Resources: map[string]*tfprotov6.Schema{"pes_thing": {Version: 2, Block: &tfprotov6.SchemaBlock{
			Description: "A thing.", DescriptionKind: tfprotov6.StringKindMarkdown,
			Attributes: []*tfprotov6.SchemaAttribute{
				{Name: "id", Type: tftypes.String, Computed: true, Description: "Its ID."},
				{Name: "checks", NestedType: nested, Optional: true},
				{Name: "pair", Type: tftypes.Object{AttributeTypes: map[string]tftypes.Type{"a": tftypes.Bool, "b": tftypes.List{ElementType: tftypes.Number}}}, Required: true, Deprecated: true},
			},
			BlockTypes: []*tfprotov6.SchemaNestedBlock{{TypeName: "timeouts", Nesting: tfprotov6.SchemaNestedBlockNestingModeSingle,
				Block: &tfprotov6.SchemaBlock{Attributes: []*tfprotov6.SchemaAttribute{{Name: "create", Type: tftypes.String, Optional: true}}}}},
		}}},
		DataSources: map[string]*tfprotov6.Schema{"pes_thing": {Block: &tfprotov6.SchemaBlock{Attributes: []*tfprotov6.SchemaAttribute{{Name: "id", Type: tftypes.String, Required: true}}}}},
	}
	path := filepath.Join(t.TempDir(), "schemas.json")
	if err := s.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Compared as JSON, where a type's nil and empty set of optional
	// attributes are the same, as they are to Terraform.
	gotJSON, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("read back\n%s\nwant\n%s", gotJSON, wantJSON)
	}
	if got.Resources["pes_thing"].Block.Attributes[1].NestedType == nil || got.Resources["pes_thing"].Block.BlockTypes[0].Block == nil {
		t.Errorf("nested attributes or blocks lost: %#v", got.Resources["pes_thing"].Block)
	}
}

// A create's plan keeps what is configured and leaves each unset computed
// attribute, nested ones included, unknown; the apply fills them all.
func TestPlanThenApply(t *testing.T) {
	block := &tfprotov6.SchemaBlock{Attributes: []*tfprotov6.SchemaAttribute{
		{Name: "id", Type: tftypes.String, Computed: true},
		{Name: "input", Type: tftypes.String, Optional: true},
		{Name: "note", Type: tftypes.String, Optional: true},
		{Name: "program", Optional: true, NestedType: &tfprotov6.SchemaObject{Nesting: tfprotov6.SchemaObjectNestingModeSingle,
			Attributes: []*tfprotov6.SchemaAttribute{
				{Name: "command", Type: tftypes.String, Required: true},
				{Name: "dir", Type: tftypes.String, Optional: true, Computed: true},
			}}},
	}}
	s := &server{s: Schemas{Resources: map[string]*tfprotov6.Schema{"pes_thing": {Block: block}}}}
	typ := block.ValueType()
	progType := typ.(tftypes.Object).AttributeTypes["program"]
	proposed := tftypes.NewValue(typ, map[string]tftypes.Value{
		"id":    tftypes.NewValue(tftypes.String, nil),
		"input": tftypes.NewValue(tftypes.String, "x"),
		"note":  tftypes.NewValue(tftypes.String, nil),
		"program": tftypes.NewValue(progType, map[string]tftypes.Value{
			"command": tftypes.NewValue(tftypes.String, "worker"),
			"dir":     tftypes.NewValue(tftypes.String, nil),
		}),
	})
	dv := func(v tftypes.Value) *tfprotov6.DynamicValue {
		d, err := tfprotov6.NewDynamicValue(typ, v)
		if err != nil {
			t.Fatal(err)
		}
		return &d
	}
	plan, err := s.PlanResourceChange(context.Background(), &tfprotov6.PlanResourceChangeRequest{
		TypeName: "pes_thing", ProposedNewState: dv(proposed), PriorState: dv(tftypes.NewValue(typ, nil)), Config: dv(proposed),
	})
	if err != nil {
		t.Fatal(err)
	}
	planned, err := plan.PlannedState.Unmarshal(typ)
	if err != nil {
		t.Fatal(err)
	}
	want := tftypes.NewValue(typ, map[string]tftypes.Value{
		"id":    tftypes.NewValue(tftypes.String, tftypes.UnknownValue),
		"input": tftypes.NewValue(tftypes.String, "x"),
		"note":  tftypes.NewValue(tftypes.String, nil),
		"program": tftypes.NewValue(progType, map[string]tftypes.Value{
			"command": tftypes.NewValue(tftypes.String, "worker"),
			"dir":     tftypes.NewValue(tftypes.String, tftypes.UnknownValue),
		}),
	})
	if !planned.Equal(want) {
		t.Errorf("planned %v, want %v", planned, want)
	}

	applied, err := s.ApplyResourceChange(context.Background(), &tfprotov6.ApplyResourceChangeRequest{TypeName: "pes_thing", PlannedState: plan.PlannedState})
	if err != nil {
		t.Fatal(err)
	}
	state, err := applied.NewState.Unmarshal(typ)
	if err != nil {
		t.Fatal(err)
	}
	if !state.IsFullyKnown() {
		t.Errorf("applied state %v has unknowns", state)
	}
	var attrs map[string]tftypes.Value
	if err := state.As(&attrs); err != nil {
		t.Fatal(err)
	}
	if !attrs["input"].Equal(tftypes.NewValue(tftypes.String, "x")) || !attrs["note"].IsNull() {
		t.Errorf("applied state %v changed what was planned", state)
	}
}
