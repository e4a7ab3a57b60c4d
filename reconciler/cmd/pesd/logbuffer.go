package main

import (
	"io"
	"sync"
	"time"
)

// logBuffer holds the access log's lines and writes them out together:
// within accessFlushAfter of the first line held, once accessFlushSize
// bytes are held, before any other log line, and when pesd exits. One
// write(2) per API request cost about a tenth of the CPU of an instruction
// POST. What is held is only the access log: every other line (direct)
// goes out at once, after the access lines before it, so the order of the
// lines is the order they were logged. A kill -9 loses at most the last
// accessFlushAfter of access lines.
type logBuffer struct {
	mu    sync.Mutex
	w     io.Writer
	held  []byte
	after time.Duration
	timer *time.Timer // writes the held lines; armed while there are some
}

const (
	accessFlushAfter = 100 * time.Millisecond
	accessFlushSize  = 64 << 10
)

func newLogBuffer(w io.Writer, after time.Duration) *logBuffer {
	b := &logBuffer{w: w, after: after}
	b.timer = time.AfterFunc(after, b.Flush)
	b.timer.Stop()
	return b
}

// Write holds p, a log line, to be written with the next ones.
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.held) == 0 {
		b.timer.Reset(b.after)
	}
	b.held = append(b.held, p...)
	if len(b.held) >= accessFlushSize {
		b.flushLocked()
	}
	return len(p), nil
}

// Flush writes the lines held.
func (b *logBuffer) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
}

func (b *logBuffer) flushLocked() {
	if len(b.held) == 0 {
		return
	}
	// As slog's own handlers would: a log that cannot be written has no
	// one to tell.
	_, _ = b.w.Write(b.held)
	b.held = b.held[:0]
}

// direct is the writer of the lines that are not held: each goes out at
// once, after the lines held before it.
func (b *logBuffer) direct() io.Writer { return directWriter{b} }

type directWriter struct{ b *logBuffer }

func (d directWriter) Write(p []byte) (int, error) {
	d.b.mu.Lock()
	defer d.b.mu.Unlock()
	d.b.flushLocked()
	return d.b.w.Write(p)
}
