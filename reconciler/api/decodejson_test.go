package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// sameDecode checks that DecodeJSON reads data into a zero T as
// encoding/json's Decoder does: the same value, the same error.
func sameDecode[T any](t *testing.T, data []byte) {
	t.Helper()
	var got, want T
	gerr := DecodeJSON(data, &got)
	werr := json.NewDecoder(bytes.NewReader(data)).Decode(&want)
	if fmt.Sprint(gerr) != fmt.Sprint(werr) {
		t.Fatalf("%T from %.300q: error %v, want %v", got, data, gerr, werr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%T from %.300q:\n got  %+v\n want %+v", got, data, got, want)
	}
}

// decodeAll checks data as every shape DecodeJSON reads by hand.
func decodeAll(t *testing.T, data []byte) {
	t.Helper()
	sameDecode[ChangeDetail](t, data)
	sameDecode[EventDetail](t, data)
	sameDecode[List[ChangeDetail]](t, data)
	sameDecode[List[EventDetail]](t, data)
	sameDecode[List[Change]](t, data)
	sameDecode[List[Event]](t, data)
	sameDecode[Event](t, data)
	sameDecode[Change](t, data)
}

// Answers the API writes, with every field filled at random (odd strings,
// floats, times in other zones, nil and empty slices), read by hand are
// what encoding/json reads, compact or indented.
func TestDecodeJSONAsDecoder(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		for _, v := range []any{
			randomOf[ChangeDetail](r, 1)[0],
			randomOf[EventDetail](r, 1)[0],
			List[ChangeDetail]{Items: randomOf[ChangeDetail](r, r.IntN(4)), NextPageToken: oddStrings[r.IntN(3)]},
			List[EventDetail]{Items: randomOf[EventDetail](r, r.IntN(4))},
			List[Change]{Items: randomOf[Change](r, r.IntN(4))},
			List[Event]{Items: randomOf[Event](r, r.IntN(4))},
			randomOf[Event](r, 1)[0],
			randomOf[Change](r, 1)[0],
		} {
			data := encoded(t, v)
			if !readByHand(data, reflect.New(reflect.TypeOf(v)).Interface()) {
				t.Fatalf("%T: the scanner gave up on what the API writes: %.300q", v, data)
			}
			var indented bytes.Buffer
			if err := json.Indent(&indented, data, " ", "\t"); err != nil {
				t.Fatal(err)
			}
			for _, d := range [][]byte{data, indented.Bytes()} {
				switch v.(type) {
				case ChangeDetail:
					sameDecode[ChangeDetail](t, d)
				case EventDetail:
					sameDecode[EventDetail](t, d)
				case List[ChangeDetail]:
					sameDecode[List[ChangeDetail]](t, d)
				case List[EventDetail]:
					sameDecode[List[EventDetail]](t, d)
				case List[Change]:
					sameDecode[List[Change]](t, d)
				case List[Event]:
					sameDecode[List[Event]](t, d)
				case Event:
					sameDecode[Event](t, d)
				case Change:
					sameDecode[Change](t, d)
				}
			}
		}
	}
}

// decodeOdd are documents outside what pesd writes: unknown keys, keys
// in another case or escaped, repeated keys, nulls everywhere, escapes
// and surrogates, numbers of every form, wrong types, bad syntax and
// what follows the value.
var decodeOdd = []string{
	``, ` `, `null`, ` null `, `{}`, `[]`, `"x"`, `{`, `{"id"`, `{"id":`, `{"id":"a"`, `{"id":"a",}`, `{,}`, `{"id" "a"}`,
	`{"id":"a"} trailing`, `{"id":"a"}}`, `{"id":"a"}{"id":"b"}`, "{\"id\":\"a\"}\n",
	// unknown keys, skipped whatever they hold, unless they fold to a field
	`{"new":{"a":[1,2.5e3,{"b":null}],"c":"\u00e9\n"},"id":"a","more":[true,false,null,-0.0,"x"]}`,
	`{"ID":"a"}`, `{"Label":"L","label":"l"}`, `{"label":"l","LABEL":"L"}`, `{"grOup_id":"g"}`, `{"\u0069d":"a"}`, `{"i\"d":"a"}`,
	`{"ſtatus":"s"}`, `{"new":[1,]}`, `{"new":[1 2]}`, `{"new":01}`, `{"new":1.}`, `{"new":.5}`, `{"new":1e}`, `{"new":-}`,
	`{"new":"\x"}`, `{"new":"a` + "\x01" + `"}`, `{"new":tru}`, `{"new":nul}`, `{"new":{"a"}}`, `{"new":{1:2}}`,
	// repeated keys: the last wins, objects and arrays merge as encoding/json merges them
	`{"id":"a","id":"b"}`, `{"source":{"kind":"user","id":"u"},"source":{"name":"n"}}`,
	`{"request":{"change_by":1},"request":{"set_to":2}}`, `{"request":{"change_by":1},"request":null}`,
	`{"causes":[{"attribution":"direct","event":{"id":"e1","label":"E1"}},{"event":{"id":"e2"}}],"causes":[{"event":{"label":"X"}}]}`,
	`{"causes":[{"event":{"id":"e1"}}],"causes":[]}`, `{"causes":[{"event":{"id":"e1"}}],"causes":null}`,
	`{"node_ids":["a","b","c"],"node_ids":["x"]}`, `{"ended_at":"2026-01-02T03:04:05Z","ended_at":null}`,
	`{"items":[{"id":"a","node_ids":["1","2"]},{"id":"b"}],"items":[{"label":"L"}]}`,
	// null for every kind of field
	`{"id":null,"amount":null,"started_at":null,"ended_at":null,"node_ids":null,"parts":null,"causes":null,"node_hours":null,"cost_final":null}`,
	`{"source":null,"time":null,"request":null,"immediate":null,"proposed_quantity":null,"notes":[null,"a"],"effects":[null]}`,
	`{"items":null,"next_page_token":null}`, `{"items":[null,{"id":"a"}]}`, `{"causes":[{"event":null,"decisive":null}]}`,
	// strings
	`{"id":"\"\\\/\b\f\n\r\t\u0041\u00e9\u2028"}`, `{"id":"\ud83d\ude00 pair"}`, `{"id":"\ud83d lone high"}`, `{"id":"\ude00 lone low"}`,
	`{"id":"\ud83d\u0041 high then other"}`, `{"id":"\ud83d\ud83d two highs"}`, `{"id":"\'"}`, `{"id":"\u12"}`, `{"id":"\u12G4"}`,
	"{\"id\":\"bad \xff\xfe utf8\"}", "{\"id\":\"\xed\xa0\x80 surrogate in utf8\"}", "{\"id\":\"caf\xc3\xa9 \xe2\x80\xa8\"}",
	"{\"id\":\"tab\tinside\"}", `{"id":"unterminated`, `{"id":5}`, `{"id":true}`, `{"id":{}}`, `{"id":[]}`,
	// numbers
	`{"amount":-0}`, `{"amount":1.0}`, `{"amount":1e2}`, `{"amount":9223372036854775807}`, `{"amount":9223372036854775808}`,
	`{"amount":-9223372036854775809}`, `{"amount":"3"}`, `{"amount":01}`, `{"amount":true}`, `{"amount":-}`,
	`{"node_hours":1e400}`, `{"node_hours":-1.5E-3}`, `{"node_hours":0.1}`, `{"node_hours":"1"}`, `{"node_hours":5e-324}`,
	`{"request":{"change_by_percent":12.5,"target":{"metric":"m","value":1e21,"tolerance":0.1}}}`, `{"request":{"target":{"value":null}}}`,
	// times
	`{"started_at":"2026-12-07T01:02:03.456789Z"}`, `{"time":"2026-12-07T01:02:03+01:00"}`, `{"time":"2026-12-07T01:02:03-09:30"}`,
	`{"time":"2026-12-07 01:02:03Z"}`, `{"time":"2026-12-07T01:02:03"}`, `{"time":"\u0032026-12-07T01:02:03Z"}`, `{"time":5}`,
	`{"time":"2026-12-07T25:02:03Z"}`, `{"parts":[{"ready_at":"2026-12-07T01:02:03Z","amount":2},{}]}`,
	// booleans and wrong types
	`{"immediate":true,"cost_final":false,"decisive":true}`, `{"immediate":"true"}`, `{"causes":[{"decisive":1}]}`, `{"causes":{}}`,
	`{"request":[]}`, `{"source":"user"}`, `{"items":{}}`, `{"items":[1]}`, `{"effects":[{"change":{"parts":[{"amount":1.5}]}}]}`,
}

func TestDecodeJSONOddDocuments(t *testing.T) {
	for _, d := range decodeOdd {
		decodeAll(t, []byte(d))
		if strings.HasPrefix(d, "{") { // as an item too
			decodeAll(t, []byte(`{"items":[`+d+`]}`))
			decodeAll(t, []byte(`{"causes":[{"event":`+d+`}],"effects":[{"change":`+d+`}]}`))
		}
	}
	// A destination that is not zero is the Decoder's to fill.
	got, want := ChangeDetail{Explanation: "kept"}, ChangeDetail{Explanation: "kept"}
	data := []byte(`{"id":"a"}`)
	if err := DecodeJSON(data, &got); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(data, &want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("into a value: got %+v, want %+v", got, want)
	}
	var nilDetail *ChangeDetail
	if err := DecodeJSON(data, nilDetail); err == nil {
		t.Error("decoded into a nil pointer")
	}
}

func FuzzDecodeJSON(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, d := range decodeOdd {
		f.Add([]byte(d))
	}
	f.Add(encoded(f, randomOf[ChangeDetail](r, 1)[0]))
	f.Add(encoded(f, List[EventDetail]{Items: randomOf[EventDetail](r, 2)}))
	f.Fuzz(func(t *testing.T, data []byte) {
		decodeAll(t, data)
	})
}

// causalityPage is a page of n changes with their causes as pesd answers
// GET /v1/groups/{id}/changes?include=causes on the benchmark's store:
// uuids, about 1.6 KB an item.
func causalityPage(n int) List[ChangeDetail] {
	r := rand.New(rand.NewPCG(7, 8))
	id := func() string {
		return fmt.Sprintf("01a24f47-%04x-7%03x-%04x-%012x", r.IntN(1<<16), r.IntN(1<<12), 0x8000|r.IntN(1<<14), r.Int64N(1<<48))
	}
	t0 := time.Date(2026, 12, 5, 11, 20, 40, 200_000_000, time.UTC)
	group := id()
	l := List[ChangeDetail]{NextPageToken: "eyJvZmZzZXQiOjEwMDB9"}
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Minute)
		end := at.Add(2 * time.Second)
		nodes := make([]string, 1+r.IntN(4))
		for j := range nodes {
			nodes[j] = id()
		}
		q, set := 8+r.IntN(8), 8
		hours, final := float64(r.IntN(100))/7, true
		period, nexus := id(), id()
		d := ChangeDetail{Change: Change{ID: id(), Label: fmt.Sprintf("C%d", i+1), GroupID: group, Type: ChangeAddNodes,
			Amount: len(nodes), QuantityBefore: q, QuantityAfter: q + len(nodes), Status: ChangeCompleted, StartedAt: at, EndedAt: &end,
			PeriodID: period, PeriodLabel: fmt.Sprintf("H%d", i/2+1), NexusID: nexus, Attribution: AttributionIndirect, NodeIDs: nodes,
			Description: fmt.Sprintf("add %d nodes, %d → %d", len(nodes), q, q+len(nodes))},
			Explanation: fmt.Sprintf("Change C%d (add %d nodes) at %s was caused indirectly by events E%d and E%d. Policy largest chose +4 → desired %d.",
				i+1, len(nodes), at.Format("15:04:05"), 2*i, 2*i+1, q+len(nodes)),
			NodeHours: &hours, CostFinal: &final}
		for k := range 1 + r.IntN(2) {
			d.Causes = append(d.Causes, Cause{Attribution: AttributionIndirect, Decisive: k == 0, Event: Event{ID: id(),
				Label: fmt.Sprintf("E%d", 2*i+k), GroupID: group, Type: EventTriggerFired,
				Source: Source{Kind: SourceTrigger, ID: id(), Name: "cpu-high"}, Time: at.Add(-30 * time.Second), PeriodID: period,
				PeriodLabel: d.PeriodLabel, Request: &Request{ChangeBy: &set}, ProposedQuantity: &q, Priority: 50, Status: EventAggregated,
				Observed: "avg cpu_utilization 87.3 > 80 over 10s", NexusID: nexus,
				Description: "trigger cpu-high asked for +4 (avg cpu_utilization 87.3 > 80 over 10s)"}})
		}
		l.Items = append(l.Items, d)
	}
	return l
}

// BenchmarkCausalityPageJSON writes and reads a page of 1,000 changes
// with their causes: by hand and by encoding/json.
func BenchmarkCausalityPageJSON(b *testing.B) {
	page := causalityPage(1000)
	data := encoded(b, page)
	b.Run("write/append", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		var buf []byte
		for b.Loop() {
			buf, _ = AppendJSON(buf[:0], page)
		}
	})
	b.Run("write/encoder", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(page)
		}
	})
	one := page.Items[0]
	b.Run("write-one/append", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf, _ = AppendJSON(buf[:0], one)
		}
	})
	b.Run("write-one/encoder", func(b *testing.B) {
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(one)
		}
	})
	b.Run("read/scanner", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var l List[ChangeDetail]
			if err := DecodeJSON(data, &l); err != nil || len(l.Items) != 1000 {
				b.Fatal(err)
			}
		}
	})
	b.Run("read/decoder", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var l List[ChangeDetail]
			if err := json.NewDecoder(bytes.NewReader(data)).Decode(&l); err != nil || len(l.Items) != 1000 {
				b.Fatal(err)
			}
		}
	})
}

// sameStrict checks that ReadRequest reads data into a zero T as a
// Decoder with DisallowUnknownFields does whenever it reads it at all,
// gives up on whatever that Decoder rejects, and leaves *T zero when it
// gives up.
func sameStrict[T any](t *testing.T, data []byte) (read bool) {
	t.Helper()
	var got, want T
	read = ReadRequest(data, &got)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	werr := dec.Decode(&want)
	if werr == nil {
		if _, err := dec.Token(); err != io.EOF {
			werr = fmt.Errorf("data after the value")
		}
	}
	switch {
	case !read && !reflect.ValueOf(got).IsZero():
		t.Fatalf("%T from %.300q: gave up but left %+v", got, data, got)
	case read && werr != nil:
		t.Fatalf("%T from %.300q: read %+v where a strict Decoder fails: %v", got, data, got, werr)
	case read && !reflect.DeepEqual(got, want):
		t.Fatalf("%T from %.300q:\n got  %+v\n want %+v", got, data, got, want)
	}
	return read
}

var instructionBodies = []string{
	`{"change_by":1,"reason":"bench","priority":10}`,
	` {"set_to":3,"immediate":true,"actor":"terraform","in_reply_to":"e1"} `,
	`{"change_by_percent":-12.5,"priority":null,"reason":"caf\u00e9 \"q\""}`,
	`{"target":{"metric":"cpu","value":0.5,"tolerance":0.1,"window":"1m","scale_in_stabilization":"5m"}}`,
	`{}`, `{"change_by":null,"target":null}`, `{"reason":"a","reason":"b","change_by":1,"change_by":2}`,
	`{"immediate":false,"immediate":null}`,
}

// Instruction bodies the scanner must read, and odd ones it must leave
// to the Decoder: unknown keys (also inside target), keys in another
// case or escaped, wrong types, fractions for integers, null at the top,
// data after the value, bad syntax.
func TestReadRequestAsStrictDecoder(t *testing.T) {
	for _, d := range instructionBodies {
		if !sameStrict[Instruction](t, []byte(d)) {
			t.Errorf("gave up on %q", d)
		}
	}
	for _, d := range []string{
		`{"change_by":1,"bogus":2}`, `{"target":{"metric":"cpu","value":1,"bogus":1}}`, `{"Change_By":1}`,
		`{"change_\u0062y":1}`, `{"change_by":1.5}`, `{"change_by":"1"}`, `{"priority":1e2}`, `{"immediate":"yes"}`,
		`null`, `[]`, `{"change_by":1} {}`, `{"change_by":1`, `{"change_by":1,}`, ``, `{"reason":5}`,
		`{"change_by":99999999999999999999}`, `{"target":[]}`,
	} {
		if sameStrict[Instruction](t, []byte(d)) {
			t.Errorf("read %q, which a strict decoding rejects or names differently", d)
		}
	}
	// Only instructions: anything else is the Decoder's.
	var e Event
	if ReadRequest([]byte(`{"id":"a"}`), &e) {
		t.Error("read an event as a request")
	}
}

func FuzzReadRequest(f *testing.F) {
	for _, d := range instructionBodies {
		f.Add([]byte(d))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameStrict[Instruction](t, data)
	})
}
