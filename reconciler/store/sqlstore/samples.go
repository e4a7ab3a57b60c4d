package sqlstore

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// Metric samples are stored one row per series (name, node) of each
// InsertSamples call, in sample_batches: a push of 10,000 samples is a
// few dozen rows instead of 10,000. A row's data packs its samples in the
// order they were given, each as
//
//	uvarint  position in the call (ties in time keep insertion order)
//	varint   time in Unix nanoseconds, minus the previous sample's (the
//	         first: minus zero)
//	8 bytes  value, IEEE 754 bits, little-endian
//
// Rows of the older samples table (one sample a row) are still read until
// retention drops them.

// series is one row of sample_batches being built or read.
type series struct {
	name, node  string
	first, last time.Time
	data        []byte
}

// packSamples groups s by series, in order of first appearance.
func packSamples(s []store.StoredSample) ([]*series, error) {
	type key struct{ name, node string }
	byKey := make(map[key]*series)
	var out []*series
	var prev = make(map[*series]int64)
	for i, x := range s {
		if math.IsNaN(x.Value) {
			return nil, fmt.Errorf("%s at %s: value is NaN", x.Name, FormatTime(x.Time))
		}
		k := key{x.Name, x.NodeID}
		sr := byKey[k]
		if sr == nil {
			sr = &series{name: x.Name, node: x.NodeID, first: x.Time, last: x.Time}
			byKey[k] = sr
			out = append(out, sr)
		}
		if x.Time.Before(sr.first) {
			sr.first = x.Time
		}
		if x.Time.After(sr.last) {
			sr.last = x.Time
		}
		ns := x.Time.UnixNano()
		sr.data = appendPacked(sr.data, i, ns-prev[sr], x.Value)
		prev[sr] = ns
	}
	return out, nil
}

// appendPacked appends one sample to a row's data: its position in the
// call, its time less the previous sample's (nanoseconds) and its value.
func appendPacked(data []byte, pos int, dt int64, v float64) []byte {
	data = binary.AppendUvarint(data, uint64(pos))
	data = binary.AppendVarint(data, dt)
	return binary.LittleEndian.AppendUint64(data, math.Float64bits(v))
}

// packed is one sample read back from a row, with what orders it.
type packed struct {
	s        store.StoredSample
	row, pos int
}

var errPacked = errors.New("packed samples are truncated")

// unpack appends the samples of a row at or after since to out.
func unpack(out []packed, row int, name, node string, data []byte, since time.Time) ([]packed, error) {
	var ns int64
	for len(data) > 0 {
		pos, n := binary.Uvarint(data)
		if n <= 0 {
			return out, errPacked
		}
		data = data[n:]
		d, n := binary.Varint(data)
		if n <= 0 || len(data) < n+8 {
			return out, errPacked
		}
		ns += d
		v := math.Float64frombits(binary.LittleEndian.Uint64(data[n:]))
		data = data[n+8:]
		t := time.Unix(0, ns).UTC()
		if t.Before(since) {
			continue
		}
		out = append(out, packed{store.StoredSample{Name: name, NodeID: node, Time: t, Value: v}, row, int(pos)})
	}
	return out, nil
}

// repack returns a row's data without its samples before t.
func repack(data []byte, t time.Time) ([]byte, time.Time, error) {
	kept, err := unpack(nil, 0, "", "", data, t)
	if err != nil {
		return nil, time.Time{}, err
	}
	var out []byte
	var prev int64
	first := time.Time{}
	for _, p := range kept {
		ns := p.s.Time.UnixNano()
		out = appendPacked(out, p.pos, ns-prev, p.s.Value)
		prev = ns
		if first.IsZero() || p.s.Time.Before(first) {
			first = p.s.Time
		}
	}
	return out, first, nil
}

func (t *tx) InsertSamples(groupID string, s []store.StoredSample) error {
	what := "insert samples for group " + strconv.Quote(groupID)
	rows, err := packSamples(s)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	for _, sr := range rows {
		if _, err := t.exec(what, `INSERT INTO sample_batches (group_id, name, node_id, first_time, last_time, data)
			VALUES (?,?,?,?,?,?)`, groupID, sr.name, sr.node, FormatTime(sr.first), FormatTime(sr.last), sr.data); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) DeleteSamplesBefore(groupID string, before time.Time) error {
	what := "delete samples of group " + strconv.Quote(groupID)
	tm := FormatTime(before)
	if _, err := t.exec(what, `DELETE FROM samples WHERE group_id = ? AND time < ?`, groupID, tm); err != nil {
		return err
	}
	if _, err := t.exec(what, `DELETE FROM sample_batches WHERE group_id = ? AND last_time < ?`, groupID, tm); err != nil {
		return err
	}
	// Rows holding samples on both sides of the cut keep the later ones.
	type cut struct {
		id   int64
		data []byte
	}
	rows, err := t.q.QueryContext(t.ctx, `SELECT `+t.d.InsertOrder+`, data FROM sample_batches
		WHERE group_id = ? AND first_time < ? AND last_time >= ?`, groupID, tm, tm)
	if err != nil {
		return t.d.mapErr(what, err)
	}
	var cuts []cut
	for rows.Next() {
		var c cut
		if err := rows.Scan(&c.id, &c.data); err != nil {
			rows.Close()
			return fmt.Errorf("%s: %w", what, err)
		}
		cuts = append(cuts, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return t.d.mapErr(what, err)
	}
	for _, c := range cuts {
		data, first, err := repack(c.data, before)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if _, err := t.exec(what, `UPDATE sample_batches SET data = ?, first_time = ? WHERE `+t.d.InsertOrder+` = ?`,
			data, FormatTime(first), c.id); err != nil {
			return err
		}
	}
	return nil
}

// Samples returns the group's samples since t in time order; ties keep
// the order of insertion.
func (r reader) Samples(ctx context.Context, groupID string, since time.Time) ([]store.StoredSample, error) {
	old, err := queryAll(ctx, r.q, "samples", r.sql.samples, scanSample, groupID, FormatTime(since))
	if err != nil {
		return nil, err
	}
	rows, err := r.q.QueryContext(ctx, `SELECT name, node_id, data FROM sample_batches
		WHERE group_id = ? AND last_time >= ? ORDER BY `+r.d.InsertOrder, groupID, FormatTime(since))
	if err != nil {
		return nil, fmt.Errorf("list samples: %w", err)
	}
	defer rows.Close()
	var ps []packed
	for row := 0; rows.Next(); row++ {
		var name, node string
		var data []byte
		if err := rows.Scan(&name, &node, &data); err != nil {
			return nil, fmt.Errorf("list samples: %w", err)
		}
		if ps, err = unpack(ps, row, name, node, data, since); err != nil {
			return nil, fmt.Errorf("list samples of group %q: %w", groupID, err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list samples: %w", err)
	}
	// Old rows were inserted first, so they go first among equal times.
	slices.SortStableFunc(ps, func(a, b packed) int {
		return cmp.Or(a.s.Time.Compare(b.s.Time), cmp.Compare(a.row, b.row), cmp.Compare(a.pos, b.pos))
	})
	out := old
	for _, p := range ps {
		out = append(out, p.s)
	}
	slices.SortStableFunc(out, func(a, b store.StoredSample) int { return a.Time.Compare(b.Time) })
	return out, nil
}
