package controller

import (
	"context"
	"errors"
)

// Ready reports whether the controller has finished starting: nil once
// its first reconcile pass has run, so the nodes recorded before a restart
// have been observed and re-adopted before a load balancer sends traffic.
// pesd's /readyz asks (it checks that the store answers itself).
func (c *Controller) Ready(context.Context) error {
	if c.counts.passes.Load() == 0 {
		return errors.New("the first reconcile pass has not run yet")
	}
	return nil
}
