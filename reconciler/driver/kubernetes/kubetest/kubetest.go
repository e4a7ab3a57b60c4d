// Package kubetest starts a throwaway Kubernetes control plane for tests:
// etcd, kube-apiserver and kube-scheduler on loopback ports in a temporary
// directory, and KWOK, which plays the kubelets of a few simulated nodes so
// pods are scheduled and become Running and Ready without containers. The
// way the PostgreSQL tests start their own server.
//
// The binaries come from scripts/ensure-kube.sh (`make kube`), which keeps
// them in a cache outside the clone; a test finds them there, in
// $PES_KUBE_BIN, or on PATH. Without them a test skips, saying what is
// missing, except in CI (CI=true), where it fails.
package kubetest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// KubeVersion is the release scripts/ensure-kube.sh builds; its cache
// directory is named after it.
const KubeVersion = "v1.31.4"

// Binaries are the programs a cluster needs.
var Binaries = []string{"etcd", "kube-apiserver", "kube-scheduler", "kwok"}

// Annotations KWOK is told to act on.
const (
	// FakeNodeAnnotation marks the nodes KWOK plays the kubelet of.
	FakeNodeAnnotation = "kwok.x-k8s.io/node"
	// CustomStatusAnnotation on a pod (value "custom") makes KWOK leave
	// its status alone, so a test can play a kubelet's failure
	// (NotReady, evicted) by writing the status itself.
	CustomStatusAnnotation = "pes-test/status"
)

// Cluster is a running control plane with simulated nodes.
type Cluster struct {
	// Kubeconfig is the path of a kubeconfig file for the cluster (an
	// admin token), for pesd's --kubeconfig and for kubectl.
	Kubeconfig string
	// Config is the same, for client-go.
	Config *rest.Config
	// Client is a clientset on Config.
	Client kubernetes.Interface
	// Nodes are the names of the simulated nodes.
	Nodes []string

	dir   string
	procs []*proc
	nsSeq int
	mu    sync.Mutex
}

// Options shape a cluster.
type Options struct {
	// Nodes is the number of simulated nodes (default 3).
	Nodes int
	// PodsPerNode is each node's pod capacity (default 110, the
	// kubelet's).
	PodsPerNode int
}

var (
	sharedOnce sync.Once
	shared     *Cluster
	sharedErr  error
	sharedSkip string
)

// Shared returns the cluster of the test binary, starting it at the first
// call; Main stops it. Tests isolate themselves with NewNamespace.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	sharedOnce.Do(func() {
		if missing, where := Missing(); len(missing) > 0 {
			sharedSkip = skipLine(missing, where)
			return
		}
		shared, sharedErr = Start(Options{Nodes: 4, PodsPerNode: 2000})
	})
	switch {
	case sharedSkip != "":
		SkipOrFail(t, sharedSkip)
	case sharedErr != nil:
		t.Fatalf("start the test cluster: %v", sharedErr)
	}
	return shared
}

// StartT starts a cluster of t's own, stopped when t ends; it skips t
// (fails it in CI) when the binaries are missing.
func StartT(t testing.TB, o Options) *Cluster {
	t.Helper()
	if missing, where := Missing(); len(missing) > 0 {
		SkipOrFail(t, skipLine(missing, where))
	}
	c, err := Start(o)
	if err != nil {
		t.Fatalf("start the test cluster: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(c.Logs())
		}
		c.Stop()
	})
	return c
}

// Main runs the tests of m and stops the shared cluster, if one started:
// call it from TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	if shared != nil {
		shared.Stop()
	}
	return code
}

// SkipOrFail skips t with msg, or fails it in CI, where every test must
// run.
func SkipOrFail(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI must run these tests: `make test` gets the binaries)")
	}
	t.Skip(msg)
}

func skipLine(missing []string, where []string) string {
	return fmt.Sprintf("Kubernetes tests need %s, not found in %s; `make kube` gets them (once, cached in ~/.cache/pes)",
		strings.Join(missing, ", "), strings.Join(where, ", "))
}

// binDirs are the directories searched for the binaries, in order.
func binDirs() []string {
	var dirs []string
	if d := os.Getenv("PES_KUBE_BIN"); d != "" {
		dirs = append(dirs, d)
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		if home, err := os.UserHomeDir(); err == nil {
			cache = filepath.Join(home, ".cache")
		}
	}
	if cache != "" {
		dirs = append(dirs, filepath.Join(cache, "pes", "kube-"+KubeVersion))
	}
	return dirs
}

// Bin returns the path of binary name, or "" when it is nowhere.
func Bin(name string) string {
	for _, d := range binDirs() {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return ""
}

// Missing lists the binaries not found, and where they were looked for.
func Missing() (missing, where []string) {
	for _, b := range Binaries {
		if Bin(b) == "" {
			missing = append(missing, b)
		}
	}
	return missing, append(binDirs(), "PATH")
}

// proc is one started program.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	// cleanup runs after the program ended (etcd's data directory).
	cleanup func()
}

// Start starts a cluster. The caller stops it with Stop.
func Start(o Options) (c *Cluster, err error) {
	if o.Nodes <= 0 {
		o.Nodes = 3
	}
	if o.PodsPerNode <= 0 {
		o.PodsPerNode = 110
	}
	if missing, where := Missing(); len(missing) > 0 {
		return nil, errors.New(skipLine(missing, where))
	}
	dir, err := os.MkdirTemp("", "pes-kube-")
	if err != nil {
		return nil, err
	}
	c = &Cluster{dir: dir}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	etcdPort, peerPort, apiPort := ports[0], ports[1], ports[2]

	// etcd keeps its data in memory-backed /dev/shm where there is one:
	// durability is not under test, and etcd fsyncs every write.
	etcdData, err := os.MkdirTemp(shmDir(), "pes-etcd-")
	if err != nil {
		return nil, err
	}
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", etcdPort)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	if err := c.start("etcd", Bin("etcd"),
		"--name", "pes",
		"--data-dir", etcdData,
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "pes="+peerURL,
		"--log-level", "warn",
	); err != nil {
		return nil, err
	}
	c.procs[len(c.procs)-1].cleanup = func() { os.RemoveAll(etcdData) }
	if err := c.waitHTTP("etcd", http.DefaultClient, etcdURL+"/health", ""); err != nil {
		return nil, err
	}

	pki, err := makePKI(dir)
	if err != nil {
		return nil, err
	}
	apiURL := fmt.Sprintf("https://127.0.0.1:%d", apiPort)
	if err := c.start("kube-apiserver", Bin("kube-apiserver"),
		"--etcd-servers", etcdURL,
		"--bind-address", "127.0.0.1",
		"--advertise-address", "127.0.0.1",
		"--secure-port", strconv.Itoa(apiPort),
		"--tls-cert-file", pki.serverCert, "--tls-private-key-file", pki.serverKey,
		"--client-ca-file", pki.caCert,
		"--token-auth-file", pki.tokenFile,
		"--authorization-mode", "RBAC",
		"--service-account-issuer", "https://kubernetes.default.svc",
		"--service-account-key-file", pki.saKey,
		"--service-account-signing-key-file", pki.saKey,
		"--service-cluster-ip-range", "10.96.0.0/16",
		// No controller-manager runs: nothing would create the default
		// service account of a namespace, or its tokens, and nothing
		// would lift the not-ready taint admission puts on a new node.
		"--disable-admission-plugins", "ServiceAccount,TaintNodesByCondition",
		"--endpoint-reconciler-type", "none",
		"--profiling=false",
		"--v", "0",
	); err != nil {
		return nil, err
	}
	caPEM, err := os.ReadFile(pki.caCert)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	tlsClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if err := c.waitHTTP("kube-apiserver", tlsClient, apiURL+"/readyz", pki.token); err != nil {
		return nil, err
	}

	c.Config = &rest.Config{
		Host:            apiURL,
		BearerToken:     pki.token,
		TLSClientConfig: rest.TLSClientConfig{CAData: caPEM},
		QPS:             200, Burst: 400,
	}
	c.Kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(c.Kubeconfig, kubeconfig(apiURL, caPEM, pki.token), 0o600); err != nil {
		return nil, err
	}
	if c.Client, err = kubernetes.NewForConfig(c.Config); err != nil {
		return nil, err
	}

	if err := c.start("kube-scheduler", Bin("kube-scheduler"),
		"--kubeconfig", c.Kubeconfig,
		"--authentication-kubeconfig", c.Kubeconfig,
		"--authorization-kubeconfig", c.Kubeconfig,
		"--leader-elect=false",
		"--bind-address", "127.0.0.1",
		"--secure-port", "0",
		"--v", "0",
	); err != nil {
		return nil, err
	}
	if err := c.start("kwok", Bin("kwok"),
		"--kubeconfig", c.Kubeconfig,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector", FakeNodeAnnotation+"=fake",
		"--disregard-status-with-annotation-selector", CustomStatusAnnotation+"=custom",
		"--cidr", "10.0.0.1/16",
		"--node-ip", "10.0.0.1",
	); err != nil {
		return nil, err
	}
	if err := c.addNodes(o.Nodes, o.PodsPerNode); err != nil {
		return nil, err
	}
	return c, nil
}

// addNodes creates n simulated nodes and waits until KWOK reports them
// Ready, so the scheduler places pods on them.
func (c *Cluster) addNodes(n, pods int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i := range n {
		name := fmt.Sprintf("kwok-node-%d", i)
		capacity := corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("64"),
			corev1.ResourceMemory: resource.MustParse("256Gi"),
			corev1.ResourcePods:   *resource.NewQuantity(int64(pods), resource.DecimalSI),
		}
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name:        name,
				Annotations: map[string]string{FakeNodeAnnotation: "fake", "node.alpha.kubernetes.io/ttl": "0"},
				Labels: map[string]string{
					"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
					"type": "kwok",
				},
			},
			Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
		}
		if _, err := c.Client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create node %s: %w", name, err)
		}
		c.Nodes = append(c.Nodes, name)
	}
	for {
		list, err := c.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		ready := 0
		if err == nil {
			for _, nd := range list.Items {
				for _, cond := range nd.Status.Conditions {
					if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
						ready++
					}
				}
			}
		}
		if ready == n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d simulated nodes Ready after 2m: is kwok running?\n%s", ready, n, c.logTail("kwok"))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// NewNamespace creates a namespace of its own for t.
func (c *Cluster) NewNamespace(t testing.TB) string {
	t.Helper()
	c.mu.Lock()
	c.nsSeq++
	name := fmt.Sprintf("t%d-%s", c.nsSeq, randHex(3))
	c.mu.Unlock()
	_, err := c.Client.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	return name
}

// Stop ends every program and removes the cluster's directory.
func (c *Cluster) Stop() {
	for i := len(c.procs) - 1; i >= 0; i-- {
		c.procs[i].stop()
	}
	c.procs = nil
	if c.dir != "" {
		os.RemoveAll(c.dir)
	}
}

// Logs returns the tail of every program's log, for a failing test.
func (c *Cluster) Logs() string {
	var b strings.Builder
	for _, p := range c.procs {
		b.WriteString(c.logTail(p.name))
	}
	return b.String()
}

func (c *Cluster) start(name, bin string, args ...string) error {
	logPath := filepath.Join(c.dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Dir = c.dir
	// Its own process group, so stop reaches its children; and killed
	// with the test binary, so an interrupted run leaves nothing behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	c.procs = append(c.procs, p)
	return nil
}

func (p *proc) stop() {
	select {
	case <-p.done:
	default:
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	}
	if p.cleanup != nil {
		p.cleanup()
	}
}

// waitHTTP polls url until it answers 200, the program exits, or a
// minute passes (a busy 2-core machine starts kube-apiserver in ~10s).
func (c *Cluster) waitHTTP(name string, client *http.Client, url, token string) error {
	p := c.procs[len(c.procs)-1]
	deadline := time.Now().Add(90 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err == nil {
			body := make([]byte, 512)
			n, _ := resp.Body.Read(body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%s: %s", resp.Status, bytes.TrimSpace(body[:n]))
		} else {
			last = err.Error()
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited while starting\n%s", name, c.logTail(name))
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s not ready after 90s (%s)\n%s", name, last, c.logTail(name))
}

func (c *Cluster) logTail(name string) string {
	b, err := os.ReadFile(filepath.Join(c.dir, name+".log"))
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return fmt.Sprintf("--- %s log (last %d lines)\n%s\n", name, len(lines), strings.Join(lines, "\n"))
}

func shmDir() string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		return "/dev/shm"
	}
	return ""
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// pki is the files kube-apiserver needs: a CA, a serving certificate for
// 127.0.0.1, a service-account signing key and a static admin token.
type pki struct {
	caCert, serverCert, serverKey, saKey, tokenFile string
	token                                           string
}

func makePKI(dir string) (pki, error) {
	p := pki{
		caCert: filepath.Join(dir, "ca.crt"), serverCert: filepath.Join(dir, "apiserver.crt"),
		serverKey: filepath.Join(dir, "apiserver.key"), saKey: filepath.Join(dir, "sa.key"),
		tokenFile: filepath.Join(dir, "tokens.csv"), token: randHex(16),
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return p, err
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pes-test-ca"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(7 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return p, err
	}
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return p, err
	}
	srv := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kube-apiserver"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(7 * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.96.0.1")},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return p, err
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srv, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		return p, err
	}
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return p, err
	}
	files := []struct {
		path  string
		block string
		der   func() ([]byte, error)
	}{
		{p.caCert, "CERTIFICATE", func() ([]byte, error) { return caDER, nil }},
		{p.serverCert, "CERTIFICATE", func() ([]byte, error) { return srvDER, nil }},
		{p.serverKey, "EC PRIVATE KEY", func() ([]byte, error) { return x509.MarshalECPrivateKey(srvKey) }},
		{p.saKey, "EC PRIVATE KEY", func() ([]byte, error) { return x509.MarshalECPrivateKey(saKey) }},
	}
	for _, f := range files {
		der, err := f.der()
		if err != nil {
			return p, err
		}
		if err := os.WriteFile(f.path, pem.EncodeToMemory(&pem.Block{Type: f.block, Bytes: der}), 0o600); err != nil {
			return p, err
		}
	}
	// token,user,uid,"group": system:masters may do anything.
	if err := os.WriteFile(p.tokenFile, []byte(p.token+`,admin,admin,"system:masters"`+"\n"), 0o600); err != nil {
		return p, err
	}
	return p, nil
}

func kubeconfig(server string, ca []byte, token string) []byte {
	return fmt.Appendf(nil, `apiVersion: v1
kind: Config
clusters:
- name: pes-test
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: admin
  user:
    token: %s
contexts:
- name: pes-test
  context:
    cluster: pes-test
    user: admin
current-context: pes-test
`, server, base64.StdEncoding.EncodeToString(ca), token)
}
