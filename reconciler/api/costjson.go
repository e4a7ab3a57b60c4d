package api

import (
	"io"
	"math"
	"strconv"
)

// WriteJSON writes c as encoding/json's Encoder with HTML escaping off
// writes it (the API's responses), byte for byte, by appending in chunks:
// an answer by cause over months has 100,000 rows, and reflection took
// longer to write them than pesd to compute them.
func (c Costs) WriteJSON(w io.Writer) error {
	if math.IsNaN(c.TotalNodeHours) || math.IsInf(c.TotalNodeHours, 0) {
		return unsupportedFloat(c.TotalNodeHours)
	}
	since, err := c.Since.MarshalJSON()
	if err != nil {
		return err
	}
	until, err := c.Until.MarshalJSON()
	if err != nil {
		return err
	}
	const chunk = 64 << 10
	b := make([]byte, 0, chunk+4<<10)
	b = appendJSONString(append(b, `{"group_id":`...), c.GroupID)
	b = appendJSONString(append(b, `,"by":`...), c.By)
	b = append(append(b, `,"since":`...), since...)
	b = append(append(b, `,"until":`...), until...)
	b = appendJSONString(append(b, `,"currency":`...), c.Currency)
	b = appendJSONString(append(b, `,"rule":`...), c.Rule)
	b = append(b, `,"rows":`...)
	if c.Rows == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, r := range c.Rows {
			if math.IsNaN(r.NodeHours) || math.IsInf(r.NodeHours, 0) {
				return unsupportedFloat(r.NodeHours)
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = r.appendJSON(b)
			if len(b) >= chunk {
				if _, err := w.Write(b); err != nil {
					return err
				}
				b = b[:0]
			}
		}
		b = append(b, ']')
	}
	b = strconv.AppendInt(append(b, `,"total_node_seconds":`...), c.TotalNodeSeconds, 10)
	b = appendJSONFloat(append(b, `,"total_node_hours":`...), c.TotalNodeHours)
	b = strconv.AppendInt(append(b, `,"total_cost_micros":`...), c.TotalCostMicros, 10)
	b = appendJSONString(append(b, `,"total_cost":`...), c.TotalCost)
	if c.NextPageToken != "" {
		b = appendJSONString(append(b, `,"next_page_token":`...), c.NextPageToken)
	}
	_, err = w.Write(append(b, "}\n"...))
	return err
}

type unsupportedFloat float64

func (f unsupportedFloat) Error() string {
	return "json: unsupported value: " + strconv.FormatFloat(float64(f), 'g', -1, 64)
}

// appendJSON appends a row as encoding/json writes the struct.
func (r CostRow) appendJSON(b []byte) []byte {
	b = append(b, `{"key":`...)
	b = appendJSONString(b, r.Key)
	b = append(b, `,"label":`...)
	b = appendJSONString(b, r.Label)
	if r.Type != "" {
		b = appendJSONString(append(b, `,"type":`...), r.Type)
	}
	if r.Name != "" {
		b = appendJSONString(append(b, `,"name":`...), r.Name)
	}
	b = strconv.AppendInt(append(b, `,"node_seconds":`...), r.NodeSeconds, 10)
	b = append(b, `,"node_hours":`...)
	b = appendJSONFloat(b, r.NodeHours)
	b = strconv.AppendInt(append(b, `,"cost_micros":`...), r.CostMicros, 10)
	b = appendJSONString(append(b, `,"cost":`...), r.Cost)
	b = appendJSONStrings(append(b, `,"change_ids":`...), r.ChangeIDs)
	b = appendJSONStrings(append(b, `,"event_ids":`...), r.EventIDs)
	b = appendJSONString(append(b, `,"description":`...), r.Description)
	return append(b, '}')
}
