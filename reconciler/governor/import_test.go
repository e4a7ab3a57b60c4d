package governor_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/governor"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// csvOf writes points the way an export would: a header, then
// time,desired,actual lines.
func csvOf(ps []store.QuantityPoint) string {
	var b strings.Builder
	b.WriteString("time,desired,actual\n")
	for _, p := range ps {
		fmt.Fprintf(&b, "%s,%d,%d\n", p.Time.Format(time.RFC3339), p.Desired, p.Actual)
	}
	return b.String()
}

// TestImportHistory: a group created now starts from another group's
// past, and is governed at once.
func TestImportHistory(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	past := daily(day0, noon) // another group's 3.5 days
	g := newGroup(t, st, "imported", noon, predictive(api.PredictiveEnforce), nil)
	gov := governor.New(st)

	b, err := gov.Bounds(ctx, g, noon)
	if err != nil || b == nil || b.NotReady == "" {
		t.Fatalf("before the import: Bounds = %+v, %v; want not ready", b, err)
	}
	n, err := gov.ImportHistory(ctx, st, g.ID, strings.NewReader(csvOf(past)))
	if err != nil || n != len(past) {
		t.Fatalf("ImportHistory = %d, %v; want %d points", n, err, len(past))
	}
	got, err := st.QuantityHistory(ctx, g.ID, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(past) || !got[0].Time.Equal(past[0].Time) || got[40] != past[40] {
		t.Fatalf("history after import: %d points starting %+v; want %d starting %+v", len(got), got[0], len(past), past[0])
	}
	// The import dropped the cached "not ready" at once.
	b, err = gov.Bounds(ctx, g, noon)
	if err != nil || b == nil || b.NotReady != "" || b.Lower != 9 || b.Upper != 11 {
		t.Errorf("after the import: Bounds = %+v, %v; want 9–11", b, err)
	}

	// Importing again records nothing twice.
	n, err = governor.ImportHistory(ctx, st, g.ID, strings.NewReader(csvOf(past)))
	if err != nil || n != 0 {
		t.Errorf("second import = %d, %v; want 0, nil", n, err)
	}
}

// TestImportKeepsOwnHistory: only points before the group's own history
// are recorded.
func TestImportKeepsOwnHistory(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	created := day0.Add(2 * 24 * time.Hour)
	own := []store.QuantityPoint{{Time: created.Add(-time.Hour), Desired: 7, Actual: 6}} // recorded before the recorded creation
	tests := []struct {
		name    string
		created time.Time
		own     []store.QuantityPoint
		want    int
	}{
		{"before creation", created, nil, len(daily(day0, created))},
		{"before the oldest own point", created, own, len(daily(day0, created.Add(-time.Hour)))},
		{"created before all of it", day0, nil, 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("own%d", i)
			newGroup(t, st, id, tt.created, nil, tt.own)
			n, err := governor.ImportHistory(ctx, st, id, strings.NewReader(csvOf(daily(day0, noon))))
			if err != nil || n != tt.want {
				t.Fatalf("ImportHistory = %d, %v; want %d", n, err, tt.want)
			}
			got, err := st.QuantityHistory(ctx, id, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want+len(tt.own) {
				t.Errorf("%d points recorded, want %d", len(got), tt.want+len(tt.own))
			}
			for _, p := range got[:tt.want] {
				if !p.Time.Before(tt.created) {
					t.Errorf("imported point at %s is not before the group's creation", p.Time)
				}
			}
		})
	}
}

func TestImportHistoryFormats(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	newGroup(t, st, "fmt", noon, nil, nil)
	in := `[{"time": "2025-03-03T10:00:00Z", "desired": 4.6},
	        {"time": "2025-03-03T09:00:00+02:00", "desired": 3, "actual": 2}]`
	n, err := governor.ImportHistory(ctx, st, "fmt", strings.NewReader(in))
	if err != nil || n != 2 {
		t.Fatalf("ImportHistory(JSON) = %d, %v", n, err)
	}
	got, err := st.QuantityHistory(ctx, "fmt", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	// In time order, in UTC, rounded to whole nodes, actual = desired.
	want := []store.QuantityPoint{
		{Time: time.Date(2025, 3, 3, 7, 0, 0, 0, time.UTC), Desired: 3, Actual: 3},
		{Time: time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC), Desired: 5, Actual: 5},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("history = %+v, want %+v", got, want)
	}
}

func TestImportHistoryErrors(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	newGroup(t, st, "live", noon, nil, nil)
	dead := newGroup(t, st, "dead", noon, nil, nil)
	dead.Status = api.GroupDeleted
	if err := st.Update(ctx, func(tx store.Tx) error { return tx.UpdateGroup(dead) }); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		group      string
		in         io.Reader
		wantStatus int    // of the *api.Error; 0: not an api.Error
		wantIn     string // in the message
		wantIs     error
	}{
		{"bad quantity", "live", strings.NewReader("time,desired\n2025-03-03T10:00:00Z,4\n2025-03-03T11:00:00Z,-2\n"),
			http.StatusBadRequest, "line 3, column 22 (desired): must not be negative; got -2", nil},
		{"bad time", "live", strings.NewReader("yesterday,4\n"),
			http.StatusBadRequest, `line 1, column 1 (time): "yesterday" is not an RFC 3339 time`, nil},
		{"empty", "live", strings.NewReader("# nothing\n"), http.StatusBadRequest, "history has no points", nil},
		{"huge quantity", "live", strings.NewReader("2025-03-03T10:00:00Z,1e12\n"), http.StatusBadRequest, "desired 1e+12 at 2025-03-03T10:00:00Z is not a node count", nil},
		{"too large", "live", io.MultiReader(strings.NewReader("time,desired\n"), endless{}),
			http.StatusRequestEntityTooLarge, "history is larger than 32 MiB", nil},
		{"unknown group", "nope", strings.NewReader("2025-03-03T10:00:00Z,4\n"), 0, "group nope", store.ErrNotFound},
		{"deleted group", "dead", strings.NewReader("2025-03-03T10:00:00Z,4\n"), http.StatusConflict, "group dead is deleted", nil},
		{"read failure", "live", io.MultiReader(strings.NewReader("2025-03-03T10:00:00Z,4\n"), failing{}), 0, "disk on fire", errFire},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := governor.ImportHistory(ctx, st, tt.group, tt.in)
			if err == nil || n != 0 {
				t.Fatalf("ImportHistory = %d, %v; want an error", n, err)
			}
			var ae *api.Error
			isAPI := errors.As(err, &ae)
			switch {
			case tt.wantStatus == 0 && isAPI:
				t.Errorf("error %v is an api.Error (%d); want a plain error", err, ae.Status)
			case tt.wantStatus != 0 && (!isAPI || ae.Status != tt.wantStatus):
				t.Errorf("error %#v; want an api.Error with status %d", err, tt.wantStatus)
			case tt.wantStatus == http.StatusBadRequest && ae.Field != "history":
				t.Errorf("error field %q, want history", ae.Field)
			}
			if !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("error %q lacks %q", err, tt.wantIn)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
		})
	}
	got, err := st.QuantityHistory(ctx, "live", time.Time{})
	if err != nil || len(got) != 0 {
		t.Errorf("failed imports recorded %d points (%v); want none", len(got), err)
	}
}

// endless is a reader of history lines that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	const line = "2025-03-03T10:00:00Z,4\n"
	for i := range p {
		p[i] = line[i%len(line)]
	}
	return len(p), nil
}

var errFire = errors.New("disk on fire")

type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, errFire }
