package provider

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/trigger"
)

// Unit tests: no pesd, no Terraform CLI.

// The framework validates every schema (defaults on computed attributes
// only, and so on) when serving it; a broken schema fails here first.
func TestProviderSchemaIsValid(t *testing.T) {
	srv, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range resp.Diagnostics {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			t.Errorf("schema: %s: %s", d.Summary, d.Detail)
		}
	}
	for _, want := range []string{"pes_node_group", "pes_trigger"} {
		if _, ok := resp.ResourceSchemas[want]; !ok {
			t.Errorf("resource %s missing", want)
		}
	}
	for _, want := range []string{"pes_node_group", "pes_capacity_changes", "pes_capacity_events", "pes_capacity_forecast"} {
		if _, ok := resp.DataSourceSchemas[want]; !ok {
			t.Errorf("data source %s missing", want)
		}
	}
	// Every attribute is documented, because the docs come from the schema.
	var undocumented []string
	check := func(kind, name string, s *tfprotov6.Schema) {
		var walk func(prefix string, attrs []*tfprotov6.SchemaAttribute)
		walk = func(prefix string, attrs []*tfprotov6.SchemaAttribute) {
			for _, a := range attrs {
				if a.Description == "" {
					undocumented = append(undocumented, fmt.Sprintf("%s %s: %s%s", kind, name, prefix, a.Name))
				}
				if a.NestedType != nil {
					walk(prefix+a.Name+".", a.NestedType.Attributes)
				}
			}
		}
		walk("", s.Block.Attributes)
	}
	check("provider", "pes", resp.Provider)
	for n, s := range resp.ResourceSchemas {
		check("resource", n, s)
	}
	for n, s := range resp.DataSourceSchemas {
		check("data source", n, s)
	}
	if len(undocumented) > 0 {
		t.Errorf("attributes without a description:\n%s", strings.Join(undocumented, "\n"))
	}
}

func TestCompareLabels(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"E2", "E10", -1},
		{"E10", "E2", 1},
		{"E9", "E9b", -1},
		{"E9a", "E9b", -1},
		{"E9b", "E10", -1},
		{"C10b", "C10b", 0},
		{"C007", "C7", 0},
		{"H1", "H1", 0},
		{"", "E1", -1},
		{"E99999999999999999999", "E100000000000000000000", -1},
	}
	for _, tt := range tests {
		if got := compareLabels(tt.a, tt.b); got != tt.want {
			t.Errorf("compareLabels(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestSortEventsByTimeThenLabel(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	events := []api.Event{
		{Label: "E10", Time: t0},
		{Label: "E3", Time: t0.Add(time.Second)},
		{Label: "E2", Time: t0},
		{Label: "E9b", Time: t0},
	}
	sortEvents(events)
	var got []string
	for _, e := range events {
		got = append(got, e.Label)
	}
	if want := []string{"E2", "E9b", "E10", "E3"}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}

func TestAttrPath(t *testing.T) {
	tests := []struct {
		field string
		want  path.Path
		ok    bool
	}{
		{"desired_quantity", path.Root("desired_quantity"), true},
		{"health_check.port", path.Root("health_check").AtName("port"), true},
		{"program.args[1]", path.Root("program").AtName("args").AtListIndex(1), true},
		{"predictive.governs[0]", path.Root("predictive").AtName("governs").AtListIndex(0), true},
		{"program.args[x]", path.Empty(), false},
		{".port", path.Empty(), false},
	}
	for _, tt := range tests {
		got, ok := attrPath(tt.field)
		if ok != tt.ok || (ok && !got.Equal(tt.want)) {
			t.Errorf("attrPath(%q) = %s, %v; want %s, %v", tt.field, got, ok, tt.want, tt.ok)
		}
	}
}

func TestConditionErrorDetail(t *testing.T) {
	tests := []struct {
		src   string
		wants []string
	}{
		{"avg(cpu_utilization, '2m') >", []string{"line 1, column", "    avg(cpu_utilization, '2m') >\n", "^"}},
		{"avgg(cpu_utilization, '2m') > 80", []string{"line 1, column 1:", "\n    ^", "Hint:", "avg"}},
		{"last(queue_depth) > 10\nand nope(x) > 1", []string{"line 2, column", "    and nope(x) > 1\n"}},
	}
	for _, tt := range tests {
		_, err := trigger.Compile(tt.src)
		if err == nil {
			t.Fatalf("Compile(%q) succeeded, want an error", tt.src)
		}
		got := conditionErrorDetail(tt.src, err)
		for _, w := range tt.wants {
			if !strings.Contains(got, w) {
				t.Errorf("detail for %q lacks %q:\n%s", tt.src, w, got)
			}
		}
	}
}

// TestCheckCondition: a remembered result is the compiler's, for a
// source that compiles and for one that does not, on every call.
func TestCheckCondition(t *testing.T) {
	for _, src := range []string{"avg(cpu_utilization, '2m') > 80", "avgg(cpu_utilization, '2m') > 80", "last(queue_depth) >", ""} {
		_, want := trigger.Compile(src)
		for range 2 {
			got := checkCondition(src)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("checkCondition(%q) = %v, want %v", src, got, want)
			}
			var ce *trigger.CompileError
			if want != nil && !errors.As(got, &ce) {
				t.Errorf("checkCondition(%q) = %T, want the compiler's *trigger.CompileError", src, got)
			}
		}
	}
}

func TestAPIErrorDiag(t *testing.T) {
	// A real refused connection, as the client would return it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, refused := net.Dial("tcp", addr)
	if refused == nil {
		t.Skip("nothing refused the connection")
	}

	const endpoint = "http://127.0.0.1:7400"
	tests := []struct {
		name     string
		err      error
		id       string
		wantPath path.Path
		wants    []string
	}{
		{
			name:  "connection refused",
			err:   fmt.Errorf("GET %s/v1/groups/x: giving up after 5 attempt(s): %w", endpoint, refused),
			id:    "g-1",
			wants: []string{"Is pesd running at " + endpoint + "?", "pesd serve --listen 127.0.0.1:7400", "ID: g-1"},
		},
		{
			name:  "unauthorized",
			err:   &api.Error{Code: api.CodeUnauthorized, Status: http.StatusUnauthorized, Message: "missing bearer token"},
			wants: []string{"rejected the token", "PES_TOKEN"},
		},
		{
			name:     "bad field",
			err:      &api.Error{Code: api.CodeInvalid, Status: http.StatusBadRequest, Field: "health_check.port", Message: "must be between 1 and 65535"},
			id:       "g-2",
			wantPath: path.Root("health_check").AtName("port"),
			wants:    []string{"pesd rejected health_check.port: must be between 1 and 65535", "Fix health_check.port", "ID: g-2"},
		},
		{
			name:  "not found",
			err:   &api.Error{Code: api.CodeNotFound, Status: http.StatusNotFound, Message: "no group x"},
			wants: []string{"no such object", "deleted outside Terraform"},
		},
		{
			name:  "internal",
			err:   &api.Error{Code: api.CodeInternal, Status: http.StatusInternalServerError, Message: "disk full"},
			wants: []string{"HTTP 500", "disk full", "pesd's log"},
		},
		{
			name:  "deadline",
			err:   fmt.Errorf("get: %w", context.DeadlineExceeded),
			wants: []string{"did not answer in time", "/healthz"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := apiErrorDiag("Cannot do it", endpoint, tt.id, tt.err)
			if d.Severity() != diag.SeverityError || d.Summary() != "Cannot do it" {
				t.Errorf("got %v %q", d.Severity(), d.Summary())
			}
			for _, w := range tt.wants {
				if !strings.Contains(d.Detail(), w) {
					t.Errorf("detail lacks %q:\n%s", w, d.Detail())
				}
			}
			wantPath := len(tt.wantPath.Steps()) > 0
			if p, ok := d.(diag.DiagnosticWithPath); ok != wantPath || (ok && !p.Path().Equal(tt.wantPath)) {
				t.Errorf("path: got %v (%v), want %s", d, ok, tt.wantPath)
			}
		})
	}
}

func TestKeepDuration(t *testing.T) {
	tests := []struct {
		prior types.String
		got   string
		want  types.String
	}{
		{types.StringValue("60s"), "1m", types.StringValue("60s")},
		{types.StringValue("60s"), "2m", types.StringValue("2m")},
		{types.StringNull(), "2s", types.StringValue("2s")},
		{types.StringNull(), "", types.StringNull()},
		{types.StringUnknown(), "15s", types.StringValue("15s")},
		{types.StringValue("1d"), "24h", types.StringValue("1d")},
	}
	for _, tt := range tests {
		if got := keepDuration(tt.prior, tt.got); !got.Equal(tt.want) {
			t.Errorf("keepDuration(%s, %q) = %s, want %s", tt.prior, tt.got, got, tt.want)
		}
	}
}

// Read keeps the declared desired quantity, whatever triggers did to the
// live one; import (no prior) takes the live one.
func TestFromGroupKeepsDeclaredDesiredQuantity(t *testing.T) {
	g := api.Group{ID: "g", Status: api.GroupActive, OfficialQuantity: 7, ActualQuantity: 6}
	g.Name, g.Driver, g.DesiredQuantity, g.MaxQuantity = "web", api.DriverSim, 7, 10
	g.AggregationPeriod, g.Cooldown = "60s", "0s"

	var refreshed nodeGroupModel
	var prior nodeGroupModel
	prior.DesiredQuantity, prior.AggregationPeriod = types.Int64Value(4), types.StringValue("1m")
	if d := refreshed.fromGroup(g, prior); d.HasError() {
		t.Fatal(d)
	}
	if refreshed.DesiredQuantity.ValueInt64() != 4 || refreshed.CurrentDesiredQuantity.ValueInt64() != 7 {
		t.Errorf("refresh: desired %s current %s, want 4 and 7", refreshed.DesiredQuantity, refreshed.CurrentDesiredQuantity)
	}
	if refreshed.AggregationPeriod.ValueString() != "1m" {
		t.Errorf("refresh rewrote aggregation_period 1m as %s", refreshed.AggregationPeriod)
	}

	var imported nodeGroupModel
	if d := imported.fromGroup(g, nodeGroupModel{}); d.HasError() {
		t.Fatal(d)
	}
	if imported.DesiredQuantity.ValueInt64() != 7 || !imported.WaitForCapacity.ValueBool() {
		t.Errorf("import: desired %s wait %s, want 7 and true", imported.DesiredQuantity, imported.WaitForCapacity)
	}
}

// ValidateConfig's cross-field checks, without Terraform: the config it
// builds is what api.ResolveGroupConfig judges, with unknown and
// attribute-level errors neutralized so each problem is reported once.
func TestValidationConfig(t *testing.T) {
	base := func() nodeGroupModel {
		return nodeGroupModel{nodeGroupFields: nodeGroupFields{
			Name:            types.StringValue("web"),
			Driver:          types.StringValue(api.DriverSim),
			DesiredQuantity: types.Int64Value(2),
			MinQuantity:     types.Int64Null(),
			MaxQuantity:     types.Int64Null(),
		}}
	}
	tests := []struct {
		name      string
		edit      func(m *nodeGroupModel)
		wantField string // "" for valid
	}{
		{"defaults", func(m *nodeGroupModel) {}, ""},
		{"min above max", func(m *nodeGroupModel) {
			m.MinQuantity, m.MaxQuantity = types.Int64Value(5), types.Int64Value(3)
		}, "min_quantity"},
		{"desired above default max", func(m *nodeGroupModel) { m.DesiredQuantity = types.Int64Value(101) }, "desired_quantity"},
		{"desired below min", func(m *nodeGroupModel) { m.MinQuantity = types.Int64Value(3) }, "desired_quantity"},
		{"unknown max cannot conflict", func(m *nodeGroupModel) {
			m.DesiredQuantity, m.MaxQuantity = types.Int64Value(500), types.Int64Unknown()
		}, ""},
		{"unknown desired cannot conflict", func(m *nodeGroupModel) {
			m.DesiredQuantity, m.MinQuantity = types.Int64Unknown(), types.Int64Value(3)
		}, ""},
		{"bad duration left to its attribute validator", func(m *nodeGroupModel) { m.AggregationPeriod = types.StringValue("soon") }, ""},
		{"duration below its minimum", func(m *nodeGroupModel) { m.AggregationPeriod = types.StringValue("10ms") }, "aggregation_period"},
		{"bad enum left to its attribute validator", func(m *nodeGroupModel) { m.AggregationPolicy = types.StringValue("biggest") }, ""},
		{"bad name", func(m *nodeGroupModel) { m.Name = types.StringValue("Web_1") }, "name"},
		{"unknown name", func(m *nodeGroupModel) { m.Name = types.StringUnknown() }, ""},
		{"local needs a program", func(m *nodeGroupModel) { m.Driver = types.StringValue(api.DriverLocal) }, "program.command"},
		{"sim on a local group", func(m *nodeGroupModel) {
			m.Driver = types.StringValue(api.DriverLocal)
			m.Program = types.ObjectValueMust(programAttrTypes, map[string]attr.Value{
				"command": types.StringValue("sleep"),
				"args":    types.ListNull(types.StringType),
				"env":     types.MapNull(types.StringType),
			})
			m.Sim = types.ObjectValueMust(simAttrTypes, map[string]attr.Value{
				"boot_time":     types.StringValue("1s"),
				"boot_times":    types.ListNull(types.StringType),
				"init_failures": types.Int64Value(0),
			})
		}, "sim"},
		{"path on a tcp check", func(m *nodeGroupModel) {
			m.HealthCheck = types.ObjectValueMust(healthCheckAttrTypes, map[string]attr.Value{
				"type":              types.StringValue(api.HealthTCP),
				"path":              types.StringValue("/"),
				"port":              types.Int64Null(),
				"command":           types.StringNull(),
				"interval":          types.StringNull(),
				"failure_threshold": types.Int64Null(),
			})
		}, "health_check.path"},
		{"bad boot_times entry left to its attribute validator", func(m *nodeGroupModel) {
			m.Sim = types.ObjectValueMust(simAttrTypes, map[string]attr.Value{
				"boot_time":     types.StringNull(),
				"boot_times":    types.ListValueMust(types.StringType, []attr.Value{types.StringValue("1s"), types.StringValue("soon")}),
				"init_failures": types.Int64Null(),
			})
		}, ""},
		{"unknown boot_times entry", func(m *nodeGroupModel) {
			m.Sim = types.ObjectValueMust(simAttrTypes, map[string]attr.Value{
				"boot_time":     types.StringNull(),
				"boot_times":    types.ListValueMust(types.StringType, []attr.Value{types.StringUnknown()}),
				"init_failures": types.Int64Null(),
			})
		}, ""},
		{"exec check without a command", func(m *nodeGroupModel) {
			m.HealthCheck = healthCheck(api.HealthExec, types.StringNull())
		}, "health_check.command"},
		{"exec check with an unknown command", func(m *nodeGroupModel) {
			m.HealthCheck = healthCheck(api.HealthExec, types.StringUnknown())
		}, ""},
		{"unknown check type: nothing to check", func(m *nodeGroupModel) {
			m.HealthCheck = types.ObjectValueMust(healthCheckAttrTypes, map[string]attr.Value{
				"type": types.StringUnknown(), "path": types.StringValue("/"), "port": types.Int64Null(),
				"command": types.StringNull(), "interval": types.StringNull(), "failure_threshold": types.Int64Null(),
			})
		}, ""},
		// An unknown or invalid driver hides nothing that does not depend
		// on it (all errors in one plan), and judges nothing that does.
		{"unknown driver: the bounds are still checked", func(m *nodeGroupModel) {
			m.Driver = types.StringUnknown()
			m.MinQuantity, m.MaxQuantity = types.Int64Value(5), types.Int64Value(3)
		}, "min_quantity"},
		{"invalid driver: the bounds are still checked", func(m *nodeGroupModel) {
			m.Driver = types.StringValue("docker")
			m.MinQuantity, m.MaxQuantity = types.Int64Value(5), types.Int64Value(3)
		}, "min_quantity"},
		{"invalid driver: no program is not judged", func(m *nodeGroupModel) {
			m.Driver = types.StringValue("docker")
		}, ""},
		{"kubernetes without max: DefaultMaxQuantity, as sim", func(m *nodeGroupModel) {
			m.Driver, m.DesiredQuantity = types.StringValue(api.DriverKubernetes), types.Int64Value(150)
			m.Kubernetes = types.ObjectUnknown(kubernetesAttrTypes)
		}, "desired_quantity"},
		{"invalid driver: a sim block is not judged", func(m *nodeGroupModel) {
			m.Driver = types.StringValue("docker")
			m.Sim = types.ObjectValueMust(simAttrTypes, map[string]attr.Value{
				"boot_time":     types.StringValue("1s"),
				"boot_times":    types.ListNull(types.StringType),
				"init_failures": types.Int64Value(0),
			})
		}, ""},
		{"invalid driver: desired above 100 without max is left to pesd", func(m *nodeGroupModel) {
			m.Driver, m.DesiredQuantity = types.StringValue("docker"), types.Int64Value(150)
		}, ""},
		// A local group's default bound is sized to pesd's host, which the
		// plan cannot see.
		{"local without max: desired above 100 left to pesd", func(m *nodeGroupModel) {
			m.Driver, m.DesiredQuantity = types.StringValue(api.DriverLocal), types.Int64Value(150)
			m.Program = types.ObjectValueMust(programAttrTypes, map[string]attr.Value{
				"command": types.StringValue("sleep"),
				"args":    types.ListNull(types.StringType),
				"env":     types.MapNull(types.StringType),
			})
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := base()
			tt.edit(&m)
			cfg, ok := validationConfig(context.Background(), m)
			if !ok {
				t.Fatal("validationConfig skipped the check")
			}
			err := api.ResolveGroupConfig(&cfg)
			var field string
			if ae, isAPI := err.(*api.Error); isAPI {
				field = ae.Field
			} else if err != nil {
				t.Fatalf("error %v is not an *api.Error", err)
			}
			if field != tt.wantField {
				t.Errorf("error %v on field %q, want field %q", err, field, tt.wantField)
			}
		})
	}
}

// healthCheck is a health_check object of type typ with command.
func healthCheck(typ string, command types.String) types.Object {
	return types.ObjectValueMust(healthCheckAttrTypes, map[string]attr.Value{
		"type": types.StringValue(typ), "path": types.StringNull(), "port": types.Int64Null(),
		"command": command, "interval": types.StringNull(), "failure_threshold": types.Int64Null(),
	})
}

func TestTriggerValidationSpec(t *testing.T) {
	tests := []struct {
		name      string
		m         triggerModel
		wantField string
	}{
		{"valid", triggerModel{Name: types.StringValue("cpu-high"), Condition: types.StringValue("last(q) > 1"), ChangeBy: types.Int64Value(2)}, ""},
		{"no condition nor schedule", triggerModel{Name: types.StringValue("t"), ChangeBy: types.Int64Value(2)}, "condition"},
		{"schedule only", triggerModel{Name: types.StringValue("t"), Schedule: types.StringValue("@hourly"), SetTo: types.Int64Value(2)}, ""},
		{"unknown schedule", triggerModel{Name: types.StringValue("t"), Schedule: types.StringUnknown(), SetTo: types.Int64Value(2)}, ""},
		{"bad condition left to its validator", triggerModel{Name: types.StringValue("t"), Condition: types.StringValue("avg("), ChangeBy: types.Int64Value(1)}, ""},
		{"change_by zero", triggerModel{Name: types.StringValue("t"), Condition: types.StringValue("last(q) > 1"), ChangeBy: types.Int64Value(0)}, "change_by"},
		{"percent out of range", triggerModel{Name: types.StringValue("t"), Condition: types.StringValue("last(q) > 1"), ChangeByPercent: types.Float64Value(-100)}, "change_by_percent"},
		{"negative priority", triggerModel{Name: types.StringValue("t"), Condition: types.StringValue("last(q) > 1"), ChangeBy: types.Int64Value(1), Priority: types.Int64Value(-1)}, "priority"},
		{"bad name", triggerModel{Name: types.StringValue("a b"), Condition: types.StringValue("last(q) > 1"), ChangeBy: types.Int64Value(1)}, "name"},
		{"no request form left to ExactlyOneOf", triggerModel{Name: types.StringValue("t"), Condition: types.StringValue("last(q) > 1")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := api.ValidateTriggerSpec(triggerValidationSpec(tt.m), true)
			var field string
			if ae, ok := err.(*api.Error); ok {
				field = ae.Field
			} else if err != nil {
				t.Fatalf("error %v is not an *api.Error", err)
			}
			if field != tt.wantField {
				t.Errorf("error %v on field %q, want %q", err, field, tt.wantField)
			}
		})
	}
}
