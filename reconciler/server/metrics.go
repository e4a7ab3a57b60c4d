package server

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"

	"github.com/pes-project/terraform-provider-pes/reconciler/buildinfo"
	"github.com/pes-project/terraform-provider-pes/reconciler/controller"
	"github.com/pes-project/terraform-provider-pes/reconciler/identity"
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
var latencyBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// httpMetrics counts requests and their latency by route and status code,
// on the server's own registry with the Go and process collectors and
// pes_build_info. Routes are ServeMux patterns, so the label set is
// bounded whatever paths clients send.
type httpMetrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

func newHTTPMetrics() *httpMetrics {
	m := &httpMetrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pes_http_requests_total",
			Help: "HTTP requests answered, by route and status code."}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "pes_http_request_duration_seconds",
			Help: "Time to answer HTTP requests, by route and status code.", Buckets: latencyBuckets}, []string{"route", "code"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "pes_http_requests_in_flight",
			Help: "HTTP requests being answered."}),
	}
	bi := buildinfo.Get()
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "pes_build_info",
		Help: "Always 1; the labels say which build of pesd is running."}, []string{"version", "revision", "goversion"})
	build.WithLabelValues(bi.Version, bi.Commit, bi.GoVersion).Set(1)
	m.reg.MustRegister(m.requests, m.duration, m.inFlight, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *httpMetrics) start() { m.inFlight.Inc() }

func (m *httpMetrics) observe(route string, code int, d time.Duration) {
	m.inFlight.Dec()
	c := strconv.Itoa(code)
	m.requests.WithLabelValues(route, c).Inc()
	m.duration.WithLabelValues(route, c).Observe(d.Seconds())
}

// reserved are the prefixes of the server's own series, which a
// Service's gauge may not take.
var reserved = []string{"pes_http_", "pes_build_info", "go_", "process_"}

// gaugeCollector is a Service's gauges of one scrape, as a collector:
// samples sharing a name form one family, typed and helped by the first.
type gaugeCollector struct {
	families map[string][]Gauge
}

// newGaugeCollector checks gauges: a sample with a name or label name
// Prometheus would reject, or a name of the server's own, is left out
// rather than breaking the whole scrape; the error says which.
func newGaugeCollector(gauges []Gauge) (*gaugeCollector, error) {
	var bad []string
	c := &gaugeCollector{families: map[string][]Gauge{}}
	for _, g := range gauges {
		if !validMetricName(g.Name) || slices.ContainsFunc(reserved, func(p string) bool { return strings.HasPrefix(g.Name, p) }) {
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
			c.families[g.Name] = append(c.families[g.Name], g)
		}
	}
	if len(bad) > 0 {
		return c, fmt.Errorf("skipped gauges with invalid names: %s", strings.Join(bad, ", "))
	}
	return c, nil
}

// Describe sends nothing: the families change from scrape to scrape (an
// unchecked collector).
func (c *gaugeCollector) Describe(chan<- *prometheus.Desc) {}

func (c *gaugeCollector) Collect(ch chan<- prometheus.Metric) {
	for _, name := range slices.Sorted(maps.Keys(c.families)) {
		samples := c.families[name]
		typ := prometheus.GaugeValue
		if samples[0].Counter {
			typ = prometheus.CounterValue
		}
		for _, g := range samples {
			names := slices.Sorted(maps.Keys(g.Labels))
			values := make([]string, len(names))
			for i, n := range names {
				values[i] = g.Labels[n]
			}
			desc := prometheus.NewDesc(name, samples[0].Help, names, nil)
			m, err := prometheus.NewConstMetric(desc, typ, g.Value, values...)
			if err != nil {
				ch <- prometheus.NewInvalidMetric(desc, err)
				continue
			}
			ch <- m
		}
	}
}

// writeGauges writes gauges in the Prometheus text format, as /metrics
// does, leaving out (and reporting) the ones newGaugeCollector rejects.
func writeGauges(w io.Writer, gauges []Gauge) error {
	c, err := newGaugeCollector(gauges)
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mfs, gerr := reg.Gather()
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if eerr := enc.Encode(mf); eerr != nil {
			return eerr
		}
	}
	if err == nil {
		err = gerr
	}
	return err
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

// handleMetrics serves /metrics: the server's registry and the Service's
// gauges of this scrape, in the format the scraper asks for (the text
// format by default).
func (s *server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	gatherers := prometheus.Gatherers{s.metrics.reg}
	if gauges, ok := s.gauges(r.Context()); ok {
		p, authed := identity.From(r.Context())
		switch {
		case !authed:
			gauges = withoutGroups(gauges)
		case p.Tenant != "":
			gauges = s.ofTenant(r.Context(), p.Tenant, gauges)
		}
		c, err := newGaugeCollector(gauges)
		if err != nil {
			s.log.WarnContext(r.Context(), "metrics: "+err.Error())
		}
		reg := prometheus.NewRegistry()
		reg.MustRegister(c)
		gatherers = append(gatherers, reg)
	}
	promhttp.HandlerFor(gatherers, promhttp.HandlerOpts{
		ErrorLog:      slogPrinter{s.log},
		ErrorHandling: promhttp.ContinueOnError,
	}).ServeHTTP(w, r)
}

// slogPrinter logs promhttp's errors.
type slogPrinter struct {
	log interface{ Warn(string, ...any) }
}

func (p slogPrinter) Println(v ...any) { p.log.Warn("metrics: " + fmt.Sprint(v...)) }

// withoutGroups drops the series that name a group: served without a
// token (--metrics-public), /metrics gives aggregates only, and group
// names and ids are the API's to give, with a token.
func withoutGroups(gauges []Gauge) []Gauge {
	out := gauges[:0:0]
	for _, g := range gauges {
		if _, named := g.Labels["group"]; named {
			continue
		}
		if _, id := g.Labels["group_id"]; id {
			continue
		}
		out = append(out, g)
	}
	return out
}

// ofTenant keeps the series of tenant's groups and the aggregates; a
// group's series are read as its group_id label says.
func (s *server) ofTenant(ctx context.Context, tenant string, gauges []Gauge) []Gauge {
	owned := map[string]bool{}
	out := gauges[:0:0]
	for _, g := range gauges {
		id, named := g.Labels["group_id"]
		if !named {
			if _, byName := g.Labels["group"]; byName {
				continue // a group's, but which one is unknown
			}
			out = append(out, g)
			continue
		}
		mine, seen := owned[id]
		if !seen {
			_, err := s.groupID(ctx, tenant, id, true)
			mine = err == nil
			owned[id] = mine
		}
		if mine {
			out = append(out, g)
		}
	}
	return out
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
			gauges = append(statsGauges(st), s.costGauges(ctx, st.Active)...)
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

// costGauges are the node time and money of each active group whose
// quantities are exported (so they are as bounded), counters since the
// group was created. A group with no billing has node time and no cost.
func (s *server) costGauges(ctx context.Context, groups []controller.GroupQuantities) []Gauge {
	var out []Gauge
	now := s.clock.Now()
	for _, q := range groups {
		secs, micros, currency, err := s.hist.TotalCost(ctx, q.ID, now)
		if err != nil {
			s.log.WarnContext(ctx, "metrics: group cost unavailable", "group", q.ID, "err", err)
			continue
		}
		l := map[string]string{"group": q.Name, "group_id": q.ID}
		out = append(out, Gauge{Name: "pes_group_node_seconds_total", Counter: true, Labels: l, Value: float64(secs),
			Help: "Node time the group has been billed for since it was created, in node-seconds (from launch, whole increments)."})
		if currency != "" {
			out = append(out, Gauge{Name: "pes_group_cost_total", Counter: true, Value: float64(micros) / 1e6,
				Labels: map[string]string{"group": q.Name, "group_id": q.ID, "currency": currency},
				Help:   "What the group's node time has cost since it was created, in its billing currency."})
		}
	}
	return out
}
