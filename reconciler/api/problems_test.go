package api

import (
	"errors"
	"reflect"
	"testing"
)

// fields returns the field each error names.
func fields(t *testing.T, errs []error) []string {
	t.Helper()
	var out []string
	for _, err := range errs {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%v is not an *Error", err)
		}
		out = append(out, e.Field)
	}
	return out
}

// GroupConfigProblems reports each wrong part once, in the order
// ResolveGroupConfig checks them, whose error is the first.
func TestGroupConfigProblems(t *testing.T) {
	bad := func() GroupConfig {
		return GroupConfig{Name: "Web", Driver: "docker", DesiredQuantity: 4, MinQuantity: 5, MaxQuantity: 3,
			AggregationPeriod: "soon", Cooldown: "-1s", AggregationPolicy: "biggest",
			HealthCheck: &HealthCheck{Type: HealthTCP, Path: "/"}, Sim: &SimConfig{BootTime: "x"}, Kubernetes: &KubernetesConfig{},
			Labels: map[string]string{"": "x"}}
	}
	cfg := bad()
	got := fields(t, GroupConfigProblems(&cfg))
	want := []string{"name", "driver", "min_quantity", "aggregation_period", "cooldown", "aggregation_policy",
		"health_check.path", "labels"} // sim and kubernetes wait for a valid driver
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems name %v, want %v", got, want)
	}
	first := bad()
	if err := ResolveGroupConfig(&first); fields(t, []error{err})[0] != want[0] {
		t.Errorf("ResolveGroupConfig: %v, want the first problem", err)
	}

	cfg = bad()
	cfg.Driver = DriverSim
	want = []string{"name", "min_quantity", "aggregation_period", "cooldown", "aggregation_policy",
		"health_check.path", "sim.boot_time", "kubernetes", "labels"}
	if got := fields(t, GroupConfigProblems(&cfg)); !reflect.DeepEqual(got, want) {
		t.Errorf("with a valid driver: %v, want %v", got, want)
	}

	ok := GroupConfig{Name: "web", Driver: DriverSim, DesiredQuantity: 1}
	if errs := GroupConfigProblems(&ok); len(errs) != 0 || ok.AggregationPolicy != DefaultAggregationPolicy {
		t.Errorf("a valid config: %v, policy %q", errs, ok.AggregationPolicy)
	}
}

func TestTriggerSpecProblems(t *testing.T) {
	name, forever, zero, neg := "cpu high!", "forever", 0, -1
	spec := TriggerSpec{Name: &name, For: &forever, Request: Request{ChangeBy: &zero}, Priority: &neg}
	got := fields(t, TriggerSpecProblems(&spec, true))
	want := []string{"name", "condition", "for", "change_by", "priority"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems name %v, want %v", got, want)
	}
	if err := ValidateTriggerSpec(&spec, true); fields(t, []error{err})[0] != "name" {
		t.Errorf("ValidateTriggerSpec: %v, want the first problem", err)
	}
}
