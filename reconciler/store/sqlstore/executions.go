package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// Executions and jobs are JSON documents (the wire types) beside the
// columns queries filter on: they are read and written whole, and a new
// field of the wire type needs no migration.

const executionCols = `id, doc FROM executions`

var scanExecutionDoc = scanDoc[api.Execution]("execution")

func scanExecution(sc scanner) (api.Execution, error) {
	x, err := scanExecutionDoc(sc)
	x.Jobs = nil
	return x, err
}

func (r reader) GetExecution(ctx context.Context, id string) (api.Execution, error) {
	return getOne(ctx, r.q, "execution", id, `SELECT `+executionCols+` WHERE id = ?`, scanExecution, id)
}

func (r reader) GetExecutionByLabel(ctx context.Context, label string) (api.Execution, error) {
	return getOne(ctx, r.q, "execution", label, `SELECT `+executionCols+` WHERE label = ?`, scanExecution, label)
}

func (r reader) ListExecutions(ctx context.Context, f store.ExecutionFilter) ([]api.Execution, string, error) {
	k := keyset[api.Execution]{
		what: "executions", from: `SELECT ` + executionCols, timeCol: "created_at",
		scan: scanExecution,
		key:  func(x api.Execution) cursor { return cursor{FormatTime(x.CreatedAt), x.ID} },
	}
	if f.GroupID != "" {
		k.conds, k.args = append(k.conds, "group_id = ?"), append(k.args, f.GroupID)
	}
	if f.Status != "" {
		k.conds, k.args = append(k.conds, "status = ?"), append(k.args, f.Status)
	}
	if f.Tenant != "" {
		k.conds, k.args = append(k.conds, "group_id IN (SELECT id FROM groups WHERE tenant = ?)"), append(k.args, f.Tenant)
	}
	if f.Active {
		k.conds = append(k.conds, `status NOT IN ('completed', 'completed_with_errors', 'failed', 'cancelled')`)
	}
	return k.page(ctx, r.q, f.Page)
}

func scanJob(sc scanner) (api.Job, error) {
	var (
		j   api.Job
		doc string
	)
	if err := sc.Scan(&doc); err != nil {
		return j, err
	}
	if err := json.Unmarshal([]byte(doc), &j); err != nil {
		return j, fmt.Errorf("decode job: %w", err)
	}
	return j, nil
}

func (r reader) ListJobs(ctx context.Context, executionID string) ([]api.Job, error) {
	return queryAll(ctx, r.q, "jobs of execution "+executionID,
		`SELECT doc FROM execution_jobs WHERE execution_id = ? ORDER BY idx`, scanJob, executionID)
}

func (t *tx) NextExecutionLabel() (string, error) {
	var n int64
	err := t.q.QueryRowContext(t.ctx, `INSERT INTO execution_labels (id, last) VALUES (1, 1)
		ON CONFLICT (id) DO UPDATE SET last = execution_labels.last + 1 RETURNING last`).Scan(&n)
	if err != nil {
		return "", t.d.mapErr("next execution label", err)
	}
	return "X" + strconv.FormatInt(n, 10), nil
}

func executionDoc(x api.Execution) (string, error) {
	x.Jobs = nil // jobs have their own rows
	return encodeDoc("execution "+x.ID, x)
}

func (t *tx) InsertExecution(x api.Execution) error {
	if x.ID == "" || x.Label == "" {
		return fmt.Errorf("insert execution: empty id or label")
	}
	doc, err := executionDoc(x)
	if err != nil {
		return err
	}
	_, err = t.exec("insert execution "+strconv.Quote(x.ID),
		`INSERT INTO executions (id, label, group_id, status, created_at, doc) VALUES (?, ?, ?, ?, ?, ?)`,
		x.ID, x.Label, x.GroupID, x.Status, FormatTime(x.CreatedAt), doc)
	return err
}

func (t *tx) UpdateExecution(x api.Execution) error {
	doc, err := executionDoc(x)
	if err != nil {
		return err
	}
	return t.update("execution", x.ID, `UPDATE executions SET status = ?, doc = ? WHERE id = ?`, x.Status, doc, x.ID)
}

func (t *tx) PutJobs(executionID string, jobs []api.Job) error {
	for _, j := range jobs {
		if j.ExecutionID != executionID {
			return fmt.Errorf("put job %d: belongs to execution %q, not %q", j.Index, j.ExecutionID, executionID)
		}
		doc, err := encodeDoc("job "+strconv.Itoa(j.Index)+" of execution "+executionID, j)
		if err != nil {
			return err
		}
		if _, err := t.exec("put job "+strconv.Itoa(j.Index)+" of execution "+strconv.Quote(executionID),
			`INSERT INTO execution_jobs (execution_id, idx, status, doc) VALUES (?, ?, ?, ?)
			ON CONFLICT (execution_id, idx) DO UPDATE SET status = excluded.status, doc = excluded.doc`,
			executionID, j.Index, j.Status, doc); err != nil {
			return err
		}
	}
	return nil
}
