package api

import (
	"fmt"
	"net/url"
	"strings"
)

// MetricSource is a metric of a group that pesd reads itself, at every
// evaluation pass, rather than one pushed to it: conditions and targets use
// its name like any metric.
type MetricSource struct {
	Name       string            `json:"name"`
	Prometheus *PrometheusSource `json:"prometheus,omitempty"`
}

// PrometheusSource is an instant query against a Prometheus HTTP API
// (GET /api/v1/query). The query must return one series or a scalar.
type PrometheusSource struct {
	// Address is the Prometheus server ("http://prometheus:9090"); empty
	// means pesd's --prometheus-url.
	Address string `json:"address,omitempty"`
	Query   string `json:"query"`
}

// MaxMetricSources bounds a group's metric sources: each is a query at
// every evaluation pass.
const MaxMetricSources = 20

// MaxQueryLength bounds a PromQL query.
const MaxQueryLength = 4096

// validateMetricSources checks a group's metric sources: named like
// metrics, each once, each with a Prometheus query that parses; an
// address, when given, an http(s) URL.
func validateMetricSources(srcs []MetricSource) error {
	if len(srcs) > MaxMetricSources {
		return Invalid("metric_sources", "must hold at most %d sources; got %d", MaxMetricSources, len(srcs))
	}
	seen := make(map[string]bool, len(srcs))
	for i, s := range srcs {
		field := fmt.Sprintf("metric_sources[%d]", i)
		if err := validateMetricName(func() string { return field + ".name" }, s.Name); err != nil {
			return err
		}
		if seen[s.Name] {
			return Invalid(field+".name", "%q is named twice: each source is one metric", s.Name)
		}
		seen[s.Name] = true
		p := s.Prometheus
		if p == nil {
			return Invalid(field+".prometheus", "is required: the source's Prometheus query ({ query = \"sum(rate(http_requests_total[1m]))\" })")
		}
		if strings.TrimSpace(p.Query) == "" {
			return Invalid(field+".prometheus.query", "is required: a PromQL expression returning one series or a scalar")
		}
		if len(p.Query) > MaxQueryLength {
			return Invalid(field+".prometheus.query", "must be at most %d characters; got %d", MaxQueryLength, len(p.Query))
		}
		if err := checkPromQL(p.Query); err != nil {
			return Invalid(field+".prometheus.query", "%v", err)
		}
		if p.Address != "" {
			if err := ValidatePrometheusURL(p.Address); err != nil {
				return Invalid(field+".prometheus.address", "%v", err)
			}
		}
	}
	return nil
}

// ValidatePrometheusURL checks a Prometheus server address: an http or
// https URL with a host (pesd's --prometheus-url is checked the same way).
func ValidatePrometheusURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("must be an http(s) URL such as http://prometheus:9090; got %q", s)
	}
	return nil
}

// cloneSources copies a source list so a patch or a clone shares nothing.
func cloneSources(srcs []MetricSource) []MetricSource {
	if srcs == nil {
		return nil
	}
	out := make([]MetricSource, len(srcs))
	for i, s := range srcs {
		if s.Prometheus != nil {
			p := *s.Prometheus
			s.Prometheus = &p
		}
		out[i] = s
	}
	return out
}
