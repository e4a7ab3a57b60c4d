package api

import (
	"errors"
	"testing"
	"time"
)

func TestBillingProblemsNameTheField(t *testing.T) {
	for _, tc := range []struct {
		name  string
		b     Billing
		field string
	}{
		{"negative price", Billing{PricePerNodeHour: "-0.25"}, "billing.price_per_node_hour"},
		{"no price", Billing{Currency: "USD"}, "billing.price_per_node_hour"},
		{"float noise", Billing{PricePerNodeHour: "0.1234567"}, "billing.price_per_node_hour"},
		{"exponent", Billing{PricePerNodeHour: "1e3"}, "billing.price_per_node_hour"},
		{"increment 0", Billing{PricePerNodeHour: "1", Increment: "0s"}, "billing.increment"},
		{"increment below a second", Billing{PricePerNodeHour: "1", Increment: "500ms"}, "billing.increment"},
		{"minimum negative", Billing{PricePerNodeHour: "1", Minimum: "-1m"}, "billing.minimum"},
		{"currency", Billing{PricePerNodeHour: "1", Currency: "dollars"}, "billing.currency"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := GroupConfig{Name: "web", Driver: DriverSim, DesiredQuantity: 1, Billing: &tc.b}
			err := ResolveGroupConfig(&cfg)
			var e *Error
			if !errors.As(err, &e) || e.Field != tc.field || e.Status != 400 {
				t.Fatalf("got %v, want a 400 naming %s", err, tc.field)
			}
		})
	}
	cfg := GroupConfig{Name: "web", Driver: DriverSim, DesiredQuantity: 1, Billing: &Billing{PricePerNodeHour: "0.25"}}
	if err := ResolveGroupConfig(&cfg); err != nil {
		t.Fatal(err)
	}
	if b := cfg.Billing; b.Currency != "USD" || b.Increment != "1s" || b.Minimum != "0s" {
		t.Errorf("defaults: %+v", *b)
	}
	cfg = GroupConfig{Name: "web", Driver: DriverSim, DesiredQuantity: 1, TerminationPolicy: TerminateClosestToBillingBoundary}
	var e *Error
	if err := ResolveGroupConfig(&cfg); !errors.As(err, &e) || e.Field != "termination_policy" {
		t.Errorf("closest_to_billing_boundary without billing: %v", err)
	}
}

func TestMoneyIsExact(t *testing.T) {
	for in, want := range map[string]int64{"0.25": 250_000, "12": 12_000_000, "0.000001": 1, "3.1": 3_100_000, "0": 0} {
		got, err := ParseMoney(in)
		if err != nil || got != want {
			t.Errorf("ParseMoney(%q) = %d, %v; want %d", in, got, err, want)
		}
		if back, _ := ParseMoney(FormatMoney(got)); back != got {
			t.Errorf("FormatMoney(%d) = %q does not read back", got, FormatMoney(got))
		}
	}
	// Ten thousand additions of 0.1 stay 1000, which float64 does not.
	m, _ := ParseMoney("0.1")
	var sum int64
	for range 10_000 {
		sum += m
	}
	if FormatMoney(sum) != "1000.000000" {
		t.Errorf("sum = %s", FormatMoney(sum))
	}
}

func TestBillingHistoryKeepsEarlierPrices(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	h := NextBillingHistory(nil, nil, t0)
	if len(h) != 0 {
		t.Fatalf("no billing, history %v", h)
	}
	h = NextBillingHistory(h, &Billing{PricePerNodeHour: "0.25"}, t0)
	h = NextBillingHistory(h, &Billing{PricePerNodeHour: "0.250", Currency: "USD"}, t0.Add(time.Hour)) // the same price
	h = NextBillingHistory(h, &Billing{PricePerNodeHour: "0.5"}, t0.Add(2*time.Hour))
	h = NextBillingHistory(h, nil, t0.Add(3*time.Hour))
	if len(h) != 3 || h[0].PricePerNodeHour != "0.25" || h[1].PricePerNodeHour != "0.5" || !h[1].From.Equal(t0.Add(2*time.Hour)) ||
		h[2].PricePerNodeHour != "" {
		t.Errorf("history %+v", h)
	}
}
