package servertest

import (
	"net/http"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// executionCases are the malformed execution requests rejected before
// the Service (SPEC §2.9; issue acceptance 5).
func executionCases() []Case {
	bad := func(name, body, field, msg string) Case {
		return Case{Name: name, Method: http.MethodPost, Path: "/v1/executions", Body: body,
			WantStatus: http.StatusBadRequest, WantCode: api.CodeInvalid, WantField: field, WantMessage: msg}
	}
	return []Case{
		bad("execution with an empty input", `{"group_id":"{group}","input":{}}`, "input", "is required"),
		bad("execution with no items", `{"group_id":"{group}","input":{"items":[]}}`, "input.items", "is empty"),
		bad("execution lines_per_job 0", `{"group_id":"{group}","input":{"lines":"/data.txt","lines_per_job":0}}`, "input.lines_per_job", "between 1 and"),
		bad("execution max_attempts -1", `{"group_id":"{group}","input":{"lines":"/data.txt"},"max_attempts":-1}`, "max_attempts", "between 1 and 100"),
		bad("execution without group", `{"input":{"lines":"/data.txt"}}`, "group_id", "is required"),
		bad("execution lines_per_job a string", `{"group_id":"{group}","input":{"lines":"/data.txt","lines_per_job":"ten"}}`, "input.lines_per_job", "whole number"),
		{Name: "execution status filter", Method: http.MethodGet, Path: "/v1/executions?status=done",
			WantStatus: http.StatusBadRequest, WantCode: api.CodeInvalid, WantField: "status", WantMessage: "must be one of"},
	}
}

// ExecutionStateCases are requests a live pesd must refuse for the state
// it is in: an input file missing on pesd's machine (400), resuming a
// running execution and suspending a completed one (409). running and
// completed are execution ids; missing is a path that does not exist.
func ExecutionStateCases(running, completed, missing string) []Case {
	return []Case{
		{Name: "execution input file missing", Method: http.MethodPost, Path: "/v1/executions",
			Body:       `{"group_id":"{group}","input":{"lines":"` + missing + `","lines_per_job":10}}`,
			WantStatus: http.StatusBadRequest, WantCode: api.CodeInvalid, WantField: "input.lines", WantMessage: "no such file"},
		{Name: "resume a running execution", Method: http.MethodPost, Path: "/v1/executions/" + running + "/resume",
			WantStatus: http.StatusConflict, WantCode: api.CodeConflict, WantField: "status", WantMessage: "is running"},
		{Name: "suspend a completed execution", Method: http.MethodPost, Path: "/v1/executions/" + completed + "/suspend",
			WantStatus: http.StatusConflict, WantCode: api.CodeConflict, WantField: "status", WantMessage: "is completed"},
	}
}
