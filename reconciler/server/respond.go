package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

// jsonWriter is a response that writes its own JSON in chunks as it
// goes, byte for byte what api.AppendJSON would (api.Costs: 100,000 rows
// by cause).
type jsonWriter interface{ WriteJSON(w io.Writer) error }

// answers holds the buffers answers are written into, so a page of a
// thousand changes with their causes (1.6 MB) is not allocated afresh
// each time; one larger than maxPooledAnswer is left to the collector.
var answers = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledAnswer = 4 << 20

// writeJSON writes v with status. The answer is built whole first, so it
// goes out with its Content-Length in one write rather than chunked.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	if jw, ok := v.(jsonWriter); ok {
		w.WriteHeader(status)
		_ = jw.WriteJSON(w) // as below: the client going away
		return
	}
	buf := answers.Get().(*[]byte)
	b, err := api.AppendJSON((*buf)[:0], v)
	if err == nil {
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	}
	w.WriteHeader(status)
	if err == nil {
		// An error here is the client going away; there is no one to tell.
		_, _ = w.Write(b)
	}
	if cap(b) <= maxPooledAnswer {
		*buf = b[:0]
		answers.Put(buf)
	}
}

// writeAPIError writes the error envelope.
func writeAPIError(w http.ResponseWriter, e *api.Error) {
	status := e.Status
	if status == 0 {
		status = statusOf(e.Code)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="pesd"`)
	}
	writeJSON(w, status, api.ErrorBody{Error: api.Error{Code: e.Code, Message: e.Message, Field: e.Field}})
}

// statusOf is the HTTP status of an error code, for an *api.Error that
// came without one.
func statusOf(code string) int {
	switch code {
	case api.CodeInvalid:
		return http.StatusBadRequest
	case api.CodeUnauthorized:
		return http.StatusUnauthorized
	case api.CodeForbidden:
		return http.StatusForbidden
	case api.CodeNotFound:
		return http.StatusNotFound
	case api.CodeConflict:
		return http.StatusConflict
	case api.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case api.CodeUnavailable, api.CodeStorageUnavailable:
		return http.StatusServiceUnavailable
	case api.CodeExhausted:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// fail answers err. what names the object the request was about ("group
// 0190…"), for the 404 message. An *api.Error keeps its status; store
// errors become 404 and 409; anything else is logged and answered with a
// generic 500 that does not leak internals.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error, what string) {
	var (
		e           *api.Error
		unavailable *store.UnavailableError
		notOwner    *api.NotOwnerError
	)
	switch {
	case errors.As(err, &notOwner):
		notApplied(w, notOwner.Message)
	case errors.Is(err, store.ErrFenced):
		// The lease moved while the write was under way: the store
		// refused it whole, and the new owner takes the request.
		notApplied(w, "this replica lost the group's lease before writing; nothing was changed: retry")
	case errors.As(err, &e):
		writeAPIError(w, e)
	case errors.Is(err, store.ErrNotFound):
		writeAPIError(w, &api.Error{Code: api.CodeNotFound, Status: http.StatusNotFound, Message: what + " not found"})
	case errors.As(err, &unavailable):
		// The machine's problem, not the request's: nothing was written,
		// and the same request succeeds once the cause is gone.
		s.log.ErrorContext(r.Context(), "store cannot write", "request_id", requestID(r), "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "5")
		writeAPIError(w, &api.Error{Code: api.CodeStorageUnavailable, Status: http.StatusServiceUnavailable,
			Message: "pesd cannot write to its store: " + unavailable.Cause + "; nothing was changed: retry once it is fixed"})
	case errors.Is(err, store.ErrConflict):
		writeAPIError(w, &api.Error{Code: api.CodeConflict, Status: http.StatusConflict,
			Message: fmt.Sprintf("%s conflicts with the current state: %v", what, err)})
	case r.Context().Err() != nil && errors.Is(err, r.Context().Err()):
		// The client went away; nobody reads the answer.
		s.log.DebugContext(r.Context(), "request canceled", "method", r.Method, "path", r.URL.Path, "err", err)
		writeAPIError(w, &api.Error{Code: api.CodeUnavailable, Status: http.StatusServiceUnavailable, Message: "request canceled"})
	case errors.Is(err, context.DeadlineExceeded):
		s.log.WarnContext(r.Context(), "request timed out", "method", r.Method, "path", r.URL.Path, "err", err)
		writeAPIError(w, &api.Error{Code: api.CodeUnavailable, Status: http.StatusServiceUnavailable, Message: "pesd did not answer in time; retry"})
	default:
		id := requestID(r)
		s.log.ErrorContext(r.Context(), "request failed", "request_id", id, "method", r.Method, "path", r.URL.Path, "err", err)
		writeAPIError(w, &api.Error{Code: api.CodeInternal, Status: http.StatusInternalServerError,
			Message: "internal error; the pesd log has the details under request_id " + id})
	}
}

// notApplied answers 503 for a request that changed nothing and may be
// sent again as is (api.HeaderNotApplied).
func notApplied(w http.ResponseWriter, msg string) {
	w.Header().Set("Retry-After", "1")
	w.Header().Set(api.HeaderNotApplied, "1")
	writeAPIError(w, &api.Error{Code: api.CodeUnavailable, Status: http.StatusServiceUnavailable, Message: msg})
}

func (s *server) logPanic(r *http.Request, v any, stack []byte) {
	s.log.ErrorContext(r.Context(), "panic in handler", "request_id", requestID(r), "method", r.Method,
		"path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(stack))
}

// writeList writes the list envelope; an empty list is [] rather than null.
func writeList[T any](w http.ResponseWriter, items []T, next string) {
	if items == nil {
		items = []T{}
	}
	writeJSON(w, http.StatusOK, api.List[T]{Items: items, NextPageToken: next})
}
