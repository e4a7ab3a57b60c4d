package recommend_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/recommend"
)

// TestParseRuns: CSV and JSON read the same runs with the same defaults,
// a run without a label gets one made from its figures (the same each
// time, another for other figures), and bad input names the field.
func TestParseRuns(t *testing.T) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	csv := "input_size, nodes_mean, wall_seconds, ended_at\n1000,2.5,300,2026-12-01T10:00:00Z\n"
	json := `[{"input_size":1000,"nodes_mean":2.5,"wall_seconds":300,"ended_at":"2026-12-01T10:00:00Z"}]`
	a, err := recommend.ParseRuns(strings.NewReader(csv), "wc", now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := recommend.ParseRuns(strings.NewReader(json), "wc", now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	r := a[0]
	if r.Label != b[0].Label || !strings.HasPrefix(r.Label, "imported-") {
		t.Errorf("labels %q and %q, want the same made one", r.Label, b[0].Label)
	}
	if r.Status != api.ExecutionCompleted || r.NodesMax != 3 || r.NodeHours != 2.5*300/3600 || !r.Imported ||
		r.ProgramType != "wc" || !r.StartedAt.Equal(r.EndedAt.Add(-300*time.Second)) {
		t.Errorf("defaults: %+v", r)
	}
	// An imported run keeps the cost it brings (and has none without).
	if r.Cost != nil {
		t.Errorf("a run imported without a cost has %g", *r.Cost)
	}
	for _, body := range []string{"input_size,nodes_mean,wall_seconds,cost\n1000,2.5,300,12.75\n",
		`[{"input_size":1000,"nodes_mean":2.5,"wall_seconds":300,"cost":12.75}]`} {
		priced, err := recommend.ParseRuns(strings.NewReader(body), "wc", now)
		if err != nil || priced[0].Cost == nil || *priced[0].Cost != 12.75 {
			t.Errorf("%q: %+v, %v; want cost 12.75", body, priced, err)
		}
	}
	other, _ := recommend.ParseRuns(strings.NewReader("input_size,nodes_mean,wall_seconds\n1000,2.5,301\n"), "wc", now)
	if other[0].Label == r.Label || !other[0].EndedAt.Equal(now) {
		t.Errorf("another run: label %q ended %s", other[0].Label, other[0].EndedAt)
	}
	for _, c := range []struct{ body, field, msg string }{
		{"", "runs", "is empty"},
		{"input_size,nodes_mean,wall_seconds\n", "runs", "holds no run"},
		{"input_size,nodes_mean,wall_seconds\n1,two,3\n", "runs", "line 2, column nodes_mean"},
		{"input_size,nodes_mean,wall_seconds,ended_at\n1,2,3,yesterday\n", "runs", "line 2, column ended_at"},
		{"input_size,nodes_mean\n1,2\n", "runs[0].wall_seconds", "is required"},
		{"input_size,nodes_mean,wall_seconds,status\n1,2,3,running\n", "runs[0].status", "must be completed"},
		{`[{"input_size":1,"nodes_mean":0,"wall_seconds":3}]`, "runs[0].nodes_mean", "positive"},
		{`[{"input_size":1,"nodes_mean":2,"wall_seconds":3,"program_type":"sort"}]`, "runs[0].program_type", "imported into"},
		{"input_size,nodes_mean,wall_seconds,cost\n1,2,3,ten\n", "runs", "line 2, column cost"},
		{"input_size,nodes_mean,wall_seconds,cost\n1,2,3,NaN\n", "runs[0].cost", "must not be negative"},
		{`[{"input_size":1,"nodes_mean":2,"wall_seconds":3,"cost":-0.5}]`, "runs[0].cost", "must not be negative"},
		{`[{"input_size":1,"nodes_mean":2,"wall_seconds":3,"cost":"ten"}]`, "runs[0].cost", "cannot unmarshal"},
		{`[1]`, "runs[0]", "not a JSON object"},
		{`[{"input_size":1`, "runs", "not a JSON array"},
	} {
		_, err := recommend.ParseRuns(strings.NewReader(c.body), "wc", now)
		var ae *api.Error
		if !errors.As(err, &ae) || ae.Field != c.field || !strings.Contains(ae.Message, c.msg) {
			t.Errorf("%q: %v, want field %s saying %q", c.body, err, c.field, c.msg)
		}
	}
}
