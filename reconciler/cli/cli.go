// Package cli is pesd's command line (SPEC §4 "pesd command line"): the
// client verbs of the API for people and pipelines ("pesd changes", "pesd
// explain change C7 --group ID", ...), built with cobra, which also gives
// "pesd completion bash|zsh|fish". cmd/pesd adds the daemon's own verb
// (serve) and calls Main.
package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
	"github.com/pes-project/terraform-provider-pes/reconciler/engine"
)

// DefaultEndpoint is where client commands find pesd without --endpoint
// or PES_ENDPOINT.
const DefaultEndpoint = "http://127.0.0.1:7400"

// Exit codes of every verb, serve included (docs/guides/cli.md).
const (
	ExitOK       = 0
	ExitError    = 1 // the command failed (an API error, an unreadable file, a daemon that cannot start)
	ExitUsage    = 2 // the command line is wrong: an unknown command or flag, a bad flag value, a missing argument
	ExitNotFound = 3 // what the command names (a group, a trigger, a change, ...) does not exist
	ExitGate     = 4 // whatif: the replay went past a gate (--max-changes, --max-node-hours)
)

// Command is a verb that parses its own flags: cmd/pesd's serve.
type Command struct {
	Name    string
	Summary string
	Run     func(args []string, stdout, stderr io.Writer) int
}

// Main runs pesd's command line with args (without the program name):
// the client verbs, version, completion and extra. It returns the exit
// code.
func Main(args []string, stdout, stderr io.Writer, extra ...Command) int {
	e := &env{stdin: os.Stdin, terminal: term.IsTerminal(int(os.Stdin.Fd())), stdout: stdout, stderr: stderr}
	return e.main(args, extra...)
}

// env is what one run of the command line reads and writes; tests give
// their own.
type env struct {
	stdin io.Reader
	// terminal says a person is at stdin to answer a confirmation.
	terminal       bool
	stdout, stderr io.Writer
	// ran is set once a command's own code runs: an error before that is
	// cobra's, about the command line.
	ran bool
}

func (e *env) main(args []string, extra ...Command) int {
	switch {
	case len(args) == 1 && (args[0] == "-version" || args[0] == "--version"):
		args = []string{"version"}
	case len(args) == 1 && args[0] == "-help":
		args = []string{"--help"}
	}
	root := e.root(extra)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	return e.exit(cmd, err)
}

// rootNote ends pesd's own usage.
const rootNote = `Client commands take --endpoint (PES_ENDPOINT, default ` + DefaultEndpoint + `),
--token (PES_TOKEN), --ca-cert (PES_CA_CERT) and -o table|wide|json|yaml. Run 'pesd <command> -h' for its flags.
Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 a whatif gate exceeded.
`

// usageTemplate keeps pesd's usage as it read before cobra: the synopsis,
// the commands, the flags.
const usageTemplate = `usage: {{if .HasParent}}{{.UseLine}}{{else}}pesd <command> [flags]{{end}}{{if and .HasParent .HasAvailableSubCommands}}
       {{.CommandPath}} <command> [flags]{{end}}{{if .HasAvailableSubCommands}}

commands:{{range .Commands}}{{if .IsAvailableCommand}}
  {{rpad .Name .NamePadding}} {{.Short}}{{end}}{{end}}{{end}}{{if and .HasParent .HasAvailableLocalFlags}}

flags:
{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}
`

func (e *env) root(extra []Command) *cobra.Command {
	root := &cobra.Command{
		Use: "pesd", Short: "the pes reconciler daemon and its command line client",
		SilenceErrors: true, SilenceUsage: true,
		Long: rootNote,
		// Without a command, the usage goes where errors go.
		RunE: func(cmd *cobra.Command, args []string) error {
			e.ran = true
			cmd.SetOut(e.stderr)
			_ = cmd.Usage()
			return exitCode(ExitUsage)
		},
	}
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetUsageTemplate(usageTemplate)
	root.SetHelpTemplate("{{.UsageString}}{{with .Long}}\n{{. | trimTrailingWhitespaces}}\n{{end}}")
	for _, x := range extra {
		root.AddCommand(e.raw(x))
	}
	root.AddCommand(
		e.versionCmd(),
		e.groupsCmd(),
		e.triggersCmd(),
		e.nodesCmd(), e.eventsCmd(), e.changesCmd(), e.periodsCmd(), e.explainCmd(),
		e.harmonizeCmd(), e.instructCmd(), e.pushCmd(), e.forecastCmd(), e.historyCmd(), e.costsCmd(),
		e.replicasCmd(), e.whatifCmd(),
	)
	root.AddCommand(e.executionCmds()...)
	root.AddCommand(e.tokensCmd(), e.auditCmd("audit [-o FORMAT]", "the audit record: who created and revoked which token (admin)"))
	e.completionCmd(root)
	return root
}

// completionCmd adapts cobra's "completion" to pesd's usage and exit
// codes: a shell it has no script for is a usage error.
func (e *env) completionCmd(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	cmd, _, err := root.Find([]string{"completion"})
	if err != nil || cmd == root {
		return
	}
	cmd.Short = "print a shell completion script: completion bash|zsh|fish|powershell"
	cmd.RunE = func(_ *cobra.Command, args []string) error {
		e.ran = true
		return usagef("completion: want bash, zsh, fish or powershell, got %q", strings.Join(args, " "))
	}
}

// raw wraps a verb that parses its own flags.
func (e *env) raw(x Command) *cobra.Command {
	return &cobra.Command{Use: x.Name, Short: x.Summary, DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			e.ran = true
			if code := x.Run(args, e.stdout, e.stderr); code != ExitOK {
				return exitCode(code)
			}
			return nil
		}}
}

// exitCode is the exit of a command that has said why already.
type exitCode int

func (c exitCode) Error() string { return "exit " + strconv.Itoa(int(c)) }

// cli is one client command: its cobra command, its writers, and the
// flags every client command shares.
type cli struct {
	*env
	cmd      *cobra.Command
	fs       *pflag.FlagSet
	endpoint string
	token    string
	caCert   string
	output   string
	timeout  time.Duration
	group    string
	// deleted lets --group name a deleted group (deletedFlag).
	deleted bool
}

// Output formats (-o).
var outputs = []string{"table", "wide", "json", "yaml"}

// newCLI prepares a client command: use is its synopsis (its first word
// its name), short the line pesd's usage lists it with. withGroup adds
// the --group flag (a group ID or name).
func (e *env) newCLI(use, short string, withGroup bool) *cli {
	c := &cli{env: e}
	use, long, _ := strings.Cut(use, "\n\n")
	c.cmd = &cobra.Command{Use: use, Short: short, Long: long, DisableFlagsInUseLine: true}
	c.fs = c.cmd.Flags()
	c.fs.SortFlags = false
	endpoint := os.Getenv("PES_ENDPOINT")
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	c.fs.StringVar(&c.endpoint, "endpoint", endpoint, "pesd `URL` (PES_ENDPOINT)")
	c.fs.StringVar(&c.token, "token", "", "API `token` (default: PES_TOKEN)")
	c.fs.StringVar(&c.caCert, "ca-cert", os.Getenv(client.EnvCACert), "CA certificate `file` (or PEM) that signed pesd's https certificate ("+client.EnvCACert+")")
	c.fs.StringVarP(&c.output, "output", "o", "table", "output `format`: table (fits 120 columns, short ids), wide (every column, full ids), json or yaml (the API's objects)")
	c.fs.DurationVar(&c.timeout, "timeout", time.Minute, "give up after this `duration`")
	_ = c.cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(outputs, cobra.ShellCompDirectiveNoFileComp))
	if withGroup {
		c.fs.StringVar(&c.group, "group", "", "group `ID` or name")
		_ = c.cmd.RegisterFlagCompletionFunc("group", c.completeGroups)
	}
	return c
}

// completeGroups offers the names of the groups pesd has, for --group.
func (c *cli) completeGroups(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	if c.token == "" {
		c.token = os.Getenv("PES_TOKEN")
	}
	cl, err := c.client()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	groups, err := cl.ListAllGroups(ctx, client.GroupFilter{IncludeDeleted: c.deleted})
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return mapOf(groups, func(g api.Group) string { return g.Name }), cobra.ShellCompDirectiveNoFileComp
}

// deletedFlag adds --all to a command that reads a group's history, which
// pesd keeps after a delete: with it, --group finds a deleted group by its
// name too.
func (c *cli) deletedFlag() {
	c.fs.BoolVar(&c.deleted, "all", false, "let --group name a deleted group (the one deleted last; its history is kept)")
}

// usageError marks a command-line mistake (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// prepare checks the flags every client command shares, once cobra has
// parsed them.
func (c *cli) prepare() error {
	if !slices.Contains(outputs, c.output) {
		return usagef("-o: must be table, wide, json or yaml, got %q", c.output)
	}
	if c.token == "" {
		c.token = os.Getenv("PES_TOKEN")
	}
	return nil
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
	opts := []client.Option{client.WithUserAgent("pesd-cli")}
	if c.caCert != "" {
		opts = append(opts, client.WithCACert(c.caCert))
	}
	if user := os.Getenv("USER"); user != "" {
		// Groups created and deleted here are recorded as the user's.
		opts = append(opts, client.WithActor(user))
	}
	return client.New(c.endpoint, c.token, opts...)
}

// context ends on Ctrl-C or after --timeout.
func (c *cli) context() (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	return ctx, func() { cancel(); stop() }
}

// exit prints err the way every command does and returns the exit code.
// An API error shows its message, field, code and HTTP status; a 404 is
// exit 3. An error before any command ran is cobra's, about the command
// line (an unknown command or flag, a bad flag value): exit 2.
func (e *env) exit(cmd *cobra.Command, err error) int {
	if err == nil {
		return ExitOK
	}
	var code exitCode
	if errors.As(err, &code) {
		return int(code)
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(e.stderr, "pesd: %s\n", ue.msg)
		return ExitUsage
	}
	if !e.ran {
		fmt.Fprintf(e.stderr, "%s: %v\n", cmd.CommandPath(), err)
		if cmd.HasParent() {
			fmt.Fprintf(e.stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		} else {
			fmt.Fprintln(e.stderr)
			cmd.SetOut(e.stderr)
			_ = cmd.Usage()
		}
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
		fmt.Fprintf(e.stderr, "pesd: error: %s%s%s [%s, HTTP %d]\n", prefix, ae.Message, field, ae.Code, ae.Status)
		if ae.Status == 404 || ae.Code == api.CodeNotFound {
			return ExitNotFound
		}
		return ExitError
	}
	fmt.Fprintf(e.stderr, "pesd: error: %v\n", err)
	return ExitError
}

// run makes c's command run this way: check the shared flags (and
// --group when needGroup), let check read the positional arguments (nil:
// none are taken) before anything is sent, connect, then do. Every client
// command has this shape.
func (c *cli) run(needGroup bool, check func(pos []string) error,
	do func(ctx context.Context, cl *client.Client) error) *cobra.Command {
	c.cmd.RunE = func(_ *cobra.Command, pos []string) error {
		c.ran = true
		if err := c.prepare(); err != nil {
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
	}
	return c.cmd
}

// onGroup runs a command about the group of --group (an ID or a name), as
// most are.
func (c *cli) onGroup(check func(pos []string) error,
	do func(ctx context.Context, cl *client.Client, g api.Group) error) *cobra.Command {
	return c.run(true, check, func(ctx context.Context, cl *client.Client) error {
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
	t, err := api.ParseTimeOrAgo(v, now)
	if err != nil {
		return t, usagef("--%s: %v", flagName, err)
	}
	return t, nil
}

func (e *env) nodesCmd() *cobra.Command {
	c := e.newCLI("nodes --group ID [--all] [-o FORMAT]", "list a group's nodes", true)
	c.fs.BoolVar(&c.deleted, "all", false, "include terminated nodes, and let --group name a deleted group")
	return c.onGroup(nil, func(ctx context.Context, cl *client.Client, g api.Group) error {
		return printList(ctx, c, g, client.NodeFilter{IncludeTerminated: c.deleted}, cl.ListNodes, nodesTable)
	})
}

func (e *env) eventsCmd() *cobra.Command {
	c := e.newCLI("events --group ID [--all] [--since T] [--until T] [--type TYPE] [--effects] [-o FORMAT]", "list a group's events", true)
	w := c.windowFlags("events")
	c.deletedFlag()
	typ := c.fs.String("type", "", "only events of this `type` ("+strings.Join(api.EventTypes(), ", ")+")")
	effects := c.fs.Bool("effects", false, "with each event's effects and explanation (-o json: the details)")
	var f client.EventFilter
	return c.onGroup(w.check(&f.Since, &f.Until), func(ctx context.Context, cl *client.Client, g api.Group) error {
		f.Type = *typ
		if *effects {
			return printList(ctx, c, g, f, cl.ListAllEventsDetailed, func(t *table, ds []api.EventDetail) { detailedEventsTable(t, ds, true) })
		}
		return printList(ctx, c, g, f, cl.ListAllEvents, eventsTable)
	})
}

func (e *env) changesCmd() *cobra.Command {
	c := e.newCLI("changes --group ID [--all] [--since T] [--until T] [--type TYPE] [--caused-by EVENT] [--causes] [-o FORMAT]", "list a group's capacity changes", true)
	w := c.windowFlags("changes started")
	c.deletedFlag()
	typ := c.fs.String("type", "", "only changes of this `type` ("+strings.Join(api.ChangeTypes(), ", ")+")")
	causedBy := c.fs.String("caused-by", "", "only changes caused by this `event` (ID or label such as E4)")
	causes := c.fs.Bool("causes", false, "with each change's causes and explanation (-o json: the details)")
	var f client.ChangeFilter
	return c.onGroup(w.check(&f.Since, &f.Until), func(ctx context.Context, cl *client.Client, g api.Group) error {
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
	if items == nil {
		items = []T{} // -o json: [], not null
	}
	return c.print(items, func(t *table) { fill(t, items) })
}

func (e *env) periodsCmd() *cobra.Command {
	c := e.newCLI("periods --group ID [--all] [-o FORMAT]", "list a group's periods (decision records)", true)
	c.deletedFlag()
	return c.onGroup(nil, func(ctx context.Context, cl *client.Client, g api.Group) error {
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

func (e *env) explainCmd() *cobra.Command {
	c := e.newCLI("explain change|event <ID, short ID or label> [--group ID] [--all] [-o FORMAT]", "explain a change or an event: explain change|event <id or label>", true)
	c.deletedFlag()
	var kind, ref string
	check := func(pos []string) error {
		if len(pos) != 2 || (pos[0] != "change" && pos[0] != "event") {
			return usagef("explain: want 'change <ID or label>' or 'event <ID or label>', got %q", strings.Join(pos, " "))
		}
		kind, ref = pos[0], pos[1]
		return nil
	}
	return c.run(false, check, func(ctx context.Context, cl *client.Client) error {
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

func (e *env) harmonizeCmd() *cobra.Command {
	c := e.newCLI("harmonize --group ID [-o FORMAT]", "end a group's period now and show the decision record", true)
	return c.onGroup(nil, func(ctx context.Context, cl *client.Client, g api.Group) error {
		p, err := cl.Harmonize(ctx, g.ID)
		if err != nil {
			return err
		}
		return c.print(p, func(t *table) { periodRecord(t, p) })
	})
}

// instructCmd is the instruct verb; stdin answers the confirmation of a
// large immediate change when a person is there to answer.
func (e *env) instructCmd() *cobra.Command {
	c := e.newCLI("instruct --group ID (--change-by N | --change-by-percent P | --set-to N) [--immediate [--yes]] [--priority N] [--reason TEXT] [--in-reply-to EVENT]", "send a user instruction (--change-by, --change-by-percent or --set-to)", true)
	changeBy := c.fs.String("change-by", "", "add (or with a minus sign, remove) `N` nodes")
	percent := c.fs.String("change-by-percent", "", "change by `P` percent")
	setTo := c.fs.String("set-to", "", "set the desired quantity to `N`")
	immediate := c.fs.Bool("immediate", false, "act now instead of at the end of the period")
	yes := c.fs.Bool("yes", false, fmt.Sprintf("do not ask before an immediate change of more than %d nodes or %d× the desired quantity", confirmNodes, confirmFactor))
	priority := c.fs.String("priority", "", "request `priority` (default: the instruction default)")
	reason := c.fs.String("reason", "", "why, for the causality record")
	actor := c.fs.String("actor", "", "who gives the instruction (default: your user name)")
	replyTo := c.fs.String("in-reply-to", "", "the notify trigger's firing this answers (its event id or label): the firing becomes a cause of the change")
	var in api.Instruction
	check := func(pos []string) error {
		if err := noArgs(pos); err != nil {
			return err
		}
		in = api.Instruction{Immediate: *immediate, Reason: *reason, Actor: *actor, InReplyTo: *replyTo}
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
	return c.onGroup(check, func(ctx context.Context, cl *client.Client, g api.Group) error {
		if q := largeChange(g, in); q != "" && !*yes {
			if err := c.confirm("instruct", q); err != nil {
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

// confirm asks a person at the terminal about change, which verb is to
// make; without a terminal nobody can answer, so it refuses and says how
// to go ahead.
func (e *env) confirm(verb, change string) error {
	if !e.terminal {
		return usagef("%s: %s; stdin is not a terminal to confirm it, so pass --yes to go ahead", verb, change)
	}
	fmt.Fprintf(e.stderr, "pesd: %s. Go ahead? [y/N] ", change)
	answer, _ := bufio.NewReader(e.stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return errors.New("not confirmed; nothing was sent")
}

func (e *env) pushCmd() *cobra.Command {
	c := e.newCLI("push --group ID [--node NODE] name=value...", "push metric samples: push --group ID name=value...", true)
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
	return c.onGroup(check, func(ctx context.Context, cl *client.Client, g api.Group) error {
		r, err := cl.PushMetrics(ctx, g.ID, samples)
		if err != nil {
			return err
		}
		return c.print(r, func(t *table) { t.line("accepted %d sample(s) for group %s", r.Accepted, g.Name) })
	})
}

func (e *env) forecastCmd() *cobra.Command {
	c := e.newCLI("forecast --group ID [-o FORMAT]", "show a group's forecast of authorized quantities", true)
	return c.onGroup(nil, func(ctx context.Context, cl *client.Client, g api.Group) error {
		f, err := cl.Forecast(ctx, g.ID)
		if err != nil {
			return err
		}
		return c.print(f, func(t *table) { forecastTable(t, f) })
	})
}
