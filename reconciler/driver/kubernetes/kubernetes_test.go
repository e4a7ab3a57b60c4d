package kubernetes_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/drivertest"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/kubernetes"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/kubernetes/kubetest"
)

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }

// probe is the health check interval of test nodes: short, so a pod that
// stops being ready is judged within a second.
const probe = "200ms"

func newDriver(t *testing.T, c *kubetest.Cluster) *kubernetes.Driver {
	t.Helper()
	d, err := kubernetes.New(c.Config, kubernetes.WithGrace(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func specIn(ns string) func(g, n string, i int) driver.NodeSpec {
	return func(g, n string, i int) driver.NodeSpec {
		return driver.NodeSpec{
			GroupID: g, NodeID: n, Index: i,
			Program:     api.Program{Command: "sleep", Args: []string{"3600"}},
			HealthCheck: &api.HealthCheck{Type: api.HealthProcess, Interval: probe, FailureThreshold: 2},
			Kubernetes:  &api.KubernetesConfig{Namespace: ns, Image: "registry.invalid/pes-test:1"},
		}
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after 30s waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// deletePod deletes a node's pod out of band, as `kubectl delete pod
// --grace-period=0 --force` does.
func deletePod(t *testing.T, c *kubetest.Cluster, h map[string]string) {
	t.Helper()
	zero := int64(0)
	err := c.Client.CoreV1().Pods(h[kubernetes.HandleNamespace]).Delete(context.Background(), h[kubernetes.HandlePod],
		metav1.DeleteOptions{GracePeriodSeconds: &zero})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatalf("delete pod %s: %v", h[kubernetes.HandlePod], err)
	}
}

func TestConformance(t *testing.T) {
	c := kubetest.Shared(t)
	ns := c.NewNamespace(t)
	drivertest.Run(t, drivertest.Harness{
		New:  func(t *testing.T) driver.Driver { return newDriver(t, c) },
		Spec: specIn(ns),
		Kill: func(t *testing.T, _ driver.Driver, _, _ string, h map[string]string) { deletePod(t, c, h) },
		KillWhileDown: func(t *testing.T, _, _ string, h map[string]string) {
			deletePod(t, c, h)
		},
		Eventually: eventually,
	})
}

func newID(t testing.TB) string {
	t.Helper()
	id, err := uuid.NewV7()
	if err != nil {
		t.Fatal(err)
	}
	return id.String()
}

func observe(t *testing.T, d driver.Driver, g, n string) driver.Observation {
	t.Helper()
	obs, err := d.Observe(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range obs {
		if o.NodeID == n {
			return o
		}
	}
	return driver.Observation{}
}

func awaitState(t *testing.T, d driver.Driver, g, n, want string) driver.Observation {
	t.Helper()
	var o driver.Observation
	eventually(t, "node "+n+" to be "+want, func() bool {
		o = observe(t, d, g, n)
		return o.State == want
	})
	return o
}

// setStatus plays the kubelet of a pod KWOK leaves alone: it writes the
// status f makes of the current one.
func setStatus(t *testing.T, c *kubetest.Cluster, h map[string]string, f func(*corev1.PodStatus)) {
	t.Helper()
	ctx := context.Background()
	pods := c.Client.CoreV1().Pods(h[kubernetes.HandleNamespace])
	for range 10 {
		p, err := pods.Get(ctx, h[kubernetes.HandlePod], metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		f(&p.Status)
		_, err = pods.UpdateStatus(ctx, p, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatal("status update kept conflicting")
}

func running(ready bool) func(*corev1.PodStatus) {
	return func(s *corev1.PodStatus) {
		st := corev1.ConditionFalse
		msg := "readiness probe failed: connection refused"
		if ready {
			st, msg = corev1.ConditionTrue, ""
		}
		now := metav1.Now()
		s.Phase = corev1.PodRunning
		s.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: st, Message: msg, LastTransitionTime: now}}
		s.ContainerStatuses = []corev1.ContainerStatus{{
			Name: kubernetes.ContainerName, Ready: ready, Image: "img",
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		}}
	}
}

// TestKubeletFailures plays what a kubelet reports — a ready pod that
// stops being ready, an eviction, an OOM kill — and checks each node's
// state and reason.
func TestKubeletFailures(t *testing.T) {
	c := kubetest.Shared(t)
	ns := c.NewNamespace(t)
	d := newDriver(t, c)
	g := newID(t)
	spec := func(i int) driver.NodeSpec {
		s := specIn(ns)(g, newID(t), i)
		s.Kubernetes.Annotations = map[string]string{kubetest.CustomStatusAnnotation: "custom"}
		return s
	}
	cases := []struct {
		name   string
		status func(*corev1.PodStatus)
		want   string
	}{
		{"not ready past the threshold", running(false), "not ready for"},
		{"evicted", func(s *corev1.PodStatus) {
			s.Phase, s.Reason, s.Message = corev1.PodFailed, "Evicted", "The node was low on resource: memory."
		}, "evicted: The node was low on resource: memory."},
		{"OOM killed", func(s *corev1.PodStatus) {
			s.Phase = corev1.PodFailed
			s.ContainerStatuses = []corev1.ContainerStatus{{Name: kubernetes.ContainerName, Image: "img",
				State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137}}}}
		}, "OOMKilled"},
		{"program exited", func(s *corev1.PodStatus) {
			s.Phase = corev1.PodFailed
			s.ContainerStatuses = []corev1.ContainerStatus{{Name: kubernetes.ContainerName, Image: "img",
				State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Error", ExitCode: 3}}}}
		}, "container exited with code 3"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := spec(i)
			h, err := d.Launch(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			if st := observe(t, d, g, s.NodeID).State; st != api.NodeLaunching {
				t.Fatalf("a pod with no status is %q, want launching", st)
			}
			setStatus(t, c, h, running(true))
			awaitState(t, d, g, s.NodeID, api.NodeReady)
			setStatus(t, c, h, tc.status)
			o := awaitState(t, d, g, s.NodeID, api.NodeUnavailable)
			if !strings.HasPrefix(o.Reason, tc.want) {
				t.Errorf("reason %q, want it to start with %q", o.Reason, tc.want)
			}
		})
	}
}

// TestNotReadyWithinThresholdStaysReady: a ready pod that is not ready
// for less than the health check's threshold is still ready.
func TestNotReadyWithinThresholdStaysReady(t *testing.T) {
	c := kubetest.Shared(t)
	ns := c.NewNamespace(t)
	d := newDriver(t, c)
	g, n := newID(t), newID(t)
	s := specIn(ns)(g, n, 0)
	s.HealthCheck = &api.HealthCheck{Type: api.HealthProcess, Interval: "1m", FailureThreshold: 3}
	s.Kubernetes.Annotations = map[string]string{kubetest.CustomStatusAnnotation: "custom"}
	h, err := d.Launch(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	setStatus(t, c, h, running(true))
	awaitState(t, d, g, n, api.NodeReady)
	setStatus(t, c, h, running(false))
	// The driver has seen the change once the pod's resource version
	// moved; within 3m it stays ready.
	time.Sleep(500 * time.Millisecond)
	if o := observe(t, d, g, n); o.State != api.NodeReady {
		t.Errorf("not ready for less than 3 × 1m: node is %q (%s), want ready", o.State, o.Reason)
	}
}

// TestPodShape: the pod carries the group's config and pesd's labels, and
// no owner.
func TestPodShape(t *testing.T) {
	c := kubetest.Shared(t)
	ns := c.NewNamespace(t)
	d := newDriver(t, c)
	g, n := newID(t), newID(t)
	s := specIn(ns)(g, n, 7)
	s.Program = api.Program{Command: "/srv/node", Args: []string{"--id=${PES_NODE_ID}", "$HOME"}, Env: map[string]string{"MODE": "fast"}}
	s.HealthCheck = &api.HealthCheck{Type: api.HealthHTTP, Path: "/healthz", Interval: "2s", FailureThreshold: 3}
	s.Kubernetes = &api.KubernetesConfig{
		Namespace: ns, Image: "example/node:2",
		Resources: &api.KubernetesResources{
			Requests: &api.KubernetesResourceList{CPU: "250m", Memory: "64Mi"},
			Limits:   &api.KubernetesResourceList{CPU: "1", Memory: "128Mi"},
		},
		NodeSelector:           map[string]string{"type": "kwok"},
		Tolerations:            []api.KubernetesToleration{{Key: "dedicated", Operator: "Equal", Value: "pes", Effect: "NoSchedule"}},
		Labels:                 map[string]string{"team": "search"},
		Annotations:            map[string]string{"note": "hello"},
		ServiceAccount:         "runner",
		TerminationGracePeriod: "45s",
	}
	h, err := d.Launch(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Client.CoreV1().Pods(ns).Get(context.Background(), h[kubernetes.HandlePod], metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"label group", p.Labels[kubernetes.LabelGroup], g},
		{"label node", p.Labels[kubernetes.LabelNode], n},
		{"label index", p.Labels[kubernetes.LabelIndex], "7"},
		{"label managed-by", p.Labels[kubernetes.LabelManagedBy], "pesd"},
		{"user label", p.Labels["team"], "search"},
		{"annotation", p.Annotations["note"], "hello"},
		{"owners", len(p.OwnerReferences), 0},
		{"restart policy", p.Spec.RestartPolicy, corev1.RestartPolicyNever},
		{"node selector", p.Spec.NodeSelector["type"], "kwok"},
		{"service account", p.Spec.ServiceAccountName, "runner"},
		{"grace", *p.Spec.TerminationGracePeriodSeconds, int64(45)},
		{"image", p.Spec.Containers[0].Image, "example/node:2"},
		{"command", strings.Join(p.Spec.Containers[0].Command, " "), "/srv/node"},
		{"args", strings.Join(p.Spec.Containers[0].Args, " "), "--id=" + n + " $HOME"},
		{"cpu request", p.Spec.Containers[0].Resources.Requests.Cpu().String(), "250m"},
		{"memory limit", p.Spec.Containers[0].Resources.Limits.Memory().String(), "128Mi"},
		{"probe path", p.Spec.Containers[0].ReadinessProbe.HTTPGet.Path, "/healthz"},
		{"probe port", p.Spec.Containers[0].ReadinessProbe.HTTPGet.Port.IntValue(), api.DefaultKubernetesPort},
		{"probe period", p.Spec.Containers[0].ReadinessProbe.PeriodSeconds, int32(2)},
		{"probe threshold", p.Spec.Containers[0].ReadinessProbe.FailureThreshold, int32(3)},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s: got %v, want %v", ck.what, ck.got, ck.want)
		}
	}
	// Admission adds the not-ready and unreachable tolerations; the
	// group's is among them.
	var tolerated bool
	for _, tol := range p.Spec.Tolerations {
		tolerated = tolerated || (tol.Key == "dedicated" && tol.Value == "pes" && tol.Effect == corev1.TaintEffectNoSchedule && tol.Operator == corev1.TolerationOpEqual)
	}
	if !tolerated {
		t.Errorf("tolerations %v lack the group's dedicated=pes:NoSchedule", p.Spec.Tolerations)
	}
	env := map[string]string{}
	for _, e := range p.Spec.Containers[0].Env {
		env[e.Name] = e.Value
	}
	for k, v := range map[string]string{"MODE": "fast", "PES_NODE_ID": n, "PES_GROUP_ID": g, "PES_NODE_INDEX": "7", "PES_PORT": "8080"} {
		if env[k] != v {
			t.Errorf("env %s = %q, want %q", k, env[k], v)
		}
	}
}

// TestLaunchAfterLostHandle: a pod created by a pesd that died before
// storing the handle is met by the next launch of the node, not doubled.
func TestLaunchAfterLostHandle(t *testing.T) {
	c := kubetest.Shared(t)
	ns := c.NewNamespace(t)
	g, n := newID(t), newID(t)
	first := newDriver(t, c)
	h1, err := first.Launch(context.Background(), specIn(ns)(g, n, 0))
	if err != nil {
		t.Fatal(err)
	}
	first.Close()
	second := newDriver(t, c)
	h2, err := second.Launch(context.Background(), specIn(ns)(g, n, 0))
	if err != nil {
		t.Fatal(err)
	}
	if h1[kubernetes.HandleUID] != h2[kubernetes.HandleUID] {
		t.Errorf("relaunch made pod %s, want the first one %s", h2[kubernetes.HandleUID], h1[kubernetes.HandleUID])
	}
	list, err := c.Client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: kubernetes.LabelNode + "=" + n})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 {
		t.Errorf("%d pods for one node, want 1", len(list.Items))
	}
}

// TestMetricsUnavailable: the test cluster runs no metrics-server, and
// the driver says so rather than reporting zeros.
func TestMetricsUnavailable(t *testing.T) {
	c := kubetest.Shared(t)
	ns := c.NewNamespace(t)
	d := newDriver(t, c)
	g, n := newID(t), newID(t)
	if _, err := d.Launch(context.Background(), specIn(ns)(g, n, 0)); err != nil {
		t.Fatal(err)
	}
	o := awaitState(t, d, g, n, api.NodeReady)
	if d.MetricsServed() {
		t.Fatal("MetricsServed is true on a cluster without metrics-server")
	}
	if got := d.MetricsMissing(); got != kubernetes.MetricsUnavailable {
		t.Errorf("MetricsMissing() = %q, want %q", got, kubernetes.MetricsUnavailable)
	}
	if len(o.Samples) != 0 {
		t.Errorf("samples %v from a cluster without metrics", o.Samples)
	}
}

// TestAdoptFindsPodByNodeLabel: a node recorded without a handle whose
// pod exists (pesd died between the create and storing the handle) is
// found by its node-id label and adopted with a handle.
func TestAdoptFindsPodByNodeLabel(t *testing.T) {
	c := kubetest.Shared(t)
	ns := c.NewNamespace(t)
	g, n := newID(t), newID(t)
	first := newDriver(t, c)
	h, err := first.Launch(context.Background(), specIn(ns)(g, n, 3))
	if err != nil {
		t.Fatal(err)
	}
	awaitState(t, first, g, n, api.NodeReady)
	first.Close()

	second := newDriver(t, c)
	obs, err := second.Adopt(context.Background(), []driver.AdoptSpec{{NodeSpec: specIn(ns)(g, n, 3), State: api.NodeLaunching}})
	if err != nil {
		t.Fatal(err)
	}
	if len(obs) != 1 || obs[0].NodeID != n {
		t.Fatalf("Adopt reports %+v, want node %s", obs, n)
	}
	if obs[0].Handle[kubernetes.HandleUID] != h[kubernetes.HandleUID] {
		t.Errorf("adopted handle %v, want the launched pod's %v", obs[0].Handle, h)
	}
	awaitState(t, second, g, n, api.NodeReady)
}

// TestEvictionAPI: a pod evicted through the Eviction API (kubectl drain)
// is unavailable with the eviction as its reason, not as any deletion.
func TestEvictionAPI(t *testing.T) {
	c := kubetest.Shared(t)
	ns := c.NewNamespace(t)
	d := newDriver(t, c)
	g, n := newID(t), newID(t)
	h, err := d.Launch(context.Background(), specIn(ns)(g, n, 0))
	if err != nil {
		t.Fatal(err)
	}
	awaitState(t, d, g, n, api.NodeReady)
	err = c.Client.CoreV1().Pods(ns).EvictV1(context.Background(), &policyv1.Eviction{
		ObjectMeta: metav1.ObjectMeta{Name: h[kubernetes.HandlePod], Namespace: ns}})
	if err != nil {
		t.Fatal(err)
	}
	o := awaitState(t, d, g, n, api.NodeUnavailable)
	if !strings.HasPrefix(o.Reason, "evicted: ") {
		t.Errorf("reason %q, want an eviction", o.Reason)
	}
	t.Logf("reason: %s", o.Reason)
}
