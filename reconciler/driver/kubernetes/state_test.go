package kubernetes

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestEndReason(t *testing.T) {
	term := func(reason string, code int32) corev1.PodStatus {
		return corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{{
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: reason, ExitCode: code}}}}}
	}
	cases := []struct {
		name   string
		status corev1.PodStatus
		want   string
	}{
		{"evicted", corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted", Message: "The node had condition: [MemoryPressure]."},
			"evicted: The node had condition: [MemoryPressure]."},
		{"evicted without message", corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted"}, "evicted: by the kubelet"},
		{"oom", term("OOMKilled", 137), "OOMKilled"},
		{"error", term("Error", 2), "container exited with code 2"},
		{"completed", corev1.PodStatus{Phase: corev1.PodSucceeded, ContainerStatuses: term("Completed", 0).ContainerStatuses}, "container exited with code 0"},
		{"other reason", term("ContainerCannotRun", 128), "container ended: ContainerCannotRun (exit code 128)"},
		{"node lost", corev1.PodStatus{Phase: corev1.PodFailed, Reason: "NodeLost", Message: "node gone"}, "pod failed: NodeLost node gone"},
		{"bare", corev1.PodStatus{Phase: corev1.PodFailed}, "pod failed"},
	}
	for _, c := range cases {
		if got := endReason(&corev1.Pod{Status: c.status}); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestView(t *testing.T) {
	ready := []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	notReady := []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}}
	now := metav1.Now()
	cases := []struct {
		name string
		pod  corev1.Pod
		want podView
	}{
		{"pending", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodPending}}, viewStarting},
		{"no status", corev1.Pod{}, viewStarting},
		{"running ready", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: ready}}, viewReady},
		{"running not ready", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: notReady}}, viewNotReady},
		{"running no condition", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning}}, viewNotReady},
		{"failed", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodFailed}}, viewEnded},
		{"succeeded", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodSucceeded}}, viewEnded},
		{"deleting", corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &now}, Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: ready}}, viewDeleting},
	}
	for _, c := range cases {
		if got := view(&c.pod); got != c.want {
			t.Errorf("%s: view %d, want %d", c.name, got, c.want)
		}
	}
}

func TestDeletedReason(t *testing.T) {
	drained := &corev1.Pod{Status: corev1.PodStatus{Conditions: []corev1.PodCondition{{
		Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: "EvictionByEvictionAPI",
		Message: "Eviction API: evicting"}}}}
	if got, want := deletedReason(drained), "evicted: Eviction API: evicting"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	if got := deletedReason(&corev1.Pod{}); got != ReasonDeleted {
		t.Errorf("%q, want %q", got, ReasonDeleted)
	}
	if got := deletedReason(nil); got != ReasonDeleted {
		t.Errorf("%q, want %q", got, ReasonDeleted)
	}
}

func TestWaitReason(t *testing.T) {
	unsched := &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{
		Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Message: "0/4 nodes are available: 4 Insufficient cpu."}}}}
	if got, want := waitReason(unsched), "not scheduled: 0/4 nodes are available: 4 Insufficient cpu."; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	pull := &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: "Back-off pulling image"}}}}}}
	if got, want := waitReason(pull), "ImagePullBackOff: Back-off pulling image"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}
