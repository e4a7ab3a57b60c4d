// Package openapi writes the OpenAPI 3.1 description of pesd's API from
// the route table the server's router is built from and the Go wire types
// of reconciler/api, by reflection: a route cannot exist without its
// description, and a field cannot change without the description
// following it.
//
// Schemas follow encoding/json: a field's name is its json tag, an
// embedded struct's fields are its own (the shallower field wins), a
// field with omitempty or omitzero may be absent. Response schemas list
// every other field as required, and a pointer without omitempty may be
// null; request schemas require only what the operation says it requires,
// since a missing field takes its default. Every object rejects fields it
// does not declare: pesd rejects unknown request fields ("is not a
// field"), and its answers carry exactly the Go fields.
package openapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Version is the OpenAPI version the document follows.
const Version = "3.1.0"

// Operation describes one route: its pattern as the router registers it
// ("GET /v1/groups/{id}"), what it takes and what it answers.
type Operation struct {
	Pattern string
	ID      string // operationId, e.g. listGroups
	Summary string
	Tag     string
	// Public operations need no bearer token.
	Public bool
	Query  []Param
	// Body is the request body, when the operation takes one.
	Body *Body
	// Status is the success status; Response a value of the answer's Go
	// type (nil: no body, as for 204). ResponseMedia defaults to
	// application/json; a text answer (text/plain) is a string.
	Status        int
	Response      any
	ResponseMedia string
	// Errors are the error statuses the operation answers (in the error
	// envelope), besides those every /v1 operation may answer (400, 401,
	// 500, 503).
	Errors []int
	// Location says that a 201 answer carries the new object's Location.
	Location bool
}

// Method and Path split the pattern.
func (o Operation) Method() string { m, _, _ := strings.Cut(o.Pattern, " "); return m }
func (o Operation) Path() string   { _, p, _ := strings.Cut(o.Pattern, " "); return p }

// AnyOf is a Response that is a value of one of several Go types (a list
// whose items gain detail with ?include=).
type AnyOf []any

// Param is one query parameter.
type Param struct {
	Name        string
	Description string
	// Type is string, integer, boolean or date-time.
	Type string
	Enum []string
	// Min and Max bound an integer (0: unbounded).
	Min, Max int
}

// Body is a request body: a JSON value of Type's Go type, with the
// top-level fields Required names; or, with Media set, other media types
// described by Schemas.
type Body struct {
	Type     any
	Required []string
	// Optional says the body may be left out (an action's options).
	Optional bool
	// Media, when set, replaces the JSON body: media type -> schema.
	Media map[string]*Schema
}

// Schema is the subset of a JSON Schema 2020-12 object the document uses.
type Schema struct {
	Ref                  string             `json:"$ref,omitempty"`
	Type                 any                `json:"type,omitempty"` // a name, or [name, "null"]
	Format               string             `json:"format,omitempty"`
	Description          string             `json:"description,omitempty"`
	Enum                 []string           `json:"enum,omitempty"`
	Minimum              *int               `json:"minimum,omitempty"`
	Maximum              *int               `json:"maximum,omitempty"`
	Items                *Schema            `json:"items,omitempty"`
	Properties           map[string]*Schema `json:"properties,omitempty"`
	Required             []string           `json:"required,omitempty"`
	AdditionalProperties any                `json:"additionalProperties,omitempty"` // *Schema or false
	AnyOf                []*Schema          `json:"anyOf,omitempty"`
}

// Document is the OpenAPI document, in the order it is written.
type Document struct {
	OpenAPI    string                        `json:"openapi"`
	Info       Info                          `json:"info"`
	Security   []map[string][]string         `json:"security"`
	Tags       []Tag                         `json:"tags,omitempty"`
	Paths      map[string]map[string]*PathOp `json:"paths"`
	Components Components                    `json:"components"`
}

// Info is the document's info object.
type Info struct {
	Title       string `json:"title"`
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
}

// Tag groups operations.
type Tag struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// PathOp is one operation as written.
type PathOp struct {
	OperationID string                 `json:"operationId"`
	Summary     string                 `json:"summary,omitempty"`
	Tags        []string               `json:"tags,omitempty"`
	Security    *[]map[string][]string `json:"security,omitempty"`
	Parameters  []ParamDoc             `json:"parameters,omitempty"`
	RequestBody *RequestBody           `json:"requestBody,omitempty"`
	Responses   map[string]*Response   `json:"responses"`
}

// ParamDoc is a parameter as written.
type ParamDoc struct {
	Name        string  `json:"name"`
	In          string  `json:"in"`
	Description string  `json:"description,omitempty"`
	Required    bool    `json:"required,omitempty"`
	Schema      *Schema `json:"schema"`
}

// RequestBody is a request body as written.
type RequestBody struct {
	Required bool                  `json:"required"`
	Content  map[string]*MediaType `json:"content"`
}

// MediaType holds one media type's schema.
type MediaType struct {
	Schema *Schema `json:"schema"`
}

// Response is one answer as written; Ref points at a shared one.
type Response struct {
	Ref         string                `json:"$ref,omitempty"`
	Description string                `json:"description,omitempty"`
	Headers     map[string]*Header    `json:"headers,omitempty"`
	Content     map[string]*MediaType `json:"content,omitempty"`
}

// Header is a response header.
type Header struct {
	Description string  `json:"description,omitempty"`
	Schema      *Schema `json:"schema"`
}

// Components holds the shared schemas, responses and security schemes.
type Components struct {
	Schemas         map[string]*Schema         `json:"schemas"`
	Responses       map[string]*Response       `json:"responses"`
	SecuritySchemes map[string]*SecurityScheme `json:"securitySchemes"`
}

// SecurityScheme is the bearer token scheme.
type SecurityScheme struct {
	Type        string `json:"type"`
	Scheme      string `json:"scheme"`
	Description string `json:"description,omitempty"`
}

// Spec is what Build needs besides the operations.
type Spec struct {
	Info Info
	Tags []Tag
	// ErrorBody is a value of the error envelope's Go type.
	ErrorBody any
	// Enums lists the allowed values of string fields, keyed by the Go
	// type that declares the field and its JSON name ("GroupConfig.driver");
	// for a slice of strings, of its items.
	Enums map[string][]string
}

// ErrorResponse is the name of the shared error answer.
const ErrorResponse = "Error"

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// Build returns the document of ops. It fails on a pattern twice, an
// operation id twice, or a Go type it cannot describe.
func Build(spec Spec, ops []Operation) (*Document, error) {
	g := &gen{enums: spec.Enums, schemas: map[string]*Schema{}, names: map[string]reflect.Type{}}
	doc := &Document{
		OpenAPI:  Version,
		Info:     spec.Info,
		Security: []map[string][]string{{"bearer": {}}},
		Tags:     spec.Tags,
		Paths:    map[string]map[string]*PathOp{},
	}
	errSchema, err := g.schema(reflect.TypeOf(spec.ErrorBody), response)
	if err != nil {
		return nil, fmt.Errorf("error envelope: %w", err)
	}
	ids, patterns := map[string]bool{}, map[string]bool{}
	for _, op := range ops {
		if patterns[op.Pattern] {
			return nil, fmt.Errorf("%s is described twice", op.Pattern)
		}
		patterns[op.Pattern] = true
		if ids[op.ID] {
			return nil, fmt.Errorf("%s: operation id %q is used twice", op.Pattern, op.ID)
		}
		ids[op.ID] = true
		po, err := g.operation(op)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op.Pattern, err)
		}
		item := doc.Paths[op.Path()]
		if item == nil {
			item = map[string]*PathOp{}
			doc.Paths[op.Path()] = item
		}
		item[strings.ToLower(op.Method())] = po
	}
	doc.Components = Components{
		Schemas: g.schemas,
		Responses: map[string]*Response{ErrorResponse: {
			Description: "The error envelope: a code, a message for people and the field at fault, if any.",
			Content:     map[string]*MediaType{"application/json": {Schema: errSchema}},
		}},
		SecuritySchemes: map[string]*SecurityScheme{"bearer": {Type: "http", Scheme: "bearer",
			Description: "A token pesd issued (POST /v1/tokens, pesd tokens create) or the bootstrap admin token it was " +
				"started with (--token-file, --token or PES_TOKEN). Its role (admin, writer, reader, pusher) says which " +
				"routes it may call (403 otherwise), and its tenant which groups it sees: another tenant's answer 404 as missing ones do."}},
	}
	return doc, nil
}

func (g *gen) operation(op Operation) (*PathOp, error) {
	if op.ID == "" || op.Summary == "" || op.Status == 0 {
		return nil, fmt.Errorf("an operation needs an ID, a Summary and a Status")
	}
	po := &PathOp{OperationID: op.ID, Summary: op.Summary, Responses: map[string]*Response{}}
	if op.Tag != "" {
		po.Tags = []string{op.Tag}
	}
	if op.Public {
		po.Security = &[]map[string][]string{}
	}
	for _, m := range pathParam.FindAllStringSubmatch(op.Path(), -1) {
		po.Parameters = append(po.Parameters, ParamDoc{Name: m[1], In: "path", Required: true, Schema: &Schema{Type: "string"}})
	}
	for _, p := range op.Query {
		s := &Schema{Type: p.Type, Enum: p.Enum}
		switch p.Type {
		case "date-time":
			s = &Schema{Type: "string", Format: "date-time"}
		case "integer":
			if p.Min != 0 || p.Max != 0 {
				s.Minimum, s.Maximum = &p.Min, &p.Max
			}
		}
		po.Parameters = append(po.Parameters, ParamDoc{Name: p.Name, In: "query", Description: p.Description, Schema: s})
	}
	if b := op.Body; b != nil {
		content := map[string]*MediaType{}
		for media, s := range b.Media {
			content[media] = &MediaType{Schema: s}
		}
		if b.Type != nil {
			s, err := g.body(reflect.TypeOf(b.Type), b.Required)
			if err != nil {
				return nil, err
			}
			content["application/json"] = &MediaType{Schema: s}
		}
		po.RequestBody = &RequestBody{Required: !b.Optional, Content: content}
	}

	ok := &Response{Description: http.StatusText(op.Status)}
	if op.Response != nil {
		media := op.ResponseMedia
		if media == "" {
			media = "application/json"
		}
		var s *Schema
		if strings.HasPrefix(media, "text/") {
			s = &Schema{Type: "string"}
		} else {
			alts, ok := op.Response.(AnyOf)
			if !ok {
				alts = AnyOf{op.Response}
			}
			for _, a := range alts {
				as, err := g.schema(reflect.TypeOf(a), response)
				if err != nil {
					return nil, err
				}
				if len(alts) == 1 {
					s = as
				} else {
					if s == nil {
						s = &Schema{}
					}
					s.AnyOf = append(s.AnyOf, as)
				}
			}
		}
		ok.Content = map[string]*MediaType{media: {Schema: s}}
	}
	if op.Location {
		ok.Headers = map[string]*Header{"Location": {Description: "The path of the new object.", Schema: &Schema{Type: "string"}}}
	}
	po.Responses[strconv.Itoa(op.Status)] = ok

	errs := slices.Clone(op.Errors)
	if strings.HasPrefix(op.Path(), "/v1/") {
		errs = append(errs, http.StatusBadRequest, http.StatusInternalServerError, http.StatusServiceUnavailable)
		if !op.Public {
			errs = append(errs, http.StatusUnauthorized)
		}
	}
	for _, code := range errs {
		po.Responses[strconv.Itoa(code)] = &Response{Ref: "#/components/responses/" + ErrorResponse}
	}
	return po, nil
}

type direction int

const (
	response direction = iota
	request
)

type gen struct {
	enums   map[string][]string
	schemas map[string]*Schema
	names   map[string]reflect.Type // component name -> the type it describes
}

var (
	timeType    = reflect.TypeFor[time.Time]()
	rawJSONType = reflect.TypeFor[json.RawMessage]()
)

// schema describes t, as a reference to a component for a named struct.
func (g *gen) schema(t reflect.Type, dir direction) (*Schema, error) {
	if t == timeType {
		return &Schema{Type: "string", Format: "date-time"}, nil
	}
	if t == rawJSONType {
		return &Schema{Description: "Any JSON value."}, nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.schema(t.Elem(), dir)
	case reflect.String:
		return &Schema{Type: "string"}, nil
	case reflect.Bool:
		return &Schema{Type: "boolean"}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return &Schema{Type: "integer"}, nil
	case reflect.Float32, reflect.Float64:
		return &Schema{Type: "number"}, nil
	case reflect.Slice, reflect.Array:
		items, err := g.schema(t.Elem(), dir)
		if err != nil {
			return nil, err
		}
		return &Schema{Type: "array", Items: items}, nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, fmt.Errorf("%s: map keys must be strings", t)
		}
		if t.Elem().Kind() == reflect.Interface {
			return &Schema{Type: "object"}, nil // any JSON object
		}
		v, err := g.schema(t.Elem(), dir)
		if err != nil {
			return nil, err
		}
		return &Schema{Type: "object", AdditionalProperties: v}, nil
	case reflect.Struct:
		return g.component(t, dir)
	}
	return nil, fmt.Errorf("%s: cannot describe a %s", t, t.Kind())
}

// component returns a reference to t's component, writing it the first
// time. A generic type (api.List[T]) is written in place: its name says
// nothing by itself.
func (g *gen) component(t reflect.Type, dir direction) (*Schema, error) {
	name := t.Name()
	if strings.Contains(name, "[") {
		return g.object(t, dir)
	}
	if dir == request {
		name += "Input"
	}
	if prev, ok := g.names[name]; ok {
		if prev != t {
			return nil, fmt.Errorf("two types are named %s: %s and %s", name, prev, t)
		}
		return &Schema{Ref: "#/components/schemas/" + name}, nil
	}
	g.names[name] = t
	s, err := g.object(t, dir)
	if err != nil {
		return nil, err
	}
	g.schemas[name] = s
	return &Schema{Ref: "#/components/schemas/" + name}, nil
}

// field is one JSON field of a struct, after embedding.
type field struct {
	name     string
	owner    reflect.Type // the struct that declares it
	typ      reflect.Type
	optional bool // omitempty or omitzero
	depth    int
}

// fields lists t's JSON fields as encoding/json sees them: embedded
// structs without a tag are flattened and the shallowest field of a name
// wins.
func fields(t reflect.Type, depth int) []field {
	var out []field
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				out = append(out, fields(ft, depth+1)...)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		optional := false
		for o := range strings.SplitSeq(opts, ",") {
			optional = optional || o == "omitempty" || o == "omitzero"
		}
		out = append(out, field{name: name, owner: t, typ: f.Type, optional: optional, depth: depth})
	}
	if depth > 0 {
		return out
	}
	// The shallowest field of each name wins, in first-seen order.
	best := map[string]field{}
	var order []string
	for _, f := range out {
		b, seen := best[f.name]
		if !seen {
			order = append(order, f.name)
		}
		if !seen || f.depth < b.depth {
			best[f.name] = f
		}
	}
	res := make([]field, 0, len(order))
	for _, n := range order {
		res = append(res, best[n])
	}
	return res
}

func (g *gen) object(t reflect.Type, dir direction) (*Schema, error) {
	s := &Schema{Type: "object", Properties: map[string]*Schema{}, AdditionalProperties: false}
	for _, f := range fields(t, 0) {
		fs, err := g.schema(f.typ, dir)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t.Name(), f.name, err)
		}
		if vals, ok := g.enums[f.owner.Name()+"."+f.name]; ok {
			target := fs
			if fs.Items != nil {
				target = &Schema{Type: fs.Items.Type}
				fs = &Schema{Type: "array", Items: target}
			} else {
				fs = &Schema{Type: fs.Type}
				target = fs
			}
			target.Enum = vals
		}
		if dir == response && !f.optional {
			s.Required = append(s.Required, f.name)
			if f.typ.Kind() == reflect.Pointer {
				fs = nullable(fs)
			}
		}
		s.Properties[f.name] = fs
	}
	slices.Sort(s.Required)
	return s, nil
}

// body is the schema of a request body of type t. With fields required
// it is written in place: the same type may be the body of another
// operation that requires other fields (a trigger's create and patch).
func (g *gen) body(t reflect.Type, required []string) (*Schema, error) {
	if len(required) == 0 {
		return g.schema(t, request)
	}
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("a body with required fields must be a struct, not %s", t)
	}
	s, err := g.object(t, request)
	if err != nil {
		return nil, err
	}
	for _, name := range required {
		if s.Properties[name] == nil {
			return nil, fmt.Errorf("required field %q is not a field of %s", name, t)
		}
	}
	s.Required = slices.Sorted(slices.Values(required))
	return s, nil
}

// nullable lets s be null as well.
func nullable(s *Schema) *Schema {
	if s.Ref != "" {
		return &Schema{AnyOf: []*Schema{s, {Type: "null"}}}
	}
	c := *s
	c.Type = []string{s.Type.(string), "null"}
	return &c
}
