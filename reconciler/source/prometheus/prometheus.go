// Package prometheus runs the instant queries of groups' Prometheus metric
// sources against the Prometheus HTTP API (GET /api/v1/query), with plain
// net/http: one value per query, or an error that says what went wrong in
// words a user can act on.
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
	u, err := url.Parse(strings.TrimRight(address, "/") + "/api/v1/query")
	if err != nil {
		return 0, fmt.Errorf("address %q: %w", address, err)
	}
	q := url.Values{"query": {query}}
	if !at.IsZero() {
		q.Set("time", strconv.FormatFloat(float64(at.UnixNano())/1e9, 'f', 3, 64))
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, err
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, fmt.Errorf("no answer from %s in time", address)
		}
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return 0, fmt.Errorf("read the answer of %s: %w", address, err)
	}
	if len(body) > maxBody {
		return 0, fmt.Errorf("the answer of %s is over %d bytes", address, maxBody)
	}
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		return 0, fmt.Errorf("%s answered %s, not the Prometheus API", address, resp.Status)
	}
	if a.Status != "success" {
		return 0, fmt.Errorf("prometheus %s: %s", a.ErrorType, a.Error)
	}
	return value(a.Data.ResultType, a.Data.Result)
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
