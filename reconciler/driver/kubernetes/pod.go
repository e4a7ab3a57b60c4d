package kubernetes

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
)

// Labels pesd puts on every pod it runs, to find it again (by group, and
// by node after a restart that lost the handle).
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedBy      = "pesd"
	LabelGroup     = api.KubernetesLabelPrefix + "group-id"
	LabelNode      = api.KubernetesLabelPrefix + "node-id"
	LabelIndex     = api.KubernetesLabelPrefix + "node-index"
)

// ContainerName is the name of the one container of a node's pod.
const ContainerName = "node"

// podName is the pod of a node: derived from the node ID, so a retried
// create (by this pesd or the next) meets the first one instead of
// making a second pod.
func podName(nodeID string) string { return "pes-" + nodeID }

// nodeConfig is what a launch needs from the group config, checked.
type nodeConfig struct {
	namespace string
	grace     time.Duration // 0: the grace Terminate is given
	threshold time.Duration // not ready this long after being ready → unavailable
}

// configOf reads the parts of spec that Launch, Adopt and Terminate need.
// The API has validated them; this only refuses what would make a wrong
// pod, so a bad config fails one launch with a reason instead of a panic.
func configOf(spec driver.NodeSpec) (nodeConfig, error) {
	k := spec.Kubernetes
	if k == nil {
		return nodeConfig{}, fmt.Errorf("kubernetes: the group has no kubernetes block (image, namespace, ...)")
	}
	c := nodeConfig{namespace: k.Namespace}
	if c.namespace == "" {
		c.namespace = api.DefaultKubernetesNamespace
	}
	g, err := api.ParseTerminationGrace(*k)
	if err != nil {
		return c, err
	}
	c.grace = g
	interval, threshold, err := checkTiming(spec.HealthCheck)
	if err != nil {
		return c, err
	}
	c.threshold = time.Duration(threshold) * interval
	return c, nil
}

// checkTiming is the health check's interval and failure threshold, with
// the API's defaults.
func checkTiming(hc *api.HealthCheck) (time.Duration, int, error) {
	iv := api.DefaultDurations().HealthInterval
	th := api.DefaultHealthFailureThreshold
	if hc != nil {
		d, err := api.ParseHealthInterval(*hc)
		if err != nil {
			return 0, 0, err
		}
		if d > 0 {
			iv = d
		}
		if hc.FailureThreshold > 0 {
			th = hc.FailureThreshold
		}
	}
	return iv, th, nil
}

// validNodeID refuses IDs that cannot name a pod or be a label value.
func validNodeID(field, id string) error {
	if id == "" {
		return fmt.Errorf("%s: is required", field)
	}
	if errs := validation.IsDNS1123Label(podName(id)); len(errs) > 0 {
		return fmt.Errorf("%s: %q cannot name a pod: %s", field, id, errs[0])
	}
	return nil
}

// newPod builds the pod of one node: the group's program in the group's
// image, the health check as its readiness probe. Restarts are never: a
// node whose program ends is unavailable and replaced by the group's
// replacement policy, as a local node is.
func newPod(spec driver.NodeSpec, c nodeConfig) (*corev1.Pod, error) {
	k := spec.Kubernetes
	port := api.DefaultKubernetesPort
	vars := map[string]string{
		driver.EnvGroupID:   spec.GroupID,
		driver.EnvNodeID:    spec.NodeID,
		driver.EnvNodeIndex: strconv.Itoa(spec.Index),
		driver.EnvPort:      strconv.Itoa(port),
	}
	labels := map[string]string{}
	for key, v := range k.Labels {
		labels[key] = v
	}
	labels[LabelManagedBy] = ManagedBy
	labels[LabelGroup] = spec.GroupID
	labels[LabelNode] = spec.NodeID
	labels[LabelIndex] = strconv.Itoa(spec.Index)

	ctr := corev1.Container{
		Name:  ContainerName,
		Image: k.Image,
		Ports: []corev1.ContainerPort{{Name: "pes", ContainerPort: int32(port), Protocol: corev1.ProtocolTCP}},
	}
	if spec.Program.Command != "" {
		ctr.Command = []string{driver.Expand(spec.Program.Command, vars)}
	}
	for _, a := range spec.Program.Args {
		ctr.Args = append(ctr.Args, driver.Expand(a, vars))
	}
	names := make([]string, 0, len(spec.Program.Env))
	for name := range spec.Program.Env {
		if _, ours := vars[name]; !ours {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		ctr.Env = append(ctr.Env, corev1.EnvVar{Name: name, Value: driver.Expand(spec.Program.Env[name], vars)})
	}
	for _, name := range []string{driver.EnvGroupID, driver.EnvNodeID, driver.EnvNodeIndex, driver.EnvPort} {
		ctr.Env = append(ctr.Env, corev1.EnvVar{Name: name, Value: vars[name]})
	}
	res, err := resources(k.Resources)
	if err != nil {
		return nil, err
	}
	ctr.Resources = res
	probe, err := readinessProbe(spec.HealthCheck, port)
	if err != nil {
		return nil, err
	}
	ctr.ReadinessProbe = probe

	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:        podName(spec.NodeID),
			Namespace:   c.namespace,
			Labels:      labels,
			Annotations: k.Annotations,
		},
		Spec: corev1.PodSpec{
			Containers:         []corev1.Container{ctr},
			RestartPolicy:      corev1.RestartPolicyNever,
			NodeSelector:       k.NodeSelector,
			ServiceAccountName: k.ServiceAccount,
		},
	}
	if k.TerminationGracePeriod != "" {
		s := int64(math.Ceil(c.grace.Seconds()))
		pod.Spec.TerminationGracePeriodSeconds = &s
	}
	for _, t := range k.Tolerations {
		pod.Spec.Tolerations = append(pod.Spec.Tolerations, corev1.Toleration{
			Key: t.Key, Operator: corev1.TolerationOperator(orDefault(t.Operator, api.TolerationEqual)),
			Value: t.Value, Effect: corev1.TaintEffect(t.Effect), TolerationSeconds: t.TolerationSeconds,
		})
	}
	return pod, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func resources(r *api.KubernetesResources) (corev1.ResourceRequirements, error) {
	var out corev1.ResourceRequirements
	if r == nil {
		return out, nil
	}
	list := func(kind string, l *api.KubernetesResourceList) (corev1.ResourceList, error) {
		if l == nil || (l.CPU == "" && l.Memory == "") {
			return nil, nil
		}
		rl := corev1.ResourceList{}
		for _, q := range []struct {
			name corev1.ResourceName
			s    string
		}{{corev1.ResourceCPU, l.CPU}, {corev1.ResourceMemory, l.Memory}} {
			if q.s == "" {
				continue
			}
			v, err := resource.ParseQuantity(q.s)
			if err != nil {
				return nil, fmt.Errorf("kubernetes.resources.%s.%s: %w", kind, q.name, err)
			}
			rl[q.name] = v
		}
		return rl, nil
	}
	var err error
	if out.Requests, err = list("requests", r.Requests); err != nil {
		return out, err
	}
	out.Limits, err = list("limits", r.Limits)
	return out, err
}

// readinessProbe maps the health check: http, tcp and exec become the
// matching probe; process (the default) needs none, the container running
// is enough.
func readinessProbe(hc *api.HealthCheck, nodePort int) (*corev1.Probe, error) {
	if hc == nil || hc.Type == "" || hc.Type == api.HealthProcess {
		return nil, nil
	}
	interval, threshold, err := checkTiming(hc)
	if err != nil {
		return nil, err
	}
	period := int32(math.Ceil(interval.Seconds())) // the kubelet probes in whole seconds
	p := &corev1.Probe{PeriodSeconds: period, FailureThreshold: int32(threshold), TimeoutSeconds: period}
	port := hc.Port
	if port == 0 {
		port = nodePort
	}
	switch hc.Type {
	case api.HealthHTTP:
		path := hc.Path
		if path == "" {
			path = "/"
		}
		p.HTTPGet = &corev1.HTTPGetAction{Path: path, Port: intstr.FromInt32(int32(port))}
	case api.HealthTCP:
		p.TCPSocket = &corev1.TCPSocketAction{Port: intstr.FromInt32(int32(port))}
	case api.HealthExec:
		p.Exec = &corev1.ExecAction{Command: []string{"/bin/sh", "-c", hc.Command}}
	default:
		return nil, fmt.Errorf("health_check.type: %q has no readiness probe", hc.Type)
	}
	return p, nil
}
