//go:build linux

package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// TestPredictiveGoverning: a new sim group with predictive governing
// (enforce, 1h intervals, 24h of history needed) gets 3 days of history
// through 'pesd history import', so its forecast is ready at once; a
// trigger asking for far more than the forecast authorizes is clamped at
// the harmonization, and the period, the change and the event all say so.
func TestPredictiveGoverning(t *testing.T) {
	needE2E(t)
	d := startDaemon(t, t.TempDir(), "governing-token", fastTriggers...)
	c := d.client(t)
	ctx := ctxFor(t)

	cfg := scenarioGroup("governed", 4)
	cfg.Predictive = &api.Predictive{Mode: api.PredictiveEnforce, Interval: "1h", MinHistory: "24h"}
	s := newScene(t, ctx, c, cfg)
	g := s.settle()
	period := g.CurrentPeriodID

	f, err := c.Forecast(ctx, g.ID)
	if err != nil || f.Ready || !strings.Contains(f.Reason, "history") {
		t.Fatalf("before the import: forecast %+v, %v; want not ready for want of history", f, err)
	}

	// Three days before the group existed: 4 nodes, straying 3–5 every
	// ten minutes.
	var b strings.Builder
	b.WriteString("time,desired,actual\n")
	from := g.CreatedAt.Add(-72 * time.Hour).Truncate(10 * time.Minute)
	points := 0
	for tm := from; tm.Before(g.CreatedAt); tm = tm.Add(10 * time.Minute) {
		q := 4 + points%3 - 1
		fmt.Fprintf(&b, "%s,%d,%d\n", tm.Format(time.RFC3339), q, q)
		points++
	}
	file := filepath.Join(t.TempDir(), "history.csv")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := pesdCLI(t, d, "history", "import", "--group", "governed", file)
	if want := fmt.Sprintf("imported %d point(s) of history into group governed", points); !strings.Contains(out, want) {
		t.Fatalf("pesd history import printed %q, want %q", out, want)
	}

	f, err = c.Forecast(ctx, g.ID)
	if err != nil || !f.Ready || len(f.Intervals) == 0 {
		t.Fatalf("after the import: forecast %+v, %v; want ready intervals", f, err)
	}
	now := f.Intervals[0]
	if now.Upper >= 16 || now.Upper < 4 || now.Lower > 4 {
		t.Fatalf("the forecast for now authorizes %d–%d; want a range around 4", now.Lower, now.Upper)
	}
	table := pesdCLI(t, d, "forecast", "--group", "governed")
	if !strings.Contains(table, "mode enforce, ready") || !strings.Contains(table, now.Start.UTC().Format(time.RFC3339)) {
		t.Errorf("pesd forecast printed:\n%s\nwant it ready with the interval starting %s", table, now.Start.Format(time.RFC3339))
	}

	// A trigger asks for +12 → 16, far above the forecast.
	s.push("queue_depth", 10)
	s.trigger(api.TriggerSpec{Name: ptr("queue-high"), Condition: ptr("last(queue_depth) > 100"), Request: api.Request{ChangeBy: ptr(12)}})
	s.push("queue_depth", 500)
	fired := s.waitFired("queue-high", api.EventAggregated, period)
	p := s.harmonize()
	if p.DesiredAfter != now.Upper {
		t.Errorf("period %s: desired %d → %d, want the forecast's upper bound %d\n%s", p.Label, p.DesiredBefore, p.DesiredAfter, now.Upper, p.Summary)
	}
	var clamped bool
	for _, cl := range p.Clamps {
		if cl.Kind == api.ClampForecast && cl.Applied && cl.From == 16 && cl.To == now.Upper && cl.EventID == fired.ID {
			clamped = true
		}
	}
	if !clamped {
		t.Errorf("period %s clamps %+v; want the forecast's 16 → %d for %s", p.Label, p.Clamps, now.Upper, fired.Label)
	}
	if len(p.ChangeIDs) != 1 {
		t.Fatalf("period %s made changes %v, want one", p.Label, p.ChangeIDs)
	}
	governed := fmt.Sprintf("%s was governed by the forecast: trigger queue-high asked for 16;", fired.Label)
	ch, err := c.GetChange(ctx, p.ChangeIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ch.Explanation, governed) || !strings.Contains(ch.Explanation, fmt.Sprintf("%d was used", now.Upper)) {
		t.Errorf("change %s explanation:\n%s\nwant %q and %q", ch.Label, ch.Explanation, governed, fmt.Sprintf("%d was used", now.Upper))
	}
	ev, err := c.GetEvent(ctx, fired.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ev.Explanation, "the forecast for") || !strings.Contains(ev.Explanation, fmt.Sprintf("%d was used", now.Upper)) {
		t.Errorf("event %s explanation:\n%s\nwant it to say the forecast clamped it to %d", fired.Label, ev.Explanation, now.Upper)
	}
	g = s.settle()

	// /metrics carries the controller's gauges; the per-group ones only
	// for a scraper with the token.
	scrape := func(token string) []byte {
		req, _ := http.NewRequest(http.MethodGet, d.url+"/metrics", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return body
	}
	if open := scrape(""); strings.Contains(string(open), "governed") || strings.Contains(string(open), g.ID) {
		t.Errorf("/metrics without a token names the group:\n%s", open)
	}
	body := scrape(d.token)
	for _, want := range []string{
		fmt.Sprintf(`pes_group_desired_quantity{group="governed",group_id="%s"} %d`, g.ID, now.Upper),
		`pes_groups{status="active"} 1`,
		"# TYPE pes_changes_written_total counter",
	} {
		if !strings.Contains(string(body), want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// pesdCLI runs the pesd binary as a client of d and returns its stdout.
func pesdCLI(t *testing.T, d *pesdProc, args ...string) string {
	t.Helper()
	cmd := exec.Command(pesdBin, args...)
	cmd.Env = append(os.Environ(), "PES_ENDPOINT="+d.url, "PES_TOKEN="+d.token)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pesd %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}
