package sqlstore

import (
	"database/sql"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

func TestRebind(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT * FROM t WHERE a = ?`, `SELECT * FROM t WHERE a = $1`},
		{`INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?,?,?)`, `INSERT INTO t VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`},
		{`(time, id) > (?, ?) LIMIT ?`, `(time, id) > ($1, $2) LIMIT $3`},
	} {
		if got := Rebind(tc.in); got != tc.want {
			t.Errorf("Rebind(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPageTokens(t *testing.T) {
	c := cursor{Time: FormatTime(time.Date(2025, 3, 14, 10, 0, 0, 5, time.UTC)), ID: "e-1"}
	got, err := decodeToken(encodeToken(c))
	if err != nil || got != c {
		t.Fatalf("round trip: %+v, %v; want %+v", got, err, c)
	}
	for name, tok := range map[string]string{
		"not base64":  "!!!",
		"not json":    "bm90IGpzb24",
		"bad time":    encodeToken(cursor{Time: "yesterday", ID: "e-1"}),
		"no id":       encodeToken(cursor{Time: c.Time}),
		"no fraction": encodeToken(cursor{Time: "2025-03-14T10:00:00Z", ID: "e-1"}),
		"empty json":  "e30",
		"json array":  "W10",
		"truncated":   encodeToken(c)[:10],
		"other field": "eyJ4IjoxfQ",
	} {
		_, err := decodeToken(tok)
		var ae *api.Error
		if !errors.As(err, &ae) || ae.Field != "page_token" || ae.Status != 400 {
			t.Errorf("%s: decodeToken(%q) = %v, want a 400 naming page_token", name, tok, err)
		}
	}
}

func TestLimit(t *testing.T) {
	for _, tc := range []struct {
		in, want int
		bad      bool
	}{
		{0, DefaultLimit, false},
		{1, 1, false},
		{MaxLimit, MaxLimit, false},
		{MaxLimit + 1, MaxLimit, false},
		{-1, 0, true},
	} {
		got, err := limit(store.Page{Limit: tc.in})
		var ae *api.Error
		if tc.bad != errors.As(err, &ae) || got != tc.want {
			t.Errorf("limit(%d) = %d, %v; want %d (error: %v)", tc.in, got, err, tc.want, tc.bad)
		}
		if tc.bad && ae.Field != "limit" {
			t.Errorf("limit(%d): error names %q, want limit", tc.in, ae.Field)
		}
	}
}

func TestMapErr(t *testing.T) {
	cause := errors.New("driver says no")
	for _, tc := range []struct {
		v      Violation
		target error
		says   string
	}{
		{DuplicateID, store.ErrConflict, "the id already exists"},
		{DuplicateName, store.ErrConflict, "a live group already has this name"},
		{DuplicateLabel, store.ErrConflict, "the label is already used in this group"},
		{DuplicateKey, store.ErrConflict, "driver says no"},
		{MissingRow, store.ErrNotFound, "a referenced row does not exist"},
		{NoViolation, cause, "driver says no"},
	} {
		d := Dialect{Violation: func(error) Violation { return tc.v }}
		err := d.mapErr("insert thing", cause)
		if !errors.Is(err, tc.target) || !strings.HasPrefix(err.Error(), "insert thing: ") || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("violation %d: %v, want one wrapping %v that says %q", tc.v, err, tc.target, tc.says)
		}
	}
	if err := (&Dialect{}).mapErr("x", nil); err != nil {
		t.Errorf("mapErr(nil) = %v", err)
	}
}

func TestLoadMigrations(t *testing.T) {
	ms, err := LoadMigrations(fstest.MapFS{
		"m/0010_index.sql":  {Data: []byte(`CREATE INDEX i ON t (c);`)},
		"m/0001_things.sql": {Data: []byte(`CREATE TABLE t (c TEXT);`)},
		"m/0002_more.sql":   {Data: []byte(`SELECT 1;`)},
		"m/README":          {Data: []byte(`not a migration`)},
	}, "m")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.Name)
	}
	if strings.Join(got, " ") != "0001_things.sql 0002_more.sql 0010_index.sql" || ms[2].Version != 10 || ms[0].SQL != `CREATE TABLE t (c TEXT);` {
		t.Errorf("loaded %+v", ms)
	}

	for name, fsys := range map[string]fstest.MapFS{
		"no number":    {"m/init.sql": {Data: []byte(`SELECT 1;`)}},
		"zero":         {"m/0000_init.sql": {Data: []byte(`SELECT 1;`)}},
		"same version": {"m/0001_a.sql": {Data: []byte(`SELECT 1;`)}, "m/01_b.sql": {Data: []byte(`SELECT 1;`)}},
		"no directory": {"x/0001_a.sql": {Data: []byte(`SELECT 1;`)}},
	} {
		if _, err := LoadMigrations(fsys, "m"); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestParseTime checks the fast reading of stored times against
// time.Parse: the same instant for what FormatTime writes, and an error
// for what time.Parse refuses.
func TestParseTime(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2025, 3, 14, 10, 0, 0, 5, time.UTC),
		time.Date(2024, 2, 29, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 12, 30, 1, 123_456_789, time.FixedZone("x", 3600)),
	} {
		s := FormatTime(tm)
		got, err := parseTime(s)
		if err != nil || !got.Equal(tm) || got.Location() != time.UTC {
			t.Errorf("parseTime(%q) = %v, %v; want %v in UTC", s, got, err, tm.UTC())
		}
		if _, ok := parseStoredTime(s); !ok {
			t.Errorf("parseStoredTime(%q) is not ok: the fast path misses what FormatTime writes", s)
		}
	}
	for _, s := range []string{
		"", "yesterday", "2025-03-14T10:00:00Z",
		"2025-02-30T10:00:00.000000000Z", "2025-13-01T10:00:00.000000000Z", "2025-03-14T24:00:00.000000000Z",
		"2025-03-14T10:60:00.000000000Z", "2025-03-14T10:00:60.000000000Z", "2025-03-14T10:00:0x.000000000Z",
		"2025-03-00T10:00:00.000000000Z", "2025-03-14 10:00:00.000000000Z",
	} {
		if got, err := parseTime(s); err == nil {
			t.Errorf("parseTime(%q) = %v, want an error", s, got)
		}
	}
}

// TestFromJSONStrings checks the plain reading of id arrays against
// encoding/json: the same slice (nil for NULL, empty for []) for what
// both read, and an error where encoding/json has one.
func TestFromJSONStrings(t *testing.T) {
	for _, in := range []string{
		`[]`, ` [ ] `, `["a"]`, `["0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","b"]`, `["a", "b" , "c"]`,
		`["a\"b"]`, `["\u00e9"]`, `["é"]`, `null`, `[1]`, `["a",]`, `["a"`, `["a"]x`, `[`, ``, `{}`, `["a" "b"]`,
	} {
		var got, want []string
		gerr := fromJSONStrings(sql.NullString{String: in, Valid: true}, &got)
		werr := json.Unmarshal([]byte(in), &want)
		if (gerr == nil) != (werr == nil) || !reflect.DeepEqual(got, want) || (got == nil) != (want == nil) {
			t.Errorf("%q: got %#v, %v; encoding/json %#v, %v", in, got, gerr, want, werr)
		}
	}
	var got []string
	if err := fromJSONStrings(sql.NullString{}, &got); err != nil || got != nil {
		t.Errorf("NULL: got %#v, %v; want nil", got, err)
	}
}

// TestFromJSONArray checks the empty-array shortcut against
// encoding/json: [] stays an empty slice (not nil, which is null on the
// wire), NULL stays nil, anything else decodes as before.
func TestFromJSONArray(t *testing.T) {
	for _, in := range []string{`[]`, ` [] `, `[{"label":"E1","priority":5}]`, `null`, `[`} {
		var got, want []api.PeriodRequest
		gerr := fromJSONArray(sql.NullString{String: in, Valid: true}, &got)
		werr := json.Unmarshal([]byte(in), &want)
		if (gerr == nil) != (werr == nil) || !reflect.DeepEqual(got, want) || (got == nil) != (want == nil) {
			t.Errorf("%q: got %#v, %v; encoding/json %#v, %v", in, got, gerr, want, werr)
		}
	}
	var got []api.Clamp
	if err := fromJSONArray(sql.NullString{}, &got); err != nil || got != nil {
		t.Errorf("NULL: got %#v, %v; want nil", got, err)
	}
}

// markedList marshals itself, so toJSON must not take its shortcut.
type markedList []string

func (markedList) MarshalJSON() ([]byte, error) { return []byte(`"marked"`), nil }

// TestToJSONShortcut checks that toJSON's shortcut for empty values
// writes what encoding/json writes (NULL for "null").
func TestToJSONShortcut(t *testing.T) {
	var nilClamp *api.Clamp
	for _, v := range []any{
		nil, []string(nil), []string{}, []string{"a"}, []api.PeriodRequest{},
		[]api.Clamp(nil), map[string]string(nil), map[string]string{}, map[string]string{"k": "v"},
		nilClamp, &api.Clamp{Kind: api.ClampMax}, []byte{}, []byte(nil), []byte("x"),
		markedList(nil), markedList{}, api.Program{}, "", 0,
	} {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := toJSON(v)
		if err != nil {
			t.Fatalf("toJSON(%#v): %v", v, err)
		}
		if string(want) == "null" {
			if got != nil {
				t.Errorf("toJSON(%#v) = %#v, want nil", v, got)
			}
			continue
		}
		if got != string(want) {
			t.Errorf("toJSON(%#v) = %#v, want %q", v, got, want)
		}
	}
}

// TestFormatTime checks FormatTime's digit-by-digit writing against
// time.Format with the layout it stands for.
func TestFormatTime(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2025, 3, 14, 10, 0, 0, 5, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 999_999_999, time.FixedZone("x", 5*3600)),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 1, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		{},
	} {
		if got, want := FormatTime(tm), tm.UTC().Format(timeLayout); got != want {
			t.Errorf("FormatTime(%v) = %q, want %q", tm, got, want)
		}
	}
}
