package kubernetes

import (
	"errors"
	"fmt"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// ErrNoCluster is returned by LoadConfig when nothing says which cluster
// to use: pesd then runs without the kubernetes driver.
var ErrNoCluster = errors.New("no Kubernetes cluster configured")

// HowToConfigure says how to give pesd a cluster, for the 400 a group
// asking for the kubernetes driver gets when there is none.
const HowToConfigure = "this pesd has no Kubernetes cluster: start it with --kubeconfig (and --kube-context), set $KUBECONFIG, " +
	"have ~/.kube/config, or run it in a pod with a service account"

// LoadConfig finds the cluster to use: the kubeconfig file given (its
// current context, or context when set); else, without a context, the
// in-cluster service account of a pod; else $KUBECONFIG, then
// ~/.kube/config. It returns ErrNoCluster (wrapped) when none of those
// exists.
func LoadConfig(kubeconfig, context string) (*rest.Config, error) {
	if kubeconfig == "" && context == "" {
		cfg, err := rest.InClusterConfig()
		if err == nil {
			return cfg, nil
		}
		if !errors.Is(err, rest.ErrNotInCluster) {
			return nil, fmt.Errorf("in-cluster configuration: %w", err)
		}
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context})
	cfg, err := cc.ClientConfig()
	switch {
	case err == nil:
		return cfg, nil
	case clientcmd.IsEmptyConfig(err) && kubeconfig == "":
		return nil, fmt.Errorf("%w: no --kubeconfig, not in a pod, no $KUBECONFIG and no ~/.kube/config", ErrNoCluster)
	}
	return nil, fmt.Errorf("kubeconfig: %w", err)
}
