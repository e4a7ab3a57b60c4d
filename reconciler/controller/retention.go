package controller

import (
	"context"
	"fmt"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// purgeEvery is how often the retention purge runs.
const purgeEvery = time.Hour

// purgeIfDue deletes the history of groups deleted more than Retention
// ago, at most once per purgeEvery.
func (c *Controller) purgeIfDue(ctx context.Context, now time.Time) error {
	c.mu.Lock()
	due := c.purgeAt.IsZero() || now.Sub(c.purgeAt) >= purgeEvery
	if due {
		c.purgeAt = now
	}
	c.mu.Unlock()
	if !due {
		return nil
	}
	n, err := c.store.PurgeBefore(ctx, now.Add(-c.opts.Retention))
	if err != nil {
		return err
	}
	if n > 0 {
		c.log.Info("purged the history of deleted groups", "groups", n, "retention", c.opts.Retention)
	}
	// Samples older than the backtest history (or the longest window)
	// are of no use: drop them (PushMetrics prunes its group; this
	// catches driver and metric source samples).
	cutoff := now.Add(-c.sampleHistory())
	c.windows.Prune(now)
	c.mu.Lock()
	ids := make([]string, 0, len(c.groups))
	for id := range c.groups {
		ids = append(ids, id)
	}
	c.mu.Unlock()
	return c.update(ctx, func(tx store.Tx) error {
		for _, id := range ids {
			if err := tx.DeleteSamplesBefore(id, cutoff); err != nil {
				return fmt.Errorf("prune samples of group %s: %w", id, err)
			}
		}
		return nil
	})
}
