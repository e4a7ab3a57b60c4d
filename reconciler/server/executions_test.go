package server

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

func TestExecutionRoutes(t *testing.T) {
	f := newFixture(t)

	// group_id may be the group's name.
	code, hdr, raw := f.do(t, http.MethodPost, "/v1/executions", `{"group_id":"web","input":{"lines":"/data.txt"}}`)
	if code != http.StatusCreated || hdr.Get("Location") != "/v1/executions/x-new" {
		t.Fatalf("create: %d %s %s", code, hdr.Get("Location"), raw)
	}
	c, _ := f.svc.last("CreateExecution")
	in := c.args[0].(api.ExecutionCreate)
	if in.GroupID != "g1" {
		t.Errorf("the Service got group %q, want the id g1 of web", in.GroupID)
	}
	if *in.MaxAttempts != api.DefaultMaxAttempts || *in.Input.LinesPerJob != 1 || in.SuspendGrace != api.DefaultSuspendGrace {
		t.Errorf("the Service got %+v; want the defaults filled", in)
	}

	// By label, with its jobs, counts and no null lists.
	code, _, raw = f.do(t, http.MethodGet, "/v1/executions/X1", "")
	var x api.Execution
	if code != http.StatusOK || json.Unmarshal(raw, &x) != nil || x.ID != "x1" || len(x.Jobs) != 2 ||
		x.Counts[api.JobRunning] != 1 || x.Counts[api.JobSucceeded] != 1 || x.JobCount != 2 {
		t.Fatalf("get X1: %d %s", code, raw)
	}
	if code, _, _ := f.do(t, http.MethodGet, "/v1/executions/nope", ""); code != http.StatusNotFound {
		t.Errorf("get of an unknown execution: %d, want 404", code)
	}

	// Jobs, a page at a time.
	code, _, raw = f.do(t, http.MethodGet, "/v1/executions/x1/jobs?limit=1", "")
	var page api.List[api.Job]
	if code != http.StatusOK || json.Unmarshal(raw, &page) != nil || len(page.Items) != 1 || page.NextPageToken == "" {
		t.Fatalf("jobs page 1: %d %s", code, raw)
	}
	code, _, raw = f.do(t, http.MethodGet, "/v1/executions/x1/jobs?limit=1&page_token="+page.NextPageToken, "")
	var page2 api.List[api.Job]
	if code != http.StatusOK || json.Unmarshal(raw, &page2) != nil || len(page2.Items) != 1 || page2.Items[0].Index != 1 || page2.NextPageToken != "" {
		t.Fatalf("jobs page 2: %d %s", code, raw)
	}

	// The actions take an optional body.
	if code, _, raw := f.do(t, http.MethodPost, "/v1/executions/x1/suspend", ""); code != http.StatusOK {
		t.Fatalf("suspend without a body: %d %s", code, raw)
	}
	if code, _, raw := f.do(t, http.MethodPost, "/v1/executions/x1/suspend", `{"release_nodes":true,"actor":"alice"}`); code != http.StatusOK {
		t.Fatalf("suspend: %d %s", code, raw)
	}
	c, _ = f.svc.last("SuspendExecution")
	if s := c.args[1].(api.ExecutionSuspend); !s.ReleaseNodes || s.Actor != "alice" {
		t.Errorf("suspend reached the Service as %+v", s)
	}
	code, _, raw = f.do(t, http.MethodPost, "/v1/executions/x1/suspend", `{"release_nodes":"yes"}`)
	var e api.ErrorBody
	if code != http.StatusBadRequest || json.Unmarshal(raw, &e) != nil || e.Error.Field != "release_nodes" {
		t.Errorf("suspend with a bad body: %d %s; want a 400 naming release_nodes", code, raw)
	}
	for _, action := range []string{"resume", "cancel"} {
		if code, _, raw := f.do(t, http.MethodPost, "/v1/executions/x1/"+action, ""); code != http.StatusOK {
			t.Errorf("%s: %d %s", action, code, raw)
		}
	}
	code, _, raw = f.do(t, http.MethodGet, "/v1/executions?group_id=g1&status=running", "")
	var list api.List[api.Execution]
	if code != http.StatusOK || json.Unmarshal(raw, &list) != nil || len(list.Items) != 1 {
		t.Errorf("list: %d %s", code, raw)
	}
}
