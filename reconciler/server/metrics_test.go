package server

import (
	"math"
	"strings"
	"testing"
)

func TestExpositionEscaping(t *testing.T) {
	tests := []struct {
		gauge Gauge
		want  string
	}{
		{Gauge{Name: "g", Labels: map[string]string{"v": `a\b`}, Value: 1}, `g{v="a\\b"} 1`},
		{Gauge{Name: "g", Labels: map[string]string{"v": "a\nb"}, Value: 1}, `g{v="a\nb"} 1`},
		{Gauge{Name: "g", Labels: map[string]string{"v": `say "hi"`}, Value: 1}, `g{v="say \"hi\""} 1`},
		{Gauge{Name: "g", Labels: map[string]string{"b": "2", "a": "1"}, Value: 0.25}, `g{a="1",b="2"} 0.25`},
		{Gauge{Name: "g", Help: "a \"quoted\" \\ help\nline", Value: 1}, `# HELP g a "quoted" \\ help\nline`},
		{Gauge{Name: "g", Value: math.Inf(1)}, `g +Inf`},
		{Gauge{Name: "g", Value: math.NaN()}, `g NaN`},
		{Gauge{Name: "ns:g_1", Value: 3}, `ns:g_1 3`},
	}
	for _, tt := range tests {
		var b strings.Builder
		if err := writeGauges(&b, []Gauge{tt.gauge}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tt.want+"\n") {
			t.Errorf("got\n%s\nwant a line %s", b.String(), tt.want)
		}
	}
	for _, bad := range []Gauge{{Name: "1g"}, {Name: "g-h"}, {Name: ""}, {Name: "g", Labels: map[string]string{"__x": "1"}}, {Name: "g", Labels: map[string]string{"a:b": "1"}}} {
		var b strings.Builder
		if err := writeGauges(&b, []Gauge{bad}); err == nil || b.Len() != 0 {
			t.Errorf("gauge %+v: wrote %q, err %v; want it skipped with an error", bad, b.String(), err)
		}
	}
}
