package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// TestWhatIfTable: the backtest's table says how many samples came from
// Prometheus, and shows forecast clamps, notifications and cost when
// there are any.
func TestWhatIfTable(t *testing.T) {
	render := func(r api.WhatIf) string {
		var b bytes.Buffer
		tb := &table{w: &b}
		whatifTable(tb, api.Group{GroupConfig: api.GroupConfig{Name: "web"}}, r)
		if err := tb.flush(); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	since := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	r := api.WhatIf{Since: since, Until: since.Add(24 * time.Hour), Samples: 8640, Queried: 8640, BootTime: "30s",
		Replayed: api.WhatIfSummary{Changes: 3, ForecastClamps: 2, Notifications: 4, Cost: "12.500000", Currency: "EUR"},
		Recorded: api.WhatIfSummary{Changes: 5, Cost: "20.000000", Currency: "EUR"}}
	out := render(r)
	for _, want := range []string{"8640 samples replayed (8640 from Prometheus range queries)", "forecast clamps", "12.500000 EUR", "20.000000 EUR",
		"notifications", "4 notify trigger firings would have been sent to receivers: a backtest sends none"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	r.Queried, r.Replayed = 0, api.WhatIfSummary{Changes: 3}
	r.Recorded = api.WhatIfSummary{Changes: 5}
	out = render(r)
	for _, absent := range []string{"Prometheus", "forecast clamps", "notif", "cost"} {
		if strings.Contains(out, absent) {
			t.Errorf("table without queries, clamps, notifications or billing shows %q:\n%s", absent, out)
		}
	}
}
