package console_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// weekOfChanges records a busy week in a new sim group: n changes, each
// the effect of a trigger firing, alternating +1 and -1, and one
// harmonization an hour. Rows go straight into the store (playing a week
// through the controller would take the benchmark's whole budget); the
// console reads them through the real API.
func weekOfChanges(b *testing.B, p *pesd, n int) api.Group {
	b.Helper()
	ctx := context.Background()
	cfg := api.GroupConfig{Name: "busy", Driver: api.DriverSim, Program: api.Program{Command: "worker"}, DesiredQuantity: 10, MaxQuantity: 20}
	if err := api.ResolveGroupConfig(&cfg); err != nil {
		b.Fatal(err)
	}
	g, err := p.ctrl.CreateGroup(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	start := p.clk.Now()
	const hours = 7 * 24
	step := 7 * 24 * time.Hour / time.Duration(n)
	periods := make([]api.Period, hours)
	for h := range periods {
		from := start.Add(time.Duration(h) * time.Hour)
		to := from.Add(time.Hour)
		periods[h] = api.Period{ID: uuid.NewString(), Label: fmt.Sprintf("H%d", h+2), GroupID: g.ID, StartedAt: from, EndedAt: &to,
			Harmonized: true, Policy: api.PolicyLargest, DesiredBefore: 10, DesiredAfter: 10, OfficialBefore: 10, OfficialAfter: 10, Actual: 10}
	}
	err = p.st.Update(ctx, func(tx store.Tx) error {
		for i := range n {
			at := start.Add(time.Duration(i) * step)
			pr := &periods[int(at.Sub(start)/time.Hour)]
			typ, before, after := api.ChangeAddNodes, 10, 11
			if i%2 == 1 {
				typ, before, after = api.ChangeRemoveNodes, 11, 10
			}
			ended := at.Add(5 * time.Second)
			nexus := api.Nexus{ID: uuid.NewString(), GroupID: g.ID, Attribution: api.AttributionDirect, PeriodID: pr.ID, CreatedAt: at}
			e := api.Event{ID: uuid.NewString(), Label: fmt.Sprintf("E%d", i+2), GroupID: g.ID, Type: api.EventTriggerFired,
				Source: api.Source{Kind: api.SourceTrigger, Name: "load"}, Time: at.Add(-time.Second), PeriodID: pr.ID, PeriodLabel: pr.Label,
				Status: api.EventApplied, NexusID: nexus.ID, Description: "trigger load fired"}
			c := api.Change{ID: uuid.NewString(), Label: fmt.Sprintf("C%d", i+2), GroupID: g.ID, Type: typ, Amount: 1,
				QuantityBefore: before, QuantityAfter: after, Status: api.ChangeCompleted, StartedAt: at, EndedAt: &ended,
				PeriodID: pr.ID, PeriodLabel: pr.Label, NexusID: nexus.ID, Attribution: api.AttributionDirect,
				Description: fmt.Sprintf("%s 1 node, %d → %d", typ, before, after)}
			nexus.EventIDs, nexus.ChangeIDs = []string{e.ID}, []string{c.ID}
			pr.ChangeIDs = append(pr.ChangeIDs, c.ID)
			if err := tx.InsertNexus(nexus); err != nil {
				return err
			}
			if err := tx.InsertEvent(e); err != nil {
				return err
			}
			if err := tx.InsertChange(c); err != nil {
				return err
			}
		}
		for _, pr := range periods {
			if err := tx.InsertPeriod(pr); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	p.clk.Set(start.Add(7 * 24 * time.Hour))
	return g
}

// BenchmarkConsoleTimelineWeek: a real Chromium loads the week timeline
// of a group with 10,000 changes (and as many events) through pesd's API.
// ms/load is the browser's own figure, from the start of the navigation to
// the chart drawn (the page's timeline-drawn mark); wall-ms/load adds what
// driving it costs (the DevTools round trips and the polling of the wait).
func BenchmarkConsoleTimelineWeek(b *testing.B) {
	ctx := browser(b, nil)
	p := startPesd(b, time.Now().Add(-7*24*time.Hour).Truncate(time.Second))
	g := weekOfChanges(b, p, 10_000)
	url := p.url + "/ui/?token=" + token + "#/group/" + g.ID + "?window=week"
	b.ResetTimer()
	var total time.Duration
	var inPage float64
	for range b.N {
		do(b, ctx, "blank", chromedp.Navigate("about:blank"))
		start := time.Now()
		do(b, ctx, "load the week", chromedp.Navigate(url), chromedp.WaitVisible("#chart[data-rendered]"))
		total += time.Since(start)
		inPage += get(b, ctx, "the page's mark", chromedp.Evaluate[float64](`performance.getEntriesByName('timeline-drawn')[0].startTime`))
	}
	b.StopTimer()
	if n := get(b, ctx, "changes listed", chromedp.Evaluate[string](`document.querySelector('#changes caption').textContent`)); n == "" {
		b.Fatal("no table of changes")
	}
	b.ReportMetric(inPage/float64(b.N), "ms/load")
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "wall-ms/load")
}
