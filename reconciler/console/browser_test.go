package console_test

// The console driven by a real headless Chromium against a real pesd in
// this process: the controller on a SQLite file, the sim driver and a fake
// clock that plays seed 000's timeline, the HTTP API with its token.

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
	"github.com/pes-project/terraform-provider-pes/reconciler/controller"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/sim"
	"github.com/pes-project/terraform-provider-pes/reconciler/governor"
	"github.com/pes-project/terraform-provider-pes/reconciler/history"
	"github.com/pes-project/terraform-provider-pes/reconciler/server"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlite"
)

const token = "console-test-token"

// chromium finds the browser: PES_CHROMIUM (make test sets it from
// scripts/ensure-chromium.sh), else chromium on PATH. Outside CI a
// machine without one skips; in CI the test fails instead.
func chromium(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("PES_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "" {
		tb.Skip("no chromium: run scripts/ensure-chromium.sh (apt-get install chromium) or set PES_CHROMIUM")
	}
	tb.Fatal("no chromium in CI: scripts/ensure-chromium.sh installs it, and make test passes its path in PES_CHROMIUM")
	return ""
}

// browser starts a headless Chromium with a fresh profile. The
// background-networking flags keep it from calling out, which a closed
// network answers with refused connections (and console errors).
func browser(tb testing.TB, listen func(ev any)) context.Context {
	tb.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(tb)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(1200, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	var copts []chromedp.ContextOption
	if listen != nil {
		copts = append(copts, chromedp.WithListener(listen))
	}
	ctx, cancel := chromedp.NewContext(actx, copts...)
	tb.Cleanup(func() { cancel(); cancelAlloc() })
	do(tb, ctx, "start chromium")
	return ctx
}

// consoleErrors collects what the page logs as an error, throws, or what
// the browser reports against it (a blocked or failed load).
type consoleErrors struct {
	mu   sync.Mutex
	msgs []string
}

func (c *consoleErrors) listen(ev any) {
	{
		var msg string
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				msg = "console.error: " + strings.Join(parts, " ")
			}
		case *runtime.EventExceptionThrown:
			msg = "exception: " + ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				msg += " " + ev.ExceptionDetails.Exception.Description
			}
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				msg = "browser: " + ev.Entry.Text + " " + ev.Entry.URL
			}
		}
		if msg != "" {
			c.mu.Lock()
			c.msgs = append(c.msgs, msg)
			c.mu.Unlock()
		}
	}
}

// do runs steps in the browser, failing the test with what on an error.
func do(tb testing.TB, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
}

// get runs one action that reads a value.
func get[T any](tb testing.TB, ctx context.Context, what string, a chromedp.Action[T]) T {
	tb.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
	return v
}

func (c *consoleErrors) reset() {
	c.mu.Lock()
	c.msgs = nil
	c.mu.Unlock()
}

func (c *consoleErrors) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.msgs...)
}

// pesd is the API of one in-process pesd on a fake clock.
type pesd struct {
	url  string
	st   store.Store
	clk  *clock.Fake
	ctrl *controller.Controller
	hist *history.Reader
}

func startPesd(tb testing.TB, start time.Time) *pesd {
	tb.Helper()
	st, err := sqlite.Open(filepath.Join(tb.TempDir(), "pes.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	clk := clock.NewFake(start)
	ctrl, err := controller.New(controller.Options{
		Store: st, Clock: clk,
		Drivers:  map[string]driver.Driver{api.DriverSim: sim.New(clk)},
		Governor: governor.New(st, governor.WithClock(clk)),
	})
	if err != nil {
		tb.Fatal(err)
	}
	hist := history.New(st)
	srv := httptest.NewServer(server.New(ctrl, hist, token, slog.New(slog.DiscardHandler)))
	tb.Cleanup(srv.Close)
	return &pesd{url: srv.URL, st: st, clk: clk, ctrl: ctrl, hist: hist}
}

func ptr[T any](v T) *T { return &v }

// playSeed plays seed 000's first three periods (controller/seed_test.go
// tells the story): triggers TR-1 and TR-N fire and alice instructs +3
// in period H2, a node lost 10 s before H2 has its replacement deferred,
// so H2's one change has four causes. A cooldown of 30 s (the seed has
// none) makes TR-3's firing after H2 a suppressed one.
func playSeed(tb testing.TB, p *pesd) api.Group {
	tb.Helper()
	ctx := context.Background()
	cfg := api.GroupConfig{
		Name: "seed", Driver: api.DriverSim, Program: api.Program{Command: "worker"},
		DesiredQuantity: 8, MinQuantity: 1, MaxQuantity: 20,
		AggregationPeriod: "60s", AggregationPolicy: api.PolicyLargest,
		Replacement: api.ReplacementAuto, ReplacementDeferWindow: "15s",
		InitDeadline: "10s", Cooldown: "30s",
		Sim: &api.SimConfig{BootTime: "2s", BootTimes: []string{"2s", "2s", "2s", "2s", "4s", "4s", "4s"}, InitFailures: 1},
	}
	if err := api.ResolveGroupConfig(&cfg); err != nil {
		tb.Fatal(err)
	}
	g, err := p.ctrl.CreateGroup(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	for _, s := range []api.TriggerSpec{
		{Name: ptr("TR-1"), Condition: ptr("avg(cpu_utilization, '10s') > 80"), Request: api.Request{ChangeBy: ptr(4)}},
		{Name: ptr("TR-N"), Condition: ptr("avg(network_mbps, '10s') > 500"), Request: api.Request{ChangeBy: ptr(2)}},
		{Name: ptr("TR-3"), Condition: ptr("avg(cpu_utilization, '10s') < 20"), Request: api.Request{ChangeBy: ptr(-2)}},
	} {
		if _, err := p.ctrl.CreateTrigger(ctx, g.ID, s); err != nil {
			tb.Fatal(err)
		}
	}
	t0 := p.clk.Now()
	load := func(at time.Duration) []api.Sample {
		cpu, net := 50.0, 100.0
		switch {
		case at >= 65*time.Second && at < 95*time.Second:
			cpu = 90
		case at >= 135*time.Second:
			cpu = 10
		}
		if at >= 75*time.Second && at < 95*time.Second {
			net = 900
		}
		return []api.Sample{{Name: "cpu_utilization", Value: cpu}, {Name: "network_mbps", Value: net}}
	}
	runTo := func(to time.Duration) {
		for p.clk.Now().Sub(t0) < to {
			p.clk.Advance(time.Second)
			if _, err := p.ctrl.PushMetrics(ctx, g.ID, load(p.clk.Now().Sub(t0))); err != nil {
				tb.Fatal(err)
			}
			if err := p.ctrl.Tick(ctx); err != nil {
				tb.Fatal(err)
			}
		}
	}
	fail := func() {
		nodes, err := p.st.ListNodes(ctx, g.ID, false)
		if err != nil {
			tb.Fatal(err)
		}
		for _, n := range nodes {
			if n.State == api.NodeReady {
				if err := p.ctrl.FailNode(ctx, g.ID, n.ID); err != nil {
					tb.Fatal(err)
				}
				return
			}
		}
		tb.Fatalf("no ready node to fail at +%s", p.clk.Now().Sub(t0))
	}
	runTo(30 * time.Second)
	fail()
	runTo(90 * time.Second)
	if _, err := p.ctrl.Instruct(ctx, g.ID, api.Instruction{Request: api.Request{ChangeBy: ptr(3)}, Actor: "alice", Reason: "sale"}); err != nil {
		tb.Fatal(err)
	}
	runTo(110 * time.Second)
	fail()
	runTo(185 * time.Second)
	return g
}

// scene is what the browser must show, read from the API's own reads.
type scene struct {
	harmonizations int
	changes        int
	aggregated     api.ChangeDetail // H2's change, with four causes
	suppressed     api.EventDetail
}

func readScene(tb testing.TB, p *pesd, g api.Group) scene {
	tb.Helper()
	ctx := context.Background()
	var sc scene
	periods, _, err := p.hist.ListPeriods(ctx, g.ID, store.Page{Limit: 1000})
	if err != nil {
		tb.Fatal(err)
	}
	for _, pr := range periods {
		if pr.Harmonized {
			sc.harmonizations++
		}
	}
	changes, _, err := p.hist.ListChanges(ctx, store.ChangeFilter{GroupID: g.ID, Page: store.Page{Limit: 1000}})
	if err != nil {
		tb.Fatal(err)
	}
	sc.changes = len(changes)
	for _, c := range changes {
		d, err := p.hist.ExplainChange(ctx, c.ID)
		if err != nil {
			tb.Fatal(err)
		}
		if len(d.Causes) == 4 {
			sc.aggregated = d
		}
	}
	events, _, err := p.hist.ListEvents(ctx, store.EventFilter{GroupID: g.ID, Status: api.EventSuppressed, Page: store.Page{Limit: 1000}})
	if err != nil {
		tb.Fatal(err)
	}
	if len(events) > 0 {
		if sc.suppressed, err = p.hist.ExplainEvent(ctx, events[0].ID); err != nil {
			tb.Fatal(err)
		}
	}
	if sc.harmonizations != 3 || sc.aggregated.ID == "" || sc.suppressed.ID == "" || sc.suppressed.Reason == "" {
		tb.Fatalf("the scenario did not play as the test expects: %d harmonizations (want 3), change with 4 causes %q, suppressed event %q (reason %q)",
			sc.harmonizations, sc.aggregated.Label, sc.suppressed.Label, sc.suppressed.Reason)
	}
	return sc
}

func screenshot(tb testing.TB, ctx context.Context, dir, name string) string {
	tb.Helper()
	png := get(tb, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// TestConsoleInBrowser: a real Chromium loads the console of a pesd whose
// sim group played seed 000. Unauthenticated it sees only the login page;
// signed in, the timeline has one H marker per harmonization, the
// aggregated change opens its four causes and the API's explanation, the
// suppressed firing says why it had no effect, the URL keeps the
// selection, a group under predictive governing shows its forecast band,
// and nothing is logged as an error. Screenshots go to the
// test's temp dir, or to PES_CONSOLE_SHOTS when set; with
// PES_CONSOLE_README_SHOT set, the timeline with the causes panel open is
// also written there (make console-screenshot: docs/console-timeline.png).
func TestConsoleInBrowser(t *testing.T) {
	var errs consoleErrors
	ctx := browser(t, errs.listen)
	// The page draws windows back from the browser's own clock, so the
	// fake clock starts ten minutes ago.
	p := startPesd(t, time.Now().Add(-10*time.Minute).Truncate(time.Second))
	g := playSeed(t, p)
	sc := readScene(t, p, g)
	shots := t.TempDir()
	if d := os.Getenv("PES_CONSOLE_SHOTS"); d != "" {
		shots = d
	}
	groupURL := p.url + "/ui/#/group/" + g.ID + "?window=15m"
	count := func(sel string) int {
		return get(t, ctx, "count "+sel, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
	}
	text := func(sel string) string { return get(t, ctx, "text of "+sel, chromedp.Text(sel)) }

	// Unauthenticated: the login form, and nothing of the group.
	do(t, ctx, "unauthenticated load", chromedp.Navigate(groupURL), chromedp.WaitVisible("#login"))
	body := text("body")
	if n := count("#chart, #groups, #changes, #panel"); n != 0 || strings.Contains(body, g.ID) || strings.Contains(body, sc.aggregated.Description) {
		t.Errorf("an unauthenticated page shows data: %d data elements; text %q", n, body)
	}
	screenshot(t, ctx, shots, "login.png")
	for _, e := range errs.all() {
		t.Errorf("the browser reported, before sign-in: %s", e)
	}

	// A wrong token is refused and the login page says so. (Chromium logs
	// the 401 as a failed load; errors count again from the sign-in on.)
	do(t, ctx, "wrong token", chromedp.SendKeys("#token", "wrong"), chromedp.Submit("#login"),
		chromedp.WaitVisible("#login [role=alert]"))
	if alert := text("#login [role=alert]"); !strings.Contains(alert, "invalid bearer token") {
		t.Errorf("after a wrong token the login page says %q, want pesd's invalid bearer token", alert)
	}
	errs.reset()

	// Signed in: the same URL draws the timeline.
	do(t, ctx, "sign in", chromedp.SendKeys("#token", token), chromedp.Submit("#login"), chromedp.WaitVisible("#chart[data-rendered]"))
	if n := count(".hmark"); n != sc.harmonizations {
		t.Errorf("timeline draws %d harmonization markers, want %d", n, sc.harmonizations)
	}
	if n := count("#changes tbody tr"); n != sc.changes {
		t.Errorf("the table under the chart lists %d changes, want all %d", n, sc.changes)
	}
	screenshot(t, ctx, shots, "timeline.png")

	// The aggregated change: its four causes and the API's explanation.
	do(t, ctx, "click "+sc.aggregated.Label,
		chromedp.Click(fmt.Sprintf(`.chg[data-change="%s"]`, sc.aggregated.ID)),
		chromedp.WaitVisible(fmt.Sprintf(`#panel[data-selected="change:%s"]`, sc.aggregated.ID)))
	if n := count("#causes li"); n != 4 {
		t.Errorf("the causes panel of %s lists %d causes, want 4", sc.aggregated.Label, n)
	}
	if got := text("#explanation"); strings.TrimSpace(got) != strings.TrimSpace(sc.aggregated.Explanation) {
		t.Errorf("the causes panel shows the explanation\n%s\nthe API says\n%s", got, sc.aggregated.Explanation)
	}
	if title := text("#panel h2"); !strings.HasPrefix(title, sc.aggregated.Label+":") {
		t.Errorf("the panel is titled %q, want %s's", title, sc.aggregated.Label)
	}
	causesShot := screenshot(t, ctx, shots, "causes.png")
	if dst := os.Getenv("PES_CONSOLE_README_SHOT"); dst != "" {
		b, err := os.ReadFile(causesShot)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// The suppressed firing: no effect, and why.
	do(t, ctx, "click "+sc.suppressed.Label,
		chromedp.Click(fmt.Sprintf(`.ev[data-event="%s"]`, sc.suppressed.ID)),
		chromedp.WaitVisible(fmt.Sprintf(`#panel[data-selected="event:%s"] #reason`, sc.suppressed.ID)))
	if reason := text("#reason"); !strings.Contains(reason, sc.suppressed.Reason) {
		t.Errorf("the suppressed event %s shows %q, want its reason %q", sc.suppressed.Label, reason, sc.suppressed.Reason)
	}
	screenshot(t, ctx, shots, "suppressed.png")
	for _, word := range []string{"null", "undefined", "NaN"} {
		if got := text("#main"); strings.Contains(got, word) {
			t.Errorf("the page shows %q: %s", word, got)
		}
	}

	// The URL holds group, window and selection: loading it again opens
	// the same panel.
	hash := get(t, ctx, "location", chromedp.Evaluate[string]("location.hash"))
	if want := "sel=event%3A" + sc.suppressed.ID; !strings.Contains(hash, want) || !strings.Contains(hash, "window=15m") {
		t.Errorf("the URL is %s, want the window and %s in it", hash, want)
	}
	do(t, ctx, "reload "+hash, chromedp.Navigate("about:blank"), chromedp.Navigate(p.url+"/ui/"+hash),
		chromedp.WaitVisible(fmt.Sprintf(`#panel[data-selected="event:%s"] #reason`, sc.suppressed.ID)))

	// The decision record of H2, as pesd periods shows it.
	do(t, ctx, "period page", chromedp.Navigate(p.url+"/ui/#/period/"+sc.aggregated.PeriodID), chromedp.WaitVisible("#summary"))
	pr, err := p.hist.GetPeriod(context.Background(), sc.aggregated.PeriodID)
	if err != nil {
		t.Fatal(err)
	}
	if got := text("#summary"); strings.TrimSpace(got) != strings.TrimSpace(pr.Summary) {
		t.Errorf("the period page shows\n%s\nthe API's summary is\n%s", got, pr.Summary)
	}

	// A group under predictive governing, with a week of imported
	// history: its timeline shades the forecast.
	fg := predictiveGroup(t, p)
	do(t, ctx, "forecast timeline", chromedp.Navigate(p.url+"/ui/#/group/"+fg.ID+"?window=day"), chromedp.WaitVisible("#chart[data-rendered]"))
	if n := count("#forecast-band"); n != 1 {
		t.Errorf("the timeline of a group with a ready forecast draws %d forecast bands, want 1", n)
	} else if box := get(t, ctx, "band size", chromedp.Evaluate[[]float64](`(b => [b.width, b.height])(document.querySelector('#forecast-band').getBBox())`)); box[0] < 50 || box[1] < 5 {
		t.Errorf("the forecast band is %.0f×%.0f px, too small to see", box[0], box[1])
	}
	screenshot(t, ctx, shots, "forecast.png")

	for _, e := range errs.all() {
		t.Errorf("the browser reported: %s", e)
	}
}

// predictiveGroup is a sim group under predictive governing whose past
// week, imported as the history of another system, makes its forecast
// ready: 7 to 9 nodes in working hours, 2 to 4 otherwise, varying by day
// so the forecast has a range.
func predictiveGroup(tb testing.TB, p *pesd) api.Group {
	tb.Helper()
	ctx := context.Background()
	cfg := api.GroupConfig{Name: "forecast", Driver: api.DriverSim, Program: api.Program{Command: "worker"}, DesiredQuantity: 3, MaxQuantity: 20,
		Predictive: &api.Predictive{Mode: api.PredictiveEnforce, Interval: "1h", MinHistory: "24h"}}
	if err := api.ResolveGroupConfig(&cfg); err != nil {
		tb.Fatal(err)
	}
	g, err := p.ctrl.CreateGroup(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("time,desired\n")
	end := g.CreatedAt.Truncate(time.Hour)
	for tm := end.Add(-7 * 24 * time.Hour); tm.Before(end); tm = tm.Add(time.Hour) {
		q := 3 + tm.YearDay()%3 - 1
		if h := tm.Hour(); h >= 9 && h < 17 {
			q += 5
		}
		fmt.Fprintf(&csv, "%s,%d\n", tm.Format(time.RFC3339), q)
	}
	if _, err := p.ctrl.ImportHistory(ctx, g.ID, strings.NewReader(csv.String())); err != nil {
		tb.Fatal(err)
	}
	if f, err := p.ctrl.Forecast(ctx, g.ID); err != nil || !f.Ready {
		tb.Fatalf("the forecast is not ready after a week of history: %+v, %v", f, err)
	}
	return g
}
