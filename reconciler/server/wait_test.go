package server

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// TestWaitGroup: the long-poll read answers at once when the condition
// already holds, when a write makes it hold (woken by the Service's
// watch, not by polling), when the group is deleted, and at its timeout,
// saying which in api.HeaderWait.
func TestWaitGroup(t *testing.T) {
	decode := func(t *testing.T, body []byte) api.Group {
		t.Helper()
		var g api.Group
		if err := json.Unmarshal(body, &g); err != nil {
			t.Fatalf("answer is not a group: %v\n%s", err, body)
		}
		return g
	}

	t.Run("already holds", func(t *testing.T) {
		f := newFixture(t)
		f.svc.changeGroup(func(g *api.Group) { g.ActualQuantity = 4 })
		status, h, body := f.do(t, "GET", "/v1/groups/g1?wait=actual_quantity>=4", "")
		if status != http.StatusOK || h.Get(api.HeaderWait) != api.WaitMet {
			t.Fatalf("status %d, %s %q; want 200, %q\n%s", status, api.HeaderWait, h.Get(api.HeaderWait), api.WaitMet, body)
		}
		if g := decode(t, body); g.ActualQuantity != 4 {
			t.Errorf("answered actual_quantity %d, want 4", g.ActualQuantity)
		}
		if n := f.svc.waiting(); n != 0 {
			t.Errorf("%d watches left open after the answer", n)
		}
	})

	t.Run("a write makes it hold", func(t *testing.T) {
		f := newFixture(t)
		type answer struct {
			status int
			h      http.Header
			body   []byte
		}
		got := make(chan answer, 1)
		go func() {
			s, h, b := f.do(t, "GET", "/v1/groups/g1?wait=actual_quantity>=3&timeout=1m", "")
			got <- answer{s, h, b}
		}()
		// Two writes: the first leaves the condition false, so the
		// server must read again and keep waiting.
		for _, actual := range []int{1, 3} {
			for f.svc.waiting() == 0 {
				select {
				case a := <-got:
					t.Fatalf("answered before the group changed: %d %s", a.status, a.body)
				default:
					time.Sleep(time.Millisecond)
				}
			}
			f.svc.changeGroup(func(g *api.Group) { g.ActualQuantity = actual })
		}
		a := <-got
		if a.status != http.StatusOK || a.h.Get(api.HeaderWait) != api.WaitMet {
			t.Fatalf("status %d, %s %q; want 200, met\n%s", a.status, api.HeaderWait, a.h.Get(api.HeaderWait), a.body)
		}
		if g := decode(t, a.body); g.ActualQuantity != 3 {
			t.Errorf("answered actual_quantity %d, want 3", g.ActualQuantity)
		}
	})

	t.Run("deleted", func(t *testing.T) {
		f := newFixture(t)
		f.svc.changeGroup(func(g *api.Group) { g.Status = api.GroupDeleted })
		status, h, _ := f.do(t, "GET", "/v1/groups/g1?wait=actual_quantity>=4&timeout=1m", "")
		if status != http.StatusOK || h.Get(api.HeaderWait) != api.WaitDeleted {
			t.Fatalf("status %d, %s %q; want 200, deleted", status, api.HeaderWait, h.Get(api.HeaderWait))
		}
	})

	t.Run("timeout", func(t *testing.T) {
		f := newFixture(t)
		status, h, body := f.do(t, "GET", "/v1/groups/g1?wait=actual_quantity>=4&timeout=10ms", "")
		if status != http.StatusOK || h.Get(api.HeaderWait) != api.WaitTimeout {
			t.Fatalf("status %d, %s %q; want 200, timeout", status, api.HeaderWait, h.Get(api.HeaderWait))
		}
		if g := decode(t, body); g.ID != "g1" || g.ActualQuantity != 0 {
			t.Errorf("answered %s with actual %d, want the group as it is (g1, 0)", g.ID, g.ActualQuantity)
		}
		if n := f.svc.waiting(); n != 0 {
			t.Errorf("%d watches left open after the timeout", n)
		}
	})

	t.Run("unknown group", func(t *testing.T) {
		f := newFixture(t)
		status, _, _ := f.do(t, "GET", "/v1/groups/nope?wait=actual_quantity>=1", "")
		if status != http.StatusNotFound {
			t.Errorf("status %d, want 404", status)
		}
		if n := f.svc.waiting(); n != 0 {
			t.Errorf("%d watches left open after a 404", n)
		}
	})

	t.Run("plain read sets no header", func(t *testing.T) {
		f := newFixture(t)
		status, h, _ := f.do(t, "GET", "/v1/groups/g1", "")
		if status != http.StatusOK || h.Get(api.HeaderWait) != "" {
			t.Errorf("status %d, %s %q; want 200 and no header", status, api.HeaderWait, h.Get(api.HeaderWait))
		}
	})
}
