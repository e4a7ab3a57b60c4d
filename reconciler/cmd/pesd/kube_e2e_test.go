package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/kubernetes"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/kubernetes/kubetest"
)

func kubeGroup(name, ns string, n int) api.GroupConfig {
	return api.GroupConfig{
		Name:            name,
		Driver:          api.DriverKubernetes,
		Program:         api.Program{Command: "/bin/worker", Args: []string{"--node", "${PES_NODE_ID}"}},
		DesiredQuantity: n,
		MaxQuantity:     20,
		Replacement:     api.ReplacementImmediate,
		InitDeadline:    "30s",
		HealthCheck:     &api.HealthCheck{Type: api.HealthProcess, Interval: "200ms", FailureThreshold: 2},
		Kubernetes:      &api.KubernetesConfig{Namespace: ns, Image: "example/worker:1", TerminationGracePeriod: "5s"},
	}
}

// groupPods lists the group's pods that are not being deleted: node id →
// pod name.
func groupPods(t testing.TB, ctx context.Context, k *kubetest.Cluster, ns, groupID string) map[string]string {
	t.Helper()
	list, err := k.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: kubernetes.LabelGroup + "=" + groupID})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range list.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		node := p.Labels[kubernetes.LabelNode]
		if prev, dup := out[node]; dup {
			t.Fatalf("node %s has two pods: %s and %s", node, prev, p.Name)
		}
		out[node] = p.Name
	}
	return out
}

func readyNodes(t testing.TB, ctx context.Context, c *client.Client, groupID string) []string {
	t.Helper()
	nodes, err := c.ListNodes(ctx, groupID, client.NodeFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, n := range nodes {
		if n.State == api.NodeReady {
			ids = append(ids, n.ID)
		}
	}
	sort.Strings(ids)
	return ids
}

func keys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// TestE2EKubernetes runs a group of pods through pesd on a real
// kube-apiserver with KWOK's simulated kubelets: 5 pods become actual 5;
// a pod deleted out of band is node_unavailable and replaced, with the
// causes agreeing both ways; a trigger scales to 8 at harmonization; a
// kill -9 and restart of pesd adopts every pod without a duplicate; a
// group delete removes the pods and keeps the history.
func TestE2EKubernetes(t *testing.T) {
	needE2E(t)
	k := kubetest.StartT(t, kubetest.Options{Nodes: 3})
	ns := k.NewNamespace(t)
	dataDir := t.TempDir()
	d := startDaemon(t, dataDir, "e2e-token", "--kubeconfig", k.Kubeconfig)
	c := d.client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	cfg := kubeGroup("pods", ns, 5)
	cfg.AggregationPeriod = "3s"
	g, err := c.CreateGroup(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}

	t.Log("1. a group of 5 pods becomes actual_quantity 5")
	waitActual(t, ctx, c, g.ID, 5, 30*time.Second)
	// The test cluster runs no metrics-server: the group's events say so.
	eventually(t, 10*time.Second, "a metrics_missing event from the kubernetes driver", func() (bool, string) {
		events, err := c.ListAllEvents(ctx, g.ID, client.EventFilter{Type: api.EventMetricsMissing})
		if err != nil {
			return false, err.Error()
		}
		for _, e := range events {
			if e.Source.Name == "kubernetes driver" && e.Reason == kubernetes.MetricsUnavailable {
				return len(events) == 1, fmt.Sprintf("%d metrics_missing events", len(events))
			}
		}
		return false, fmt.Sprintf("events %+v", events)
	})
	pods := groupPods(t, ctx, k, ns, g.ID)
	if got, want := keys(pods), readyNodes(t, ctx, c, g.ID); !slices.Equal(got, want) {
		t.Fatalf("pods of nodes %v, ready nodes %v: want one pod per ready node", got, want)
	}

	t.Log("2. an out-of-band pod delete is node_unavailable, then replaced")
	victim := keys(pods)[0]
	zero := int64(0)
	if err := k.Client.CoreV1().Pods(ns).Delete(ctx, pods[victim], metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	var ch chain
	eventually(t, 20*time.Second, "node_unavailable -> change -> replacement_requested -> add change", func() (bool, string) {
		var status string
		ch, status, err = findChain(ctx, c, g.ID, api.EventNodeUnavailable, victim)
		if err != nil {
			return false, err.Error()
		}
		return status == "", status
	})
	if !strings.Contains(ch.failure.Reason, kubernetes.ReasonDeleted) {
		t.Errorf("node_unavailable reason %q, want it to say %q", ch.failure.Reason, kubernetes.ReasonDeleted)
	}
	checkChain(t, ctx, c, ch)
	cd, err := c.GetChange(ctx, ch.added.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, cause := range cd.Causes {
		t.Logf("cause of %s: %s %s (%s)", ch.added.Label, cause.Event.Label, cause.Event.Type, cause.Event.Reason)
	}
	waitActual(t, ctx, c, g.ID, 5, 20*time.Second)
	eventually(t, 20*time.Second, "5 pods, the deleted one's node gone", func() (bool, string) {
		pods = groupPods(t, ctx, k, ns, g.ID)
		_, victimPod := pods[victim]
		return len(pods) == 5 && !victimPod, fmt.Sprintf("pods %v", pods)
	})

	t.Log("3. a trigger scales the group to 8 at harmonization")
	eight := 8
	if _, err := c.CreateTrigger(ctx, g.ID, api.TriggerSpec{
		Name: ptr("queue-high"), Condition: ptr("last(queue_depth) > 100"), Request: api.Request{SetTo: &eight},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PushMetrics(ctx, g.ID, []api.Sample{{Name: "queue_depth", Value: 500}}); err != nil {
		t.Fatal(err)
	}
	waitActual(t, ctx, c, g.ID, 8, 40*time.Second)
	eventually(t, 20*time.Second, "8 pods", func() (bool, string) {
		pods = groupPods(t, ctx, k, ns, g.ID)
		return len(pods) == 8, fmt.Sprintf("%d pods", len(pods))
	})
	before := keys(pods)

	t.Log("4. kill -9 of pesd and a restart adopt every pod, with no duplicate")
	d.kill9()
	d = startDaemon(t, dataDir, "e2e-token", "--kubeconfig", k.Kubeconfig)
	c = d.client(t)
	waitActual(t, ctx, c, g.ID, 8, 30*time.Second)
	consistently(t, 2*time.Second, "the same 8 pods after the restart", func() (bool, string) {
		pods := groupPods(t, ctx, k, ns, g.ID)
		return slices.Equal(keys(pods), before), fmt.Sprintf("pods of nodes %v, before %v", keys(pods), before)
	})
	if got := readyNodes(t, ctx, c, g.ID); !slices.Equal(got, before) {
		t.Errorf("ready nodes after restart %v, want the pods' nodes %v", got, before)
	}
	if got, err := c.GetGroup(ctx, g.ID); err != nil || got.Kubernetes == nil || got.Kubernetes.Image != cfg.Kubernetes.Image {
		t.Fatalf("after the restart the group's kubernetes block is %+v (%v), want image %s", got.Kubernetes, err, cfg.Kubernetes.Image)
	}

	t.Log("5. a group delete removes the pods and keeps the history")
	if err := c.DeleteGroup(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "no pods left", func() (bool, string) {
		list, err := k.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: kubernetes.LabelGroup + "=" + g.ID})
		if err != nil {
			return false, err.Error()
		}
		return len(list.Items) == 0, fmt.Sprintf("%d pods", len(list.Items))
	})
	events, err := c.ListAllEvents(ctx, g.ID, client.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(events, func(e api.Event) bool { return e.ID == ch.failure.ID }) {
		t.Errorf("after the delete the events lack %s", ch.failure.Label)
	}
	if _, err := c.GetChange(ctx, ch.added.ID); err != nil {
		t.Errorf("after the delete, change %s: %v", ch.added.Label, err)
	}
}

// TestE2EKubernetesWithoutCluster: pesd with no cluster starts, and a
// kubernetes group gets a 400 on driver saying how to configure one.
func TestE2EKubernetesWithoutCluster(t *testing.T) {
	needE2E(t)
	home := t.TempDir()
	d := startDaemonEnv(t, t.TempDir(), "e2e-token", []string{"HOME=" + home, "KUBECONFIG=", "KUBERNETES_SERVICE_HOST="})
	c := d.client(t)
	_, err := c.CreateGroup(ctxFor(t), kubeGroup("pods", "default", 1))
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Field != "driver" || !strings.Contains(ae.Message, "--kubeconfig") {
		t.Fatalf("create a kubernetes group without a cluster: %v, want a 400 on driver saying to pass --kubeconfig", err)
	}
	t.Logf("400: %s", ae.Message)
}

// BenchmarkKubernetesReplacement measures the time from an out-of-band
// pod delete to its replacement pod created by pesd, over 20 deletes.
func BenchmarkKubernetesReplacement(b *testing.B) {
	needE2E(b)
	k := kubetest.StartT(b, kubetest.Options{Nodes: 3})
	ns := k.NewNamespace(b)
	d := startDaemon(b, b.TempDir(), "bench-token", "--kubeconfig", k.Kubeconfig)
	c := d.client(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	g, err := c.CreateGroup(ctx, kubeGroup("bench", ns, 3))
	if err != nil {
		b.Fatal(err)
	}
	waitActual(b, ctx, c, g.ID, 3, 30*time.Second)
	const runs = 20
	for b.Loop() {
		var took []time.Duration
		for range runs {
			waitActual(b, ctx, c, g.ID, 3, 30*time.Second)
			pods := groupPods(b, ctx, k, ns, g.ID)
			if len(pods) != 3 {
				b.Fatalf("%d pods, want 3", len(pods))
			}
			w, err := k.Client.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{LabelSelector: kubernetes.LabelGroup + "=" + g.ID})
			if err != nil {
				b.Fatal(err)
			}
			victim := keys(pods)[0]
			zero := int64(0)
			start := time.Now()
			if err := k.Client.CoreV1().Pods(ns).Delete(ctx, pods[victim], metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
				b.Fatal(err)
			}
			created := false
			timeout := time.After(30 * time.Second)
			for !created {
				select {
				case ev, ok := <-w.ResultChan():
					if !ok {
						b.Fatal("pod watch ended")
					}
					if p, isPod := ev.Object.(metav1.Object); isPod && ev.Type == "ADDED" {
						if _, old := pods[p.GetLabels()[kubernetes.LabelNode]]; !old {
							created = true
						}
					}
				case <-timeout:
					b.Fatal("no replacement pod within 30s")
				}
			}
			took = append(took, time.Since(start))
			w.Stop()
		}
		slices.Sort(took)
		p50, p99 := took[len(took)/2], took[(len(took)*99+99)/100-1]
		b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
		b.Logf("out-of-band pod delete -> replacement pod created, %d runs: p50 %s, p99 %s, max %s", runs, p50.Round(time.Millisecond), p99.Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond))
	}
}

// BenchmarkKubernetesHarmonize100 measures the time from a harmonization
// deciding +100 to 100 pods Ready under KWOK, through pesd.
func BenchmarkKubernetesHarmonize100(b *testing.B) {
	needE2E(b)
	k := kubetest.StartT(b, kubetest.Options{Nodes: 4, PodsPerNode: 500})
	ns := k.NewNamespace(b)
	d := startDaemon(b, b.TempDir(), "bench-token", "--kubeconfig", k.Kubeconfig)
	c := d.client(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cfg := kubeGroup("bench", ns, 0)
	cfg.MaxQuantity = 1000
	cfg.AggregationPeriod = "1h" // only the benchmark harmonizes
	g, err := c.CreateGroup(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	want := 0
	for b.Loop() {
		hundred := 100
		if _, err := c.Instruct(ctx, g.ID, api.Instruction{Request: api.Request{ChangeBy: &hundred}, Reason: "bench"}); err != nil {
			b.Fatal(err)
		}
		want += 100
		start := time.Now()
		if _, err := c.Harmonize(ctx, g.ID); err != nil {
			b.Fatal(err)
		}
		decided := time.Since(start)
		waitActual(b, ctx, c, g.ID, want, 5*time.Minute)
		el := time.Since(start)
		b.ReportMetric(el.Seconds(), "s/100-ready")
		b.Logf("harmonization deciding +100 (%d → %d): answered in %s, 100 pods Ready in %s", want-100, want, decided.Round(time.Millisecond), el.Round(time.Millisecond))
	}
}
