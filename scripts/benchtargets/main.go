// Command benchtargets reads `go test -bench` output on standard input,
// passes it through, and ends with a table of the figures named in a
// targets file beside their targets (scripts/bench-targets.txt).
//
//	go test -run '^$' -bench . ./... | go run ./scripts/benchtargets scripts/bench-targets.txt
//
// It exits 1 when the output holds a failed test or benchmark, so `make
// bench` still fails then; a figure that misses its target is printed as
// MISS but does not fail the run, since this machine is shared and noisy.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
)

type target struct {
	re     *regexp.Regexp
	unit   string
	op     string
	value  float64 // meaningless for op "="
	what   string
	source string // the line, for errors
}

type figure struct {
	bench string
	unit  string
	value float64
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go test -bench ... | benchtargets TARGETS-FILE")
		os.Exit(2)
	}
	targets, err := readTargets(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtargets:", err)
		os.Exit(2)
	}
	figures, failed, err := scan(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtargets:", err)
		os.Exit(2)
	}
	report(os.Stdout, targets, figures)
	if failed {
		os.Exit(1)
	}
}

func readTargets(path string) ([]target, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ts []target
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) < 5 {
			return nil, fmt.Errorf("%s:%d: want 'benchmark unit op target what', got %q", path, n, line)
		}
		re, err := regexp.Compile("^(" + fs[0] + ")$")
		if err != nil {
			return nil, fmt.Errorf("%s:%d: benchmark: %v", path, n, err)
		}
		t := target{re: re, unit: fs[1], op: fs[2], source: line}
		switch t.op {
		case "<", "<=", ">", ">=":
			if t.value, err = strconv.ParseFloat(fs[3], 64); err != nil {
				return nil, fmt.Errorf("%s:%d: target %q is not a number", path, n, fs[3])
			}
		case "=":
		default:
			return nil, fmt.Errorf("%s:%d: op %q: want one of < <= > >= =", path, n, t.op)
		}
		// The description is the rest of the line after the fourth field.
		rest := line
		for range 4 {
			rest = strings.TrimSpace(rest)
			rest = rest[strings.IndexAny(rest, " \t"):]
		}
		t.what = strings.TrimSpace(rest)
		ts = append(ts, t)
	}
	return ts, sc.Err()
}

var procSuffix = regexp.MustCompile(`-\d+$`)

// scan copies in to out and collects every figure of every benchmark line.
func scan(in io.Reader, out io.Writer) (figs []figure, failed bool, err error) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(out, line)
		if strings.HasPrefix(line, "--- FAIL") || strings.HasPrefix(line, "FAIL") {
			failed = true
		}
		fs := strings.Fields(line)
		if len(fs) < 4 || !strings.HasPrefix(fs[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(fs[1]); err != nil {
			continue // a log line that starts with a benchmark's name
		}
		name := procSuffix.ReplaceAllString(fs[0], "")
		for i := 2; i+1 < len(fs); i += 2 {
			v, err := strconv.ParseFloat(fs[i], 64)
			if err != nil {
				break
			}
			figs = append(figs, figure{bench: name, unit: fs[i+1], value: v})
		}
	}
	return figs, failed, sc.Err()
}

func report(w io.Writer, targets []target, figs []figure) {
	if len(targets) == 0 {
		return
	}
	fmt.Fprintln(w, "\n== figures beside their targets")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BENCHMARK\tFIGURE\tTARGET\t\tWHAT")
	for _, t := range targets {
		found := false
		for _, f := range figs {
			if f.unit != t.unit || !t.re.MatchString(f.bench) {
				continue
			}
			found = true
			goal, verdict := "-", ""
			if t.op != "=" {
				goal = t.op + " " + num(t.value)
				verdict = "MISS"
				if meets(f.value, t.op, t.value) {
					verdict = "ok"
				}
			}
			fmt.Fprintf(tw, "%s\t%s %s\t%s\t%s\t%s\n", f.bench, num(f.value), t.unit, goal, verdict, t.what)
		}
		if !found {
			goal := "-"
			if t.op != "=" {
				goal = t.op + " " + num(t.value)
			}
			fmt.Fprintf(tw, "%s\tnot measured (%s)\t%s\t\t%s\n", t.re.String()[2:len(t.re.String())-2], t.unit, goal, t.what)
		}
	}
	tw.Flush()
}

func meets(v float64, op string, t float64) bool {
	switch op {
	case "<":
		return v < t
	case "<=":
		return v <= t
	case ">":
		return v > t
	case ">=":
		return v >= t
	}
	return false
}

func num(v float64) string {
	if v >= 1e4 || v <= -1e4 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}
