// Package kubernetes is the kubernetes driver: each node is one pod on a
// Kubernetes cluster, created and deleted by pesd itself. There is no
// Deployment or ReplicaSet and no ownerReference, because the
// harmonization decides how many nodes run, not a Kubernetes controller.
//
// Every pod is labelled with its group ID, node ID and index (LabelGroup,
// LabelNode, LabelIndex) and named after its node ID, so a restarted pesd
// finds it again, even one whose handle was never stored, and a retried
// create meets the first pod instead of making a second.
//
// Pods are observed through one shared informer (a watch) per namespace;
// Observe reads the driver's memory, which the informer's events keep
// current, and never lists pods.
//
// Pushes (driver.Driver.SetNotify): an informer event that changes a
// node's state (ready, ended, deleted) pushes the node's group; a ready
// pod that stops being ready is pushed again when the health check's
// threshold has passed, by a timer on the driver's clock, since that is
// when Observe judges it unavailable.
package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sort"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
)

// Handle keys.
const (
	HandleNamespace = "namespace"
	HandlePod       = "pod"
	HandleUID       = "uid"
)

// nodeIndex indexes the informer's pods by their node-id label.
const nodeIndex = "pes-node-id"

var (
	_ driver.Driver         = (*Driver)(nil)
	_ driver.MetricsNoticer = (*Driver)(nil)
)

// Option configures a Driver.
type Option func(*Driver)

// WithClock sets the clock that stamps observations.
func WithClock(c clock.Clock) Option { return func(d *Driver) { d.clk = c } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(d *Driver) { d.log = l } }

// WithGrace sets the grace of a deletion when neither the group's
// termination_grace_period nor Terminate gives one (default 10s).
func WithGrace(g time.Duration) Option { return func(d *Driver) { d.grace = g } }

// WithMetricsInterval sets how often pod metrics are read from
// metrics.k8s.io, where the cluster serves it (default 15s, the
// metrics-server's own resolution).
func WithMetricsInterval(iv time.Duration) Option { return func(d *Driver) { d.metricsEvery = iv } }

// Driver runs nodes as pods. It is safe for concurrent use.
type Driver struct {
	driver.Notifier
	client       kubernetes.Interface
	clk          clock.Clock
	log          *slog.Logger
	grace        time.Duration
	metricsEvery time.Duration
	metrics      *metricsReader

	stop chan struct{} // ends the informers at Close

	mu      sync.Mutex
	closed  bool
	watches map[string]*watch // by namespace
	groups  map[string]map[string]*node
	byPod   map[types.NamespacedName]*node
}

// watch is the informer of one namespace's pesd pods.
type watch struct {
	informer cache.SharedIndexInformer

	mu      sync.Mutex
	lastErr error // the last list/watch failure, to say why a sync fails
}

// node is one pod. The fields above pod are set when the node is tracked
// and never change; the rest are guarded by Driver.mu.
type node struct {
	group, id string
	index     int
	key       types.NamespacedName
	uid       types.UID
	handle    map[string]string
	cfg       nodeConfig
	gone      chan struct{} // closed once the pod is deleted from the API
	goneOnce  sync.Once

	pod           *corev1.Pod // the latest version seen (read-only)
	deleted       bool        // the pod is gone from the API
	terminating   bool        // pesd deletes it
	wasReady      bool
	notReadySince time.Time

	state   string
	reason  string
	since   time.Time
	samples []api.Sample
}

// New returns a kubernetes driver talking to the cluster of cfg.
func New(cfg *rest.Config, opts ...Option) (*Driver, error) {
	if cfg == nil {
		return nil, errors.New("kubernetes: no cluster configuration")
	}
	cfg = rest.CopyConfig(cfg)
	// The default 5 requests per second would make launching 100 pods
	// take 20s of client-side throttling.
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 100, 200
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "pesd"
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes: %w", err)
	}
	d := &Driver{
		client:       client,
		clk:          clock.Real{},
		log:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		grace:        10 * time.Second,
		metricsEvery: 15 * time.Second,
		stop:         make(chan struct{}),
		watches:      make(map[string]*watch),
		groups:       make(map[string]map[string]*node),
		byPod:        make(map[types.NamespacedName]*node),
	}
	for _, o := range opts {
		o(d)
	}
	d.metrics = newMetricsReader(cfg, client, d.log, d.metricsEvery)
	return d, nil
}

// Name returns "kubernetes".
func (d *Driver) Name() string { return api.DriverKubernetes }

// Launch creates the node's pod and returns at once; the node is
// launching until the pod is Running and Ready. Launching a node the
// driver runs returns its handle; one whose pod exists already (a
// previous pesd created it and died before storing the handle) is
// adopted, not created twice.
func (d *Driver) Launch(ctx context.Context, spec driver.NodeSpec) (map[string]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if spec.GroupID == "" {
		return nil, errors.New("kubernetes: launch: group_id: is required")
	}
	if err := validNodeID("node_id", spec.NodeID); err != nil {
		return nil, fmt.Errorf("kubernetes: launch: %w", err)
	}
	if spec.Index < 0 {
		return nil, fmt.Errorf("kubernetes: launch: index: must be ≥ 0; got %d", spec.Index)
	}
	cfg, err := configOf(spec)
	if err != nil {
		return nil, fmt.Errorf("kubernetes: launch: %w", err)
	}
	pod, err := newPod(spec, cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes: launch: %w", err)
	}
	if h, ok := d.known(spec.GroupID, spec.NodeID); ok {
		return h, nil
	}
	w, err := d.watch(ctx, cfg.namespace)
	if err != nil {
		return nil, fmt.Errorf("kubernetes: launch: %w", err)
	}
	pods := d.client.CoreV1().Pods(cfg.namespace)
	created, err := pods.Create(ctx, pod, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		created, err = pods.Get(ctx, pod.Name, metav1.GetOptions{})
		if err == nil && (created.Labels[LabelNode] != spec.NodeID || created.Labels[LabelGroup] != spec.GroupID) {
			return nil, fmt.Errorf("kubernetes: launch: pod %s/%s exists and is not node %s of group %s", cfg.namespace, pod.Name, spec.NodeID, spec.GroupID)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("kubernetes: launch: create pod %s/%s: %w", cfg.namespace, pod.Name, hint(err))
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	if n, ok := d.groups[spec.GroupID][spec.NodeID]; ok {
		return cloneHandle(n.handle), nil // a concurrent Launch of the same node won
	}
	n := d.track(specKey(spec), cfg, newest(created, w.cached(created)))
	n.state, n.since = api.NodeLaunching, d.clk.Now()
	d.refresh(n, n.since)
	d.log.Info("pod created", "group", n.group, "node", n.id, "pod", n.key.String())
	return cloneHandle(n.handle), nil
}

// known returns the handle of a node the driver runs.
func (d *Driver) known(groupID, nodeID string) (map[string]string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if n, ok := d.groups[groupID][nodeID]; ok {
		return cloneHandle(n.handle), true
	}
	return nil, false
}

// node returns a node the driver runs, or nil.
func (d *Driver) node(groupID, nodeID string) *node {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.groups[groupID][nodeID]
}

// track starts following pod as the node of k. Called with d.mu held.
func (d *Driver) track(k nodeKey, cfg nodeConfig, pod *corev1.Pod) *node {
	n := &node{
		group: k.group, id: k.id, index: k.index,
		key:  types.NamespacedName{Namespace: pod.Namespace, Name: pod.Name},
		uid:  pod.UID,
		cfg:  cfg,
		gone: make(chan struct{}),
		pod:  pod,
	}
	n.handle = map[string]string{HandleNamespace: n.key.Namespace, HandlePod: n.key.Name, HandleUID: string(n.uid)}
	g, ok := d.groups[n.group]
	if !ok {
		g = make(map[string]*node)
		d.groups[n.group] = g
	}
	g[n.id] = n
	d.byPod[n.key] = n
	return n
}

// nodeKey names a node of a group.
type nodeKey struct {
	group, id string
	index     int
}

// refresh brings n's state up to date with its pod and the clock. Called
// with d.mu held. Terminated is final; unavailable is final but for
// terminated, as for a local node: the controller replaces an unavailable
// node rather than waiting for it.
func (d *Driver) refresh(n *node, now time.Time) {
	set := func(state, reason string) {
		if n.state != state {
			n.state, n.since = state, now
			d.log.Info("node "+state, "group", n.group, "node", n.id, "pod", n.key.String(), "reason", reason)
		}
		n.reason = reason
	}
	switch {
	case n.state == api.NodeTerminated:
		return
	case n.deleted && n.terminating:
		set(api.NodeTerminated, ReasonTerminated)
		return
	case n.state == api.NodeUnavailable:
		return // the first cause stays the reason
	case n.deleted:
		reason := deletedReason(n.pod)
		if n.pod != nil && n.pod.DeletionTimestamp == nil && view(n.pod) == viewEnded {
			reason = endReason(n.pod)
		}
		set(api.NodeUnavailable, reason)
		return
	}
	p := n.pod
	switch view(p) {
	case viewDeleting:
		if !n.terminating {
			set(api.NodeUnavailable, deletedReason(p))
		}
	case viewEnded:
		set(api.NodeUnavailable, endReason(p))
	case viewReady:
		n.wasReady, n.notReadySince = true, time.Time{}
		set(api.NodeReady, "")
	default:
		if !n.wasReady {
			set(api.NodeLaunching, waitReason(p))
			return
		}
		if n.notReadySince.IsZero() {
			n.notReadySince = now
		}
		// A ready node that stops being ready gets the health check's
		// threshold to come back, as a local node's failed probes do.
		if now.Sub(n.notReadySince) >= n.cfg.threshold {
			set(api.NodeUnavailable, fmt.Sprintf("not ready for %s: %s", now.Sub(n.notReadySince).Round(time.Second), waitReason(p)))
		}
	}
}

// Terminate deletes the node's pod with the group's grace period (or
// grace, when the group sets none) and returns once the pod is gone. It is
// idempotent; unknown nodes are not an error. If ctx ends first it returns
// ctx's error and the deletion goes on.
func (d *Driver) Terminate(ctx context.Context, groupID, nodeID string, grace time.Duration) error {
	d.mu.Lock()
	n, ok := d.groups[groupID][nodeID]
	if !ok || n.state == api.NodeTerminated {
		d.mu.Unlock()
		return nil
	}
	if n.cfg.grace > 0 {
		grace = n.cfg.grace
	}
	if grace <= 0 {
		grace = d.grace
	}
	n.terminating = true
	deleted := n.deleted
	d.refresh(n, d.clk.Now())
	d.mu.Unlock()
	if deleted {
		return nil
	}
	secs := int64(math.Ceil(grace.Seconds()))
	uid := n.uid
	err := d.client.CoreV1().Pods(n.key.Namespace).Delete(ctx, n.key.Name, metav1.DeleteOptions{
		GracePeriodSeconds: &secs,
		// Never delete a pod of the same name that is not this node's.
		Preconditions: &metav1.Preconditions{UID: &uid},
	})
	switch {
	case apierrors.IsNotFound(err), apierrors.IsConflict(err):
		d.podGone(n, nil)
		return nil
	case err != nil:
		return fmt.Errorf("kubernetes: terminate node %s: delete pod %s: %w", nodeID, n.key, hint(err))
	}
	d.log.Info("deleting pod", "group", groupID, "node", nodeID, "pod", n.key.String(), "grace", grace)
	select {
	case <-n.gone:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("kubernetes: terminate node %s: %w", nodeID, ctx.Err())
	}
}

// Observe reports the group's nodes by index, with the metrics sampled
// since the previous Observe.
func (d *Driver) Observe(ctx context.Context, groupID string) ([]driver.Observation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.sampleMetrics(ctx, groupID)
	d.mu.Lock()
	defer d.mu.Unlock()
	g := d.groups[groupID]
	now := d.clk.Now()
	obs := make([]driver.Observation, 0, len(g))
	for _, n := range g {
		d.refresh(n, now)
		obs = append(obs, n.observe())
	}
	sort.Slice(obs, func(i, j int) bool {
		a, b := g[obs[i].NodeID], g[obs[j].NodeID]
		if a.index != b.index {
			return a.index < b.index
		}
		return a.id < b.id
	})
	return obs, nil
}

// observe reports n and hands over its samples. Called with d.mu held.
func (n *node) observe() driver.Observation {
	o := driver.Observation{
		NodeID:  n.id,
		State:   n.state,
		Reason:  n.reason,
		Since:   n.since,
		Handle:  cloneHandle(n.handle),
		Samples: n.samples,
	}
	n.samples = nil
	return o
}

// Adopt finds the pods of nodes recorded before a restart: by the handle's
// namespace and name (and UID), or, for a node recorded without a handle,
// by its node-id label. A pod that is there is followed again and keeps
// its recorded state as far as the pod agrees (a ready node whose pod is
// Ready stays ready); a pod that is gone makes the node unavailable ("pod
// gone while pesd was down"). A node without handle and without pod is
// left out of the report, for the caller to launch. Nodes recorded
// terminating are deleted now.
func (d *Driver) Adopt(ctx context.Context, specs []driver.AdoptSpec) ([]driver.Observation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var (
		nodes     []*node
		finishing []*node
	)
	for _, s := range specs {
		if s.GroupID == "" {
			return nil, errors.New("kubernetes: adopt: group_id: is required")
		}
		if err := validNodeID("node_id", s.NodeID); err != nil {
			return nil, fmt.Errorf("kubernetes: adopt: %w", err)
		}
		if n := d.node(s.GroupID, s.NodeID); n != nil {
			nodes = append(nodes, n)
			continue
		}
		cfg, cfgErr := configOf(s.NodeSpec)
		ns := s.Handle[HandleNamespace]
		if ns == "" {
			ns = cfg.namespace
		}
		if ns == "" {
			// Neither a handle nor a config says where to look.
			if len(s.Handle) == 0 {
				continue
			}
			return nil, fmt.Errorf("kubernetes: adopt node %s: %v", s.NodeID, cfgErr)
		}
		w, err := d.watch(ctx, ns)
		if err != nil {
			return nil, fmt.Errorf("kubernetes: adopt: %w", err)
		}
		pod, name := w.find(s)
		if pod == nil && len(s.Handle) == 0 {
			continue // never created: not ours to report
		}
		if pod == nil {
			// Gone: keep the recorded name and UID for the record.
			pod = &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(s.Handle[HandleUID])}}
		}
		d.mu.Lock()
		if n, ok := d.groups[s.GroupID][s.NodeID]; ok {
			nodes = append(nodes, n)
			d.mu.Unlock()
			continue
		}
		n := d.track(nodeKey{s.GroupID, s.NodeID, s.Index}, cfg, pod)
		d.adopt(n, s.State, pod.ResourceVersion == "")
		if n.state != api.NodeTerminated && n.terminating {
			finishing = append(finishing, n)
		}
		nodes = append(nodes, n)
		d.mu.Unlock()
	}
	for _, n := range finishing {
		if err := d.Terminate(ctx, n.group, n.id, d.grace); err != nil {
			return nil, fmt.Errorf("kubernetes: adopt: finish terminating: %w", err)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	obs := make([]driver.Observation, len(nodes))
	now := d.clk.Now()
	for i, n := range nodes {
		d.refresh(n, now)
		obs[i] = n.observe()
	}
	return obs, nil
}

// adopt sets the starting state of an adopted node from its recorded state
// and whether its pod is gone. Called with d.mu held.
func (d *Driver) adopt(n *node, recorded string, gone bool) {
	now := d.clk.Now()
	n.since = now
	if gone {
		n.deleted = true
		n.goneOnce.Do(func() { close(n.gone) })
	}
	switch recorded {
	case api.NodeTerminated:
		n.state, n.reason = api.NodeTerminated, ReasonTerminated
		if !gone {
			// Recorded terminated but still there: finish the job.
			go d.deleteQuietly(n)
		}
		return
	case api.NodeTerminating:
		n.terminating = true
		n.state = api.NodeLaunching
	case api.NodeUnavailable:
		n.state, n.reason = api.NodeUnavailable, ReasonWasDown
		return
	case api.NodeReady:
		n.state, n.wasReady = api.NodeReady, true
	default:
		n.state = api.NodeLaunching
	}
	if gone && !n.terminating {
		n.state, n.reason = api.NodeUnavailable, ReasonGoneWhileDown
		return
	}
	d.refresh(n, now)
	d.log.Info("node adopted", "group", n.group, "node", n.id, "pod", n.key.String(), "state", n.state)
}

// deleteQuietly deletes the pod of a node recorded terminated.
func (d *Driver) deleteQuietly(n *node) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	uid := n.uid
	err := d.client.CoreV1().Pods(n.key.Namespace).Delete(ctx, n.key.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		d.log.Warn("delete pod of a terminated node", "node", n.id, "pod", n.key.String(), "err", err)
	}
}

// Fail is not supported: a pod fails on its own.
func (d *Driver) Fail(ctx context.Context, groupID, nodeID string) error {
	return fmt.Errorf("kubernetes: fail node %s: %w", nodeID, driver.ErrUnsupported)
}

// Close stops watching. Pods keep running for the next pesd to adopt.
func (d *Driver) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.closed {
		d.closed = true
		close(d.stop)
	}
	return nil
}

// watch returns the synced informer of namespace ns, starting it on first
// use.
func (d *Driver) watch(ctx context.Context, ns string) (*watch, error) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil, errors.New("driver is closed")
	}
	w, ok := d.watches[ns]
	if !ok {
		w = d.newWatch(ns)
		d.watches[ns] = w
		go w.informer.Run(d.stop)
	}
	d.mu.Unlock()
	if w.informer.HasSynced() {
		return w, nil
	}
	if !cache.WaitForCacheSync(ctx.Done(), w.informer.HasSynced) {
		w.mu.Lock()
		err := w.lastErr
		w.mu.Unlock()
		if err != nil {
			return nil, fmt.Errorf("watch pods in namespace %s: %w", ns, hint(err))
		}
		return nil, fmt.Errorf("watch pods in namespace %s: %w", ns, ctx.Err())
	}
	return w, nil
}

func (d *Driver) newWatch(ns string) *watch {
	w := &watch{}
	w.informer = coreinformers.NewFilteredPodInformer(d.client, ns, 0,
		cache.Indexers{nodeIndex: func(obj any) ([]string, error) {
			if p, ok := obj.(*corev1.Pod); ok {
				return []string{p.Labels[LabelNode]}, nil
			}
			return nil, nil
		}},
		func(o *metav1.ListOptions) { o.LabelSelector = LabelManagedBy + "=" + ManagedBy })
	// Managed fields are most of a pod's bytes and none of our business:
	// 5,000 watched pods stay small without them.
	_ = w.informer.SetTransform(func(obj any) (any, error) {
		if p, ok := obj.(*corev1.Pod); ok {
			p.ManagedFields = nil
		}
		return obj, nil
	})
	_ = w.informer.SetWatchErrorHandler(func(_ *cache.Reflector, err error) {
		w.mu.Lock()
		w.lastErr = err
		w.mu.Unlock()
		d.log.Warn("watch pods", "namespace", ns, "err", err)
	})
	_, _ = w.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { d.podSeen(obj) },
		UpdateFunc: func(_, obj any) { d.podSeen(obj) },
		DeleteFunc: func(obj any) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			p, ok := obj.(*corev1.Pod)
			if !ok {
				return
			}
			d.mu.Lock()
			n := d.byPod[types.NamespacedName{Namespace: p.Namespace, Name: p.Name}]
			d.mu.Unlock()
			if n != nil && n.uid == p.UID {
				d.podGone(n, p)
			}
		},
	})
	return w
}

// podSeen records a new version of a pod the driver follows, and pushes
// a change of its state.
func (d *Driver) podSeen(obj any) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	d.mu.Lock()
	n := d.byPod[types.NamespacedName{Namespace: p.Namespace, Name: p.Name}]
	if n == nil || n.uid != p.UID || n.deleted {
		d.mu.Unlock()
		return
	}
	before, notReady := n.state, n.notReadySince
	n.pod = newest(p, n.pod)
	now := d.clk.Now()
	d.refresh(n, now)
	changed := n.state != before
	// Newly not ready: Observe judges it unavailable once the threshold
	// has passed, with no event to say so.
	judgeIn := time.Duration(-1)
	if notReady.IsZero() && !n.notReadySince.IsZero() && n.state == api.NodeReady {
		judgeIn = n.notReadySince.Add(n.cfg.threshold).Sub(now)
	}
	group := n.group
	d.mu.Unlock()
	if changed {
		d.Notify(group)
	}
	if judgeIn >= 0 && d.Notifying() {
		if t, ok := d.clk.(clock.Timer); ok {
			t.AfterFunc(judgeIn, func() { d.Notify(group) })
		}
	}
}

// podGone records that n's pod is deleted; last is its final version, if
// known. It pushes the change.
func (d *Driver) podGone(n *node, last *corev1.Pod) {
	d.mu.Lock()
	if last != nil {
		n.pod = newest(last, n.pod)
	}
	n.deleted = true
	before := n.state
	d.refresh(n, d.clk.Now())
	changed := n.state != before
	d.mu.Unlock()
	n.goneOnce.Do(func() { close(n.gone) })
	if changed {
		d.Notify(n.group)
	}
}

// cached returns the informer's copy of p, if it has one.
func (w *watch) cached(p *corev1.Pod) *corev1.Pod {
	obj, ok, err := w.informer.GetIndexer().GetByKey(p.Namespace + "/" + p.Name)
	if err != nil || !ok {
		return nil
	}
	c, _ := obj.(*corev1.Pod)
	if c == nil || c.UID != p.UID {
		return nil
	}
	return c
}

// find looks up the pod of a recorded node: by its handle, else by its
// node-id label. It returns the pod (nil if gone) and its name.
func (w *watch) find(s driver.AdoptSpec) (*corev1.Pod, string) {
	if name := s.Handle[HandlePod]; name != "" {
		obj, ok, err := w.informer.GetIndexer().GetByKey(s.Handle[HandleNamespace] + "/" + name)
		if err != nil || !ok {
			return nil, name
		}
		p, _ := obj.(*corev1.Pod)
		if p == nil || (s.Handle[HandleUID] != "" && string(p.UID) != s.Handle[HandleUID]) {
			return nil, name // a pod of the same name that is not ours
		}
		return p, name
	}
	objs, err := w.informer.GetIndexer().ByIndex(nodeIndex, s.NodeID)
	if err != nil {
		return nil, podName(s.NodeID)
	}
	for _, obj := range objs {
		if p, ok := obj.(*corev1.Pod); ok && p.Labels[LabelGroup] == s.GroupID {
			return p, p.Name
		}
	}
	return nil, podName(s.NodeID)
}

// specKey names the node of a spec.
func specKey(s driver.NodeSpec) nodeKey { return nodeKey{s.GroupID, s.NodeID, s.Index} }

// newest returns the later of two versions of one pod (by resource
// version, which the apiserver's etcd storage makes a growing number).
func newest(a, b *corev1.Pod) *corev1.Pod {
	if b == nil {
		return a
	}
	if a == nil {
		return b
	}
	ra, errA := strconv.ParseUint(a.ResourceVersion, 10, 64)
	rb, errB := strconv.ParseUint(b.ResourceVersion, 10, 64)
	if errA != nil || errB != nil || ra >= rb {
		return a
	}
	return b
}

// hint adds what to do to errors that have an obvious remedy.
func hint(err error) error {
	switch {
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%w (pesd's service account or kubeconfig user needs the Role in examples/kubernetes/rbac.yaml: get, list, watch, create and delete on pods)", err)
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%w (does the namespace exist?)", err)
	}
	return err
}

func cloneHandle(h map[string]string) map[string]string {
	if h == nil {
		return nil
	}
	c := make(map[string]string, len(h))
	for k, v := range h {
		c[k] = v
	}
	return c
}
