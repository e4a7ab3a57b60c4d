package history

import (
	"context"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
	"github.com/pes-project/terraform-provider-pes/reconciler/trigger"
)

// GetTrigger returns the trigger of id (ResolveTrigger without a group)
// with the last values of what it reads (api.Trigger.Observed).
func (h *Reader) GetTrigger(ctx context.Context, id string) (api.Trigger, error) {
	t, err := h.ResolveTrigger(ctx, "", id, "")
	if err != nil {
		return t, err
	}
	ts := []api.Trigger{t}
	err = h.observe(ctx, t.GroupID, ts)
	return ts[0], err
}

// ListTriggers returns the group's triggers, each with the last values
// of what it reads.
func (h *Reader) ListTriggers(ctx context.Context, groupID string) ([]api.Trigger, error) {
	ts, err := h.r.ListTriggers(ctx, groupID)
	if err != nil {
		return nil, err
	}
	for i := range ts {
		ts[i] = ts[i].Redacted()
	}
	return ts, h.observe(ctx, groupID, ts)
}

// ObservedLookback is how far back a trigger's last observed values are
// looked for (beyond its longest window): a metric silent for longer has
// none. It bounds what a GET reads, whatever the samples' retention.
const ObservedLookback = 15 * time.Minute

// observe sets Observed of the triggers ts of group groupID from the
// samples pesd keeps: for each metric a trigger reads, its last sample
// within ObservedLookback, and for a target's metric the mean of its
// samples in the target's window ending at that last sample, (last −
// window, last], as the trigger computes it. The time is the data's: what
// the trigger saw last, even if the samples have stopped since.
func (h *Reader) observe(ctx context.Context, groupID string, ts []api.Trigger) error {
	type read struct {
		metric string
		window time.Duration // 0: the last sample
		text   string
	}
	reads := make([][]read, len(ts))
	some := false
	var longest time.Duration
	for i, t := range ts {
		spec, err := trigger.ParseTrigger(t)
		if err != nil {
			continue // a stored trigger parsed once; nothing to show if not now
		}
		if spec.Target != nil {
			w := t.Target.Window
			if w == "" {
				w = api.FormatDuration(spec.Target.Window)
			}
			reads[i] = append(reads[i], read{spec.Target.Metric, spec.Target.Window, w})
			longest = max(longest, spec.Target.Window)
		} else if spec.Condition != nil {
			for _, m := range spec.Condition.Metrics() {
				reads[i] = append(reads[i], read{metric: m})
			}
		}
		some = some || len(reads[i]) > 0
	}
	if !some {
		return nil
	}
	samples, err := h.r.Samples(ctx, groupID, h.clock.Now().Add(-ObservedLookback-longest))
	if err != nil {
		return err
	}
	byName := make(map[string][]store.StoredSample)
	last := make(map[string]store.StoredSample)
	for _, s := range samples {
		byName[s.Name] = append(byName[s.Name], s)
		// Of samples at one time the later one stored wins, as in the
		// windows.
		if l, ok := last[s.Name]; !ok || !s.Time.Before(l.Time) {
			last[s.Name] = s
		}
	}
	for i, rs := range reads {
		for _, r := range rs {
			l, ok := last[r.metric]
			if !ok {
				continue
			}
			o := api.Observation{Metric: r.metric, Value: l.Value, Time: l.Time.UTC()}
			if r.window > 0 {
				from, sum, n := l.Time.Add(-r.window), 0.0, 0
				for _, s := range byName[r.metric] {
					if s.Time.After(from) && !s.Time.After(l.Time) {
						sum += s.Value
						n++
					}
				}
				o.Value, o.Window = sum/float64(n), r.text
			}
			ts[i].Observed = append(ts[i].Observed, o)
		}
	}
	return nil
}
