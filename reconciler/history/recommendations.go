package history

import (
	"context"
	"fmt"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/causality"
	"github.com/pes-project/terraform-provider-pes/reconciler/recommend"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// FitRuns is how many of a program type's runs a model is fit to: the
// ones that ended last, so a program that changed is judged by its
// recent runs.
const FitRuns = 200

// Recommend answers GET /v1/program-types/{type}/recommendation for
// tenant (every tenant's runs when empty: an admin's).
func (h *Reader) Recommend(ctx context.Context, tenant, programType string, q api.RecommendationQuery) (api.Recommendation, error) {
	rec, _, err := Recommend(ctx, h.r, tenant, programType, q)
	return rec, err
}

// ListRuns pages a program type's runs of tenant, oldest end first.
func (h *Reader) ListRuns(ctx context.Context, tenant, programType string, p store.Page) ([]api.Run, string, error) {
	return h.r.ListRuns(ctx, tenant, programType, p)
}

// Recommend fits the program type's recent runs of tenant and recommends
// for q, with its explanation; the fit (nil without enough history)
// predicts other quantities, for the warnings of an execution's creation.
func Recommend(ctx context.Context, r store.Reader, tenant, programType string, q api.RecommendationQuery) (api.Recommendation, *recommend.Fitted, error) {
	runs, err := r.RecentRuns(ctx, tenant, programType, FitRuns)
	if err != nil {
		return api.Recommendation{}, nil, fmt.Errorf("runs of %s: %w", programType, err)
	}
	rec, fit := recommend.Recommend(programType, runs, q)
	rec.Explanation = causality.Recommendation(rec)
	return rec, fit, nil
}
