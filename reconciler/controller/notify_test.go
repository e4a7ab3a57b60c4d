package controller

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// A receiver that does not answer holds up only its own delivery: passes
// go on, a period harmonizes an instruction, and the notified event comes
// when the receiver answers.
func TestNotifySlowReceiverDoesNotStallPasses(t *testing.T) {
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
	}))
	defer recv.Close()

	h := newHarness(t)
	h.opts.NotifyAttempts = 1
	h.open()
	defer h.c.Close() // after the release: waits for the delivery
	defer close(release)
	g := h.createGroup(api.GroupConfig{Name: "slow", DesiredQuantity: 1, AggregationPeriod: "30s"})
	tr, err := h.c.CreateTrigger(h.ctx, g.ID, api.TriggerSpec{Name: ptr("ask"), Condition: ptr("last(queue_depth) > 5"),
		Notify: &api.Notify{URL: recv.URL, Secret: "k"}})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Notify == nil || tr.Notify.Secret != "" {
		t.Fatalf("CreateTrigger returned notify %+v; want it without the secret", tr.Notify)
	}
	h.push(g.ID, api.Sample{Name: "queue_depth", Value: 10})
	h.tick()
	select {
	case <-arrived:
	case <-time.After(30 * time.Second):
		t.Fatal("the firing was never delivered")
	}

	// The receiver holds the delivery; the controller goes on.
	if _, err := h.c.Instruct(h.ctx, g.ID, api.Instruction{Request: api.Request{SetTo: ptr(2)}}); err != nil {
		t.Fatal(err)
	}
	h.runTo(40*time.Second, nil)
	if got := h.group(g.ID).DesiredQuantity; got != 2 {
		t.Fatalf("desired %d while the receiver is silent; want 2 (harmonized)", got)
	}
	for _, e := range h.events(g.ID) {
		if e.Type == api.EventNotified {
			t.Fatalf("notified event %q before the receiver answered", e.Description)
		}
	}

	// An in_reply_to must name a notify firing of the group.
	created := h.events(g.ID)[0]
	_, err = h.c.Instruct(h.ctx, g.ID, api.Instruction{Request: api.Request{SetTo: ptr(3)}, InReplyTo: created.ID})
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Field != "in_reply_to" || !strings.Contains(ae.Message, api.EventGroupCreated) {
		t.Fatalf("instruction in reply to %s: %v; want a 400 naming in_reply_to", created.Type, err)
	}
}

// An aggregated answer links its firing at harmonization: the change's
// nexus holds the answer, then the firing.
func TestNotifyAggregatedAnswerLinksFiring(t *testing.T) {
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	h := newHarness(t)
	defer h.c.Close()
	g := h.createGroup(api.GroupConfig{Name: "agg", DesiredQuantity: 1, AggregationPeriod: "30s"})
	if _, err := h.c.CreateTrigger(h.ctx, g.ID, api.TriggerSpec{Name: ptr("ask"), Condition: ptr("last(queue_depth) > 5"),
		Notify: &api.Notify{URL: recv.URL, Secret: "k"}}); err != nil {
		t.Fatal(err)
	}
	h.push(g.ID, api.Sample{Name: "queue_depth", Value: 10})
	h.tick()
	var firing api.Event
	for deadline := time.Now().Add(30 * time.Second); firing.ID == ""; {
		for _, e := range h.events(g.ID) {
			if e.Type == api.EventNotified {
				firing.ID = e.ParentEventID
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no notified event")
		}
		time.Sleep(10 * time.Millisecond)
	}
	answer, err := h.c.Instruct(h.ctx, g.ID, api.Instruction{Request: api.Request{SetTo: ptr(3)}, InReplyTo: firing.ID})
	if err != nil || answer.Status != api.EventAggregated || answer.ParentEventID != firing.ID {
		t.Fatalf("answer %+v, %v; want aggregated with the firing as parent", answer, err)
	}
	h.runTo(40*time.Second, nil)
	chs := h.changes(g.ID)
	var add api.Change
	for _, ch := range chs {
		if ch.Type == api.ChangeAddNodes && ch.QuantityAfter == 3 {
			add = ch
		}
	}
	if add.ID == "" {
		t.Fatalf("no add_nodes change to 3 among %+v", chs)
	}
	nx, err := h.st.GetNexus(h.ctx, add.NexusID)
	if err != nil {
		t.Fatal(err)
	}
	if len(nx.EventIDs) != 2 || nx.EventIDs[0] != answer.ID || nx.EventIDs[1] != firing.ID || nx.Attribution != api.AttributionIndirect {
		t.Fatalf("nexus %+v; want the answer %s then the firing %s, indirect", nx, answer.ID, firing.ID)
	}
}
