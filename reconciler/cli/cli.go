// Package cli is pesd's command line client of the API, for people and
// pipelines: "pesd changes", "pesd explain change C7 --group ID", ... (SPEC
// §4 "pesd command line"). cmd/pesd parses the top-level verb and runs one
// of Commands.
package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
	"github.com/pes-project/terraform-provider-pes/reconciler/engine"
)

// DefaultEndpoint is where client commands find pesd without --endpoint
// or PES_ENDPOINT.
const DefaultEndpoint = "http://127.0.0.1:7400"

// Exit codes, pesd's own verbs included.
const (
	ExitOK    = 0
	ExitError = 1 // the command failed (an API error, a daemon that cannot start)
	ExitUsage = 2 // the command line is wrong
)

// Command is one verb of pesd.
type Command struct {
	Name    string
	Summary string
	Run     func(args []string, stdout, stderr io.Writer) int
}

// Commands are the client verbs, in the order usage lists them.
func Commands() []Command {
	return append([]Command{
		{"groups", "list groups", cliGroups},
		{"nodes", "list a group's nodes", cliNodes},
		{"events", "list a group's events", cliEvents},
		{"changes", "list a group's capacity changes", cliChanges},
		{"periods", "list a group's periods (decision records)", cliPeriods},
		{"explain", "explain a change or an event: explain change|event <id or label>", cliExplain},
		{"harmonize", "end a group's period now and show the decision record", cliHarmonize},
		{"instruct", "send a user instruction (--change-by, --change-by-percent or --set-to)", cliInstruct},
		{"push", "push metric samples: push --group ID name=value...", cliPush},
		{"forecast", "show a group's forecast of authorized quantities", cliForecast},
		{"history", "import a quantity history for predictive governing: history import --group ID FILE", cliHistory},
	}, executionCommands()...)
}

// cli is one client command invocation: its flags, its writers, and the
// flags every client command shares.
type cli struct {
	fs       *flag.FlagSet
	stdout   io.Writer
	stderr   io.Writer
	endpoint string
	token    string
	output   string
	timeout  time.Duration
	group    string
	// deleted lets --group name a deleted group (deletedFlag).
	deleted bool
}

// newCLI prepares a client command. withGroup adds the --group flag (a
// group ID or name), required unless groupOptional.
func newCLI(name, synopsis string, stdout, stderr io.Writer, withGroup bool) *cli {
	c := &cli{fs: flag.NewFlagSet("pesd "+name, flag.ContinueOnError), stdout: stdout, stderr: stderr}
	c.fs.SetOutput(stderr)
	endpoint := os.Getenv("PES_ENDPOINT")
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	c.fs.StringVar(&c.endpoint, "endpoint", endpoint, "pesd `URL` (PES_ENDPOINT)")
	c.fs.StringVar(&c.token, "token", "", "API `token` (default: PES_TOKEN)")
	c.fs.StringVar(&c.output, "o", "table", "output `format`: table (fits 120 columns, short ids), wide (every column, full ids) or json")
	c.fs.DurationVar(&c.timeout, "timeout", time.Minute, "give up after this `duration`")
	if withGroup {
		c.fs.StringVar(&c.group, "group", "", "group `ID` or name")
	}
	c.fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: pesd %s\n\nflags:\n", synopsis)
		c.fs.PrintDefaults()
	}
	return c
}

// deletedFlag adds --all to a command that reads a group's history, which
// pesd keeps after a delete: with it, --group finds a deleted group by its
// name too.
func (c *cli) deletedFlag() {
	c.fs.BoolVar(&c.deleted, "all", false, "let --group name a deleted group (the one deleted last; its history is kept)")
}

// errUsage marks a command-line mistake (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// parse parses flags that may come before, between or after positional
// arguments ("explain change C1 --group g") and returns the positionals.
func (c *cli) parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := c.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()} // flag has printed the usage
		}
		args = c.fs.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			pos = append(pos, args[1:]...)
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if c.output != "table" && c.output != "wide" && c.output != "json" {
		return nil, usagef("-o: must be table, wide or json, got %q", c.output)
	}
	if c.token == "" {
		c.token = os.Getenv("PES_TOKEN")
	}
	return pos, nil
}

// requireGroup returns an error when --group is missing.
func (c *cli) requireGroup() error {
	if c.group == "" {
		return usagef("--group: required (a group ID or name; 'pesd groups' lists them)")
	}
	return nil
}

func (c *cli) client() (*client.Client, error) {
	if c.token == "" {
		return nil, usagef("--token: required (or set PES_TOKEN)")
	}
	return client.New(c.endpoint, c.token, client.WithUserAgent("pesd-cli"))
}

// context ends on Ctrl-C or after --timeout.
func (c *cli) context() (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	return ctx, func() { cancel(); stop() }
}

// exit prints err the way every command does and returns the exit code.
// An API error shows its message, field, code and HTTP status.
func (c *cli) exit(err error) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(c.stderr, "pesd: %s\n", ue.msg)
		return ExitUsage
	}
	var ae *api.Error
	if errors.As(err, &ae) {
		field := ""
		if ae.Field != "" {
			field = " (field " + ae.Field + ")"
		}
		// Keep what the command added around the API's message.
		prefix := strings.TrimSuffix(err.Error(), ae.Error())
		fmt.Fprintf(c.stderr, "pesd: error: %s%s%s [%s, HTTP %d]\n", prefix, ae.Message, field, ae.Code, ae.Status)
		return ExitError
	}
	fmt.Fprintf(c.stderr, "pesd: error: %v\n", err)
	return ExitError
}

// run runs a command: parse the flags (--group required when needGroup),
// let check read the positional arguments (nil: none are taken) before
// anything is sent, connect, then do. Every command has this shape.
func (c *cli) run(args []string, needGroup bool, check func(pos []string) error,
	do func(ctx context.Context, cl *client.Client) error) int {
	return c.exit(func() error {
		pos, err := c.parse(args)
		if err != nil {
			return err
		}
		if needGroup {
			if err := c.requireGroup(); err != nil {
				return err
			}
		}
		if check == nil {
			check = noArgs
		}
		if err := check(pos); err != nil {
			return err
		}
		cl, err := c.client()
		if err != nil {
			return err
		}
		ctx, cancel := c.context()
		defer cancel()
		return do(ctx, cl)
	}())
}

// onGroup runs a command about the group of --group (an ID or a name), as
// most are.
func (c *cli) onGroup(args []string, check func(pos []string) error,
	do func(ctx context.Context, cl *client.Client, g api.Group) error) int {
	return c.run(args, true, check, func(ctx context.Context, cl *client.Client) error {
		// pesd resolves the name. A deleted group's is found only with
		// --all; without it pesd's 404 says when the group went and the
		// ID its history is under.
		g, err := cl.FindGroup(ctx, c.group, c.deleted)
		if err != nil {
			return err
		}
		return do(ctx, cl, g)
	})
}

// window is the --since/--until pair of the history lists.
type window struct{ since, until *string }

func (c *cli) windowFlags(noun string) window {
	return window{
		since: c.fs.String("since", "", "only "+noun+" at or after `T` (RFC 3339, or a duration ago: 1h)"),
		until: c.fs.String("until", "", "only "+noun+" before `T`"),
	}
}

// check is the check of a list command with a window: no positional
// arguments, and times people can read (a mistake is a usage error naming
// the flag), set into *since and *until.
func (w window) check(since, until *time.Time) func(pos []string) error {
	return func(pos []string) error {
		if err := noArgs(pos); err != nil {
			return err
		}
		now := time.Now()
		var err error
		if *since, err = parseTime("since", *w.since, now); err != nil {
			return err
		}
		*until, err = parseTime("until", *w.until, now)
		return err
	}
}

func noArgs(pos []string) error {
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	return nil
}

// parseTime reads --since/--until: RFC 3339, or a duration meaning that
// long ago ("90m", "2d").
func parseTime(flagName, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	if d, err := api.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d).UTC(), nil
	}
	return time.Time{}, usagef("--%s: want an RFC 3339 time (2026-01-02T10:00:00Z) or a duration ago (90m, 2d), got %q", flagName, v)
}

func cliGroups(args []string, stdout, stderr io.Writer) int {
	c := newCLI("groups", "groups [--all] [-o json]", stdout, stderr, false)
	all := c.fs.Bool("all", false, "include deleted groups")
	return c.run(args, false, nil, func(ctx context.Context, cl *client.Client) error {
		groups, err := cl.ListAllGroups(ctx, client.GroupFilter{IncludeDeleted: *all})
		if err != nil {
			return err
		}
		return c.print(groups, func(t *table) { groupsTable(t, groups) })
	})
}

func cliNodes(args []string, stdout, stderr io.Writer) int {
	c := newCLI("nodes", "nodes --group ID [--all] [-o json]", stdout, stderr, true)
	c.fs.BoolVar(&c.deleted, "all", false, "include terminated nodes, and let --group name a deleted group")
	return c.onGroup(args, nil, func(ctx context.Context, cl *client.Client, g api.Group) error {
		return printList(ctx, c, g, client.NodeFilter{IncludeTerminated: c.deleted}, cl.ListNodes, nodesTable)
	})
}

func cliEvents(args []string, stdout, stderr io.Writer) int {
	c := newCLI("events", "events --group ID [--all] [--since T] [--until T] [--type TYPE] [--effects] [-o json]", stdout, stderr, true)
	w := c.windowFlags("events")
	c.deletedFlag()
	typ := c.fs.String("type", "", "only events of this `type` ("+strings.Join(api.EventTypes(), ", ")+")")
	effects := c.fs.Bool("effects", false, "with each event's effects and explanation (-o json: the details)")
	var f client.EventFilter
	return c.onGroup(args, w.check(&f.Since, &f.Until), func(ctx context.Context, cl *client.Client, g api.Group) error {
		f.Type = *typ
		if *effects {
			return printList(ctx, c, g, f, cl.ListAllEventsDetailed, func(t *table, ds []api.EventDetail) { detailedEventsTable(t, ds, true) })
		}
		return printList(ctx, c, g, f, cl.ListAllEvents, eventsTable)
	})
}

func cliChanges(args []string, stdout, stderr io.Writer) int {
	c := newCLI("changes", "changes --group ID [--all] [--since T] [--until T] [--type TYPE] [--caused-by EVENT] [--causes] [-o json]", stdout, stderr, true)
	w := c.windowFlags("changes started")
	c.deletedFlag()
	typ := c.fs.String("type", "", "only changes of this `type` ("+strings.Join(api.ChangeTypes(), ", ")+")")
	causedBy := c.fs.String("caused-by", "", "only changes caused by this `event` (ID or label such as E4)")
	causes := c.fs.Bool("causes", false, "with each change's causes and explanation (-o json: the details)")
	var f client.ChangeFilter
	return c.onGroup(args, w.check(&f.Since, &f.Until), func(ctx context.Context, cl *client.Client, g api.Group) error {
		// The API takes an event's label ("E4") as well as its id.
		f.Type, f.CausedBy = *typ, *causedBy
		if *causes {
			return printList(ctx, c, g, f, cl.ListAllChangesDetailed, func(t *table, ds []api.ChangeDetail) { detailedChangesTable(t, ds, true) })
		}
		return printList(ctx, c, g, f, cl.ListAllChanges, changesTable)
	})
}

// printList reads group g's whole list with filter f and prints it: -o
// json as the API answered, else the table fill lays out. Every list
// command is this.
func printList[F, T any](ctx context.Context, c *cli, g api.Group, f F, list func(context.Context, string, F) ([]T, error),
	fill func(*table, []T)) error {
	items, err := list(ctx, g.ID, f)
	if err != nil {
		return err
	}
	return c.print(items, func(t *table) { fill(t, items) })
}

func cliPeriods(args []string, stdout, stderr io.Writer) int {
	c := newCLI("periods", "periods --group ID [--all] [-o json]", stdout, stderr, true)
	c.deletedFlag()
	return c.onGroup(args, nil, func(ctx context.Context, cl *client.Client, g api.Group) error {
		return printList(ctx, c, g, client.Page{}, cl.ListAllPeriods, periodsTable)
	})
}

// labelRE matches the per-group labels people use: E4, C7, H2, E9b.
var labelRE = regexp.MustCompile(`^[A-Za-z][0-9]+[a-z]?$`)

// findEvent resolves an event ID, a short ID (a prefix, as tables show
// them) or a label within the group. The API has no label or prefix
// lookup, so these are matched in the group's event list.
func findEvent(ctx context.Context, cl *client.Client, groupID, ref string) (api.Event, error) {
	if !labelRE.MatchString(ref) && (groupID == "" || len(ref) >= fullIDLen) {
		d, err := cl.GetEvent(ctx, ref)
		return d.Event, err
	}
	if groupID == "" {
		return api.Event{}, usagef("--group: required to find event %s by its label", ref)
	}
	events, err := cl.ListAllEvents(ctx, groupID, client.EventFilter{})
	if err != nil {
		return api.Event{}, err
	}
	return findRef(events, "event", groupID, ref, func(e api.Event) (string, string) { return e.Label, e.ID })
}

// findChange is findEvent for changes.
func findChange(ctx context.Context, cl *client.Client, groupID, ref string) (string, error) {
	if !labelRE.MatchString(ref) && (groupID == "" || len(ref) >= fullIDLen) {
		return ref, nil
	}
	if groupID == "" {
		return "", usagef("--group: required to find change %s by its label", ref)
	}
	changes, err := cl.ListAllChanges(ctx, groupID, client.ChangeFilter{})
	if err != nil {
		return "", err
	}
	ch, err := findRef(changes, "change", groupID, ref, func(c api.Change) (string, string) { return c.Label, c.ID })
	return ch.ID, err
}

// fullIDLen is the length of an ID (a UUID); a shorter reference that is
// not a label is an ID's prefix.
const fullIDLen = 36

// findRef finds the item of a group's list that ref names: by label
// ("C7", any case) or by the prefix of its ID, which must be unique.
func findRef[T any](items []T, noun, groupID, ref string, key func(T) (label, id string)) (T, error) {
	var zero T
	if labelRE.MatchString(ref) {
		for _, it := range items {
			if l, _ := key(it); strings.EqualFold(l, ref) {
				return it, nil
			}
		}
		return zero, &api.Error{Code: api.CodeNotFound, Status: 404, Message: fmt.Sprintf("no %s labelled %s in group %s", noun, ref, groupID)}
	}
	var found []T
	for _, it := range items {
		if _, id := key(it); strings.HasPrefix(id, strings.ToLower(ref)) {
			found = append(found, it)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return zero, &api.Error{Code: api.CodeNotFound, Status: 404, Message: fmt.Sprintf("no %s of group %s has an id starting %s", noun, groupID, ref)}
	}
	return zero, usagef("%s %s: %d %ss of group %s have an id starting so; give more of it", noun, ref, len(found), noun, groupID)
}

func cliExplain(args []string, stdout, stderr io.Writer) int {
	c := newCLI("explain", "explain change|event <ID, short ID or label> [--group ID] [--all] [-o json]", stdout, stderr, true)
	c.deletedFlag()
	var kind, ref string
	check := func(pos []string) error {
		if len(pos) != 2 || (pos[0] != "change" && pos[0] != "event") {
			return usagef("explain: want 'change <ID or label>' or 'event <ID or label>', got %q", strings.Join(pos, " "))
		}
		kind, ref = pos[0], pos[1]
		return nil
	}
	return c.run(args, false, check, func(ctx context.Context, cl *client.Client) error {
		groupID := ""
		if c.group != "" {
			g, err := cl.FindGroup(ctx, c.group, c.deleted)
			if err != nil {
				return err
			}
			groupID = g.ID
		}
		if kind == "change" {
			id, err := findChange(ctx, cl, groupID, ref)
			if err != nil {
				return err
			}
			d, err := cl.GetChange(ctx, id)
			if err != nil {
				return err
			}
			return c.print(d, func(t *table) { explainChange(t, d) })
		}
		e, err := findEvent(ctx, cl, groupID, ref)
		if err != nil {
			return err
		}
		d, err := cl.GetEvent(ctx, e.ID)
		if err != nil {
			return err
		}
		return c.print(d, func(t *table) { explainEvent(t, d) })
	})
}

func cliHarmonize(args []string, stdout, stderr io.Writer) int {
	c := newCLI("harmonize", "harmonize --group ID [-o json]", stdout, stderr, true)
	return c.onGroup(args, nil, func(ctx context.Context, cl *client.Client, g api.Group) error {
		p, err := cl.Harmonize(ctx, g.ID)
		if err != nil {
			return err
		}
		return c.print(p, func(t *table) { periodRecord(t, p) })
	})
}

func cliInstruct(args []string, stdout, stderr io.Writer) int {
	return instruct(args, os.Stdin, term.IsTerminal(int(os.Stdin.Fd())), stdout, stderr)
}

// instruct is the instruct verb; stdin answers the confirmation of a large
// immediate change when terminal says a person is there to answer.
func instruct(args []string, stdin io.Reader, terminal bool, stdout, stderr io.Writer) int {
	c := newCLI("instruct", "instruct --group ID (--change-by N | --change-by-percent P | --set-to N) [--immediate [--yes]] [--priority N] [--reason TEXT]", stdout, stderr, true)
	changeBy := c.fs.String("change-by", "", "add (or with a minus sign, remove) `N` nodes")
	percent := c.fs.String("change-by-percent", "", "change by `P` percent")
	setTo := c.fs.String("set-to", "", "set the desired quantity to `N`")
	immediate := c.fs.Bool("immediate", false, "act now instead of at the end of the period")
	yes := c.fs.Bool("yes", false, fmt.Sprintf("do not ask before an immediate change of more than %d nodes or %d× the desired quantity", confirmNodes, confirmFactor))
	priority := c.fs.String("priority", "", "request `priority` (default: the instruction default)")
	reason := c.fs.String("reason", "", "why, for the causality record")
	actor := c.fs.String("actor", "", "who gives the instruction (default: your user name)")
	var in api.Instruction
	check := func(pos []string) error {
		if err := noArgs(pos); err != nil {
			return err
		}
		in = api.Instruction{Immediate: *immediate, Reason: *reason, Actor: *actor}
		if in.Actor == "" {
			in.Actor = os.Getenv("USER")
		}
		forms := 0
		if *changeBy != "" {
			n, err := strconv.Atoi(*changeBy)
			if err != nil {
				return usagef("--change-by: want a whole number, got %q", *changeBy)
			}
			in.ChangeBy = &n
			forms++
		}
		if *percent != "" {
			p, err := strconv.ParseFloat(*percent, 64)
			if err != nil {
				return usagef("--change-by-percent: want a number, got %q", *percent)
			}
			in.ChangeByPercent = &p
			forms++
		}
		if *setTo != "" {
			n, err := strconv.Atoi(*setTo)
			if err != nil {
				return usagef("--set-to: want a whole number, got %q", *setTo)
			}
			in.SetTo = &n
			forms++
		}
		if forms != 1 {
			return usagef("instruct: give exactly one of --change-by, --change-by-percent, --set-to")
		}
		if *priority != "" {
			n, err := strconv.Atoi(*priority)
			if err != nil {
				return usagef("--priority: want a whole number, got %q", *priority)
			}
			in.Priority = &n
		}
		return nil
	}
	return c.onGroup(args, check, func(ctx context.Context, cl *client.Client, g api.Group) error {
		if q := largeChange(g, in); q != "" && !*yes {
			if err := confirm(q, stdin, terminal, stderr); err != nil {
				return err
			}
		}
		e, err := cl.Instruct(ctx, g.ID, in)
		if err != nil {
			return err
		}
		return c.print(e, func(t *table) { eventsTable(t, []api.Event{e}) })
	})
}

// An immediate instruction acts at once, with no period to think again
// (local nodes are processes on pesd's machine): beyond these it is
// confirmed first.
const (
	confirmNodes  = 20 // nodes added or removed at once
	confirmFactor = 2  // times the current desired quantity
)

// largeChange describes the immediate change in to group g when it is
// large enough to confirm, else "". The quantity is what pesd will aim
// for: the request's proposal (engine.Propose) within the group's bounds.
func largeChange(g api.Group, in api.Instruction) string {
	if !in.Immediate {
		return ""
	}
	cur := g.DesiredQuantity
	target := min(max(engine.Propose(cur, in.Request), g.MinQuantity), g.MaxQuantity)
	var why string
	switch {
	case target-cur > confirmNodes || cur-target > confirmNodes:
		why = fmt.Sprintf("more than %d nodes at once", confirmNodes)
	case cur > 0 && target > confirmFactor*cur:
		why = fmt.Sprintf("more than %d× its desired quantity", confirmFactor)
	default:
		return ""
	}
	return fmt.Sprintf("this changes group %s from %d to %d nodes at once (%s)", g.Name, cur, target, why)
}

// confirm asks a person at the terminal about change; without a terminal
// nobody can answer, so it refuses and says how to go ahead.
func confirm(change string, stdin io.Reader, terminal bool, stderr io.Writer) error {
	if !terminal {
		return usagef("instruct: %s; stdin is not a terminal to confirm it, so pass --yes to go ahead", change)
	}
	fmt.Fprintf(stderr, "pesd: %s. Go ahead? [y/N] ", change)
	answer, _ := bufio.NewReader(stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return errors.New("not confirmed; nothing was sent")
}

func cliPush(args []string, stdout, stderr io.Writer) int {
	c := newCLI("push", "push --group ID [--node NODE] name=value...", stdout, stderr, true)
	node := c.fs.String("node", "", "attribute the samples to this node `ID`")
	var samples []api.Sample
	check := func(pos []string) error {
		if len(pos) == 0 {
			return usagef("push: give at least one name=value sample")
		}
		for _, p := range pos {
			name, val, ok := strings.Cut(p, "=")
			if !ok || name == "" {
				return usagef("push: want name=value, got %q", p)
			}
			v, err := strconv.ParseFloat(val, 64)
			if err != nil {
				return usagef("push: %s: want a number, got %q", name, val)
			}
			samples = append(samples, api.Sample{Name: name, Value: v, NodeID: *node})
		}
		return nil
	}
	return c.onGroup(args, check, func(ctx context.Context, cl *client.Client, g api.Group) error {
		r, err := cl.PushMetrics(ctx, g.ID, samples)
		if err != nil {
			return err
		}
		return c.print(r, func(t *table) { t.line("accepted %d sample(s) for group %s", r.Accepted, g.Name) })
	})
}

func cliForecast(args []string, stdout, stderr io.Writer) int {
	c := newCLI("forecast", "forecast --group ID [-o json]", stdout, stderr, true)
	return c.onGroup(args, nil, func(ctx context.Context, cl *client.Client, g api.Group) error {
		f, err := cl.Forecast(ctx, g.ID)
		if err != nil {
			return err
		}
		return c.print(f, func(t *table) { forecastTable(t, f) })
	})
}
