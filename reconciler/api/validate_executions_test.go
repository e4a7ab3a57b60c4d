package api

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestValidateExecutionCreate(t *testing.T) {
	cases := []struct {
		name, body, field string
	}{
		{"empty input", `{"group_id":"g","input":{}}`, "input"},
		{"empty items", `{"group_id":"g","input":{"items":[]}}`, "input.items"},
		{"lines_per_job 0", `{"group_id":"g","input":{"lines":"/x","lines_per_job":0}}`, "input.lines_per_job"},
		{"max_attempts -1", `{"group_id":"g","input":{"lines":"/x"},"max_attempts":-1}`, "max_attempts"},
		{"no group", `{"input":{"lines":"/x"}}`, "group_id"},
		{"two inputs", `{"group_id":"g","input":{"lines":"/x","files":"/d"}}`, "input.lines"},
		{"per job without its input", `{"group_id":"g","input":{"lines":"/x","items_per_job":2}}`, "input.items_per_job"},
		{"max_parallel", `{"group_id":"g","input":{"lines":"/x"},"max_parallel":-2}`, "max_parallel"},
		{"scale_to", `{"group_id":"g","input":{"lines":"/x"},"on_complete":{"scale_to":-1}}`, "on_complete.scale_to"},
		{"both on_complete", `{"group_id":"g","input":{"lines":"/x"},"on_complete":{"scale_to":1,"keep_nodes":true}}`, "on_complete"},
		{"program without command", `{"group_id":"g","input":{"lines":"/x"},"program":{"args":["a"]}}`, "program.command"},
		{"suspend grace", `{"group_id":"g","input":{"lines":"/x"},"suspend_grace":"soon"}`, "suspend_grace"},
		{"sim duration", `{"group_id":"g","input":{"items":[1]},"sim":{"item_duration":"-1s"}}`, "sim.item_duration"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var in ExecutionCreate
			if err := json.Unmarshal([]byte(c.body), &in); err != nil {
				t.Fatal(err)
			}
			err := ValidateExecutionCreate(&in)
			var ae *Error
			if !errors.As(err, &ae) || ae.Status != 400 || ae.Field != c.field {
				t.Fatalf("got %v, want a 400 naming %q", err, c.field)
			}
		})
	}
}

func TestValidateExecutionCreateDefaults(t *testing.T) {
	var in ExecutionCreate
	if err := json.Unmarshal([]byte(`{"group_id":"g","input":{"lines":"/x"}}`), &in); err != nil {
		t.Fatal(err)
	}
	if err := ValidateExecutionCreate(&in); err != nil {
		t.Fatal(err)
	}
	if *in.MaxAttempts != DefaultMaxAttempts || *in.Input.LinesPerJob != 1 || in.SuspendGrace != DefaultSuspendGrace {
		t.Fatalf("defaults not filled: %+v", in)
	}
}

func TestExecutionMetricsAreComputed(t *testing.T) {
	for _, name := range []string{MetricJobsQueued, MetricJobsRunning} {
		err := ValidateSamples([]Sample{{Name: name, Value: 3}}, time.Now())
		var ae *Error
		if !errors.As(err, &ae) || ae.Field != "samples[0].name" {
			t.Errorf("pushing %s: %v, want a 400 (pesd computes it)", name, err)
		}
	}
}
