package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

func TestForecastFrom(t *testing.T) {
	t0 := time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   api.Forecast
		want capacityForecastModel
	}{
		{
			name: "governing off",
			in:   api.Forecast{GroupID: "g", Mode: api.PredictiveOff, Reason: "predictive governing is off", Intervals: []api.ForecastInterval{}},
			want: capacityForecastModel{
				ID: types.StringValue("g"), GroupID: types.StringValue("g"),
				Mode: types.StringValue(api.PredictiveOff), Ready: types.BoolValue(false),
				Reason:     types.StringValue("predictive governing is off"),
				Confidence: types.Float64Null(), History: types.StringNull(),
				Intervals: []forecastIntervalModel{},
			},
		},
		{
			name: "too little history",
			in: api.Forecast{GroupID: "g", Mode: api.PredictiveEnforce, Confidence: 0.9, History: "14d",
				Reason: "forecast needs 24h of history; the group has 3h"},
			want: capacityForecastModel{
				ID: types.StringValue("g"), GroupID: types.StringValue("g"),
				Mode: types.StringValue(api.PredictiveEnforce), Ready: types.BoolValue(false),
				Reason:     types.StringValue("forecast needs 24h of history; the group has 3h"),
				Confidence: types.Float64Value(0.9), History: types.StringValue("14d"),
				Intervals: []forecastIntervalModel{},
			},
		},
		{
			name: "ready",
			in: api.Forecast{GroupID: "g", Mode: api.PredictiveForecastOnly, Ready: true, Confidence: 0.8, History: "7d",
				Intervals: []api.ForecastInterval{
					{Start: t0, End: t0.Add(time.Hour), Expected: 4.25, Lower: 3, Upper: 6},
					{Start: t0.Add(time.Hour), End: t0.Add(2 * time.Hour), Expected: 0, Lower: 0, Upper: 1},
				}},
			want: capacityForecastModel{
				ID: types.StringValue("g"), GroupID: types.StringValue("g"),
				Mode: types.StringValue(api.PredictiveForecastOnly), Ready: types.BoolValue(true),
				Reason:     types.StringNull(),
				Confidence: types.Float64Value(0.8), History: types.StringValue("7d"),
				Intervals: []forecastIntervalModel{
					{
						Start: types.StringValue("2026-03-05T12:00:00Z"), End: types.StringValue("2026-03-05T13:00:00Z"),
						Expected: types.Float64Value(4.25), Lower: types.Int64Value(3), Upper: types.Int64Value(6),
					},
					{
						Start: types.StringValue("2026-03-05T13:00:00Z"), End: types.StringValue("2026-03-05T14:00:00Z"),
						Expected: types.Float64Value(0), Lower: types.Int64Value(0), Upper: types.Int64Value(1),
					},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := forecastFrom("g", tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("forecastFrom:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// The data source read through the provider's protocol server against a
// pesd stand-in on real HTTP: the request it sends, the state it writes
// (so model and schema agree), and the error a missing group gets.
func TestCapacityForecastDataSourceRead(t *testing.T) {
	t0 := time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)
	var gotAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/v1/groups/g-1/forecast":
			_ = json.NewEncoder(w).Encode(api.Forecast{GroupID: "g-1", Mode: api.PredictiveEnforce, Ready: true,
				Confidence: 0.9, History: "14d", Reason: "daily seasonal forecast",
				Intervals: []api.ForecastInterval{{Start: t0, End: t0.Add(time.Hour), Expected: 4, Lower: 3, Upper: 5}}})
		default:
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(api.ErrorBody{Error: api.Error{Code: api.CodeNotFound, Message: "no group " + r.URL.Path}})
		}
	}))
	defer srv.Close()

	ctx := context.Background()
	p := configuredTestServer(t, srv.URL, "s3cret")
	read := func(groupID string) (any, []*tfprotov6.Diagnostic) {
		t.Helper()
		typ := dataSourceType(t, p, "pes_capacity_forecast")
		cfg := nullsBut(typ, map[string]tftypes.Value{"group_id": tftypes.NewValue(tftypes.String, groupID)})
		dv, err := tfprotov6.NewDynamicValue(typ, cfg)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := p.ReadDataSource(ctx, &tfprotov6.ReadDataSourceRequest{TypeName: "pes_capacity_forecast", Config: &dv})
		if err != nil {
			t.Fatal(err)
		}
		if resp.State == nil {
			return nil, resp.Diagnostics
		}
		st, err := resp.State.Unmarshal(typ)
		if err != nil {
			t.Fatal(err)
		}
		return plain(st), resp.Diagnostics
	}

	got, diags := read("g-1")
	if len(diags) > 0 {
		t.Fatalf("diagnostics: %s: %s", diags[0].Summary, diags[0].Detail)
	}
	want := map[string]any{
		"id": "g-1", "group_id": "g-1", "mode": "enforce", "ready": true, "reason": "daily seasonal forecast",
		"confidence": 0.9, "history": "14d",
		"intervals": []any{map[string]any{
			"start": "2026-03-05T12:00:00Z", "end": "2026-03-05T13:00:00Z", "expected": 4.0, "lower": 3.0, "upper": 5.0,
		}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("state:\n got %v\nwant %v", got, want)
	}
	if gotAuth != "Bearer s3cret" {
		t.Errorf("Authorization %q, want the provider's token", gotAuth)
	}

	_, diags = read("gone")
	if len(diags) != 1 || diags[0].Severity != tfprotov6.DiagnosticSeverityError ||
		diags[0].Summary != "Cannot read the capacity forecast" ||
		!strings.Contains(diags[0].Detail, "no such object") || !strings.Contains(diags[0].Detail, "ID: gone") {
		t.Errorf("missing group: diagnostics %+v", diags)
	}
}

// configuredTestServer is the provider's protocol server, configured to
// talk to endpoint.
func configuredTestServer(t *testing.T, endpoint, token string) tfprotov6.ProviderServer {
	t.Helper()
	p, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sr, err := p.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	typ := sr.Provider.ValueType()
	cfg, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, map[string]tftypes.Value{
		"endpoint": tftypes.NewValue(tftypes.String, endpoint),
		"token":    tftypes.NewValue(tftypes.String, token),
		"ca_cert":  tftypes.NewValue(tftypes.String, nil),
		"insecure": tftypes.NewValue(tftypes.Bool, nil),
	}))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{Config: &cfg})
	if err != nil || len(resp.Diagnostics) > 0 {
		t.Fatalf("configure: %v %+v", err, resp.Diagnostics)
	}
	return p
}

func dataSourceType(t *testing.T, p tfprotov6.ProviderServer, name string) tftypes.Object {
	t.Helper()
	sr, err := p.GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	s, ok := sr.DataSourceSchemas[name]
	if !ok {
		t.Fatalf("no data source %s", name)
	}
	return s.ValueType().(tftypes.Object)
}

// nullsBut is an object of type typ whose attributes are null but those
// in set.
func nullsBut(typ tftypes.Object, set map[string]tftypes.Value) tftypes.Value {
	vals := make(map[string]tftypes.Value, len(typ.AttributeTypes))
	for name, at := range typ.AttributeTypes {
		vals[name] = tftypes.NewValue(at, nil)
		if v, ok := set[name]; ok {
			vals[name] = v
		}
	}
	return tftypes.NewValue(typ, vals)
}

// plain turns a Terraform value into Go values (map[string]any, []any,
// string, float64, bool, nil) that tests can compare.
func plain(v tftypes.Value) any {
	if !v.IsKnown() {
		return "<unknown>"
	}
	if v.IsNull() {
		return nil
	}
	switch v.Type().(type) {
	case tftypes.Object, tftypes.Map:
		var m map[string]tftypes.Value
		_ = v.As(&m)
		out := make(map[string]any, len(m))
		for k, e := range m {
			out[k] = plain(e)
		}
		return out
	case tftypes.List, tftypes.Set, tftypes.Tuple:
		var l []tftypes.Value
		_ = v.As(&l)
		out := make([]any, len(l))
		for i, e := range l {
			out[i] = plain(e)
		}
		return out
	}
	switch {
	case v.Type().Equal(tftypes.String):
		var s string
		_ = v.As(&s)
		return s
	case v.Type().Equal(tftypes.Bool):
		var b bool
		_ = v.As(&b)
		return b
	case v.Type().Equal(tftypes.Number):
		var n big.Float
		_ = v.As(&n)
		f, _ := n.Float64()
		return f
	}
	return fmt.Sprintf("<%s>", v.Type())
}

// historyAround4 is a flat-ish quantity history in CSV: one point every
// 5 minutes from days before until just before end, each hour going
// 4 4 5 4 3 4 4 5 4 3 4 4, so every hour averages 4 nodes and the
// forecast authorizes a narrow range around it (3–5, the lower bound of
// the current hour possibly one less).
func historyAround4(end time.Time, days int) (csv string, points int) {
	pattern := []int{4, 4, 5, 4, 3, 4, 4, 5, 4, 3, 4, 4}
	var b strings.Builder
	b.WriteString("time,desired\n")
	for at := end.Truncate(time.Hour).Add(-time.Duration(days) * 24 * time.Hour); at.Before(end); at = at.Add(5 * time.Minute) {
		fmt.Fprintf(&b, "%s,%d\n", at.UTC().Format(time.RFC3339), pattern[at.Minute()/5])
		points++
	}
	return b.String(), points
}

// A trigger asking for far more than the group's history authorizes gets
// the forecast's upper bound instead, and the explanation of the change
// says so: pes_capacity_forecast shows the range, pes_capacity_changes the
// clamp, and the declared quantity still gives an empty plan.
func TestAccCapacityForecast_clampExplained(t *testing.T) {
	const (
		group    = "pes_node_group.test"
		forecast = "data.pes_capacity_forecast.test"
		added    = "data.pes_capacity_changes.added"
	)
	var groupID string
	base := `
resource "pes_node_group" "test" {
  name               = "acc-forecast"
  driver             = "sim"
  desired_quantity   = 4
  max_quantity       = 30
  aggregation_period = "1h"
  sim                = { boot_time = "100ms" }
  predictive         = { mode = "enforce", interval = "1h", min_history = "24h", history = "14d" }
}

resource "pes_trigger" "burst" {
  group_id  = pes_node_group.test.id
  name      = "burst"
  condition = "last(queue_depth) > 100"
  set_to    = 20
}
`
	withData := base + `
data "pes_capacity_forecast" "test" {
  group_id = pes_node_group.test.id
}

data "pes_capacity_changes" "added" {
  group_id = pes_node_group.test.id
  type     = "add_nodes"
}
`
	first := tfjsonpath.New("intervals").AtSliceIndex(0)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: base,
				Check:  captureID(group, &groupID),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(group, tfjsonpath.New("predictive"), knownvalue.ObjectExact(map[string]knownvalue.Check{
						"mode":        knownvalue.StringExact(api.PredictiveEnforce),
						"interval":    knownvalue.StringExact("1h"),
						"min_history": knownvalue.StringExact("24h"),
						"history":     knownvalue.StringExact("14d"),
						"confidence":  knownvalue.Null(),
						"governs":     knownvalue.Null(),
					})),
				},
			},
			{
				PreConfig: func() { clampTriggerByForecast(t, groupID) },
				Config:    withData,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(group, plancheck.ResourceActionNoop),
						plancheck.ExpectResourceAction("pes_trigger.burst", plancheck.ResourceActionNoop),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(forecast, tfjsonpath.New("mode"), knownvalue.StringExact(api.PredictiveEnforce)),
					statecheck.ExpectKnownValue(forecast, tfjsonpath.New("ready"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(forecast, tfjsonpath.New("history"), knownvalue.StringExact("14d")),
					statecheck.ExpectKnownValue(forecast, tfjsonpath.New("confidence"), knownvalue.Float64Exact(0.9)),
					statecheck.ExpectKnownValue(forecast, tfjsonpath.New("reason"), knownvalue.StringRegexp(regexp.MustCompile(`seasonal forecast from 3d`))),
					statecheck.ExpectKnownValue(forecast, tfjsonpath.New("intervals"), everyInterval{hour: time.Hour, maxUpper: 5}),
					statecheck.ExpectKnownValue(forecast, first.AtMapKey("upper"), knownvalue.Int64Exact(5)),
					statecheck.ExpectKnownValue(forecast, first.AtMapKey("expected"), knownvalue.Float64Exact(4)),
					// C1 made the group; C2 is the trigger's change, clamped
					// from 20 to the forecast's 5.
					statecheck.ExpectKnownValue(added, tfjsonpath.New("changes"), knownvalue.ListSizeExact(2)),
					statecheck.ExpectKnownValue(added, tfjsonpath.New("changes").AtSliceIndex(1), knownvalue.ObjectPartial(map[string]knownvalue.Check{
						"label":           knownvalue.StringExact("C2"),
						"amount":          knownvalue.Int64Exact(1),
						"quantity_before": knownvalue.Int64Exact(4),
						"quantity_after":  knownvalue.Int64Exact(5),
						"attribution":     knownvalue.StringExact(api.AttributionIndirect),
						"explanation": knownvalue.StringRegexp(regexp.MustCompile(
							`^Change C2 \(add 1 node, 4 → 5\) at H1 was indirectly caused by event (E\d+) .*` +
								`(E\d+) was governed by the forecast: trigger burst asked for 20; ` +
								`the forecast for \d\d:\d\d–\d\d:\d\d authorizes [2-4]–5; 5 was used\.`)),
						"causes": knownvalue.ListExact([]knownvalue.Check{knownvalue.ObjectPartial(map[string]knownvalue.Check{
							"type":        knownvalue.StringExact(api.EventTriggerFired),
							"source_name": knownvalue.StringExact("burst"),
						})}),
					})),
					// The declared quantity stays; the live one is the
					// clamped 5.
					statecheck.ExpectKnownValue(group, tfjsonpath.New("desired_quantity"), knownvalue.Int64Exact(4)),
					statecheck.ExpectKnownValue(group, tfjsonpath.New("current_desired_quantity"), knownvalue.Int64Exact(5)),
				},
			},
			{
				Config: withData,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

// clampTriggerByForecast gives the group three days of history around 4
// nodes, makes its trigger ask for 20, and harmonizes: the decision must
// clamp the request to the forecast's upper bound.
func clampTriggerByForecast(t *testing.T, groupID string) {
	c := testClient(t)
	ctx := context.Background()
	g, err := c.GetGroup(ctx, groupID)
	if err != nil {
		t.Fatalf("get group: %v", err)
	}
	// Imported points must precede the group's own history.
	history, points := historyAround4(g.CreatedAt, 3)
	n, err := c.ImportHistory(ctx, groupID, strings.NewReader(history))
	if err != nil || n != points {
		t.Fatalf("import history: %d points recorded, %v; want %d", n, err, points)
	}
	f, err := c.Forecast(ctx, groupID)
	if err != nil || !f.Ready {
		t.Fatalf("forecast after the import: %+v, %v; want it ready", f, err)
	}

	if _, err := c.PushMetrics(ctx, groupID, []api.Sample{{Name: "queue_depth", Value: 500}}); err != nil {
		t.Fatalf("push metrics: %v", err)
	}
	waitForEvent(t, c, groupID, api.EventTriggerFired)
	p, err := c.Harmonize(ctx, groupID)
	if err != nil {
		t.Fatalf("harmonize: %v", err)
	}
	clamped := false
	for _, cl := range p.Clamps {
		clamped = clamped || (cl.Kind == api.ClampForecast && cl.Applied && cl.From == 20 && cl.To == 5)
	}
	if p.DesiredAfter != 5 || !clamped {
		t.Fatalf("harmonization: desired %d → %d, clamps %+v; want 20 clamped by the forecast to 5:\n%s",
			p.DesiredBefore, p.DesiredAfter, p.Clamps, p.Summary)
	}
}

// everyInterval checks a forecast's intervals: consecutive, each hour
// long, with 0 ≤ lower ≤ expected ≤ upper ≤ maxUpper.
type everyInterval struct {
	hour     time.Duration
	maxUpper int64
}

func (c everyInterval) String() string {
	return fmt.Sprintf("consecutive %s intervals with lower ≤ expected ≤ upper ≤ %d", c.hour, c.maxUpper)
}

func (c everyInterval) CheckValue(v any) error {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return fmt.Errorf("intervals: want a non-empty list, got %v", v)
	}
	var prevEnd time.Time
	for i, e := range list {
		iv, ok := e.(map[string]any)
		if !ok {
			return fmt.Errorf("intervals[%d] is %T", i, e)
		}
		start, errS := time.Parse(time.RFC3339, fmt.Sprint(iv["start"]))
		end, errE := time.Parse(time.RFC3339, fmt.Sprint(iv["end"]))
		lower, errL := iv["lower"].(json.Number).Float64()
		upper, errU := iv["upper"].(json.Number).Float64()
		expected, errX := iv["expected"].(json.Number).Float64()
		for _, err := range []error{errS, errE, errL, errU, errX} {
			if err != nil {
				return fmt.Errorf("intervals[%d]: %v", i, err)
			}
		}
		switch {
		case end.Sub(start) != c.hour:
			return fmt.Errorf("intervals[%d] runs %s to %s, not %s", i, iv["start"], iv["end"], c.hour)
		case i > 0 && !start.Equal(prevEnd):
			return fmt.Errorf("intervals[%d] starts at %s, not where the one before ended", i, iv["start"])
		case !(0 <= lower && lower <= expected && expected <= upper && upper <= float64(c.maxUpper)):
			return fmt.Errorf("intervals[%d]: lower %v, expected %v, upper %v; want 0 ≤ lower ≤ expected ≤ upper ≤ %d",
				i, lower, expected, upper, c.maxUpper)
		}
		prevEnd = end
	}
	return nil
}
