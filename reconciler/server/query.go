package server

import (
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// List limits.
const (
	defaultLimit = api.DefaultPageLimit
	maxLimit     = api.MaxPageLimit
)

// query reads and validates URL query parameters. Each reader records
// the first problem; err reports it, or an unknown parameter, so a typo
// such as "limt" is a 400 rather than silently ignored.
type query struct {
	v    url.Values
	used []string
	err  error
}

func newQuery(u *url.URL) *query {
	v, err := url.ParseQuery(u.RawQuery)
	q := &query{v: v}
	if err != nil {
		q.err = api.Invalid("", "the query string is malformed: %v", err)
	}
	return q
}

// get returns the single value of name ("" when absent).
func (q *query) get(name string) string {
	if !slices.Contains(q.used, name) {
		q.used = append(q.used, name)
	}
	vs := q.v[name]
	switch {
	case len(vs) == 0:
		return ""
	case len(vs) > 1:
		q.setErr(api.Invalid(name, "is given %d times; give it once", len(vs)))
	}
	return vs[0]
}

func (q *query) setErr(err error) {
	if q.err == nil {
		q.err = err
	}
}

func (q *query) limit() int {
	s := q.get("limit")
	if s == "" {
		return defaultLimit
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxLimit {
		q.setErr(api.Invalid("limit", "must be a whole number from 1 to %d; got %q", maxLimit, s))
		return defaultLimit
	}
	return n
}

func (q *query) time(name string) time.Time {
	s := q.get(name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		q.setErr(api.Invalid(name, "must be an RFC 3339 time such as 2026-01-02T10:00:00Z; got %q", s))
	}
	return t
}

func (q *query) bool(name string) bool {
	s := q.get(name)
	if s == "" {
		return false
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		q.setErr(api.Invalid(name, "must be true or false; got %q", s))
	}
	return b
}

func (q *query) enum(name string, allowed []string) string {
	s := q.get(name)
	if s != "" {
		if err := api.ValidateEnum(name, s, allowed); err != nil {
			q.setErr(err)
		}
	}
	return s
}

// wait reads the long-poll parameters of a group read: wait (a condition,
// api.ParseGroupWait) and timeout, which needs wait.
func (q *query) wait() (api.GroupWait, time.Duration, bool) {
	w, t := q.get("wait"), q.get("timeout")
	_, given := q.v["wait"]
	if !given {
		if _, ok := q.v["timeout"]; ok {
			q.setErr(api.Invalid("timeout", "applies only to a wait; add wait=<condition>, as in wait=actual_quantity>=3"))
		}
		return api.GroupWait{}, 0, false
	}
	cond, err := api.ParseGroupWait(w)
	if err != nil {
		q.setErr(err)
	}
	if _, ok := q.v["timeout"]; ok && t == "" {
		t = "-" // given empty: refused with the message of a bad value
	}
	d, err := api.ParseWaitTimeout(t)
	if err != nil {
		q.setErr(err)
	}
	return cond, d, true
}

// actor reads actor, who makes a request that has no body to name them
// in (DELETE): a user name, "terraform". Absent, pesd records "api".
func (q *query) actor() string {
	s := q.get("actor")
	_, given := q.v["actor"]
	switch {
	case given && strings.TrimSpace(s) == "":
		q.setErr(api.Invalid("actor", "must name who acts (a user name, terraform); omit it to be recorded as api"))
	case strings.ContainsFunc(s, unicode.IsControl):
		q.setErr(api.Invalid("actor", "must not contain control characters; got %q", s))
	case len(s) > api.MaxTextLength:
		q.setErr(api.Invalid("actor", "must be at most %d bytes; got %d", api.MaxTextLength, len(s)))
	}
	return s
}

// include reads include, which a list takes with one value (what it adds
// to each item: causes, effects), and reports whether it was given.
func (q *query) include(what string) bool {
	s := q.get("include")
	if s != "" && s != what {
		q.setErr(api.Invalid("include", "this list can include only %q; got %q", what, s))
	}
	return s == what
}

// pageToken reads page_token. Tokens the server hands out wrap the
// store's opaque token with a checksum over the list they belong to (scope:
// route, group and filters), so a corrupted token or one from another list
// is a 400 rather than an error deep in the store.
func (q *query) pageToken(scope string) string {
	s := q.get("page_token")
	if s == "" {
		return ""
	}
	inner, ok := openToken(scope, s)
	if !ok {
		q.setErr(api.Invalid("page_token", "is not a token this list returned; omit it to start from the first page"))
	}
	return inner
}

// done reports the first problem, including a parameter nobody asked for.
func (q *query) done() error {
	if q.err != nil {
		return q.err
	}
	for name := range q.v {
		if !slices.Contains(q.used, name) {
			return api.Invalid(name, "is not a parameter of this request; it takes %s", strings.Join(q.used, ", "))
		}
	}
	return nil
}

func sealToken(scope, inner string) string {
	if inner == "" {
		return ""
	}
	b := make([]byte, 4, 4+len(inner))
	binary.BigEndian.PutUint32(b, tokenSum(scope, inner))
	return base64.RawURLEncoding.EncodeToString(append(b, inner...))
}

func openToken(scope, tok string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < 5 {
		return "", false
	}
	inner := string(b[4:])
	return inner, binary.BigEndian.Uint32(b) == tokenSum(scope, inner)
}

func tokenSum(scope, inner string) uint32 {
	h := crc32.NewIEEE()
	h.Write([]byte(scope))
	h.Write([]byte{0})
	h.Write([]byte(inner))
	return h.Sum32()
}

// scope names a list and its filters, for page tokens.
func scope(parts ...string) string { return strings.Join(parts, "\x1f") }

// pageOf returns the page of items starting at the offset in token, for
// lists the store returns whole (nodes, triggers).
func pageOf[T any](items []T, limit int, token string) ([]T, string, bool) {
	off := 0
	if token != "" {
		n, err := strconv.Atoi(token)
		if err != nil || n < 0 {
			return nil, "", false
		}
		off = min(n, len(items))
	}
	end := min(off+limit, len(items))
	next := ""
	if end < len(items) {
		next = strconv.Itoa(end)
	}
	return items[off:end], next, true
}

// checkRange rejects an until before since.
func checkRange(since, until time.Time) error {
	if !since.IsZero() && !until.IsZero() && until.Before(since) {
		return api.Invalid("until", "must not be before since (%s < %s)", until.Format(time.RFC3339), since.Format(time.RFC3339))
	}
	return nil
}
