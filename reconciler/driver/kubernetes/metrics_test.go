package kubernetes_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
	metricsfake "k8s.io/metrics/pkg/client/clientset/versioned/fake"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/kubernetes"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/kubernetes/kubetest"
)

// TestMetricsSampled: where metrics.k8s.io answers (here a fake of its
// client, the test cluster running no metrics-server), a ready pod's
// usage becomes cpu_utilization (percent of one core) and memory_bytes
// samples of its node.
func TestMetricsSampled(t *testing.T) {
	c := kubetest.Shared(t)
	ns := c.NewNamespace(t)
	d := newDriver(t, c)
	g, n := newID(t), newID(t)
	h, err := d.Launch(context.Background(), specIn(ns)(g, n, 0))
	if err != nil {
		t.Fatal(err)
	}
	awaitState(t, d, g, n, api.NodeReady)
	at := metav1.NewTime(time.Now().Truncate(time.Second))
	pm := &metricsv1beta1.PodMetrics{
		ObjectMeta: metav1.ObjectMeta{Name: h[kubernetes.HandlePod], Namespace: ns,
			Labels: map[string]string{kubernetes.LabelGroup: g, kubernetes.LabelNode: n}},
		Timestamp: at,
		Containers: []metricsv1beta1.ContainerMetrics{{Name: kubernetes.ContainerName, Usage: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("64Mi"),
		}}},
	}
	// The fake stores objects under the resource it guesses from their
	// kind; the metrics API serves PodMetrics as "pods".
	mc := metricsfake.NewSimpleClientset()
	if err := mc.Tracker().Create(metricsv1beta1.SchemeGroupVersion.WithResource("pods"), pm, ns); err != nil {
		t.Fatal(err)
	}
	kubernetes.ServeMetricsFrom(d, mc, 0)
	o := observe(t, d, g, n)
	got := map[string]float64{}
	for _, s := range o.Samples {
		if s.NodeID != n || s.Time == nil || !s.Time.Equal(at.Time) {
			t.Errorf("sample %+v: want node %s at %v", s, n, at.Time)
		}
		got[s.Name] = s.Value
	}
	if got[kubernetes.MetricCPU] != 25 || got[kubernetes.MetricMemory] != 64<<20 || len(got) != 2 {
		t.Errorf("samples %v, want cpu_utilization 25 and memory_bytes %d", got, 64<<20)
	}
	if d.MetricsMissing() != "" {
		t.Errorf("MetricsMissing() = %q where metrics are served", d.MetricsMissing())
	}
}
