package engine

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// pod is one pod as the HPA's replica calculator sees it.
type pod struct {
	ready bool
	has   bool // a metric sample exists
	value float64
}

// hpaReplicas is the HPA's GetResourceReplicas written out per pod, as
// pkg/controller/podautoscaler/replica_calculator.go does it: group the
// pods, take the usage ratio over the ready pods with metrics, fill in
// missing (target on scale-in, 0 on scale-out) and unready (0 on
// scale-out) pods, recompute. ProposeTarget works from counts and a mean;
// this is the per-pod reference it must agree with.
func hpaReplicas(current int, target, tolerance float64, pods []pod) int {
	metrics := map[int]float64{}
	var missing, unready []int
	for i, p := range pods {
		switch {
		case !p.has:
			missing = append(missing, i)
		case !p.ready:
			unready = append(unready, i)
		default:
			metrics[i] = p.value
		}
	}
	if len(metrics) == 0 {
		return current // the HPA errors: no metrics for ready pods
	}
	ratio := func() float64 {
		sum := 0.0
		for _, v := range metrics {
			sum += v
		}
		return sum / float64(len(metrics)) / target
	}
	usageRatio := ratio()
	scaleUpWithUnready := len(unready) > 0 && usageRatio > 1
	if !scaleUpWithUnready && len(missing) == 0 {
		if math.Abs(1-usageRatio) <= tolerance {
			return current
		}
		return int(math.Ceil(usageRatio * float64(len(metrics))))
	}
	if len(missing) > 0 {
		for _, i := range missing {
			if usageRatio < 1 {
				metrics[i] = target
			} else if usageRatio > 1 {
				metrics[i] = 0
			}
		}
	}
	if scaleUpWithUnready {
		for _, i := range unready {
			metrics[i] = 0
		}
	}
	newRatio := ratio()
	if math.Abs(1-newRatio) <= tolerance || (usageRatio < 1 && newRatio > 1) || (usageRatio > 1 && newRatio < 1) {
		return current
	}
	n := int(math.Ceil(newRatio * float64(len(metrics))))
	if (newRatio < 1 && n > current) || (newRatio > 1 && n < current) {
		return current
	}
	return n
}

// pods builds ready pods with values, then extra pods.
func pods(values []float64, extra ...pod) []pod {
	var ps []pod
	for _, v := range values {
		ps = append(ps, pod{ready: true, has: true, value: v})
	}
	return append(ps, extra...)
}

func TestProposeTargetAgreesWithHPA(t *testing.T) {
	missing := pod{ready: true}
	unready := pod{ready: false, has: true, value: 5} // a booting pod's low usage
	cases := []struct {
		name    string
		current int
		target  float64
		tol     float64
		pods    []pod
		want    int
		held    string
	}{
		{"scale out: 84.2 over 5 ready at 60 → 8", 5, 60, 0.1, pods([]float64{84.2, 84.2, 84.2, 84.2, 84.2}), 8, ""},
		{"scale in: 30 over 4 at 60 → 2", 4, 60, 0.1, pods([]float64{30, 30, 30, 30}), 2, ""},
		{"exact target: no change", 4, 60, 0.1, pods([]float64{60, 60, 60, 60}), 4, HeldTolerance},
		{"within +10%: no change", 4, 60, 0.1, pods([]float64{65, 65, 66, 66}), 4, HeldTolerance},
		{"within -10%: no change", 4, 60, 0.1, pods([]float64{55, 55, 54, 54}), 4, HeldTolerance},
		{"just out of band: 67 over 4 → 5", 4, 60, 0.1, pods([]float64{67, 67, 67, 67}), 5, ""},
		{"tolerance 0: 61 over 10 → 11", 10, 60, 0, pods([]float64{61, 61, 61, 61, 61, 61, 61, 61, 61, 61}), 11, ""},
		{"wide tolerance 0.5 holds 85", 4, 60, 0.5, pods([]float64{85, 85, 85, 85}), 4, HeldTolerance},
		{"4 → 7: 105 over 4 at 60", 4, 60, 0.1, pods([]float64{105, 105, 105, 105}), 7, ""},
		{"missing on scale-out count as 0", 5, 60, 0.1, pods([]float64{120, 120, 120, 120}, missing), 8, ""},
		{"missing on scale-in count as the target", 5, 60, 0.1, pods([]float64{20, 20, 20, 20}, missing), 3, ""},
		{"missing at 0 reverse a small scale-out", 4, 60, 0.1, pods([]float64{70}, missing, missing, missing), 4, HeldReversed},
		{"unready on scale-out count as 0: back to the target", 6, 60, 0.1, pods([]float64{90, 90, 90, 90}, unready, unready), 6, HeldTolerance},
		{"unready damp but do not stop a big scale-out", 6, 50, 0.1, pods([]float64{150, 150, 150, 150}, unready, unready), 12, ""},
		{"unready ignored on scale-in", 6, 60, 0.1, pods([]float64{30, 30, 30, 30}, unready, unready), 2, ""},
		{"unready bring it within tolerance", 5, 60, 0.1, pods([]float64{72, 72, 72, 72}, unready), 5, HeldTolerance},
		{"no ready pod with metrics", 3, 60, 0.1, []pod{missing, unready}, 3, HeldNoReady},
		{"scale to 1 from far below target", 8, 60, 0.1, pods([]float64{1, 2, 1, 2, 1, 2, 1, 2}), 1, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := TargetInput{Value: c.target, Tolerance: c.tol, Current: c.current}
			sum := 0.0
			for _, p := range c.pods {
				switch {
				case !p.has:
					in.Missing++
				case !p.ready:
					in.Unready++
				default:
					in.Ready++
					sum += p.value
				}
			}
			if in.Ready > 0 {
				in.Observed = sum / float64(in.Ready)
			}
			got := ProposeTarget(in)
			ref := hpaReplicas(c.current, c.target, c.tol, c.pods)
			if got.Quantity != ref {
				t.Fatalf("ProposeTarget(%+v) = %d, the HPA's calculation gives %d", in, got.Quantity, ref)
			}
			if got.Quantity != c.want || got.Held != c.held {
				t.Fatalf("ProposeTarget(%+v) = %d (held %q), want %d (held %q)", in, got.Quantity, got.Held, c.want, c.held)
			}
		})
	}
}

// Every combination of a small grid agrees with the per-pod reference, so
// the count form is the HPA's calculation, not only on chosen cases.
func TestProposeTargetGridAgreesWithHPA(t *testing.T) {
	for ready := 0; ready <= 5; ready++ {
		for miss := 0; miss <= 2; miss++ {
			for unr := 0; unr <= 2; unr++ {
				for _, v := range []float64{5, 30, 54, 60, 66, 67, 90, 200} {
					for _, tol := range []float64{0, 0.1, 0.3} {
						current := ready + miss + unr
						ps := pods(repeat(v, ready))
						for range miss {
							ps = append(ps, pod{ready: true})
						}
						for range unr {
							ps = append(ps, pod{has: true, value: 10})
						}
						got := ProposeTarget(TargetInput{Value: 60, Tolerance: tol, Observed: v, Current: current, Ready: ready, Missing: miss, Unready: unr})
						if want := hpaReplicas(current, 60, tol, ps); got.Quantity != want {
							t.Errorf("ready %d missing %d unready %d value %v tol %v: %d, HPA %d", ready, miss, unr, v, tol, got.Quantity, want)
						}
					}
				}
			}
		}
	}
}

func repeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestStabilize(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	past := []Recommendation{{at(0), 7}, {at(1), 8}, {at(3), 5}}
	cases := []struct {
		now      time.Time
		window   time.Duration
		current  int
		proposal int
		want     int
		heldBy   string
		keep     int
	}{
		{at(4), 5 * time.Minute, 7, 9, 9, "", 4},        // scale-out acts at once
		{at(4), 5 * time.Minute, 7, 4, 7, "8@12:01", 4}, // the largest over 5m is 8, capped at current 7
		{at(4), 5 * time.Minute, 9, 4, 8, "8@12:01", 4}, // held at 8
		{at(7), 5 * time.Minute, 9, 4, 5, "5@12:03", 2}, // 7 and 8 left the window
		{at(9), 5 * time.Minute, 9, 4, 4, "", 1},        // nothing left: the proposal acts
		{at(4), 0, 9, 4, 4, "", 1},                      // no window
		{at(4), 5 * time.Minute, 4, 4, 4, "", 4},        // no change proposed
		{at(2), 5 * time.Minute, 9, 3, 8, "8@12:01", 3}, // a future entry (clock step back) is dropped
	}
	for i, c := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			s := Stabilize(c.now, c.window, c.current, c.proposal, past)
			held := ""
			if s.HeldBy != nil {
				held = fmt.Sprintf("%d@%s", s.HeldBy.Quantity, s.HeldBy.At.Format("15:04"))
			}
			if s.Quantity != c.want || held != c.heldBy || len(s.Keep) != c.keep {
				t.Fatalf("Stabilize = %d held by %q keeping %d, want %d held by %q keeping %d", s.Quantity, held, len(s.Keep), c.want, c.heldBy, c.keep)
			}
		})
	}
}
