// Package prometheus runs the queries of groups' Prometheus metric sources
// against the Prometheus HTTP API, with plain net/http: instant queries
// (GET /api/v1/query), one value each, for evaluations, and range queries
// (GET /api/v1/query_range) for backtests; or an error that says what
// went wrong in words a user can act on.
package prometheus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxBody bounds an answer: a query that returns thousands of series is a
// mistake, not a value.
const maxBody = 1 << 20

// Client queries Prometheus servers.
type Client struct {
	HTTP *http.Client // default: http.DefaultClient
}

// answer is the envelope of /api/v1/query.
type answer struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

// Query runs query at time at against the server at address and returns
// its one value. An empty result, several series, a non-numeric value or
// a failure of the server or the network is an error.
func (c *Client) Query(ctx context.Context, address, query string, at time.Time) (float64, error) {
	q := url.Values{"query": {query}}
	if !at.IsZero() {
		q.Set("time", unixSeconds(at))
	}
	a, err := c.get(ctx, address, "/api/v1/query", q)
	if err != nil {
		return 0, err
	}
	return value(a.Data.ResultType, a.Data.Result)
}

// MaxRangeSteps is how many steps one range query asks for: Prometheus
// refuses more than 11,000 points a series, so longer ranges are asked
// for in pieces.
const MaxRangeSteps = 10_000

// QueryRange runs query at start, start+step, … up to end (inclusive)
// against the server at address (GET /api/v1/query_range), as the instant
// queries of a metric source at each evaluation would, and returns the
// times and values of its one series in time order. Times where the
// query had no value, or a value that is not a number, are left out; no
// series at all is no points. Several series, or a failure of the server
// or the network, is an error.
func (c *Client) QueryRange(ctx context.Context, address, query string, start, end time.Time, step time.Duration) ([]time.Time, []float64, error) {
	if step <= 0 {
		return nil, nil, fmt.Errorf("range query step %s: must be positive", step)
	}
	var times []time.Time
	var values []float64
	for from := start; !from.After(end); from = from.Add(MaxRangeSteps * step) {
		to := from.Add((MaxRangeSteps - 1) * step)
		if to.After(end) {
			to = end
		}
		a, err := c.get(ctx, address, "/api/v1/query_range", url.Values{"query": {query},
			"start": {unixSeconds(from)}, "end": {unixSeconds(to)}, "step": {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)}})
		if err != nil {
			return nil, nil, err
		}
		if times, values, err = series(a.Data.ResultType, a.Data.Result, times, values); err != nil {
			return nil, nil, err
		}
	}
	return times, values, nil
}

func unixSeconds(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixNano())/1e9, 'f', 3, 64)
}

// get asks the server at address for path with the query q and returns
// its successful answer.
func (c *Client) get(ctx context.Context, address, path string, q url.Values) (answer, error) {
	var a answer
	u, err := url.Parse(strings.TrimRight(address, "/") + path)
	if err != nil {
		return a, fmt.Errorf("address %q: %w", address, err)
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return a, err
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return a, fmt.Errorf("no answer from %s in time", address)
		}
		return a, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return a, fmt.Errorf("read the answer of %s: %w", address, err)
	}
	if len(body) > maxBody {
		return a, fmt.Errorf("the answer of %s is over %d bytes", address, maxBody)
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return a, fmt.Errorf("%s answered %s, not the Prometheus API", address, resp.Status)
	}
	if a.Status != "success" {
		return a, fmt.Errorf("prometheus %s: %s", a.ErrorType, a.Error)
	}
	return a, nil
}

// series appends the points of a range result's one series to times and
// values.
func series(typ string, raw json.RawMessage, times []time.Time, values []float64) ([]time.Time, []float64, error) {
	if typ != "matrix" {
		return nil, nil, fmt.Errorf("the range query returned a %s, not a matrix", typ)
	}
	var m []struct {
		Metric map[string]string `json:"metric"`
		Values [][2]any          `json:"values"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, nil, fmt.Errorf("a matrix result that does not parse: %w", err)
	}
	switch len(m) {
	case 0:
		return times, values, nil
	case 1:
	default:
		return nil, nil, fmt.Errorf("the query returned %d series; it must return one (aggregate it, e.g. with sum())", len(m))
	}
	for _, p := range m[0].Values {
		sec, ok := p[0].(float64)
		if !ok {
			return nil, nil, fmt.Errorf("a time %v that is not a number", p[0])
		}
		v, err := number(p[1])
		if err != nil {
			continue // no usable value at that step: as an instant query that failed
		}
		times = append(times, time.UnixMilli(int64(math.Round(sec*1000))).UTC())
		values = append(values, v)
	}
	return times, values, nil
}

// value reads the one value of a result: a scalar, or a vector of exactly
// one sample.
func value(typ string, raw json.RawMessage) (float64, error) {
	switch typ {
	case "scalar":
		var p [2]any
		if err := json.Unmarshal(raw, &p); err != nil {
			return 0, fmt.Errorf("a scalar result that does not parse: %w", err)
		}
		return number(p[1])
	case "vector":
		var v []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return 0, fmt.Errorf("a vector result that does not parse: %w", err)
		}
		switch len(v) {
		case 0:
			return 0, errors.New("the query returned no series")
		case 1:
			return number(v[0].Value[1])
		}
		return 0, fmt.Errorf("the query returned %d series; it must return one (aggregate it, e.g. with sum())", len(v))
	}
	return 0, fmt.Errorf("the query returned a %s; it must return one series or a scalar", typ)
}

func number(x any) (float64, error) {
	s, ok := x.(string)
	if !ok {
		return 0, fmt.Errorf("a value %v that is not a number", x)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("a value %q that is not a number", s)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("the value %s", s)
	}
	return f, nil
}
