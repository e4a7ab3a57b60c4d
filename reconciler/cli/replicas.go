package cli

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
)

func (e *env) replicasCmd() *cobra.Command {
	c := e.newCLI("replicas [-o FORMAT]", "list the pesd replicas sharing the database and the leases each holds", false)
	return c.run(false, noArgs, func(ctx context.Context, cl *client.Client) error {
		l, err := cl.Replicas(ctx)
		if err != nil {
			return err
		}
		return c.print(l, func(t *table) { replicasTable(t, l) })
	})
}

// replicasTable lists the replicas sharing the database with their
// leases: the shards each owns, and when its leases expire.
func replicasTable(t *table, l api.ReplicaList) {
	t.row("REPLICA", "ADDRESS", "LIVE", "SHARDS", "GENERATIONS", "LEASES EXPIRE", "SEEN")
	for _, r := range l.Replicas {
		id := orDash(r.ID)
		if r.Self {
			id += " (this)"
		}
		var shards, gens []string
		expires := "-"
		for _, ls := range r.Leases {
			s := strconv.Itoa(ls.Shard)
			if ls.Shard < 0 {
				s = "home"
			}
			shards = append(shards, s)
			gens = append(gens, strconv.FormatInt(ls.Generation, 10))
			if e := ts(ls.ExpiresAt); expires == "-" || e < expires {
				expires = e
			}
		}
		live := "no"
		if r.Live {
			live = "yes"
		}
		t.row(id, orDash(r.Address), live, orDash(strings.Join(shards, ",")), orDash(strings.Join(gens, ",")), expires, ts(r.SeenAt))
	}
	if l.Shards > 0 {
		unowned := "none"
		if len(l.Unowned) > 0 {
			unowned = strings.Join(mapOf(slices.Clone(l.Unowned), strconv.Itoa), ",")
		}
		t.line("%d shards, leases of %s; unowned: %s", l.Shards, l.LeaseTTL, unowned)
	}
}
