package sim

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
)

// Execution jobs on the sim driver run virtually: an attempt takes
// JobSpec.ItemDuration per item of the driver's clock (the part its
// recorded progress has not done yet), then exits 0. A stopped attempt
// ends at once with exit 0, its progress being its checkpoint. Nothing
// runs in the background: an attempt's state is computed when observed.

var _ driver.JobRunner = (*Driver)(nil)

// simJob is one virtual attempt.
type simJob struct {
	spec    driver.JobSpec
	start   time.Time
	dur     time.Duration // from start to the end, unless stopped
	stopped bool
	stopAt  time.Time
}

func (j *simJob) observe(now time.Time) driver.JobObservation {
	o := driver.JobObservation{JobID: j.spec.JobID, NodeID: j.spec.NodeID, Stopped: j.stopped}
	end := j.start.Add(j.dur)
	at := now
	if j.stopped && j.stopAt.Before(end) {
		end = j.stopAt
	}
	if at.Before(end) {
		o.Running = true
	} else {
		at = end
	}
	o.Progress = j.spec.Progress
	if j.dur > 0 {
		o.Progress += (1 - j.spec.Progress) * float64(at.Sub(j.start)) / float64(j.dur)
	} else if !o.Running {
		o.Progress = 1
	}
	return o
}

// StartJob starts a virtual attempt now.
func (d *Driver) StartJob(ctx context.Context, spec driver.JobSpec) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if spec.GroupID == "" || spec.JobID == "" {
		return fmt.Errorf("sim: start job: group_id and job id are required")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.jobs == nil {
		d.jobs = make(map[string]map[string]*simJob)
	}
	g := d.jobs[spec.GroupID]
	if g == nil {
		g = make(map[string]*simJob)
		d.jobs[spec.GroupID] = g
	}
	if _, ok := g[spec.JobID]; ok {
		return nil
	}
	left := 1 - min(max(spec.Progress, 0), 1)
	dur := time.Duration(float64(spec.ItemDuration) * float64(max(spec.Items, 1)) * left)
	g[spec.JobID] = &simJob{spec: spec, start: d.clk.Now(), dur: dur}
	return nil
}

// StopJob ends a virtual attempt now (it checkpoints at once).
func (d *Driver) StopJob(ctx context.Context, groupID, jobID string, grace time.Duration) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if j := d.jobs[groupID][jobID]; j != nil && !j.stopped {
		j.stopped, j.stopAt = true, d.clk.Now()
	}
	return nil
}

// ObserveJobs reports the group's attempts.
func (d *Driver) ObserveJobs(ctx context.Context, groupID string) ([]driver.JobObservation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.clk.Now()
	obs := make([]driver.JobObservation, 0, len(d.jobs[groupID]))
	for _, j := range d.jobs[groupID] {
		obs = append(obs, j.observe(now))
	}
	sort.Slice(obs, func(a, b int) bool { return obs[a].JobID < obs[b].JobID })
	return obs, nil
}

// ForgetJob drops an ended attempt.
func (d *Driver) ForgetJob(groupID, jobID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if j := d.jobs[groupID][jobID]; j != nil && !j.observe(d.clk.Now()).Running {
		delete(d.jobs[groupID], jobID)
	}
}

// AdoptJobs restarts the attempts of a previous pesd from their recorded
// progress: virtual jobs have nothing left to re-attach to.
func (d *Driver) AdoptJobs(ctx context.Context, specs []driver.JobSpec) error {
	for _, s := range specs {
		if err := d.StartJob(ctx, s); err != nil {
			return err
		}
	}
	return nil
}
