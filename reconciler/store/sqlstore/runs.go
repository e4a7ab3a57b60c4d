package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// Runs are JSON documents (api.Run) beside the columns queries filter on,
// as executions are.

var scanRun = scanDoc[api.Run]("run")

func (r reader) ListRuns(ctx context.Context, tenant, programType string, p store.Page) ([]api.Run, string, error) {
	conds, args := runsOf(tenant, programType)
	k := keyset[api.Run]{
		what: "runs", from: `SELECT id, doc FROM runs`, timeCol: "ended_at", scan: scanRun,
		conds: conds, args: args,
		key: func(x api.Run) cursor { return cursor{FormatTime(x.EndedAt), x.ID} },
	}
	return k.page(ctx, r.q, p)
}

// runsOf is the condition of a program type's runs of tenant (every
// tenant's when empty).
func runsOf(tenant, programType string) ([]string, []any) {
	conds, args := []string{"program_type = ?"}, []any{programType}
	if tenant != "" {
		conds, args = append(conds, "tenant = ?"), append(args, tenant)
	}
	return conds, args
}

func (r reader) RecentRuns(ctx context.Context, tenant, programType string, n int) ([]api.Run, error) {
	conds, args := runsOf(tenant, programType)
	runs, err := queryAll(ctx, r.q, "runs of "+programType,
		`SELECT id, doc FROM runs WHERE `+strings.Join(conds, " AND ")+` ORDER BY ended_at DESC, id DESC LIMIT ?`,
		scanRun, append(args, n)...)
	if err != nil {
		return nil, err
	}
	slices.Reverse(runs)
	return runs, nil
}

func (t *tx) InsertRun(tenant string, r api.Run) (bool, error) {
	if tenant == "" || r.ID == "" || r.Label == "" || r.ProgramType == "" {
		return false, fmt.Errorf("insert run: empty tenant, id, label or program type")
	}
	doc, err := encodeDoc("run "+r.ID, r)
	if err != nil {
		return false, err
	}
	var exec any
	if r.ExecutionID != "" {
		exec = r.ExecutionID
	}
	res, err := t.exec("insert run "+strconv.Quote(r.Label)+" of "+strconv.Quote(r.ProgramType),
		`INSERT INTO runs (id, tenant, program_type, label, execution_id, ended_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, r.ID, tenant, r.ProgramType, r.Label, exec, FormatTime(r.EndedAt), doc)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("insert run %s: %w", r.ID, err)
	}
	return n == 1, nil
}
