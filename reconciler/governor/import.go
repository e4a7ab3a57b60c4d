package governor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/forecast"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// MaxImportBytes bounds an imported history: a year of one point a minute
// in CSV is about 16 MiB.
const MaxImportBytes = 32 << 20

// maxImportQuantity bounds an imported quantity, far above any group's
// max_quantity, so a typo cannot overflow an int.
const maxImportQuantity = 1 << 31

// ImportHistory reads a quantity history exported from elsewhere (CSV
// lines time,desired[,actual] or a JSON array; see forecast.ParseHistory)
// and records it as groupID's history, so a new group can be governed from
// another group's past instead of waiting for its own. It returns how many
// points it recorded.
//
// Only points before the group's own history are recorded: before its
// creation and before its oldest recorded quantity. So an import never
// mixes with what the group lived through, and importing the same file
// twice records it once. Quantities are rounded to whole nodes; a
// recorded point's actual quantity is its desired one, since the file's
// actual column is not kept and governing reads only desired.
//
// Errors are *api.Error for bad input (field "history", naming the line
// and column), wrap store.ErrNotFound for an unknown group, and are
// *api.Error conflict for a deleted group.
func ImportHistory(ctx context.Context, st store.Store, groupID string, r io.Reader) (int, error) {
	lr := &limitedReader{r: r, n: MaxImportBytes}
	points, err := forecast.ParseHistory(lr)
	var pe *forecast.ParseError
	switch {
	case lr.err != nil && errors.Is(lr.err, errTooLarge):
		return 0, &api.Error{Code: api.CodeTooLarge, Status: http.StatusRequestEntityTooLarge, Field: "history",
			Message: fmt.Sprintf("history is larger than %d MiB; downsample it (one point a minute is plenty)", MaxImportBytes>>20)}
	case lr.err != nil:
		return 0, fmt.Errorf("import history of group %s: %w", groupID, err)
	case errors.As(err, &pe):
		where := fmt.Sprintf("line %d, column %d", pe.Line, pe.Column)
		if pe.Field != "" {
			where += " (" + pe.Field + ")"
		}
		return 0, api.Invalid("history", "%s: %s", where, pe.Msg)
	case err != nil:
		return 0, api.Invalid("history", "%v", err)
	}
	rows := make([]store.QuantityPoint, 0, len(points))
	for _, p := range points {
		if p.Value >= maxImportQuantity {
			return 0, api.Invalid("history", "desired %g at %s is not a node count", p.Value, p.Time.Format(time.RFC3339))
		}
		q := int(math.Round(p.Value))
		rows = append(rows, store.QuantityPoint{Time: p.Time.UTC(), Desired: q, Actual: q})
	}

	var n int
	err = st.Update(ctx, func(tx store.Tx) error {
		g, err := tx.GetGroup(ctx, groupID)
		if err != nil {
			return fmt.Errorf("import history: group %s: %w", groupID, err)
		}
		if g.Status == api.GroupDeleted {
			return &api.Error{Code: api.CodeConflict, Status: http.StatusConflict,
				Message: fmt.Sprintf("group %s is deleted; import history into a live group", groupID)}
		}
		own, err := tx.QuantityHistory(ctx, groupID, time.Time{})
		if err != nil {
			return fmt.Errorf("import history: history of group %s: %w", groupID, err)
		}
		start := g.CreatedAt
		if len(own) > 0 && (start.IsZero() || own[0].Time.Before(start)) {
			start = own[0].Time
		}
		keep := rows
		if !start.IsZero() {
			// rows are in time order: keep the prefix before start.
			i := 0
			for i < len(rows) && rows[i].Time.Before(start) {
				i++
			}
			keep = rows[:i]
		}
		if len(keep) == 0 {
			return nil
		}
		if err := tx.InsertQuantityPoints(groupID, keep); err != nil {
			return fmt.Errorf("import history into group %s: %w", groupID, err)
		}
		n = len(keep)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

var errTooLarge = errors.New("history too large")

// limitedReader fails with errTooLarge past n bytes (io.LimitReader would
// end quietly, and a cut history would parse as a shorter one), and
// remembers a read error so it is not mistaken for bad input.
type limitedReader struct {
	r   io.Reader
	n   int64
	err error
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n < 0 {
		l.err = errTooLarge
		return 0, l.err
	}
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	k, err := l.r.Read(p)
	l.n -= int64(k)
	if l.n < 0 {
		l.err = errTooLarge
		return k, l.err
	}
	if err != nil && err != io.EOF {
		l.err = err
	}
	return k, err
}
