package main

import (
	"errors"
	"fmt"
	"log/slog"

	"k8s.io/klog/v2"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/kubernetes"
)

// kubeDriver returns the kubernetes driver on the cluster pesd is given.
// Without one pesd still starts: it returns no driver and what a group
// asking for it is told. Only a cluster named on the command line that
// cannot be read stops pesd; an unreadable default kubeconfig must not
// stop a pesd that runs no pods.
func kubeDriver(cfg serveConfig, log *slog.Logger) (driver.Driver, string, error) {
	rc, err := kubernetes.LoadConfig(cfg.kubeconfig, cfg.kubeContext)
	explicit := cfg.kubeconfig != "" || cfg.kubeContext != ""
	switch {
	case errors.Is(err, kubernetes.ErrNoCluster):
		log.Info("kubernetes driver off: no cluster configured", "how", kubernetes.HowToConfigure)
		return nil, kubernetes.HowToConfigure, nil
	case err != nil && !explicit:
		log.Warn("kubernetes driver off: the default kubeconfig cannot be used", "err", err)
		return nil, fmt.Sprintf("%s (the default kubeconfig cannot be used: %v)", kubernetes.HowToConfigure, err), nil
	case err != nil:
		return nil, "", fmt.Errorf("--kubeconfig/--kube-context: %w", err)
	}
	// client-go logs through klog; its lines (a watch restarted, a
	// request retried) go to pesd's log like pesd's own.
	klog.SetSlogLogger(log.With("component", "client-go"))
	d, err := kubernetes.New(rc, kubernetes.WithLogger(log.With("driver", api.DriverKubernetes)))
	if err != nil {
		return nil, "", err
	}
	log.Info("kubernetes driver on", "server", rc.Host)
	return d, "", nil
}
