package controller

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/causality"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// Notify delivery defaults (Options.NotifyAttempts, NotifyBackoff).
const (
	DefaultNotifyAttempts = 4
	DefaultNotifyBackoff  = time.Second
	// notifyMaxBackoff bounds the wait between two attempts.
	notifyMaxBackoff = time.Minute
	// notifyTimeout bounds one attempt: a receiver that answers slowly
	// counts as failed, and is tried again.
	notifyTimeout = 10 * time.Second
	// notifyMaxInFlight bounds the deliveries under way at once; more
	// wait for a slot, in their own goroutines, never in the loop.
	notifyMaxInFlight = 16
)

// notifier POSTs notify firings off the controller's loop: a slow or
// unreachable receiver delays only its own delivery, never a pass.
type notifier struct {
	attempts int
	backoff  time.Duration
	client   *http.Client
	slots    chan struct{}
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// delivery is one firing to POST, collected in a pass and sent once the
// pass's transaction has committed (the receiver may answer at once, and
// its in_reply_to must find the firing).
type delivery struct {
	notify  api.Notify
	payload api.NotifyPayload
	firing  api.Event
}

func newNotifier(opts Options) *notifier {
	n := &notifier{
		attempts: opts.NotifyAttempts, backoff: opts.NotifyBackoff,
		client: &http.Client{
			Timeout: notifyTimeout,
			// A redirect could lead anywhere: the allowed list is about
			// the URL the trigger names.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		slots: make(chan struct{}, notifyMaxInFlight),
	}
	if n.attempts <= 0 {
		n.attempts = DefaultNotifyAttempts
	}
	if n.backoff <= 0 {
		n.backoff = DefaultNotifyBackoff
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	return n
}

// close stops the deliveries under way and waits for them.
func (n *notifier) close() {
	n.cancel()
	n.wg.Wait()
}

// notifyFiring records a notify trigger's firing: a trigger_fired event
// with no request (the receiver decides the change), whose delivery is
// sent after the commit. A backtest's replay records the firing and
// sends nothing: a receiver would act on it as on a live one.
func (w *work) notifyFiring(t api.Trigger, src api.Source, observed string) error {
	note := causality.NotifyingNote(t.Notify.URL)
	if w.c.opts.backtest {
		note = causality.NotNotifiedInBacktest(t.Notify.URL)
	}
	e, err := w.newEvent(api.Event{
		Type: api.EventTriggerFired, Source: src, Status: api.EventApplied,
		Priority: t.Priority, Observed: observed, Notes: []string{note},
	})
	if err != nil || w.c.opts.backtest {
		return err
	}
	w.deliveries = append(w.deliveries, delivery{notify: *t.Notify, firing: e, payload: api.NotifyPayload{
		GroupID: w.s.group.ID, Group: w.s.group.Name, TriggerID: t.ID, Trigger: t.Name,
		EventID: e.ID, EventLabel: e.Label, Observed: e.Observed, Time: e.Time,
	}})
	return nil
}

// deliver starts the deliveries of committed work, each in a goroutine.
func (c *Controller) deliver(ws []*work) {
	for _, w := range ws {
		if w == nil {
			continue
		}
		for _, d := range w.deliveries {
			c.notify.wg.Add(1)
			go func() {
				defer c.notify.wg.Done()
				c.sendNotify(d)
			}()
		}
	}
}

// sendNotify POSTs one firing, retrying with a doubling backoff, and
// records the outcome as a notified event.
func (c *Controller) sendNotify(d delivery) {
	n := c.notify
	select {
	case n.slots <- struct{}{}:
		defer func() { <-n.slots }()
	case <-n.ctx.Done():
		return
	}
	body, err := json.Marshal(d.payload)
	if err != nil {
		c.log.Error("notify: encode payload", "event", d.firing.ID, "err", err)
		return
	}
	var (
		last    error
		attempt int
		wait    = n.backoff
	)
	for attempt = 1; attempt <= n.attempts; attempt++ {
		if last = n.post(d.notify, body); last == nil {
			break
		}
		c.log.Warn("notify delivery failed", "group", d.payload.GroupID, "trigger", d.payload.Trigger,
			"event", d.firing.Label, "attempt", attempt, "err", last)
		if attempt == n.attempts {
			break
		}
		select {
		case <-time.After(wait):
		case <-n.ctx.Done():
			return // pesd is stopping: the firing stays without its notified event
		}
		wait = min(2*wait, notifyMaxBackoff)
	}
	attempt = min(attempt, n.attempts)
	if err := c.recordNotified(n.ctx, d, attempt, last); err != nil {
		c.log.Error("notify: record delivery", "group", d.payload.GroupID, "event", d.firing.Label, "err", err)
	}
}

// post makes one attempt: any 2xx answer is a delivery.
func (n *notifier) post(nt api.Notify, body []byte) error {
	req, err := http.NewRequestWithContext(n.ctx, http.MethodPost, nt.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(api.NotifySignatureHeader, Sign(nt.Secret, body))
	resp, err := n.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("receiver answered %s", resp.Status)
	}
	return nil
}

// Sign is the value of the NotifySignatureHeader of body under secret:
// "sha256=" and the hex HMAC-SHA256. Receivers compute it the same way.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// recordNotified writes the notified event of a delivery: its parent is
// the firing; a failed one says why.
func (c *Controller) recordNotified(ctx context.Context, d delivery, attempts int, failed error) error {
	gs, err := c.lockGroup(ctx, d.payload.GroupID)
	if err != nil {
		return err
	}
	defer gs.mu.Unlock()
	_, err = c.write(ctx, gs, func(w *work) error {
		_, err := w.newEvent(api.Event{
			Type: api.EventNotified, Source: d.firing.Source, Status: api.EventApplied,
			Priority: d.firing.Priority, ParentEventID: d.firing.ID,
			Reason: causality.Notified(d.firing.Label, d.notify.URL, attempts, failed),
		})
		return err
	})
	return err
}

// replyTo checks an instruction's in_reply_to: the id or label of a
// notify firing of this group. The error names in_reply_to.
func (w *work) replyTo(ref string) (api.Event, error) {
	e, err := w.tx.GetEvent(w.ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		e, err = w.tx.GetEventByLabel(w.ctx, w.s.group.ID, ref)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return e, api.Invalid("in_reply_to", "names no event of this group: want the event_id of a notify trigger's firing; got %q", ref)
	case err != nil:
		return e, fmt.Errorf("in_reply_to %s: %w", ref, err)
	case e.GroupID != w.s.group.ID || !e.NotifyFiring():
		return e, api.Invalid("in_reply_to", "must name a notify trigger's firing of this group; %s is a %s event", ref, e.Type)
	}
	return e, nil
}

// withFirings adds to a nexus's events the notify firings that some of
// them answer (ParentEventID), after them: the chain firing → answer →
// change reads in the change's causes and the firing's effects. A firing
// already linked (an earlier answer made a change) keeps its first
// nexus: an event belongs to one.
func (w *work) withFirings(events []*api.Event) ([]*api.Event, error) {
	out := events
	seen := make(map[string]bool, len(events))
	for _, e := range events {
		seen[e.ID] = true
	}
	for _, e := range events {
		if e.ParentEventID == "" || seen[e.ParentEventID] {
			continue
		}
		seen[e.ParentEventID] = true
		p, err := w.tx.GetEvent(w.ctx, e.ParentEventID)
		if errors.Is(err, store.ErrNotFound) {
			continue // purged with its period's history
		}
		if err != nil {
			return nil, fmt.Errorf("firing %s: %w", e.ParentEventID, err)
		}
		if p.NexusID != "" {
			continue
		}
		if len(out) == len(events) {
			out = append([]*api.Event(nil), events...)
		}
		out = append(out, &p)
	}
	return out, nil
}
