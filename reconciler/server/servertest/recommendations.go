package servertest

import (
	"net/http"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// recommendationCases are the malformed requests of run records and
// recommendations, rejected before the Service: each 400 names the
// parameter or field (issue 15, acceptance 5).
func recommendationCases() []Case {
	get := func(name, query, field, msg string) Case {
		return Case{Name: name, Method: http.MethodGet, Path: "/v1/program-types/wordcount/recommendation" + query,
			WantStatus: http.StatusBadRequest, WantCode: api.CodeInvalid, WantField: field, WantMessage: msg}
	}
	return []Case{
		get("recommendation without input_size", "?deadline=1h", "input_size", "is required"),
		get("recommendation input_size a word", "?input_size=lots", "input_size", "positive number"),
		get("recommendation deadline a word", "?input_size=1e6&deadline=soon", "deadline", "positive duration"),
		get("recommendation max_node_hours negative", "?input_size=1e6&max_node_hours=-2", "max_node_hours", "positive number"),
		get("recommendation max_nodes 0", "?input_size=1e6&max_nodes=0", "max_nodes", "whole number"),
		get("recommendation unknown parameter", "?input_size=1e6&budget=3", "budget", "is not a parameter"),
		{Name: "recommendation of a bad type", Method: http.MethodGet, Path: "/v1/program-types/Word_Count/recommendation?input_size=1",
			WantStatus: http.StatusBadRequest, WantCode: api.CodeInvalid, WantField: "type"},
		{Name: "execution use_recommendation without a type", Method: http.MethodPost, Path: "/v1/executions",
			Body:       `{"group_id":"{group}","input":{"items":[1]},"use_recommendation":true}`,
			WantStatus: http.StatusBadRequest, WantCode: api.CodeInvalid, WantField: "use_recommendation", WantMessage: "needs program_type"},
		{Name: "execution max_node_hours negative", Method: http.MethodPost, Path: "/v1/executions",
			Body:       `{"group_id":"{group}","program_type":"wc","input":{"items":[1]},"max_node_hours":-1}`,
			WantStatus: http.StatusBadRequest, WantCode: api.CodeInvalid, WantField: "max_node_hours", WantMessage: "positive"},
	}
}
