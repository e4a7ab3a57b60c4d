package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
)

// groupsCmd is "pesd groups": alone it lists the groups, as "groups list"
// does; create, get and delete handle one.
func (e *env) groupsCmd() *cobra.Command {
	cmd := e.groupsList("groups [--all] [-o FORMAT]", "list groups; create, get or delete one")
	cmd.AddCommand(e.groupsList("list [--all] [-o FORMAT]", "list groups"),
		e.groupsCreate(), e.groupsGet(), e.groupsDelete())
	return cmd
}

func (e *env) groupsList(use, short string) *cobra.Command {
	c := e.newCLI(use, short, false)
	all := c.fs.Bool("all", false, "include deleted groups")
	return c.run(false, nil, func(ctx context.Context, cl *client.Client) error {
		groups, err := cl.ListAllGroups(ctx, client.GroupFilter{IncludeDeleted: *all})
		if err != nil {
			return err
		}
		return c.print(groups, func(t *table) { groupsTable(t, groups) })
	})
}

func (e *env) groupsCreate() *cobra.Command {
	c := e.newCLI("create -f FILE [-o FORMAT]\n\n"+
		"FILE holds one group as POST /v1/groups takes it, in JSON or YAML (the same field\n"+
		"names); - reads standard input. The group is created by $USER.", "create a group from a JSON or YAML file", false)
	var cfg api.GroupConfig
	return c.run(false, c.fileFlag("group", &cfg), func(ctx context.Context, cl *client.Client) error {
		g, err := cl.CreateGroup(ctx, cfg)
		if err != nil {
			return err
		}
		return c.print(g, func(t *table) { groupsTable(t, []api.Group{g}) })
	})
}

func (e *env) groupsGet() *cobra.Command {
	c := e.newCLI("get NAME|ID [--all] [-o FORMAT]", "show one group (-o yaml: all of it)", false)
	c.deletedFlag()
	var ref string
	c.cmd.ValidArgsFunction = c.completeGroupArg
	return c.run(false, oneArg("group", "its name or ID", &ref), func(ctx context.Context, cl *client.Client) error {
		g, err := cl.FindGroup(ctx, ref, c.deleted)
		if err != nil {
			return err
		}
		return c.print(g, func(t *table) { groupsTable(t, []api.Group{g}) })
	})
}

func (e *env) groupsDelete() *cobra.Command {
	c := e.newCLI("delete NAME|ID [--yes] [-o FORMAT]\n\n"+
		"Its nodes are terminated; its history is kept (pesd groups --all). pesd asks first\n"+
		"unless --yes; without a terminal to ask at, it refuses without --yes.", "delete a group (asks first; --yes does not)", false)
	yes := c.fs.Bool("yes", false, "do not ask before deleting")
	var ref string
	c.cmd.ValidArgsFunction = c.completeGroupArg
	return c.run(false, oneArg("group", "its name or ID", &ref), func(ctx context.Context, cl *client.Client) error {
		g, err := cl.FindGroup(ctx, ref, false)
		if err != nil {
			return err
		}
		if !*yes {
			q := fmt.Sprintf("this deletes group %s and terminates its %d node(s); its history is kept", g.Name, g.ActualQuantity)
			if err := c.confirm("groups delete", q); err != nil {
				return err
			}
		}
		if err := cl.DeleteGroup(ctx, g.ID); err != nil {
			return err
		}
		// The group as pesd keeps it now: status deleted, deleted_at.
		d, err := cl.FindGroup(ctx, g.ID, true)
		if err != nil {
			return err
		}
		return c.print(d, func(t *table) {
			t.line("group %s deleted; its history is kept under id %s (pesd groups --all)", g.Name, g.ID)
		})
	})
}

// completeGroupArg offers group names for a command's one argument.
func (c *cli) completeGroupArg(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return c.completeGroups(cmd, args, toComplete)
}

// oneArg is the check of a command that takes one thing (noun), named as
// what says.
func oneArg(noun, what string, ref *string) func(pos []string) error {
	return func(pos []string) error {
		if len(pos) != 1 {
			return usagef("want one %s (%s), got %d argument(s)", noun, what, len(pos))
		}
		*ref = pos[0]
		return nil
	}
}

// fileFlag adds -f FILE to c and returns the check that reads it into v
// before anything is sent: the object (noun) in JSON or YAML, - for
// standard input. An unknown field is an error naming it, as pesd would
// otherwise drop it silently.
func (c *cli) fileFlag(noun string, v any) func(pos []string) error {
	path := c.fs.StringP("filename", "f", "", "`file` of the "+noun+", JSON or YAML (-: standard input)")
	_ = c.cmd.MarkFlagFilename("filename", "json", "yaml", "yml")
	return func(pos []string) error {
		if err := noArgs(pos); err != nil {
			return err
		}
		if *path == "" {
			return usagef("-f: required: the file of the %s, JSON or YAML (- for standard input)", noun)
		}
		b, err := c.readInput(*path)
		if err != nil {
			return err
		}
		if err := decodeObject(b, v); err != nil {
			return fmt.Errorf("%s: %w", *path, err)
		}
		return nil
	}
}

// readInput reads the file at path, or standard input for -.
func (c *cli) readInput(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(c.stdin)
	}
	return os.ReadFile(path)
}

// decodeObject reads one JSON or YAML object into v, strictly.
func decodeObject(b []byte, v any) error {
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		return err
	}
	if bytes.Equal(bytes.TrimSpace(j), []byte("null")) {
		return fmt.Errorf("empty: want an object")
	}
	return strictJSON(j, v)
}
