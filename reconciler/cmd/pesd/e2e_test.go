//go:build linux

package main

// End-to-end process tests: the real pesd binary, built once in TestMain,
// started on a temporary data directory with --listen 127.0.0.1:0, real
// SQLite, real node processes (python3 -m http.server) and real HTTP.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/cli"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
	"github.com/pes-project/terraform-provider-pes/reconciler/server/servertest"
)

// pesdBin is the binary TestMain built; empty with -short.
var pesdBin string

func TestMain(m *testing.M) {
	if answer := os.Getenv(floorEnv); answer != "" {
		serveFloor(answer) // the instruction and causality benchmarks' floor server
	}
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "pesd-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin := filepath.Join(dir, "pesd")
	out, err := exec.Command(goTool(), "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build pesd: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	pesdBin = bin
	// Node processes outlive a killed pesd. Becoming their subreaper lets
	// the tests reap them, so a dead node never lingers as a zombie that
	// looks alive.
	if err := setSubreaper(); err != nil {
		fmt.Fprintf(os.Stderr, "warning: cannot become a subreaper: %v\n", err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		return filepath.Join(root, "bin", "go")
	}
	return "go"
}

func setSubreaper() error {
	const prSetChildSubreaper = 36
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		return errno
	}
	return nil
}

func needE2E(t testing.TB) {
	t.Helper()
	if testing.Short() || pesdBin == "" {
		t.Skip("end-to-end process test (skipped with -short)")
	}
}

func needPython(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed: the local-driver scenarios run python3 -m http.server")
	}
}

// pesdProc is one running pesd process.
type pesdProc struct {
	cmd     *exec.Cmd
	url     string
	dataDir string
	token   string
	logPath string
	exited  chan struct{}
	waitErr error
}

// startDaemon starts pesd on dataDir and waits for its "listening" line,
// which must name the store the flags chose. Extra serve flags come after
// the defaults, so they override them (the last value of a flag wins).
func startDaemon(t testing.TB, dataDir, token string, flags ...string) *pesdProc {
	t.Helper()
	return startDaemonEnv(t, dataDir, token, nil, flags...)
}

// startDaemonEnv is startDaemon with env ("PES_DSN=...") added to pesd's
// environment, as a deployment passes settings.
func startDaemonEnv(t testing.TB, dataDir, token string, env []string, flags ...string) *pesdProc {
	t.Helper()
	return startBinary(t, pesdBin, dataDir, token, env, flags...)
}

// startBinary is startDaemonEnv of the pesd binary bin (another build of
// pesd, such as an older one).
func startBinary(t testing.TB, bin, dataDir, token string, env []string, flags ...string) *pesdProc {
	t.Helper()
	logf, err := os.CreateTemp(t.TempDir(), "pesd-*.log")
	if err != nil {
		t.Fatal(err)
	}
	d := &pesdProc{dataDir: dataDir, token: token, logPath: logf.Name(), exited: make(chan struct{})}
	args := append([]string{"serve",
		"--listen", "127.0.0.1:0",
		"--data-dir", dataDir,
		"--evaluation-interval", "1s",
		"--observe-interval", "100ms",
		"--log-level", "debug"}, flags...)
	d.cmd = exec.Command(bin, args...)
	// The token comes from the environment, as in production.
	d.cmd.Env = append(append(os.Environ(), "PES_TOKEN="+token), env...)
	d.cmd.Stderr = logf
	stdout, err := d.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logf.Close()
	go func() {
		d.waitErr = d.cmd.Wait()
		close(d.exited)
	}()
	t.Cleanup(func() {
		d.kill9()
		if t.Failed() {
			t.Logf("pesd (pid %d) log:\n%s", d.cmd.Process.Pid, tail(d.logPath, 60))
		}
	})

	line := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		l, _ := r.ReadString('\n')
		line <- l
		_, _ = io.Copy(io.Discard, r)
	}()
	select {
	case l := <-line:
		const prefix = "pesd listening on "
		if !strings.HasPrefix(l, prefix) {
			t.Fatalf("pesd's first line is %q, want %q...\n%s", l, prefix, tail(d.logPath, 40))
		}
		d.url, _, _ = strings.Cut(strings.TrimPrefix(l, prefix), " ")
		scheme := "http"
		if flagValue(args, "tls-cert", "") != "" {
			scheme = "https"
		}
		if strings.HasSuffix(d.url, ":0") || !strings.HasPrefix(d.url, scheme+"://127.0.0.1:") {
			t.Fatalf("pesd printed %q: no real port", l)
		}
		want := fmt.Sprintf("(data dir %s, store %s)", dataDir, flagValue(args, "store", "sqlite"))
		if !strings.Contains(l, want) {
			t.Errorf("listening line %q lacks %q", l, want)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("pesd did not say where it listens within 30s\n%s", tail(d.logPath, 40))
	}
	return d
}

// flagValue is the last value args give flag name (as "--name value" or
// "--name=value", with one dash or two), or def.
func flagValue(args []string, name, def string) string {
	v := def
	for i, a := range args {
		a = strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if a == name && i+1 < len(args) {
			v = args[i+1]
		} else if val, ok := strings.CutPrefix(a, name+"="); ok {
			v = val
		}
	}
	return v
}

func (d *pesdProc) client(t testing.TB) *client.Client {
	t.Helper()
	c, err := client.New(d.url, d.token, client.WithRetryMax(2), client.WithRetryWait(50*time.Millisecond, 500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (d *pesdProc) kill9() {
	select {
	case <-d.exited:
		return
	default:
	}
	_ = d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.exited
}

// term sends SIGTERM and returns pesd's exit code.
func (d *pesdProc) term(t testing.TB) int {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("pesd did not exit within 20s of SIGTERM\n%s", tail(d.logPath, 40))
	}
	var ee *exec.ExitError
	if errors.As(d.waitErr, &ee) {
		return ee.ExitCode()
	}
	if d.waitErr != nil {
		t.Fatal(d.waitErr)
	}
	return 0
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// nodeProcs finds the live node processes of this test: they carry the
// marker in their environment (PES_E2E). It returns pid -> PES_NODE_ID.
// Zombies do not count: a zombie is a dead node.
type nodeProcs struct {
	marker string
	mu     sync.Mutex
	seen   map[int]bool
}

func newNodeProcs(t testing.TB) *nodeProcs {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	p := &nodeProcs{marker: hex.EncodeToString(b), seen: map[int]bool{}}
	// Registered before any daemon starts, so it runs after the daemons'
	// cleanups have killed pesd.
	t.Cleanup(p.killAll)
	return p
}

func (p *nodeProcs) env() map[string]string { return map[string]string{"PES_E2E": p.marker} }

func (p *nodeProcs) live() map[int]string {
	out := map[int]string{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !bytes.Contains(env, []byte("PES_E2E="+p.marker+"\x00")) {
			continue
		}
		if procState(pid) == "Z" {
			continue
		}
		node := ""
		for _, kv := range bytes.Split(env, []byte{0}) {
			if v, ok := bytes.CutPrefix(kv, []byte("PES_NODE_ID=")); ok {
				node = string(v)
			}
		}
		out[pid] = node
		p.mu.Lock()
		p.seen[pid] = true
		p.mu.Unlock()
	}
	return out
}

// procState is the state letter of /proc/<pid>/stat ("" when gone).
func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return ""
	}
	return string(b[i+2])
}

func alive(pid int) bool {
	s := procState(pid)
	return s != "" && s != "Z"
}

// killAll kills every node process of the test and reaps it.
func (p *nodeProcs) killAll() {
	p.live()
	p.mu.Lock()
	pids := make([]int, 0, len(p.seen))
	for pid := range p.seen {
		pids = append(pids, pid)
	}
	p.mu.Unlock()
	for _, pid := range pids {
		_ = syscall.Kill(-pid, syscall.SIGKILL) // its session's process group
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range pids {
		for time.Now().Before(deadline) {
			wpid, err := syscall.Wait4(pid, nil, syscall.WNOHANG, nil)
			if wpid == pid || errors.Is(err, syscall.ECHILD) && !alive(pid) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// eventually polls check until it reports done, or fails the test with
// the last status after timeout.
func eventually(t testing.TB, timeout time.Duration, what string, check func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	status := ""
	for {
		ok, s := check()
		if ok {
			return
		}
		status = s
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s; last: %s", what, timeout, status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// consistently polls check for d and fails the test at the first miss.
func consistently(t testing.TB, d time.Duration, what string, check func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if ok, s := check(); !ok {
			t.Fatalf("%s: %s", what, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func localGroup(name string, n int, procs *nodeProcs) api.GroupConfig {
	return api.GroupConfig{
		Name:   name,
		Driver: api.DriverLocal,
		Program: api.Program{
			Command: "python3",
			Args:    []string{"-m", "http.server", "${PES_PORT}", "--bind", "127.0.0.1"},
			Env:     procs.env(),
		},
		DesiredQuantity: n,
		MaxQuantity:     10,
		Replacement:     api.ReplacementImmediate,
		InitDeadline:    "30s",
		HealthCheck:     &api.HealthCheck{Type: api.HealthHTTP, Path: "/", Interval: "200ms", FailureThreshold: 2},
	}
}

func simGroup(name string, n int) api.GroupConfig {
	return api.GroupConfig{
		Name:            name,
		Driver:          api.DriverSim,
		Program:         api.Program{Command: "sim-worker"},
		DesiredQuantity: n,
		MaxQuantity:     10,
		Replacement:     api.ReplacementImmediate,
		Sim:             &api.SimConfig{BootTime: "200ms"},
	}
}

func waitActual(t testing.TB, ctx context.Context, c *client.Client, id string, want int, timeout time.Duration) api.Group {
	t.Helper()
	var g api.Group
	eventually(t, timeout, fmt.Sprintf("group %s actual_quantity %d", id, want), func() (bool, string) {
		var err error
		g, err = c.GetGroup(ctx, id)
		if err != nil {
			return false, err.Error()
		}
		return g.ActualQuantity == want, fmt.Sprintf("desired %d actual %d", g.DesiredQuantity, g.ActualQuantity)
	})
	return g
}

// readyPIDs returns node id -> pid of the group's ready nodes.
func readyPIDs(ctx context.Context, c *client.Client, groupID string) (map[string]int, error) {
	nodes, err := c.ListNodes(ctx, groupID, client.NodeFilter{})
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, n := range nodes {
		if n.State != api.NodeReady {
			continue
		}
		pid, err := strconv.Atoi(n.Handle["pid"])
		if err != nil {
			return nil, fmt.Errorf("node %s: handle %v has no pid", n.ID, n.Handle)
		}
		out[n.ID] = pid
	}
	return out, nil
}

// chain is what a lost node leaves in the causality record: the failure
// event, the change attributed to it, the replacement request chained to
// that change, and the change that replaced the node.
type chain struct {
	failure, replacement api.Event
	lost, added          api.Change
}

// findChain looks for the chain started by an event of type failureType
// (for node, or any node when node is "").
func findChain(ctx context.Context, c *client.Client, groupID, failureType, node string) (chain, string, error) {
	var ch chain
	events, err := c.ListAllEvents(ctx, groupID, client.EventFilter{})
	if err != nil {
		return ch, "", err
	}
	for _, e := range events {
		if e.Type == failureType && (node == "" || e.NodeID == node) {
			ch.failure = e
		}
	}
	if ch.failure.ID == "" {
		return ch, "no " + failureType + " event yet", nil
	}
	if ch.failure.NexusID == "" {
		return ch, ch.failure.Label + " has no nexus yet", nil
	}
	lost, err := c.ListAllChanges(ctx, groupID, client.ChangeFilter{CausedBy: ch.failure.ID})
	if err != nil {
		return ch, "", err
	}
	if len(lost) == 0 {
		return ch, "no change caused by " + ch.failure.Label, nil
	}
	ch.lost = lost[0]
	for _, e := range events {
		if e.Type == api.EventReplacementRequest && e.ParentChangeID == ch.lost.ID {
			ch.replacement = e
		}
	}
	if ch.replacement.ID == "" {
		return ch, "no replacement_requested event with parent_change_id " + ch.lost.Label, nil
	}
	added, err := c.ListAllChanges(ctx, groupID, client.ChangeFilter{CausedBy: ch.replacement.ID, Type: api.ChangeAddNodes})
	if err != nil {
		return ch, "", err
	}
	if len(added) == 0 {
		return ch, "no add_nodes change caused by " + ch.replacement.Label, nil
	}
	ch.added = added[0]
	return ch, "", nil
}

// checkChain checks the chain both ways through the causality queries.
func checkChain(t *testing.T, ctx context.Context, c *client.Client, ch chain) {
	t.Helper()
	if ch.lost.NexusID != ch.failure.NexusID {
		t.Errorf("change %s nexus %q, failure event %s nexus %q: not linked", ch.lost.Label, ch.lost.NexusID, ch.failure.Label, ch.failure.NexusID)
	}
	if ch.lost.Type != api.ChangeNodeLost && ch.lost.Type != api.ChangeRemoveNodes {
		t.Errorf("change %s caused by %s has type %s, want node_lost or remove_nodes", ch.lost.Label, ch.failure.Label, ch.lost.Type)
	}
	ed, err := c.GetEvent(ctx, ch.failure.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(ed.Effects, func(e api.Effect) bool { return e.Change.ID == ch.lost.ID }) {
		t.Errorf("effects of %s do not include %s: %+v", ch.failure.Label, ch.lost.Label, ed.Effects)
	}
	if ed.Explanation == "" {
		t.Errorf("event %s has no explanation", ch.failure.Label)
	}
	cd, err := c.GetChange(ctx, ch.added.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(cd.Causes, func(c api.Cause) bool { return c.Event.ID == ch.replacement.ID }) {
		t.Errorf("causes of %s do not include %s: %+v", ch.added.Label, ch.replacement.Label, cd.Causes)
	}
	if cd.Explanation == "" {
		t.Errorf("change %s has no explanation", ch.added.Label)
	}
	t.Logf("chain: %s (%s) -> %s (%s) -> %s (%s, parent %s) -> %s (%s %d)", ch.failure.Label, ch.failure.Type,
		ch.lost.Label, ch.lost.Type, ch.replacement.Label, ch.replacement.Type, ch.lost.Label, ch.added.Label, ch.added.Type, ch.added.Amount)
	t.Logf("explanation of %s: %s", ch.added.Label, cd.Explanation)
}

func TestE2ELocalNodeKilledIsReplaced(t *testing.T) {
	needE2E(t)
	needPython(t)
	procs := newNodeProcs(t)
	d := startDaemon(t, t.TempDir(), "e2e-token")
	c := d.client(t)
	ctx := ctxFor(t)

	g, err := c.CreateGroup(ctx, localGroup("web", 3, procs))
	if err != nil {
		t.Fatal(err)
	}
	waitActual(t, ctx, c, g.ID, 3, 20*time.Second)

	ready, err := readyPIDs(ctx, c, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	live := procs.live()
	if len(ready) != 3 || len(live) != 3 {
		t.Fatalf("%d ready nodes %v, %d node processes %v; want 3 and 3", len(ready), ready, len(live), live)
	}
	for node, pid := range ready {
		if live[pid] != node {
			t.Errorf("node %s has pid %d, but that process is %q", node, pid, live[pid])
		}
	}

	// Kill one node's process the hard way.
	victim := slices.Sorted(maps.Keys(ready))[0]
	if err := syscall.Kill(ready[victim], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}

	var ch chain
	eventually(t, 15*time.Second, "node_unavailable -> change -> replacement_requested -> add change", func() (bool, string) {
		var status string
		ch, status, err = findChain(ctx, c, g.ID, api.EventNodeUnavailable, victim)
		if err != nil {
			return false, err.Error()
		}
		return status == "", status
	})
	checkChain(t, ctx, c, ch)
	waitActual(t, ctx, c, g.ID, 3, 15*time.Second)
	eventually(t, 10*time.Second, "3 node processes, the killed one gone", func() (bool, string) {
		live := procs.live()
		_, victimLive := live[ready[victim]]
		return len(live) == 3 && !victimLive, fmt.Sprintf("node processes %v", live)
	})
}

// TestE2EPushedNotPolled: with the resync and trigger evaluation an hour
// apart, a real pesd still marks nodes ready, replaces a failed node, and
// answers a long-poll read as soon as the group has its capacity: driver
// pushes drive it all, and the server's wait is woken by commits.
func TestE2EPushedNotPolled(t *testing.T) {
	needE2E(t)
	d := startDaemon(t, t.TempDir(), "e2e-token", "--observe-interval", "1h", "--evaluation-interval", "1h")
	c := d.client(t)
	ctx := ctxFor(t)
	cfg := simGroup("pushed", 3)
	cfg.Sim = &api.SimConfig{BootTime: "300ms"}
	g, err := c.CreateGroup(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	atLeast3 := api.GroupWait{Field: "actual_quantity", Op: ">=", Value: 3}
	got, met, err := c.WaitGroup(ctx, g.ID, atLeast3, 20*time.Second)
	if err != nil || !met || got.ActualQuantity != 3 {
		t.Fatalf("wait for 3 ready: met %v, actual %d, %v; want met with 3", met, got.ActualQuantity, err)
	}

	nodes, err := c.ListNodes(ctx, g.ID, client.NodeFilter{})
	if err != nil || len(nodes) != 3 {
		t.Fatalf("nodes %v, %v", nodes, err)
	}
	if err := c.FailNode(ctx, g.ID, nodes[0].ID); err != nil {
		t.Fatal(err)
	}
	// The failure is recorded when FailNode returns; the replacement
	// boots and is pushed ready.
	got, met, err = c.WaitGroup(ctx, g.ID, atLeast3, 20*time.Second)
	if err != nil || !met {
		t.Fatalf("wait for the replacement: met %v, actual %d, %v", met, got.ActualQuantity, err)
	}
	ch, status, err := findChain(ctx, c, g.ID, api.EventNodeUnavailable, nodes[0].ID)
	if err != nil || status != "" {
		t.Fatalf("the failure's causality chain: %s %v", status, err)
	}
	checkChain(t, ctx, c, ch)

	// A condition that does not come true answers at the timeout, with
	// the group as it is.
	got, met, err = c.WaitGroup(ctx, g.ID, api.GroupWait{Field: "actual_quantity", Op: ">=", Value: 4}, 200*time.Millisecond)
	if err != nil || met || got.ActualQuantity != 3 {
		t.Errorf("wait for 4 of 3: met %v, actual %d, %v; want not met, 3", met, got.ActualQuantity, err)
	}
}

func TestE2ESimInitFailureIsReplaced(t *testing.T) {
	needE2E(t)
	d := startDaemon(t, t.TempDir(), "e2e-token")
	c := d.client(t)
	ctx := ctxFor(t)

	cfg := simGroup("batch", 2)
	cfg.Sim.InitFailures = 1
	cfg.InitDeadline = "2s"
	g, err := c.CreateGroup(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var ch chain
	eventually(t, 15*time.Second, "node_init_failed -> termination change -> replacement_requested -> add change", func() (bool, string) {
		var status string
		ch, status, err = findChain(ctx, c, g.ID, api.EventNodeInitFailed, "")
		if err != nil {
			return false, err.Error()
		}
		return status == "", status
	})
	checkChain(t, ctx, c, ch)
	waitActual(t, ctx, c, g.ID, 2, 10*time.Second)
}

// snapshot is what must survive a restart of pesd.
type snapshot struct {
	groups  map[string]api.Group
	events  map[string]string // id -> label
	changes map[string]string
}

func takeSnapshot(t *testing.T, ctx context.Context, c *client.Client, groupIDs ...string) snapshot {
	t.Helper()
	s := snapshot{groups: map[string]api.Group{}, events: map[string]string{}, changes: map[string]string{}}
	for _, id := range groupIDs {
		g, err := c.GetGroup(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		s.groups[id] = g
		events, err := c.ListAllEvents(ctx, id, client.EventFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			s.events[e.ID] = e.Label
		}
		changes, err := c.ListAllChanges(ctx, id, client.ChangeFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range changes {
			s.changes[ch.ID] = ch.Label
		}
	}
	return s
}

// checkKept checks that everything in before is still there in after.
func checkKept(t *testing.T, before, after snapshot) {
	t.Helper()
	for id, g := range before.groups {
		a, ok := after.groups[id]
		if !ok {
			t.Errorf("group %s (%s) is gone", id, g.Name)
			continue
		}
		if a.Name != g.Name || a.DesiredQuantity != g.DesiredQuantity || a.Driver != g.Driver {
			t.Errorf("group %s changed: %s/%s desired %d -> %s/%s desired %d", id, g.Name, g.Driver, g.DesiredQuantity, a.Name, a.Driver, a.DesiredQuantity)
		}
	}
	for id, label := range before.events {
		if after.events[id] != label {
			t.Errorf("event %s (%s) is gone or relabelled %q", id, label, after.events[id])
		}
	}
	for id, label := range before.changes {
		if after.changes[id] != label {
			t.Errorf("change %s (%s) is gone or relabelled %q", id, label, after.changes[id])
		}
	}
}

// checkAdopted waits until the local group has exactly the recorded nodes
// ready with the same processes, then checks that it stays so: no
// duplicate launched next to an adopted node.
func checkAdopted(t *testing.T, ctx context.Context, c *client.Client, procs *nodeProcs, groupID string, want map[string]int) {
	t.Helper()
	same := func() (bool, string) {
		ready, err := readyPIDs(ctx, c, groupID)
		if err != nil {
			return false, err.Error()
		}
		live := procs.live()
		g, err := c.GetGroup(ctx, groupID)
		if err != nil {
			return false, err.Error()
		}
		status := fmt.Sprintf("ready nodes %v, want %v; node processes %v; desired %d actual %d", ready, want, live, g.DesiredQuantity, g.ActualQuantity)
		ok := len(ready) == len(want) && len(live) == g.DesiredQuantity && g.ActualQuantity == g.DesiredQuantity
		for node, pid := range want {
			ok = ok && ready[node] == pid && live[pid] == node
		}
		return ok, status
	}
	eventually(t, 15*time.Second, "local nodes re-adopted", same)
	consistently(t, 2*time.Second, "adopted nodes stay exactly the recorded ones", same)
}

func TestE2ERestartAdoptsNodes(t *testing.T) {
	needE2E(t)
	needPython(t)
	procs := newNodeProcs(t)
	dir := t.TempDir()
	d := startDaemon(t, dir, "e2e-token")
	c := d.client(t)
	ctx := ctxFor(t)

	web, err := c.CreateGroup(ctx, localGroup("web", 2, procs))
	if err != nil {
		t.Fatal(err)
	}
	batch, err := c.CreateGroup(ctx, simGroup("batch", 2))
	if err != nil {
		t.Fatal(err)
	}
	waitActual(t, ctx, c, web.ID, 2, 20*time.Second)
	waitActual(t, ctx, c, batch.ID, 2, 10*time.Second)
	nodes, err := readyPIDs(ctx, c, web.ID)
	if err != nil {
		t.Fatal(err)
	}
	before := takeSnapshot(t, ctx, c, web.ID, batch.ID)

	// kill -9: no shutdown at all. The nodes live on in their sessions.
	d.kill9()
	if live := procs.live(); len(live) != 2 {
		t.Fatalf("after kill -9 of pesd: node processes %v, want the 2 nodes alive", live)
	}

	d2 := startDaemon(t, dir, "e2e-token")
	c2 := d2.client(t)
	after := takeSnapshot(t, ctx, c2, web.ID, batch.ID)
	checkKept(t, before, after)
	checkAdopted(t, ctx, c2, procs, web.ID, nodes)
	waitActual(t, ctx, c2, batch.ID, 2, 10*time.Second)

	// SIGTERM: a clean exit 0, and the local nodes keep running.
	if code := d2.term(t); code != 0 {
		t.Fatalf("pesd exited %d after SIGTERM, want 0\n%s", code, tail(d2.logPath, 30))
	}
	live := procs.live()
	if len(live) != 2 {
		t.Fatalf("after SIGTERM: node processes %v, want the 2 nodes alive", live)
	}
	for node, pid := range nodes {
		if live[pid] != node {
			t.Errorf("after SIGTERM: node %s (pid %d) is not running", node, pid)
		}
	}
	if !strings.Contains(tail(d2.logPath, 20), "local nodes keep running") {
		t.Errorf("pesd's log does not say the local nodes keep running:\n%s", tail(d2.logPath, 20))
	}

	d3 := startDaemon(t, dir, "e2e-token")
	c3 := d3.client(t)
	checkKept(t, before, takeSnapshot(t, ctx, c3, web.ID, batch.ID))
	checkAdopted(t, ctx, c3, procs, web.ID, nodes)
	waitActual(t, ctx, c3, batch.ID, 2, 10*time.Second)
}

func TestE2EDataDirLocked(t *testing.T) {
	needE2E(t)
	dir := t.TempDir()
	startDaemon(t, dir, "e2e-token")
	out, err := exec.Command(pesdBin, "serve", "--listen", "127.0.0.1:0", "--data-dir", dir, "--token", "x").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 {
		t.Fatalf("a second pesd on the same data dir: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "in use by another pesd") {
		t.Errorf("second pesd says %q, want it to name the lock", out)
	}
	if !strings.Contains(string(out), "--store postgres") {
		t.Errorf("second pesd says %q, want it to point at --store postgres for several replicas", out)
	}
}

func TestE2EAPIAndCLI(t *testing.T) {
	needE2E(t)
	d := startDaemon(t, t.TempDir(), "e2e-token")
	c := d.client(t)
	ctx := ctxFor(t)

	t.Run("401 without a token", func(t *testing.T) {
		for _, tok := range []string{"", "wrong-token"} {
			nc, err := client.New(d.url, tok, client.WithRetryMax(0))
			if err != nil {
				t.Fatal(err)
			}
			_, err = nc.ListGroups(ctx, client.GroupFilter{})
			if !client.IsUnauthorized(err) {
				t.Errorf("token %q: error %v, want a 401", tok, err)
			}
			if err := nc.Healthz(ctx); err != nil {
				t.Errorf("healthz with token %q: %v", tok, err)
			}
		}
	})

	// Not named "api": the malformed table renames the group to "api" and
	// expects a refusal, which a no-op rename would not get.
	g, err := c.CreateGroup(ctx, simGroup("cli-e2e", 2))
	if err != nil {
		t.Fatal(err)
	}
	waitActual(t, ctx, c, g.ID, 2, 10*time.Second)

	t.Run("malformed requests", func(t *testing.T) {
		servertest.RunMalformed(t, d.url, d.token, g.ID)
	})

	t.Run("cli", func(t *testing.T) {
		t.Setenv("PES_ENDPOINT", d.url)
		t.Setenv("PES_TOKEN", d.token)

		code, out, errOut := runCLI("changes", "--group", g.ID, "-o", "json")
		if code != 0 {
			t.Fatalf("pesd changes -o json: exit %d\n%s", code, errOut)
		}
		var changes []api.Change
		if err := json.Unmarshal([]byte(out), &changes); err != nil {
			t.Fatalf("pesd changes -o json is not a list of changes: %v\n%s", err, out)
		}
		var c1 *api.Change
		for i := range changes {
			if changes[i].Label == "C1" {
				c1 = &changes[i]
			}
		}
		if c1 == nil || c1.GroupID != g.ID || c1.Type != api.ChangeAddNodes || c1.Amount != 2 {
			t.Fatalf("pesd changes -o json: no C1 adding 2 nodes to %s in %s", g.ID, out)
		}

		want, err := c.GetChange(ctx, c1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want.Explanation == "" {
			t.Fatalf("change C1 has no explanation")
		}
		code, out, errOut = runCLI("explain", "change", "C1", "--group", g.ID)
		if code != 0 {
			t.Fatalf("pesd explain change C1: exit %d\n%s", code, errOut)
		}
		if len(want.Causes) == 0 {
			t.Fatalf("change C1 has no causes")
		}
		for _, s := range []string{want.Explanation, "causes:", want.Causes[0].Event.Label, api.EventGroupCreated} {
			if !strings.Contains(out, s) {
				t.Errorf("pesd explain change C1 lacks %q:\n%s", s, out)
			}
		}

		// By group name, and the event side.
		code, out, errOut = runCLI("explain", "event", "E1", "--group", "cli-e2e")
		if code != 0 || !strings.Contains(out, "effects:") || !strings.Contains(out, "C1") {
			t.Errorf("pesd explain event E1 --group cli-e2e: exit %d\n%s%s", code, out, errOut)
		}

		for _, args := range [][]string{
			{"changes", "--group", "00000000-0000-7000-8000-000000000000"},
			{"explain", "change", "C1", "--group", "no-such-group"},
		} {
			code, out, errOut = runCLI(args...)
			if code == 0 || errOut == "" || out != "" {
				t.Errorf("pesd %s: exit %d, stdout %q, stderr %q; want a failure on stderr", strings.Join(args, " "), code, out, errOut)
			}
		}
	})

	// Names wherever ids go, in the real daemon: a trigger made and read by
	// names, and a deleted group's name answering where its history is,
	// through the API and the CLI.
	t.Run("names", func(t *testing.T) {
		t.Setenv("PES_ENDPOINT", d.url)
		t.Setenv("PES_TOKEN", d.token)
		name, cond, by := "queue-high", "avg(queue_depth, '1m') > 10", 1
		tr, err := c.CreateTrigger(ctx, "cli-e2e", api.TriggerSpec{Name: &name, Condition: &cond, Request: api.Request{ChangeBy: &by}})
		if err != nil || tr.GroupID != g.ID {
			t.Fatalf("create a trigger in group cli-e2e by name: %+v, %v", tr, err)
		}
		if got, err := c.FindTrigger(ctx, "cli-e2e", name); err != nil || got.ID != tr.ID {
			t.Errorf("trigger %s of cli-e2e by name: %+v, %v; want %s", name, got, err, tr.ID)
		}

		gone, err := c.CreateGroup(ctx, simGroup("gone", 1))
		if err != nil {
			t.Fatal(err)
		}
		waitActual(t, ctx, c, gone.ID, 1, 10*time.Second)
		if err := c.DeleteGroup(ctx, "gone"); err != nil {
			t.Fatalf("delete group gone by name: %v", err)
		}
		deleted, err := c.GetGroup(ctx, gone.ID)
		if err != nil || deleted.DeletedAt == nil {
			t.Fatalf("group gone by id after the delete: %+v, %v", deleted, err)
		}
		want := fmt.Sprintf("group gone was deleted at %s; its history is under id %s (pesd groups --all)",
			deleted.DeletedAt.UTC().Format(time.RFC3339), gone.ID)
		_, err = c.Instruct(ctx, "gone", api.Instruction{Request: api.Request{ChangeBy: &by}})
		var ae *api.Error
		if !errors.As(err, &ae) || ae.Status != 404 || ae.Message != want {
			t.Errorf("instruct the deleted group gone by name: %v; want a 404 saying %q", err, want)
		}

		servertest.RunDeletedGroupName(t, d.url, d.token, "gone", want)
		servertest.RunReadsByName(t, d.url, d.token, g.ID, "cli-e2e")

		code, out, errOut := runCLI("changes", "--group", "gone")
		if code != cli.ExitNotFound || !strings.Contains(errOut, want) {
			t.Errorf("pesd changes --group gone: exit %d\n%s%s\nwant exit 3 (not found) and %q", code, out, errOut, want)
		}
		code, out, errOut = runCLI("changes", "--group", "gone", "--all", "-o", "json")
		var changes []api.Change
		if code != 0 || json.Unmarshal([]byte(out), &changes) != nil || len(changes) == 0 || changes[0].GroupID != gone.ID {
			t.Errorf("pesd changes --group gone --all: exit %d, want the deleted group's changes\n%s%s", code, out, errOut)
		}
	})
}

// BenchmarkPesdStartup measures how long pesd takes from exec to its
// "listening" line on a fresh data directory (migrations included).
func BenchmarkPesdStartup(b *testing.B) {
	needE2E(b)
	var total time.Duration
	for b.Loop() {
		start := time.Now()
		d := startDaemon(b, b.TempDir(), "bench-token")
		total += time.Since(start)
		d.kill9()
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/start")
}

// defaultObserveInterval is pesd's default --observe-interval: the
// benchmarks measure pesd as deployed, not with the tests' fast resync.
const defaultObserveInterval = "5s"

// BenchmarkLocalReplacement measures, on a local group of 3 nodes under
// pesd's default intervals, the time from kill -9 of a node process until
// the group has 3 ready nodes again, the killed one not among them
// (detection, causality records, launch, health check): sleep-style nodes
// (`sleep`, a process check every 100ms), and python3 http nodes (an http
// check every 200ms).
func BenchmarkLocalReplacement(b *testing.B) {
	needE2E(b)
	b.Run("sleep", func(b *testing.B) {
		procs := newNodeProcs(b)
		cfg := localGroup("bench-sleep", 3, procs)
		cfg.Program = api.Program{Command: "sleep", Args: []string{"600"}, Env: procs.env()}
		cfg.HealthCheck = &api.HealthCheck{Type: api.HealthProcess, Interval: "100ms"}
		benchReplacement(b, cfg)
	})
	b.Run("http", func(b *testing.B) {
		needPython(b)
		benchReplacement(b, localGroup("bench-http", 3, newNodeProcs(b)))
	})
}

func benchReplacement(b *testing.B, cfg api.GroupConfig) {
	d := startDaemon(b, b.TempDir(), "bench-token", "--observe-interval", defaultObserveInterval, "--log-level", "info")
	c := d.client(b)
	ctx := ctxFor(b)
	g, err := c.CreateGroup(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	waitActual(b, ctx, c, g.ID, 3, 20*time.Second)
	var total time.Duration
	for b.Loop() {
		ready, err := readyPIDs(ctx, c, g.ID)
		if err != nil || len(ready) != 3 {
			b.Fatalf("ready nodes %v, %v", ready, err)
		}
		victim := slices.Sorted(maps.Keys(ready))[0]
		start := time.Now()
		if err := syscall.Kill(ready[victim], syscall.SIGKILL); err != nil {
			b.Fatal(err)
		}
		// Polled every 10ms, not eventually's 100ms, which would add
		// 50ms on average to what is measured.
		deadline := time.Now().Add(20 * time.Second)
		for {
			now, err := readyPIDs(ctx, c, g.ID)
			if _, stillThere := now[victim]; err == nil && len(now) == 3 && !stillThere {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("no replacement ready within 20s; ready %v, %v", now, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/replacement")
}
