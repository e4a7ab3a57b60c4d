package server

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/controller"
)

// benchServe runs one request through the whole handler (auth, routing,
// decoding, validation, the recording Service, encoding) per iteration.
func benchServe(b *testing.B, method, path, body string, wantStatus int) {
	svc := newRecorder()
	h := New(svc, svc.reads(), testToken, nil)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testToken)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != wantStatus {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

func BenchmarkCreateGroup(b *testing.B) {
	benchServe(b, "POST", "/v1/groups",
		`{"name":"web","driver":"local","program":{"command":"python3","args":["-m","http.server","${PES_PORT}"]},"desired_quantity":4,"min_quantity":2,"max_quantity":20,"aggregation_period":"60s","health_check":{"type":"http","path":"/"},"labels":{"team":"a"}}`,
		201)
}

func BenchmarkInstruction(b *testing.B) {
	benchServe(b, "POST", "/v1/groups/g1/instructions", `{"change_by":3,"reason":"sale","priority":10}`, 201)
}

func BenchmarkCreateTrigger(b *testing.B) {
	benchServe(b, "POST", "/v1/groups/g1/triggers",
		`{"name":"cpu-high","condition":"avg(cpu_utilization, '2m') > 80 and last(queue_depth) > 100","for":"2m","change_by":4}`, 201)
}

func BenchmarkListEvents(b *testing.B) {
	benchServe(b, "GET", "/v1/groups/g1/events?since=2026-01-02T10:01:00Z&type=trigger_fired&limit=100", "", 200)
}

// BenchmarkPushMetrics10k decodes and validates the largest metrics push
// (api.MaxSamplesPerRequest samples) and reports samples per second.
func BenchmarkPushMetrics10k(b *testing.B) {
	var body bytes.Buffer
	body.WriteString(`{"samples":[`)
	// Recent times: older ones are refused (api.MaxSampleAge).
	hour := time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04")
	for i := range api.MaxSamplesPerRequest {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"name":"queue_depth","value":%d.5,"node_id":"n%d","time":"%s:%02dZ"}`, i, i%50, hour, i%60)
	}
	body.WriteString(`]}`)
	svc := newRecorder()
	h := New(svc, svc.reads(), testToken, nil)
	b.SetBytes(int64(body.Len()))
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/v1/groups/g1/metrics", bytes.NewReader(body.Bytes()))
		req.Header.Set("Authorization", "Bearer "+testToken)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d: %.200s", w.Code, w.Body)
		}
	}
	b.ReportMetric(float64(b.N*api.MaxSamplesPerRequest)/time.Since(start).Seconds(), "samples/s")
}

// BenchmarkMetricsScrape renders /metrics after traffic on every route.
func BenchmarkMetricsScrape(b *testing.B) {
	svc := newRecorder()
	for i := range 200 {
		svc.gauges = append(svc.gauges, Gauge{Name: "pes_group_desired_quantity", Labels: map[string]string{"group": fmt.Sprintf("g%d", i)}, Value: float64(i)})
	}
	h := New(svc, svc.reads(), testToken, nil)
	for _, p := range []string{"/v1/groups", "/v1/groups/g1", "/v1/groups/nope", "/v1/groups/g1/events", "/v1/triggers/t1", "/v1/x"} {
		req := httptest.NewRequest("GET", p, nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
		if w.Code != 200 {
			b.Fatalf("status %d", w.Code)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "scrapes/s")
}

// BenchmarkStatsScrape renders /metrics over the controller's counts of
// 10,000 active groups (only the sums, past GroupGauges) and of 1,000
// (each with its three series); the controller's BenchmarkStats measures
// gathering them.
func BenchmarkStatsScrape(b *testing.B) {
	for _, groups := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("groups=%d", groups), func(b *testing.B) {
			st := controller.Stats{
				Groups: map[string]int{api.GroupActive: groups, api.GroupDeleted: 0},
				Nodes:  map[string]int{api.NodeReady: 2 * groups},
				Sum:    controller.Quantities{Desired: 2 * groups, Official: 2 * groups, Actual: 2 * groups},
			}
			if groups > controller.DefaultGroupGauges {
				st.Limited = true
			} else {
				for i := range groups {
					st.Active = append(st.Active, controller.GroupQuantities{ID: fmt.Sprintf("id-%05d", i),
						Name: fmt.Sprintf("scrape-%05d", i), Quantities: controller.Quantities{Desired: 2, Official: 2, Actual: 2}})
				}
			}
			rec := newRecorder()
			h := New(statsService{rec, st}, rec.reads(), testToken, nil)
			var size int
			start := time.Now()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
				if w.Code != 200 {
					b.Fatalf("status %d", w.Code)
				}
				size = w.Body.Len()
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/scrape")
			b.ReportMetric(float64(size)/1024, "KiB/scrape")
		})
	}
}
