package kubernetes

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Reasons reported with states.
const (
	ReasonDeleted       = "deleted outside pes"
	ReasonGoneWhileDown = "pod gone while pesd was down"
	ReasonWasDown       = "unavailable before pesd restarted"
	ReasonTerminated    = "terminated"
	ReasonNoHandle      = "no pod recorded for the node"
)

// podView is what a pod says about its node, before the driver's memory
// (was it ever ready, did pesd delete it) is applied.
type podView int

const (
	viewStarting podView = iota // pending, or running and never ready
	viewReady                   // running and Ready
	viewNotReady                // running (or pending again) and not Ready
	viewEnded                   // Failed or Succeeded: the program will not come back
	viewDeleting                // has a deletion timestamp
)

// view reads a pod: its phase, its Ready condition and whether it is
// being deleted.
func view(p *corev1.Pod) podView {
	switch {
	case p.DeletionTimestamp != nil:
		return viewDeleting
	case p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded:
		return viewEnded
	case p.Status.Phase == corev1.PodRunning && podReady(p):
		return viewReady
	case p.Status.Phase == corev1.PodRunning:
		return viewNotReady
	default:
		return viewStarting
	}
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// endReason says why a pod's program ended, from the pod: "evicted: ..."
// for a kubelet eviction, the container's termination reason (such as
// OOMKilled) with its exit code, or the pod's own message.
func endReason(p *corev1.Pod) string {
	if p.Status.Reason == "Evicted" {
		msg := strings.TrimSpace(p.Status.Message)
		if msg == "" {
			msg = "by the kubelet"
		}
		return "evicted: " + msg
	}
	for _, cs := range p.Status.ContainerStatuses {
		t := cs.State.Terminated
		if t == nil {
			t = cs.LastTerminationState.Terminated
		}
		if t == nil {
			continue
		}
		switch {
		case t.Reason == "OOMKilled":
			return "OOMKilled"
		case t.Reason != "" && t.Reason != "Error" && t.Reason != "Completed":
			return fmt.Sprintf("container ended: %s (exit code %d)", t.Reason, t.ExitCode)
		default:
			return fmt.Sprintf("container exited with code %d", t.ExitCode)
		}
	}
	if p.Status.Reason != "" || p.Status.Message != "" {
		return strings.TrimSpace("pod " + strings.ToLower(string(p.Status.Phase)) + ": " + p.Status.Reason + " " + p.Status.Message)
	}
	return "pod " + strings.ToLower(string(p.Status.Phase))
}

// deletedReason says why a pod pesd did not delete is being deleted: an
// eviction (a drain through the Eviction API, the scheduler's preemption,
// a taint) leaves a DisruptionTarget condition saying so; anything else
// is "deleted outside pes".
func deletedReason(p *corev1.Pod) string {
	if p != nil {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue {
				msg := strings.TrimSpace(c.Message)
				if msg == "" {
					msg = c.Reason
				}
				return "evicted: " + msg
			}
		}
	}
	return ReasonDeleted
}

// waitReason says why a pod is not ready yet or any more: an unschedulable
// pod, a container waiting (ImagePullBackOff, ...), or the Ready
// condition's message.
func waitReason(p *corev1.Pod) string {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Message != "" {
			return "not scheduled: " + c.Message
		}
	}
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil && w.Reason != "" {
			if w.Message != "" {
				return w.Reason + ": " + w.Message
			}
			return w.Reason
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status != corev1.ConditionTrue {
			if c.Message != "" {
				return "not ready: " + c.Message
			}
			if c.Reason != "" {
				return "not ready: " + c.Reason
			}
		}
	}
	return "pod " + strings.ToLower(string(p.Status.Phase))
}
