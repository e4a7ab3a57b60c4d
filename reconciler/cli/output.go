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
	"unicode/utf8"

	"sigs.k8s.io/yaml"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// print writes v as JSON or YAML (-o json|yaml: the API objects, for
// pipelines; YAML has the JSON's field names) or lets fill write the
// table for people: fitted to tableWidth columns with short ids by
// default, every column and full ids with -o wide.
func (c *cli) print(v any, fill func(t *table)) error {
	switch c.output {
	case "json":
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "yaml":
		b, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = c.stdout.Write(b)
		return err
	}
	t := &table{w: c.stdout, wide: c.output == "wide"}
	fill(t)
	return t.flush()
}

// tableWidth is the width tables fit by default: the last column of a
// block (a description, a reason) is cut to fit, with "…".
const tableWidth = 120

// minShortID is the shortest id a table shows, as git shows at least 7
// hex digits: UUIDs v7 begin with their time, so ids made together share
// longer prefixes and are shown longer.
const minShortID = 8

// table writes aligned columns (text/tabwriter) and free lines between
// them.
type table struct {
	w    io.Writer
	wide bool       // -o wide: every column, full ids, nothing cut
	rows [][]string // the current block of columns
	err  error
}

// row adds one row of cells to the current block.
func (t *table) row(cells ...string) {
	for i, c := range cells {
		// A tab or newline inside a cell would break the alignment.
		cells[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(c)
	}
	t.rows = append(t.rows, cells)
}

// line writes a line outside the columns, ending the current block.
func (t *table) line(format string, args ...any) {
	t.keep(t.flushColumns())
	_, err := fmt.Fprintf(t.w, format+"\n", args...)
	t.keep(err)
}

// flushColumns writes the current block, aligned; unless wide, each
// row's last cell is cut so the row fits tableWidth.
func (t *table) flushColumns() error {
	if len(t.rows) == 0 {
		return nil
	}
	rows := t.rows
	t.rows = nil
	if !t.wide {
		fit(rows, tableWidth)
	}
	tw := tabwriter.NewWriter(t.w, 0, 8, columnGap, ' ', 0)
	for _, r := range rows {
		if _, err := fmt.Fprintln(tw, strings.Join(r, "\t")); err != nil {
			return err
		}
	}
	return tw.Flush()
}

const columnGap = 2

// fit cuts the last cell of each row so that the row, aligned as
// tabwriter aligns it, is at most width runes wide. The other columns are
// kept whole: the tables put their free text last.
func fit(rows [][]string, width int) {
	var widths []int
	for _, r := range rows {
		for i, c := range r[:len(r)-1] {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for _, r := range rows {
		used := 0
		for i := range len(r) - 1 {
			used += widths[i] + columnGap
		}
		last := &r[len(r)-1]
		room := max(width-used, 1)
		if utf8.RuneCountInString(*last) > room {
			*last = string([]rune(*last)[:room-1]) + "…"
		}
	}
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

// ids returns how the table shows the ids it lists: whole when wide, else
// each as the shortest prefix (at least minShortID runes) that no other
// of them shares, as git shortens commit ids.
func (t *table) ids(ids ...string) func(string) string {
	if t.wide {
		return func(id string) string { return id }
	}
	short := shortIDs(ids)
	return func(id string) string {
		if s, ok := short[id]; ok {
			return s
		}
		return id
	}
}

// shortIDs maps each id to its shortest prefix of at least minShortID
// characters that is the prefix of no other id of ids.
func shortIDs(ids []string) map[string]string {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	out := make(map[string]string, len(sorted))
	for i, id := range sorted {
		n := minShortID
		if i > 0 {
			n = max(n, commonPrefix(id, sorted[i-1])+1)
		}
		if i+1 < len(sorted) {
			n = max(n, commonPrefix(id, sorted[i+1])+1)
		}
		out[id] = id[:min(n, len(id))]
	}
	return out
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
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

// groupsTable lists groups; -o wide adds how each aggregates (period
// and policy) and when it was created.
func groupsTable(t *table, groups []api.Group) {
	id := t.ids(mapOf(groups, func(g api.Group) string { return g.ID })...)
	head := []string{"ID", "NAME", "DRIVER", "DESIRED", "OFFICIAL", "ACTUAL", "MIN", "MAX", "STATUS", "PERIOD"}
	if t.wide {
		head = append(head, "AGGREGATION", "CREATED")
	}
	t.row(append(head, "NEXT HARMONIZATION")...)
	for _, g := range groups {
		row := []string{id(g.ID), g.Name, g.Driver, itoa(g.DesiredQuantity), itoa(g.OfficialQuantity), itoa(g.ActualQuantity),
			itoa(g.MinQuantity), itoa(g.MaxQuantity), g.Status, orDash(g.CurrentPeriodLabel)}
		if t.wide {
			row = append(row, orDash(strings.TrimSpace(g.AggregationPolicy+" "+g.AggregationPeriod)), ts(g.CreatedAt))
		}
		t.row(append(row, tsp(g.NextHarmonizationAt))...)
	}
}

// mapOf applies f to each of items: their ids, for table.ids.
func mapOf[T, U any](items []T, f func(T) U) []U {
	out := make([]U, 0, len(items))
	for _, it := range items {
		out = append(out, f(it))
	}
	return out
}

// nodesTable shows what people look at: the node's name (web-3.2) and
// its short id; -o wide adds the index, the launch and the change that
// launched it, and -o json the driver's whole handle (log path, process
// start time, ...). PORT/PID, from the handle, is shown when some node
// has one (local nodes; sim nodes have none).
func nodesTable(t *table, nodes []api.Node) {
	id := t.ids(mapOf(nodes, func(n api.Node) string { return n.ID })...)
	addr := slices.ContainsFunc(nodes, func(n api.Node) bool { return n.Handle["port"] != "" || n.Handle["pid"] != "" })
	head := []string{"NAME", "ID", "STATE", "READY"}
	if t.wide {
		head = append(head, "INDEX", "LAUNCHED", "CHANGE")
	}
	if addr {
		head = append(head, "PORT/PID")
	}
	t.row(append(head, "REASON")...)
	for _, n := range nodes {
		row := []string{orDash(n.Name), id(n.ID), n.State, tsp(n.ReadyAt)}
		if t.wide {
			row = append(row, itoa(n.Index), ts(n.LaunchedAt), orDash(n.ChangeID))
		}
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
	case s.Name != "" && s.OnBehalfOf != "":
		// The principal whose token asked, for the actor it named.
		return s.Kind + ":" + s.Name + " for " + s.OnBehalfOf
	case s.Name != "":
		return s.Kind + ":" + s.Name
	case s.ID != "":
		return s.Kind + ":" + s.ID
	}
	return orDash(s.Kind)
}

func eventsTable(t *table, events []api.Event) {
	detailedEventsTable(t, mapOf(events, func(e api.Event) api.EventDetail { return api.EventDetail{Event: e} }), false)
}

// eventRow is an event's row; effects, when not nil, the labels of what
// it caused. The default table leaves the type, the source and the
// proposed quantity to the description ("trigger cpu-high asked for
// +4"); -o wide has them.
func eventRow(t *table, id func(string) string, e api.Event, effects *string) []string {
	row := []string{e.Label, ts(e.Time)}
	if t.wide {
		proposed := "-"
		if e.ProposedQuantity != nil {
			proposed = itoa(*e.ProposedQuantity)
		}
		row = append(row, e.Type, source(e.Source), e.Status, proposed)
	} else {
		row = append(row, e.Status)
	}
	row = append(row, orDash(e.PeriodLabel))
	if effects != nil {
		row = append(row, *effects)
	}
	return append(row, id(e.ID), e.Description)
}

func eventHead(t *table, effects bool) []string {
	head := []string{"LABEL", "TIME", "STATUS"}
	if t.wide {
		head = []string{"LABEL", "TIME", "TYPE", "SOURCE", "STATUS", "PROPOSED"}
	}
	head = append(head, "PERIOD")
	if effects {
		head = append(head, "EFFECTS")
	}
	return append(head, "ID", "DESCRIPTION")
}

func changesTable(t *table, changes []api.Change) {
	detailedChangesTable(t, mapOf(changes, func(c api.Change) api.ChangeDetail { return api.ChangeDetail{Change: c} }), false)
}

// changeRow is a change's row; causes, when not nil, the labels of its
// causes. The default table leaves type, amount and quantities to the
// description ("add 5 nodes, 7 → 12"); -o wide has them, and the parts in
// which the nodes became ready.
func changeRow(t *table, id func(string) string, ch api.Change, causes *string) []string {
	row := []string{ch.Label, ts(ch.StartedAt)}
	if t.wide {
		row = append(row, ch.Type, itoa(ch.Amount), fmt.Sprintf("%d → %d", ch.QuantityBefore, ch.QuantityAfter))
	}
	row = append(row, ch.Status, orDash(ch.Attribution), orDash(ch.PeriodLabel))
	if t.wide {
		row = append(row, parts(ch.Parts))
	}
	if causes != nil {
		row = append(row, *causes)
	}
	return append(row, id(ch.ID), ch.Description)
}

func changeHead(t *table, causes bool) []string {
	head := []string{"LABEL", "STARTED"}
	if t.wide {
		head = append(head, "TYPE", "AMOUNT", "QUANTITY")
	}
	head = append(head, "STATUS", "ATTRIBUTION", "PERIOD")
	if t.wide {
		head = append(head, "PARTS")
	}
	if causes {
		head = append(head, "CAUSES")
	}
	return append(head, "ID", "DESCRIPTION")
}

// parts reads a change's parts as "40@10:00:12,30@10:00:13": how many
// nodes became ready when.
func parts(ps []api.ChangePart) string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%d@%s", p.Amount, p.ReadyAt.UTC().Format(time.TimeOnly)))
	}
	return orDash(strings.Join(out, ","))
}

// detailedChangesTable is the changes table, with each change's causes
// when withCauses, then the explanations, one a line.
func detailedChangesTable(t *table, ds []api.ChangeDetail, withCauses bool) {
	id := t.ids(mapOf(ds, func(d api.ChangeDetail) string { return d.ID })...)
	t.row(changeHead(t, withCauses)...)
	for _, d := range ds {
		if !withCauses {
			t.row(changeRow(t, id, d.Change, nil)...)
			continue
		}
		ls := make([]string, 0, len(d.Causes))
		for _, c := range d.Causes {
			ls = append(ls, causeLabel(c))
		}
		causes := orDash(strings.Join(ls, ","))
		t.row(changeRow(t, id, d.Change, &causes)...)
	}
	if withCauses {
		explanations(t, ds, func(d api.ChangeDetail) string { return d.Explanation })
	}
}

// detailedEventsTable is the events table, with each event's effects
// when withEffects, then the explanations, one a line.
func detailedEventsTable(t *table, ds []api.EventDetail, withEffects bool) {
	id := t.ids(mapOf(ds, func(d api.EventDetail) string { return d.ID })...)
	t.row(eventHead(t, withEffects)...)
	for _, d := range ds {
		if !withEffects {
			t.row(eventRow(t, id, d.Event, nil)...)
			continue
		}
		ls := make([]string, 0, len(d.Effects))
		for _, e := range d.Effects {
			ls = append(ls, e.Change.Label)
		}
		effects := orDash(strings.Join(ls, ","))
		t.row(eventRow(t, id, d.Event, &effects)...)
	}
	if withEffects {
		explanations(t, ds, func(d api.EventDetail) string { return d.Explanation })
	}
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

// periodsTable lists decision records; the default table leaves out the
// start, what was in flight, the suppressed requests and the clamps
// (-o wide, and each record's summary, have them).
func periodsTable(t *table, periods []api.Period) {
	id := t.ids(mapOf(periods, func(p api.Period) string { return p.ID })...)
	if t.wide {
		t.row("LABEL", "STARTED", "ENDED", "POLICY", "DESIRED", "OFFICIAL", "ACTUAL", "IN FLIGHT", "REQUESTS", "SUPPRESSED", "CLAMPS", "CHANGES", "ID")
	} else {
		t.row("LABEL", "ENDED", "POLICY", "DESIRED", "OFFICIAL", "ACTUAL", "CHANGES", "ID", "REQUESTS")
	}
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
		if !t.wide {
			t.row(p.Label, tsp(p.EndedAt), orDash(p.Policy), desired, official, itoa(p.Actual), itoa(len(p.ChangeIDs)),
				id(p.ID), orDash(strings.Join(reqs, ",")))
			continue
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
	if len(d.Parts) > 0 {
		t.line("parts: %s", parts(d.Parts))
	}
	if len(d.Causes) == 0 {
		t.line("causes: none recorded")
		return
	}
	t.line("causes:")
	id := t.ids(mapOf(d.Causes, func(c api.Cause) string { return c.Event.ID })...)
	t.row("ATTRIBUTION", "LABEL", "TIME", "TYPE", "SOURCE", "ID", "DESCRIPTION")
	for _, c := range d.Causes {
		t.row(c.Attribution, causeLabel(c), ts(c.Event.Time), c.Event.Type, source(c.Event.Source), id(c.Event.ID), c.Event.Description)
	}
	if slices.ContainsFunc(d.Causes, func(c api.Cause) bool { return c.Decisive }) {
		t.line("* decisive: the request the period's policy chose")
	}
}

// causeLabel is a cause's event label, marked * when it is the decisive
// cause (the request the policy chose, seed 004).
func causeLabel(c api.Cause) string {
	if c.Decisive {
		return c.Event.Label + "*"
	}
	return c.Event.Label
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
	id := t.ids(mapOf(d.Effects, func(e api.Effect) string { return e.Change.ID })...)
	t.row("ATTRIBUTION", "LABEL", "STARTED", "TYPE", "AMOUNT", "QUANTITY", "ID", "DESCRIPTION")
	for _, e := range d.Effects {
		ch := e.Change
		t.row(e.Attribution, ch.Label, ts(ch.StartedAt), ch.Type, itoa(ch.Amount), fmt.Sprintf("%d → %d", ch.QuantityBefore, ch.QuantityAfter), id(ch.ID), ch.Description)
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
