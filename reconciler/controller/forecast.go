package controller

import (
	"context"
	"fmt"
	"io"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/causality"
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
	if !governed(g.Predictive) {
		f.Reason = causality.ForecastNotConfigured
		return f, nil
	}
	f.Mode, f.Confidence, f.History = g.Predictive.Mode, g.Predictive.Confidence, g.Predictive.History
	if c.opts.Governor == nil {
		f.Reason = causality.NoForecaster
		return f, nil
	}
	return c.opts.Governor.Forecast(ctx, g)
}

// ImportHistory records a quantity history exported from elsewhere (CSV or
// JSON, see governor.ImportHistory) as the group's past, so the group is
// governed from it at once instead of after min_history of its own. It
// returns how many points were recorded: only those before the group's own
// history, so importing a file twice records it once.
func (c *Controller) ImportHistory(ctx context.Context, groupID string, r io.Reader) (int, error) {
	// Answer an unknown or deleted group before reading a large body.
	g, err := c.store.GetGroup(ctx, groupID)
	if err != nil {
		return 0, fmt.Errorf("group %s: %w", groupID, err)
	}
	if g.Status == api.GroupDeleted {
		return 0, errDeleted(groupID)
	}
	imp, ok := c.opts.Governor.(HistoryImporter)
	if !ok {
		return 0, &api.Error{Code: api.CodeConflict,
			Message: "this pesd has no forecaster to import history into; start it with predictive governing"}
	}
	// No group lock: the import writes only points older than anything
	// the controller records, in a transaction of its own that checks
	// the group again.
	return imp.ImportHistory(ctx, c.store, groupID, r)
}
