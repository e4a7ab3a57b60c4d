package api

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// oddStrings are strings the encoder treats specially: escapes, HTML
// characters (not escaped: HTML escaping is off), U+2028, invalid UTF-8.
var oddStrings = []string{"", "E5", `a"b\c`, "tab\tnew\nline\r", "\b\f\x00\x1f\x7f", "5 > 3 & 2 < 4", "caf\u00e9 \u2028\u2029 \U0001F600",
	"bad \xff\xfe utf8", "\xed\xa0\x80 surrogate half", "0190b6c8-2f5e-7a3c-9d1e-0123456789ab", "direct", "completed", strings.Repeat("long ", 300)}

var oddFloats = []float64{0, 1, 0.5, 1.0 / 3, 3.4291666666, 1e-7, 1.5e-9, 123456789.125, 1e21, 2.5e22, -0.25, -1e-7,
	math.SmallestNonzeroFloat64, math.MaxFloat64, math.Copysign(0, -1)}

var oddZones = []*time.Location{time.UTC, time.FixedZone("x", 3600), time.FixedZone("y", -(9*3600 + 30*60)), time.FixedZone("z", 59)}

// fill sets every field v reaches to a random value, nil and empty
// slices and pointers included: a field added to a wire type later is
// filled too, so a hand-written JSON path that misses it fails the
// comparisons.
func fill(r *rand.Rand, v reflect.Value) {
	if v.Type() == reflect.TypeFor[time.Time]() {
		t := time.Date(1990+r.IntN(60), time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), 0, time.UTC)
		switch r.IntN(4) {
		case 1:
			t = t.Add(time.Duration(r.IntN(1e9)))
		case 2:
			t = t.Add(time.Duration(r.IntN(1000)) * time.Millisecond)
		}
		v.Set(reflect.ValueOf(t.In(oddZones[r.IntN(len(oddZones))])))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(oddStrings[r.IntN(len(oddStrings))])
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Int, reflect.Int64:
		v.SetInt([]int64{0, 1, -1, 7, 1 << 40, math.MinInt64, math.MaxInt64}[r.IntN(7)])
	case reflect.Float64:
		v.SetFloat(oddFloats[r.IntN(len(oddFloats))])
	case reflect.Pointer:
		if r.IntN(3) > 0 {
			p := reflect.New(v.Type().Elem())
			fill(r, p.Elem())
			v.Set(p)
		}
	case reflect.Slice:
		switch n := r.IntN(5); n {
		case 0: // nil
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		default:
			s := reflect.MakeSlice(v.Type(), n-1, n-1)
			for i := range n - 1 {
				fill(r, s.Index(i))
			}
			v.Set(s)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			fill(r, v.Field(i))
		}
	default:
		panic("fill: no rule for " + v.Type().String())
	}
}

// encoded is v as the API's encoder writes it.
func encoded(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sameJSON(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	t.Errorf("%s: differs at byte %d of %d:\n got  …%.160s\n want …%.160s", what, i, len(want), got[i:], want[i:])
}

// randomOf returns n random values of T.
func randomOf[T any](r *rand.Rand, n int) []T {
	out := make([]T, n)
	for i := range out {
		fill(r, reflect.ValueOf(&out[i]).Elem())
	}
	return out
}

// The causality answers' JSON is byte for byte what the API's encoder
// writes for the same values, whatever their strings, numbers, times,
// nil or empty slices and omitted fields hold.
func TestAppendJSONAsEncoder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		for _, v := range []any{
			randomOf[ChangeDetail](r, 1)[0],
			randomOf[EventDetail](r, 1)[0],
			List[ChangeDetail]{Items: randomOf[ChangeDetail](r, r.IntN(4)), NextPageToken: oddStrings[r.IntN(3)]},
			List[EventDetail]{Items: randomOf[EventDetail](r, r.IntN(4)), NextPageToken: oddStrings[r.IntN(3)]},
			List[Change]{Items: randomOf[Change](r, r.IntN(4))},
			List[Event]{Items: randomOf[Event](r, r.IntN(4))},
			List[Change]{},
			randomOf[Event](r, 1)[0],
			randomOf[Change](r, 1)[0],
		} {
			prefix := []byte("kept ")
			got, err := AppendJSON(prefix, v)
			if err != nil {
				t.Fatalf("%T: %v", v, err)
			}
			if !bytes.HasPrefix(got, prefix) {
				t.Fatalf("%T: the bytes before were overwritten", v)
			}
			sameJSON(t, reflect.TypeOf(v).String(), got[len(prefix):], encoded(t, v))
		}
		if t.Failed() {
			return
		}
	}
}

// A value the encoder refuses gets the encoder's refusal, and any other
// shape the encoder's bytes.
func TestAppendJSONFallsBackToEncoder(t *testing.T) {
	nan, year := math.NaN(), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, v := range []any{
		ChangeDetail{NodeHours: &nan},
		List[EventDetail]{Items: []EventDetail{{Event: Event{Request: &Request{Target: &Target{Value: math.Inf(1)}}}}}},
		EventDetail{Effects: []Effect{{Change: Change{EndedAt: &year}}}},
		List[ChangeDetail]{Items: []ChangeDetail{{}, {Causes: []Cause{{Event: Event{Time: year}}}}}},
	} {
		_, want := json.Marshal(v)
		got, err := AppendJSON([]byte("kept"), v)
		if err == nil || want == nil || err.Error() != want.Error() {
			t.Errorf("%T: error %v, want the encoder's %v", v, err, want)
		}
		if !bytes.HasPrefix(got, []byte("kept")) {
			t.Errorf("%T: the bytes before were overwritten", v)
		}
	}
	p := Period{ID: "p<1>", Requests: []PeriodRequest{}}
	got, err := AppendJSON(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "Period", got, encoded(t, p))
}
