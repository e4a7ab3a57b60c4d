package prometheus

import (
	"context"
	"net/http"
	"net/http/httptest"
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
