package servertest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// GroupRoutes returns one well-formed request for every route under
// /v1/groups/{group}, expecting a 404: run with a deleted group's name,
// each must be answered before its body is read or anything is done.
func GroupRoutes() []Case {
	nf := func(method, path, body string) Case {
		return Case{Name: method + " " + path, Method: method, Path: path, Body: body,
			WantStatus: http.StatusNotFound, WantCode: api.CodeNotFound}
	}
	const g = "/v1/groups/{group}"
	get, post, patch, del := http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete
	return []Case{
		nf(get, g, ""),
		nf(patch, g, `{"min_quantity":0}`),
		nf(del, g, ""),
		nf(post, g+"/instructions", `{"change_by":1}`),
		nf(post, g+"/harmonize", ""),
		nf(get, g+"/forecast", ""),
		nf(post, g+"/history", "time,desired\n2026-01-01T00:00:00Z,1\n"),
		nf(post, g+"/metrics", `{"samples":[{"name":"queue_depth","value":1}]}`),
		nf(get, g+"/nodes", ""),
		nf(del, g+"/nodes/n-1", ""),
		nf(post, g+"/nodes/n-1/fail", ""),
		nf(post, g+"/triggers", `{"name":"t","condition":"last(queue_depth) > 1","change_by":1}`),
		nf(get, g+"/triggers", ""),
		nf(get, g+"/events", ""),
		nf(get, g+"/changes", ""),
		nf(get, g+"/periods", ""),
	}
}

// RunDeletedGroupName sends every GroupRoutes request with name, the name
// of a deleted group (and of no live one), in the path: each must answer
// 404 with want as its message, the one that says where the history is.
func RunDeletedGroupName(t *testing.T, baseURL, token, name, want string) {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	for _, c := range GroupRoutes() {
		c.WantMessage = want
		t.Run(c.Name, func(t *testing.T) {
			resp, err := client.Do(c.Request(baseURL, token, name))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Check(resp, raw); err != "" {
				t.Error(err)
			}
		})
	}
}

// RunReadsByName reads every GET route under /v1/groups/{group} by the
// live group's name and checks it answers as by its id: 200, and the
// group itself for /v1/groups/{name}.
func RunReadsByName(t *testing.T, baseURL, token, id, name string) {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	for _, c := range GroupRoutes() {
		if c.Method != http.MethodGet {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			for _, ref := range []string{id, name} {
				resp, err := client.Do(c.Request(baseURL, token, ref))
				if err != nil {
					t.Fatal(err)
				}
				raw, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("by %s: %s %s", ref, resp.Status, raw)
				}
				if strings.Count(c.Path, "/") == 3 { // the group itself
					var g api.Group
					if err := json.Unmarshal(raw, &g); err != nil || g.ID != id || g.Name != name {
						t.Errorf("by %s: group %s (%s), want %s (%s)", ref, g.ID, g.Name, id, name)
					}
				}
			}
		})
	}
}
