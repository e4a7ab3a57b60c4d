package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pes-project/terraform-provider-pes/reconciler/buildinfo"
)

// versionCmd prints which build this is; it needs no pesd to talk to.
func (e *env) versionCmd() *cobra.Command {
	return &cobra.Command{Use: "version", Short: "print the version, the commit and the Go version",
		RunE: func(_ *cobra.Command, args []string) error {
			e.ran = true
			if len(args) > 0 {
				return usagef("version: takes no arguments, got %q", args[0])
			}
			i := buildinfo.Get()
			_, err := fmt.Fprintf(e.stdout, "pesd %s\ncommit %s\n%s %s\n", i.Version, i.Commit, i.GoVersion, i.Platform)
			return err
		}}
}
