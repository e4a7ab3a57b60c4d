package controller

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// TestEventLabelsAfterCrash: an instruction stores no label counter (its
// event holds its label), so the counter as stored falls behind; a
// restarted controller goes on from the group's last event, however far
// behind the counter is, and the labels stay gapless and unique.
func TestEventLabelsAfterCrash(t *testing.T) {
	for _, n := range []int{1, 2, 3, 8, 37} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			h := newHarness(t)
			g := h.createGroup(api.GroupConfig{Name: "labels", DesiredQuantity: 1, AggregationPeriod: "1h"})
			instruct := func() api.Event {
				t.Helper()
				e, err := h.c.Instruct(h.ctx, g.ID, api.Instruction{Request: api.Request{ChangeBy: ptr(1)}})
				if err != nil {
					t.Fatal(err)
				}
				return e
			}
			var last api.Event
			for range n {
				last = instruct()
			}
			if l, err := h.st.Labels(h.ctx, g.ID); err != nil || l.E >= labelNumber(last.Label) {
				t.Fatalf("stored counters %+v (%v) are not behind the last event %s: this test tests nothing", l, err, last.Label)
			}
			h.crash()
			if e := instruct(); labelNumber(e.Label) != labelNumber(last.Label)+1 {
				t.Errorf("after %d instructions and a crash: %s, want E%d", n, e.Label, labelNumber(last.Label)+1)
			}
			seen := map[string]bool{}
			for _, e := range h.events(g.ID) {
				seen[e.Label] = true
			}
			for i := 1; i <= len(seen); i++ {
				if !seen["E"+strconv.Itoa(i)] {
					t.Errorf("labels %v: E%d is missing", seen, i)
				}
			}
		})
	}
}

// TestOpenPeriodAfterCrash: a restarted controller holds the open
// period's requests, and only them: those given after an earlier
// harmonization, whether their times lie after the period's start or,
// the clock having stepped back, before it.
func TestOpenPeriodAfterCrash(t *testing.T) {
	for _, back := range []time.Duration{0, time.Hour} {
		t.Run(back.String(), func(t *testing.T) {
			h := newHarness(t)
			g := h.createGroup(api.GroupConfig{Name: "period", DesiredQuantity: 1, MaxQuantity: 10, AggregationPeriod: "1h"})
			instruct := func(n int) (ids []string) {
				t.Helper()
				for range n {
					h.clk.Advance(time.Second)
					e, err := h.c.Instruct(h.ctx, g.ID, api.Instruction{Request: api.Request{ChangeBy: ptr(1)}})
					if err != nil {
						t.Fatal(err)
					}
					ids = append(ids, e.ID)
				}
				return ids
			}
			instruct(3)
			h.clk.Advance(time.Minute)
			if _, err := h.c.Harmonize(h.ctx, g.ID); err != nil {
				t.Fatal(err)
			}
			want := instruct(2)
			h.clk.Set(h.clk.Now().Add(-back))
			want = append(want, instruct(2)...)
			h.crash()
			gs, err := h.c.lockGroup(h.ctx, g.ID)
			if err != nil {
				t.Fatal(err)
			}
			defer gs.mu.Unlock()
			var got []string
			for _, e := range gs.st.requests {
				got = append(got, e.ID)
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("after a crash the open period %s holds requests %v, want %v", gs.st.period.Label, got, want)
			}
		})
	}
}
