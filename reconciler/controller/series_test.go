package controller

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// TestSeriesCapPerGroup: a push that would take a group past its cap of
// metric series is refused whole with the cap named; pushes to the series
// it has still pass, and an expired series frees its place.
func TestSeriesCapPerGroup(t *testing.T) {
	h := newHarness(t)
	h.opts.MaxSeriesPerGroup = 3
	h.open()
	g := h.createGroup(api.GroupConfig{Name: "web", DesiredQuantity: 1})
	push := func(names ...string) error {
		ss := make([]api.Sample, len(names))
		for i, n := range names {
			ss[i] = api.Sample{Name: n, Value: 1}
		}
		_, err := h.c.PushMetrics(h.ctx, g.ID, ss)
		return err
	}
	if err := push("a", "b", "c", "a"); err != nil {
		t.Fatalf("3 series under a cap of 3: %v", err)
	}
	err := push("a", "d", "e")
	var e *api.Error
	if !errors.As(err, &e) || e.Code != api.CodeExhausted || e.Status != 429 || e.Field != "samples" {
		t.Fatalf("push past the cap: %v, want 429 %s naming samples", err, api.CodeExhausted)
	}
	for _, want := range []string{"cap of 3 series per group", "would add 2 new (d, e)", "holds 3"} {
		if !strings.Contains(e.Message, want) {
			t.Errorf("message %q does not say %q", e.Message, want)
		}
	}
	if got := h.c.windows.Names(g.ID); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("series after the refused push: %v, want [a b c] (refused whole)", got)
	}
	if err := push("c", "b"); err != nil {
		t.Errorf("push to existing series at the cap: %v", err)
	}
	// The series expire with the retention, and free their places.
	h.clk.Advance(h.c.windows.Retention() + time.Minute)
	h.c.windows.Prune(h.clk.Now())
	if err := push("d", "e"); err != nil {
		t.Errorf("push after the old series expired: %v", err)
	}
}
