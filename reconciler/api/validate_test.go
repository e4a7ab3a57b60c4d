package api

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: "90s", want: 90 * time.Second},
		{in: "5m", want: 5 * time.Minute},
		{in: "0", want: 0},
		{in: "0s", want: 0},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "14d", want: 14 * 24 * time.Hour},
		{in: "1d12h", want: 36 * time.Hour},
		{in: "1.5d", want: 36 * time.Hour},
		{in: " 2s ", want: 2 * time.Second},
		{in: "", wantErr: "not a duration"},
		{in: "5", wantErr: "not a duration"},
		{in: "five minutes", wantErr: "not a duration"},
		{in: "d", wantErr: "not a duration"},
		{in: "1dd", wantErr: "not a duration"},
		{in: "1d-5s", wantErr: "not a duration"},
		{in: "1e3d", wantErr: "not a duration"},
		{in: "infd", wantErr: "not a duration"},
		{in: "-5s", wantErr: "must not be negative"},
		{in: "-1d", wantErr: "must not be negative"},
		{in: "99999999999h", wantErr: "not a duration"},
		{in: "999999999d", wantErr: "too long"},
		{in: "106751d23h", want: 2562047 * time.Hour},
		{in: "106751d24h", wantErr: "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseDuration(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestResolveGroupConfigDefaults(t *testing.T) {
	cfg := GroupConfig{Name: "web", Driver: DriverLocal, Program: Program{Command: "sleep"}, DesiredQuantity: 2}
	if err := ResolveGroupConfig(&cfg); err != nil {
		t.Fatal(err)
	}
	want := GroupConfig{
		Name: "web", Driver: DriverLocal, Program: Program{Command: "sleep"},
		DesiredQuantity: 2, MinQuantity: 0, MaxQuantity: DefaultMaxQuantity,
		AggregationPeriod: "60s", AggregationPolicy: "largest", Replacement: "auto",
		ReplacementDeferWindow: "15s", InitDeadline: "10m", Cooldown: "0s", TerminationPolicy: "newest",
		HealthCheck:   &HealthCheck{Type: HealthProcess, Interval: "2s", FailureThreshold: 3},
		EngineOptions: EngineOptions{LockdownAfterRemoval: ptr(true)},
	}
	if g, w := mustJSON(t, cfg), mustJSON(t, want); g != w {
		t.Errorf("resolved\n got %s\nwant %s", g, w)
	}
	// Resolving twice changes nothing: stored configs are resolved again.
	again := cfg
	if err := ResolveGroupConfig(&again); err != nil || mustJSON(t, again) != mustJSON(t, cfg) {
		t.Errorf("second resolve changed the config or failed: %v", err)
	}

	sim := GroupConfig{Name: "s", Driver: DriverSim, DesiredQuantity: 1}
	if err := ResolveGroupConfig(&sim); err != nil {
		t.Fatal(err)
	}
	if sim.Sim == nil || sim.Sim.BootTime != DefaultSimBootTime {
		t.Errorf("sim defaults: got %+v", sim.Sim)
	}
	hc := GroupConfig{Name: "h", Driver: DriverLocal, Program: Program{Command: "x"}, HealthCheck: &HealthCheck{Type: HealthHTTP}}
	if err := ResolveGroupConfig(&hc); err != nil {
		t.Fatal(err)
	}
	if hc.HealthCheck.Path != "/" {
		t.Errorf("http health check path default: got %q", hc.HealthCheck.Path)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func base() GroupConfig {
	return GroupConfig{Name: "web", Driver: DriverLocal, Program: Program{Command: "sleep"}, DesiredQuantity: 4, MinQuantity: 2, MaxQuantity: 20}
}

func TestResolveGroupConfigErrors(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*GroupConfig)
		field   string
		message string
	}{
		{"no name", func(c *GroupConfig) { c.Name = "" }, "name", "is required"},
		{"upper name", func(c *GroupConfig) { c.Name = "Web" }, "name", "lowercase DNS label"},
		{"long name", func(c *GroupConfig) { c.Name = strings.Repeat("a", 64) }, "name", "at most 63"},
		{"dash name", func(c *GroupConfig) { c.Name = "-web" }, "name", "start and end"},
		{"no driver", func(c *GroupConfig) { c.Driver = "" }, "driver", "is required"},
		{"bad driver", func(c *GroupConfig) { c.Driver = "k8s" }, "driver", `must be one of local, sim, kubernetes; got "k8s"`},
		{"no command", func(c *GroupConfig) { c.Program.Command = " " }, "program.command", "is required"},
		{"env name", func(c *GroupConfig) { c.Program.Env = map[string]string{"A=B": "x"} }, "program.env", "="},
		{"min negative", func(c *GroupConfig) { c.MinQuantity = -1 }, "min_quantity", "must not be negative"},
		{"max negative", func(c *GroupConfig) { c.MaxQuantity = -3 }, "max_quantity", "must not be negative"},
		{"max huge", func(c *GroupConfig) { c.MaxQuantity = MaxQuantityLimit + 1 }, "max_quantity", "at most"},
		{"min > max", func(c *GroupConfig) { c.MinQuantity, c.MaxQuantity = 5, 3 }, "min_quantity", "must be ≤ max_quantity (5 > 3)"},
		{"desired > max", func(c *GroupConfig) { c.DesiredQuantity = 30 }, "desired_quantity", "must be between min_quantity 2 and max_quantity 20; got 30"},
		{"desired < min", func(c *GroupConfig) { c.DesiredQuantity = 1 }, "desired_quantity", "got 1"},
		{"period", func(c *GroupConfig) { c.AggregationPeriod = "soon" }, "aggregation_period", `not a duration: use a Go duration such as "90s" or "5m"`},
		{"period short", func(c *GroupConfig) { c.AggregationPeriod = "500ms" }, "aggregation_period", "at least 1s"},
		{"defer negative", func(c *GroupConfig) { c.ReplacementDeferWindow = "-1s" }, "replacement_defer_window", "negative"},
		{"init deadline", func(c *GroupConfig) { c.InitDeadline = "0s" }, "init_deadline", "at least"},
		{"cooldown", func(c *GroupConfig) { c.Cooldown = "1 minute" }, "cooldown", "not a duration"},
		{"policy", func(c *GroupConfig) { c.AggregationPolicy = "biggest" }, "aggregation_policy", `must be one of largest, smallest, average, sum, priority, first, last; got "biggest"`},
		{"replacement", func(c *GroupConfig) { c.Replacement = "never" }, "replacement", "must be one of immediate, deferred, auto"},
		{"termination", func(c *GroupConfig) { c.TerminationPolicy = "random" }, "termination_policy", "must be one of newest, oldest"},
		{"health type", func(c *GroupConfig) { c.HealthCheck = &HealthCheck{Type: "grpc"} }, "health_check.type", "must be one of process, http, tcp, exec"},
		{"health port", func(c *GroupConfig) { c.HealthCheck = &HealthCheck{Type: HealthTCP, Port: 70000} }, "health_check.port", "between 1 and 65535"},
		{"health port type", func(c *GroupConfig) { c.HealthCheck = &HealthCheck{Type: HealthProcess, Port: 80} }, "health_check.port", "only applies"},
		{"health path", func(c *GroupConfig) { c.HealthCheck = &HealthCheck{Type: HealthHTTP, Path: "healthz"} }, "health_check.path", "must start with /"},
		{"health exec", func(c *GroupConfig) { c.HealthCheck = &HealthCheck{Type: HealthExec} }, "health_check.command", "is required"},
		{"health interval", func(c *GroupConfig) { c.HealthCheck = &HealthCheck{Interval: "1ms"} }, "health_check.interval", "at least"},
		{"health threshold", func(c *GroupConfig) { c.HealthCheck = &HealthCheck{FailureThreshold: -1} }, "health_check.failure_threshold", "between 1 and"},
		{"sim on local", func(c *GroupConfig) { c.Sim = &SimConfig{} }, "sim", "only applies to driver sim"},
		{"sim boot", func(c *GroupConfig) { c.Driver = DriverSim; c.Sim = &SimConfig{BootTime: "fast"} }, "sim.boot_time", "not a duration"},
		{"sim boots", func(c *GroupConfig) { c.Driver = DriverSim; c.Sim = &SimConfig{BootTimes: []string{"1s", "x"}} }, "sim.boot_times[1]", "not a duration"},
		{"sim failures", func(c *GroupConfig) { c.Driver = DriverSim; c.Sim = &SimConfig{InitFailures: -1} }, "sim.init_failures", "negative"},
		{"predictive mode", func(c *GroupConfig) { c.Predictive = &Predictive{Mode: "on"} }, "predictive.mode", "must be one of off, forecast_only, enforce"},
		{"predictive history", func(c *GroupConfig) { c.Predictive = &Predictive{Mode: "enforce", History: "two weeks"} }, "predictive.history", "not a duration"},
		{"confidence", func(c *GroupConfig) { c.Predictive = &Predictive{Mode: "enforce", Confidence: 1} }, "predictive.confidence", "between 0 and 1"},
		{"confidence nan", func(c *GroupConfig) { c.Predictive = &Predictive{Mode: "enforce", Confidence: math.NaN()} }, "predictive.confidence", "between 0 and 1"},
		{"governs", func(c *GroupConfig) {
			c.Predictive = &Predictive{Mode: "enforce", Governs: []string{"triggers", "users"}}
		}, "predictive.governs[1]", "must be one of triggers, instructions"},
		{"governs twice", func(c *GroupConfig) {
			c.Predictive = &Predictive{Mode: "enforce", Governs: []string{"triggers", "triggers"}}
		}, "predictive.governs[1]", "twice"},
		{"label key", func(c *GroupConfig) { c.Labels = map[string]string{"": "x"} }, "labels", "keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base()
			tt.mutate(&cfg)
			assertInvalid(t, ResolveGroupConfig(&cfg), tt.field, tt.message)
		})
	}
}

func assertInvalid(t *testing.T, err error, field, message string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want *api.Error on %s", err, field)
	}
	if e.Code != CodeInvalid || e.Status != 400 || e.Field != field || !strings.Contains(e.Message, message) {
		t.Fatalf("got %+v, want 400 invalid_argument on %q containing %q", *e, field, message)
	}
}

func TestResolveGroupConfigAccepts(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*GroupConfig)
	}{
		{"zero everything", func(c *GroupConfig) { c.MinQuantity, c.DesiredQuantity = 0, 0 }},
		{"desired at max", func(c *GroupConfig) { c.DesiredQuantity = 20 }},
		{"min equals max", func(c *GroupConfig) { c.MinQuantity, c.MaxQuantity, c.DesiredQuantity = 3, 3, 3 }},
		{"sim without command", func(c *GroupConfig) { c.Driver = DriverSim; c.Program = Program{} }},
		{"predictive days", func(c *GroupConfig) {
			c.Predictive = &Predictive{Mode: "enforce", History: "14d", Confidence: 0.9, Governs: []string{"triggers", "instructions"}}
		}},
		{"tcp port", func(c *GroupConfig) { c.HealthCheck = &HealthCheck{Type: HealthTCP, Port: 8080} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base()
			tt.mutate(&cfg)
			if err := ResolveGroupConfig(&cfg); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestGroupCreateResolve(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		wantMax int
		field   string
	}{
		{"max omitted", `{"name":"a","driver":"sim","desired_quantity":0}`, DefaultMaxQuantity, ""},
		{"max given", `{"name":"a","driver":"sim","desired_quantity":1,"max_quantity":5}`, 5, ""},
		{"explicit max 0 is the default", `{"name":"a","driver":"sim","desired_quantity":0,"max_quantity":0}`, DefaultMaxQuantity, ""},
		{"desired above default max", `{"name":"a","driver":"sim","desired_quantity":101}`, 0, "desired_quantity"},
		{"desired omitted", `{"name":"a","driver":"sim"}`, 0, "desired_quantity"},
		{"explicit min 0", `{"name":"a","driver":"sim","desired_quantity":0,"min_quantity":0}`, DefaultMaxQuantity, ""},
		// Local groups: host-sized (3 CPUs here), unless given.
		{"local max omitted", `{"name":"a","driver":"local","program":{"command":"x"},"desired_quantity":2}`, 6, ""},
		{"local explicit max 0", `{"name":"a","driver":"local","program":{"command":"x"},"desired_quantity":2,"max_quantity":0}`, 6, ""},
		{"local max given", `{"name":"a","driver":"local","program":{"command":"x"},"desired_quantity":50,"max_quantity":80}`, 80, ""},
		{"local desired above the host", `{"name":"a","driver":"local","program":{"command":"x"},"desired_quantity":7}`, 0, "desired_quantity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c GroupCreate
			if err := json.Unmarshal([]byte(tt.body), &c); err != nil {
				t.Fatal(err)
			}
			cfg, err := c.Resolve(3)
			if tt.field != "" {
				assertInvalid(t, err, tt.field, "")
				if c.Driver == DriverLocal {
					assertInvalid(t, err, tt.field, "max_quantity of a local group defaults to 2 × the 3 CPUs of pesd's host; set max_quantity to allow more")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.MaxQuantity != tt.wantMax {
				t.Errorf("max_quantity = %d, want %d", cfg.MaxQuantity, tt.wantMax)
			}
		})
	}
}

func TestApplyGroupPatch(t *testing.T) {
	cur := base()
	if err := ResolveGroupConfig(&cur); err != nil {
		t.Fatal(err)
	}
	cur.DesiredQuantity = 15 // moved by triggers
	tests := []struct {
		name    string
		patch   GroupPatch
		check   func(GroupConfig) bool
		field   string
		message string
	}{
		{"same name", GroupPatch{Name: ptr("web"), Driver: ptr("local")}, func(c GroupConfig) bool { return c.Name == "web" }, "", ""},
		{"rename", GroupPatch{Name: ptr("api")}, nil, "name", "cannot be changed"},
		{"driver", GroupPatch{Driver: ptr("sim")}, nil, "driver", "cannot be changed"},
		{"policy", GroupPatch{AggregationPolicy: ptr("sum")}, func(c GroupConfig) bool { return c.AggregationPolicy == "sum" }, "", ""},
		{"bad policy", GroupPatch{AggregationPolicy: ptr("biggest")}, nil, "aggregation_policy", "biggest"},
		{"tighten max keeps live desired", GroupPatch{MaxQuantity: ptr(10)}, func(c GroupConfig) bool { return c.MaxQuantity == 10 && c.DesiredQuantity == 15 }, "", ""},
		{"desired outside merged bounds", GroupPatch{MaxQuantity: ptr(10), DesiredQuantity: ptr(12)}, nil, "desired_quantity", "max_quantity 10; got 12"},
		{"min above max", GroupPatch{MinQuantity: ptr(30)}, nil, "min_quantity", "30 > 20"},
		{"max zero", GroupPatch{MaxQuantity: ptr(0)}, nil, "max_quantity", "at least 1"},
		{"sim on local", GroupPatch{Sim: &SimConfig{}}, nil, "sim", "driver sim"},
		{"health check replaced", GroupPatch{HealthCheck: &HealthCheck{Type: HealthTCP}}, func(c GroupConfig) bool {
			return c.HealthCheck.Type == HealthTCP && c.HealthCheck.Interval == DefaultHealthInterval
		}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := mustJSON(t, cur)
			got, err := ApplyGroupPatch(cur, tt.patch)
			if mustJSON(t, cur) != before {
				t.Fatal("ApplyGroupPatch changed its input")
			}
			if tt.field != "" {
				assertInvalid(t, err, tt.field, tt.message)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(got) {
				t.Errorf("patched config %s", mustJSON(t, got))
			}
		})
	}
}

// TestPatchLabels: labels absent or null leave them, {} clears them, a
// map replaces them, through the JSON a client sends and the patch
// applied.
func TestPatchLabels(t *testing.T) {
	cur := base()
	cur.Labels = map[string]string{"team": "web", "tier": "1"}
	if err := ResolveGroupConfig(&cur); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		patch    GroupPatch // as a Go client builds it
		wantWire string     // the labels part of what it sends
		body     string     // what it sends, decoded again as the server does
		want     map[string]string
	}{
		{"nil map is left out", GroupPatch{MinQuantity: ptr(1)}, `{"min_quantity":1}`, "", map[string]string{"team": "web", "tier": "1"}},
		{"empty map clears", GroupPatch{Labels: map[string]string{}}, `{"labels":{}}`, "", nil},
		{"map replaces", GroupPatch{Labels: map[string]string{"team": "api"}}, `{"labels":{"team":"api"}}`, "", map[string]string{"team": "api"}},
		{"null leaves them", GroupPatch{}, "", `{"labels":null}`, map[string]string{"team": "web", "tier": "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.body
			if tt.wantWire != "" {
				body = mustJSON(t, tt.patch)
				if body != tt.wantWire {
					t.Errorf("sent %s, want %s", body, tt.wantWire)
				}
			}
			var p GroupPatch
			if err := json.Unmarshal([]byte(body), &p); err != nil {
				t.Fatal(err)
			}
			got, err := ApplyGroupPatch(cur, p)
			if err != nil {
				t.Fatal(err)
			}
			if mustJSON(t, got.Labels) != mustJSON(t, tt.want) {
				t.Errorf("labels %s, want %s", mustJSON(t, got.Labels), mustJSON(t, tt.want))
			}
		})
	}
}

func TestGroupCreateActor(t *testing.T) {
	var c GroupCreate
	if err := json.Unmarshal([]byte(`{"name":"a","driver":"sim","desired_quantity":1,"actor":"terraform"}`), &c); err != nil {
		t.Fatal(err)
	}
	cfg, err := c.Resolve(1)
	if err != nil {
		t.Fatal(err)
	}
	if c.Actor != "terraform" {
		t.Errorf("actor %q, want terraform", c.Actor)
	}
	if strings.Contains(mustJSON(t, cfg), "actor") || strings.Contains(mustJSON(t, cfg), "terraform") {
		t.Errorf("the actor leaked into the group config: %s", mustJSON(t, cfg))
	}
}

// ApplyGroupPatch must not write defaults through the pointers of a
// config it was given unresolved.
func TestApplyGroupPatchLeavesInputAlone(t *testing.T) {
	cur := GroupConfig{Name: "s", Driver: DriverSim, DesiredQuantity: 1,
		HealthCheck: &HealthCheck{}, Sim: &SimConfig{BootTimes: []string{""}}, Predictive: &Predictive{}}
	before := mustJSON(t, cur)
	if _, err := ApplyGroupPatch(cur, GroupPatch{Sim: cur.Sim}); err != nil {
		t.Fatal(err)
	}
	if after := mustJSON(t, cur); after != before {
		t.Errorf("input changed:\n got %s\nwant %s", after, before)
	}
}

func TestValidateInstruction(t *testing.T) {
	tests := []struct {
		name    string
		in      Instruction
		field   string
		message string
	}{
		{name: "change_by", in: Instruction{Request: Request{ChangeBy: ptr(3)}}},
		{name: "negative change_by", in: Instruction{Request: Request{ChangeBy: ptr(-3)}}},
		{name: "set_to 0", in: Instruction{Request: Request{SetTo: ptr(0)}}},
		{name: "percent", in: Instruction{Request: Request{ChangeByPercent: ptr(-50.0)}}},
		{name: "percent max", in: Instruction{Request: Request{ChangeByPercent: ptr(1000.0)}}},
		{name: "none", in: Instruction{}, field: "change_by", message: "one of change_by, change_by_percent or set_to is required"},
		{name: "two", in: Instruction{Request: Request{ChangeBy: ptr(1), SetTo: ptr(3)}}, field: "set_to", message: "conflicts with change_by"},
		{name: "zero change_by", in: Instruction{Request: Request{ChangeBy: ptr(0)}}, field: "change_by", message: "must not be 0"},
		{name: "target", in: Instruction{Request: Request{Target: &Target{Metric: "cpu", Value: 60}}}, field: "target", message: "trigger's request form"},
		{name: "huge change_by", in: Instruction{Request: Request{ChangeBy: ptr(-MaxQuantityLimit - 1)}}, field: "change_by", message: "between"},
		{name: "negative set_to", in: Instruction{Request: Request{SetTo: ptr(-1)}}, field: "set_to", message: "between 0"},
		{name: "percent -100", in: Instruction{Request: Request{ChangeByPercent: ptr(-100.0)}}, field: "change_by_percent", message: "greater than -100"},
		{name: "percent too big", in: Instruction{Request: Request{ChangeByPercent: ptr(1000.5)}}, field: "change_by_percent", message: "at most 1000"},
		{name: "percent inf", in: Instruction{Request: Request{ChangeByPercent: ptr(math.Inf(1))}}, field: "change_by_percent", message: "finite"},
		{name: "negative priority", in: Instruction{Request: Request{SetTo: ptr(2)}, Priority: ptr(-1)}, field: "priority", message: "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			err := ValidateInstruction(&in)
			if tt.field != "" {
				assertInvalid(t, err, tt.field, tt.message)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.in.Priority == nil && (in.Priority == nil || *in.Priority != DefaultInstructionPriority) {
				t.Errorf("priority default not applied: %v", in.Priority)
			}
		})
	}
}

func TestValidateTriggerSpec(t *testing.T) {
	cond := ptr("avg(cpu_utilization, '2m') > 80")
	tests := []struct {
		name    string
		spec    TriggerSpec
		create  bool
		field   string
		message string
	}{
		{name: "create", spec: TriggerSpec{Name: ptr("cpu-high"), Condition: cond, Request: Request{ChangeBy: ptr(4)}}, create: true},
		{name: "schedule only", spec: TriggerSpec{Name: ptr("nightly"), Schedule: ptr("0 22 * * *"), Request: Request{SetTo: ptr(2)}}, create: true},
		{name: "patch nothing", spec: TriggerSpec{}},
		{name: "patch clears for", spec: TriggerSpec{For: ptr("")}},
		{name: "no name", spec: TriggerSpec{Condition: cond, Request: Request{ChangeBy: ptr(4)}}, create: true, field: "name", message: "is required"},
		{name: "bad name", spec: TriggerSpec{Name: ptr("cpu high"), Condition: cond, Request: Request{ChangeBy: ptr(4)}}, create: true, field: "name", message: "letters"},
		{name: "no condition", spec: TriggerSpec{Name: ptr("t"), Request: Request{ChangeBy: ptr(4)}}, create: true, field: "condition", message: "is required"},
		{name: "for too long", spec: TriggerSpec{For: ptr("25h")}, field: "for", message: "at most 24h"},
		{name: "bad for", spec: TriggerSpec{Name: ptr("t"), Condition: cond, For: ptr("2 minutes"), Request: Request{ChangeBy: ptr(4)}}, create: true, field: "for", message: "not a duration"},
		{name: "create no request", spec: TriggerSpec{Name: ptr("t"), Condition: cond}, create: true, field: "change_by", message: "required"},
		{name: "patch two requests", spec: TriggerSpec{Request: Request{ChangeBy: ptr(1), ChangeByPercent: ptr(5.0)}}, field: "change_by_percent", message: "conflicts"},
		{name: "priority", spec: TriggerSpec{Priority: ptr(-2)}, field: "priority", message: "negative"},
		{name: "target without condition", spec: TriggerSpec{Name: ptr("t"), Request: Request{Target: &Target{Metric: "cpu", Value: 60}}}, create: true},
		{name: "target and change_by", spec: TriggerSpec{Request: Request{ChangeBy: ptr(1), Target: &Target{Metric: "cpu", Value: 60}}}, field: "change_by", message: "conflicts with target"},
		{name: "target no metric", spec: TriggerSpec{Request: Request{Target: &Target{Value: 60}}}, field: "target.metric", message: "is required"},
		{name: "target bad metric", spec: TriggerSpec{Request: Request{Target: &Target{Metric: "cpu load", Value: 60}}}, field: "target.metric", message: "letter"},
		{name: "target value 0", spec: TriggerSpec{Request: Request{Target: &Target{Metric: "cpu", Value: 0}}}, field: "target.value", message: "greater than 0"},
		{name: "target negative", spec: TriggerSpec{Request: Request{Target: &Target{Metric: "cpu", Value: -5}}}, field: "target.value", message: "greater than 0"},
		{name: "target tolerance", spec: TriggerSpec{Request: Request{Target: &Target{Metric: "cpu", Value: 60, Tolerance: ptr(1.5)}}}, field: "target.tolerance", message: "less than 1"},
		{name: "target window", spec: TriggerSpec{Request: Request{Target: &Target{Metric: "cpu", Value: 60, Window: "soon"}}}, field: "target.window", message: "not a duration"},
		{name: "target window 0", spec: TriggerSpec{Request: Request{Target: &Target{Metric: "cpu", Value: 60, Window: "0s"}}}, field: "target.window", message: "between 1s"},
		{name: "target stabilization", spec: TriggerSpec{Request: Request{Target: &Target{Metric: "cpu", Value: 60, ScaleInStabilization: "2d"}}}, field: "target.scale_in_stabilization", message: "between"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.spec
			err := ValidateTriggerSpec(&spec, tt.create)
			if tt.field != "" {
				assertInvalid(t, err, tt.field, tt.message)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.create {
				if spec.Priority == nil || *spec.Priority != DefaultTriggerPriority || spec.Enabled == nil || !*spec.Enabled || spec.Immediate == nil {
					t.Errorf("create defaults not applied: %+v", spec)
				}
			} else if spec.Priority != nil || spec.Enabled != nil {
				t.Errorf("patch got defaults it must not have: %+v", spec)
			}
		})
	}
}

func TestTargetDefaults(t *testing.T) {
	spec := TriggerSpec{Name: ptr("t"), Request: Request{Target: &Target{Metric: "cpu", Value: 60}}}
	if err := ValidateTriggerSpec(&spec, true); err != nil {
		t.Fatal(err)
	}
	if tg := spec.Target; tg.Tolerance == nil || *tg.Tolerance != DefaultTargetTolerance || tg.Window != DefaultTargetWindow ||
		tg.ScaleInStabilization != DefaultScaleInStabilization {
		t.Fatalf("defaults not applied: %+v", tg)
	}
	zero := TriggerSpec{Request: Request{Target: &Target{Metric: "cpu", Value: 60, Tolerance: ptr(0.0), ScaleInStabilization: "0s"}}}
	if err := ValidateTriggerSpec(&zero, false); err != nil || *zero.Target.Tolerance != 0 || zero.Target.ScaleInStabilization != "0s" {
		t.Fatalf("tolerance 0 and no stabilization: %v %+v", err, zero.Target)
	}
}

func TestValidateSamples(t *testing.T) {
	now := time.Now()
	year9999 := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	minuteAhead, twoDaysAgo := now.Add(time.Minute), now.Add(-48*time.Hour)
	many := make([]Sample, MaxSamplesPerRequest+1)
	for i := range many {
		many[i] = Sample{Name: "q", Value: 1}
	}
	tests := []struct {
		name    string
		samples []Sample
		field   string
		message string
	}{
		{name: "ok", samples: []Sample{{Name: "queue_depth", Value: 3, Time: &now}, {Name: "cpu_utilization", Value: 80, NodeID: "n"}}},
		{name: "max", samples: many[:MaxSamplesPerRequest]},
		{name: "empty", samples: nil, field: "samples", message: "at least one"},
		{name: "too many", samples: many, field: "samples", message: "at most 10000"},
		{name: "no name", samples: []Sample{{Name: "a", Value: 1}, {Value: 1}}, field: "samples[1].name", message: "is required"},
		{name: "bad name", samples: []Sample{{Name: "queue-depth", Value: 1}}, field: "samples[0].name", message: "letter or _"},
		{name: "digit first", samples: []Sample{{Name: "9q", Value: 1}}, field: "samples[0].name", message: "letter or _"},
		{name: "computed", samples: []Sample{{Name: "nodes_ready", Value: 1}}, field: "samples[0].name", message: "computed by pesd"},
		{name: "nan", samples: []Sample{{Name: "q", Value: math.NaN()}}, field: "samples[0].value", message: "finite"},
		{name: "zero time", samples: []Sample{{Name: "q", Value: 1, Time: &time.Time{}}}, field: "samples[0].time", message: "RFC 3339"},
		{name: "year 9999", samples: []Sample{{Name: "q", Value: 1}, {Name: "q", Value: 1, Time: &year9999}}, field: "samples[1].time", message: "at most 5m0s after"},
		{name: "a minute ahead", samples: []Sample{{Name: "q", Value: 1, Time: &minuteAhead}}},
		{name: "two days ago", samples: []Sample{{Name: "q", Value: 1, Time: &twoDaysAgo}}, field: "samples[0].time", message: "at most 24h0m0s before"},
		{name: "2 KB node id", samples: []Sample{{Name: "q", Value: 1, NodeID: strings.Repeat("n", 2048)}}, field: "samples[0].node_id", message: "at most 1024 bytes; got 2048"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateSamples(tt.samples, now)
			if tt.field != "" {
				assertInvalid(t, err, tt.field, tt.message)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
