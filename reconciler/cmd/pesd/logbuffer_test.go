package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer the flush timer's goroutine may write.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestLogBufferKeepsTheOrderOfLines(t *testing.T) {
	var out lockedBuffer
	b := newLogBuffer(&out, time.Hour)
	_, _ = b.Write([]byte("access 1\n"))
	_, _ = b.Write([]byte("access 2\n"))
	if got := out.String(); got != "" {
		t.Fatalf("access lines written before a flush: %q", got)
	}
	_, _ = b.direct().Write([]byte("warning\n"))
	if got, want := out.String(), "access 1\naccess 2\nwarning\n"; got != want {
		t.Fatalf("after a direct line: %q, want %q", got, want)
	}
	_, _ = b.Write([]byte("access 3\n"))
	b.Flush()
	b.Flush() // nothing held: writes nothing
	if got, want := out.String(), "access 1\naccess 2\nwarning\naccess 3\n"; got != want {
		t.Fatalf("after Flush: %q, want %q", got, want)
	}
}

func TestLogBufferWritesWhenFull(t *testing.T) {
	var out lockedBuffer
	b := newLogBuffer(&out, time.Hour)
	line := strings.Repeat("x", 99) + "\n"
	for range accessFlushSize / len(line) {
		_, _ = b.Write([]byte(line))
	}
	if out.String() != "" {
		t.Fatal("written before the buffer was full")
	}
	_, _ = b.Write([]byte(line))
	if got := len(out.String()); got != (accessFlushSize/len(line)+1)*len(line) {
		t.Fatalf("a full buffer wrote %d bytes, want all %d held", got, (accessFlushSize/len(line)+1)*len(line))
	}
}

func TestLogBufferWritesHeldLinesByItself(t *testing.T) {
	var out lockedBuffer
	b := newLogBuffer(&out, time.Millisecond)
	_, _ = b.Write([]byte("access 1\n"))
	eventually(t, 10*time.Second, "the held line is written", func() (bool, string) {
		return out.String() == "access 1\n", out.String()
	})
	_, _ = b.Write([]byte("access 2\n")) // the timer is armed again
	eventually(t, 10*time.Second, "the next held line is written", func() (bool, string) {
		return out.String() == "access 1\naccess 2\n", out.String()
	})
}
