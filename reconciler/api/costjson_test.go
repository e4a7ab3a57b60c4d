package api

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

// A costs answer's JSON is byte for byte what the API's encoder (HTML
// escaping off) writes for the struct, whatever its strings and numbers
// hold, across the chunks it is written in.
func TestCostsWriteJSONAsEncoder(t *testing.T) {
	odd := []string{"", "E5", `a"b\c`, "tab\tnew\nline\r", "\b\f\x00\x1f\x7f", "5 > 3 & 2 < 4", "caf\u00e9 \u2028\u2029 \U0001F600",
		"bad \xff\xfe utf8", "0190b6c8-2f5e-7a3c-9d1e-0123456789ab", strings.Repeat("long ", 5000)}
	floats := []float64{0, 1, 0.5, 1.0 / 3, 3.4291666666, 1e-7, 1.5e-9, 123456789.125, 1e21, 2.5e22, -0.25, math.SmallestNonzeroFloat64}
	c := Costs{GroupID: "g\"1", By: "cause", Since: time.Date(2026, 12, 7, 1, 2, 3, 456789000, time.UTC),
		Until: time.Date(2026, 12, 8, 0, 0, 0, 0, time.FixedZone("x", 3600)), Currency: "USD", Rule: odd[5],
		TotalNodeSeconds: 98765, TotalNodeHours: 1.0 / 7, TotalCostMicros: 1234567, TotalCost: "1.234567"}
	for i := range 400 { // past a chunk or two
		s := odd[i%len(odd)]
		c.Rows = append(c.Rows, CostRow{Key: s, Label: odd[(i+1)%len(odd)], Type: odd[(i+2)%len(odd)], Name: odd[(i+3)%len(odd)],
			NodeSeconds: int64(i) * 3599, NodeHours: floats[i%len(floats)], CostMicros: -int64(i) * 7, Cost: s,
			ChangeIDs: [][]string{nil, {}, {s, "c"}}[i%3], EventIDs: odd[:i%len(odd)], Description: odd[(i+4)%len(odd)]})
	}
	all := c.Rows
	for i, rows := range [][]CostRow{all, nil, {}, all[:3]} {
		c.Rows = rows
		c.NextPageToken = [...]string{"", "", "", "AAAA_x-9"}[i] // a page of a paged query
		var got, want bytes.Buffer
		if err := c.WriteJSON(&got); err != nil {
			t.Fatal(err)
		}
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		type plain Costs // the same fields, without the method
		if err := enc.Encode(plain(c)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			g, w := got.String(), want.String()
			i := 0
			for i < len(g) && i < len(w) && g[i] == w[i] {
				i++
			}
			t.Errorf("%d rows: differs at byte %d of %d:\n got  …%.120s\n want …%.120s", len(rows), i, len(w), g[i:], w[i:])
		}
	}
	c.Rows = []CostRow{{NodeHours: math.NaN()}}
	if err := c.WriteJSON(&bytes.Buffer{}); err == nil {
		t.Error("NaN node hours written")
	}
}
