package local_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/drivertest"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/local"
)

const probe = "100ms"

// tracked kills, when the test ends, every process launched through it,
// pass or fail: node processes outlive their driver by design.
type tracked struct {
	*local.Driver
	t *testing.T
}

func (d tracked) Launch(ctx context.Context, spec driver.NodeSpec) (map[string]string, error) {
	h, err := d.Driver.Launch(ctx, spec)
	if err == nil {
		killAtCleanup(d.t, h)
	}
	return h, err
}

func killAtCleanup(t *testing.T, h map[string]string) {
	pid, _ := strconv.Atoi(h[local.HandlePID])
	start, _ := strconv.ParseUint(h[local.HandleStartTime], 10, 64)
	t.Cleanup(func() {
		if pid <= 0 {
			return
		}
		// Only if the pid is still the process we started.
		if _, _, _, st, err := local.ReadStat(pid); err == nil && st == start {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			_ = syscall.Kill(pid, syscall.SIGKILL) // in case it left its group
		}
	})
}

func newDriver(t *testing.T, dir string, opts ...local.Option) tracked {
	t.Helper()
	d, err := local.New(dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return tracked{Driver: d, t: t}
}

func sleepSpec(g, n string, i int) driver.NodeSpec {
	return driver.NodeSpec{
		GroupID: g, NodeID: n, Index: i,
		Program:     api.Program{Command: "sleep", Args: []string{"300"}},
		HealthCheck: &api.HealthCheck{Type: api.HealthProcess, Interval: probe},
	}
}

func httpSpec(g, n string, i int) driver.NodeSpec {
	return driver.NodeSpec{
		GroupID: g, NodeID: n, Index: i,
		Program:     api.Program{Command: "python3", Args: []string{"-m", "http.server", "${PES_PORT}", "--bind", "127.0.0.1"}},
		HealthCheck: &api.HealthCheck{Type: api.HealthHTTP, Path: "/", Interval: probe},
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after 15s waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func pidOf(t *testing.T, h map[string]string) int {
	t.Helper()
	pid, err := strconv.Atoi(h[local.HandlePID])
	if err != nil || pid <= 0 {
		t.Fatalf("handle %v has no pid", h)
	}
	return pid
}

// gone reports whether pid has exited and been reaped (no zombie).
func gone(pid int) bool {
	_, _, _, _, err := local.ReadStat(pid)
	return errors.Is(err, os.ErrNotExist)
}

func TestConformance(t *testing.T) {
	var mu sync.Mutex
	dirs := map[*testing.T]string{}
	drivertest.Run(t, drivertest.Harness{
		New: func(t *testing.T) driver.Driver {
			mu.Lock()
			dir, ok := dirs[t]
			if !ok {
				dir = t.TempDir()
				dirs[t] = dir
			}
			mu.Unlock()
			return newDriver(t, dir)
		},
		Spec:     sleepSpec,
		BootSpec: httpSpec,
		Kill: func(t *testing.T, _ driver.Driver, _, _ string, h map[string]string) {
			if err := syscall.Kill(pidOf(t, h), syscall.SIGKILL); err != nil {
				t.Fatalf("kill -9: %v", err)
			}
		},
		KillWhileDown: func(t *testing.T, _, _ string, h map[string]string) {
			pid := pidOf(t, h)
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatalf("kill -9: %v", err)
			}
			eventually(t, "the killed process to be gone", func() bool { return gone(pid) })
		},
		Eventually: eventually,
		Jobs: &drivertest.JobHarness{
			Job: func(t *testing.T, g, n, j string, long bool) driver.JobSpec {
				script := `echo "done $PES_JOB_INDEX" > "$PES_OUTPUT/out"; echo 1 > "$PES_STATE_DIR/s"; echo 1 > "$PES_PROGRESS"`
				if long {
					script = `trap 'echo saved > "$PES_STATE_DIR/s"; exit 0' TERM; echo 0.5 > "$PES_PROGRESS"; while :; do sleep 0.05; done`
				}
				dir := t.TempDir()
				return driver.JobSpec{GroupID: g, NodeID: n, JobID: j, Index: 7, Attempt: 1,
					Program:   api.Program{Command: "sh", Args: []string{"-c", script}},
					OutputDir: filepath.Join(dir, "output"), CheckpointDir: filepath.Join(dir, "checkpoint")}
			},
			Succeeded: func(t *testing.T, spec driver.JobSpec) {
				b, err := os.ReadFile(filepath.Join(spec.OutputDir, "out"))
				if err != nil || string(b) != "done 7\n" {
					t.Errorf("output %q (%v), want the job's file copied to pesd's output dir", b, err)
				}
				if _, err := os.Stat(filepath.Join(spec.CheckpointDir, "s")); err != nil {
					t.Errorf("checkpoint not copied: %v", err)
				}
			},
		},
	})
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
	t.Fatalf("node %s not observed", n)
	return driver.Observation{}
}

func awaitState(t *testing.T, d driver.Driver, g, n, state string) driver.Observation {
	t.Helper()
	var o driver.Observation
	eventually(t, "node "+n+" to be "+state, func() bool {
		o = observe(t, d, g, n)
		return o.State == state
	})
	return o
}

// bounded is a context for calls that wait, so a broken driver fails the
// test instead of hanging it.
func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func launch(t *testing.T, d driver.Driver, spec driver.NodeSpec) map[string]string {
	t.Helper()
	h, err := d.Launch(context.Background(), spec)
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	return h
}

func readLog(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(b)
}

func TestEnvArgsAndLog(t *testing.T) {
	t.Setenv("PES_TOKEN", "secret") // pesd's own variable must not leak
	dir := t.TempDir()
	d := newDriver(t, dir)
	script := `echo "port=$PES_PORT group=$PES_GROUP_ID node=$PES_NODE_ID index=$PES_NODE_INDEX extra=$EXTRA token=$PES_TOKEN arg1=$1 arg2=$2 end"; echo std""err-out >&2; exec sleep 300`
	spec := driver.NodeSpec{
		GroupID: "grp", NodeID: "nd", Index: 7,
		Program: api.Program{
			Command: "sh",
			Args:    []string{"-c", script, "sh", "${PES_PORT}", "${HOME}"},
			Env:     map[string]string{"EXTRA": "x${PES_NODE_INDEX}y"},
		},
	}
	h := launch(t, d, spec)
	wantLog := filepath.Join(dir, "nodes", "grp", "nd.log")
	if h[local.HandleLog] != wantLog {
		t.Errorf("log path %q, want %q", h[local.HandleLog], wantLog)
	}
	eventually(t, "the program's output in its log", func() bool {
		return strings.Contains(readLog(t, wantLog), "stderr-out") // not the script text in the log header
	})
	port := h[local.HandlePort]
	if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
		t.Fatalf("handle port %q is not a port", port)
	}
	want := "port=" + port + " group=grp node=nd index=7 extra=x7y token= arg1=" + port + " arg2=${HOME} end"
	if log := readLog(t, wantLog); !strings.Contains(log, want) {
		t.Errorf("log:\n%s\nwant a line %q", log, want)
	}

	// Its own session and process group, so signals to pesd miss it.
	pid := pidOf(t, h)
	_, pgrp, sess, _, err := local.ReadStat(pid)
	if err != nil {
		t.Fatal(err)
	}
	if pgrp != pid || sess != pid {
		t.Errorf("node pid %d runs in process group %d, session %d; want its own", pid, pgrp, sess)
	}
}

func TestExitReasons(t *testing.T) {
	tests := []struct {
		name   string
		prog   api.Program
		kill   bool
		reason string
	}{
		{"exit status", api.Program{Command: "sh", Args: []string{"-c", "exit 3"}}, false, "process exited with status 3"},
		{"exit status and the log's last lines", api.Program{Command: "sh", Args: []string{"-c", "seq 1 5; echo 'config.yaml: no such file' >&2; exit 3"}}, false,
			"process exited with status 3; its log ends: 4 | 5 | config.yaml: no such file"},
		{"kill -9", api.Program{Command: "sleep", Args: []string{"300"}}, true, "killed by signal 9"},
		{"kill -9 before ready", api.Program{Command: "sleep", Args: []string{"300"}}, true, "killed by signal 9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDriver(t, t.TempDir())
			spec := sleepSpec("g", "n", 0)
			spec.Program = tt.prog
			h := launch(t, d, spec)
			pid := pidOf(t, h)
			if tt.kill {
				if tt.name == "kill -9" {
					awaitState(t, d, "g", "n", api.NodeReady)
				}
				if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
			}
			o := awaitState(t, d, "g", "n", api.NodeUnavailable)
			if o.Reason != tt.reason {
				t.Errorf("reason %q, want %q", o.Reason, tt.reason)
			}
			if !gone(pid) {
				t.Errorf("pid %d is still in /proc after it was reported dead: not reaped", pid)
			}
		})
	}
}

func TestTerminate(t *testing.T) {
	tests := []struct {
		name       string
		script     string
		grace      time.Duration
		wantKilled bool
		wantLog    string
	}{
		{"exits on SIGTERM", `echo $((6*7))-up; exec sleep 300`, 10 * time.Second, false, ""},
		{"ignores SIGTERM", `trap 'echo got TERM' TERM; echo $((6*7))-up; while :; do sleep 0.05; done`, 300 * time.Millisecond, true, "got TERM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDriver(t, t.TempDir())
			spec := sleepSpec("g", "n", 0)
			spec.Program = api.Program{Command: "sh", Args: []string{"-c", tt.script}}
			h := launch(t, d, spec)
			eventually(t, "the program to start", func() bool {
				return strings.Contains(readLog(t, h[local.HandleLog]), "42-up") // not the script text in the log header
			})
			if err := d.Terminate(bounded(t), "g", "n", tt.grace); err != nil {
				t.Fatalf("Terminate: %v", err)
			}
			// Terminate returns once the process is gone.
			o := observe(t, d, "g", "n")
			if o.State != api.NodeTerminated {
				t.Errorf("after Terminate the node is %q", o.State)
			}
			if killed := strings.Contains(o.Reason, "killed"); killed != tt.wantKilled {
				t.Errorf("reason %q: killed = %v, want %v", o.Reason, killed, tt.wantKilled)
			}
			if !strings.Contains(readLog(t, h[local.HandleLog]), tt.wantLog) {
				t.Errorf("log lacks %q: SIGTERM was not delivered first", tt.wantLog)
			}
			if pid := pidOf(t, h); !gone(pid) {
				t.Errorf("pid %d is still in /proc after Terminate", pid)
			}
			if err := d.Terminate(bounded(t), "g", "n", tt.grace); err != nil {
				t.Errorf("second Terminate: %v", err)
			}
		})
	}
}

func TestTerminateHonoursContext(t *testing.T) {
	d := newDriver(t, t.TempDir())
	spec := sleepSpec("g", "n", 0)
	spec.Program = api.Program{Command: "sh", Args: []string{"-c", `trap '' TERM; echo $((6*7))-up; while :; do sleep 0.05; done`}}
	h := launch(t, d, spec)
	eventually(t, "the program to start", func() bool {
		return strings.Contains(readLog(t, h[local.HandleLog]), "42-up") // not the script text in the log header
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Terminate(ctx, "g", "n", time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Terminate with a done context = %v, want context.Canceled", err)
	}
	// A later Terminate with a short grace cannot shorten the first one's,
	// but with its own context it waits for the end.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	if err := d.Terminate(ctx2, "g", "n", time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Terminate of a node ignoring SIGTERM with an hour of grace = %v, want it to wait past the deadline", err)
	}
}

func TestSamples(t *testing.T) {
	d := newDriver(t, t.TempDir())
	busy := sleepSpec("g", "busy", 0)
	busy.Program = api.Program{Command: "sh", Args: []string{"-c", "while :; do :; done"}}
	idle := sleepSpec("g", "idle", 1)
	launch(t, d, busy)
	launch(t, d, idle)

	var got []api.Sample
	seen := func(node, name string, ok func(float64) bool) bool {
		for _, s := range got {
			if s.NodeID == node && s.Name == name && ok(s.Value) {
				return true
			}
		}
		return false
	}
	eventually(t, "CPU and memory samples of both nodes", func() bool {
		obs, err := d.Observe(context.Background(), "g")
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range obs {
			got = append(got, o.Samples...)
		}
		positive := func(v float64) bool { return v > 0 }
		return seen("busy", local.MetricCPU, func(v float64) bool { return v > 5 }) &&
			seen("busy", local.MetricMemory, positive) &&
			seen("idle", local.MetricCPU, func(float64) bool { return true }) &&
			seen("idle", local.MetricMemory, positive)
	})
	for _, s := range got {
		if s.Time == nil || s.Time.IsZero() {
			t.Errorf("sample %+v has no time", s)
		}
		if s.Name == local.MetricCPU && s.NodeID == "idle" && s.Value > 20 {
			t.Errorf("a sleeping process measured at %.1f%% CPU", s.Value)
		}
	}
	// Samples are handed over once.
	obs, _ := d.Observe(context.Background(), "g")
	for _, o := range obs {
		if len(o.Samples) > 2*3 {
			t.Errorf("node %s: %d samples right after the previous Observe", o.NodeID, len(o.Samples))
		}
	}
}

func TestHealthChecks(t *testing.T) {
	tests := []struct {
		name   string
		spec   func() driver.NodeSpec
		ready  bool
		reason string // for a node that stays launching: why
	}{
		{"process", func() driver.NodeSpec { return sleepSpec("g", "n", 0) }, true, ""},
		{"http 200", func() driver.NodeSpec { return httpSpec("g", "n", 0) }, true, ""},
		{"http 404", func() driver.NodeSpec {
			s := httpSpec("g", "n", 0)
			s.HealthCheck.Path = "/no-such-file"
			return s
		}, false, "404"},
		{"tcp open", func() driver.NodeSpec {
			s := httpSpec("g", "n", 0)
			s.HealthCheck = &api.HealthCheck{Type: api.HealthTCP, Interval: probe}
			return s
		}, true, ""},
		{"tcp refused", func() driver.NodeSpec {
			s := sleepSpec("g", "n", 0)
			s.HealthCheck = &api.HealthCheck{Type: api.HealthTCP, Interval: probe}
			return s
		}, false, "refused"},
		{"exec passes with the node env", func() driver.NodeSpec {
			s := sleepSpec("g", "n", 3)
			s.HealthCheck = &api.HealthCheck{Type: api.HealthExec, Interval: probe,
				Command: `test "$PES_PORT" -gt 0 && test "$PES_NODE_ID" = n && test "$PES_NODE_INDEX" = 3`}
			return s
		}, true, ""},
		{"exec fails", func() driver.NodeSpec {
			s := sleepSpec("g", "n", 0)
			s.HealthCheck = &api.HealthCheck{Type: api.HealthExec, Interval: probe, Command: "echo not yet; exit 1"}
			return s
		}, false, "not yet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDriver(t, t.TempDir())
			launch(t, d, tt.spec())
			if tt.ready {
				awaitState(t, d, "g", "n", api.NodeReady)
				return
			}
			var o driver.Observation
			eventually(t, "a check failure naming "+tt.reason, func() bool {
				o = observe(t, d, "g", "n")
				return strings.Contains(o.Reason, tt.reason)
			})
			if o.State != api.NodeLaunching {
				t.Errorf("a node whose check never passed is %q, want launching", o.State)
			}
		})
	}
}

func TestFailureThreshold(t *testing.T) {
	d := newDriver(t, t.TempDir())
	flag := filepath.Join(t.TempDir(), "down")
	spec := sleepSpec("g", "n", 0)
	spec.HealthCheck = &api.HealthCheck{Type: api.HealthExec, Interval: "50ms", FailureThreshold: 3, Command: "test ! -e " + flag}
	h := launch(t, d, spec)
	awaitState(t, d, "g", "n", api.NodeReady)
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	o := awaitState(t, d, "g", "n", api.NodeUnavailable)
	if !strings.Contains(o.Reason, "failed 3 times in a row") {
		t.Errorf("reason %q, want the threshold named", o.Reason)
	}
	// The check failed, not the process: it still runs until terminated.
	pid := pidOf(t, h)
	if gone(pid) {
		t.Fatal("the process of a node failing its health check is gone")
	}
	if err := d.Terminate(bounded(t), "g", "n", time.Second); err != nil {
		t.Fatal(err)
	}
	if o := observe(t, d, "g", "n"); o.State != api.NodeTerminated {
		t.Errorf("after Terminate the node is %q", o.State)
	}
	eventually(t, "the process to be reaped", func() bool { return gone(pid) })
}

// startSleep starts a process outside any driver, as another program
// would, in its own session like a node.
func startSleep(t *testing.T) (pid int, start uint64) {
	t.Helper()
	cmd := exec.Command("sleep", "300")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	_, _, _, start, err := local.ReadStat(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid, start
}

func TestAdoptChecksStartTime(t *testing.T) {
	exited := exec.Command("true")
	if err := exited.Run(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		handle func(pid int, start uint64) map[string]string
		state  string
		reason string
	}{
		{"same process", func(pid int, start uint64) map[string]string {
			return map[string]string{local.HandlePID: strconv.Itoa(pid), local.HandleStartTime: strconv.FormatUint(start, 10)}
		}, api.NodeReady, ""},
		{"pid reused by another process", func(pid int, start uint64) map[string]string {
			return map[string]string{local.HandlePID: strconv.Itoa(pid), local.HandleStartTime: strconv.FormatUint(start+1, 10)}
		}, api.NodeUnavailable, local.ReasonGoneWhileDown},
		{"pid gone", func(_ int, start uint64) map[string]string {
			return map[string]string{local.HandlePID: strconv.Itoa(exited.Process.Pid), local.HandleStartTime: strconv.FormatUint(start, 10)}
		}, api.NodeUnavailable, local.ReasonGoneWhileDown},
		// (No handle at all is looked up in the launch record: TestAdoptWithoutHandle.)
		{"handle without a pid", func(int, uint64) map[string]string { return map[string]string{local.HandlePort: "8000"} },
			api.NodeUnavailable, local.ReasonNoHandle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pid, start := startSleep(t)
			d := newDriver(t, t.TempDir())
			spec := sleepSpec("g", "n", 0)
			obs, err := d.Adopt(context.Background(), []driver.AdoptSpec{{NodeSpec: spec, State: api.NodeReady, Handle: tt.handle(pid, start)}})
			if err != nil {
				t.Fatal(err)
			}
			if len(obs) != 1 || obs[0].State != tt.state || obs[0].Reason != tt.reason {
				t.Fatalf("Adopt reports %+v, want %s %q", obs, tt.state, tt.reason)
			}
			if err := d.Terminate(bounded(t), "g", "n", time.Second); err != nil {
				t.Fatal(err)
			}
			_, _, _, st, err := local.ReadStat(pid)
			stillRuns := err == nil && st == start
			state, _, _, _, _ := local.ReadStat(pid)
			stillRuns = stillRuns && state != 'Z'
			// Only the adopted process may be signalled; a process that
			// merely has the recorded pid must survive.
			if wantRuns := tt.state != api.NodeReady; stillRuns != wantRuns {
				t.Errorf("after Terminate the process runs = %v, want %v", stillRuns, wantRuns)
			}
		})
	}
}

func TestAdoptedProcessDeathIsSeen(t *testing.T) {
	pid, start := startSleep(t)
	d := newDriver(t, t.TempDir())
	h := map[string]string{local.HandlePID: strconv.Itoa(pid), local.HandleStartTime: strconv.FormatUint(start, 10)}
	if _, err := d.Adopt(context.Background(), []driver.AdoptSpec{{NodeSpec: sleepSpec("g", "n", 0), State: api.NodeReady, Handle: h}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	o := awaitState(t, d, "g", "n", api.NodeUnavailable)
	if o.Reason == "" {
		t.Error("no reason for the death of an adopted process")
	}
}

func TestAdoptFinishesTerminating(t *testing.T) {
	dir := t.TempDir()
	d := newDriver(t, dir)
	h := launch(t, d, sleepSpec("g", "n", 0))
	d.Close()
	d2 := newDriver(t, dir)
	obs, err := d2.Adopt(bounded(t), []driver.AdoptSpec{{NodeSpec: sleepSpec("g", "n", 0), State: api.NodeTerminating, Handle: h}})
	if err != nil {
		t.Fatal(err)
	}
	if obs[0].State != api.NodeTerminated {
		t.Errorf("a node recorded terminating is %q after Adopt, want terminated", obs[0].State)
	}
	pid := pidOf(t, h)
	eventually(t, "the process to be reaped", func() bool { return gone(pid) })
}

func TestCloseLeavesProcessesRunning(t *testing.T) {
	d := newDriver(t, t.TempDir())
	h := launch(t, d, sleepSpec("g", "n", 0))
	awaitState(t, d, "g", "n", api.NodeReady)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	pid := pidOf(t, h)
	state, _, _, st, err := local.ReadStat(pid)
	if err != nil || state == 'Z' || strconv.FormatUint(st, 10) != h[local.HandleStartTime] {
		t.Errorf("the node process did not survive Close (state %c, err %v)", state, err)
	}
	if _, err := d.Launch(context.Background(), sleepSpec("g", "m", 1)); err == nil {
		t.Error("Launch after Close succeeded")
	}
}

func TestLaunchRejectsBadInput(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*driver.NodeSpec)
		field string
	}{
		{"no command", func(s *driver.NodeSpec) { s.Program.Command = "" }, "program.command"},
		{"command not found", func(s *driver.NodeSpec) { s.Program.Command = "no-such-program-pes" }, "program.command"},
		{"no group", func(s *driver.NodeSpec) { s.GroupID = "" }, "group_id"},
		{"node id is a path", func(s *driver.NodeSpec) { s.NodeID = "../escape" }, "node_id"},
		{"group id is dot-dot", func(s *driver.NodeSpec) { s.GroupID = ".." }, "group_id"},
		{"negative index", func(s *driver.NodeSpec) { s.Index = -1 }, "index"},
		{"bad check type", func(s *driver.NodeSpec) { s.HealthCheck.Type = "ping" }, "health_check.type"},
		{"bad interval", func(s *driver.NodeSpec) { s.HealthCheck.Interval = "often" }, "health_check.interval"},
		{"zero interval", func(s *driver.NodeSpec) { s.HealthCheck.Interval = "0s" }, "health_check.interval"},
		{"negative threshold", func(s *driver.NodeSpec) { s.HealthCheck.FailureThreshold = -2 }, "health_check.failure_threshold"},
		{"port out of range", func(s *driver.NodeSpec) { s.HealthCheck.Port = 70000 }, "health_check.port"},
		{"exec without command", func(s *driver.NodeSpec) { s.HealthCheck.Type = api.HealthExec }, "health_check.command"},
		{"http path not absolute", func(s *driver.NodeSpec) {
			s.HealthCheck.Type, s.HealthCheck.Path = api.HealthHTTP, "health"
		}, "health_check.path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDriver(t, t.TempDir())
			spec := sleepSpec("g", "n", 0)
			tt.edit(&spec)
			_, err := d.Launch(context.Background(), spec)
			if err == nil {
				t.Fatal("Launch accepted it")
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error %q does not name %s", err, tt.field)
			}
			obs, _ := d.Observe(context.Background(), spec.GroupID)
			if len(obs) != 0 {
				t.Errorf("a rejected launch left %d nodes", len(obs))
			}
		})
	}
}

func TestFailIsUnsupported(t *testing.T) {
	d := newDriver(t, t.TempDir())
	launch(t, d, sleepSpec("g", "n", 0))
	if err := d.Fail(context.Background(), "g", "n"); !errors.Is(err, driver.ErrUnsupported) {
		t.Errorf("Fail = %v, want ErrUnsupported", err)
	}
}

// TestCannotStart: a command that does not exist or may not run fails the
// launch at once with driver.ErrCannotStart and the OS error, and says so
// in the node's log.
func TestCannotStart(t *testing.T) {
	dir := t.TempDir()
	noExec := filepath.Join(dir, "not-executable")
	if err := os.WriteFile(noExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		command string
		errno   error
	}{
		{"/no/such/binary", syscall.ENOENT},
		{noExec, syscall.EACCES},
	} {
		t.Run(tt.command, func(t *testing.T) {
			d := newDriver(t, t.TempDir())
			spec := sleepSpec("g", "n", 0)
			spec.Program = api.Program{Command: tt.command}
			_, err := d.Launch(bounded(t), spec)
			if !errors.Is(err, driver.ErrCannotStart) || !errors.Is(err, tt.errno) {
				t.Fatalf("Launch: %v, want ErrCannotStart with %v", err, tt.errno)
			}
		})
	}
}

func TestLogRotation(t *testing.T) {
	dir := t.TempDir()
	d := newDriver(t, dir, local.WithLogMax(1000))
	spec := sleepSpec("g", "n", 0)
	// 100 lines of 30 bytes, then quiet: the log passes 1000 bytes once.
	spec.Program = api.Program{Command: "sh", Args: []string{"-c", "for i in $(seq 1 100); do echo 'a line of thirty bytes, ok...'; done; exec sleep 300"}}
	h := launch(t, d, spec)
	path := h[local.HandleLog]
	eventually(t, "the log rotated", func() bool {
		old, err := os.Stat(path + ".1")
		return err == nil && old.Size() > 1000
	})
	cur, err := os.Stat(path)
	if err != nil || cur.Size() > 1000 {
		t.Errorf("log after rotation: %v, size %d, want at most 1000 bytes", err, cur.Size())
	}
}
