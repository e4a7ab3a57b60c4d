package causality

import (
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/engine"
)

func TestBillingDecisionsAreExplained(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 1, 0, 0, time.UTC)
	d := engine.Decision{Paid: []engine.Paid{
		{NodeID: "a", Name: "web-3", Until: t0.Add(2 * time.Minute), Left: 2 * time.Minute},
		{NodeID: "b", Name: "web-5", Until: t0.Add(4 * time.Minute), Left: 4 * time.Minute},
	}}
	WriteRecord(&d, nil)
	want := "closest_to_billing_boundary removed web-3 and web-5: their paid time ends in 2m and 4m"
	if len(d.Period.Notes) != 1 || !strings.HasPrefix(d.Period.Notes[0], want) {
		t.Errorf("record notes %q, want %q", d.Period.Notes, want)
	}

	w := engine.PaidWeighed{Node: "web-3", PaidUntil: t0.Add(50 * time.Minute), Harmonization: t0.Add(10 * time.Second),
		MinimumBilled: time.Hour, MinimumMicros: 600_000, Currency: "USD"}
	if s := ReplacementPaid(w, true, t0); !strings.Contains(s, "replaced at once, not deferred: web-3's paid time runs until 10:51:00 (50m from now), past the harmonization at 10:01:10") {
		t.Errorf("replaced now: %q", s)
	}
	w.PaidUntil = t0.Add(5 * time.Second)
	if s := ReplacementPaid(w, false, t0); !strings.Contains(s, "deferred to save money: web-3's paid time ended at 10:01:05, before the harmonization at 10:01:10; a replacement now would be billed at least 1h ($0.60)") {
		t.Errorf("deferred: %q", s)
	}
}

func TestChangeCostSentence(t *testing.T) {
	c := api.Change{Label: "C7", Type: api.ChangeAddNodes, Amount: 5, QuantityBefore: 7, QuantityAfter: 12}
	got := ChangeCost(c, 149400, 10_375_000, "USD", false)
	if want := "C7 (add 5 nodes, 7 → 12) has cost 41.5 node-hours ($10.38) so far."; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
