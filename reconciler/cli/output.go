package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// print writes v as JSON (-o json: the API objects, for pipelines) or
// lets fill write the table for people.
func (c *cli) print(v any, fill func(t *table)) error {
	if c.output == "json" {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	t := &table{w: c.stdout}
	fill(t)
	return t.flush()
}

// table writes aligned columns (text/tabwriter) and free lines between
// them.
type table struct {
	w   io.Writer
	tw  *tabwriter.Writer
	err error
}

// row writes one row of cells.
func (t *table) row(cells ...string) {
	if t.tw == nil {
		t.tw = tabwriter.NewWriter(t.w, 0, 8, 2, ' ', 0)
	}
	for i, c := range cells {
		// A tab or newline inside a cell would break the alignment.
		cells[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(c)
	}
	_, err := fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
	t.keep(err)
}

// line writes a line outside the columns, ending the current block.
func (t *table) line(format string, args ...any) {
	t.keep(t.flushColumns())
	_, err := fmt.Fprintf(t.w, format+"\n", args...)
	t.keep(err)
}

func (t *table) flushColumns() error {
	if t.tw == nil {
		return nil
	}
	err := t.tw.Flush()
	t.tw = nil
	return err
}

func (t *table) flush() error {
	t.keep(t.flushColumns())
	return t.err
}

func (t *table) keep(err error) {
	if t.err == nil {
		t.err = err
	}
}

func ts(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func tsp(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return ts(*t)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func itoa(n int) string { return strconv.Itoa(n) }

func groupsTable(t *table, groups []api.Group) {
	t.row("ID", "NAME", "DRIVER", "DESIRED", "OFFICIAL", "ACTUAL", "MIN", "MAX", "STATUS", "PERIOD", "NEXT HARMONIZATION")
	for _, g := range groups {
		t.row(g.ID, g.Name, g.Driver, itoa(g.DesiredQuantity), itoa(g.OfficialQuantity), itoa(g.ActualQuantity),
			itoa(g.MinQuantity), itoa(g.MaxQuantity), g.Status, orDash(g.CurrentPeriodLabel), tsp(g.NextHarmonizationAt))
	}
}

// nodesTable shows what people look at; the driver's whole handle (log
// path, process start time, ...) is in -o json. PORT/PID, from the handle,
// is shown when some node has one (local nodes; sim nodes have none).
func nodesTable(t *table, nodes []api.Node) {
	addr := slices.ContainsFunc(nodes, func(n api.Node) bool { return n.Handle["port"] != "" || n.Handle["pid"] != "" })
	head := []string{"ID", "INDEX", "STATE", "READY"}
	if addr {
		head = append(head, "PORT/PID")
	}
	t.row(append(head, "REASON")...)
	for _, n := range nodes {
		row := []string{n.ID, itoa(n.Index), n.State, tsp(n.ReadyAt)}
		if addr {
			row = append(row, portPID(n.Handle))
		}
		t.row(append(row, orDash(n.StateReason))...)
	}
}

// portPID reads "8001/4242", "-/4242" without a port, "-" without both.
func portPID(h map[string]string) string {
	if h["port"] == "" && h["pid"] == "" {
		return "-"
	}
	return orDash(h["port"]) + "/" + orDash(h["pid"])
}

func source(s api.Source) string {
	switch {
	case s.Name != "":
		return s.Kind + ":" + s.Name
	case s.ID != "":
		return s.Kind + ":" + s.ID
	}
	return orDash(s.Kind)
}

func eventsTable(t *table, events []api.Event) {
	t.row("LABEL", "TIME", "TYPE", "SOURCE", "STATUS", "PROPOSED", "PERIOD", "ID", "DESCRIPTION")
	for _, e := range events {
		t.row(eventRow(e)...)
	}
}

func eventRow(e api.Event) []string {
	proposed := "-"
	if e.ProposedQuantity != nil {
		proposed = itoa(*e.ProposedQuantity)
	}
	return []string{e.Label, ts(e.Time), e.Type, source(e.Source), e.Status, proposed, orDash(e.PeriodLabel), e.ID, e.Description}
}

func changesTable(t *table, changes []api.Change) {
	t.row("LABEL", "STARTED", "TYPE", "AMOUNT", "QUANTITY", "STATUS", "ATTRIBUTION", "PERIOD", "ID", "DESCRIPTION")
	for _, ch := range changes {
		t.row(changeRow(ch)...)
	}
}

func changeRow(ch api.Change) []string {
	return []string{ch.Label, ts(ch.StartedAt), ch.Type, itoa(ch.Amount), fmt.Sprintf("%d → %d", ch.QuantityBefore, ch.QuantityAfter),
		ch.Status, orDash(ch.Attribution), orDash(ch.PeriodLabel), ch.ID, ch.Description}
}

// detailedChangesTable is the changes table with each change's causes,
// then the explanations, one a line.
func detailedChangesTable(t *table, ds []api.ChangeDetail) {
	t.row("LABEL", "STARTED", "TYPE", "AMOUNT", "QUANTITY", "STATUS", "ATTRIBUTION", "PERIOD", "CAUSES", "ID", "DESCRIPTION")
	for _, d := range ds {
		ls := make([]string, 0, len(d.Causes))
		for _, c := range d.Causes {
			ls = append(ls, c.Event.Label)
		}
		row := changeRow(d.Change)
		t.row(slices.Insert(row, 8, orDash(strings.Join(ls, ",")))...)
	}
	explanations(t, ds, func(d api.ChangeDetail) string { return d.Explanation })
}

// detailedEventsTable is the events table with each event's effects, then
// the explanations, one a line.
func detailedEventsTable(t *table, ds []api.EventDetail) {
	t.row("LABEL", "TIME", "TYPE", "SOURCE", "STATUS", "PROPOSED", "PERIOD", "EFFECTS", "ID", "DESCRIPTION")
	for _, d := range ds {
		ls := make([]string, 0, len(d.Effects))
		for _, e := range d.Effects {
			ls = append(ls, e.Change.Label)
		}
		t.row(slices.Insert(eventRow(d.Event), 7, orDash(strings.Join(ls, ",")))...)
	}
	explanations(t, ds, func(d api.EventDetail) string { return d.Explanation })
}

func explanations[T any](t *table, ds []T, text func(T) string) {
	if len(ds) == 0 {
		return
	}
	t.line("")
	for _, d := range ds {
		t.line("%s", orDash(text(d)))
	}
}

func periodsTable(t *table, periods []api.Period) {
	t.row("LABEL", "STARTED", "ENDED", "POLICY", "DESIRED", "OFFICIAL", "ACTUAL", "IN FLIGHT", "REQUESTS", "SUPPRESSED", "CLAMPS", "CHANGES", "ID")
	for _, p := range periods {
		desired, official := "-", "-"
		if p.Harmonized {
			desired = fmt.Sprintf("%d → %d", p.DesiredBefore, p.DesiredAfter)
			official = fmt.Sprintf("%d → %d", p.OfficialBefore, p.OfficialAfter)
		}
		reqs := make([]string, 0, len(p.Requests))
		for _, r := range p.Requests {
			reqs = append(reqs, r.Label)
		}
		supp := make([]string, 0, len(p.Suppressed))
		for _, s := range p.Suppressed {
			supp = append(supp, s.Label)
		}
		clamps := make([]string, 0, len(p.Clamps))
		for _, c := range p.Clamps {
			clamps = append(clamps, fmt.Sprintf("%s %d→%d", c.Kind, c.From, c.To))
		}
		t.row(p.Label, ts(p.StartedAt), tsp(p.EndedAt), orDash(p.Policy), desired, official, itoa(p.Actual), itoa(p.InFlight),
			orDash(strings.Join(reqs, ",")), orDash(strings.Join(supp, ",")), orDash(strings.Join(clamps, "; ")), itoa(len(p.ChangeIDs)), p.ID)
	}
}

// periodRecord prints one decision record: the server's summary when it
// has one, the fields otherwise.
func periodRecord(t *table, p api.Period) {
	if p.Summary != "" {
		t.line("%s", strings.TrimRight(p.Summary, "\n"))
		t.line("(period %s)", p.ID)
		return
	}
	t.line("period %s: desired %d → %d, official %d → %d, actual %d at harmonization (in flight %d)",
		p.Label, p.DesiredBefore, p.DesiredAfter, p.OfficialBefore, p.OfficialAfter, p.Actual, p.InFlight)
	periodsTable(t, []api.Period{p})
}

func explainChange(t *table, d api.ChangeDetail) {
	t.line("%s", orDash(d.Explanation))
	t.line("")
	t.line("change %s (%s): %s %d, %d → %d, %s", d.Label, d.ID, d.Type, d.Amount, d.QuantityBefore, d.QuantityAfter, d.Status)
	if len(d.Causes) == 0 {
		t.line("causes: none recorded")
		return
	}
	t.line("causes:")
	t.row("ATTRIBUTION", "LABEL", "TIME", "TYPE", "SOURCE", "ID", "DESCRIPTION")
	for _, c := range d.Causes {
		t.row(c.Attribution, c.Event.Label, ts(c.Event.Time), c.Event.Type, source(c.Event.Source), c.Event.ID, c.Event.Description)
	}
}

func explainEvent(t *table, d api.EventDetail) {
	t.line("%s", orDash(d.Explanation))
	t.line("")
	t.line("event %s (%s): %s, %s", d.Label, d.ID, d.Type, d.Status)
	if len(d.Effects) == 0 {
		t.line("effects: none recorded")
		return
	}
	t.line("effects:")
	t.row("ATTRIBUTION", "LABEL", "STARTED", "TYPE", "AMOUNT", "QUANTITY", "ID", "DESCRIPTION")
	for _, e := range d.Effects {
		ch := e.Change
		t.row(e.Attribution, ch.Label, ts(ch.StartedAt), ch.Type, itoa(ch.Amount), fmt.Sprintf("%d → %d", ch.QuantityBefore, ch.QuantityAfter), ch.ID, ch.Description)
	}
}

func forecastTable(t *table, f api.Forecast) {
	ready := "ready"
	if !f.Ready {
		ready = "not ready"
	}
	if f.Reason != "" {
		ready += ": " + f.Reason
	}
	t.line("forecast of group %s: mode %s, %s (confidence %g, history %s)", f.GroupID, orDash(f.Mode), ready, f.Confidence, orDash(f.History))
	if len(f.Intervals) == 0 {
		return
	}
	t.row("START", "END", "EXPECTED", "LOWER", "UPPER")
	for _, in := range f.Intervals {
		t.row(ts(in.Start), ts(in.End), strconv.FormatFloat(in.Expected, 'f', 1, 64), itoa(in.Lower), itoa(in.Upper))
	}
}
