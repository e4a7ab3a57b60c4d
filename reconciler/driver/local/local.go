// Package local is the local driver: each node is a real OS process
// running the group's program on this machine.
//
// A node process runs in its own session, so it outlives pesd and a signal
// to pesd does not reach it; a restarted pesd re-adopts it from its handle
// (pid, process start time, port, log path), which is also written to
// <dataDir>/nodes/<group>/<node>.pid before Launch returns, so a launch is
// found again even if pesd died before storing the handle. Its stdout and
// stderr go to <dataDir>/nodes/<group>/<node>.log. The driver probes each node in the
// background (health check, CPU and memory), first one interval after
// launch, and Observe reads the latest state.
//
// Pushes (driver.Driver.SetNotify): a process exit (seen by cmd.Wait for
// the driver's children, by the prober for adopted processes) and every
// health-check transition (launching → ready, ready → unavailable) push
// the node's group as they happen.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
)

// Handle keys.
const (
	HandlePID       = "pid"
	HandleStartTime = "start_time" // field 22 of /proc/<pid>/stat
	HandlePort      = "port"
	HandleLog       = "log"
)

// Environment variables every node gets (driver.Env*).
const (
	EnvGroupID   = driver.EnvGroupID
	EnvNodeID    = driver.EnvNodeID
	EnvNodeIndex = driver.EnvNodeIndex
	EnvPort      = driver.EnvPort
)

// Reasons.
const (
	ReasonGoneWhileDown = "process gone while pesd was down"
	ReasonNoHandle      = "no process recorded for the node"
	ReasonTerminated    = "terminated"
)

// Sample names.
const (
	MetricCPU    = "cpu_utilization" // percent of one core
	MetricMemory = "memory_bytes"    // resident set size
)

// maxPendingSamples bounds the samples kept for a node nobody observes.
const maxPendingSamples = 64

// terminatePoll is how often a terminating process that is not our child
// is checked for exit.
const terminatePoll = 20 * time.Millisecond

var _ driver.Driver = (*Driver)(nil)

// Option configures a Driver.
type Option func(*Driver)

// WithClock sets the clock that stamps observations and samples.
func WithClock(c clock.Clock) Option { return func(d *Driver) { d.clk = c } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(d *Driver) { d.log = l } }

// WithProbeInterval sets how often a node is probed when its health check
// gives no interval (default api.DefaultHealthInterval).
func WithProbeInterval(iv time.Duration) Option { return func(d *Driver) { d.interval = iv } }

// WithGrace sets the grace between SIGTERM and SIGKILL when Terminate is
// given none (default 10s).
func WithGrace(g time.Duration) Option { return func(d *Driver) { d.grace = g } }

// Driver runs nodes as OS processes. It is safe for concurrent use.
type Driver struct {
	driver.Notifier
	dir      string
	clk      clock.Clock
	log      *slog.Logger
	interval time.Duration
	grace    time.Duration
	logMax   int64 // node logs are rotated past this size

	ctx    context.Context // ends probing at Close
	cancel context.CancelFunc
	probes sync.WaitGroup
	closed sync.Once

	mu     sync.Mutex
	groups map[string]map[string]*node
	ports  map[int]bool // ports of running nodes

	jobs jobTable // execution jobs (jobs.go)
}

// node is one process. The fields above mu's are set before the node is
// shared and never change.
type node struct {
	group, id string
	index     int
	pid       int
	startTime uint64
	port      int
	logPath   string
	handle    map[string]string
	check     check
	child     bool          // started by this driver: Wait reports its exit
	gone      chan struct{} // closed once the process has exited (and, if a child, been reaped)
	attached  bool          // a process runs or ran under this driver

	// Guarded by Driver.mu.
	state       string
	reason      string
	since       time.Time
	failures    int
	terminating bool
	killed      bool // SIGKILL was needed
	samples     []api.Sample
	cpuTicks    uint64
	cpuAt       time.Time
	goneOnce    sync.Once
}

// New returns a local driver keeping node logs under dataDir.
func New(dataDir string, opts ...Option) (*Driver, error) {
	if dataDir == "" {
		return nil, errors.New("local: data dir is required")
	}
	d := &Driver{
		dir:    dataDir,
		clk:    clock.Real{},
		log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		grace:  10 * time.Second,
		logMax: DefaultLogMax,
		groups: make(map[string]map[string]*node),
		ports:  make(map[int]bool),
	}
	d.interval = api.DefaultDurations().HealthInterval
	for _, o := range opts {
		o(d)
	}
	if d.interval <= 0 {
		return nil, fmt.Errorf("local: probe interval must be positive; got %s", d.interval)
	}
	if err := os.MkdirAll(filepath.Join(dataDir, "nodes"), 0o755); err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	return d, nil
}

// Name returns "local".
func (d *Driver) Name() string { return api.DriverLocal }

// Launch starts the node's process and returns at once; the node is
// launching until its first passing health check. Launching a node ID the
// group already has starts nothing and returns the existing handle.
func (d *Driver) Launch(ctx context.Context, spec driver.NodeSpec) (map[string]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := validIDs(spec.GroupID, spec.NodeID); err != nil {
		return nil, fmt.Errorf("local: launch: %w", err)
	}
	if spec.Program.Command == "" {
		return nil, errors.New("local: launch: program.command: is required")
	}
	if spec.Index < 0 {
		return nil, fmt.Errorf("local: launch: index: must be ≥ 0; got %d", spec.Index)
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	// Checked under mu, so no prober starts after Close.
	if d.ctx.Err() != nil {
		return nil, errors.New("local: launch: driver is closed")
	}
	if n, ok := d.groups[spec.GroupID][spec.NodeID]; ok {
		return cloneHandle(n.handle), nil
	}
	// A process a previous pesd launched for this node and whose handle
	// it never stored: attach to it rather than start a second one.
	if h, err := d.readRecord(spec.GroupID, spec.NodeID); err == nil && recordAlive(h) {
		n := d.adopt(driver.AdoptSpec{NodeSpec: spec, State: api.NodeLaunching, Handle: h})
		d.add(n)
		return cloneHandle(n.handle), nil
	}
	port, err := d.freePort()
	if err != nil {
		return nil, fmt.Errorf("local: launch: choose a port: %w", err)
	}
	n, err := d.start(spec, port)
	if err != nil {
		delete(d.ports, port)
		return nil, fmt.Errorf("local: launch node %s: %w", spec.NodeID, err)
	}
	d.add(n)
	d.log.Info("node launched", "group", n.group, "node", n.id, "pid", n.pid, "port", n.port, "log", n.logPath)
	return cloneHandle(n.handle), nil
}

// start starts the process of a node. Called with d.mu held.
func (d *Driver) start(spec driver.NodeSpec, port int) (*node, error) {
	vars := map[string]string{
		EnvGroupID:   spec.GroupID,
		EnvNodeID:    spec.NodeID,
		EnvNodeIndex: strconv.Itoa(spec.Index),
		EnvPort:      strconv.Itoa(port),
	}
	env := nodeEnv(spec.Program.Env, vars)
	chk, err := resolveCheck(spec.HealthCheck, port, d.interval, env)
	if err != nil {
		return nil, err
	}
	args := make([]string, len(spec.Program.Args))
	for i, a := range spec.Program.Args {
		args[i] = expand(a, vars)
	}

	logDir := filepath.Join(d.dir, "nodes", spec.GroupID)
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	logPath := filepath.Join(logDir, spec.NodeID+".log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own descriptor
	fmt.Fprintf(logf, "pesd: %s starting node %s: %s %s\n",
		d.clk.Now().Format(time.RFC3339), spec.NodeID, spec.Program.Command, strings.Join(args, " "))

	cmd := exec.Command(expand(spec.Program.Command, vars), args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	// A session of its own: the node outlives pesd, and a signal sent to
	// pesd's process group does not reach it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(logf, "pesd: cannot start %s: %v\n", spec.Program.Command, err)
		return nil, fmt.Errorf("program.command: %w: %w", driver.ErrCannotStart, err)
	}
	pid := cmd.Process.Pid
	// The child cannot be reaped before Wait, so /proc still has it.
	st, err := readStat(pid)
	if err != nil {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		_ = cmd.Wait()
		return nil, fmt.Errorf("read the start time of pid %d: %w", pid, err)
	}
	now := d.clk.Now()
	n := &node{
		group: spec.GroupID, id: spec.NodeID, index: spec.Index,
		pid: pid, startTime: st.StartTime, port: port, logPath: logPath,
		check: chk, child: true, attached: true, gone: make(chan struct{}),
		state: api.NodeLaunching, since: now,
		cpuTicks: st.CPUTicks, cpuAt: time.Now(),
	}
	n.handle = map[string]string{
		HandlePID:       strconv.Itoa(pid),
		HandleStartTime: strconv.FormatUint(st.StartTime, 10),
		HandlePort:      strconv.Itoa(port),
		HandleLog:       logPath,
	}
	if err := d.writeRecord(n); err != nil {
		// A launch no restart could find again must not run.
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		_ = cmd.Wait()
		return nil, err
	}
	go d.reap(n, cmd)
	d.probe(n)
	return n, nil
}

// reap waits for a child to exit, so it never lingers as a zombie, and
// records how it ended.
func (d *Driver) reap(n *node, cmd *exec.Cmd) {
	err := cmd.Wait()
	reason := "process exited"
	if ps := cmd.ProcessState; ps != nil {
		if ws, ok := ps.Sys().(syscall.WaitStatus); ok {
			switch {
			case ws.Signaled():
				reason = fmt.Sprintf("killed by signal %d", int(ws.Signal()))
			case ws.Exited():
				reason = fmt.Sprintf("process exited with status %d", ws.ExitStatus())
			}
		}
	} else if err != nil {
		reason = "process lost: " + err.Error()
	}
	if tail := logTail(n.logPath, logTailLines); tail != "" {
		reason += "; its log ends: " + tail
	}
	d.exited(n, reason)
}

// DefaultLogMax is the size past which a node's log is rotated: its
// content moves to <log>.1 (replacing the previous one) and the log starts
// empty, so a node keeps at most twice this much on disk.
const DefaultLogMax = 10 << 20

// WithLogMax sets the size past which node logs are rotated.
func WithLogMax(n int64) Option { return func(d *Driver) { d.logMax = n } }

// rotateLog copies the log to path.1 and truncates it when it is larger
// than max. The program writes through its own descriptor, opened with
// O_APPEND, so it goes on writing at the new end; a rename would leave
// it writing to the old file. Lines written between the copy and the
// truncation are lost: a log, not a ledger.
func rotateLog(path string, max int64) error {
	st, err := os.Stat(path)
	if err != nil || max <= 0 || st.Size() <= max {
		return nil
	}
	src, err := os.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.Create(path + ".1")
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	if err := dst.Close(); err != nil {
		return err
	}
	return os.Truncate(path, 0)
}

// logTailLines is how many of a node's last log lines its exit reason
// quotes: enough for the error a program printed as it died.
const logTailLines = 3

// logTail returns the last lines of a node's log, joined by " | ", from
// at most its last 4 KB; "" when there is none.
func logTail(path string, lines int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const window = 4 << 10
	buf := make([]byte, window)
	size := int64(0)
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	off := max(0, size-window)
	k, _ := f.ReadAt(buf, off)
	text := strings.TrimRight(string(buf[:k]), "\n")
	all := strings.Split(text, "\n")
	if off > 0 && len(all) > 1 {
		all = all[1:] // cut mid-line
	}
	var out []string
	for _, l := range all[max(0, len(all)-lines):] {
		// pesd's own lines say what it did, not why the program died.
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "pesd: ") {
			out = append(out, l)
		}
	}
	tail := strings.Join(out, " | ")
	if len(tail) > 512 {
		tail = "…" + tail[len(tail)-512:]
	}
	return tail
}

// exited records that a node's process is gone.
func (d *Driver) exited(n *node, reason string) {
	// Pushed last, once the lock is released and gone is closed.
	defer d.Notify(n.group)
	d.mu.Lock()
	defer d.mu.Unlock()
	// Terminate returns when gone closes: record the end (and remove the
	// launch record) first.
	defer n.goneOnce.Do(func() { close(n.gone) })
	delete(d.ports, n.port)
	switch {
	case n.state == api.NodeTerminated:
	case n.terminating:
		n.state, n.since, n.reason = api.NodeTerminated, d.clk.Now(), ReasonTerminated
		if n.killed {
			n.reason = "did not exit within its grace after SIGTERM; killed"
		}
		d.removeRecord(n)
	case n.state == api.NodeUnavailable:
		// Already judged unavailable by its health check; the reason
		// stays the first cause.
	default:
		n.state, n.since, n.reason = api.NodeUnavailable, d.clk.Now(), reason
	}
	d.log.Info("node process ended", "group", n.group, "node", n.id, "pid", n.pid, "reason", reason, "state", n.state)
}

// probe starts the background prober of n.
func (d *Driver) probe(n *node) {
	d.probes.Add(1)
	go func() {
		defer d.probes.Done()
		t := time.NewTicker(n.check.interval)
		defer t.Stop()
		for {
			select {
			case <-d.ctx.Done():
				return
			case <-n.gone:
				return
			case <-t.C:
			}
			if !n.child && !alive(n.pid, n.startTime) {
				// Not our child: no Wait tells us, so /proc does.
				d.exited(n, "process exited")
				return
			}
			err := n.check.run(d.ctx)
			if d.ctx.Err() != nil {
				return
			}
			d.record(n, err)
			if err := rotateLog(n.logPath, d.logMax); err != nil {
				d.log.Warn("rotate node log", "node", n.id, "log", n.logPath, "err", err)
			}
		}
	}()
}

// record applies one probe result to n, samples it when ready, and
// pushes a change of state.
func (d *Driver) record(n *node, checkErr error) {
	d.mu.Lock()
	before := n.state
	d.apply(n, checkErr)
	changed := n.state != before
	d.mu.Unlock()
	if changed {
		d.Notify(n.group)
	}
}

// apply is record's work. Called with d.mu held.
func (d *Driver) apply(n *node, checkErr error) {
	if n.terminating || (n.state != api.NodeLaunching && n.state != api.NodeReady) {
		return
	}
	now := d.clk.Now()
	switch {
	case checkErr == nil:
		n.failures = 0
		if n.state == api.NodeLaunching {
			n.state, n.since, n.reason = api.NodeReady, now, ""
			d.log.Info("node ready", "group", n.group, "node", n.id)
		}
	case n.state == api.NodeLaunching:
		// Not ready yet; the controller judges init_deadline. Say why.
		n.reason = "not ready: " + checkErr.Error()
	default:
		n.failures++
		if n.failures >= n.check.threshold {
			n.state, n.since = api.NodeUnavailable, now
			n.reason = fmt.Sprintf("health check failed %d times in a row: %v", n.failures, checkErr)
			d.log.Info("node unavailable", "group", n.group, "node", n.id, "reason", n.reason)
		}
	}
	if n.state == api.NodeReady {
		d.sample(n, now)
	}
}

// sample measures CPU and memory of a ready node. Called with d.mu held.
func (d *Driver) sample(n *node, now time.Time) {
	st, err := readStat(n.pid)
	if err != nil || st.StartTime != n.startTime {
		return
	}
	at := time.Now()
	var out []api.Sample
	if el := at.Sub(n.cpuAt).Seconds(); el > 0 && st.CPUTicks >= n.cpuTicks {
		cpu := float64(st.CPUTicks-n.cpuTicks) / clockTicks / el * 100
		out = append(out, api.Sample{Name: MetricCPU, Value: cpu, NodeID: n.id, Time: &now})
	}
	n.cpuTicks, n.cpuAt = st.CPUTicks, at
	if rss, err := readRSS(n.pid); err == nil {
		out = append(out, api.Sample{Name: MetricMemory, Value: float64(rss), NodeID: n.id, Time: &now})
	}
	n.samples = append(n.samples, out...)
	if extra := len(n.samples) - maxPendingSamples; extra > 0 {
		n.samples = append(n.samples[:0], n.samples[extra:]...)
	}
}

// Terminate sends SIGTERM to the node's process group and SIGKILL after
// grace (the driver's default when grace ≤ 0), and returns once the
// process is gone. It is idempotent; unknown nodes are not an error. If ctx
// ends first it returns ctx's error and the termination goes on.
func (d *Driver) Terminate(ctx context.Context, groupID, nodeID string, grace time.Duration) error {
	d.mu.Lock()
	n, ok := d.groups[groupID][nodeID]
	if !ok {
		d.mu.Unlock()
		return nil
	}
	if grace <= 0 {
		grace = d.grace
	}
	d.beginTerminate(n, grace)
	d.mu.Unlock()

	select {
	case <-n.gone:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("local: terminate node %s: %w", nodeID, ctx.Err())
	}
}

// beginTerminate starts ending n once. Called with d.mu held.
func (d *Driver) beginTerminate(n *node, grace time.Duration) {
	if n.terminating || n.state == api.NodeTerminated {
		return
	}
	n.terminating = true
	select {
	case <-n.gone:
		// Nothing runs (dead, or never attached): record the end.
		n.state, n.since, n.reason = api.NodeTerminated, d.clk.Now(), ReasonTerminated
		d.removeRecord(n)
		return
	default:
	}
	d.log.Info("terminating node", "group", n.group, "node", n.id, "pid", n.pid, "grace", grace)
	d.signal(n, syscall.SIGTERM)
	go func() {
		deadline := time.NewTimer(grace)
		defer deadline.Stop()
		poll := time.NewTicker(terminatePoll)
		defer poll.Stop()
		for {
			select {
			case <-n.gone:
				return
			case <-poll.C:
				if !n.child && !alive(n.pid, n.startTime) {
					d.exited(n, "process exited")
					return
				}
			case <-deadline.C:
				d.mu.Lock()
				n.killed = true
				d.signal(n, syscall.SIGKILL)
				d.mu.Unlock()
			}
		}
	}()
}

// signal sends sig to n's process group, unless the process is gone.
// Called with d.mu held.
func (d *Driver) signal(n *node, sig syscall.Signal) {
	select {
	case <-n.gone:
		return
	default:
	}
	if !n.child && !alive(n.pid, n.startTime) {
		return // never signal a pid that now belongs to someone else
	}
	err := syscall.Kill(-n.pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		// The program left the process group it was started in; signal
		// the process itself.
		err = syscall.Kill(n.pid, sig)
	}
	if err != nil && !errors.Is(err, syscall.ESRCH) {
		d.log.Warn("signal node", "group", n.group, "node", n.id, "pid", n.pid, "signal", sig, "err", err)
	}
}

// Observe reports the group's nodes by index, with the samples measured
// since the previous Observe.
func (d *Driver) Observe(ctx context.Context, groupID string) ([]driver.Observation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	g := d.groups[groupID]
	obs := make([]driver.Observation, 0, len(g))
	for _, n := range g {
		obs = append(obs, d.observe(n))
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
func (d *Driver) observe(n *node) driver.Observation {
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

// Adopt re-attaches to processes recorded before a restart. A recorded
// process is attached only if its pid runs and its start time matches;
// otherwise the node is unavailable ("process gone while pesd was down").
// Attached nodes keep their recorded state (a launching one stays
// launching until its health check passes). Nodes recorded terminating
// are terminated now, with the default grace.
//
// A spec without a handle is looked up in the node's launch record: the
// launch happened but pesd died before storing the handle. A node with
// neither was never launched from this data directory and is left out of
// the report, for the caller to launch.
func (d *Driver) Adopt(ctx context.Context, specs []driver.AdoptSpec) ([]driver.Observation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var finishing []*node
	d.mu.Lock()
	if d.ctx.Err() != nil {
		d.mu.Unlock()
		return nil, errors.New("local: adopt: driver is closed")
	}
	nodes := make([]*node, 0, len(specs))
	for _, s := range specs {
		if err := validIDs(s.GroupID, s.NodeID); err != nil {
			d.mu.Unlock()
			return nil, fmt.Errorf("local: adopt: %w", err)
		}
		if n, ok := d.groups[s.GroupID][s.NodeID]; ok {
			nodes = append(nodes, n)
			continue
		}
		if len(s.Handle) == 0 {
			h, err := d.readRecord(s.GroupID, s.NodeID)
			switch {
			case errors.Is(err, errNoRecord):
				continue // never launched: not ours to report
			case err != nil:
				d.log.Warn("launch record unreadable; the node is reported without a process", "group", s.GroupID, "node", s.NodeID, "err", err)
			default:
				s.Handle = h
			}
		}
		n := d.adopt(s)
		d.add(n)
		nodes = append(nodes, n)
		if s.State == api.NodeTerminating {
			d.beginTerminate(n, d.grace)
			finishing = append(finishing, n)
		}
	}
	d.mu.Unlock()

	for _, n := range finishing {
		select {
		case <-n.gone:
		case <-ctx.Done():
			return nil, fmt.Errorf("local: adopt: finish terminating node %s: %w", n.id, ctx.Err())
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	obs := make([]driver.Observation, len(nodes))
	for i, n := range nodes {
		obs[i] = d.observe(n)
	}
	return obs, nil
}

// adopt builds the node of one recorded spec. Called with d.mu held.
func (d *Driver) adopt(s driver.AdoptSpec) *node {
	now := d.clk.Now()
	n := &node{
		group: s.GroupID, id: s.NodeID, index: s.Index,
		logPath: s.Handle[HandleLog], handle: cloneHandle(s.Handle),
		gone: make(chan struct{}), since: now,
	}
	gone := func(state, reason string) *node {
		n.state, n.reason = state, reason
		n.goneOnce.Do(func() { close(n.gone) })
		return n
	}
	if s.State == api.NodeTerminated {
		d.removeRecord(n)
		return gone(api.NodeTerminated, ReasonTerminated)
	}
	pid, err1 := strconv.Atoi(s.Handle[HandlePID])
	start, err2 := strconv.ParseUint(s.Handle[HandleStartTime], 10, 64)
	if err1 != nil || err2 != nil || pid <= 0 {
		return gone(api.NodeUnavailable, ReasonNoHandle)
	}
	n.pid, n.startTime = pid, start
	st, err := readStat(pid)
	if err != nil || st.StartTime != start || st.State == 'Z' || st.State == 'X' {
		// A different start time means the pid now belongs to another
		// process: never adopt (or later signal) it.
		d.log.Info("recorded node process is gone", "group", n.group, "node", n.id, "pid", pid)
		return gone(api.NodeUnavailable, ReasonGoneWhileDown)
	}
	n.attached = true
	n.port, _ = strconv.Atoi(s.Handle[HandlePort])
	if n.port > 0 {
		d.ports[n.port] = true
	}
	vars := map[string]string{
		EnvGroupID:   s.GroupID,
		EnvNodeID:    s.NodeID,
		EnvNodeIndex: strconv.Itoa(s.Index),
		EnvPort:      strconv.Itoa(n.port),
	}
	chk, err := resolveCheck(s.HealthCheck, n.port, d.interval, nodeEnv(s.Program.Env, vars))
	if err != nil {
		// The config was valid when the node launched; fall back to
		// watching the process rather than losing a live node.
		d.log.Warn("adopted node has an invalid health check; using process", "node", n.id, "err", err)
		chk, _ = resolveCheck(nil, n.port, d.interval, nil)
	}
	n.check = chk
	n.cpuTicks, n.cpuAt = st.CPUTicks, time.Now()
	switch s.State {
	case api.NodeReady:
		n.state = api.NodeReady
	case api.NodeUnavailable:
		n.state, n.reason = api.NodeUnavailable, "unavailable before pesd restarted"
	default:
		n.state = api.NodeLaunching
	}
	d.log.Info("node adopted", "group", n.group, "node", n.id, "pid", pid, "state", n.state)
	d.probe(n)
	return n
}

// Fail is not supported: a real process fails on its own.
func (d *Driver) Fail(ctx context.Context, groupID, nodeID string) error {
	return fmt.Errorf("local: fail node %s: %w", nodeID, driver.ErrUnsupported)
}

// Close stops probing. Node processes keep running for the next pesd to
// adopt.
func (d *Driver) Close() error {
	d.closed.Do(func() {
		d.mu.Lock()
		d.cancel()
		d.mu.Unlock()
		d.probes.Wait()
	})
	return nil
}

func (d *Driver) add(n *node) {
	g, ok := d.groups[n.group]
	if !ok {
		g = make(map[string]*node)
		d.groups[n.group] = g
	}
	g[n.id] = n
}

// freePort asks the kernel for a free TCP port that no node of this
// driver holds. Called with d.mu held.
func (d *Driver) freePort() (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !d.ports[port] {
			d.ports[port] = true
			return port, nil
		}
	}
	return 0, errors.New("no free port found")
}

// validIDs rejects IDs that would escape the log directory.
func validIDs(groupID, nodeID string) error {
	for _, f := range []struct{ name, v string }{{"group_id", groupID}, {"node_id", nodeID}} {
		switch {
		case f.v == "":
			return fmt.Errorf("%s: is required", f.name)
		case f.v == "." || f.v == ".." || strings.ContainsAny(f.v, "/\\\x00"):
			return fmt.Errorf("%s: must not be a path (no '/', '.' or '..'); got %q", f.name, f.v)
		}
	}
	return nil
}

// nodeEnv is pesd's environment without its own PES_ variables (such as
// PES_TOKEN), then the program's env, then the node's PES_ variables.
func nodeEnv(progEnv map[string]string, vars map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PES_") {
			env = append(env, kv)
		}
	}
	keys := make([]string, 0, len(progEnv))
	for k := range progEnv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := vars[k]; !ok {
			env = append(env, k+"="+expand(progEnv[k], vars))
		}
	}
	for _, k := range []string{EnvGroupID, EnvNodeID, EnvNodeIndex, EnvPort} {
		env = append(env, k+"="+vars[k])
	}
	return env
}

// expand is driver.Expand: ${PES_...} means the same in every driver.
func expand(s string, vars map[string]string) string { return driver.Expand(s, vars) }

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
