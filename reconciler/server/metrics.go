package server

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/controller"
)

// MetricsSource is implemented by a Service that has gauges (and
// counters) of its own to add to /metrics; the controller is a
// StatsSource instead. The server asks for them on every scrape; a
// Service that implements neither only gets the HTTP metrics.
type MetricsSource interface {
	Gauges(ctx context.Context) ([]Gauge, error)
}

// Gauge is one sample of a gauge. Samples sharing a Name form one metric
// family and should share Help (and Counter).
type Gauge struct {
	Name   string // e.g. pes_group_desired_quantity
	Help   string
	Labels map[string]string
	Value  float64
	// Counter types the family as a counter (a value that only grows,
	// named ..._total) instead of a gauge.
	Counter bool
}

// latencyBuckets are the upper bounds, in seconds, of the request latency
// histogram.
var latencyBuckets = [...]float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

type seriesKey struct {
	route string // the ServeMux pattern, or "unmatched"
	code  int
}

type histogram struct {
	counts [len(latencyBuckets) + 1]uint64 // the last is +Inf
	sum    float64
	total  uint64
}

// httpMetrics counts requests and their latency by route and status code.
// Routes are ServeMux patterns, so the label set is bounded whatever paths
// clients send.
type httpMetrics struct {
	mu       sync.Mutex
	series   map[seriesKey]*histogram
	inFlight int64
}

func newHTTPMetrics() *httpMetrics {
	return &httpMetrics{series: map[seriesKey]*histogram{}}
}

func (m *httpMetrics) start() {
	m.mu.Lock()
	m.inFlight++
	m.mu.Unlock()
}

func (m *httpMetrics) observe(route string, code int, d time.Duration) {
	sec := d.Seconds()
	i, _ := slices.BinarySearch(latencyBuckets[:], sec)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inFlight--
	k := seriesKey{route, code}
	h := m.series[k]
	if h == nil {
		h = &histogram{}
		m.series[k] = h
	}
	h.counts[i]++
	h.sum += sec
	h.total++
}

// write writes the Prometheus text exposition format (version 0.0.4).
func (m *httpMetrics) write(w io.Writer) {
	m.mu.Lock()
	keys := slices.SortedFunc(maps.Keys(m.series), func(a, b seriesKey) int {
		if c := strings.Compare(a.route, b.route); c != 0 {
			return c
		}
		return a.code - b.code
	})
	hs := make([]histogram, len(keys))
	for i, k := range keys {
		hs[i] = *m.series[k]
	}
	inFlight := m.inFlight
	m.mu.Unlock()

	fmt.Fprintf(w, "# HELP pes_http_requests_total HTTP requests answered, by route and status code.\n")
	fmt.Fprintf(w, "# TYPE pes_http_requests_total counter\n")
	for i, k := range keys {
		fmt.Fprintf(w, "pes_http_requests_total{route=%s,code=\"%d\"} %d\n", quoteLabel(k.route), k.code, hs[i].total)
	}
	fmt.Fprintf(w, "# HELP pes_http_request_duration_seconds Time to answer HTTP requests, by route and status code.\n")
	fmt.Fprintf(w, "# TYPE pes_http_request_duration_seconds histogram\n")
	for i, k := range keys {
		labels := fmt.Sprintf("route=%s,code=\"%d\"", quoteLabel(k.route), k.code)
		var cum uint64
		for b, le := range latencyBuckets {
			cum += hs[i].counts[b]
			fmt.Fprintf(w, "pes_http_request_duration_seconds_bucket{%s,le=\"%s\"} %d\n", labels, formatFloat(le), cum)
		}
		fmt.Fprintf(w, "pes_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %d\n", labels, hs[i].total)
		fmt.Fprintf(w, "pes_http_request_duration_seconds_sum{%s} %s\n", labels, formatFloat(hs[i].sum))
		fmt.Fprintf(w, "pes_http_request_duration_seconds_count{%s} %d\n", labels, hs[i].total)
	}
	fmt.Fprintf(w, "# HELP pes_http_requests_in_flight HTTP requests being answered.\n")
	fmt.Fprintf(w, "# TYPE pes_http_requests_in_flight gauge\n")
	fmt.Fprintf(w, "pes_http_requests_in_flight %d\n", inFlight)
}

// writeGauges writes the Service's gauges, grouped by name. A sample with
// a name or label name Prometheus would reject is skipped rather than
// breaking the whole scrape; the error says which.
func writeGauges(w io.Writer, gauges []Gauge) error {
	var bad []string
	byName := map[string][]Gauge{}
	for _, g := range gauges {
		if !validMetricName(g.Name) || strings.HasPrefix(g.Name, "pes_http_") {
			bad = append(bad, strconv.Quote(g.Name))
			continue
		}
		ok := true
		for l := range g.Labels {
			if !validLabelName(l) {
				bad = append(bad, fmt.Sprintf("%s label %q", g.Name, l))
				ok = false
			}
		}
		if ok {
			byName[g.Name] = append(byName[g.Name], g)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		samples := byName[name]
		if help := samples[0].Help; help != "" {
			fmt.Fprintf(w, "# HELP %s %s\n", name, escapeHelp(help))
		}
		typ := "gauge"
		if samples[0].Counter {
			typ = "counter"
		}
		fmt.Fprintf(w, "# TYPE %s %s\n", name, typ)
		for _, g := range samples {
			fmt.Fprintf(w, "%s%s %s\n", name, formatLabels(g.Labels), formatFloat(g.Value))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("skipped gauges with invalid names: %s", strings.Join(bad, ", "))
	}
	return nil
}

func formatLabels(l map[string]string) string {
	if len(l) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range slices.Sorted(maps.Keys(l)) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(quoteLabel(l[k]))
	}
	b.WriteByte('}')
	return b.String()
}

// quoteLabel quotes a label value as the text format wants: only \, " and
// newline are escaped.
func quoteLabel(v string) string {
	return `"` + escape(v, true) + `"`
}

// escapeHelp escapes a HELP text: \ and newline.
func escapeHelp(v string) string { return escape(v, false) }

func escape(v string, quote bool) string {
	if !strings.ContainsAny(v, "\\\n\"") {
		return v
	}
	var b strings.Builder
	for _, c := range v {
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '"' && quote:
			b.WriteString(`\"`)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func validMetricName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func validLabelName(s string) bool {
	return validMetricName(s) && !strings.Contains(s, ":") && !strings.HasPrefix(s, "__")
}

// handleMetrics serves /metrics.
func (s *server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	var b strings.Builder
	s.metrics.write(&b)
	if gauges, ok := s.gauges(r.Context()); ok {
		if err := writeGauges(&b, gauges); err != nil {
			s.log.WarnContext(r.Context(), "metrics: "+err.Error())
		}
	}
	io.WriteString(w, b.String())
}

// gauges returns the Service's gauges: its Stats rendered, or its own;
// ok is false when it has neither. A Service that cannot answer is
// logged and gets none this scrape.
func (s *server) gauges(ctx context.Context) (gauges []Gauge, ok bool) {
	var err error
	switch src := s.svc.(type) {
	case StatsSource:
		var st controller.Stats
		if st, err = src.Stats(ctx); err == nil {
			gauges = statsGauges(st)
		}
	case MetricsSource:
		gauges, err = src.Gauges(ctx)
	default:
		return nil, false
	}
	if err != nil {
		s.log.WarnContext(ctx, "metrics: gauges unavailable", "err", err)
	}
	return gauges, true
}
