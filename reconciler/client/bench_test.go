package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// BenchmarkListAllEvents measures following every page of a 10,000-event
// history (pages of 500, as pesd serves them) over real HTTP: what the
// provider's pes_capacity_events data source and `pesd events` pay.
func BenchmarkListAllEvents(b *testing.B) {
	const total, size = 10_000, 500
	t0 := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	pages := map[string][]byte{}
	for start := 0; start < total; start += size {
		l := api.List[api.Event]{}
		for i := start; i < start+size; i++ {
			q := i % 7
			l.Items = append(l.Items, api.Event{ID: "e-" + strconv.Itoa(i), Label: "E" + strconv.Itoa(i+1), GroupID: "g-1",
				Type: api.EventTriggerFired, Source: api.Source{Kind: api.SourceTrigger, Name: "cpu-high"}, Time: t0.Add(time.Duration(i) * time.Second),
				Request: &api.Request{ChangeBy: &q}, ProposedQuantity: &q, Status: api.EventAggregated,
				Observed: "avg cpu_utilization 87.3 > 80 for 2m", Description: "trigger cpu-high asked for +4"})
		}
		if start+size < total {
			l.NextPageToken = strconv.Itoa(start + size)
		}
		raw, err := json.Marshal(l)
		if err != nil {
			b.Fatal(err)
		}
		token := ""
		if start > 0 {
			token = strconv.Itoa(start)
		}
		pages[token] = raw
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(pages[r.URL.Query().Get("page_token")])
	}))
	defer srv.Close()
	c, err := New(srv.URL, "tok")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	start := time.Now()
	for b.Loop() {
		events, err := c.ListAllEvents(ctx, "g-1", EventFilter{Page: Page{Limit: size}})
		if err != nil || len(events) != total {
			b.Fatalf("%d events, %v", len(events), err)
		}
	}
	b.ReportMetric(float64(total*b.N)/time.Since(start).Seconds(), "events/s")
}
