package server

import (
	"strconv"
	"time"
	"unsafe"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// decodeSamples decodes a metrics push of the plain shape agents send,
// {"samples":[{"name":"cpu","value":1.5,"node_id":"n1","time":"..."}, ...]},
// without an allocation per sample: the samples go into one slice, their
// times into another, and each distinct name or node id is allocated once
// per request. It reports false, having set nothing the caller keeps, for
// anything outside that shape (an escape in a string, a byte outside
// ASCII, null, another key): decodeJSON then decodes the body the general
// way, which gives the same result or names the field that is wrong. What
// it accepts it decodes exactly as encoding/json would.
func decodeSamples(body []byte, m *api.MetricsRequest) bool {
	d := sampleDecoder{b: body, strs: make(map[string]string)}
	if !d.byte('{') || !d.key("samples") || !d.byte('[') {
		return false
	}
	// A first guess at the count: a sample takes at least 40 bytes.
	samples := make([]api.Sample, 0, min(len(body)/40+1, api.MaxSamplesPerRequest+1))
	var times []time.Time
	d.ws()
	if d.peek() == ']' {
		d.i++
	} else {
		for {
			var s api.Sample
			var t time.Time
			hasTime, ok := d.sample(&s, &t)
			if !ok {
				return false
			}
			if hasTime {
				if times == nil {
					times = make([]time.Time, 0, cap(samples))
				}
				if len(times) == cap(times) {
					return false // would move the times the samples point to
				}
				times = append(times, t)
				s.Time = &times[len(times)-1]
			}
			samples = append(samples, s)
			d.ws()
			if d.peek() == ',' {
				d.i++
				continue
			}
			if !d.byte(']') {
				return false
			}
			break
		}
	}
	if !d.byte('}') {
		return false
	}
	d.ws()
	if d.i != len(d.b) {
		return false
	}
	m.Samples = samples
	return true
}

type sampleDecoder struct {
	b    []byte
	i    int
	strs map[string]string // the request's distinct names and node ids
}

func (d *sampleDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\r', '\n':
			d.i++
		default:
			return
		}
	}
}

func (d *sampleDecoder) peek() byte {
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// byte consumes c after optional whitespace.
func (d *sampleDecoder) byte(c byte) bool {
	d.ws()
	if d.peek() != c {
		return false
	}
	d.i++
	return true
}

// raw reads a string of printable ASCII without escapes and returns its
// bytes (pointing into the body).
func (d *sampleDecoder) raw() ([]byte, bool) {
	if !d.byte('"') {
		return nil, false
	}
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return d.b[start : d.i-1], true
		case c < 0x20 || c >= 0x80 || c == '\\':
			return nil, false
		}
		d.i++
	}
	return nil, false
}

// key reads "name": and reports whether the key is name.
func (d *sampleDecoder) key(name string) bool {
	k, ok := d.raw()
	return ok && string(k) == name && d.byte(':')
}

// str reads a string, allocated once per request for each distinct value.
func (d *sampleDecoder) str() (string, bool) {
	b, ok := d.raw()
	if !ok {
		return "", false
	}
	if s, ok := d.strs[string(b)]; ok { // no allocation for the lookup
		return s, true
	}
	s := string(b)
	d.strs[s] = s
	return s, true
}

// number reads a JSON number (RFC 8259 grammar; strconv alone would take
// "+1", ".5" or "Inf") into a float64.
func (d *sampleDecoder) number() (float64, bool) {
	d.ws()
	start := d.i
	digits := func() int {
		n := 0
		for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	if d.peek() == '-' {
		d.i++
	}
	switch {
	case d.peek() == '0':
		d.i++
	case digits() == 0:
		return 0, false
	}
	if d.peek() == '.' {
		d.i++
		if digits() == 0 {
			return 0, false
		}
	}
	if c := d.peek(); c == 'e' || c == 'E' {
		d.i++
		if c := d.peek(); c == '+' || c == '-' {
			d.i++
		}
		if digits() == 0 {
			return 0, false
		}
	}
	b := d.b[start:d.i]
	// ParseFloat keeps nothing of its argument: the string need not be a
	// copy.
	v, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(b), len(b)), 64)
	return v, err == nil
}

// sample reads one sample object; each key may come at most once.
func (d *sampleDecoder) sample(s *api.Sample, t *time.Time) (hasTime, ok bool) {
	if !d.byte('{') {
		return false, false
	}
	var seen [4]bool
	d.ws()
	if d.peek() == '}' {
		d.i++
		return false, true
	}
	for {
		k, ok := d.raw()
		if !ok || !d.byte(':') {
			return false, false
		}
		var field int
		switch string(k) {
		case "name":
			field = 0
			s.Name, ok = d.str()
		case "value":
			field = 1
			s.Value, ok = d.number()
		case "node_id":
			field = 2
			s.NodeID, ok = d.str()
		case "time":
			field = 3
			var b []byte
			if b, ok = d.raw(); ok {
				// As encoding/json decodes a time.Time: strict RFC 3339.
				ok = t.UnmarshalText(b) == nil
				hasTime = true
			}
		default:
			return false, false
		}
		if !ok || seen[field] {
			return false, false
		}
		seen[field] = true
		d.ws()
		switch d.peek() {
		case ',':
			d.i++
			continue
		case '}':
			d.i++
			return hasTime, true
		}
		return false, false
	}
}
