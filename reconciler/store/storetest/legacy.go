package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// LegacyReason is an event reason as pesd wrote it before events had
// notes (pesd's notes after the requester's words, behind a "; pesd: "
// mark, or "pesd: " alone), and what the store reads after migrating it.
type LegacyReason struct {
	Reason     string // as stored by the older pesd
	WantReason string
	WantNotes  []string
}

// LegacyReasons are the cases a store's migration test writes with the
// older schema, as events "legacy-0", "legacy-1", ... of one group, before
// migrating and calling CheckLegacyReasons.
func LegacyReasons() []LegacyReason {
	const clamp = "clamped by max_quantity 5: 9 → 5"
	return []LegacyReason{
		{"launch day; pesd: " + clamp, "launch day", []string{clamp}},
		{"pesd: " + clamp + "; predictive governing did not clamp: no history", "",
			[]string{clamp + "; predictive governing did not clamp: no history"}},
		// The words may hold the mark, the notes never do.
		{"a; pesd: b; pesd: " + clamp, "a; pesd: b", []string{clamp}},
		{"pesd: a; pesd: b", "", []string{"a; pesd: b"}},
		{"line one\nline two; pesd: " + clamp, "line one\nline two", []string{clamp}},
		{"über ≤ 9; pesd: ≥ 5 → 5", "über ≤ 9", []string{"≥ 5 → 5"}},
		// Without the mark nothing tells words and notes apart.
		{"launch day; " + clamp, "launch day; " + clamp, nil},
		{"PESD: not the mark", "PESD: not the mark", nil},
		{"terminated by the user", "terminated by the user", nil},
		{"", "", nil},
	}
}

// CheckLegacyReasons reads back the events LegacyReasons were written as.
func CheckLegacyReasons(t *testing.T, r store.Reader) {
	t.Helper()
	for i, c := range LegacyReasons() {
		id := fmt.Sprintf("legacy-%d", i)
		e, err := r.GetEvent(context.Background(), id)
		if err != nil {
			t.Errorf("%s: %v", id, err)
			continue
		}
		if e.Reason != c.WantReason {
			t.Errorf("reason %q: migrated to reason %q, want %q", c.Reason, e.Reason, c.WantReason)
		}
		checkSame(t, fmt.Sprintf("notes of reason %q", c.Reason), c.WantNotes, e.Notes)
	}
}
