//go:build linux

package main

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/cli"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/postgres/pgtest"
)

// TestE2EWithoutCgo: pesd built with CGO_ENABLED=0 serves on PostgreSQL,
// and with --store sqlite says at start that SQLite needs cgo.
func TestE2EWithoutCgo(t *testing.T) {
	needE2E(t)
	bin := filepath.Join(t.TempDir(), "pesd-nocgo")
	build := exec.Command(goTool(), "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}

	out, err := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--token", "x").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != cli.ExitError {
		t.Fatalf("cgo-free pesd with --store sqlite: %v, want exit %d\n%s", err, cli.ExitError, out)
	}
	if !strings.Contains(string(out), "built without cgo (CGO_ENABLED=0) and the SQLite store needs cgo: run it with --store postgres") {
		t.Errorf("cgo-free pesd with --store sqlite says %q", out)
	}

	dsn := pgtest.Start(t).NewDatabase(t)
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--store", "postgres", "--dsn", dsn)
	cmd.Env = append(os.Environ(), "PES_TOKEN=nocgo-token")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	url, ok := strings.CutPrefix(line, "pesd listening on ")
	if err != nil || !ok {
		t.Fatalf("cgo-free pesd on PostgreSQL printed %q, %v", line, err)
	}
	url, _, _ = strings.Cut(url, " ")
	c, err := client.New(url, "nocgo-token")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	g, err := c.CreateGroup(ctx, simGroup("nocgo", 1))
	if err != nil {
		t.Fatalf("create a group on the cgo-free pesd: %v", err)
	}
	if got, err := c.GetGroup(ctx, g.ID); err != nil || got.Name != "nocgo" {
		t.Fatalf("read it back: %+v, %v", got, err)
	}
}
