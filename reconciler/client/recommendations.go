package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// Recommend asks for the recommended configuration of the next execution
// of a program type, from its prior runs.
func (c *Client) Recommend(ctx context.Context, programType string, q api.RecommendationQuery) (api.Recommendation, error) {
	v := url.Values{}
	for k, s := range q.Values() {
		v.Set(k, s)
	}
	var out api.Recommendation
	err := c.do(ctx, call{method: http.MethodGet, path: "/v1/program-types/" + seg(programType) + "/recommendation",
		query: v, out: &out, idempotent: true})
	return out, err
}

// ListRuns reads every run record of a program type, oldest end first.
func (c *Client) ListRuns(ctx context.Context, programType string) ([]api.Run, error) {
	return listEvery[api.Run](ctx, c, "/v1/program-types/"+seg(programType)+"/runs")
}

// ImportRuns sends runs recorded elsewhere (CSV with a header line, or a
// JSON array) as a program type's.
func (c *Client) ImportRuns(ctx context.Context, programType string, r io.Reader) (api.RunsImport, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return api.RunsImport{}, fmt.Errorf("import runs of %s: read: %w", programType, err)
	}
	var out api.RunsImport
	err = c.do(ctx, call{method: http.MethodPost, path: "/v1/program-types/" + seg(programType) + "/runs",
		raw: raw, contentType: csvOrJSON(raw), out: &out, idempotent: true})
	return out, err
}
