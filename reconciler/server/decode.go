package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// Body limits. Metric pushes carry up to api.MaxSamplesPerRequest samples.
const (
	maxBodyBytes        = 1 << 20
	maxMetricsBodyBytes = 8 << 20
)

// decodeBody reads r's JSON body into v (a pointer to a struct) strictly:
// an empty body, a body that is not JSON, data after the JSON value, a key
// v has no field for (exact spelling: encoding/json alone would accept
// "Desired_Quantity") and a value of the wrong type are all 400s naming the
// field by its JSON path, such as "samples[3].value". A body over limit is a
// 413. The Content-Type is not checked unless the body fails to parse, in
// which case the message mentions it.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &api.Error{
				Code:    api.CodeTooLarge,
				Status:  http.StatusRequestEntityTooLarge,
				Message: fmt.Sprintf("request body is larger than %d bytes", limit),
			}
		}
		return api.Invalid("", "could not read the request body: %v", err)
	}
	return decodeJSON(body, r.Header.Get("Content-Type"), v)
}

// decodeJSON is decodeBody after the read. It decodes the body once,
// straight into v. Only when that fails, or when the body has a key that
// encoding/json might have matched by case alone, does decodeChecked run to
// find the field to name; so a valid body (a 10,000-sample push above all)
// is neither decoded twice nor walked by reflection.
func decodeJSON(body []byte, contentType string, v any) error {
	if decodeFast(body, v) {
		return nil
	}
	// v may hold part of the failed decode; decodeChecked starts from zero.
	reflect.ValueOf(v).Elem().SetZero()
	return decodeChecked(body, contentType, v)
}

// decodeFast decodes body into v and reports whether that gave exactly what
// decodeChecked gives. encoding/json with DisallowUnknownFields rejects
// every shape decodeChecked rejects but three: a top-level null (it leaves
// v alone), data after the value, and a key that differs from a field's
// JSON name only in case. The first two are checked here; for the third,
// every JSON name of a request is lowercase ASCII (TestRequestNamesLowercase),
// so a key of lowercase ASCII without escapes matches by case-insensitive
// comparison only where it matches exactly.
func decodeFast(body []byte, v any) bool {
	if m, ok := v.(*api.MetricsRequest); ok && decodeSamples(body, m) {
		return true
	}
	if api.ReadRequest(body, v) {
		return true
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		return false
	}
	return plainKeys(body)
}

// plainKeys reports whether every object key in body, which must be valid
// JSON, is lowercase ASCII written without escapes. It is one pass over the
// bytes and allocates nothing.
func plainKeys(body []byte) bool {
	for i := 0; i < len(body); i++ {
		if body[i] != '"' {
			continue
		}
		plain := true
		j := i + 1
		for ; j < len(body) && body[j] != '"'; j++ {
			switch c := body[j]; {
			case c == '\\':
				plain = false
				j++ // the escaped byte cannot end the string
			case c >= 0x80, 'A' <= c && c <= 'Z':
				plain = false
			}
		}
		i = j // the closing quote
		if plain {
			continue
		}
		// Not plain: it matters only if it is a key, i.e. a colon follows.
		k := j + 1
		for k < len(body) && (body[k] == ' ' || body[k] == '\t' || body[k] == '\r' || body[k] == '\n') {
			k++
		}
		if k < len(body) && body[k] == ':' {
			return false
		}
	}
	return true
}

// decodeChecked decodes body strictly and names the field of the first
// problem: the document is decoded generically, its shape checked against
// v's type, and then decoded into v.
func decodeChecked(body []byte, contentType string, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return api.Invalid("", "request body is empty: send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return syntaxError(err, len(body), contentType)
	}
	if _, err := dec.Token(); err != io.EOF {
		return api.Invalid("", "unexpected data after the JSON value at byte offset %d: send exactly one JSON object", dec.InputOffset())
	}
	if doc == nil {
		return api.Invalid("", "request body must be a JSON object; got null")
	}
	c := shapeChecker{fields: map[reflect.Type]map[string]reflect.Type{}}
	if err := c.check(doc, reflect.TypeOf(v).Elem(), ""); err != nil {
		return err
	}
	// The shape check has accepted the document, so this decode should not
	// fail; if it does (a shape the check does not model), still answer
	// with the field.
	final := json.NewDecoder(bytes.NewReader(body))
	final.DisallowUnknownFields()
	if err := final.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return api.Invalid(jsonPath(te.Field), "must be of type %s; got %s", te.Type, te.Value)
		}
		return api.Invalid("", "request body does not fit this request: %v", err)
	}
	return nil
}

// jsonPath drops the Go names of embedded structs ("GroupConfig.") that
// encoding/json puts into UnmarshalTypeError.Field; JSON names are never
// capitalized.
func jsonPath(field string) string {
	parts := strings.Split(field, ".")
	kept := parts[:0]
	for _, p := range parts {
		if p != "" && (p[0] < 'A' || p[0] > 'Z') {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, ".")
}

func syntaxError(err error, n int, contentType string) error {
	note := ""
	if mt, _, _ := mime.ParseMediaType(contentType); contentType != "" && mt != "application/json" {
		note = fmt.Sprintf(" (Content-Type is %q; send application/json)", contentType)
	}
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return api.Invalid("", "request body is not valid JSON at byte offset %d: %v%s", se.Offset, se, note)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return api.Invalid("", "request body is not valid JSON: it ends early at byte offset %d%s", n, note)
	default:
		return api.Invalid("", "request body is not valid JSON: %v%s", err, note)
	}
}

var timeType = reflect.TypeFor[time.Time]()

// shapeChecker checks a generic JSON document (decoded with UseNumber)
// against the Go type t it will be decoded into, so that every mismatch is
// reported with its JSON path. encoding/json reports neither array indexes
// nor the path of an unknown field, and puts embedded Go type names into
// paths. JSON null is accepted everywhere: it leaves the zero value.
type shapeChecker struct {
	fields map[reflect.Type]map[string]reflect.Type // per request: 10,000 samples share one
}

func (c *shapeChecker) check(doc any, t reflect.Type, path string) error {
	if doc == nil {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		s, ok := doc.(string)
		if !ok {
			return typeError(path, "an RFC 3339 time such as \"2026-01-02T10:00:00Z\"", doc)
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return api.Invalid(path, "must be an RFC 3339 time such as \"2026-01-02T10:00:00Z\"; got %q", s)
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := doc.(map[string]any)
		if !ok {
			if path == "" {
				return api.Invalid("", "request body must be a JSON object; got %s", describe(doc))
			}
			return typeError(path, "an object", doc)
		}
		fields, ok := c.fields[t]
		if !ok {
			fields = jsonFields(t)
			c.fields[t] = fields
		}
		for _, k := range sortedKeys(obj) {
			ft, ok := fields[k]
			if !ok {
				return api.Invalid(join(path, k), "is not a field of this request; check the spelling (field names are lowercase with underscores)")
			}
			if err := c.check(obj[k], ft, join(path, k)); err != nil {
				return err
			}
		}
	case reflect.Map:
		obj, ok := doc.(map[string]any)
		if !ok {
			return typeError(path, "an object", doc)
		}
		for _, k := range sortedKeys(obj) {
			if err := c.check(obj[k], t.Elem(), join(path, k)); err != nil {
				return err
			}
		}
	case reflect.Slice:
		arr, ok := doc.([]any)
		if !ok {
			return typeError(path, "a list", doc)
		}
		for i, e := range arr {
			if err := c.check(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.String:
		if _, ok := doc.(string); !ok {
			return typeError(path, "a string", doc)
		}
	case reflect.Bool:
		if _, ok := doc.(bool); !ok {
			return typeError(path, "true or false", doc)
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, ok := doc.(json.Number)
		if !ok {
			return typeError(path, "a whole number", doc)
		}
		if strings.ContainsAny(string(n), ".eE") {
			return api.Invalid(path, "must be a whole number; got %s", clip(string(n)))
		}
		if _, err := strconv.ParseInt(string(n), 10, t.Bits()); err != nil {
			return api.Invalid(path, "must be a whole number between %d and %d; got %s",
				int64(-1)<<(t.Bits()-1), uint64(1)<<(t.Bits()-1)-1, clip(string(n)))
		}
	case reflect.Float64, reflect.Float32:
		n, ok := doc.(json.Number)
		if !ok {
			return typeError(path, "a number", doc)
		}
		if _, err := strconv.ParseFloat(string(n), t.Bits()); err != nil {
			return api.Invalid(path, "must be a finite number; got %s", clip(string(n)))
		}
	}
	return nil
}

func typeError(path, want string, got any) error {
	return api.Invalid(path, "must be %s; got %s", want, describe(got))
}

// describe names a JSON value's type for a person, with the value when it
// is short.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return "the string " + strconv.Quote(clip(v))
	case json.Number:
		return "the number " + clip(string(v))
	case bool:
		return strconv.FormatBool(v)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// Sorted so that the field reported first does not depend on map order.
	slices.Sort(keys)
	return keys
}

// jsonFields maps the JSON names of struct t to their types, following
// encoding/json: fields of embedded structs without a name are promoted,
// and a shallower field shadows a deeper one of the same name (api.GroupCreate
// relies on it).
func jsonFields(t reflect.Type) map[string]reflect.Type {
	type entry struct {
		t     reflect.Type
		depth int
	}
	found := map[string]entry{}
	var walk func(t reflect.Type, depth int)
	walk = func(t reflect.Type, depth int) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" {
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					walk(ft, depth+1)
					continue
				}
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if e, ok := found[name]; !ok || depth < e.depth {
				found[name] = entry{f.Type, depth}
			}
		}
	}
	walk(t, 0)
	out := make(map[string]reflect.Type, len(found))
	for k, e := range found {
		out[k] = e.t
	}
	return out
}
