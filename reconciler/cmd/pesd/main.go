// Command pesd is the pes reconciler daemon (`pesd serve`) and a command
// line client of its API for people and pipelines (`pesd changes`, `pesd
// explain change C7 --group ID`, ...). See SPEC §4 "pesd command line".
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the command failed (an API error, a daemon that cannot start)
	exitUsage = 2 // the command line is wrong
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"serve", "run the daemon", serve},
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
	}
}

// run is pesd's whole behaviour: tests call it with their own writers.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "pesd: unknown command %q\n\n", name)
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("usage: pesd <command> [flags]\n\ncommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-10s %s\n", c.name, c.summary)
	}
	b.WriteString("\nClient commands take --endpoint (PES_ENDPOINT, default " + defaultEndpoint + "),\n" +
		"--token (PES_TOKEN) and -o table|json. Run 'pesd <command> -h' for its flags.\n")
	io.WriteString(w, b.String())
}
