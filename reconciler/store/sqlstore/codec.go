package sqlstore

import (
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// timeLayout is fixed-width (always nine fractional digits, always Z), so
// stored times sort and compare correctly as strings, and keep the
// nanoseconds a native timestamp type might cut.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// FormatTime is t as the time columns hold it. Years 0–9999 are written
// digit by digit, without time.Format's layout walk: every row written
// has one or more.
func FormatTime(t time.Time) string {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.Format(timeLayout)
	}
	hour, minute, sec := t.Clock()
	var b [30]byte
	put := func(at, width, n int) {
		for i := at + width - 1; i >= at; i-- {
			b[i] = byte('0' + n%10)
			n /= 10
		}
	}
	put(0, 4, year)
	b[4] = '-'
	put(5, 2, int(month))
	b[7] = '-'
	put(8, 2, day)
	b[10] = 'T'
	put(11, 2, hour)
	b[13] = ':'
	put(14, 2, minute)
	b[16] = ':'
	put(17, 2, sec)
	b[19] = '.'
	put(20, 9, t.Nanosecond())
	b[29] = 'Z'
	return string(b[:])
}

func fmtTimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return FormatTime(*t)
}

func parseTime(s string) (time.Time, error) {
	if t, ok := parseStoredTime(s); ok {
		return t, nil
	}
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// parseStoredTime reads a time exactly as FormatTime writes it
// (2006-01-02T15:04:05.000000000Z, 30 bytes) without time.Parse's
// general layout walk: every row read has one or more. Anything else,
// or a field out of range, is not ok, and time.Parse then decides.
func parseStoredTime(s string) (time.Time, bool) {
	if len(s) != 30 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' || s[29] != 'Z' {
		return time.Time{}, false
	}
	num := func(from, to int) (int, bool) {
		n := 0
		for i := from; i < to; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(5, 7)
	d, ok3 := num(8, 10)
	h, ok4 := num(11, 13)
	mi, ok5 := num(14, 16)
	sec, ok6 := num(17, 19)
	ns, ok7 := num(20, 29)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || !ok7 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, ns, time.UTC)
	if t.Day() != d { // the 31st of a 30-day month, say: time.Date would roll it over
		return time.Time{}, false
	}
	return t, true
}

func parseTimePtr(s sql.NullString) (*time.Time, error) {
	if !s.Valid {
		return nil, nil
	}
	t, err := parseTime(s.String)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// toJSON encodes a nested part; a nil pointer, slice or map becomes NULL so
// that nil and empty stay distinct.
func toJSON(v any) (any, error) {
	if j, ok := emptyJSON(v); ok {
		return j, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if string(b) == "null" {
		return nil, nil
	}
	return string(b), nil
}

// emptyJSON is toJSON without encoding/json for what a pass writes most:
// nil and empty slices and maps, and nil pointers. ok is false for
// anything else, and for types that marshal themselves or as strings
// ([]byte).
func emptyJSON(v any) (j any, ok bool) {
	if _, custom := v.(json.Marshaler); custom {
		return nil, false
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Invalid:
		return nil, true
	case reflect.Pointer:
		return nil, rv.IsNil()
	case reflect.Slice:
		switch {
		case rv.Type().Elem().Kind() == reflect.Uint8:
			return nil, false
		case rv.IsNil():
			return nil, true
		case rv.Len() == 0:
			return "[]", true
		}
	case reflect.Map:
		switch {
		case rv.IsNil():
			return nil, true
		case rv.Len() == 0:
			return "{}", true
		}
	}
	return nil, false
}

// fromJSON decodes a nested part; NULL leaves dst as its zero value.
func fromJSON(s sql.NullString, dst any) error {
	if !s.Valid {
		return nil
	}
	return json.Unmarshal([]byte(s.String), dst)
}

// fromJSONArray decodes a JSON array column as fromJSON does, without
// encoding/json for the empty array most rows hold (a period's
// suppressed requests, clamps, ignored events): []T{}, not nil, exactly
// as json.Unmarshal leaves it.
func fromJSONArray[T any](s sql.NullString, dst *[]T) error {
	if s.Valid && s.String == "[]" {
		*dst = []T{}
		return nil
	}
	return fromJSON(s, dst)
}

// scanDoc scans an (id, doc) row of a table that keeps its records as JSON
// documents (executions, runs, tokens, audit entries); what names the
// record in an error.
func scanDoc[T any](what string) func(sc scanner) (T, error) {
	return func(sc scanner) (T, error) {
		var (
			v       T
			id, doc string
		)
		if err := sc.Scan(&id, &doc); err != nil {
			return v, err
		}
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			return v, fmt.Errorf("%s %s: decode: %w", what, id, err)
		}
		return v, nil
	}
}

// encodeDoc is v as its doc column holds it; what names it in an error.
func encodeDoc(what string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("%s: encode: %w", what, err)
	}
	return string(b), nil
}

// decodeJSON decodes a NOT NULL JSON column.
func decodeJSON(dst any, s string) error {
	return fromJSON(sql.NullString{String: s, Valid: true}, dst)
}

// fromJSONStrings decodes a JSON array of strings (ids: node_ids,
// event_ids, change_ids), as fromJSON does but without reflection for the
// plain case: ASCII strings without escapes, the only ones pesd writes
// there. Anything else goes to encoding/json, so the result is the same.
func fromJSONStrings(s sql.NullString, dst *[]string) error {
	if !s.Valid {
		return nil
	}
	if out, ok := plainStrings(s.String); ok {
		*dst = out
		return nil
	}
	return json.Unmarshal([]byte(s.String), dst)
}

// plainStrings reads [] or ["a","b",…] (spaces allowed between the
// tokens, as PostgreSQL's jsonb writes them); ok is false for any other
// text, including escapes and bytes outside printable ASCII.
func plainStrings(s string) ([]string, bool) {
	i := 0
	skip := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r') {
			i++
		}
	}
	skip()
	if i >= len(s) || s[i] != '[' {
		return nil, false
	}
	i++
	skip()
	out := make([]string, 0, strings.Count(s, ","))
	if i < len(s) && s[i] == ']' {
		i++
		skip()
		return out, i == len(s)
	}
	for {
		if i >= len(s) || s[i] != '"' {
			return nil, false
		}
		start := i + 1
		for i = start; i < len(s) && s[i] != '"'; i++ {
			if c := s[i]; c == '\\' || c < 0x20 || c >= 0x80 {
				return nil, false
			}
		}
		if i >= len(s) {
			return nil, false
		}
		out = append(out, s[start:i])
		i++
		skip()
		if i >= len(s) {
			return nil, false
		}
		if s[i] == ']' {
			i++
			skip()
			return out, i == len(s)
		}
		if s[i] != ',' {
			return nil, false
		}
		i++
		skip()
	}
}

func intPtr(n sql.NullInt64) *int {
	if !n.Valid {
		return nil
	}
	v := int(n.Int64)
	return &v
}

func nullInt(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func nullFloat(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// Page sizes (SPEC §4).
const (
	DefaultLimit = api.DefaultPageLimit
	MaxLimit     = api.MaxPageLimit
)

// limit resolves a page's limit: 0 is the default, above MaxLimit is
// capped.
func limit(p store.Page) (int, error) {
	switch {
	case p.Limit < 0:
		return 0, &api.Error{Code: api.CodeInvalid, Field: "limit", Status: 400,
			Message: fmt.Sprintf("must be between 1 and %d, got %d", MaxLimit, p.Limit)}
	case p.Limit == 0:
		return DefaultLimit, nil
	case p.Limit > MaxLimit:
		return MaxLimit, nil
	}
	return p.Limit, nil
}

// cursor is the position after the last item of a page: its sort time and
// id. The token is opaque to callers so the encoding can change.
type cursor struct {
	Time string `json:"t"`
	ID   string `json:"i"`
}

func encodeToken(c cursor) string {
	b, _ := json.Marshal(c) // two strings cannot fail to encode
	return base64.RawURLEncoding.EncodeToString(b)
}

func badToken(why string) error {
	return &api.Error{Code: api.CodeInvalid, Field: "page_token", Status: 400,
		Message: "invalid page token (" + why + "); pass the next_page_token of the previous page unchanged"}
}

func decodeToken(tok string) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return cursor{}, badToken("not base64url")
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return cursor{}, badToken("malformed")
	}
	if _, err := time.Parse(timeLayout, c.Time); err != nil || c.ID == "" {
		return cursor{}, badToken("malformed")
	}
	return c, nil
}

// mapErr turns constraint violations into the store's sentinel errors,
// said in the words of the domain rather than of the schema.
func (d *Dialect) mapErr(what string, err error) error {
	if err == nil {
		return nil
	}
	switch d.Violation(err) {
	case DuplicateID:
		return fmt.Errorf("%s: %w (the id already exists)", what, store.ErrConflict)
	case DuplicateName:
		return fmt.Errorf("%s: %w (a live group already has this name)", what, store.ErrConflict)
	case DuplicateLabel:
		return fmt.Errorf("%s: %w (the label is already used in this group)", what, store.ErrConflict)
	case DuplicateKey:
		return fmt.Errorf("%s: %w (%v)", what, store.ErrConflict, err)
	case MissingRow:
		return fmt.Errorf("%s: a referenced row does not exist: %w", what, store.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func notFound(kind, id string) error {
	return fmt.Errorf("%s %q: %w", kind, id, store.ErrNotFound)
}
