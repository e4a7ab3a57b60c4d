package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// strictDecode is what decodeSamples must agree with: encoding/json,
// unknown fields refused, one value in the body.
func strictDecode(body []byte) (api.MetricsRequest, bool) {
	var m api.MetricsRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, false
	}
	if dec.More() {
		return m, false
	}
	return m, true
}

// checkSamplesDecode fails when decodeSamples accepts body and decodes it
// otherwise than encoding/json, or accepts what encoding/json refuses.
func checkSamplesDecode(t *testing.T, body []byte) (accepted bool) {
	t.Helper()
	var got api.MetricsRequest
	if !decodeSamples(body, &got) {
		return false
	}
	want, ok := strictDecode(body)
	if !ok {
		t.Fatalf("decodeSamples accepted %q, which encoding/json refuses", body)
	}
	if len(got.Samples) != len(want.Samples) {
		t.Fatalf("%q: %d samples, encoding/json %d", body, len(got.Samples), len(want.Samples))
	}
	for i := range want.Samples {
		g, w := got.Samples[i], want.Samples[i]
		if (g.Time == nil) != (w.Time == nil) || g.Time != nil && !g.Time.Equal(*w.Time) ||
			g.Time != nil && g.Time.Location().String() != w.Time.Location().String() {
			t.Fatalf("%q: sample %d time %v, encoding/json %v", body, i, g.Time, w.Time)
		}
		g.Time, w.Time = nil, nil
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("%q: sample %d %+v, encoding/json %+v", body, i, g, w)
		}
	}
	return true
}

func TestDecodeSamples(t *testing.T) {
	plain := []string{
		`{"samples":[{"name":"cpu","value":1.5}]}`,
		` { "samples" : [ { "name" : "cpu" , "value" : -0 , "node_id" : "n-1" , "time" : "2026-01-02T10:00:00Z" } ] } `,
		`{"samples":[{"time":"2026-01-02T10:00:00.123456789+05:30","node_id":"a","value":1e-3,"name":"q"},{"name":"q","value":12E+2}]}`,
		`{"samples":[]}`,
		`{"samples":[{}]}`,
		`{"samples":[{"name":"x","value":0.5},{"name":"x","value":10}]}`,
	}
	for _, b := range plain {
		if !checkSamplesDecode(t, []byte(b)) {
			t.Errorf("decodeSamples refused the plain body %s", b)
		}
	}
	// Not the plain shape: refused here, decoded (or refused, naming the
	// field) by the general path.
	other := []string{
		`{"samples":[{"name":"cpu","value":1,"name":"mem"}]}`,
		`{"samples":[{"name":"c\u0070u","value":1}]}`,
		`{"samples":[{"name":"cpü","value":1}]}`,
		`{"samples":[{"name":"cpu","value":null}]}`,
		`{"samples":[{"name":"cpu","value":"1"}]}`,
		`{"samples":[{"name":"cpu","value":+1}]}`,
		`{"samples":[{"name":"cpu","value":.5}]}`,
		`{"samples":[{"name":"cpu","value":1.}]}`,
		`{"samples":[{"name":"cpu","value":01}]}`,
		`{"samples":[{"name":"cpu","value":1e999}]}`,
		`{"samples":[{"name":"cpu","value":NaN}]}`,
		`{"samples":[{"name":"cpu","value":1,"time":"2026-01-02 10:00:00Z"}]}`,
		`{"samples":[{"name":"cpu","value":1,"time":null}]}`,
		`{"samples":[{"name":"cpu","value":1,"extra":2}]}`,
		`{"samples":[{"name":"cpu","value":1}],"more":1}`,
		`{"samples":[{"name":"cpu","value":1}]} {}`,
		`{"samples":[{"name":"cpu","value":1},]}`,
		`{"samples":null}`,
		`{"Samples":[]}`,
		`[]`,
		``,
	}
	for _, b := range other {
		if checkSamplesDecode(t, []byte(b)) {
			t.Errorf("decodeSamples accepted %s", b)
		}
	}
}

// TestDecodeSamplesAllocations: the allocations of a push do not grow
// with its samples (one slice of samples, one of times, the distinct
// strings).
func TestDecodeSamplesAllocations(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"samples":[`)
	for i := range 5000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":"cpu","value":%d.25,"node_id":"n%d","time":"2026-01-02T10:00:%02d.5Z"}`, i, i%10, i%60)
	}
	b.WriteString(`]}`)
	body := []byte(b.String())
	var m api.MetricsRequest
	allocs := testing.AllocsPerRun(5, func() {
		if !decodeSamples(body, &m) {
			t.Fatal("refused")
		}
	})
	if len(m.Samples) != 5000 {
		t.Fatalf("%d samples", len(m.Samples))
	}
	if allocs > 40 {
		t.Errorf("%v allocations to decode 5,000 samples of 11 distinct strings; want at most 40", allocs)
	}
}

func FuzzDecodeSamples(f *testing.F) {
	f.Add([]byte(`{"samples":[{"name":"cpu","value":1.5,"node_id":"n","time":"2026-01-02T10:00:00Z"}]}`))
	f.Add([]byte(`{"samples":[{"name":"cpu","value":-1e-7},{"name":"x","value":0}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkSamplesDecode(t, body)
	})
}
