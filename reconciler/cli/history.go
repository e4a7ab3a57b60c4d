package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
)

// cliHistory is "pesd history import --group ID FILE": a quantity history
// exported from elsewhere becomes the group's past, so predictive
// governing works before the group has min_history of its own.
func (e *env) historyCmd() *cobra.Command {
	c := e.newCLI("history import --group ID FILE|- [-o FORMAT]\n\n"+
		"FILE holds CSV lines time,desired[,actual] (RFC 3339 times; a header line and # comments\n"+
		"are allowed) or a JSON array of {\"time\", \"desired\", \"actual\"}; - reads standard input.\n"+
		"Only points older than the group's own history are recorded.", "import a quantity history for predictive governing: history import --group ID FILE", true)
	var path string
	check := func(pos []string) error {
		if len(pos) != 2 || pos[0] != "import" {
			return usagef("history: want 'import FILE' (or - for standard input), got %q", pos)
		}
		path = pos[1]
		return nil
	}
	return c.onGroup(check, func(ctx context.Context, cl *client.Client, g api.Group) error {
		var r = c.stdin
		if path != "-" {
			f, err := os.Open(path)
			if err != nil {
				return fmt.Errorf("history: %w", err)
			}
			defer f.Close()
			r = f
		}
		n, err := cl.ImportHistory(ctx, g.ID, r)
		if err != nil {
			return fmt.Errorf("import %s: %w", path, err)
		}
		res := api.HistoryImport{Imported: n}
		return c.print(res, func(t *table) {
			t.line("imported %d point(s) of history into group %s", n, g.Name)
			if n == 0 {
				t.line("(none was older than the group's own history)")
			}
		})
	})
}
