package controller

import (
	"context"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// Forecast returns the group's forecast from the Governor. Without
// predictive configuration, or without a Governor, it says why there is
// none rather than failing.
func (c *Controller) Forecast(ctx context.Context, groupID string) (api.Forecast, error) {
	g, err := c.store.GetGroup(ctx, groupID)
	if err != nil {
		return api.Forecast{}, err
	}
	f := api.Forecast{GroupID: g.ID, Mode: api.PredictiveOff, Intervals: []api.ForecastInterval{}}
	if g.Predictive == nil || g.Predictive.Mode == "" || g.Predictive.Mode == api.PredictiveOff {
		f.Reason = "predictive governing is not configured"
		return f, nil
	}
	f.Mode, f.Confidence, f.History = g.Predictive.Mode, g.Predictive.Confidence, g.Predictive.History
	if c.opts.Governor == nil {
		f.Reason = "predictive governing is configured but this pesd has no forecaster"
		return f, nil
	}
	return c.opts.Governor.Forecast(ctx, g)
}
