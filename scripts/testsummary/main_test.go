package main

import (
	"bufio"
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

// The testdata streams are real `go test -json` output (times removed) of
// a module with passing, failing, skipping, panicking and uncompilable
// tests.

func summarize(t *testing.T, file string, keep func(line string) bool, ci bool) (string, int) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var in bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if keep == nil || keep(sc.Text()) {
			in.WriteString(sc.Text() + "\n")
		}
	}
	var out bytes.Buffer
	status := run(&in, &out, ci, 0)
	return out.String(), status
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestFailuresReadAsPlainGoTest(t *testing.T) {
	out, status := summarize(t, "testdata/sample.json", nil, false)
	if status != 1 {
		t.Errorf("status %d, want 1 (a test failed)", status)
	}
	want := "--- FAIL: TestFails (0.00s)\n" +
		"    pg_test.go:14: some context\n" +
		"    --- FAIL: TestFails/sub (0.00s)\n" +
		"        pg_test.go:16: got 3, want 4\n" +
		"FAIL\n" +
		"FAIL\texample.com/sample/pg\t0.006s\n"
	if !strings.Contains(out, want) {
		t.Errorf("the failure does not read as go test prints it; want\n%s\ngot\n%s", want, out)
	}
	for _, noise := range []string{"=== RUN", "--- PASS", "quiet when it passes", "--- SKIP"} {
		if strings.Contains(out, noise) {
			t.Errorf("output shows %q, which a plain go test does not:\n%s", noise, out)
		}
	}
	if !strings.Contains(out, "ok  \texample.com/sample/ok\t0.004s\n") {
		t.Errorf("the passing package's line is missing:\n%s", out)
	}
}

func TestSkipsAreListedByReason(t *testing.T) {
	out, _ := summarize(t, "testdata/sample.json", nil, false)
	for _, want := range []string{
		"skipped: 2 tests — PostgreSQL tests need initdb and pg_ctl on PATH: install postgresql (pg.TestPostgresStore, pg.TestPostgresCompare)\n",
		"skipped: 1 test — python3 is not installed (ok.TestOne/b)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if got, want := lastLine(out), "3 passed, 2 failed, 3 skipped"; got != want {
		t.Errorf("last line %q, want %q", got, want)
	}
}

func TestASkipFailsOnlyInCI(t *testing.T) {
	onlyOK := func(line string) bool { return strings.Contains(line, `"example.com/sample/ok"`) }
	out, status := summarize(t, "testdata/sample.json", onlyOK, false)
	if status != 0 {
		t.Errorf("outside CI a skip fails the run (status %d):\n%s", status, out)
	}
	if got, want := lastLine(out), "2 passed, 0 failed, 1 skipped"; got != want {
		t.Errorf("last line %q, want %q", got, want)
	}
	out, status = summarize(t, "testdata/sample.json", onlyOK, true)
	if status != 1 {
		t.Errorf("in CI a skip does not fail the run (status %d):\n%s", status, out)
	}
	if !strings.Contains(out, "CI is set and 1 test skipped") {
		t.Errorf("in CI the failure does not say why:\n%s", out)
	}
	if got, want := lastLine(out), "2 passed, 0 failed, 1 skipped"; got != want {
		t.Errorf("last line %q, want %q", got, want)
	}
}

func TestAllPassingInCI(t *testing.T) {
	passing := func(line string) bool {
		return strings.Contains(line, `"example.com/sample/ok"`) && !strings.Contains(line, "TestOne/b")
	}
	out, status := summarize(t, "testdata/sample.json", passing, true)
	if status != 0 {
		t.Errorf("status %d, want 0:\n%s", status, out)
	}
	if strings.Contains(out, "skipped:") {
		t.Errorf("a skip line without skips:\n%s", out)
	}
}

func TestBuildErrorsAndPanicsAreShown(t *testing.T) {
	out, status := summarize(t, "testdata/broken.json", nil, false)
	if status != 1 {
		t.Errorf("status %d, want 1", status)
	}
	for _, want := range []string{
		"broken/b_test.go:5:33: undefined: undefinedThing\n",
		"FAIL\texample.com/sample/broken [build failed]\n",
		"--- FAIL: TestPanics (0.00s)\n",
		"panic: assignment to entry in nil map",
		"FAIL\texample.com/sample/panics\t",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if got, want := lastLine(out), "0 passed, 1 failed, 0 skipped, 1 package failed outside a test (build error, panic or TestMain: see above)"; got != want {
		t.Errorf("last line %q, want %q", got, want)
	}
}

func TestOtherLinesPassThrough(t *testing.T) {
	in := strings.NewReader("go: downloading example.com/x v1.0.0\n" +
		`{"Action":"output","Package":"p","Output":"ok  \tp\t0.1s\n"}` + "\n")
	var out bytes.Buffer
	if status := run(in, &out, true, 0); status != 0 {
		t.Errorf("status %d", status)
	}
	if want := "go: downloading example.com/x v1.0.0\nok  \tp\t0.1s\n0 passed, 0 failed, 0 skipped\n"; out.String() != want {
		t.Errorf("got\n%q\nwant\n%q", out.String(), want)
	}
}

func TestProgressAfterSilence(t *testing.T) {
	var out bytes.Buffer
	start := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	s := newSummary(&out, start)
	s.tick(start.Add(19*time.Second), 20*time.Second)
	if out.Len() != 0 {
		t.Errorf("a progress line before 20s of silence: %q", out.String())
	}
	s.tick(start.Add(20*time.Second), 20*time.Second)
	if want := "go test: 20s so far, 0 packages done; compiling\n"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
	for _, e := range []event{
		{Action: "start", Package: "example.com/m/provider"},
		{Action: "start", Package: "example.com/m/store"},
		{Action: "start", Package: "example.com/m/api"},
		{Action: "output", Package: "example.com/m/api", Output: "ok  \texample.com/m/api\t0.1s\n"},
		{Action: "pass", Package: "example.com/m/api"},
	} {
		s.add(e)
	}
	out.Reset()
	s.lastWrite = start.Add(60 * time.Second)
	s.tick(start.Add(80*time.Second), 20*time.Second)
	if want := "go test: 1m20s so far, 1 package done; testing provider, store\n"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}
