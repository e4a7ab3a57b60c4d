// Command pesd is the pes reconciler daemon (`pesd serve`) and a command
// line client of its API for people and pipelines (`pesd changes`, `pesd
// explain change C7 --group ID`, ...). See SPEC §4 "pesd command line".
// The client verbs live in reconciler/cli; this package picks the verb
// and runs the daemon.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pes-project/terraform-provider-pes/reconciler/buildinfo"
	"github.com/pes-project/terraform-provider-pes/reconciler/cli"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func commands() []cli.Command {
	return append([]cli.Command{
		{Name: "serve", Summary: "run the daemon", Run: serve},
		{Name: "version", Summary: "print the version, the commit and the Go version", Run: printVersion},
	}, cli.Commands()...)
}

// run is pesd's whole behaviour: tests call it with their own writers.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return cli.ExitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return cli.ExitOK
	case "-version", "--version":
		return printVersion(args[1:], stdout, stderr)
	}
	for _, c := range commands() {
		if c.Name == name {
			return c.Run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "pesd: unknown command %q\n\n", name)
	usage(stderr)
	return cli.ExitUsage
}

// printVersion prints which build this is.
func printVersion(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "pesd version: takes no arguments, got %q\n", args[0])
		return cli.ExitUsage
	}
	i := buildinfo.Get()
	fmt.Fprintf(stdout, "pesd %s\ncommit %s\n%s %s\n", i.Version, i.Commit, i.GoVersion, i.Platform)
	return cli.ExitOK
}

func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("usage: pesd <command> [flags]\n\ncommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-10s %s\n", c.Name, c.Summary)
	}
	b.WriteString("\nClient commands take --endpoint (PES_ENDPOINT, default " + cli.DefaultEndpoint + "),\n" +
		"--token (PES_TOKEN) and -o table|json. Run 'pesd <command> -h' for its flags.\n")
	io.WriteString(w, b.String())
}
