// Command pesd is the pes reconciler daemon (`pesd serve`) and a command
// line client of its API for people and pipelines (`pesd changes`, `pesd
// explain change C7 --group ID`, ...). See SPEC §4 "pesd command line".
// The command line lives in reconciler/cli; this package adds the daemon
// to it.
package main

import (
	"io"
	"os"

	"github.com/pes-project/terraform-provider-pes/reconciler/cli"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is pesd's whole behaviour: tests call it with their own writers.
func run(args []string, stdout, stderr io.Writer) int {
	return cli.Main(args, stdout, stderr, cli.Command{Name: "serve", Summary: "run the daemon", Run: serve})
}
