package recommend

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// MaxImportRuns bounds the runs of one import.
const MaxImportRuns = 10_000

// csvColumns are the columns an import may have: api.Run's JSON names.
var csvColumns = []string{"label", "status", "input_size", "job_count", "nodes_mean", "nodes_max", "node_type",
	"started_at", "ended_at", "wall_seconds", "suspended_seconds", "node_hours", "cost", "failures", "retries"}

// required are the columns a run cannot do without.
var required = []string{"input_size", "nodes_mean", "wall_seconds"}

// ParseRuns reads runs exported from elsewhere for programType: a JSON
// array of runs (api.Run's fields) or CSV whose header names the same
// fields. input_size, nodes_mean and wall_seconds are required; the rest
// default: status completed, nodes_max the mean rounded up, node_hours
// nodes_mean·wall_seconds/3600, ended_at now (started_at wall_seconds
// before it), and the label is made from the run's content, so importing
// a file twice records it once. Errors are *api.Error naming the run's
// field ("runs[2].wall_seconds", or "runs" with the line and column).
func ParseRuns(r io.Reader, programType string, now time.Time) ([]api.Run, error) {
	er := &errReader{r: r}
	br := bufio.NewReader(er)
	first, err := firstByte(br)
	if er.err != nil {
		return nil, er.err
	}
	if err != nil {
		return nil, err
	}
	var runs []api.Run
	var given []map[string]bool
	if first == '[' {
		runs, given, err = parseJSON(br)
	} else {
		runs, given, err = parseCSV(br)
	}
	if er.err != nil {
		// The body could not be read (too large, cut): not bad input.
		return nil, er.err
	}
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, api.Invalid("runs", "holds no run")
	}
	if len(runs) > MaxImportRuns {
		return nil, api.Invalid("runs", "holds %d runs; at most %d may be imported at once", len(runs), MaxImportRuns)
	}
	for i := range runs {
		if err := complete(&runs[i], given[i], programType, now, fmt.Sprintf("runs[%d]", i)); err != nil {
			return nil, err
		}
	}
	return runs, nil
}

func firstByte(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if errors.Is(err, io.EOF) {
			return 0, api.Invalid("runs", "is empty: give a JSON array of runs or CSV with a header line")
		}
		if err != nil {
			return 0, err
		}
		if b != ' ' && b != '\t' && b != '\r' && b != '\n' && b != 0xEF && b != 0xBB && b != 0xBF {
			return b, br.UnreadByte()
		}
	}
}

func parseJSON(r io.Reader) ([]api.Run, []map[string]bool, error) {
	var raw []json.RawMessage
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, nil, api.Invalid("runs", "is not a JSON array of runs: %v", err)
	}
	runs := make([]api.Run, len(raw))
	given := make([]map[string]bool, len(raw))
	for i, m := range raw {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(m, &fields); err != nil {
			return nil, nil, api.Invalid(fmt.Sprintf("runs[%d]", i), "is not a JSON object: %v", err)
		}
		given[i] = map[string]bool{}
		for k := range fields {
			if !slices.Contains(csvColumns, k) && k != "program_type" {
				return nil, nil, api.Invalid(fmt.Sprintf("runs[%d].%s", i, k), "is not a field of an imported run; the fields are %s", strings.Join(csvColumns, ", "))
			}
			given[i][k] = true
		}
		dec := json.NewDecoder(bytes.NewReader(m))
		if err := dec.Decode(&runs[i]); err != nil {
			field := fmt.Sprintf("runs[%d]", i)
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) && te.Field != "" {
				field += "." + te.Field
			}
			return nil, nil, api.Invalid(field, "%v", err)
		}
	}
	return runs, given, nil
}

// errReader remembers a read error other than EOF.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && e.err == nil {
		e.err = err
	}
	return n, err
}

func parseCSV(r io.Reader) ([]api.Run, []map[string]bool, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, nil, api.Invalid("runs", "line 1: %v", err)
	}
	for i, h := range header {
		header[i] = strings.TrimSpace(h)
		if !slices.Contains(csvColumns, header[i]) {
			return nil, nil, api.Invalid("runs", "line 1, column %d: %q is not a column of runs; the columns are %s (a header line is required)",
				i+1, h, strings.Join(csvColumns, ", "))
		}
	}
	var runs []api.Run
	var given []map[string]bool
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, nil, api.Invalid("runs", "%v", err)
		}
		var run api.Run
		g := map[string]bool{}
		for i, v := range rec {
			v = strings.TrimSpace(v)
			if v == "" {
				continue
			}
			if err := setField(&run, header[i], v); err != nil {
				return nil, nil, api.Invalid("runs", "line %d, column %s: %v", line, header[i], err)
			}
			g[header[i]] = true
		}
		runs, given = append(runs, run), append(given, g)
		if len(runs) > MaxImportRuns {
			break
		}
	}
	return runs, given, nil
}

func setField(r *api.Run, name, v string) error {
	num := func(dst *float64) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", v)
		}
		*dst = f
		return nil
	}
	whole := func(dst *int) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
		*dst = n
		return nil
	}
	when := func(dst *time.Time) error {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return fmt.Errorf("%q is not an RFC 3339 time", v)
		}
		*dst = t
		return nil
	}
	switch name {
	case "label":
		r.Label = v
	case "status":
		r.Status = v
	case "node_type":
		r.NodeType = v
	case "input_size":
		return num(&r.InputSize)
	case "nodes_mean":
		return num(&r.NodesMean)
	case "wall_seconds":
		return num(&r.WallSeconds)
	case "suspended_seconds":
		return num(&r.SuspendedSeconds)
	case "node_hours":
		return num(&r.NodeHours)
	case "cost":
		var c float64
		if err := num(&c); err != nil {
			return err
		}
		r.Cost = &c
	case "job_count":
		return whole(&r.JobCount)
	case "nodes_max":
		return whole(&r.NodesMax)
	case "failures":
		return whole(&r.Failures)
	case "retries":
		return whole(&r.Retries)
	case "started_at":
		return when(&r.StartedAt)
	case "ended_at":
		return when(&r.EndedAt)
	}
	return nil
}

// complete checks an imported run and fills its defaults.
func complete(r *api.Run, given map[string]bool, programType string, now time.Time, at string) error {
	for _, f := range required {
		if !given[f] {
			return api.Invalid(at+"."+f, "is required: a run needs input_size, nodes_mean and wall_seconds")
		}
	}
	if r.ProgramType != "" && r.ProgramType != programType {
		return api.Invalid(at+".program_type", "is %q, but the runs are imported into %q", r.ProgramType, programType)
	}
	positive := []struct {
		name string
		v    float64
		zero bool // 0 allowed
	}{{"input_size", r.InputSize, false}, {"nodes_mean", r.NodesMean, false}, {"wall_seconds", r.WallSeconds, false},
		{"suspended_seconds", r.SuspendedSeconds, true}, {"node_hours", r.NodeHours, true}}
	for _, p := range positive {
		if math.IsNaN(p.v) || math.IsInf(p.v, 0) || p.v < 0 || (p.v == 0 && !p.zero) {
			return api.Invalid(at+"."+p.name, "must be a positive number; got %g", p.v)
		}
	}
	if r.NodesMean > api.MaxQuantityLimit || r.NodesMax > api.MaxQuantityLimit || r.NodesMax < 0 {
		return api.Invalid(at+".nodes_mean", "must be at most %d nodes", api.MaxQuantityLimit)
	}
	for _, n := range []struct {
		name string
		v    int
	}{{"job_count", r.JobCount}, {"failures", r.Failures}, {"retries", r.Retries}} {
		if n.v < 0 {
			return api.Invalid(at+"."+n.name, "must not be negative; got %d", n.v)
		}
	}
	if r.Cost != nil && (*r.Cost < 0 || math.IsNaN(*r.Cost) || math.IsInf(*r.Cost, 0)) {
		return api.Invalid(at+".cost", "must not be negative; got %g", *r.Cost)
	}
	if r.Status == "" {
		r.Status = api.ExecutionCompleted
	}
	if !slices.Contains([]string{api.ExecutionCompleted, api.ExecutionCompletedWithErrors, api.ExecutionFailed, api.ExecutionCancelled}, r.Status) {
		return api.Invalid(at+".status", "must be completed, completed_with_errors, failed or cancelled; got %q", r.Status)
	}
	if len(r.Label) > api.MaxTextLength || len(r.NodeType) > api.MaxTextLength {
		return api.Invalid(at+".label", "must be at most %d bytes", api.MaxTextLength)
	}
	r.ProgramType, r.Imported, r.ID, r.ExecutionID, r.GroupID = programType, true, "", "", ""
	if r.NodesMax == 0 {
		r.NodesMax = int(math.Ceil(r.NodesMean))
	}
	if r.NodeHours == 0 {
		r.NodeHours = r.NodesMean * r.WallSeconds / 3600
	}
	wall := time.Duration(r.WallSeconds * float64(time.Second))
	switch {
	case r.EndedAt.IsZero() && r.StartedAt.IsZero():
		r.EndedAt = now
		r.StartedAt = now.Add(-wall)
	case r.EndedAt.IsZero():
		r.EndedAt = r.StartedAt.Add(wall)
	case r.StartedAt.IsZero():
		r.StartedAt = r.EndedAt.Add(-wall)
	}
	r.StartedAt, r.EndedAt = r.StartedAt.UTC(), r.EndedAt.UTC()
	if r.Label == "" {
		// Made from the run's figures (not the import's time), so the
		// same file imported twice records each run once.
		c := *r
		if !given["ended_at"] && !given["started_at"] {
			c.StartedAt, c.EndedAt = time.Time{}, time.Time{}
		}
		b, _ := json.Marshal(c)
		sum := sha256.Sum256(b)
		r.Label = "imported-" + hex.EncodeToString(sum[:6])
	}
	return nil
}
