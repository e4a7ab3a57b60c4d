package kubernetes

import (
	"context"
	"log/slog"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// Sample names, as the local driver measures them.
const (
	MetricCPU    = "cpu_utilization" // percent of one core
	MetricMemory = "memory_bytes"    // working set
)

// metricsGroupVersion is the resource metrics API (metrics-server).
const metricsGroupVersion = "metrics.k8s.io/v1beta1"

// MetricsUnavailable is said once when the cluster does not serve
// metricsGroupVersion.
const MetricsUnavailable = "the cluster does not serve " + metricsGroupVersion +
	" (no metrics-server): cpu_utilization and memory_bytes have no samples for this driver's nodes, so a trigger over them reads \"no samples\", not 0"

// recheckMetrics is how often a cluster without the metrics API is asked
// again, in case metrics-server was installed meanwhile.
const recheckMetrics = 10 * time.Minute

// metricsReader reads pod usage from the resource metrics API, at most
// once per interval per group.
type metricsReader struct {
	client kubernetes.Interface
	mc     metricsclient.Interface
	log    *slog.Logger
	every  time.Duration

	mu        sync.Mutex
	checkedAt time.Time
	served    bool
	said      bool
	last      map[string]time.Time // group → last read
}

func newMetricsReader(cfg *rest.Config, client kubernetes.Interface, log *slog.Logger, every time.Duration) *metricsReader {
	r := &metricsReader{client: client, log: log, every: every, last: make(map[string]time.Time)}
	if mc, err := metricsclient.NewForConfig(cfg); err == nil {
		r.mc = mc
	}
	return r
}

// available reports whether the metrics API is served, asking the
// cluster's discovery at first and then every recheckMetrics while it is
// not. The first "no" is logged.
func (r *metricsReader) available(now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.served || (!r.checkedAt.IsZero() && now.Sub(r.checkedAt) < recheckMetrics) {
		return r.served
	}
	r.checkedAt = now
	_, err := r.client.Discovery().ServerResourcesForGroupVersion(metricsGroupVersion)
	r.served = err == nil && r.mc != nil
	if !r.served && !r.said {
		r.said = true
		r.log.Warn(MetricsUnavailable, "err", err)
	}
	return r.served
}

// due reports whether group's metrics should be read now, and marks them
// read.
func (r *metricsReader) due(group string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Sub(r.last[group]) < r.every {
		return false
	}
	r.last[group] = now
	return true
}

// MetricsMissing says, once the cluster has been asked, that it serves no
// resource metrics (driver.MetricsNoticer); "" otherwise.
func (d *Driver) MetricsMissing() string {
	r := d.metrics
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.checkedAt.IsZero() || r.served {
		return ""
	}
	return MetricsUnavailable
}

// MetricsServed reports whether the cluster serves the resource metrics
// API, asking it if that is not known yet.
func (d *Driver) MetricsServed() bool { return d.metrics.available(time.Now()) }

// sampleMetrics reads the usage of the group's ready pods when due and
// keeps it with the nodes for the next observation.
func (d *Driver) sampleMetrics(ctx context.Context, groupID string) {
	now := d.clk.Now()
	d.mu.Lock()
	namespaces := map[string]bool{}
	for _, n := range d.groups[groupID] {
		if n.state == api.NodeReady {
			namespaces[n.key.Namespace] = true
		}
	}
	d.mu.Unlock()
	if len(namespaces) == 0 || !d.metrics.due(groupID, now) || !d.metrics.available(time.Now()) {
		return
	}
	for ns := range namespaces {
		list, err := d.metrics.mc.MetricsV1beta1().PodMetricses(ns).List(ctx, metav1.ListOptions{LabelSelector: LabelGroup + "=" + groupID})
		if err != nil {
			d.log.Warn("read pod metrics", "namespace", ns, "group", groupID, "err", err)
			continue
		}
		d.mu.Lock()
		for _, pm := range list.Items {
			n := d.groups[groupID][pm.Labels[LabelNode]]
			if n == nil || n.state != api.NodeReady {
				continue
			}
			var cpu, mem float64
			for _, c := range pm.Containers {
				cpu += c.Usage.Cpu().AsApproximateFloat64()
				mem += float64(c.Usage.Memory().Value())
			}
			t := now
			if !pm.Timestamp.IsZero() {
				t = pm.Timestamp.Time
			}
			n.samples = append(n.samples,
				api.Sample{Name: MetricCPU, Value: cpu * 100, NodeID: n.id, Time: &t},
				api.Sample{Name: MetricMemory, Value: mem, NodeID: n.id, Time: &t})
			if extra := len(n.samples) - maxPendingSamples; extra > 0 {
				n.samples = append(n.samples[:0], n.samples[extra:]...)
			}
		}
		d.mu.Unlock()
	}
}

// maxPendingSamples bounds the samples kept for a node nobody observes.
const maxPendingSamples = 64
