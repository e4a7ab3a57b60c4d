package controller

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/causality"
	"github.com/pes-project/terraform-provider-pes/reconciler/history"
	"github.com/pes-project/terraform-provider-pes/reconciler/identity"
	"github.com/pes-project/terraform-provider-pes/reconciler/recommend"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// Recommendations (seed 003): an ended execution leaves a run record
// (recordRun, in the transaction of its end); runs can be imported; and
// an execution of a program type is warned when its node quantity is
// predicted to miss its criteria, or sized by the recommendation.

// ImportRuns records runs exported from elsewhere (CSV or JSON, read
// from r, which the handler bounds) as tenant's runs of programType, and
// answers how many it recorded and how many the tenant had already.
func (c *Controller) ImportRuns(ctx context.Context, tenant, programType string, r io.Reader) (api.RunsImport, error) {
	runs, err := recommend.ParseRuns(r, programType, c.clock.Now())
	if err != nil {
		return api.RunsImport{}, err
	}
	var out api.RunsImport
	err = c.store.Update(ctx, func(tx store.Tx) error {
		out = api.RunsImport{}
		for _, run := range runs {
			run.ID = newID()
			ok, err := tx.InsertRun(tenant, run)
			if err != nil {
				return err
			}
			if ok {
				out.Imported++
			} else {
				out.Skipped++
			}
		}
		return nil
	})
	return out, err
}

// advice is what an execution's creation learned from its program
// type's runs: the recommendation, and the warnings to record.
type advice struct {
	rec      *api.Recommendation
	warnings []warning
}

type warning struct {
	kind, message string
}

// advise reads r (the transaction that records the execution) and
// recommends for an execution of in.ProgramType over size items
// on group g: with use_recommendation, the quantity to start with (400
// without enough history); otherwise the warnings of a node quantity
// predicted to miss the deadline or exceed max_node_hours.
func advise(ctx context.Context, r store.Reader, g api.Group, in api.ExecutionCreate, label string, size int, now time.Time) (advice, error) {
	var a advice
	if in.ProgramType == "" || (!in.UseRecommendation && in.Deadline == nil && in.MaxNodeHours == 0) {
		return a, nil
	}
	q := api.RecommendationQuery{InputSize: float64(size), MaxNodeHours: in.MaxNodeHours, MaxNodes: g.MaxQuantity}
	var left time.Duration
	if in.Deadline != nil {
		left = in.Deadline.Sub(now)
		// A deadline already past is one nothing meets.
		q.Deadline = max(left, time.Nanosecond)
	}
	rec, fit, err := history.Recommend(ctx, r, g.Tenant, in.ProgramType, q)
	if err != nil {
		return a, err
	}
	if in.UseRecommendation {
		if fit == nil {
			return a, api.Invalid("use_recommendation", "%s", rec.Explanation)
		}
		a.rec = &rec
		return a, nil
	}
	if fit == nil {
		return a, nil // nothing to predict from: no warning
	}
	n := g.DesiredQuantity
	if in.MaxParallel > 0 {
		n = min(n, in.MaxParallel)
	}
	n = max(n, 1)
	wall, nh := fit.Predict(q.InputSize, n)
	if in.Deadline != nil && wall.Value > left.Seconds() {
		a.warnings = append(a.warnings, warning{api.WarningDeadline,
			causality.ExecutionWarning(label, api.WarningDeadline, n, wall, nh, left, 0, rec)})
	}
	if in.MaxNodeHours > 0 && nh.Value > in.MaxNodeHours {
		a.warnings = append(a.warnings, warning{api.WarningMaxNodeHours,
			causality.ExecutionWarning(label, api.WarningMaxNodeHours, n, wall, nh, left, in.MaxNodeHours, rec)})
	}
	if len(a.warnings) > 0 {
		a.rec = &rec
	}
	return a, nil
}

// recordWarnings records each warning as an event of the group and on
// the execution.
func (w *work) recordWarnings(x *api.Execution, ws []warning) error {
	for _, wa := range ws {
		e, err := w.newEvent(api.Event{Type: api.EventExecutionWarning, Source: identity.Source(w.ctx, x.Actor),
			Status: api.EventApplied, Priority: api.DefaultInstructionPriority, Reason: wa.message})
		if err != nil {
			return fmt.Errorf("warning of execution %s: %w", x.Label, err)
		}
		x.Warnings = append(x.Warnings, api.ExecutionWarning{Kind: wa.kind, Message: wa.message, Event: e.Label})
	}
	return nil
}
