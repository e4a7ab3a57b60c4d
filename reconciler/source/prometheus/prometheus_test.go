package prometheus

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestQuery(t *testing.T) {
	answers := map[string]string{
		"one":    `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"612.5"]}]}}`,
		"scalar": `{"status":"success","data":{"resultType":"scalar","result":[1700000000,"3"]}}`,
		"empty":  `{"status":"success","data":{"resultType":"vector","result":[]}}`,
		"two":    `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[1,"1"]},{"metric":{"a":"2"},"value":[1,"2"]}]}}`,
		"matrix": `{"status":"success","data":{"resultType":"matrix","result":[]}}`,
		"nan":    `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"NaN"]}]}}`,
		"bad":    `{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected end of input"}`,
	}
	var gotTime string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/query" {
			http.NotFound(w, r)
			return
		}
		gotTime = r.URL.Query().Get("time")
		body, ok := answers[r.URL.Query().Get("query")]
		if !ok {
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("<html>gateway</html>"))
			return
		}
		if strings.Contains(body, `"error"`) {
			w.WriteHeader(http.StatusBadRequest)
		}
		w.Write([]byte(body))
	}))
	defer srv.Close()
	c := &Client{}
	at := time.Unix(1700000000, 500_000_000)
	for _, tt := range []struct {
		query string
		want  float64
		err   string
	}{
		{"one", 612.5, ""},
		{"scalar", 3, ""},
		{"empty", 0, "returned no series"},
		{"two", 0, "returned 2 series; it must return one"},
		{"matrix", 0, "returned a matrix"},
		{"nan", 0, "the value NaN"},
		{"bad", 0, "prometheus bad_data: 1:5: parse error"},
		{"proxy", 0, "502 Bad Gateway, not the Prometheus API"},
	} {
		v, err := c.Query(context.Background(), srv.URL+"/", tt.query, at)
		switch {
		case tt.err == "" && (err != nil || v != tt.want):
			t.Errorf("%s: %v, %v; want %v", tt.query, v, err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: %v, %v; want an error with %q", tt.query, v, err, tt.err)
		}
	}
	if gotTime != "1700000000.500" {
		t.Errorf("time sent %q, want the evaluation time 1700000000.500", gotTime)
	}

	// A server that is gone, and one that does not answer in time.
	srv.Close()
	if _, err := c.Query(context.Background(), srv.URL, "one", at); err == nil || !strings.Contains(err.Error(), "connect") {
		t.Errorf("closed server: %v, want a connection error", err)
	}
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Query(ctx, hang.URL, "one", at); err == nil || !strings.Contains(err.Error(), "no answer") {
		t.Errorf("hanging server: %v, want no answer in time", err)
	}
}

// TestQueryRange: a range longer than MaxRangeSteps is asked for in
// pieces that meet without overlap; steps without a number are left
// out; several series are an error.
func TestQueryRange(t *testing.T) {
	var asked [][3]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.URL.Path != "/api/v1/query_range" {
			http.NotFound(w, r)
			return
		}
		asked = append(asked, [3]string{q.Get("start"), q.Get("end"), q.Get("step")})
		switch q.Get("query") {
		case "two":
			w.Write([]byte(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"1"},"values":[]},{"metric":{"a":"2"},"values":[]}]}}`))
		case "none":
			w.Write([]byte(`{"status":"success","data":{"resultType":"matrix","result":[]}}`))
		default:
			// One point at the start of each piece, and a NaN after it.
			start, _ := strconv.ParseFloat(q.Get("start"), 64)
			fmt.Fprintf(w, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[%g,"%g"],[%g,"NaN"]]}]}}`,
				start, start, start+10)
		}
	}))
	defer srv.Close()
	c := &Client{}
	start := time.Unix(1700000000, 0)
	end := start.Add((MaxRangeSteps + 5) * 10 * time.Second)
	times, values, err := c.QueryRange(context.Background(), srv.URL, "up", start, end, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	second := start.Add(MaxRangeSteps * 10 * time.Second)
	want := [][3]string{
		{"1700000000.000", fmt.Sprintf("%d.000", second.Add(-10*time.Second).Unix()), "10"},
		{fmt.Sprintf("%d.000", second.Unix()), fmt.Sprintf("%d.000", end.Unix()), "10"},
	}
	if fmt.Sprint(asked) != fmt.Sprint(want) {
		t.Errorf("asked %v, want %v", asked, want)
	}
	if len(times) != 2 || !times[0].Equal(start) || !times[1].Equal(second) ||
		values[0] != float64(start.Unix()) || values[1] != float64(second.Unix()) {
		t.Errorf("points %v %v, want one at the start of each piece", times, values)
	}
	if times, _, err := c.QueryRange(context.Background(), srv.URL, "none", start, start.Add(time.Minute), time.Second); err != nil || len(times) != 0 {
		t.Errorf("no series: %v, %v; want no points", times, err)
	}
	if _, _, err := c.QueryRange(context.Background(), srv.URL, "two", start, start.Add(time.Minute), time.Second); err == nil ||
		!strings.Contains(err.Error(), "returned 2 series") {
		t.Errorf("two series: %v, want an error", err)
	}
}
