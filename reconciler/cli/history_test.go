package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/cli/clitest"
	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
	"github.com/pes-project/terraform-provider-pes/reconciler/controller"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/sim"
	"github.com/pes-project/terraform-provider-pes/reconciler/governor"
	"github.com/pes-project/terraform-provider-pes/reconciler/history"
	"github.com/pes-project/terraform-provider-pes/reconciler/server"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlite"
)

// inProcessPesd serves the real API (controller, governor, SQLite file,
// sim driver) from the test process, wired as serve wires it, and points
// the CLI at it.
func inProcessPesd(t *testing.T) *controller.Controller {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "pes.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := clock.Real{}
	ctrl, err := controller.New(controller.Options{
		Store: st, Clock: clk,
		Drivers:  map[string]driver.Driver{api.DriverSim: sim.New(clk)},
		Governor: governor.New(st, governor.WithClock(clk)),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(ctrl, history.New(st), clitest.Token, slog.New(slog.DiscardHandler), server.WithIdentity(st)))
	t.Cleanup(srv.Close)
	t.Setenv("PES_ENDPOINT", srv.URL)
	t.Setenv("PES_TOKEN", clitest.Token)
	return ctrl
}

// hourlyHistory is a CSV of one point an hour in [from, to): 8 nodes from
// 09:00 to 17:00, 3 otherwise.
func hourlyHistory(from, to time.Time) string {
	var b strings.Builder
	b.WriteString("# exported from the old autoscaler\ntime,desired,actual\n")
	for tm := from; tm.Before(to); tm = tm.Add(time.Hour) {
		q := 3
		if h := tm.Hour(); h >= 9 && h < 17 {
			q = 8
		}
		fmt.Fprintf(&b, "%s,%d,%d\n", tm.Format(time.RFC3339), q, q)
	}
	return b.String()
}

// TestCLIHistoryImport: pesd history import records a file as a group's
// past, after which pesd forecast shows ready intervals; mistakes are
// told apart (usage: exit 2; the file or the API: exit 1).
func TestCLIHistoryImport(t *testing.T) {
	ctrl := inProcessPesd(t)
	cfg := api.GroupConfig{Name: "fresh", Driver: api.DriverSim, Program: api.Program{Command: "w"}, DesiredQuantity: 0, MaxQuantity: 20,
		Predictive: &api.Predictive{Mode: api.PredictiveEnforce, Interval: "1h", MinHistory: "24h"}}
	if err := api.ResolveGroupConfig(&cfg); err != nil {
		t.Fatal(err)
	}
	g, err := ctrl.CreateGroup(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	end := g.CreatedAt.Truncate(time.Hour)
	dir := t.TempDir()
	good := filepath.Join(dir, "history.csv")
	if err := os.WriteFile(good, []byte(hourlyHistory(end.Add(-72*time.Hour), end)), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("time,desired\n2026-01-01T00:00:00Z,3\nyesterday,4\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// Not ready before the import.
	code, out, errOut := runCLI("forecast", "--group", "fresh")
	if code != ExitOK || !strings.Contains(out, "not ready") {
		t.Fatalf("forecast before the import: exit %d\n%s%s", code, out, errOut)
	}

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"import by name", []string{"history", "import", "--group", "fresh", good}, ExitOK, "imported 72 point(s) of history into group fresh", ""},
		{"again records nothing", []string{"history", "import", good, "--group", g.ID, "-o", "json"}, ExitOK, `"imported": 0`, ""},
		{"bad line", []string{"history", "import", "--group", "fresh", bad}, ExitError, "",
			"line 3, column 1 (time)"},
		{"missing file", []string{"history", "import", "--group", "fresh", filepath.Join(dir, "nope.csv")}, ExitError, "", "nope.csv"},
		{"unknown group", []string{"history", "import", "--group", "stale", good}, ExitNotFound, "", "HTTP 404"},
		{"no file", []string{"history", "import", "--group", "fresh"}, ExitUsage, "", "want 'import FILE'"},
		{"no group", []string{"history", "import", good}, ExitUsage, "", "--group: required"},
		{"unknown subcommand", []string{"history", "export", "--group", "fresh", good}, ExitUsage, "", "want 'import FILE'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(tt.args...)
			if code != tt.wantCode || !strings.Contains(out, tt.wantOut) || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s\nwant stdout %q, stderr %q", code, tt.wantCode, out, errOut, tt.wantOut, tt.wantErr)
			}
		})
	}

	code, out, errOut = runCLI("forecast", "--group", "fresh", "-o", "json")
	var f api.Forecast
	if code != ExitOK || json.Unmarshal([]byte(out), &f) != nil {
		t.Fatalf("forecast -o json: exit %d\n%s%s", code, out, errOut)
	}
	if !f.Ready || len(f.Intervals) != governor.ForecastIntervals {
		t.Fatalf("after the import: ready %v (%s), %d intervals; want ready, %d", f.Ready, f.Reason, len(f.Intervals), governor.ForecastIntervals)
	}
	for _, iv := range f.Intervals {
		if want := map[bool]int{true: 8, false: 3}[iv.Start.Hour() >= 9 && iv.Start.Hour() < 17]; iv.Lower > want || iv.Upper < want {
			t.Errorf("interval %s authorizes %d–%d, want %d inside", iv.Start.Format(time.RFC3339), iv.Lower, iv.Upper, want)
		}
	}
	code, out, _ = runCLI("forecast", "--group", "fresh")
	if code != ExitOK || !strings.Contains(out, "mode enforce, ready") || strings.Count(out, "\n") < governor.ForecastIntervals+2 {
		t.Errorf("forecast table: exit %d\n%s", code, out)
	}
}
