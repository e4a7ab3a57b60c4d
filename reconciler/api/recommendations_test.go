package api

import (
	"testing"
	"time"
)

func TestNodeType(t *testing.T) {
	k := func(req, lim *KubernetesResourceList) Group {
		return Group{GroupConfig: GroupConfig{Driver: DriverKubernetes,
			Kubernetes: &KubernetesConfig{Image: "x", Resources: &KubernetesResources{Requests: req, Limits: lim}}}}
	}
	for _, c := range []struct {
		g    Group
		want string
	}{
		{Group{GroupConfig: GroupConfig{Driver: DriverLocal}}, ""},
		{Group{GroupConfig: GroupConfig{Driver: DriverKubernetes, Kubernetes: &KubernetesConfig{Image: "x"}}}, ""},
		{k(&KubernetesResourceList{CPU: "500m", Memory: "256Mi"}, nil), "requests cpu=500m memory=256Mi"},
		{k(&KubernetesResourceList{CPU: "1"}, &KubernetesResourceList{Memory: "1Gi"}), "requests cpu=1; limits memory=1Gi"},
	} {
		if got := NodeType(c.g); got != c.want {
			t.Errorf("NodeType = %q, want %q", got, c.want)
		}
	}
}

func TestParseRecommendationQuery(t *testing.T) {
	v := map[string]string{"input_size": "1e6", "deadline": "1h30m", "max_node_hours": "8.5", "max_nodes": "40"}
	q, err := ParseRecommendationQuery(func(k string) string { return v[k] })
	if err != nil || q.InputSize != 1e6 || q.Deadline != 90*time.Minute || q.MaxNodeHours != 8.5 || q.MaxNodes != 40 {
		t.Fatalf("%+v, %v", q, err)
	}
	back := q.Values()
	for k, s := range map[string]string{"input_size": "1e+06", "deadline": "1h30m0s", "max_node_hours": "8.5", "max_nodes": "40"} {
		if back[k] != s {
			t.Errorf("Values()[%s] = %q, want %q", k, back[k], s)
		}
	}
}
