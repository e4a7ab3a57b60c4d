package api

import (
	"errors"
	"fmt"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
)

// checkPromQL parses a metric source's query with Prometheus's own parser,
// so pesd and `terraform plan` reject what the server would, before any
// evaluation pass runs it. The error names the line and column the parser
// stopped at. The query must also have the type an instant query can turn
// into one value: a vector (one series, once aggregated) or a scalar.
func checkPromQL(query string) error {
	expr, err := parser.ParseExpr(query)
	if err != nil {
		var errs parser.ParseErrors
		if errors.As(err, &errs) && len(errs) > 0 {
			e := errs[0]
			if line, col, ok := strings.Cut(e.PositionRange.StartPosInput(query, 0), ":"); ok {
				return fmt.Errorf("is not valid PromQL: line %s, column %s: %v", line, col, e.Err)
			}
			return fmt.Errorf("is not valid PromQL: %v", e.Err)
		}
		return fmt.Errorf("is not valid PromQL: %v", err)
	}
	switch t := expr.Type(); t {
	case parser.ValueTypeVector, parser.ValueTypeScalar:
		return nil
	case parser.ValueTypeMatrix:
		return errors.New("is a range vector, which an instant query cannot turn into one value: " +
			"reduce it over time, e.g. rate(x[1m]) or avg_over_time(x[5m])")
	default:
		return fmt.Errorf("is a %s; it must be a vector of one series (aggregate it, e.g. with sum()) or a scalar", parser.DocumentedType(t))
	}
}
