package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// A long answer reads the same whether it comes with its length or
// chunked (its buffer then grows as it arrives), and a cut one fails.
func TestLongAnswers(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	var want api.List[api.ChangeDetail]
	for i := range 1500 {
		q := i % 9
		want.Items = append(want.Items, api.ChangeDetail{
			Change: api.Change{ID: "c-" + strconv.Itoa(i), Label: "C" + strconv.Itoa(i+1), Type: api.ChangeAddNodes, Amount: q,
				StartedAt: t0.Add(time.Duration(i) * time.Second), NodeIDs: []string{"n-" + strconv.Itoa(i)}, Description: "add → " + strconv.Itoa(q)},
			Causes: []api.Cause{{Attribution: api.AttributionDirect, Event: api.Event{ID: "e-" + strconv.Itoa(i), ProposedQuantity: &q,
				Source: api.Source{Kind: api.SourceUser, Name: "alice"}, Time: t0, Reason: `say "why"` + "\n"}}},
			Explanation: strings.Repeat("because ", i%40)})
	}
	body, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	for _, how := range []string{"length", "chunked", "cut"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch how {
			case "length":
				w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			case "cut": // the connection ends before the length it announced
				w.Header().Set("Content-Length", strconv.Itoa(len(body)))
				_, _ = w.Write(body[:len(body)/2])
				panic(http.ErrAbortHandler)
			}
			for rest := body; len(rest) > 0; rest = rest[min(len(rest), 1000):] {
				_, _ = w.Write(rest[:min(len(rest), 1000)])
				w.(http.Flusher).Flush()
			}
		}))
		c, err := New(srv.URL, "tok", WithRetryMax(0))
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.ListChangesDetailed(context.Background(), "g", ChangeFilter{})
		srv.Close()
		if how == "cut" {
			if err == nil {
				t.Errorf("%s: a cut answer read without error", how)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", how, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the list read differs from the one served", how)
		}
	}
}
