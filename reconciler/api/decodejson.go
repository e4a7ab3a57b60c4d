package api

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// DecodeJSON decodes the JSON value at the start of data into v as
// encoding/json's Decoder does (what follows the value is not read),
// for a v that points to a zero value. The causality answers (changes
// and events, alone, with their causes or effects, and their lists) are
// read by a scanner over the bytes: a page of a thousand changes with
// causes is 1.6 MB, and reflection took a client 20 ms to read it. The
// scanner gives up on anything it does not expect: keys in another case
// or with escapes, a value of another type, bad syntax. Then, and for
// every other v, the Decoder reads data afresh and its result and error
// stand.
func DecodeJSON(data []byte, v any) error {
	if readByHand(data, v) {
		return nil
	}
	return json.NewDecoder(bytes.NewReader(data)).Decode(v)
}

// readByHand reads data into v when v is a shape the scanner knows and
// the scanner reads all of it; false leaves *v as it was.
func readByHand(data []byte, v any) bool {
	switch v := v.(type) {
	case *ChangeDetail:
		return readInto(data, v, (*ChangeDetail).read)
	case *EventDetail:
		return readInto(data, v, (*EventDetail).read)
	case *Event:
		return readInto(data, v, (*Event).read)
	case *Change:
		return readInto(data, v, (*Change).read)
	case *List[ChangeDetail]:
		return readInto(data, v, listOf((*ChangeDetail).read))
	case *List[EventDetail]:
		return readInto(data, v, listOf((*EventDetail).read))
	case *List[Change]:
		return readInto(data, v, listOf((*Change).read))
	case *List[Event]:
		return readInto(data, v, listOf((*Event).read))
	}
	return false
}

// ReadRequest reads data, a request's body, into v, which points to the
// zero value of a request the scanner knows (an instruction), as a
// Decoder with DisallowUnknownFields does, and reports whether it did:
// false, with *v zero, for a body the Decoder would reject, for a key
// spelt in another case or with escapes (which the Decoder matches but a
// strict reading names as unknown), and for a top-level null. The
// caller then decodes the body the slow way, which names the field at
// fault. An instruction is the API's most frequent write; reflection was
// a tenth of the CPU of its handler.
func ReadRequest(data []byte, v any) bool {
	switch v := v.(type) {
	case *Instruction:
		return readWith(jsonReader{b: data, strict: true}, v, (*Instruction).read)
	}
	return false
}

// readInto reads data into the zero value at v with read; false, with
// *v zero again, when the scanner gave up.
func readInto[T any](data []byte, v *T, read func(*T, *jsonReader)) bool {
	return readWith(jsonReader{b: data}, v, read)
}

// readWith is readInto with the reader r.
func readWith[T any](r jsonReader, v *T, read func(*T, *jsonReader)) bool {
	if v == nil || !reflect.ValueOf(v).Elem().IsZero() {
		return false
	}
	read(v, &r)
	if !r.bad {
		r.ws()
		if r.i < len(r.b) { // something after the value: the Decoder says what it makes of it
			r.bad = true
		}
	}
	if r.bad {
		var zero T
		*v = zero
		return false
	}
	return true
}

// jsonReader scans one JSON document. Each read sets bad instead of
// returning an error: the caller then reads the document with
// encoding/json, whose error is the one to report.
type jsonReader struct {
	b   []byte
	i   int
	bad bool
	key []byte // the key field read
	// strict: a key the type does not have is an error, as with
	// DisallowUnknownFields (other gives up), not skipped.
	strict bool
}

func (r *jsonReader) ws() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// peek is the next byte after white space, 0 at the end or after a
// failure.
func (r *jsonReader) peek() byte {
	r.ws()
	if r.bad || r.i >= len(r.b) {
		return 0
	}
	return r.b[r.i]
}

func (r *jsonReader) expect(c byte) bool {
	if r.peek() != c {
		r.bad = true
		return false
	}
	r.i++
	return true
}

// null consumes a null; encoding/json leaves strings, numbers, booleans
// and structs as they were for one, and sets slices and pointers to nil.
func (r *jsonReader) null() bool {
	if r.peek() == 'n' {
		if bytes.HasPrefix(r.b[r.i:], []byte("null")) {
			r.i += 4
			return true
		}
		r.bad = true
	}
	return false
}

// field reads the n-th key of an object (the '{' before the first) and
// its colon into r.key; false at the end of the object or on a failure.
// A key with escapes or beyond ASCII would need unquoting and Unicode
// folding: field gives up on it.
func (r *jsonReader) field(n int) bool {
	c := r.peek()
	switch {
	case n == 0 && c == '{':
		r.i++
		if r.peek() == '}' {
			r.i++
			return false
		}
	case n > 0 && c == ',':
		r.i++
	case n > 0 && c == '}':
		r.i++
		return false
	default:
		r.bad = true
		return false
	}
	if r.peek() != '"' {
		r.bad = true
		return false
	}
	start := r.i + 1
	end := start
	for end < len(r.b) && r.b[end] != '"' && r.b[end] != '\\' && r.b[end] >= 0x20 && r.b[end] < utf8.RuneSelf {
		end++
	}
	if end >= len(r.b) || r.b[end] != '"' {
		r.bad = true
		return false
	}
	r.key = r.b[start:end]
	r.i = end + 1
	return r.expect(':')
}

// other skips the value of a key the type does not have, as
// encoding/json does, unless the key names one of fields in another
// case: encoding/json would fill that field.
func (r *jsonReader) other(fields string) {
	if r.strict {
		r.bad = true
		return
	}
	for f := range bytes.SplitSeq([]byte(fields), []byte(" ")) {
		if bytes.EqualFold(f, r.key) {
			r.bad = true
			return
		}
	}
	r.skip()
}

// skip reads past one value, checking its syntax as encoding/json would.
func (r *jsonReader) skip() {
	switch c := r.peek(); {
	case c == '{':
		for n := 0; r.field(n); n++ {
			r.skip()
		}
	case c == '[':
		r.i++
		if r.peek() == ']' {
			r.i++
			return
		}
		for !r.bad {
			r.skip()
			if r.peek() == ']' {
				r.i++
				return
			}
			r.expect(',')
		}
	case c == '"':
		r.rawString()
	case c == '-' || c >= '0' && c <= '9':
		r.number()
	case c == 't':
		r.literal("true")
	case c == 'f':
		r.literal("false")
	case c == 'n':
		r.literal("null")
	default:
		r.bad = true
	}
}

func (r *jsonReader) literal(s string) {
	if !bytes.HasPrefix(r.b[r.i:], []byte(s)) {
		r.bad = true
		return
	}
	r.i += len(s)
}

// number reads a number's literal, checked against JSON's grammar;
// integer says it has neither a fraction nor an exponent.
func (r *jsonReader) number() (lit []byte, integer bool) {
	b, start := r.b, r.i
	i := start
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() bool {
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > j
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		r.bad = true
		return nil, false
	}
	integer = true
	if i < len(b) && b[i] == '.' {
		i++
		integer = false
		if !digits() {
			r.bad = true
			return nil, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		integer = false
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			r.bad = true
			return nil, false
		}
	}
	r.i = i
	return b[start:i], integer
}

// rawString reads a string's literal, quotes included, checked as
// encoding/json checks it; plain says it needs no unquoting (no escapes,
// valid UTF-8).
func (r *jsonReader) rawString() (lit []byte, plain bool) {
	b, start := r.b, r.i
	if start >= len(b) || b[start] != '"' {
		r.bad = true
		return nil, false
	}
	i := start + 1
	plain = true
	for i < len(b) {
		if i = plainASCII(b, i); i == len(b) {
			break
		}
		switch c := b[i]; {
		case c == '"':
			r.i = i + 1
			return b[start : i+1], plain
		case c == '\\':
			plain = false
			if i+1 >= len(b) {
				r.bad = true
				return nil, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if getu4(b[i:]) < 0 {
					r.bad = true
					return nil, false
				}
				i += 6
			default:
				r.bad = true
				return nil, false
			}
		case c < 0x20:
			r.bad = true
			return nil, false
		default: // plainASCII stopped at a multi-byte character's first byte
			rr, size := utf8.DecodeRune(b[i:])
			if rr == utf8.RuneError && size == 1 {
				plain = false
			}
			i += size
		}
	}
	r.bad = true
	return nil, false
}

// str reads a string into *p; null leaves it.
func (r *jsonReader) str(p *string) {
	if r.null() {
		return
	}
	lit, plain := r.rawString()
	if r.bad {
		return
	}
	if plain {
		*p = internString(lit[1 : len(lit)-1])
		return
	}
	*p = unquote(lit[1 : len(lit)-1])
}

// internString is string(b), without a copy for the words answers repeat
// on every item.
func internString(b []byte) string {
	switch string(b) {
	case "":
		return ""
	case AttributionDirect:
		return AttributionDirect
	case AttributionIndirect:
		return AttributionIndirect
	case ChangeCompleted:
		return ChangeCompleted
	case ChangeAddNodes:
		return ChangeAddNodes
	case ChangeRemoveNodes:
		return ChangeRemoveNodes
	case EventApplied:
		return EventApplied
	case EventAggregated:
		return EventAggregated
	case SourceUser:
		return SourceUser
	case SourceTrigger:
		return SourceTrigger
	case SourceSystem:
		return SourceSystem
	}
	return string(b)
}

// unquote is encoding/json's unquoting of a string checked by rawString:
// invalid UTF-8 and lone surrogates become U+FFFD.
func unquote(s []byte) string {
	b := make([]byte, 0, len(s)+2*utf8.UTFMax)
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '\\':
			switch s[i+1] {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				rr := getu4(s[i:])
				i += 6
				if utf16.IsSurrogate(rr) {
					if dec := utf16.DecodeRune(rr, getu4(s[i:])); dec != unicode.ReplacementChar {
						i += 6
						b = utf8.AppendRune(b, dec)
						continue
					}
					rr = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, rr)
				continue
			default: // " \ /
				b = append(b, s[i+1])
			}
			i += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			rr, size := utf8.DecodeRune(s[i:])
			b = utf8.AppendRune(b, rr)
			i += size
		}
	}
	return string(b)
}

func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// integer reads a whole number into *p; null leaves it. A fraction or
// exponent is a type error to encoding/json, and out of range too.
func (r *jsonReader) integer(p *int) {
	if r.null() {
		return
	}
	lit, integer := r.number()
	if r.bad || !integer {
		r.bad = true
		return
	}
	n, err := strconv.ParseInt(string(lit), 10, strconv.IntSize)
	if err != nil {
		r.bad = true
		return
	}
	*p = int(n)
}

func (r *jsonReader) float(p *float64) {
	if r.null() {
		return
	}
	lit, _ := r.number()
	if r.bad {
		return
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		r.bad = true
		return
	}
	*p = f
}

func (r *jsonReader) boolean(p *bool) {
	switch r.peek() {
	case 't':
		r.literal("true")
		*p = true
	case 'f':
		r.literal("false")
		*p = false
	case 'n':
		r.null()
	default:
		r.bad = true
	}
}

// time reads a time as its UnmarshalJSON does, from the literal.
func (r *jsonReader) time(p *time.Time) {
	if r.null() {
		return
	}
	lit, _ := r.rawString()
	if !r.bad && p.UnmarshalJSON(lit) != nil {
		r.bad = true
	}
}

// readPtr reads into the value *pp points to, allocating it when nil, as
// encoding/json does; null sets *pp to nil.
func readPtr[T any](r *jsonReader, pp **T, read func(*jsonReader, *T)) {
	if r.null() {
		*pp = nil
		return
	}
	if *pp == nil {
		*pp = new(T)
	}
	read(r, *pp)
}

// readSlice reads an array into *p as encoding/json does: into the elements
// already there first, nil for null, empty for [].
func readSlice[T any](r *jsonReader, p *[]T, read func(*jsonReader, *T)) {
	if r.null() {
		*p = nil
		return
	}
	if !r.expect('[') {
		return
	}
	s := *p
	i := 0
	if r.peek() != ']' {
		for !r.bad {
			if i >= len(s) {
				if i < cap(s) {
					s = s[:i+1]
				} else {
					var zero T
					s = append(s, zero)
				}
			}
			read(r, &s[i])
			i++
			if r.peek() != ',' {
				break
			}
			r.i++
		}
	}
	if !r.expect(']') {
		return
	}
	if i == 0 {
		s = []T{}
	}
	*p = s[:i]
}

// listOf is the reader of a list envelope whose items read themselves.
func listOf[T any](item func(*T, *jsonReader)) func(*List[T], *jsonReader) {
	return func(l *List[T], r *jsonReader) {
		if r.null() {
			return
		}
		for n := 0; r.field(n); n++ {
			switch string(r.key) {
			case "items":
				readSlice(r, &l.Items, func(r *jsonReader, t *T) { item(t, r) })
			case "next_page_token":
				r.str(&l.NextPageToken)
			default:
				r.other("items next_page_token")
			}
		}
	}
}

// The readers below know their type's keys; a struct's null leaves it
// as it was, as in encoding/json.

const changeFields = "id label group_id type amount quantity_before quantity_after status started_at ended_at " +
	"period_id period_label nexus_id attribution node_ids parts description"

const eventFields = "id label group_id type source time period_id period_label request immediate proposed_quantity " +
	"priority status reason notes observed node_id node_name parent_change_id parent_event_id nexus_id description"

func (d *ChangeDetail) read(r *jsonReader) {
	if r.null() {
		return
	}
	for n := 0; r.field(n); n++ {
		switch string(r.key) {
		case "causes":
			readSlice(r, &d.Causes, (*jsonReader).cause)
		case "explanation":
			r.str(&d.Explanation)
		case "node_hours":
			readPtr(r, &d.NodeHours, (*jsonReader).float)
		case "cost":
			r.str(&d.Cost)
		case "currency":
			r.str(&d.Currency)
		case "cost_final":
			readPtr(r, &d.CostFinal, (*jsonReader).boolean)
		default:
			if !d.Change.readField(r) {
				r.other(changeFields + " causes explanation node_hours cost currency cost_final")
			}
		}
	}
}

func (d *EventDetail) read(r *jsonReader) {
	if r.null() {
		return
	}
	for n := 0; r.field(n); n++ {
		switch string(r.key) {
		case "effects":
			readSlice(r, &d.Effects, (*jsonReader).effect)
		case "explanation":
			r.str(&d.Explanation)
		default:
			if !d.Event.readField(r) {
				r.other(eventFields + " effects explanation")
			}
		}
	}
}

func (r *jsonReader) cause(c *Cause) {
	if r.null() {
		return
	}
	for n := 0; r.field(n); n++ {
		switch string(r.key) {
		case "attribution":
			r.str(&c.Attribution)
		case "decisive":
			r.boolean(&c.Decisive)
		case "event":
			c.Event.read(r)
		default:
			r.other("attribution decisive event")
		}
	}
}

func (r *jsonReader) effect(e *Effect) {
	if r.null() {
		return
	}
	for n := 0; r.field(n); n++ {
		switch string(r.key) {
		case "attribution":
			r.str(&e.Attribution)
		case "change":
			e.Change.read(r)
		default:
			r.other("attribution change")
		}
	}
}

func (c *Change) read(r *jsonReader) {
	if r.null() {
		return
	}
	for n := 0; r.field(n); n++ {
		if !c.readField(r) {
			r.other(changeFields)
		}
	}
}

// readField reads the value of r.key when it is one of c's; false when
// it is not.
func (c *Change) readField(r *jsonReader) bool {
	switch string(r.key) {
	case "id":
		r.str(&c.ID)
	case "label":
		r.str(&c.Label)
	case "group_id":
		r.str(&c.GroupID)
	case "type":
		r.str(&c.Type)
	case "amount":
		r.integer(&c.Amount)
	case "quantity_before":
		r.integer(&c.QuantityBefore)
	case "quantity_after":
		r.integer(&c.QuantityAfter)
	case "status":
		r.str(&c.Status)
	case "started_at":
		r.time(&c.StartedAt)
	case "ended_at":
		readPtr(r, &c.EndedAt, (*jsonReader).time)
	case "period_id":
		r.str(&c.PeriodID)
	case "period_label":
		r.str(&c.PeriodLabel)
	case "nexus_id":
		r.str(&c.NexusID)
	case "attribution":
		r.str(&c.Attribution)
	case "node_ids":
		readSlice(r, &c.NodeIDs, (*jsonReader).str)
	case "parts":
		readSlice(r, &c.Parts, (*jsonReader).part)
	case "description":
		r.str(&c.Description)
	default:
		return false
	}
	return true
}

func (r *jsonReader) part(p *ChangePart) {
	if r.null() {
		return
	}
	for n := 0; r.field(n); n++ {
		switch string(r.key) {
		case "ready_at":
			r.time(&p.ReadyAt)
		case "amount":
			r.integer(&p.Amount)
		default:
			r.other("ready_at amount")
		}
	}
}

func (e *Event) read(r *jsonReader) {
	if r.null() {
		return
	}
	for n := 0; r.field(n); n++ {
		if !e.readField(r) {
			r.other(eventFields)
		}
	}
}

// readField reads the value of r.key when it is one of e's; false when
// it is not.
func (e *Event) readField(r *jsonReader) bool {
	switch string(r.key) {
	case "id":
		r.str(&e.ID)
	case "label":
		r.str(&e.Label)
	case "group_id":
		r.str(&e.GroupID)
	case "type":
		r.str(&e.Type)
	case "source":
		r.source(&e.Source)
	case "time":
		r.time(&e.Time)
	case "period_id":
		r.str(&e.PeriodID)
	case "period_label":
		r.str(&e.PeriodLabel)
	case "request":
		readPtr(r, &e.Request, (*jsonReader).request)
	case "immediate":
		r.boolean(&e.Immediate)
	case "proposed_quantity":
		readPtr(r, &e.ProposedQuantity, (*jsonReader).integer)
	case "priority":
		r.integer(&e.Priority)
	case "status":
		r.str(&e.Status)
	case "reason":
		r.str(&e.Reason)
	case "notes":
		readSlice(r, &e.Notes, (*jsonReader).str)
	case "observed":
		r.str(&e.Observed)
	case "node_id":
		r.str(&e.NodeID)
	case "node_name":
		r.str(&e.NodeName)
	case "parent_change_id":
		r.str(&e.ParentChangeID)
	case "parent_event_id":
		r.str(&e.ParentEventID)
	case "nexus_id":
		r.str(&e.NexusID)
	case "description":
		r.str(&e.Description)
	default:
		return false
	}
	return true
}

func (r *jsonReader) source(s *Source) {
	if r.null() {
		return
	}
	for n := 0; r.field(n); n++ {
		switch string(r.key) {
		case "kind":
			r.str(&s.Kind)
		case "id":
			r.str(&s.ID)
		case "name":
			r.str(&s.Name)
		case "principal":
			r.str(&s.Principal)
		case "on_behalf_of":
			r.str(&s.OnBehalfOf)
		default:
			r.other("kind id name principal on_behalf_of")
		}
	}
}

func (r *jsonReader) request(q *Request) {
	if r.null() {
		return
	}
	for n := 0; r.field(n); n++ {
		if !r.requestField(q) {
			r.other(requestFields)
		}
	}
}

const requestFields = "change_by change_by_percent set_to target"

// requestField reads the value of r.key when it is one of q's; false
// when it is not.
func (r *jsonReader) requestField(q *Request) bool {
	switch string(r.key) {
	case "change_by":
		readPtr(r, &q.ChangeBy, (*jsonReader).integer)
	case "change_by_percent":
		readPtr(r, &q.ChangeByPercent, (*jsonReader).float)
	case "set_to":
		readPtr(r, &q.SetTo, (*jsonReader).integer)
	case "target":
		readPtr(r, &q.Target, (*jsonReader).target)
	default:
		return false
	}
	return true
}

// read reads an instruction, its request's keys beside its own. Not a
// null: a request's body is an object.
func (in *Instruction) read(r *jsonReader) {
	for n := 0; r.field(n); n++ {
		if r.requestField(&in.Request) {
			continue
		}
		switch string(r.key) {
		case "immediate":
			r.boolean(&in.Immediate)
		case "priority":
			readPtr(r, &in.Priority, (*jsonReader).integer)
		case "reason":
			r.str(&in.Reason)
		case "actor":
			r.str(&in.Actor)
		case "in_reply_to":
			r.str(&in.InReplyTo)
		default:
			r.other(requestFields + " immediate priority reason actor in_reply_to")
		}
	}
}

func (r *jsonReader) target(t *Target) {
	if r.null() {
		return
	}
	for n := 0; r.field(n); n++ {
		switch string(r.key) {
		case "metric":
			r.str(&t.Metric)
		case "value":
			r.float(&t.Value)
		case "tolerance":
			readPtr(r, &t.Tolerance, (*jsonReader).float)
		case "window":
			r.str(&t.Window)
		case "scale_in_stabilization":
			r.str(&t.ScaleInStabilization)
		default:
			r.other("metric value tolerance window scale_in_stabilization")
		}
	}
}
