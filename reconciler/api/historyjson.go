package api

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"
)

// AppendJSON appends v as the API writes its answers: byte for byte what
// encoding/json's Encoder with HTML escaping off writes, the newline
// included. The causality shapes (changes and events, alone, with their
// causes or effects, and their lists) are appended by hand: a page of a
// thousand changes with causes is 1.6 MB, and reflection took about a
// tenth of pesd's CPU to write it. Any other v, or a value the encoder
// would refuse (a NaN, a year past 9999), goes through the encoder, so
// its answer and its error are the encoder's own.
func AppendJSON(b []byte, v any) ([]byte, error) {
	n := len(b)
	var ok bool
	switch v := v.(type) {
	case ChangeDetail:
		b, ok = v.appendJSON(b)
	case EventDetail:
		b, ok = v.appendJSON(b)
	case Event: // an instruction's answer
		b, ok = v.appendJSON(b)
	case Change:
		b, ok = v.appendJSON(b)
	case List[ChangeDetail]:
		b, ok = appendList(b, v, (*ChangeDetail).appendJSON)
	case List[EventDetail]:
		b, ok = appendList(b, v, (*EventDetail).appendJSON)
	case List[Change]:
		b, ok = appendList(b, v, (*Change).appendJSON)
	case List[Event]:
		b, ok = appendList(b, v, (*Event).appendJSON)
	}
	if ok {
		return append(b, '\n'), nil
	}
	buf := bytes.NewBuffer(b[:n])
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false) // messages say "5 > 3", not "5 \u003e 3"
	err := enc.Encode(v)
	return buf.Bytes(), err
}

// appendList appends a list envelope whose items append themselves;
// false when an item cannot.
func appendList[T any](b []byte, l List[T], item func(*T, []byte) ([]byte, bool)) ([]byte, bool) {
	b = append(b, `{"items":`...)
	if l.Items == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range l.Items {
			if i > 0 {
				b = append(b, ',')
			}
			start := len(b)
			var ok bool
			if b, ok = item(&l.Items[i], b); !ok {
				return b, false
			}
			if i == 0 {
				// Room for the rest at half again the first item's
				// size, grown once: doubling up to a long page's
				// megabytes cost more than writing it.
				b = slices.Grow(b, (len(b)-start+1)*(len(l.Items)-1)*3/2)
			}
		}
		b = append(b, ']')
	}
	if l.NextPageToken != "" {
		b = appendJSONString(append(b, `,"next_page_token":`...), l.NextPageToken)
	}
	return append(b, '}'), true
}

// The appenders below write their fields in the struct's order, as the
// encoder does, with the same omitempty rules; each returns false for a
// value the encoder refuses, and AppendJSON then lets the encoder say why.

func (d *ChangeDetail) appendJSON(b []byte) ([]byte, bool) {
	b, ok := d.Change.appendFields(append(b, '{'))
	if !ok {
		return b, false
	}
	b = append(b, `,"causes":`...)
	if d.Causes == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range d.Causes {
			if i > 0 {
				b = append(b, ',')
			}
			if b, ok = d.Causes[i].appendJSON(b); !ok {
				return b, false
			}
		}
		b = append(b, ']')
	}
	b = appendJSONString(append(b, `,"explanation":`...), d.Explanation)
	if d.NodeHours != nil {
		if b, ok = appendFloat(append(b, `,"node_hours":`...), *d.NodeHours); !ok {
			return b, false
		}
	}
	b = appendOmitString(b, `,"cost":`, d.Cost)
	b = appendOmitString(b, `,"currency":`, d.Currency)
	if d.CostFinal != nil {
		b = strconv.AppendBool(append(b, `,"cost_final":`...), *d.CostFinal)
	}
	return append(b, '}'), true
}

func (d *EventDetail) appendJSON(b []byte) ([]byte, bool) {
	b, ok := d.Event.appendFields(append(b, '{'))
	if !ok {
		return b, false
	}
	b = append(b, `,"effects":`...)
	if d.Effects == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range d.Effects {
			if i > 0 {
				b = append(b, ',')
			}
			if b, ok = d.Effects[i].appendJSON(b); !ok {
				return b, false
			}
		}
		b = append(b, ']')
	}
	b = appendJSONString(append(b, `,"explanation":`...), d.Explanation)
	return append(b, '}'), true
}

func (c *Cause) appendJSON(b []byte) ([]byte, bool) {
	b = appendJSONString(append(b, `{"attribution":`...), c.Attribution)
	if c.Decisive {
		b = append(b, `,"decisive":true`...)
	}
	b, ok := c.Event.appendJSON(append(b, `,"event":`...))
	return append(b, '}'), ok
}

func (e *Effect) appendJSON(b []byte) ([]byte, bool) {
	b = appendJSONString(append(b, `{"attribution":`...), e.Attribution)
	b, ok := e.Change.appendJSON(append(b, `,"change":`...))
	return append(b, '}'), ok
}

func (c *Change) appendJSON(b []byte) ([]byte, bool) {
	b, ok := c.appendFields(append(b, '{'))
	return append(b, '}'), ok
}

// appendFields appends c's fields without the braces: ChangeDetail
// embeds them.
func (c *Change) appendFields(b []byte) ([]byte, bool) {
	b = appendJSONString(append(b, `"id":`...), c.ID)
	b = appendJSONString(append(b, `,"label":`...), c.Label)
	b = appendJSONString(append(b, `,"group_id":`...), c.GroupID)
	b = appendJSONString(append(b, `,"type":`...), c.Type)
	b = strconv.AppendInt(append(b, `,"amount":`...), int64(c.Amount), 10)
	b = strconv.AppendInt(append(b, `,"quantity_before":`...), int64(c.QuantityBefore), 10)
	b = strconv.AppendInt(append(b, `,"quantity_after":`...), int64(c.QuantityAfter), 10)
	b = appendJSONString(append(b, `,"status":`...), c.Status)
	b, ok := appendTime(append(b, `,"started_at":`...), c.StartedAt)
	if !ok {
		return b, false
	}
	if c.EndedAt != nil {
		if b, ok = appendTime(append(b, `,"ended_at":`...), *c.EndedAt); !ok {
			return b, false
		}
	}
	b = appendJSONString(append(b, `,"period_id":`...), c.PeriodID)
	b = appendJSONString(append(b, `,"period_label":`...), c.PeriodLabel)
	b = appendJSONString(append(b, `,"nexus_id":`...), c.NexusID)
	b = appendJSONString(append(b, `,"attribution":`...), c.Attribution)
	b = appendJSONStrings(append(b, `,"node_ids":`...), c.NodeIDs)
	if len(c.Parts) > 0 {
		b = append(b, `,"parts":[`...)
		for i, p := range c.Parts {
			if i > 0 {
				b = append(b, ',')
			}
			if b, ok = appendTime(append(b, `{"ready_at":`...), p.ReadyAt); !ok {
				return b, false
			}
			b = strconv.AppendInt(append(b, `,"amount":`...), int64(p.Amount), 10)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return appendJSONString(append(b, `,"description":`...), c.Description), true
}

func (e *Event) appendJSON(b []byte) ([]byte, bool) {
	b, ok := e.appendFields(append(b, '{'))
	return append(b, '}'), ok
}

// appendFields appends e's fields without the braces: EventDetail
// embeds them.
func (e *Event) appendFields(b []byte) ([]byte, bool) {
	b = appendJSONString(append(b, `"id":`...), e.ID)
	b = appendJSONString(append(b, `,"label":`...), e.Label)
	b = appendJSONString(append(b, `,"group_id":`...), e.GroupID)
	b = appendJSONString(append(b, `,"type":`...), e.Type)
	b = e.Source.appendJSON(append(b, `,"source":`...))
	b, ok := appendTime(append(b, `,"time":`...), e.Time)
	if !ok {
		return b, false
	}
	b = appendJSONString(append(b, `,"period_id":`...), e.PeriodID)
	b = appendJSONString(append(b, `,"period_label":`...), e.PeriodLabel)
	b = append(b, `,"request":`...)
	if e.Request == nil {
		b = append(b, "null"...)
	} else if b, ok = e.Request.appendJSON(b); !ok {
		return b, false
	}
	if e.Immediate {
		b = append(b, `,"immediate":true`...)
	}
	b = appendIntPtr(append(b, `,"proposed_quantity":`...), e.ProposedQuantity)
	b = strconv.AppendInt(append(b, `,"priority":`...), int64(e.Priority), 10)
	b = appendJSONString(append(b, `,"status":`...), e.Status)
	b = appendOmitString(b, `,"reason":`, e.Reason)
	if len(e.Notes) > 0 {
		b = appendJSONStrings(append(b, `,"notes":`...), e.Notes)
	}
	b = appendOmitString(b, `,"observed":`, e.Observed)
	b = appendOmitString(b, `,"node_id":`, e.NodeID)
	b = appendOmitString(b, `,"node_name":`, e.NodeName)
	b = appendOmitString(b, `,"parent_change_id":`, e.ParentChangeID)
	b = appendOmitString(b, `,"parent_event_id":`, e.ParentEventID)
	b = appendOmitString(b, `,"nexus_id":`, e.NexusID)
	return appendJSONString(append(b, `,"description":`...), e.Description), true
}

func (s *Source) appendJSON(b []byte) []byte {
	b = appendJSONString(append(b, `{"kind":`...), s.Kind)
	b = appendOmitString(b, `,"id":`, s.ID)
	b = appendOmitString(b, `,"name":`, s.Name)
	b = appendOmitString(b, `,"principal":`, s.Principal)
	b = appendOmitString(b, `,"on_behalf_of":`, s.OnBehalfOf)
	return append(b, '}')
}

// appendJSON appends r, whose keys are all omitempty: a comma goes
// before each but the first written.
func (r *Request) appendJSON(b []byte) ([]byte, bool) {
	open := len(b)
	key := func(b []byte, k string) []byte {
		if len(b) > open+1 {
			b = append(b, ',')
		}
		return append(b, k...)
	}
	b = append(b, '{')
	ok := true
	if r.ChangeBy != nil {
		b = strconv.AppendInt(key(b, `"change_by":`), int64(*r.ChangeBy), 10)
	}
	if r.ChangeByPercent != nil {
		if b, ok = appendFloat(key(b, `"change_by_percent":`), *r.ChangeByPercent); !ok {
			return b, false
		}
	}
	if r.SetTo != nil {
		b = strconv.AppendInt(key(b, `"set_to":`), int64(*r.SetTo), 10)
	}
	if t := r.Target; t != nil {
		b = appendJSONString(key(b, `"target":{"metric":`), t.Metric)
		if b, ok = appendFloat(append(b, `,"value":`...), t.Value); !ok {
			return b, false
		}
		if t.Tolerance != nil {
			if b, ok = appendFloat(append(b, `,"tolerance":`...), *t.Tolerance); !ok {
				return b, false
			}
		}
		b = appendOmitString(b, `,"window":`, t.Window)
		b = appendOmitString(b, `,"scale_in_stabilization":`, t.ScaleInStabilization)
		b = append(b, '}')
	}
	return append(b, '}'), true
}

// appendOmitString appends key and s unless s is empty (omitempty).
func appendOmitString(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendJSONString(append(b, key...), s)
}

func appendIntPtr(b []byte, p *int) []byte {
	if p == nil {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, int64(*p), 10)
}

// appendFloat is appendJSONFloat, false for what JSON cannot hold.
func appendFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, false
	}
	return appendJSONFloat(b, f), true
}

// appendTime appends t as its MarshalJSON does (RFC 3339 with
// nanoseconds); false for a time RFC 3339 cannot hold.
func appendTime(b []byte, t time.Time) ([]byte, bool) {
	out, err := t.AppendText(append(b, '"'))
	if err != nil { // out is nil then
		return b, false
	}
	return append(out, '"'), true
}
