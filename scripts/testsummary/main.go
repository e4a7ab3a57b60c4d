// Command testsummary reads `go test -json` on stdin and writes what a
// plain `go test ./...` shows (a line per package, and the output of the
// tests that fail), then the skipped tests grouped by their reason and a
// closing "N passed, N failed, N skipped" line. A skip is never silent,
// and with CI set in the environment any skip fails the run: in CI every
// test must run.
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
	"strings"
)

func main() {
	os.Exit(run(os.Stdin, os.Stdout, os.Getenv("CI") != ""))
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
	out     io.Writer
	running map[testKey][]string // output of tests not yet ended
	order   []testKey            // running tests, first started first
	// failedSubtests holds the failure reports of a test's subtests until
	// the test itself ends: go test prints a parent's report first.
	failedSubtests          map[testKey]string
	passed, failed, skipped int
	failedIn                map[string]int // failed tests per package
	brokenPackages          int            // failed outside any test: build error, panic, TestMain
	skips                   []skip
}

func run(in io.Reader, out io.Writer, ci bool) int {
	s := &summary{out: out, running: map[testKey][]string{}, failedSubtests: map[testKey]string{}, failedIn: map[string]int{}}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			// Not an event (go vet or the go command itself): pass it on.
			fmt.Fprintln(out, sc.Text())
			continue
		}
		s.add(e)
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(out, "testsummary: reading go test -json:", err)
		return 1
	}
	return s.finish(ci)
}

// chatter is what -json adds to a plain go test's output (it implies -v).
var chatter = regexp.MustCompile(`^\s*(=== (RUN|PAUSE|CONT|NAME)|--- PASS:|PASS$)`)

func (s *summary) add(e event) {
	k := testKey{e.Package, e.Test}
	switch e.Action {
	case "build-output":
		fmt.Fprint(s.out, e.Output)
	case "run":
		if e.Test != "" {
			s.order = append(s.order, k)
		}
	case "output":
		if e.Test == "" {
			if !chatter.MatchString(strings.TrimSuffix(e.Output, "\n")) {
				fmt.Fprint(s.out, e.Output)
			}
			return
		}
		s.running[k] = append(s.running[k], e.Output)
	case "pass":
		if e.Test != "" {
			s.passed++
			s.end(k)
		}
	case "skip":
		if e.Test != "" {
			s.skipped++
			s.skips = append(s.skips, skip{k, skipReason(s.running[k])})
			s.end(k)
		}
	case "fail":
		if e.Test != "" {
			s.failed++
			s.failedIn[e.Package]++
			report := s.report(k)
			if i := strings.LastIndex(k.test, "/"); i >= 0 {
				s.failedSubtests[testKey{k.pkg, k.test[:i]}] += report
			} else {
				fmt.Fprint(s.out, report)
			}
			s.end(k)
			return
		}
		// The package failed. When no test did, whatever its unfinished
		// tests printed (a panic, a timeout) says why.
		for _, r := range s.order {
			if r.pkg == e.Package {
				fmt.Fprint(s.out, s.report(r))
			}
		}
		if s.failedIn[e.Package] == 0 {
			s.brokenPackages++
		}
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
