// Command testsummary reads `go test -json` on stdin and writes what a
// plain `go test ./...` shows (a line per package, and the output of the
// tests that fail), then the skipped tests grouped by their reason and a
// closing "N passed, N failed, N skipped" line. A skip is never silent,
// and with CI set in the environment any skip fails the run: in CI every
// test must run. While nothing is printed for 20 seconds (a cold build, a
// long acceptance test), a line says how long it has run and which
// packages are still testing.
//
//	set -o pipefail; go test -json ./... | go run ./scripts/testsummary
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

func main() {
	os.Exit(run(os.Stdin, os.Stdout, os.Getenv("CI") != "", 20*time.Second))
}

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	ImportPath string // build-output and build-fail
}

type testKey struct{ pkg, test string }

type skip struct {
	key    testKey
	reason string
}

type summary struct {
	mu        sync.Mutex // the reader and the progress ticker both write
	out       io.Writer
	start     time.Time
	lastWrite time.Time
	packages  map[string]bool      // started packages: true once ended
	running   map[testKey][]string // output of tests not yet ended
	order     []testKey            // running tests, first started first
	// failedSubtests holds the failure reports of a test's subtests until
	// the test itself ends: go test prints a parent's report first.
	failedSubtests          map[testKey]string
	passed, failed, skipped int
	failedIn                map[string]int // failed tests per package
	brokenPackages          int            // failed outside any test: build error, panic, TestMain
	skips                   []skip
}

func newSummary(out io.Writer, start time.Time) *summary {
	return &summary{out: out, start: start, lastWrite: start, packages: map[string]bool{},
		running: map[testKey][]string{}, failedSubtests: map[testKey]string{}, failedIn: map[string]int{}}
}

// run summarizes the events read from in; every > 0 turns on the
// progress lines after that long without output.
func run(in io.Reader, out io.Writer, ci bool, every time.Duration) int {
	s := newSummary(out, time.Now())
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		if every <= 0 {
			return
		}
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case now := <-t.C:
				s.mu.Lock()
				s.tick(now, every)
				s.mu.Unlock()
			}
		}
	}()

	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	for sc.Scan() {
		s.mu.Lock()
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			// Not an event (go vet or the go command itself): pass it on.
			s.print(sc.Text() + "\n")
		} else {
			s.add(e)
		}
		s.mu.Unlock()
	}
	readErr := sc.Err()
	close(stop)
	<-stopped // no progress line after the closing one
	if readErr != nil {
		fmt.Fprintln(out, "testsummary: reading go test -json:", readErr)
		return 1
	}
	return s.finish(ci)
}

func (s *summary) print(text string) {
	fmt.Fprint(s.out, text)
	s.lastWrite = time.Now()
}

// tick writes a progress line when nothing was written for every.
func (s *summary) tick(now time.Time, every time.Duration) {
	if now.Sub(s.lastWrite) < every {
		return
	}
	var running []string
	done := 0
	for pkg, ended := range s.packages {
		if ended {
			done++
		} else {
			running = append(running, path.Base(pkg))
		}
	}
	slices.Sort(running)
	doing := "compiling"
	if len(running) > 0 {
		doing = "testing " + strings.Join(running, ", ")
	}
	s.print(fmt.Sprintf("go test: %s so far, %s done; %s\n",
		now.Sub(s.start).Round(time.Second), plural(done, "package"), doing))
}

// chatter is what -json adds to a plain go test's output (it implies -v).
var chatter = regexp.MustCompile(`^\s*(=== (RUN|PAUSE|CONT|NAME)|--- PASS:|PASS$)`)

func (s *summary) add(e event) {
	k := testKey{e.Package, e.Test}
	switch e.Action {
	case "start":
		s.packages[e.Package] = false
	case "build-output":
		s.print(e.Output)
	case "run":
		if e.Test != "" {
			s.order = append(s.order, k)
		}
	case "output":
		if e.Test == "" {
			if !chatter.MatchString(strings.TrimSuffix(e.Output, "\n")) {
				s.print(e.Output)
			}
			return
		}
		s.running[k] = append(s.running[k], e.Output)
	case "pass":
		if e.Test == "" {
			s.packages[e.Package] = true
			return
		}
		s.passed++
		s.end(k)
	case "skip":
		if e.Test == "" {
			s.packages[e.Package] = true // no test files
			return
		}
		s.skipped++
		s.skips = append(s.skips, skip{k, skipReason(s.running[k])})
		s.end(k)
	case "fail":
		if e.Test != "" {
			s.failed++
			s.failedIn[e.Package]++
			report := s.report(k)
			if i := strings.LastIndex(k.test, "/"); i >= 0 {
				s.failedSubtests[testKey{k.pkg, k.test[:i]}] += report
			} else {
				s.print(report)
			}
			s.end(k)
			return
		}
		// The package failed. When no test did, whatever its unfinished
		// tests printed (a panic, a timeout) says why.
		for _, r := range s.order {
			if r.pkg == e.Package {
				s.print(s.report(r))
			}
		}
		if s.failedIn[e.Package] == 0 {
			s.brokenPackages++
		}
		s.packages[e.Package] = true
		s.endPackage(e.Package)
	}
}

// report is a failed test's output as a plain go test prints it: the
// "--- FAIL" line first, then what the test logged, then its failed
// subtests, each level indented by four spaces.
func (s *summary) report(k testKey) string {
	indent := strings.Repeat("    ", strings.Count(k.test, "/"))
	var head, body strings.Builder
	for _, line := range s.running[k] {
		if chatter.MatchString(strings.TrimSuffix(line, "\n")) {
			continue
		}
		if t := strings.TrimLeft(line, " "); strings.HasPrefix(t, "--- FAIL:") {
			head.WriteString(indent + t)
		} else {
			body.WriteString(indent + line)
		}
	}
	return head.String() + body.String() + s.failedSubtests[k]
}

func (s *summary) end(k testKey) {
	delete(s.running, k)
	delete(s.failedSubtests, k)
	for i, r := range s.order {
		if r == k {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
}

func (s *summary) endPackage(pkg string) {
	kept := s.order[:0]
	for _, r := range s.order {
		if r.pkg == pkg {
			delete(s.running, r)
			delete(s.failedSubtests, r)
		} else {
			kept = append(kept, r)
		}
	}
	s.order = kept
}

// location is the "file_test.go:38: " that t.Skip puts before its message.
var location = regexp.MustCompile(`^\s*[\w.-]+\.go:\d+: `)

// skipReason is what the test said when it skipped, without the framing.
func skipReason(output []string) string {
	var said []string
	for _, line := range output {
		line = strings.TrimRight(line, "\n")
		if chatter.MatchString(line) || strings.HasPrefix(strings.TrimSpace(line), "--- SKIP:") {
			continue
		}
		if line = strings.TrimSpace(location.ReplaceAllString(line, "")); line != "" {
			said = append(said, line)
		}
	}
	if len(said) == 0 {
		return "no reason given"
	}
	return strings.Join(said, "; ")
}

// finish writes the skips by reason and the counts, and returns the exit
// status: 1 when anything failed, or when a test skipped in CI.
func (s *summary) finish(ci bool) int {
	var reasons []string
	byReason := map[string][]testKey{}
	for _, sk := range s.skips {
		if _, ok := byReason[sk.reason]; !ok {
			reasons = append(reasons, sk.reason)
		}
		byReason[sk.reason] = append(byReason[sk.reason], sk.key)
	}
	if len(reasons) > 0 {
		fmt.Fprintln(s.out)
	}
	for _, r := range reasons {
		fmt.Fprintf(s.out, "skipped: %s — %s (%s)\n", plural(len(byReason[r]), "test"), r, names(byReason[r]))
	}
	status := 0
	if s.failed > 0 || s.brokenPackages > 0 {
		status = 1
	}
	if ci && s.skipped > 0 {
		fmt.Fprintf(s.out, "CI is set and %s skipped: in CI every test must run, so this run fails\n", plural(s.skipped, "test"))
		status = 1
	}
	counts := fmt.Sprintf("%d passed, %d failed, %d skipped", s.passed, s.failed, s.skipped)
	if s.brokenPackages > 0 {
		counts += fmt.Sprintf(", %s failed outside a test (build error, panic or TestMain: see above)", plural(s.brokenPackages, "package"))
	}
	fmt.Fprintln(s.out, counts)
	return status
}

// names lists a few skipped tests as package.Test.
func names(keys []testKey) string {
	const most = 4
	var b []string
	for i, k := range keys {
		if i == most {
			b = append(b, fmt.Sprintf("and %d more", len(keys)-most))
			break
		}
		b = append(b, path.Base(k.pkg)+"."+k.test)
	}
	return strings.Join(b, ", ")
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
