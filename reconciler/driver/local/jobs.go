package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
)

// Execution jobs on the local driver: each attempt is a process beside
// the node's program, in a session of its own (like nodes, it outlives
// pesd and is re-adopted by pid and start time). Its working directory
// <dataDir>/jobs/<group>/<attempt> holds state/ (PES_STATE_DIR), output/
// (PES_OUTPUT), progress (PES_PROGRESS), the exit status, the pid record
// and, unless JobSpec.Log names a file, log (stdout and stderr). pesd's copies live elsewhere: the state is restored from
// JobSpec.CheckpointDir before the start and copied back whenever the
// attempt ends; the output is copied to JobSpec.OutputDir when it
// succeeds.

var _ driver.JobRunner = (*Driver)(nil)

// exitRecorder runs "$@" and writes its exit status to $1 (atomically)
// once it ends. SIGTERM is passed on to the job's process only. wait
// returns early when the trap runs; the loop waits again until the job
// is reaped (kill -0 fails), so the status written is the job's own.
const exitRecorder = `exit_file=$1; shift
"$@" <&0 &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM
while :; do
  wait "$child"; rc=$?
  kill -0 "$child" 2>/dev/null || break
done
printf '%s\n' "$rc" >"$exit_file.tmp" && mv "$exit_file.tmp" "$exit_file"
exit "$rc"`

// jobTable holds the driver's job attempts; its zero value is ready.
type jobTable struct {
	mu sync.Mutex
	m  map[string]map[string]*job // group → attempt id → job
}

type job struct {
	spec      driver.JobSpec
	work      string
	pid       int
	startTime uint64
	child     bool
	gone      chan struct{}

	// Guarded by jobTable.mu.
	running  bool
	exit     int
	lost     bool
	stopping bool
	reason   string
}

// JobDir is the working directory of an attempt.
func (d *Driver) JobDir(groupID, jobID string) string {
	return filepath.Join(d.dir, "jobs", groupID, jobID)
}

// StartJob starts the attempt's process with the job environment.
func (d *Driver) StartJob(ctx context.Context, spec driver.JobSpec) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := validIDs(spec.GroupID, spec.JobID); err != nil {
		return fmt.Errorf("local: start job: %w", err)
	}
	if spec.Program.Command == "" {
		return errors.New("local: start job: program.command: is required")
	}
	d.jobs.mu.Lock()
	defer d.jobs.mu.Unlock()
	if _, ok := d.jobs.m[spec.GroupID][spec.JobID]; ok {
		return nil
	}
	j, err := d.startJob(spec)
	if err != nil {
		return fmt.Errorf("local: start job %s: %w", spec.JobID, err)
	}
	d.addJob(j)
	return nil
}

func (d *Driver) addJob(j *job) {
	if d.jobs.m == nil {
		d.jobs.m = make(map[string]map[string]*job)
	}
	g := d.jobs.m[j.spec.GroupID]
	if g == nil {
		g = make(map[string]*job)
		d.jobs.m[j.spec.GroupID] = g
	}
	g[j.spec.JobID] = j
}

func (d *Driver) startJob(spec driver.JobSpec) (*job, error) {
	work := d.JobDir(spec.GroupID, spec.JobID)
	state, out := filepath.Join(work, "state"), filepath.Join(work, "output")
	for _, dir := range []string{state, out} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	if spec.CheckpointDir != "" {
		if err := copyTree(spec.CheckpointDir, state); err != nil {
			return nil, fmt.Errorf("restore checkpoint: %w", err)
		}
	}
	progress := filepath.Join(work, "progress")
	vars := map[string]string{
		EnvGroupID:           spec.GroupID,
		EnvNodeID:            spec.NodeID,
		driver.EnvJobID:      spec.JobID,
		driver.EnvJobIndex:   strconv.Itoa(spec.Index),
		driver.EnvAttempt:    strconv.Itoa(spec.Attempt),
		driver.EnvInput:      spec.Input,
		driver.EnvOutput:     out,
		driver.EnvStateDir:   state,
		driver.EnvProgress:   progress,
		driver.EnvCheckpoint: "1",
	}
	var env []string
	for _, kv := range nodeEnv(spec.Program.Env, vars) {
		// A job is not a node: it has no port or node index of its own.
		if !strings.HasPrefix(kv, EnvPort+"=") && !strings.HasPrefix(kv, EnvNodeIndex+"=") {
			env = append(env, kv)
		}
	}
	for _, k := range []string{driver.EnvJobID, driver.EnvJobIndex, driver.EnvAttempt, driver.EnvInput,
		driver.EnvOutput, driver.EnvStateDir, driver.EnvProgress, driver.EnvCheckpoint} {
		env = append(env, k+"="+vars[k])
	}
	args := make([]string, len(spec.Program.Args))
	for i, a := range spec.Program.Args {
		args[i] = expand(a, vars)
	}
	logPath := filepath.Join(work, "log")
	if spec.Log != "" {
		logPath = spec.Log
		if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
			return nil, err
		}
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "pesd: %s attempt %d of job %d (%s) on node %s\n",
		d.clk.Now().UTC().Format(time.RFC3339), spec.Attempt, spec.Index, spec.JobID, spec.NodeID)
	// The job runs under a small sh that records its exit status, so a
	// pesd restarted after the job ended still knows how it ended.
	cmd := exec.Command("/bin/sh", append([]string{"-c", exitRecorder, "pes-job",
		filepath.Join(work, "exit"), expand(spec.Program.Command, vars)}, args...)...)
	cmd.Env, cmd.Dir = env, work
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	// A pesd killed between the start and the pid record below would
	// find no trace of this attempt and run it a second time beside
	// this one: the starting record lets AdoptJobs look for the process
	// by its PES_JOB_ID instead.
	if err := writeFileAtomic(filepath.Join(work, "starting"), []byte(spec.JobID)); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("program.command: %w", err)
	}
	pid := cmd.Process.Pid
	st, err := readStat(pid)
	if err != nil {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		_ = cmd.Wait()
		return nil, fmt.Errorf("read the start time of pid %d: %w", pid, err)
	}
	j := &job{spec: spec, work: work, pid: pid, startTime: st.StartTime, child: true,
		gone: make(chan struct{}), running: true}
	rec, _ := json.Marshal(map[string]string{HandlePID: strconv.Itoa(pid), HandleStartTime: strconv.FormatUint(st.StartTime, 10)})
	if err := writeFileAtomic(filepath.Join(work, "pid"), rec); err != nil {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		_ = cmd.Wait()
		return nil, err
	}
	d.log.Info("job started", "group", spec.GroupID, "node", spec.NodeID, "job", spec.JobID, "pid", pid)
	go func() {
		err := cmd.Wait()
		code, reason := -1, ""
		if ps := cmd.ProcessState; ps != nil {
			if ws, ok := ps.Sys().(syscall.WaitStatus); ok {
				switch {
				case ws.Signaled():
					code, reason = 128+int(ws.Signal()), fmt.Sprintf("killed by signal %d", int(ws.Signal()))
				case ws.Exited():
					code = ws.ExitStatus()
				}
			}
		} else if err != nil {
			reason = "process lost: " + err.Error()
		}
		d.jobEnded(j, code, false, reason)
	}()
	return j, nil
}

// jobEnded copies the attempt's state (and, on success, its output) to
// pesd's directories, then reports the end: a reported end always has
// its copies made.
func (d *Driver) jobEnded(j *job, code int, lost bool, reason string) {
	d.jobs.mu.Lock()
	stopping := j.stopping
	d.jobs.mu.Unlock()
	var errs []error
	if j.spec.CheckpointDir != "" && !emptyDir(filepath.Join(j.work, "state")) {
		errs = append(errs, replaceTree(filepath.Join(j.work, "state"), j.spec.CheckpointDir))
	}
	if code == 0 && !lost && !stopping && j.spec.OutputDir != "" {
		errs = append(errs, replaceTree(filepath.Join(j.work, "output"), j.spec.OutputDir))
	}
	if err := errors.Join(errs...); err != nil {
		// The copies are what makes the attempt's work count: without
		// them it failed.
		d.log.Error("job state or output not saved", "job", j.spec.JobID, "err", err)
		code, reason = 1, "pesd could not save the job's state or output: "+err.Error()
	}
	d.jobs.mu.Lock()
	j.running, j.exit, j.lost, j.reason = false, code, lost, reason
	d.jobs.mu.Unlock()
	close(j.gone)
	d.log.Info("job ended", "job", j.spec.JobID, "exit", code, "lost", lost, "reason", reason)
	// pesd looks at the group now: the job's node is free for the next.
	d.Notify(j.spec.GroupID)
}

// StopJob sends SIGTERM to the attempt's process, then SIGKILL to its
// process group after grace.
func (d *Driver) StopJob(ctx context.Context, groupID, jobID string, grace time.Duration) error {
	d.jobs.mu.Lock()
	j := d.jobs.m[groupID][jobID]
	if j == nil || !j.running || j.stopping {
		d.jobs.mu.Unlock()
		return nil
	}
	j.stopping = true
	d.jobs.mu.Unlock()
	if grace <= 0 {
		grace = d.grace
	}
	d.signalJob(j, syscall.SIGTERM)
	go func() {
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-j.gone:
		case <-t.C:
			d.signalJob(j, syscall.SIGKILL)
		}
	}()
	return nil
}

// signalJob sends SIGTERM to the job's own process only, so the job
// decides how its children stop (a shell script's checkpoint, written
// with mv, is not cut short); SIGKILL goes to its whole process group.
func (d *Driver) signalJob(j *job, sig syscall.Signal) {
	select {
	case <-j.gone:
		return
	default:
	}
	if !alive(j.pid, j.startTime) {
		return // never signal a pid that now belongs to someone else
	}
	if sig != syscall.SIGKILL {
		_ = syscall.Kill(j.pid, sig)
		return
	}
	if err := syscall.Kill(-j.pid, sig); errors.Is(err, syscall.ESRCH) {
		_ = syscall.Kill(j.pid, sig)
	}
}

// ObserveJobs reports the group's attempts, with the progress each wrote.
func (d *Driver) ObserveJobs(ctx context.Context, groupID string) ([]driver.JobObservation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.jobs.mu.Lock()
	defer d.jobs.mu.Unlock()
	obs := make([]driver.JobObservation, 0, len(d.jobs.m[groupID]))
	for _, j := range d.jobs.m[groupID] {
		obs = append(obs, driver.JobObservation{
			JobID: j.spec.JobID, NodeID: j.spec.NodeID, Running: j.running, ExitCode: j.exit,
			Lost: j.lost, Stopped: j.stopping, Progress: readProgress(filepath.Join(j.work, "progress")), Reason: j.reason,
		})
	}
	sort.Slice(obs, func(a, b int) bool { return obs[a].JobID < obs[b].JobID })
	return obs, nil
}

// ForgetJob drops an ended attempt and its working directory: its state
// and output were copied out when it ended, and pesd has recorded the end.
func (d *Driver) ForgetJob(groupID, jobID string) {
	d.jobs.mu.Lock()
	j := d.jobs.m[groupID][jobID]
	if j == nil || j.running {
		d.jobs.mu.Unlock()
		return
	}
	delete(d.jobs.m[groupID], jobID)
	d.jobs.mu.Unlock()
	if err := os.RemoveAll(j.work); err != nil {
		d.log.Warn("remove a job's working directory", "job", jobID, "err", err)
	}
}

// AdoptJobs re-attaches to attempts a previous pesd started: a live
// process (same pid and start time) is watched until it ends; one that
// ended meanwhile is reported lost, its state copied. An attempt with no
// pid record is left out.
func (d *Driver) AdoptJobs(ctx context.Context, specs []driver.JobSpec) error {
	for _, spec := range specs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if validIDs(spec.GroupID, spec.JobID) != nil {
			continue
		}
		work := d.JobDir(spec.GroupID, spec.JobID)
		var pid int
		var start uint64
		if b, err := os.ReadFile(filepath.Join(work, "pid")); err == nil {
			var h map[string]string
			if json.Unmarshal(b, &h) != nil {
				continue
			}
			pid, _ = strconv.Atoi(h[HandlePID])
			start, _ = strconv.ParseUint(h[HandleStartTime], 10, 64)
		} else if _, err := os.Stat(filepath.Join(work, "starting")); err == nil {
			// Started, but pesd died before the pid record: the process,
			// if it runs, is the session leader with this PES_JOB_ID.
			var ok bool
			if pid, start, ok = findJobProcess(spec.JobID); !ok {
				continue
			}
			rec, _ := json.Marshal(map[string]string{HandlePID: strconv.Itoa(pid), HandleStartTime: strconv.FormatUint(start, 10)})
			if err := writeFileAtomic(filepath.Join(work, "pid"), rec); err != nil {
				return err
			}
		} else {
			continue
		}
		d.jobs.mu.Lock()
		if _, ok := d.jobs.m[spec.GroupID][spec.JobID]; ok {
			d.jobs.mu.Unlock()
			continue
		}
		j := &job{spec: spec, work: work, pid: pid, startTime: start, gone: make(chan struct{}), running: true}
		d.addJob(j)
		d.jobs.mu.Unlock()
		if pid <= 0 || !alive(pid, start) {
			d.adoptedEnded(j, "the job ended while pesd was down")
			continue
		}
		d.log.Info("job re-adopted", "job", spec.JobID, "pid", pid)
		go func() {
			t := time.NewTicker(terminatePoll * 5)
			defer t.Stop()
			for range t.C {
				if !alive(pid, start) {
					d.adoptedEnded(j, "the re-adopted job ended")
					return
				}
			}
		}()
	}
	return nil
}

// adoptedEnded reports the end of a job pesd is not the parent of, with
// the exit status its recorder wrote; without one (it was killed) the
// job is lost.
func (d *Driver) adoptedEnded(j *job, reason string) {
	b, err := os.ReadFile(filepath.Join(j.work, "exit"))
	code, perr := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || perr != nil {
		d.jobEnded(j, -1, true, reason+"; its exit status is unknown")
		return
	}
	d.jobEnded(j, code, false, "")
}

func readProgress(path string) float64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
	if err != nil || f < 0 || f > 1 {
		return -1
	}
	return f
}

func emptyDir(dir string) bool {
	es, err := os.ReadDir(dir)
	return err != nil || len(es) == 0
}

// replaceTree makes dst a copy of src: copied beside it, then renamed
// over it, so dst is always a whole copy (the old or the new). Copies
// racing for one dst (an attempt's end seen twice) each land whole, the
// last one winning.
func replaceTree(src, dst string) error {
	parent := filepath.Dir(dst)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, filepath.Base(dst)+".new-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := copyTree(src, tmp); err != nil {
		return err
	}
	// The old copy moves aside (to a name of this copy's own), then the
	// new one onto dst; os.Rename never replaces a directory.
	old := tmp + "-old"
	for range 5 {
		if err := os.Rename(dst, old); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		err := os.Rename(tmp, dst)
		os.RemoveAll(old)
		if err == nil || !errors.Is(err, syscall.ENOTEMPTY) && !errors.Is(err, syscall.EEXIST) {
			return err
		}
		// Another copy landed in between: move it aside and try again.
	}
	return fmt.Errorf("replace %s: other copies kept landing", dst)
}

// copyTree copies the regular files and directories under src into dst.
// A missing src copies nothing.
func copyTree(src, dst string) error {
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return os.MkdirAll(dst, 0o755)
	}
	return filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		if e.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		if !e.Type().IsRegular() {
			return nil
		}
		return copyFile(p, to)
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// findJobProcess finds the running attempt of jobID: the session leader
// (the exit recorder's sh, started with Setsid) whose environment holds
// PES_JOB_ID=jobID.
func findJobProcess(jobID string) (pid int, start uint64, ok bool) {
	es, err := os.ReadDir("/proc")
	if err != nil {
		return 0, 0, false
	}
	want := []byte(driver.EnvJobID + "=" + jobID + "\x00")
	for _, e := range es {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !bytes.Contains(append([]byte{0}, env...), append([]byte{0}, want...)) {
			continue
		}
		st, err := readStat(p)
		if err != nil || st.Session != p || st.State == 'Z' {
			continue
		}
		return p, st.StartTime, true
	}
	return 0, 0, false
}
