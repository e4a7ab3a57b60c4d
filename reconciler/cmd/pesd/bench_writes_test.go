//go:build linux

package main

// The write-path benchmarks: instruction POSTs against the raw commit rate
// of SQLite on the same machine in the same run, and batched metric
// pushes, both over real HTTP against a real pesd.
//
//	go test -run '^$' -bench 'InstructionPOSTs|MetricPushes' ./reconciler/cmd/pesd/

import (
	"bufio"
	"bytes"
	"cmp"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // the raw commit loop's driver, as the store's

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/server"
)

// benchRound is how long each measured round of requests runs.
const benchRound = 2 * time.Second

// benchFlags are pesd's flags for a benchmark: no per-token rate limit,
// which would cap the rate measured, and PES_BENCH_PPROF=127.0.0.1:6060
// lets a profiler watch pesd while the figures are measured (go tool
// pprof …/debug/pprof/profile).
func benchFlags() []string {
	flags := []string{"--rate-limit", "0"}
	if addr := os.Getenv("PES_BENCH_PPROF"); addr != "" {
		flags = append(flags, "--pprof", addr)
	}
	return flags
}

// rawCommitRate commits one small row per transaction on a fresh SQLite
// file in WAL mode with synchronous=NORMAL (pesd's store settings) for d
// and returns the commits per second.
func rawCommitRate(b *testing.B, d time.Duration) float64 {
	b.Helper()
	path := filepath.Join(b.TempDir(), "raw.db")
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	n := 0
	start := time.Now()
	for time.Since(start) < d {
		tx, err := db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.Exec(`INSERT INTO t (v) VALUES (?)`, "instruction"); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		n++
	}
	return float64(n) / time.Since(start).Seconds()
}

// procCPU is the user+system CPU time process pid has used, from
// /proc/<pid>/stat.
func procCPU(b *testing.B, pid int) time.Duration {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The command name may hold spaces; the fields start after its ")".
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+2:]))
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("parse /proc/%d/stat: %v %v", pid, err1, err2)
	}
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks
}

// hammer runs clients goroutines, each calling do(client) in a loop for d,
// and returns how many calls succeeded per second.
func hammer(b *testing.B, clients int, d time.Duration, do func(client int) error) float64 {
	b.Helper()
	var ok atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	start := time.Now()
	for k := range clients {
		wg.Go(func() {
			for time.Since(start) < d {
				if err := do(k); err != nil {
					once.Do(func() { b.Error(err) })
					return
				}
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(ok.Load()) / time.Since(start).Seconds()
}

// post sends body to path and fails unless pesd answers want.
func post(hc *http.Client, d *pesdProc, path string, body []byte, want int) error {
	_, _, err := sendTo(hc, d.url, d.token, http.MethodPost, path, body, want)
	return err
}

// sendTo makes one request of the server at base and returns the answer's
// header and body, unless its status is not want.
func sendTo(hc *http.Client, base, token, method, path string, body []byte, want int) (http.Header, []byte, error) {
	req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return nil, nil, fmt.Errorf("%s %s: %d: %.300s", method, path, resp.StatusCode, out)
	}
	return resp.Header, out, nil
}

// floorEnv, set in the environment of this test binary, makes it the
// floor server (serveFloor) instead of running tests: its value is the
// file of the answer to give.
const floorEnv = "PES_BENCH_FLOOR_ANSWER"

// serveFloor is the floor of the instruction and causality benchmarks:
// an HTTP server, with pesd's server settings, that reads each request's
// body and answers every request with the answer pesd gave one of them
// (the 201 of an instruction, with a Location of the same length; the 200
// of a change with its causes), and does nothing else. It
// prints where it listens, as pesd does, and serves until killed.
func serveFloor(answerFile string) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "floor server:", err)
		os.Exit(1)
	}
	raw, err := os.ReadFile(answerFile)
	if err != nil {
		fail(err)
	}
	var a floorAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		fail(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	fmt.Printf("floor listening on http://%s\n", ln.Addr())
	srv := server.HTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", a.ContentType)
		if a.Location != "" {
			w.Header().Set("Location", a.Location)
		}
		w.WriteHeader(cmp.Or(a.Status, http.StatusCreated))
		_, _ = w.Write(a.Body)
	}), nil, server.DefaultTimeouts)
	fail(srv.Serve(ln))
}

// floorAnswer is the answer the floor server gives, as pesd gave it.
type floorAnswer struct {
	Status      int    `json:"status"` // 201 when zero
	ContentType string `json:"content_type"`
	Location    string `json:"location"` // none when empty
	Body        []byte `json:"body"`
}

// floorProc is a running floor server.
type floorProc struct {
	pid int
	url string
}

// startFloor starts this test binary as the floor server answering a.
func startFloor(b *testing.B, a floorAnswer) floorProc {
	b.Helper()
	raw, err := json.Marshal(a)
	if err != nil {
		b.Fatal(err)
	}
	file := filepath.Join(b.TempDir(), "floor-answer.json")
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), floorEnv+"="+file)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "floor listening on ")
	if err != nil || !ok {
		b.Fatalf("floor server said %q: %v", line, err)
	}
	return floorProc{pid: cmd.Process.Pid, url: url}
}

// BenchmarkInstructionPOSTs measures instruction POSTs from 8 concurrent
// clients (each instructing its own sim group) against a real pesd, and,
// in the same run, the raw commit rate of SQLite (WAL, synchronous=NORMAL)
// on this machine: one small row per transaction, on one connection. Each
// POST is acknowledged only once its event is durable.
//
// For reference it also measures the floor, the same POSTs from the same
// client against a server that does nothing but answer (serveFloor), and
// the client's own CPU per POST: client and servers share the machine's
// cores, so together they say what rate HTTP alone allows here.
func BenchmarkInstructionPOSTs(b *testing.B) {
	needE2E(b)
	const clients = 8
	d := startDaemon(b, b.TempDir(), "bench-token", benchFlags()...)
	c := d.client(b)
	ctx := ctxFor(b)
	groups := make([]string, clients)
	for i := range groups {
		g, err := c.CreateGroup(ctx, simGroup(fmt.Sprintf("post-%d", i), 1))
		if err != nil {
			b.Fatal(err)
		}
		groups[i] = g.ID
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 30 * time.Second}
	body := []byte(`{"change_by":1,"reason":"bench","priority":10}`)
	path := func(k int) string { return "/v1/groups/" + groups[k] + "/instructions" }
	// The floor: what HTTP alone allows here, the same requests from the
	// same client answered by a server that does nothing but give pesd's
	// answer to one of them.
	h, answer, err := sendTo(hc, d.url, d.token, http.MethodPost, path(0), body, http.StatusCreated)
	if err != nil {
		b.Fatal(err)
	}
	floor := startFloor(b, floorAnswer{ContentType: h.Get("Content-Type"), Location: h.Get("Location"), Body: answer})
	var raw, posts, cpu, clientCPU, floorPosts, floorCPU float64
	for b.Loop() {
		raw += rawCommitRate(b, benchRound)
		cpu0, self0 := procCPU(b, d.cmd.Process.Pid), procCPU(b, os.Getpid())
		rate := hammer(b, clients, benchRound, func(k int) error {
			return post(hc, d, path(k), body, http.StatusCreated)
		})
		posts += rate
		cpu += float64(procCPU(b, d.cmd.Process.Pid)-cpu0) / float64(time.Microsecond) / (rate * benchRound.Seconds())
		clientCPU += float64(procCPU(b, os.Getpid())-self0) / float64(time.Microsecond) / (rate * benchRound.Seconds())

		cpu0 = procCPU(b, floor.pid)
		rate = hammer(b, clients, benchRound, func(k int) error {
			_, _, err := sendTo(hc, floor.url, d.token, http.MethodPost, path(k), body, http.StatusCreated)
			return err
		})
		floorPosts += rate
		floorCPU += float64(procCPU(b, floor.pid)-cpu0) / float64(time.Microsecond) / (rate * benchRound.Seconds())
	}
	n := float64(b.N)
	b.ReportMetric(raw/n, "raw-commits/s")
	b.ReportMetric(posts/n, "posts/s")
	b.ReportMetric(100*posts/raw, "%-of-raw")
	b.ReportMetric(cpu/n, "pesd-cpu-µs/post")
	b.ReportMetric(clientCPU/n, "client-cpu-µs/post")
	b.ReportMetric(floorPosts/n, "floor-posts/s")
	b.ReportMetric(100*floorPosts/raw, "floor-%-of-raw")
	b.ReportMetric(floorCPU/n, "floor-cpu-µs/post")
}

// BenchmarkMetricPushes measures batched metric pushes over HTTP: 2
// clients pushing bodies of api.MaxSamplesPerRequest samples (2 metrics
// of 50 nodes, each body's times in order and after the last body's, as
// agents send them) to a group of a real pesd. It runs with the durable
// metric history pesd keeps for backtests at its default (14d), and at
// its least: --metric-history 1s keeps the samples only as long as the
// longest trigger window (pesd's metric retention, 1h), which is what
// pesd kept before it had a history.
func BenchmarkMetricPushes(b *testing.B) {
	for _, history := range []struct{ name, flag string }{{"history=14d", "14d"}, {"history=window", "1s"}} {
		b.Run(history.name, func(b *testing.B) { benchMetricPushes(b, "--metric-history", history.flag) })
	}
}

func benchMetricPushes(b *testing.B, flags ...string) {
	needE2E(b)
	const clients = 2
	d := startDaemon(b, b.TempDir(), "bench-token", append(benchFlags(), flags...)...)
	c := d.client(b)
	ctx := ctxFor(b)
	g, err := c.CreateGroup(ctx, simGroup("push", 1))
	if err != nil {
		b.Fatal(err)
	}
	// A trigger, so the samples matter to pesd's windows.
	if _, err := c.CreateTrigger(ctx, g.ID, api.TriggerSpec{Name: ptr("q"), Condition: ptr("avg(queue_depth, '2m') > 1e12"),
		Request: api.Request{ChangeBy: ptr(1)}}); err != nil {
		b.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 30 * time.Second}
	var mu sync.Mutex // bodies are made one at a time, so times only grow
	body := func(buf []byte) []byte {
		mu.Lock()
		defer mu.Unlock()
		now := time.Now().UTC()
		buf = append(buf[:0], `{"samples":[`...)
		for i := range api.MaxSamplesPerRequest {
			if i > 0 {
				buf = append(buf, ',')
			}
			t := now.Add(-time.Duration(api.MaxSamplesPerRequest-i) * time.Microsecond)
			buf = append(buf, `{"name":"`...)
			buf = append(buf, []string{"queue_depth", "cpu_utilization"}[i/50%2]...)
			buf = append(buf, `","value":`...)
			buf = strconv.AppendFloat(buf, float64(i%1000)+0.5, 'g', -1, 64)
			buf = append(buf, `,"node_id":"n`...)
			buf = strconv.AppendInt(buf, int64(i%50), 10)
			buf = append(buf, `","time":"`...)
			buf = t.AppendFormat(buf, time.RFC3339Nano)
			buf = append(buf, `"}`...)
		}
		return append(buf, `]}`...)
	}
	var rate, cpu float64
	for b.Loop() {
		var bodies [clients][]byte
		cpu0 := procCPU(b, d.cmd.Process.Pid)
		pushes := hammer(b, clients, benchRound, func(k int) error {
			bodies[k] = body(bodies[k])
			return post(hc, d, "/v1/groups/"+g.ID+"/metrics", bodies[k], http.StatusOK)
		})
		samples := pushes * api.MaxSamplesPerRequest
		rate += samples
		cpu += float64(procCPU(b, d.cmd.Process.Pid)-cpu0) / float64(time.Nanosecond) / (samples * benchRound.Seconds())
	}
	n := float64(b.N)
	b.ReportMetric(rate/n, "samples/s")
	b.ReportMetric(cpu/n, "pesd-cpu-ns/sample")
}
