package causality

import (
	"errors"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/engine"
)

func TestSuppression(t *testing.T) {
	at := func(sec int) time.Time {
		return time.Date(2026, 1, 2, 10, 1, 0, 0, time.UTC).Add(time.Duration(sec) * time.Second)
	}
	tests := []struct {
		in   engine.Admission
		want string
	}{
		{engine.Admission{}, ""},
		{engine.Admission{Suppressed: true, Launching: []engine.Launching{{Change: "C7", Nodes: 3}}, LaunchingUntil: at(61).Add(10 * time.Minute)},
			"lockdown: 3 nodes added by C7 are still launching (until 10:12:01 at the latest)"},
		{engine.Admission{Suppressed: true, Launching: []engine.Launching{{Change: "C7", Nodes: 1}, {Change: "C8", Nodes: 1}}, LaunchingUntil: at(100).Add(10 * time.Minute)},
			"lockdown: 1 node added by C7 and 1 node added by C8 are still launching (until 10:12:40 at the latest)"},
		{engine.Admission{Suppressed: true, Launching: []engine.Launching{{Nodes: 1}}, LaunchingUntil: at(60).Add(10 * time.Minute)},
			"lockdown: 1 node is still launching (until 10:12:00 at the latest)"},
		{engine.Admission{Suppressed: true, Cooldown: "2m", LastScaleOut: "C7", LastScaleOutEnd: at(90), CooldownUntil: at(90).Add(2 * time.Minute)},
			"cooldown: 2m after C7 ended at 10:02:30, until 10:04:30"},
		{engine.Admission{Suppressed: true, Cooldown: "90s", LastScaleOutEnd: at(90), CooldownUntil: at(180)},
			"cooldown: 90s after the last scale-out ended at 10:02:30, until 10:04:00"},
	}
	for _, tt := range tests {
		if got := Suppression(tt.in); got != tt.want {
			t.Errorf("Suppression(%+v) = %q, want %q", tt.in, got, tt.want)
		}
	}

	// From the engine's facts to the words, as the controller does.
	cfg, err := api.ParseConfig(api.GroupConfig{Cooldown: "2m"})
	if err != nil {
		t.Fatal(err)
	}
	adm := engine.Admit(engine.AdmitInput{
		Config: cfg, Now: at(120),
		LastScaleOutEnd: at(90), LastScaleOutID: "id-C7", LastScaleOutName: "C7",
	})
	if got, want := Suppression(adm), "cooldown: 2m after C7 ended at 10:02:30, until 10:04:30"; got != want {
		t.Errorf("Suppression(Admit(...)) = %q, want %q", got, want)
	}
}

func TestTriggerNotEvaluated(t *testing.T) {
	if got, want := NoSamples([]string{"cpu", "queue_depth"}, "avg(cpu, '2m') = no data"),
		"no samples of cpu, queue_depth in the condition's window: the condition is not satisfied (avg(cpu, '2m') = no data)"; got != want {
		t.Errorf("NoSamples = %q, want %q", got, want)
	}
	if got, want := EvaluationFailed(errors.New(`evaluate "x > 1": boom`)),
		`the condition failed to evaluate: evaluate "x > 1": boom`; got != want {
		t.Errorf("EvaluationFailed = %q, want %q", got, want)
	}
}

func TestControllerReasons(t *testing.T) {
	next := time.Date(2026, 1, 2, 10, 4, 0, 0, time.UTC)
	tests := []struct{ got, want string }{
		{DriverReports("unavailable", "process exited"), "the driver reports it unavailable: process exited"},
		{DriverReports("terminated", "terminated"), "the driver reports it terminated"},
		{DriverReports("unavailable", ""), "the driver reports it unavailable"},
		{FailedBeforeReady("terminated", "exit status 1"), "the driver reports it terminated: exit status 1 before it was ready"},
		{NotReadyWithin("10m", ""), "not ready within init_deadline 10m"},
		{NotReadyWithin("30s", "health check: connection refused"), "not ready within init_deadline 30s (health check: connection refused)"},
		{LaunchFailed("exec: no such file"), "launch failed: exec: no such file"},
		{NoReplacementNeeded(5, 4), "no replacement needed: 5 nodes ready or launching for desired 4"},
		{ReplacementDeferred("H3", next, true, "15s"), "replacement deferred to the harmonization of H3 at 10:04:00 (replacement policy deferred)"},
		{ReplacementDeferred("H3", next, false, "15s"), "replacement deferred to the harmonization of H3 at 10:04:00, within replacement_defer_window 15s"},
		{ReplacementDeferred("H3", time.Time{}, false, "15s"), "replacement deferred to the harmonization of H3, within replacement_defer_window 15s"},
		{BoundsChanged("max_quantity", 10, 6), "bounds changed: max_quantity 10 → 6"},
		{BoundsChanged("min_quantity", 2, 5), "bounds changed: min_quantity 2 → 5"},
		{HarmonizationChange("H2"), "harmonization H2"},
		{RequestedChange("E4"), "requested by E4"},
		{ForecastNotConfigured, "predictive governing is not configured"},
		{NoForecaster, "predictive governing is configured but this pesd has no forecaster"},
		{ForecastOff, "predictive governing is off"},
		{ForecastUnusable(errors.New("history: want a duration")), "predictive settings give no forecast: history: want a duration"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
