package forecast

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Downsample reduces points to one per step-long bucket (aligned to
// multiples of step since the Unix epoch, stamped with the bucket's
// start), keeping each bucket's maximum. The maximum, not the mean,
// because the forecast authorizes capacity: a mean would hide the short
// peaks the group did need, and the upper bound learnt from it would then
// clamp a trigger asking for them again. The price is a slightly higher
// lower bound, which costs nodes, not availability. The result is in time
// order; a step <= 0 returns the points sorted, unreduced.
func Downsample(points []Point, step time.Duration) []Point {
	sorted := slices.Clone(points)
	slices.SortStableFunc(sorted, func(a, b Point) int { return a.Time.Compare(b.Time) })
	if step <= 0 {
		return sorted
	}
	s := int64(step)
	var out []Point
	for i := 0; i < len(sorted); {
		start := floorDiv(sorted[i].Time.UnixNano(), s) * s
		peak := sorted[i].Value
		j := i + 1
		for ; j < len(sorted) && sorted[j].Time.UnixNano() < start+s; j++ {
			peak = max(peak, sorted[j].Value)
		}
		out = append(out, Point{Time: time.Unix(0, start).UTC(), Value: peak})
		i = j
	}
	return out
}

// ParseError locates a problem in a history file. Line and Column are
// 1-based; Column counts bytes, as editors and encoding/csv do.
type ParseError struct {
	Line, Column int
	Field        string // time, desired or actual, when known
	Msg          string
}

func (e *ParseError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("history line %d, column %d (%s): %s", e.Line, e.Column, e.Field, e.Msg)
	}
	return fmt.Sprintf("history line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

const historyFormats = `CSV lines "time,desired[,actual]" or a JSON array of {"time": ..., "desired": ...}`

// ParseHistory reads an exported quantity history, so a new group can
// start from another group's past: CSV lines time,desired[,actual] (an
// optional header line naming those columns, # comments) or a JSON array
// of {"time", "desired", "actual"?} objects. Times are RFC 3339;
// quantities are numbers >= 0. The points carry the desired quantity, the
// one governing acts on; actual is checked and dropped. The points are
// returned in time order. Errors are *ParseError naming the line and
// column. The whole input is read, so callers bound it (io.LimitReader).
func ParseHistory(r io.Reader) ([]Point, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF")) // spreadsheets write a BOM
	var points []Point
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		points, err = parseJSONHistory(data)
	} else {
		points, err = parseCSVHistory(data)
	}
	if err != nil {
		return nil, err
	}
	if len(points) == 0 {
		return nil, fmt.Errorf("history has no points; want %s", historyFormats)
	}
	slices.SortStableFunc(points, func(a, b Point) int { return a.Time.Compare(b.Time) })
	return points, nil
}

var historyColumns = []string{"time", "desired", "actual"}

func parseCSVHistory(data []byte) ([]Point, error) {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.Comment = '#'
	var points []Point
	first := true // the record that may be a header
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return points, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, &ParseError{Line: pe.Line, Column: pe.Column, Msg: pe.Err.Error()}
			}
			return nil, fmt.Errorf("read history: %w", err)
		}
		line, col := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line of spaces
		}
		if len(rec) < 2 || len(rec) > 3 {
			return nil, &ParseError{Line: line, Column: col, Msg: fmt.Sprintf("want 2 or 3 fields (time,desired[,actual]); got %d", len(rec))}
		}
		header := first && strings.EqualFold(strings.TrimSpace(rec[0]), "time")
		first = false
		if header {
			for i, name := range rec {
				if !strings.EqualFold(strings.TrimSpace(name), historyColumns[i]) {
					line, col := cr.FieldPos(i)
					return nil, &ParseError{Line: line, Column: col, Msg: fmt.Sprintf("header column %d must be %q; got %q", i+1, historyColumns[i], name)}
				}
			}
			continue
		}
		var p Point
		for i, f := range rec {
			f = strings.TrimSpace(f)
			var msg string
			if i == 0 {
				p.Time, msg = parseTime(f)
			} else {
				var v float64
				v, msg = parseQuantity(f)
				if i == 1 {
					p.Value = v
				}
			}
			if msg != "" {
				line, col := cr.FieldPos(i)
				return nil, &ParseError{Line: line, Column: col, Field: historyColumns[i], Msg: msg}
			}
		}
		points = append(points, p)
	}
}

// parseJSONHistory walks the array token by token, because decoding it
// whole would lose where each value was.
func parseJSONHistory(data []byte) ([]Point, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	at := func(off int64, field, format string, args ...any) error {
		line, col := position(data, off)
		return &ParseError{Line: line, Column: col, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	syntax := func(err error) error {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return at(se.Offset, "", "%v", se)
		case errors.As(err, &te):
			return at(te.Offset, "", "%v", te)
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return at(int64(len(data)), "", "unexpected end of input: the array is not closed")
		}
		return at(dec.InputOffset(), "", "%v", err)
	}
	// skip moves past the separators between the decoder's offset and the
	// next value, where an error about that value should point.
	skip := func() int64 {
		off := dec.InputOffset()
		for off < int64(len(data)) && strings.IndexByte(" \t\r\n,:", data[off]) >= 0 {
			off++
		}
		return off
	}

	if _, err := dec.Token(); err != nil { // '[', checked by the caller
		return nil, syntax(err)
	}
	var points []Point
	for dec.More() {
		elem := skip()
		tok, err := dec.Token()
		if err != nil {
			return nil, syntax(err)
		}
		if tok != json.Delim('{') {
			return nil, at(elem, "", `want an object {"time": ..., "desired": ...}; got %s`, describeToken(tok))
		}
		var p Point
		var haveTime, haveDesired bool
		for dec.More() {
			keyAt := skip()
			tok, err := dec.Token()
			if err != nil {
				return nil, syntax(err)
			}
			key, _ := tok.(string)
			valueAt := skip()
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, syntax(err)
			}
			var msg string
			switch key {
			case "time":
				var s string
				if json.Unmarshal(raw, &s) != nil {
					msg = fmt.Sprintf("want an RFC 3339 time in a string; got %s", raw)
				} else {
					p.Time, msg = parseTime(s)
				}
				haveTime = true
			case "desired", "actual":
				var n json.Number
				if raw[0] == '"' || json.Unmarshal(raw, &n) != nil {
					msg = fmt.Sprintf("want a number; got %s", raw)
				} else {
					var v float64
					v, msg = parseQuantity(n.String())
					if key == "desired" {
						p.Value, haveDesired = v, true
					}
				}
			default:
				return nil, at(keyAt, "", "unknown field %q; want time, desired and optionally actual", key)
			}
			if msg != "" {
				return nil, at(valueAt, key, "%s", msg)
			}
		}
		if _, err := dec.Token(); err != nil { // '}'
			return nil, syntax(err)
		}
		switch {
		case !haveTime:
			return nil, at(elem, "time", "missing")
		case !haveDesired:
			return nil, at(elem, "desired", "missing")
		}
		points = append(points, p)
	}
	if _, err := dec.Token(); err != nil { // ']'
		return nil, syntax(err)
	}
	if off := skip(); off < int64(len(data)) {
		return nil, at(off, "", "unexpected data after the array")
	}
	return points, nil
}

func parseTime(s string) (time.Time, string) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Sprintf("%q is not an RFC 3339 time such as 2025-03-04T10:00:00Z", s)
	}
	return t, ""
}

func parseQuantity(s string) (float64, string) {
	v, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil || math.IsNaN(v) || math.IsInf(v, 0):
		return 0, fmt.Sprintf("%q is not a number", s)
	case v < 0:
		return 0, fmt.Sprintf("must not be negative; got %s", s)
	}
	return v, ""
}

func describeToken(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		return fmt.Sprintf("%q", string(v))
	case string:
		return fmt.Sprintf("the string %q", v)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}

// position turns a byte offset into a 1-based line and column.
func position(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}
