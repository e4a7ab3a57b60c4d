//go:build linux

package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
)

// TestE2ENotifyRoundTrip is seed 000's trigger that notifies another
// system, which then decides the change, through a real pesd: the
// receiver checks the delivery's signature, fails the first attempt (pesd
// retries), and answers with an instruction in reply; a second trigger's
// receiver always fails, and its delivery is recorded failed after the
// retries. The chain firing → answer → change reads in the change's causes
// and the firing's effects.
func TestE2ENotifyRoundTrip(t *testing.T) {
	needE2E(t)
	d := startDaemon(t, t.TempDir(), "notify-token",
		append(fastTriggers, "--notify-backoff", "100ms", "--notify-attempts", "3")...)
	c := d.client(t)
	ctx := ctxFor(t)
	const secret = "s3cret-key"

	g, err := c.CreateGroup(ctx, simGroup("notified", 1))
	if err != nil {
		t.Fatal(err)
	}
	waitActual(t, ctx, c, g.ID, 1, 10*time.Second)

	// The receiver: checks the signature of every delivery, answers 503
	// to the first, and answers the second with an instruction in reply.
	var (
		attempts atomic.Int32
		mu       sync.Mutex
		got      []api.NotifyPayload
		problems []string
		answer   = make(chan api.Event, 1)
	)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(body)
		want := "sha256=" + hex.EncodeToString(m.Sum(nil))
		mu.Lock()
		defer mu.Unlock()
		if sig := r.Header.Get(api.NotifySignatureHeader); !hmac.Equal([]byte(sig), []byte(want)) {
			problems = append(problems, fmt.Sprintf("signature %q, want %q", sig, want))
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var p api.NotifyPayload
		if err := json.Unmarshal(body, &p); err != nil {
			problems = append(problems, "payload: "+err.Error())
			http.Error(w, "bad payload", http.StatusBadRequest)
			return
		}
		got = append(got, p)
		if attempts.Add(1) == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		go func() {
			e, err := c.Instruct(ctx, p.GroupID, api.Instruction{
				Request: api.Request{SetTo: ptr(3)}, Immediate: true,
				Reason: "receiver decided", InReplyTo: p.EventID,
			})
			if err != nil {
				mu.Lock()
				problems = append(problems, "instruct: "+err.Error())
				mu.Unlock()
			}
			answer <- e
		}()
	}))
	defer recv.Close()
	var brokenAttempts atomic.Int32
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		brokenAttempts.Add(1)
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	defer broken.Close()

	// 400s naming the field.
	for _, tc := range []struct {
		spec  api.TriggerSpec
		field string
	}{
		{api.TriggerSpec{Name: ptr("far"), Condition: ptr("last(queue_depth) > 5"),
			Notify: &api.Notify{URL: "http://192.0.2.7:9000/hook", Secret: secret}}, "notify.url"},
		{api.TriggerSpec{Name: ptr("nosecret"), Condition: ptr("last(queue_depth) > 5"),
			Notify: &api.Notify{URL: recv.URL}}, "notify.secret"},
		{api.TriggerSpec{Name: ptr("both"), Condition: ptr("last(queue_depth) > 5"), Request: api.Request{ChangeBy: ptr(1)},
			Notify: &api.Notify{URL: recv.URL, Secret: secret}}, "change_by"},
	} {
		_, err := c.CreateTrigger(ctx, g.ID, tc.spec)
		checkInvalid(t, "create trigger "+*tc.spec.Name, err, tc.field)
	}

	tr, err := c.CreateTrigger(ctx, g.ID, api.TriggerSpec{Name: ptr("ask"), Condition: ptr("last(queue_depth) > 5"),
		Notify: &api.Notify{URL: recv.URL + "/hook", Secret: secret}})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Notify == nil || tr.Notify.URL != recv.URL+"/hook" || tr.Notify.Secret != "" {
		t.Fatalf("created trigger's notify = %+v; want the URL and no secret", tr.Notify)
	}
	if _, err := c.CreateTrigger(ctx, g.ID, api.TriggerSpec{Name: ptr("ask-broken"), Condition: ptr("last(queue_depth) > 5"),
		Notify: &api.Notify{URL: broken.URL, Secret: secret}}); err != nil {
		t.Fatal(err)
	}
	ts, err := c.ListTriggers(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range ts {
		if x.Notify == nil || x.Notify.Secret != "" {
			t.Fatalf("listed trigger %s notify = %+v; want one without its secret", x.Name, x.Notify)
		}
	}

	_, err = c.Instruct(ctx, g.ID, api.Instruction{Request: api.Request{SetTo: ptr(2)}, InReplyTo: "no-such-event"})
	checkInvalid(t, "instruction in reply to nothing", err, "in_reply_to")

	if _, err := c.PushMetrics(ctx, g.ID, []api.Sample{{Name: "queue_depth", Value: 10}}); err != nil {
		t.Fatal(err)
	}
	var reply api.Event
	select {
	case reply = <-answer:
	case <-time.After(20 * time.Second):
		mu.Lock()
		t.Fatalf("no answer within 20s; deliveries %+v, problems %v", got, problems)
	}
	mu.Lock()
	if len(problems) > 0 {
		t.Fatalf("receiver: %v", problems)
	}
	if len(got) != 2 || got[0] != got[1] {
		t.Fatalf("deliveries %+v; want the same firing twice (the first answered 503)", got)
	}
	p := got[0]
	mu.Unlock()
	if p.GroupID != g.ID || p.Group != "notified" || p.TriggerID != tr.ID || p.Trigger != "ask" ||
		p.EventLabel == "" || !strings.Contains(p.Observed, "queue_depth") || p.Time.IsZero() {
		t.Fatalf("payload %+v", p)
	}
	if reply.ParentEventID != p.EventID {
		t.Fatalf("answer's parent_event_id = %q; want the firing %s", reply.ParentEventID, p.EventID)
	}

	// The notified events: one delivered on the second attempt, one failed
	// after three.
	var notified []api.Event
	eventually(t, 15*time.Second, "both notified events", func() (bool, string) {
		l, err := c.ListEvents(ctx, g.ID, client.EventFilter{Type: api.EventNotified})
		if err != nil {
			return false, err.Error()
		}
		notified = l.Items
		return len(notified) == 2, fmt.Sprintf("%d notified events", len(notified))
	})
	slices.SortFunc(notified, func(a, b api.Event) int { return strings.Compare(a.Source.Name, b.Source.Name) })
	if e := notified[0]; e.Source.Name != "ask" || e.ParentEventID != p.EventID ||
		!strings.Contains(e.Reason, "on attempt 2") || e.Status != api.EventApplied {
		t.Fatalf("ask's notified event %+v; want delivered on attempt 2, parent %s", e, p.EventID)
	}
	if e := notified[1]; e.Source.Name != "ask-broken" || e.ParentEventID == "" ||
		!strings.Contains(e.Reason, "failed after 3 attempts") || !strings.Contains(e.Reason, "500") {
		t.Fatalf("ask-broken's notified event %+v; want failed after 3 attempts with the 500", e)
	}
	if n := brokenAttempts.Load(); n != 3 {
		t.Fatalf("the broken receiver got %d attempts; want 3", n)
	}

	// The chain: the answer's change has the firing among its causes, and
	// the firing has the change among its effects.
	waitActual(t, ctx, c, g.ID, 3, 15*time.Second)
	ad, err := c.GetEvent(ctx, reply.ID)
	if err != nil || len(ad.Effects) != 1 {
		t.Fatalf("answer's effects %+v, %v; want its change", ad.Effects, err)
	}
	ch := ad.Effects[0].Change
	cd, err := c.GetChange(ctx, ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	var causeIDs []string
	for _, cs := range cd.Causes {
		causeIDs = append(causeIDs, cs.Event.ID)
	}
	if !slices.Equal(causeIDs, []string{reply.ID, p.EventID}) {
		t.Fatalf("change %s causes %v; want the answer %s then the firing %s", ch.Label, causeIDs, reply.ID, p.EventID)
	}
	if !strings.Contains(cd.Explanation, p.EventLabel) {
		t.Fatalf("change explanation %q does not name the firing %s", cd.Explanation, p.EventLabel)
	}
	fd, err := c.GetEvent(ctx, p.EventID)
	if err != nil {
		t.Fatal(err)
	}
	if len(fd.Effects) != 1 || fd.Effects[0].Change.ID != ch.ID {
		t.Fatalf("firing %s effects %+v; want the change %s", p.EventLabel, fd.Effects, ch.Label)
	}
	if fd.Type != api.EventTriggerFired || fd.Request != nil || !strings.Contains(fd.Description, recv.URL) {
		t.Fatalf("firing %+v; want a trigger_fired without a request, naming the receiver", fd.Event)
	}
}

// checkInvalid fails unless err is a 400 naming field.
func checkInvalid(t *testing.T, what string, err error, field string) {
	t.Helper()
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Field != field {
		t.Fatalf("%s: %v; want a 400 naming %s", what, err, field)
	}
}
