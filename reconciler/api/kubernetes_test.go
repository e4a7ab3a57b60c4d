package api

import "testing"

func kubeBase() GroupConfig {
	return GroupConfig{Name: "pods", Driver: DriverKubernetes, DesiredQuantity: 2,
		Kubernetes: &KubernetesConfig{Image: "example/node:1"}}
}

func TestResolveKubernetes(t *testing.T) {
	cfg := kubeBase()
	if err := ResolveGroupConfig(&cfg); err != nil {
		t.Fatalf("a kubernetes group with an image and no command: %v", err)
	}
	if cfg.Kubernetes.Namespace != DefaultKubernetesNamespace {
		t.Errorf("namespace defaults to %q, want %q", cfg.Kubernetes.Namespace, DefaultKubernetesNamespace)
	}
	full := kubeBase()
	secs := int64(30)
	full.Kubernetes = &KubernetesConfig{
		Namespace: "batch", Image: "example/node:1",
		Resources: &KubernetesResources{
			Requests: &KubernetesResourceList{CPU: "250m", Memory: "128Mi"},
			Limits:   &KubernetesResourceList{CPU: "1", Memory: "128Mi"},
		},
		NodeSelector:           map[string]string{"kubernetes.io/os": "linux"},
		Tolerations:            []KubernetesToleration{{Key: "dedicated", Value: "pes", Effect: EffectNoExecute, TolerationSeconds: &secs}, {Operator: TolerationExists}},
		Labels:                 map[string]string{"app.kubernetes.io/name": "worker", "team": ""},
		Annotations:            map[string]string{"example.com/note": "anything goes here: spaces, / and all"},
		ServiceAccount:         "runner.v1",
		TerminationGracePeriod: "45s",
	}
	if err := ResolveGroupConfig(&full); err != nil {
		t.Fatalf("a full kubernetes block: %v", err)
	}
	if full.Kubernetes.Tolerations[0].Operator != TolerationEqual {
		t.Errorf("toleration operator defaults to %q, want Equal", full.Kubernetes.Tolerations[0].Operator)
	}
}

func TestResolveKubernetesErrors(t *testing.T) {
	k := func(f func(*KubernetesConfig)) func(*GroupConfig) {
		return func(c *GroupConfig) { f(c.Kubernetes) }
	}
	tests := []struct {
		name    string
		mutate  func(*GroupConfig)
		field   string
		message string
	}{
		{"block on local", func(c *GroupConfig) { c.Driver = DriverLocal; c.Program.Command = "x" }, "kubernetes", "only applies to driver kubernetes"},
		{"no block", func(c *GroupConfig) { c.Kubernetes = nil }, "kubernetes.image", "is required"},
		{"no image", k(func(k *KubernetesConfig) { k.Image = " " }), "kubernetes.image", "is required"},
		{"spaced image", k(func(k *KubernetesConfig) { k.Image = "a b" }), "kubernetes.image", "spaces"},
		{"namespace", k(func(k *KubernetesConfig) { k.Namespace = "Prod" }), "kubernetes.namespace", "DNS label"},
		{"cpu", k(func(k *KubernetesConfig) {
			k.Resources = &KubernetesResources{Requests: &KubernetesResourceList{CPU: "half"}}
		}), "kubernetes.resources.requests.cpu", "not a Kubernetes quantity"},
		{"memory unit", k(func(k *KubernetesConfig) {
			k.Resources = &KubernetesResources{Limits: &KubernetesResourceList{Memory: "1GB"}}
		}), "kubernetes.resources.limits.memory", "not a Kubernetes quantity"},
		{"negative", k(func(k *KubernetesConfig) {
			k.Resources = &KubernetesResources{Limits: &KubernetesResourceList{CPU: "-1"}}
		}), "kubernetes.resources.limits.cpu", "negative"},
		{"request over limit", k(func(k *KubernetesConfig) {
			k.Resources = &KubernetesResources{Requests: &KubernetesResourceList{Memory: "1Gi"}, Limits: &KubernetesResourceList{Memory: "512Mi"}}
		}), "kubernetes.resources.requests.memory", "at most the limit 512Mi"},
		{"selector key", k(func(k *KubernetesConfig) { k.NodeSelector = map[string]string{"bad key": "x"} }), "kubernetes.node_selector.bad key", "key must be"},
		{"label value", k(func(k *KubernetesConfig) { k.Labels = map[string]string{"team": "a b"} }), "kubernetes.labels.team", "at most 63"},
		{"reserved label", k(func(k *KubernetesConfig) { k.Labels = map[string]string{KubernetesLabelPrefix + "node-id": "x"} }), "kubernetes.labels." + KubernetesLabelPrefix + "node-id", "set by pesd"},
		{"annotation key", k(func(k *KubernetesConfig) { k.Annotations = map[string]string{"/x": "y"} }), "kubernetes.annotations./x", "prefix"},
		{"operator", k(func(k *KubernetesConfig) { k.Tolerations = []KubernetesToleration{{Key: "a", Operator: "In"}} }), "kubernetes.tolerations[0].operator", "must be one of Equal, Exists"},
		{"exists value", k(func(k *KubernetesConfig) {
			k.Tolerations = []KubernetesToleration{{Key: "a", Operator: TolerationExists, Value: "v"}}
		}), "kubernetes.tolerations[0].value", "empty"},
		{"equal without key", k(func(k *KubernetesConfig) { k.Tolerations = []KubernetesToleration{{Value: "v"}} }), "kubernetes.tolerations[0].key", "required"},
		{"effect", k(func(k *KubernetesConfig) { k.Tolerations = []KubernetesToleration{{Key: "a", Effect: "Never"}} }), "kubernetes.tolerations[0].effect", "must be one of"},
		{"seconds without NoExecute", k(func(k *KubernetesConfig) {
			s := int64(5)
			k.Tolerations = []KubernetesToleration{{Key: "a", Effect: EffectNoSchedule, TolerationSeconds: &s}}
		}), "kubernetes.tolerations[0].toleration_seconds", "NoExecute"},
		{"service account", k(func(k *KubernetesConfig) { k.ServiceAccount = "Runner" }), "kubernetes.service_account", "DNS subdomain"},
		{"grace", k(func(k *KubernetesConfig) { k.TerminationGracePeriod = "soon" }), "kubernetes.termination_grace_period", "not a duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := kubeBase()
			tt.mutate(&cfg)
			assertInvalid(t, ResolveGroupConfig(&cfg), tt.field, tt.message)
		})
	}
}

// TestKubernetesPatch: a patch replaces the block; the current config is
// left alone.
func TestKubernetesPatch(t *testing.T) {
	cur := kubeBase()
	cur.Kubernetes.Labels = map[string]string{"a": "1"}
	if err := ResolveGroupConfig(&cur); err != nil {
		t.Fatal(err)
	}
	next, err := ApplyGroupPatch(cur, GroupPatch{Kubernetes: &KubernetesConfig{Image: "example/node:2", Labels: map[string]string{"b": "2"}}})
	if err != nil {
		t.Fatal(err)
	}
	if next.Kubernetes.Image != "example/node:2" || next.Kubernetes.Labels["b"] != "2" || next.Kubernetes.Namespace != DefaultKubernetesNamespace {
		t.Errorf("patched block %+v", next.Kubernetes)
	}
	if cur.Kubernetes.Image != "example/node:1" || cur.Kubernetes.Labels["a"] != "1" {
		t.Errorf("the patch changed the current block: %+v", cur.Kubernetes)
	}
	_, err = ApplyGroupPatch(cur, GroupPatch{Kubernetes: &KubernetesConfig{Image: "x", Namespace: "Bad"}})
	assertInvalid(t, err, "kubernetes.namespace", "DNS label")
}
