// Package promtest starts a real Prometheus server for tests: on loopback,
// in a temporary directory, scraping every second a small exporter the
// test serves and whose gauges it sets, and holding, if asked, a past
// the test gives it (backfilled with promtool). The binary is $PES_PROMETHEUS or
// prometheus on PATH (scripts/ensure-prometheus.sh installs Debian's);
// without it a test skips outside CI and fails in CI.
package promtest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Bin returns the Prometheus binary, or "".
func Bin() string {
	if p := os.Getenv("PES_PROMETHEUS"); p != "" {
		return p
	}
	p, _ := exec.LookPath("prometheus")
	return p
}

// Promtool returns the promtool binary: $PES_PROMTOOL, the one beside
// the Prometheus binary (Debian's package ships both), or promtool on
// PATH; "" when there is none.
func Promtool() string {
	if p := os.Getenv("PES_PROMTOOL"); p != "" {
		return p
	}
	if bin := Bin(); bin != "" {
		if p := filepath.Join(filepath.Dir(bin), "promtool"); fileExists(p) {
			return p
		}
	}
	p, _ := exec.LookPath("promtool")
	return p
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// Point is a past value of a series (a metric name, without labels), for
// StartWithHistory.
type Point struct {
	Series string
	Time   time.Time
	Value  float64
}

// Server is a running Prometheus and the exporter it scrapes.
type Server struct {
	t        testing.TB
	bin, dir string
	addr     string // host:port Prometheus listens on
	URL      string // http://addr
	exporter *httptest.Server
	mu       sync.Mutex
	gauges   map[string]float64
	cmd      *exec.Cmd
	done     chan struct{}
}

// Start starts Prometheus scraping an exporter of gauges (name → value,
// changed with Set). It is stopped when the test ends.
func Start(t testing.TB, gauges map[string]float64) *Server {
	t.Helper()
	return StartWithHistory(t, gauges, nil)
}

// StartWithHistory is Start with past points already in Prometheus's
// storage, as blocks promtool writes from them (a TSDB backfill), so
// that queries over past times answer with them.
func StartWithHistory(t testing.TB, gauges map[string]float64, history []Point) *Server {
	t.Helper()
	bin := Bin()
	if bin == "" {
		missing(t, "Prometheus tests need the prometheus binary, not found in $PES_PROMETHEUS or on PATH; scripts/ensure-prometheus.sh installs Debian's")
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir(), gauges: map[string]float64{}}
	if len(history) > 0 {
		s.backfill(history)
	}
	for k, v := range gauges {
		s.gauges[k] = v
	}
	s.exporter = httptest.NewServer(http.HandlerFunc(s.metrics))
	t.Cleanup(s.exporter.Close)
	s.addr = freeAddr(t)
	s.URL = "http://" + s.addr
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: pes-test
    scrape_interval: 1s
    scrape_timeout: 900ms
    static_configs:
      - targets: [%q]
`, strings.TrimPrefix(s.exporter.URL, "http://"))
	if err := os.WriteFile(filepath.Join(s.dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	s.start()
	t.Cleanup(s.Stop)
	return s
}

// missing skips a test that needs a missing binary, outside CI only.
func missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI must run these tests: `make test` gets it)")
	}
	t.Skip(msg)
}

// backfill writes history into the storage directory as TSDB blocks,
// with promtool tsdb create-blocks-from openmetrics.
func (s *Server) backfill(history []Point) {
	s.t.Helper()
	tool := Promtool()
	if tool == "" {
		missing(s.t, "this test backfills Prometheus with promtool, not found in $PES_PROMTOOL, beside prometheus or on PATH; Debian's prometheus package (scripts/ensure-prometheus.sh) has it")
	}
	bySeries := map[string][]Point{}
	var names []string
	for _, p := range history {
		if _, ok := bySeries[p.Series]; !ok {
			names = append(names, p.Series)
		}
		bySeries[p.Series] = append(bySeries[p.Series], p)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		ps := bySeries[n]
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].Time.Before(ps[j].Time) })
		fmt.Fprintf(&b, "# TYPE %s gauge\n", n)
		for _, p := range ps {
			fmt.Fprintf(&b, "%s %g %s\n", n, p.Value, strconv.FormatFloat(float64(p.Time.UnixMilli())/1000, 'f', 3, 64))
		}
	}
	b.WriteString("# EOF\n")
	in := filepath.Join(s.dir, "history.om")
	if err := os.WriteFile(in, []byte(b.String()), 0o644); err != nil {
		s.t.Fatal(err)
	}
	out, err := exec.Command(tool, "tsdb", "create-blocks-from", "openmetrics", in, filepath.Join(s.dir, "data")).CombinedOutput()
	if err != nil {
		s.t.Fatalf("promtool backfill: %v\n%s", err, out)
	}
}

// metrics serves the gauges in the text exposition format. A gauge's name
// may carry labels (`rps{group="a"}`): the series of one family are
// written together, under one TYPE line.
func (s *Server) metrics(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	family := func(series string) string { f, _, _ := strings.Cut(series, "{"); return f }
	names := make([]string, 0, len(s.gauges))
	for n := range s.gauges {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if fi, fj := family(names[i]), family(names[j]); fi != fj {
			return fi < fj
		}
		return names[i] < names[j]
	})
	bw := bufio.NewWriter(w)
	last := ""
	for _, n := range names {
		if f := family(n); f != last {
			fmt.Fprintf(bw, "# TYPE %s gauge\n", f)
			last = f
		}
		fmt.Fprintf(bw, "%s %g\n", n, s.gauges[n])
	}
	bw.Flush()
}

// Set sets a gauge; Prometheus sees it at its next scrape.
func (s *Server) Set(name string, v float64) {
	s.mu.Lock()
	s.gauges[name] = v
	s.mu.Unlock()
}

func (s *Server) start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin,
		"--config.file="+filepath.Join(s.dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(s.dir, "data"),
		"--web.listen-address="+s.addr,
		"--log.level=warn")
	log, err := os.Create(filepath.Join(s.dir, fmt.Sprintf("prometheus-%d.log", time.Now().UnixNano())))
	if err != nil {
		s.t.Fatal(err)
	}
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start prometheus: %v", err)
	}
	done := make(chan struct{})
	s.done = done
	go func() { s.cmd.Wait(); log.Close(); close(done) }()
	s.waitReady(log.Name())
}

func (s *Server) waitReady(logPath string) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			out, _ := os.ReadFile(logPath)
			s.t.Fatalf("prometheus exited at start:\n%s", out)
		default:
		}
		resp, err := http.Get(s.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("prometheus not ready on %s within 30s", s.addr)
}

// Stop stops the server (its data stays for Restart).
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// CPUTime is the user and system CPU time the running server has used,
// read from /proc; 0 where that cannot be read.
func (s *Server) CPUTime() time.Duration {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The fields after the command's name, which is in parentheses and
	// may hold spaces: utime and stime are the 14th and 15th of the line.
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	// The kernel counts in clock ticks of 1/100 s (USER_HZ) on Linux.
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// Restart starts the server again on the same address and data.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

// WaitFor waits until query answers with a sample satisfying ok: the
// first scrapes take a moment.
func (s *Server) WaitFor(ctx context.Context, query func(context.Context) (float64, error), ok func(float64) bool) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		v, err := query(ctx)
		if err == nil && ok(v) {
			return
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("prometheus on %s: no matching answer within 30s (last error %v)", s.addr, last)
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
