package provider

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// The two causality data sources read through the provider's protocol
// server against a pesd stand-in on real HTTP: each page of the list is
// one request carrying include (never a GET per item), the filters and
// the largest page reach pesd, every page is followed, the items come out
// in time-then-label order, and a missing group is one clear diagnostic.
func TestCausalityDataSourcesRead(t *testing.T) {
	t0 := time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Second)
	user := func(name string) api.Source { return api.Source{Kind: api.SourceUser, Name: name} }
	event := func(id, label string, at time.Time) api.Event {
		return api.Event{ID: id, Label: label, GroupID: "g-1", Type: api.EventUserInstruction, Source: user("alice"),
			Time: at, Status: api.EventAggregated, Description: "alice asked for +1"}
	}
	change := func(id, label string, at time.Time) api.Change {
		return api.Change{ID: id, Label: label, GroupID: "g-1", Type: api.ChangeAddNodes, Amount: 1,
			QuantityBefore: 2, QuantityAfter: 3, Status: api.ChangeCompleted, StartedAt: at,
			Attribution: api.AttributionIndirect, NodeIDs: []string{"n-" + id}, Description: "added 1 node"}
	}
	// withParts records that one node became ready at each of times.
	withParts := func(c api.Change, times ...time.Time) api.Change {
		for _, at := range times {
			c.Parts = append(c.Parts, api.ChangePart{ReadyAt: at, Amount: 1})
		}
		return c
	}
	// Pages as pesd would serve them; the provider orders them itself.
	changePages := [][]api.ChangeDetail{
		{
			{Change: change("c10", "C10", t1), Explanation: "C10 because",
				Causes: []api.Cause{
					{Attribution: api.AttributionIndirect, Event: event("e9", "E9", t1)},
					{Attribution: api.AttributionIndirect, Event: event("e2", "E2", t1)},
				}},
			{Change: withParts(change("c2", "C2", t1), t1.Add(2*time.Second), t1.Add(3*time.Second)), Explanation: "C2 because"},
		},
		{{Change: change("c1", "C1", t0), Explanation: "C1 because"}},
	}
	clamped := event("e10", "E10", t1)
	clamped.Reason = "peak"
	clamped.Notes = []string{"clamped by max_quantity 10: 20 → 10"}
	eventPages := [][]api.EventDetail{
		{{Event: clamped, Explanation: "E10 did",
			Effects: []api.Effect{{Attribution: api.AttributionIndirect, Change: change("c2", "C2", t1)}}}},
		{
			{Event: event("e9b", "E9b", t1), Explanation: "E9b did"},
			{Event: event("e3", "E3", t0), Explanation: "E3 did"},
		},
	}
	pages := map[string]any{"/v1/groups/g-1/changes": changePages, "/v1/groups/g-1/events": eventPages}

	var mu sync.Mutex
	var got []*url.URL
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		p, ok := pages[r.URL.Path]
		if !ok || r.Method != http.MethodGet {
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(api.ErrorBody{Error: api.Error{Code: api.CodeNotFound, Message: "no " + r.URL.Path}})
			return
		}
		// page_token "1" asks for the second page; none for the first.
		i := 0
		if r.URL.Query().Get("page_token") == "1" {
			i = 1
		}
		next := ""
		if i == 0 {
			next = "1"
		}
		switch p := p.(type) {
		case [][]api.ChangeDetail:
			_ = json.NewEncoder(w).Encode(api.List[api.ChangeDetail]{Items: p[i], NextPageToken: next})
		case [][]api.EventDetail:
			_ = json.NewEncoder(w).Encode(api.List[api.EventDetail]{Items: p[i], NextPageToken: next})
		}
	}))
	defer srv.Close()
	p := configuredTestServer(t, srv.URL, "s3cret")

	str := func(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
	tests := []struct {
		name       string
		dataSource string
		config     map[string]tftypes.Value
		wantQuery  url.Values // of the first page; the second adds page_token=1
		list       string     // the list attribute
		wantLabels []string
	}{
		{
			name:       "changes with their causes",
			dataSource: "pes_capacity_changes",
			config: map[string]tftypes.Value{"group_id": str("g-1"), "since": str("2026-03-05T11:00:00Z"),
				"until": str("2026-03-05T13:00:00Z"), "type": str(api.ChangeAddNodes), "caused_by": str("e2")},
			wantQuery: url.Values{"include": {api.IncludeCauses}, "limit": {"1000"}, "since": {"2026-03-05T11:00:00Z"},
				"until": {"2026-03-05T13:00:00Z"}, "type": {api.ChangeAddNodes}, "caused_by": {"e2"}},
			list:       "changes",
			wantLabels: []string{"C1", "C2", "C10"},
		},
		{
			name:       "events with their effects",
			dataSource: "pes_capacity_events",
			config:     map[string]tftypes.Value{"group_id": str("g-1"), "type": str(api.EventUserInstruction)},
			wantQuery:  url.Values{"include": {api.IncludeEffects}, "limit": {"1000"}, "type": {api.EventUserInstruction}},
			list:       "events",
			wantLabels: []string{"E3", "E9b", "E10"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			got = nil
			mu.Unlock()
			state, diags := readDataSource(t, p, tt.dataSource, tt.config)
			if len(diags) > 0 {
				t.Fatalf("diagnostics: %s: %s", diags[0].Summary, diags[0].Detail)
			}
			st := state.(map[string]any)
			if st["id"] != "g-1" {
				t.Errorf("id = %v, want the group ID", st["id"])
			}
			items := st[tt.list].([]any)
			var labels []string
			for _, it := range items {
				labels = append(labels, it.(map[string]any)["label"].(string))
			}
			if !reflect.DeepEqual(labels, tt.wantLabels) {
				t.Errorf("%s = %v, want %v (by time, then label)", tt.list, labels, tt.wantLabels)
			}
			for _, it := range items {
				m := it.(map[string]any)
				if !strings.HasPrefix(m["explanation"].(string), m["label"].(string)+" ") {
					t.Errorf("%s has explanation %q, not its own", m["label"], m["explanation"])
				}
			}

			mu.Lock()
			reqs := got
			mu.Unlock()
			if len(reqs) != 2 {
				t.Fatalf("%d requests %v, want 2 (one per page)", len(reqs), reqs)
			}
			for i, u := range reqs {
				want := url.Values{}
				for k, v := range tt.wantQuery {
					want[k] = v
				}
				if i == 1 {
					want.Set("page_token", "1")
				}
				if u.Path != "/v1/groups/g-1/"+tt.list || !reflect.DeepEqual(u.Query(), want) {
					t.Errorf("request %d: %s?%s, want /v1/groups/g-1/%s?%s", i, u.Path, u.RawQuery, tt.list, want.Encode())
				}
			}
		})
	}

	t.Run("causes in order", func(t *testing.T) {
		state, diags := readDataSource(t, p, "pes_capacity_changes", map[string]tftypes.Value{"group_id": str("g-1")})
		if len(diags) > 0 {
			t.Fatalf("diagnostics: %s: %s", diags[0].Summary, diags[0].Detail)
		}
		c10 := state.(map[string]any)["changes"].([]any)[2].(map[string]any)
		var causes []string
		for _, c := range c10["causes"].([]any) {
			causes = append(causes, c.(map[string]any)["label"].(string))
		}
		if want := []string{"E2", "E9"}; !reflect.DeepEqual(causes, want) {
			t.Errorf("causes of C10 = %v, want %v", causes, want)
		}
	})

	t.Run("parts of a launch", func(t *testing.T) {
		state, diags := readDataSource(t, p, "pes_capacity_changes", map[string]tftypes.Value{"group_id": str("g-1")})
		if len(diags) > 0 {
			t.Fatalf("diagnostics: %s: %s", diags[0].Summary, diags[0].Detail)
		}
		changes := state.(map[string]any)["changes"].([]any)
		c2, c10 := changes[1].(map[string]any), changes[2].(map[string]any)
		want := []any{
			map[string]any{"ready_at": "2026-03-05T12:00:03Z", "amount": float64(1)},
			map[string]any{"ready_at": "2026-03-05T12:00:04Z", "amount": float64(1)},
		}
		if !reflect.DeepEqual(c2["parts"], want) {
			t.Errorf("parts of C2 = %#v, want %#v", c2["parts"], want)
		}
		if parts := c10["parts"]; !reflect.DeepEqual(parts, []any{}) {
			t.Errorf("parts of C10 = %#v, want an empty list", parts)
		}
	})

	t.Run("notes apart from the reason", func(t *testing.T) {
		state, diags := readDataSource(t, p, "pes_capacity_events", map[string]tftypes.Value{"group_id": str("g-1")})
		if len(diags) > 0 {
			t.Fatalf("diagnostics: %s: %s", diags[0].Summary, diags[0].Detail)
		}
		events := state.(map[string]any)["events"].([]any)
		for _, tt := range []struct {
			i      int
			reason any
			notes  []any
		}{
			{0, nil, []any{}}, // E3: none, an empty list
			{2, "peak", []any{"clamped by max_quantity 10: 20 → 10"}},
		} {
			e := events[tt.i].(map[string]any)
			if e["reason"] != tt.reason || !reflect.DeepEqual(e["notes"], tt.notes) {
				t.Errorf("%s: reason %#v, notes %#v; want %#v, %#v", e["label"], e["reason"], e["notes"], tt.reason, tt.notes)
			}
		}
	})

	for _, ds := range []struct{ name, summary string }{
		{"pes_capacity_changes", "Cannot list capacity changes"},
		{"pes_capacity_events", "Cannot list capacity events"},
	} {
		t.Run(ds.name+" of a missing group", func(t *testing.T) {
			_, diags := readDataSource(t, p, ds.name, map[string]tftypes.Value{"group_id": str("gone")})
			if len(diags) != 1 || diags[0].Severity != tfprotov6.DiagnosticSeverityError ||
				diags[0].Summary != ds.summary || !strings.Contains(diags[0].Detail, "ID: gone") {
				t.Errorf("diagnostics %+v, want one error %q naming the group", diags, ds.summary)
			}
		})
	}
}

// readDataSource reads a data source of p configured with set (every
// other attribute null) and returns its state as plain Go values.
func readDataSource(t *testing.T, p tfprotov6.ProviderServer, name string, set map[string]tftypes.Value) (any, []*tfprotov6.Diagnostic) {
	t.Helper()
	typ := dataSourceType(t, p, name)
	dv, err := tfprotov6.NewDynamicValue(typ, nullsBut(typ, set))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.ReadDataSource(context.Background(), &tfprotov6.ReadDataSourceRequest{TypeName: name, Config: &dv})
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
