package forecast_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/forecast"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseHistory(t *testing.T) {
	want := []forecast.Point{
		{Time: at("2025-03-03T10:00:00Z"), Value: 3},
		{Time: at("2025-03-03T10:01:00Z"), Value: 5},
		{Time: at("2025-03-03T11:01:30.5+01:00"), Value: 4.5},
	}
	for _, tc := range []struct {
		name, in string
	}{
		{"csv", "2025-03-03T10:00:00Z,3\n2025-03-03T10:01:00Z,5\n2025-03-03T11:01:30.5+01:00,4.5\n"},
		{"csv with header, actual, comments, CRLF and spaces",
			"\uFEFF  \r\ntime,desired,actual\r\n# exported from g-1\r\n2025-03-03T10:00:00Z, 3, 2\r\n2025-03-03T10:01:00Z,5,5\r\n2025-03-03T11:01:30.5+01:00,4.5,4\r\n"},
		{"csv out of order", "2025-03-03T11:01:30.5+01:00,4.5\n2025-03-03T10:01:00Z,5\n2025-03-03T10:00:00Z,3"},
		{"json", `[{"time":"2025-03-03T10:00:00Z","desired":3},{"time":"2025-03-03T10:01:00Z","desired":5},{"time":"2025-03-03T11:01:30.5+01:00","desired":4.5}]`},
		{"json with actual and layout", `
  [
    {"time": "2025-03-03T10:00:00Z", "desired": 3, "actual": 0},
    {"desired": 5, "time": "2025-03-03T10:01:00Z"},
    {"time": "2025-03-03T11:01:30.5+01:00", "desired": 4.5e0}
  ]
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := forecast.ParseHistory(strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, want, func(a, b forecast.Point) bool { return a.Time.Equal(b.Time) && a.Value == b.Value }) {
				t.Errorf("ParseHistory = %v; want %v", got, want)
			}
		})
	}
}

func TestParseHistoryErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		in        string
		line, col int
		field     string
		want      string
	}{
		{"csv bad time", "2025-03-03T10:00:00Z,3\n2025-03-03 10:01,4\n", 2, 1, "time", `history line 2, column 1 (time): "2025-03-03 10:01" is not an RFC 3339 time`},
		{"csv bad desired", "2025-03-03T10:00:00Z,3\n2025-03-03T10:01:00Z,four\n", 2, 22, "desired", `history line 2, column 22 (desired): "four" is not a number`},
		{"csv negative desired", "2025-03-03T10:00:00Z,-2\n", 1, 22, "desired", "must not be negative; got -2"},
		{"csv NaN desired", "2025-03-03T10:00:00Z,NaN\n", 1, 22, "desired", `"NaN" is not a number`},
		{"csv bad actual", "time,desired,actual\n2025-03-03T10:00:00Z,3,x\n", 2, 24, "actual", `"x" is not a number`},
		{"csv one field", "2025-03-03T10:00:00Z,3\n2025-03-03T10:01:00Z\n", 2, 1, "", "want 2 or 3 fields (time,desired[,actual]); got 1"},
		{"csv four fields", "2025-03-03T10:00:00Z,3,3,3\n", 1, 1, "", "got 4"},
		{"csv bad header", "time,quantity\n", 1, 6, "", `header column 2 must be "desired"; got "quantity"`},
		{"csv bare quote", "2025-03-03T10:00:00Z,3\n2025-03-03T10:01:00Z,\"4\n", 2, 25, "", "extraneous or missing"},
		{"json bad time", "[\n  {\"time\": \"yesterday\", \"desired\": 3}\n]", 2, 12, "time", `"yesterday" is not an RFC 3339 time`},
		{"json time not a string", `[{"time": 1741000000, "desired": 3}]`, 1, 11, "time", "want an RFC 3339 time in a string; got 1741000000"},
		{"json desired a string", "[{\"time\": \"2025-03-03T10:00:00Z\",\n  \"desired\": \"3\"}]", 2, 14, "desired", `want a number; got "3"`},
		{"json negative desired", `[{"time": "2025-03-03T10:00:00Z", "desired": -1}]`, 1, 46, "desired", "must not be negative"},
		{"json missing desired", "[{\"time\": \"2025-03-03T10:00:00Z\", \"desired\": 1},\n {\"time\": \"2025-03-03T10:00:00Z\"}]", 2, 2, "desired", "missing"},
		{"json missing time", `[{"desired": 1}]`, 1, 2, "time", "missing"},
		{"json unknown field", "[{\"time\": \"2025-03-03T10:00:00Z\",\n \"desire\": 1}]", 2, 2, "", `unknown field "desire"`},
		{"json not an object", `[{"time": "2025-03-03T10:00:00Z", "desired": 1}, 7]`, 1, 50, "", "want an object"},
		{"json syntax", "[{\"time\": \"2025-03-03T10:00:00Z\",\n \"desired\": 1,}]", 2, 15, "", "invalid character"},
		{"json not closed", `[{"time": "2025-03-03T10:00:00Z", "desired": 1}`, 1, 48, "", "not closed"},
		{"json trailing data", "[]\n[]", 2, 1, "", "unexpected data after the array"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps, err := forecast.ParseHistory(strings.NewReader(tc.in))
			if err == nil {
				t.Fatalf("ParseHistory = %v; want an error", ps)
			}
			var pe *forecast.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if pe.Line != tc.line || pe.Column != tc.col || pe.Field != tc.field {
				t.Errorf("error at line %d, column %d (%q); want line %d, column %d (%q): %v", pe.Line, pe.Column, pe.Field, tc.line, tc.col, tc.field, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q; want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseHistoryEmptyOrUnreadable(t *testing.T) {
	for _, in := range []string{"", "  \n", " \n\t\n", "time,desired\n", "# nothing\n", "[]", " [ ] "} {
		if _, err := forecast.ParseHistory(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), "history has no points") {
			t.Errorf("ParseHistory(%q) error %v; want 'history has no points'", in, err)
		}
	}
	boom := errors.New("disk gone")
	if _, err := forecast.ParseHistory(iotest.ErrReader(boom)); !errors.Is(err, boom) {
		t.Errorf("ParseHistory(failing reader) error %v; want it to wrap %v", err, boom)
	}
}

func TestParseHistoryFeedsFit(t *testing.T) {
	var b strings.Builder
	b.WriteString("time,desired,actual\n")
	for i := range 3 * 24 {
		ts := monday.Add(time.Duration(i) * time.Hour).Format(time.RFC3339)
		b.WriteString(ts + ",6,6\n")
	}
	ps, err := forecast.ParseHistory(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	m, err := forecast.Fit(ps, forecast.Config{}, monday.Add(3*day))
	if err != nil {
		t.Fatal(err)
	}
	if iv := m.At(monday.Add(3*day + 5*time.Hour)); iv.Lower != 6 || iv.Upper != 6 {
		t.Errorf("imported constant history forecasts [%d, %d]; want [6, 6]", iv.Lower, iv.Upper)
	}
}

func TestDownsample(t *testing.T) {
	p := func(s string, v float64) forecast.Point { return forecast.Point{Time: at(s), Value: v} }
	for _, tc := range []struct {
		name   string
		in     []forecast.Point
		step   time.Duration
		want   []forecast.Point
		reason string
	}{
		{"empty", nil, time.Hour, nil, ""},
		{"max per hour, stamped at the hour", []forecast.Point{
			p("2025-03-03T10:05:00Z", 3), p("2025-03-03T10:20:00Z", 9), p("2025-03-03T10:59:59Z", 4),
			p("2025-03-03T11:00:00Z", 2), p("2025-03-03T13:30:00Z", 5),
		}, time.Hour, []forecast.Point{
			p("2025-03-03T10:00:00Z", 9), p("2025-03-03T11:00:00Z", 2), p("2025-03-03T13:00:00Z", 5),
		}, "a short peak of 9 survives"},
		{"unsorted input", []forecast.Point{
			p("2025-03-03T11:10:00Z", 1), p("2025-03-03T10:10:00Z", 7), p("2025-03-03T11:50:00Z", 2),
		}, time.Hour, []forecast.Point{p("2025-03-03T10:00:00Z", 7), p("2025-03-03T11:00:00Z", 2)}, ""},
		{"other time zones land in UTC buckets", []forecast.Point{
			p("2025-03-03T11:10:00+01:00", 4), p("2025-03-03T10:40:00Z", 6),
		}, time.Hour, []forecast.Point{p("2025-03-03T10:00:00Z", 6)}, ""},
		{"daily buckets start at UTC midnight", []forecast.Point{
			p("2025-03-03T23:59:00Z", 4), p("2025-03-04T00:00:00Z", 1),
		}, 24 * time.Hour, []forecast.Point{p("2025-03-03T00:00:00Z", 4), p("2025-03-04T00:00:00Z", 1)}, ""},
		{"step 0 sorts only", []forecast.Point{p("2025-03-03T11:00:00Z", 1), p("2025-03-03T10:00:00Z", 2)}, 0,
			[]forecast.Point{p("2025-03-03T10:00:00Z", 2), p("2025-03-03T11:00:00Z", 1)}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.in)
			got := forecast.Downsample(tc.in, tc.step)
			if !slices.EqualFunc(got, tc.want, func(a, b forecast.Point) bool { return a.Time.Equal(b.Time) && a.Value == b.Value }) {
				t.Errorf("Downsample = %v; want %v %s", got, tc.want, tc.reason)
			}
			if !slices.Equal(in, tc.in) {
				t.Errorf("Downsample changed its input")
			}
		})
	}
}

// Downsampling a long minute-by-minute history to 10-minute maxima keeps
// what governing must not lose: the upper bounds learnt from the maxima
// still hold the raw held-out week's peaks. The price, raw values under
// the lower bound, is logged: it is the cost side of the trade.
func TestDownsampledHistoryKeepsPeaks(t *testing.T) {
	points := synthetic(21, monday, 21, time.Minute, 1.5)
	coarse := forecast.Downsample(points[:14*24*60], 10*time.Minute)
	if len(coarse) != 14*24*6 {
		t.Fatalf("downsampled to %d points; want %d", len(coarse), 14*24*6)
	}
	cfg := forecast.Config{Confidence: 0.9}
	now := monday.Add(14 * day)
	m, err := forecast.Fit(coarse, cfg, now)
	if err != nil {
		t.Fatal(err)
	}
	above, below, n := 0, 0, 0
	for _, p := range points[14*24*60:] {
		iv := m.At(p.Time)
		n++
		switch {
		case p.Value > float64(iv.Upper):
			above++
		case p.Value < float64(iv.Lower):
			below++
		}
	}
	aboveShare, belowShare := float64(above)/float64(n), float64(below)/float64(n)
	t.Logf("10m maxima of 1m history: %.3f of the raw held-out week above the upper bound, %.3f under the lower", aboveShare, belowShare)
	if limit := (1 - cfg.Confidence) / 2; aboveShare > limit {
		t.Errorf("%.3f of raw quantities exceed the upper bound; want at most %.2f", aboveShare, limit)
	}
}
