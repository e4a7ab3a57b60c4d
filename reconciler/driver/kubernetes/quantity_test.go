package kubernetes_test

import (
	"math/big"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// TestQuantityParsersAgree: the API checks quantities with a small parser
// of its own, so the provider does not link Kubernetes' libraries; it must
// accept exactly what Kubernetes accepts, with the same value.
func TestQuantityParsersAgree(t *testing.T) {
	inputs := []string{
		"0", "1", "500m", "0.5", ".5", "5.", "1.5Gi", "256Mi", "1Ki", "2Ti", "3Pi", "1Ei",
		"100n", "100u", "1k", "1M", "1G", "1T", "1P", "1E", "2e3", "2E3", "2e-3", "1e+2", "1.5e2",
		"+1", "-1", "-500m", "0.000001", "123456789", "1.23456789Mi",
		// Rejected by both.
		"", " ", "m", "Gi", "1.2.3", "1 Gi", "1gi", "1GB", "1Kib", "abc", "1e", "1e+", "1e1.5", "--1", "1..", ".",
		"1mi", "1K", "+", "-", "+Gi", "-.e1", "0x10", "1_000", "Inf", "NaN", "1 ", " 1", "1ee2", "e3",
	}
	for _, s := range inputs {
		want, kerr := resource.ParseQuantity(s)
		got, aerr := api.ParseQuantity(s)
		switch {
		case (kerr == nil) != (aerr == nil):
			t.Errorf("%q: Kubernetes says %v, api.ParseQuantity says %v", s, kerr, aerr)
		case kerr == nil:
			// Kubernetes rounds values below its precision (1n) up;
			// compare at that precision.
			wantRat := new(big.Rat).SetFrac(want.AsDec().UnscaledBig(), big.NewInt(1))
			scale := want.AsDec().Scale()
			ten := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(int(scale)))), nil)
			if scale > 0 {
				wantRat.Quo(wantRat, new(big.Rat).SetInt(ten))
			} else {
				wantRat.Mul(wantRat, new(big.Rat).SetInt(ten))
			}
			if got.Cmp(wantRat) != 0 {
				t.Errorf("%q: Kubernetes reads %s, api.ParseQuantity reads %s", s, wantRat.FloatString(9), got.FloatString(9))
			}
		}
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
