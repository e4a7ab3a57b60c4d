package api

import "testing"

// A metric source's query is parsed by Prometheus's parser: the 400 names
// the query's field and where the parser stopped.
func TestMetricSourceQueryErrors(t *testing.T) {
	tests := []struct {
		name, query, message string
	}{
		{"unclosed", `sum(rate(x[1m])`, "is not valid PromQL: line 1, column 16: unclosed left parenthesis"},
		{"braces", `up{job="a"`, "line 1, column 11: unexpected end of input inside braces"},
		{"argument type", `rate(x)`, `line 1, column 6: expected type range vector in call to function "rate", got instant vector`},
		{"second line", "sum(x)\n  by (", "line 2, column 7: unclosed left parenthesis"},
		{"two words", `foo bar`, `line 1, column 5: unexpected identifier "bar"`},
		{"range vector", `x[5m]`, "is a range vector"},
		{"string", `"a"`, "is a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base()
			cfg.MetricSources = []MetricSource{
				{Name: "ok", Prometheus: &PrometheusSource{Query: "up"}},
				{Name: "bad", Prometheus: &PrometheusSource{Query: tt.query}},
			}
			assertInvalid(t, ResolveGroupConfig(&cfg), "metric_sources[1].prometheus.query", tt.message)
		})
	}
}

func TestMetricSourceQueryAccepts(t *testing.T) {
	for _, q := range []string{
		`sum(rate(http_requests_total{job="web"}[1m]))`,
		`histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))`,
		`avg(node_load1) / count(node_cpu_seconds_total{mode="idle"})`,
		`1 + 1`,
		`scalar(up)`,
		`up @ start()`,
	} {
		cfg := base()
		cfg.MetricSources = []MetricSource{{Name: "m", Prometheus: &PrometheusSource{Query: q}}}
		if err := ResolveGroupConfig(&cfg); err != nil {
			t.Errorf("%q: %v", q, err)
		}
	}
}
