package controller

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/causality"
	"github.com/pes-project/terraform-provider-pes/reconciler/cost"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
	"github.com/pes-project/terraform-provider-pes/reconciler/execution"
	"github.com/pes-project/terraform-provider-pes/reconciler/identity"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
	"github.com/pes-project/terraform-provider-pes/reconciler/window"
)

// Distributed executions (SPEC §2.9, seed 003). The planner (package
// execution) decides; this file records its decisions with the group's
// events and changes in one transaction, then starts and stops the jobs
// through the driver's JobRunner. An execution's files live under
// <DataDir>/executions/<id>: jobs/<index>/input, jobs/<index>/output/,
// jobs/<index>/checkpoint/ and the combined output.

// executions holds the executions that still have work, in memory. Each
// is changed only under its group's lock; the map has its own.
type executions struct {
	mu sync.Mutex
	m  map[string]*execState // by execution id
	// startErr holds attempts whose start failed, reported as ended by
	// the next step.
	startErr map[string]string
	// metricGroups are groups whose queue metrics were pushed last pass,
	// so the pass after their last execution ends pushes zeros once.
	metricGroups map[string]bool
}

type execState struct {
	x    api.Execution
	jobs []api.Job
	d    api.ExecutionDurations // x's, parsed once
}

func newExecState(x api.Execution, jobs []api.Job) (*execState, error) {
	d, err := api.ParseExecutionDurations(x)
	if err != nil {
		return nil, fmt.Errorf("execution %s: %w", x.Label, err)
	}
	return &execState{x: x, jobs: jobs, d: d}, nil
}

func (e *executions) put(s *execState) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.m == nil {
		e.m = make(map[string]*execState)
	}
	e.m[s.x.ID] = s
}

// byGroup returns the executions with work, by group, oldest first.
func (e *executions) byGroup() map[string][]*execState {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string][]*execState)
	for _, s := range e.m {
		out[s.x.GroupID] = append(out[s.x.GroupID], s)
	}
	for _, ss := range out {
		slices.SortFunc(ss, func(a, b *execState) int { return strings.Compare(a.x.ID, b.x.ID) })
	}
	return out
}

func (e *executions) get(id string) *execState {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.m[id]
}

func (e *executions) drop(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, id)
}

func (e *executions) takeStartErr(jobID string) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	msg, ok := e.startErr[jobID]
	delete(e.startErr, jobID)
	return msg, ok
}

func (e *executions) setStartErr(jobID, msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.startErr == nil {
		e.startErr = make(map[string]string)
	}
	e.startErr[jobID] = msg
}

// finished reports whether an execution has nothing left for the loop.
func finished(s *execState) bool {
	if !api.ExecutionDone(s.x.Status) {
		return false
	}
	return !slices.ContainsFunc(s.jobs, func(j api.Job) bool { return j.Status == api.JobRunning })
}

func (c *Controller) execDir(id string) string {
	return filepath.Join(c.opts.DataDir, "executions", id)
}

func (c *Controller) jobRunner(g api.Group) (driver.JobRunner, error) {
	d, err := c.driverFor(g)
	if err != nil {
		return nil, err
	}
	jr, ok := d.(driver.JobRunner)
	if !ok {
		return nil, api.Invalid("group_id", "group %s uses the %s driver, which does not run execution jobs", g.Name, g.Driver)
	}
	return jr, nil
}

// CreateExecution splits the input into jobs, records the execution with
// its start event and the first assignments in one transaction, then
// starts those jobs. in must have passed api.ValidateExecutionCreate.
func (c *Controller) CreateExecution(ctx context.Context, in api.ExecutionCreate) (api.Execution, error) {
	if c.opts.DataDir == "" {
		return api.Execution{}, errors.New("controller: executions need Options.DataDir")
	}
	gs, err := c.lockGroup(ctx, in.GroupID)
	if err != nil {
		return api.Execution{}, err
	}
	defer gs.mu.Unlock()
	g := gs.st.group
	if _, err := c.jobRunner(g); err != nil {
		return api.Execution{}, err
	}
	prog := g.Program
	if in.Program != nil {
		prog = *in.Program
	}
	if g.Driver == api.DriverLocal && prog.Command == "" {
		return api.Execution{}, api.Invalid("program.command", "is required: the group %s has no program", g.Name)
	}
	subsets, err := readInput(in.Input)
	if err != nil {
		return api.Execution{}, err
	}
	if len(subsets) > api.MaxJobs {
		return api.Execution{}, api.Invalid("input", "splits into %d jobs; at most %d are allowed (raise the per-job count)", len(subsets), api.MaxJobs)
	}
	now := c.clock.Now()
	x := api.Execution{
		ID: newID(), GroupID: g.ID, Name: in.Name, ProgramType: in.ProgramType, Program: prog,
		Input: in.Input, MaxParallel: in.MaxParallel, MaxAttempts: *in.MaxAttempts, Deadline: in.Deadline,
		MaxNodeHours: in.MaxNodeHours, UseRecommendation: in.UseRecommendation,
		OnComplete: in.OnComplete, Sim: in.Sim, SuspendGrace: in.SuspendGrace, Status: api.ExecutionPending,
		CreatedAt: now, UpdatedAt: now, Events: []string{}, Actor: in.Actor,
	}
	if p, ok := identity.From(ctx); ok {
		x.Principal = p.Name
	}
	// Inline items are in the job inputs; the record keeps their count.
	x.Input.Items = nil
	dir := c.execDir(x.ID)
	x.OutputDir = filepath.Join(dir, "jobs")
	jobs := make([]api.Job, len(subsets))
	// The inputs share one directory (one mkdir, not one a job); a job's
	// output and checkpoint directories are made when it has some.
	if err := os.MkdirAll(filepath.Join(dir, "input"), 0o755); err != nil {
		return api.Execution{}, fmt.Errorf("execution %s: %w", x.ID, err)
	}
	for i, sub := range subsets {
		jobs[i] = api.Job{ExecutionID: x.ID, Index: i, Items: sub.items, Status: api.JobQueued,
			Input:  filepath.Join(dir, "input", strconv.Itoa(i)),
			Output: filepath.Join(jobDir(dir, i), "output"),
			Log:    filepath.Join(jobDir(dir, i), "log")}
		if err := os.WriteFile(jobs[i].Input, sub.data, 0o644); err != nil {
			return api.Execution{}, fmt.Errorf("execution %s: write the input of job %d: %w", x.ID, i, err)
		}
	}
	s, err := newExecState(x, jobs)
	if err != nil {
		return api.Execution{}, err
	}
	size := 0
	for _, sub := range subsets {
		size += sub.items
	}
	var inserted bool
	err = c.stepGroup(ctx, gs, []*execState{s}, func(w *work) error {
		label, err := w.tx.NextExecutionLabel()
		if err != nil {
			return err
		}
		s.x.Label = label
		a, err := advise(ctx, w.tx, g, in, label, size, w.now)
		if err != nil {
			return err
		}
		s.x.Recommendation = a.rec
		if err := w.recordWarnings(&s.x, a.warnings); err != nil {
			return err
		}
		inserted = true
		if err := w.tx.InsertExecution(s.x); err != nil {
			return err
		}
		return w.tx.PutJobs(s.x.ID, s.jobs)
	})
	if err != nil || !inserted {
		_ = os.RemoveAll(dir)
		return api.Execution{}, err
	}
	if !finished(s) {
		c.ex.put(s)
	}
	return c.executionView(s), nil
}

type subset struct {
	data  []byte
	items int
}

// readInput reads the input from pesd's disk and splits it.
func readInput(in api.ExecutionInput) ([]subset, error) {
	var items [][]byte
	var per int
	switch {
	case in.Lines != "":
		b, err := os.ReadFile(in.Lines)
		if err != nil {
			return nil, api.Invalid("input.lines", "cannot read %q on pesd's machine: %v", in.Lines, errText(err))
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
		for sc.Scan() {
			items = append(items, append(slices.Clone(sc.Bytes()), '\n'))
		}
		if err := sc.Err(); err != nil {
			return nil, api.Invalid("input.lines", "cannot split %q into lines: %v", in.Lines, err)
		}
		if len(items) == 0 {
			return nil, api.Invalid("input.lines", "%q is empty: there is nothing to run", in.Lines)
		}
		per = *in.LinesPerJob
	case in.Files != "":
		files, err := listFiles(in.Files)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			items = append(items, []byte(f+"\n"))
		}
		per = *in.FilesPerJob
	default:
		for _, it := range in.Items {
			var buf bytes.Buffer
			if err := json.Compact(&buf, it); err != nil {
				return nil, api.Invalid("input.items", "holds an item that is not JSON: %v", err)
			}
			items = append(items, append(buf.Bytes(), '\n'))
		}
		per = *in.ItemsPerJob
	}
	var out []subset
	for _, r := range execution.Split(len(items), per) {
		out = append(out, subset{data: bytes.Join(items[r.Start:r.End], nil), items: r.End - r.Start})
	}
	return out, nil
}

// listFiles is every regular file of a directory, or the matches of a
// glob, sorted.
func listFiles(pattern string) ([]string, error) {
	var files []string
	if st, err := os.Stat(pattern); err == nil && st.IsDir() {
		es, err := os.ReadDir(pattern)
		if err != nil {
			return nil, api.Invalid("input.files", "cannot read directory %q: %v", pattern, errText(err))
		}
		for _, e := range es {
			if e.Type().IsRegular() {
				files = append(files, filepath.Join(pattern, e.Name()))
			}
		}
	} else {
		m, err := filepath.Glob(pattern)
		if err != nil {
			return nil, api.Invalid("input.files", "%q is not a valid glob: %v", pattern, err)
		}
		for _, f := range m {
			if st, err := os.Stat(f); err == nil && st.Mode().IsRegular() {
				files = append(files, f)
			}
		}
	}
	if len(files) == 0 {
		return nil, api.Invalid("input.files", "%q matches no file on pesd's machine", pattern)
	}
	sort.Strings(files)
	return files, nil
}

func errText(err error) string {
	if errors.Is(err, fs.ErrNotExist) {
		return "no such file"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// GetExecution returns an execution the loop holds, with its jobs, or
// reads it from the store. id may be a label ("X3").
func (c *Controller) lookupExecution(ctx context.Context, id string) (api.Execution, error) {
	if strings.HasPrefix(id, "X") {
		if x, err := c.store.GetExecutionByLabel(ctx, id); err == nil {
			return x, nil
		}
	}
	return c.store.GetExecution(ctx, id)
}

// SuspendExecution asks a running execution to suspend: its jobs get
// SIGTERM (they checkpoint and exit), their state is copied into pesd's
// data directory, and the execution is suspended once none runs. With
// release, the group is then scaled to 0, a change attributed to the
// suspension event.
func (c *Controller) SuspendExecution(ctx context.Context, id string, in api.ExecutionSuspend) (api.Execution, error) {
	return c.actOnExecution(ctx, id, func(w *work, s *execState) error {
		x, err := execution.Suspend(s.x, in.ReleaseNodes, in.Actor)
		if err != nil {
			return err
		}
		x.SuspendedByPrincipal = ""
		if p, ok := identity.From(ctx); ok {
			x.SuspendedByPrincipal = p.Name
		}
		s.x = x
		return nil
	})
}

// ResumeExecution puts a suspended execution back to work: its jobs are
// queued with their checkpoints and run on whatever nodes are ready. A
// suspension that released the nodes asks for them back, attributed to
// the resumption event.
func (c *Controller) ResumeExecution(ctx context.Context, id string, in api.ExecutionAction) (api.Execution, error) {
	return c.actOnExecution(ctx, id, func(w *work, s *execState) error {
		x, changed, err := execution.Resume(s.x, s.jobs, w.time(c))
		if err != nil {
			return err
		}
		s.x = x
		for i := range changed {
			changed[i].Reason = causality.JobReason(execution.Why{Kind: execution.WhyResumed})
			s.jobs[changed[i].Index] = changed[i]
		}
		if err := w.tx.PutJobs(x.ID, changed); err != nil {
			return err
		}
		f := execution.Fact{Type: api.EventExecutionResumed, Total: len(s.jobs)}
		for _, j := range s.jobs {
			if j.Status == api.JobQueued {
				f.Queued++
			}
		}
		return w.executionEvent(s, f, identity.Source(w.ctx, in.Actor))
	})
}

// CancelExecution ends an execution: running jobs are stopped, the others
// failed as cancelled.
func (c *Controller) CancelExecution(ctx context.Context, id string, in api.ExecutionAction) (api.Execution, error) {
	return c.actOnExecution(ctx, id, func(w *work, s *execState) error {
		x, changed, err := execution.Cancel(s.x, s.jobs, w.time(c))
		if err != nil {
			return err
		}
		s.x = x
		for i := range changed {
			changed[i].Reason = causality.JobReason(execution.Why{Kind: execution.WhyCancelled})
			s.jobs[changed[i].Index] = changed[i]
		}
		if err := w.tx.PutJobs(x.ID, changed); err != nil {
			return err
		}
		f := execution.Fact{Type: api.EventExecutionCancelled, Total: len(s.jobs)}
		for _, j := range s.jobs {
			if j.Status == api.JobSucceeded {
				f.Succeeded++
			}
		}
		return w.executionEvent(s, f, identity.Source(w.ctx, in.Actor))
	})
}

// actOnExecution runs a user's action on an execution under its group's
// lock, then a step of the planner in the same transaction.
func (c *Controller) actOnExecution(ctx context.Context, id string, act func(w *work, s *execState) error) (api.Execution, error) {
	x, err := c.lookupExecution(ctx, id)
	if err != nil {
		return api.Execution{}, fmt.Errorf("execution %s: %w", id, err)
	}
	gs, err := c.lockGroup(ctx, x.GroupID)
	if err != nil {
		return api.Execution{}, err
	}
	defer gs.mu.Unlock()
	s := c.ex.get(x.ID)
	if s == nil {
		// Ended: no action applies, but the answer says why.
		jobs, err := c.store.ListJobs(ctx, x.ID)
		if err != nil {
			return api.Execution{}, err
		}
		s = &execState{x: x, jobs: jobs}
		if err := act(nil, s); err != nil {
			return api.Execution{}, err
		}
		return api.Execution{}, api.ExecutionActionError("act on", x)
	}
	before := *s
	before.jobs = slices.Clone(s.jobs)
	err = c.stepGroup(ctx, gs, []*execState{s}, func(w *work) error { return act(w, s) })
	if err != nil {
		*s = before
		return api.Execution{}, err
	}
	return c.executionView(s), nil
}

// time is the transaction's time, or the clock's for an action on an
// ended execution, which acts without one (to say why it cannot).
func (w *work) time(c *Controller) time.Time {
	if w == nil {
		return c.clock.Now()
	}
	return w.now
}

// executionView is the execution with its jobs, for an answer.
func (c *Controller) executionView(s *execState) api.Execution {
	x := s.x
	x.Jobs = slices.Clone(s.jobs)
	execution.Summarize(&x, x.Jobs, c.clock.Now())
	return x
}

// passExecutions runs one step of every execution with work, a group at a
// time, and pushes the groups' queue metrics.
func (c *Controller) passExecutions(ctx context.Context) error {
	byGroup := c.ex.byGroup()
	c.ex.mu.Lock()
	prev := c.ex.metricGroups
	c.ex.metricGroups = make(map[string]bool, len(byGroup))
	for id := range byGroup {
		c.ex.metricGroups[id] = true
	}
	c.ex.mu.Unlock()
	ids := make([]string, 0, len(byGroup))
	for id := range byGroup {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	errs := c.stepGroups(ctx, ids, byGroup)
	// A group whose last execution ended reads an empty queue once, so a
	// trigger over it can scale in.
	for id := range prev {
		if _, still := byGroup[id]; !still {
			now := c.clock.Now()
			c.windows.Add(id, window.Sample{Name: api.MetricJobsQueued, Value: 0, Time: now},
				window.Sample{Name: api.MetricJobsRunning, Value: 0, Time: now})
		}
	}
	return errors.Join(errs...)
}

// reactExecutions steps the executions of groups a driver pushed (a job
// ended, a node changed), so the next job starts without waiting for the
// next full pass.
func (c *Controller) reactExecutions(ctx context.Context, groupIDs []string) error {
	byGroup := c.ex.byGroup()
	var ids []string
	for _, id := range groupIDs {
		if len(byGroup[id]) > 0 {
			ids = append(ids, id)
		}
	}
	return errors.Join(c.stepGroups(ctx, ids, byGroup)...)
}

// stepGroups steps each group's executions, a group at a time under its
// lock; the executions of a deleted group end cancelled.
func (c *Controller) stepGroups(ctx context.Context, ids []string, byGroup map[string][]*execState) []error {
	var errs []error
	for _, id := range ids {
		if ctx.Err() != nil {
			break
		}
		gs, err := c.lockGroup(ctx, id)
		if err != nil {
			if g, gerr := c.store.GetGroup(ctx, id); gerr == nil && g.Status == api.GroupDeleted {
				err = c.endWithGroup(ctx, g, byGroup[id])
			}
			if err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if err := c.stepGroup(ctx, gs, byGroup[id], nil); err != nil {
			errs = append(errs, err)
		}
		gs.mu.Unlock()
	}
	return errs
}

// endWithGroup cancels the executions of a deleted group: their running
// jobs are stopped (they checkpoint), and the executions end cancelled.
func (c *Controller) endWithGroup(ctx context.Context, g api.Group, ss []*execState) error {
	jr, err := c.jobRunner(g)
	if err != nil {
		return err
	}
	now := c.clock.Now()
	return c.store.Update(ctx, func(tx store.Tx) error {
		for _, s := range ss {
			var changed []api.Job
			for _, j := range s.jobs {
				switch j.Status {
				case api.JobRunning:
					if err := jr.StopJob(ctx, g.ID, j.ID, s.d.SuspendGrace); err != nil {
						return err
					}
					fallthrough
				case api.JobQueued, api.JobSuspended:
					j.Status, j.EndedAt = api.JobFailed, &now
					j.Reason = causality.JobReason(execution.Why{Kind: execution.WhyGroupDeleted})
					changed = append(changed, j)
				}
			}
			x := s.x
			x.Usage = execution.Measure(x, -1, now)
			if !api.ExecutionDone(x.Status) {
				x.Status, x.Reason = api.ExecutionCancelled, causality.ExecutionGroupDeleted()
			}
			x.EndedAt, x.UpdatedAt = &now, now
			if err := tx.PutJobs(x.ID, changed); err != nil {
				return err
			}
			for _, j := range changed {
				s.jobs[j.Index] = j
			}
			if err := insertRun(ctx, tx, g, x, s.jobs); err != nil {
				return err
			}
			if err := tx.UpdateExecution(x); err != nil {
				return err
			}
			c.ex.drop(x.ID)
		}
		return nil
	})
}

// stepGroup plans one step for each of the group's executions, records
// the decisions (and what pre does first) in one transaction, then acts:
// stops, then starts. The caller holds gs.mu.
func (c *Controller) stepGroup(ctx context.Context, gs *groupState, ss []*execState, pre func(w *work) error) error {
	g := gs.st.group
	jr, err := c.jobRunner(g)
	if err != nil {
		return err
	}
	seen, err := jr.ObserveJobs(ctx, g.ID)
	if err != nil {
		return fmt.Errorf("observe jobs of group %s: %w", g.ID, err)
	}
	obs := make(map[string]execution.Observed, len(seen))
	for _, o := range seen {
		obs[o.JobID] = execution.Observed{Running: o.Running, ExitCode: o.ExitCode, Lost: o.Lost, Progress: o.Progress, Reason: o.Reason}
	}
	var nodes []execution.Node
	for _, n := range gs.st.nodeList() {
		nodes = append(nodes, execution.Node{ID: n.ID, Ready: n.State == api.NodeReady})
	}

	type step struct {
		s *execState
		d execution.Decision
	}
	var steps []step
	var forget []string
	saved := make([]execState, len(ss))
	for i, s := range ss {
		saved[i] = execState{x: s.x, jobs: slices.Clone(s.jobs), d: s.d}
	}
	_, err = c.write(ctx, gs, func(w *work) error {
		if pre != nil {
			if err := pre(w); err != nil {
				return err
			}
		}
		// Nodes running jobs, so each execution sees the others' as busy.
		running := make(map[string]string)
		for _, s := range append(c.ex.byGroup()[g.ID], ss...) {
			for _, j := range s.jobs {
				if j.Status == api.JobRunning {
					running[j.NodeID] = s.x.ID
				}
			}
		}
		for _, s := range ss {
			busy := make(map[string]bool)
			for n, xid := range running {
				if xid != s.x.ID {
					busy[n] = true
				}
			}
			for _, j := range s.jobs {
				if msg, ok := c.ex.takeStartErr(j.ID); ok && j.Status == api.JobRunning {
					obs[j.ID] = execution.Observed{ExitCode: 127, Reason: msg}
				}
			}
			d := execution.Plan(execution.Input{Execution: s.x, Jobs: s.jobs, Nodes: nodes, Busy: busy, Observed: obs, Now: w.now})
			for _, j := range d.Jobs {
				if old := s.jobs[j.Index]; old.Status == api.JobRunning && (j.Status != api.JobRunning || old.ID != j.ID) {
					forget = append(forget, old.ID)
				}
				if j.Status == api.JobRunning {
					running[j.NodeID] = s.x.ID
				}
			}
			if err := c.record(w, s, d); err != nil {
				return err
			}
			steps = append(steps, step{s, d})
		}
		return nil
	})
	if err != nil {
		for i, s := range ss {
			*s = saved[i]
		}
		return err
	}
	// Committed: act.
	for _, st := range steps {
		for _, stop := range st.d.Stop {
			g := st.s.d.SuspendGrace
			if stop.Reason == execution.StopNodeLost {
				g = min(g, c.opts.TerminationGrace)
			}
			if err := jr.StopJob(ctx, gs.id, stop.JobID, g); err != nil {
				c.log.Warn("stop job", "job", stop.JobID, "err", err)
			}
		}
		for _, idx := range st.d.Launch {
			j := st.s.jobs[idx]
			if err := jr.StartJob(ctx, c.jobSpec(gs.st.group, st.s, j)); err != nil {
				c.log.Warn("start job", "job", j.ID, "err", err)
				c.ex.setStartErr(j.ID, "could not start: "+err.Error())
			}
		}
		if finished(st.s) {
			c.ex.drop(st.s.x.ID)
		}
	}
	for _, id := range forget {
		jr.ForgetJob(gs.id, id)
	}
	c.pushQueue(gs.id)
	return nil
}

// record writes a decision: the jobs that changed, the events of its
// facts, the execution. On completion the combined output is made first,
// so the recorded path exists.
func (c *Controller) record(w *work, s *execState, d execution.Decision) error {
	prev := s.x
	x := d.Execution
	changed := make([]api.Job, 0, len(d.Jobs))
	for _, j := range d.Jobs {
		if why, ok := d.Why[j.Index]; ok {
			j.Reason = causality.JobReason(why)
			// An attempt ended short of success (it may already be
			// relaunched in this step): the driver has copied its
			// state, if it saved any.
			if cp := checkpointDir(j); nonEmptyDir(cp) {
				j.Checkpoint = cp
			}
		} else if j.Status == api.JobSucceeded {
			j.Reason = ""
		}
		s.jobs[j.Index] = j
		changed = append(changed, j)
	}
	s.x = x
	if (x.Status == api.ExecutionCompleted || x.Status == api.ExecutionCompletedWithErrors) && x.Output == "" {
		out, err := combine(c.execDir(x.ID), s.jobs)
		if err != nil {
			return fmt.Errorf("execution %s: combined output: %w", x.Label, err)
		}
		s.x.Output = out
	}
	if len(changed) > 0 {
		if err := w.tx.PutJobs(x.ID, changed); err != nil {
			return err
		}
	}
	if err := w.recordRun(s); err != nil {
		return err
	}
	for _, f := range d.Facts {
		src := api.Source{Kind: api.SourceSystem}
		switch f.Type {
		case api.EventExecutionStarted:
			src = identity.SourceFor(x.Principal, x.Actor)
		case api.EventExecutionSuspended:
			src = identity.SourceFor(x.SuspendedByPrincipal, x.SuspendedBy)
		}
		if err := w.executionEvent(s, f, src); err != nil {
			return err
		}
	}
	if !d.Changed(prev) && s.x.Output == prev.Output && s.x.Progress == prev.Progress {
		return nil
	}
	s.x.UpdatedAt = w.now
	return w.tx.UpdateExecution(s.x)
}

// recordRun writes the run record of an execution of a program type
// that has ended, in the transaction that records its end (again is a
// no-op: an execution leaves one run).
func (w *work) recordRun(s *execState) error {
	if s.x.EndedAt == nil {
		return nil
	}
	return insertRun(w.ctx, w.tx, w.s.group, s.x, s.jobs)
}

func insertRun(ctx context.Context, tx store.Tx, g api.Group, x api.Execution, jobs []api.Job) error {
	if x.ProgramType == "" {
		return nil // no type to learn for
	}
	r := execution.RunOf(x, jobs, newID(), g.Driver, api.NodeType(g))
	var err error
	if r.Cost, err = runCost(ctx, tx, g, x); err != nil {
		return fmt.Errorf("run record of execution %s: %w", x.Label, err)
	}
	r.Note = causality.RunNote(r)
	if _, err := tx.InsertRun(g.Tenant, r); err != nil {
		return fmt.Errorf("run record of execution %s: %w", x.Label, err)
	}
	return nil
}

// runCost prices an ended execution's run from what the transaction
// sees: the group's nodes over the run and, when it was suspended, its
// suspension and resumption events. nil when the group had no billing.
func runCost(ctx context.Context, tx store.Tx, g api.Group, x api.Execution) (*float64, error) {
	if len(g.BillingHistory) == 0 || x.StartedAt == nil || x.EndedAt == nil {
		return nil, nil // never billed: nothing to read
	}
	rates := cost.ParseRates(g.BillingHistory)
	since, until := *x.StartedAt, *x.EndedAt
	var events []api.Event
	if x.Usage != nil && x.Usage.SuspendedSeconds > 0 {
		// The execution's own events, by their labels: a few point reads,
		// where a list of the group's events by type would walk all of
		// them over the run, in the writer's transaction.
		read := make(map[string]bool, len(x.Events))
		for _, l := range x.Events {
			if read[l] {
				continue
			}
			read[l] = true
			e, err := tx.GetEventByLabel(ctx, g.ID, l)
			switch {
			case errors.Is(err, store.ErrNotFound):
				continue
			case err != nil:
				return nil, fmt.Errorf("events of the run: %w", err)
			}
			if (e.Type == api.EventExecutionSuspended || e.Type == api.EventExecutionResumed) &&
				!e.Time.Before(since) && !e.Time.After(until) {
				events = append(events, e)
			}
		}
		// In the order they were recorded: a resumption may share its
		// suspension's time.
		slices.SortFunc(events, func(a, b api.Event) int {
			return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(labelNumber(a.Label), labelNumber(b.Label)))
		})
	}
	// A node ended before the run began may still be billed into it.
	nodes, err := tx.NodeTimes(ctx, g.ID, since.Add(-rates.Slack()), until.Add(time.Nanosecond))
	if err != nil {
		return nil, fmt.Errorf("nodes of the run: %w", err)
	}
	return execution.RunCost(x, events, nodes, rates), nil
}

// executionEvent records a fact as an event of the group. Completion
// with on_complete scale_to, a suspension that releases the nodes and
// the resumption after it carry a request, carried out at once and
// attributed directly to the event.
func (w *work) executionEvent(s *execState, f execution.Fact, src api.Source) error {
	x := &s.x
	e := api.Event{Type: f.Type, Source: src, Status: api.EventApplied,
		Priority: api.DefaultInstructionPriority, Reason: causality.ExecutionFact(x.Label, f)}
	var setTo *int
	switch f.Type {
	case api.EventExecutionStarted:
		// Sized by the recommendation at start: the change is this
		// event's, and its explanation cites the recommendation.
		if r := x.Recommendation; x.UseRecommendation && r != nil && r.NodeQuantity > 0 {
			q := r.NodeQuantity
			setTo = &q
			e.Notes = append(e.Notes, causality.RecommendationNote(*r))
		}
	case api.EventExecutionCompleted:
		if x.OnComplete != nil && x.OnComplete.ScaleTo != nil {
			setTo = x.OnComplete.ScaleTo
		}
	case api.EventExecutionSuspended:
		if x.ReleaseNodes {
			x.ReleasedQuantity = w.s.group.DesiredQuantity
			zero := 0
			setTo = &zero
		}
	case api.EventExecutionResumed:
		if x.ReleasedQuantity > 0 {
			q := x.ReleasedQuantity
			setTo = &q
			x.ReleasedQuantity, x.ReleaseNodes = 0, false
		}
	}
	var err error
	if setTo != nil {
		e.Request, e.Immediate = &api.Request{SetTo: setTo}, true
		e, err = w.request(e)
	} else {
		e, err = w.newEvent(e)
	}
	if err != nil {
		return err
	}
	x.Events = append(x.Events, e.Label)
	x.UpdatedAt = w.now
	return w.tx.UpdateExecution(*x)
}

// jobDir is where a job's output and checkpoint live.
func jobDir(execDir string, index int) string {
	return filepath.Join(execDir, "jobs", strconv.Itoa(index))
}

// checkpointDir is pesd's copy of a job's state, beside its output.
func checkpointDir(j api.Job) string {
	return filepath.Join(filepath.Dir(j.Output), "checkpoint")
}

func nonEmptyDir(dir string) bool {
	es, err := os.ReadDir(dir)
	return err == nil && len(es) > 0
}

// combine concatenates the succeeded jobs' output files, in job order
// and, within a job, in name order, into <dir>/output.
func combine(dir string, jobs []api.Job) (string, error) {
	path := filepath.Join(dir, "output")
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return "", err
	}
	bw := bufio.NewWriter(f)
	for _, j := range jobs {
		if j.Status != api.JobSucceeded {
			continue
		}
		files, _ := filepath.Glob(filepath.Join(j.Output, "*"))
		sort.Strings(files)
		for _, name := range files {
			if st, err := os.Stat(name); err != nil || !st.Mode().IsRegular() {
				continue
			}
			b, err := os.ReadFile(name)
			if err != nil {
				f.Close()
				return "", err
			}
			bw.Write(b)
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return path, os.Rename(tmp, path)
}

// jobSpec is what the driver needs to run an attempt.
func (c *Controller) jobSpec(g api.Group, s *execState, j api.Job) driver.JobSpec {
	x := s.x
	return driver.JobSpec{
		GroupID: g.ID, NodeID: j.NodeID, JobID: j.ID, Index: j.Index, Attempt: j.Attempt,
		Program: x.Program, Input: j.Input, Items: j.Items, OutputDir: j.Output, Log: j.Log,
		CheckpointDir: checkpointDir(j),
		Progress:      j.Progress, ItemDuration: s.d.SimItem,
	}
}

// pushQueue adds the group's jobs_queued and jobs_running to its metric
// windows, for triggers.
func (c *Controller) pushQueue(groupID string) {
	queued, running := 0, 0
	for _, s := range c.ex.byGroup()[groupID] {
		for _, j := range s.jobs {
			switch j.Status {
			case api.JobQueued:
				queued++
			case api.JobRunning:
				running++
			}
		}
	}
	now := c.clock.Now()
	c.windows.Add(groupID, window.Sample{Name: api.MetricJobsQueued, Value: float64(queued), Time: now},
		window.Sample{Name: api.MetricJobsRunning, Value: float64(running), Time: now})
}

// executionNotes are the notes of a trigger event whose condition reads
// an execution's queue: which execution, and the event that started it.
func (c *Controller) executionNotes(ctx context.Context, groupID, condition string) []string {
	if !strings.Contains(condition, api.MetricJobsQueued) && !strings.Contains(condition, api.MetricJobsRunning) {
		return nil
	}
	var notes []string
	for _, s := range c.ex.byGroup()[groupID] {
		var started api.Event
		if len(s.x.Events) > 0 {
			if e, err := c.store.GetEventByLabel(ctx, groupID, s.x.Events[0]); err == nil {
				started = e
			}
		}
		notes = append(notes, causality.ExecutionMetricNote(s.x.Label, started))
	}
	return notes
}

// recoverExecutions loads the executions with work after a restart and
// re-adopts their running attempts through the drivers; an attempt the
// driver finds no trace of is re-queued from its checkpoint by the first
// step.
func (c *Controller) recoverExecutions(ctx context.Context, keep func(groupID string) bool) error {
	var all []api.Execution
	for _, f := range []store.ExecutionFilter{{Active: true}, {Status: api.ExecutionCancelled}} {
		f.Limit = 1000
		for {
			xs, next, err := c.store.ListExecutions(ctx, f)
			if err != nil {
				return fmt.Errorf("list executions: %w", err)
			}
			for _, x := range xs {
				if !keep(x.GroupID) || c.ex.get(x.ID) != nil {
					continue
				}
				if x.Status != api.ExecutionCancelled || x.EndedAt == nil {
					all = append(all, x)
				}
			}
			if next == "" {
				break
			}
			f.Token = next
		}
	}
	for _, x := range all {
		jobs, err := c.store.ListJobs(ctx, x.ID)
		if err != nil {
			return fmt.Errorf("jobs of execution %s: %w", x.Label, err)
		}
		g, err := c.store.GetGroup(ctx, x.GroupID)
		if err != nil {
			return err
		}
		jr, err := c.jobRunner(g)
		if err != nil {
			c.log.Warn("execution cannot go on", "execution", x.Label, "err", err)
			continue
		}
		s, err := newExecState(x, jobs)
		if err != nil {
			return err
		}
		var specs []driver.JobSpec
		for _, j := range jobs {
			if j.Status == api.JobRunning {
				specs = append(specs, c.jobSpec(g, s, j))
			}
		}
		if err := jr.AdoptJobs(ctx, specs); err != nil {
			return fmt.Errorf("adopt the jobs of execution %s: %w", x.Label, err)
		}
		c.ex.put(s)
	}
	return nil
}
