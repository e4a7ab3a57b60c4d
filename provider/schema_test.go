package provider

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// Every model has exactly the attributes of its schema, through embedded
// structs and nested lists: the framework would otherwise fail at the
// first read or plan, not at build time.
func TestModelsMatchSchemas(t *testing.T) {
	srv, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		kind, name string
		schemas    map[string]*tfprotov6.Schema
		model      any
	}{
		{"resource", "pes_node_group", resp.ResourceSchemas, nodeGroupModel{}},
		{"resource", "pes_trigger", resp.ResourceSchemas, triggerModel{}},
		{"data source", "pes_node_group", resp.DataSourceSchemas, nodeGroupDataModel{}},
		{"data source", "pes_capacity_changes", resp.DataSourceSchemas, capacityChangesModel{}},
		{"data source", "pes_capacity_events", resp.DataSourceSchemas, capacityEventsModel{}},
		{"data source", "pes_capacity_forecast", resp.DataSourceSchemas, capacityForecastModel{}},
	}
	for _, tt := range tests {
		t.Run(tt.kind+" "+tt.name, func(t *testing.T) {
			s, ok := tt.schemas[tt.name]
			if !ok {
				t.Fatalf("no %s %s", tt.kind, tt.name)
			}
			var names []string
			for _, b := range s.Block.BlockTypes {
				names = append(names, b.TypeName)
			}
			matchModel(t, tt.name, reflect.TypeOf(tt.model), s.Block.Attributes, names)
		})
	}
}

// matchModel compares the tfsdk tags of struct type m with attrs (and the
// names of blocks), recursing into lists of nested objects.
func matchModel(t *testing.T, where string, m reflect.Type, attrs []*tfprotov6.SchemaAttribute, blocks []string) {
	t.Helper()
	fields := map[string]reflect.Type{}
	var collect func(reflect.Type)
	collect = func(st reflect.Type) {
		for i := range st.NumField() {
			f := st.Field(i)
			if f.Anonymous {
				collect(f.Type)
				continue
			}
			fields[f.Tag.Get("tfsdk")] = f.Type
		}
	}
	collect(m)

	var inSchema []string
	for _, a := range attrs {
		inSchema = append(inSchema, a.Name)
		ft, ok := fields[a.Name]
		if !ok {
			t.Errorf("%s: attribute %s has no field in %s", where, a.Name, m.Name())
			continue
		}
		if a.NestedType != nil && ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
			matchModel(t, where+"."+a.Name, ft.Elem(), a.NestedType.Attributes, nil)
		}
	}
	inSchema = append(inSchema, blocks...)
	for name := range fields {
		if !slices.Contains(inSchema, name) {
			t.Errorf("%s: field %s of %s is not in the schema (%s)", where, name, m.Name(), strings.Join(inSchema, ", "))
		}
	}
}
