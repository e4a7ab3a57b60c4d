//go:build linux

package main

// pesd on PostgreSQL: the real binary with --store postgres against a
// server of its own (initdb and pg_ctl on loopback, in a temporary
// directory), a sim group driven through the HTTP API, and the causality
// record read back, also after a restart on an empty data directory.

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/cli"
	"github.com/pes-project/terraform-provider-pes/reconciler/client"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/postgres/pgtest"
)

func TestServeDSNFlags(t *testing.T) {
	const flagDSN, envDSN = "postgres://flag@127.0.0.1:5432/pes", "postgres://env@127.0.0.1:5432/pes"
	tests := []struct {
		name    string
		args    []string
		env     string // PES_DSN
		wantDSN string
		wantErr string
	}{
		{"flag", []string{"--store", "postgres", "--dsn", flagDSN}, "", flagDSN, ""},
		{"environment", []string{"--store", "postgres"}, envDSN, envDSN, ""},
		{"flag wins over environment", []string{"--store", "postgres", "--dsn", flagDSN}, envDSN, flagDSN, ""},
		{"neither", []string{"--store", "postgres"}, "", "", "--dsn: required with --store postgres"},
		{"blank environment", []string{"--store", "postgres"}, "  ", "", "--dsn: required"},
		{"sqlite ignores PES_DSN", nil, envDSN, "", ""},
		{"sqlite refuses --dsn", []string{"--dsn", flagDSN}, "", "", "--dsn: only with --store postgres"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PES_TOKEN", "t")
			t.Setenv("PES_DSN", tt.env)
			cfg, err := parseServe(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if cfg.dsn != tt.wantDSN {
				t.Errorf("dsn %q, want %q", cfg.dsn, tt.wantDSN)
			}
		})
	}
}

func TestE2EPostgresStore(t *testing.T) {
	needE2E(t)
	srv := pgtest.Start(t)
	dsn := srv.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	const token = "pg-e2e-token"
	d := startDaemon(t, t.TempDir(), token, "--store", "postgres", "--dsn", dsn)
	c := d.client(t)

	s := newScene(t, ctx, c, simGroup("pg-web", 2))
	s.settle()
	in := s.instruct(api.Instruction{Request: api.Request{ChangeBy: ptr(3)}, Reason: "launch day", Actor: "alice"})
	p := s.harmonize()
	if len(p.ChangeIDs) != 1 {
		t.Fatalf("period %s made changes %v, want one", p.Label, p.ChangeIDs)
	}
	if g := s.settle(); g.ActualQuantity != 5 {
		t.Errorf("after +3: actual %d, want 5", g.ActualQuantity)
	}
	checkInstructionCaused(t, ctx, c, s.g.ID, in, p.ChangeIDs[0])
	_, changes := checkCausality(t, ctx, c, s.g.ID)
	if len(changes) == 0 {
		t.Error("no change in the causality record")
	}

	// The record is in PostgreSQL, not in a SQLite file in the data dir.
	if _, err := os.Stat(filepath.Join(d.dataDir, "pes.db")); err == nil {
		t.Errorf("--store postgres left a SQLite file in %s", d.dataDir)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM changes WHERE id = $1`, p.ChangeIDs[0]).Scan(&n); err != nil || n != 1 {
		t.Errorf("change %s in PostgreSQL: %d rows, %v", p.ChangeIDs[0], n, err)
	}

	// A restart, on an empty data dir and with the DSN from the
	// environment as a deployment passes it, reads the same history.
	if code := d.term(t); code != 0 {
		t.Fatalf("pesd exited %d on SIGTERM", code)
	}
	d = startDaemonEnv(t, t.TempDir(), token, []string{"PES_DSN=" + dsn}, "--store", "postgres")
	c = d.client(t)
	if _, err := c.GetGroup(ctx, s.g.ID); err != nil {
		t.Fatalf("group after restart: %v", err)
	}
	checkInstructionCaused(t, ctx, c, s.g.ID, in, p.ChangeIDs[0])
	if code := d.term(t); code != 0 {
		t.Errorf("pesd exited %d on SIGTERM", code)
	}
}

// TestE2EPostgresUnreachable: pesd does not start on a database it cannot
// reach, and says which.
func TestE2EPostgresUnreachable(t *testing.T) {
	needE2E(t)
	// Port 1 on loopback: nothing listens, the connection is refused at once.
	dsn := "postgres://pes@127.0.0.1:1/pes?sslmode=disable&connect_timeout=5"
	cmd := exec.Command(pesdBin, "serve", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(),
		"--token", "x", "--store", "postgres", "--dsn", dsn)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != cli.ExitError {
		t.Fatalf("pesd on an unreachable database: %v, want exit %d\n%s", err, cli.ExitError, out)
	}
	if !strings.Contains(string(out), "open store: postgres: connect to 127.0.0.1:1/pes") {
		t.Errorf("pesd says %q, want it to name the database it could not reach", out)
	}
}

// checkInstructionCaused checks, through the API, that the instruction
// event caused the change, both ways and by caused_by: indirectly, since
// the change came from a harmonization of aggregated requests (SPEC §3).
func checkInstructionCaused(t *testing.T, ctx context.Context, c *client.Client, groupID string, in api.Event, changeID string) {
	t.Helper()
	cd, err := c.GetChange(ctx, changeID)
	if err != nil {
		t.Fatal(err)
	}
	if cd.Type != api.ChangeAddNodes || cd.Amount != 3 {
		t.Errorf("change %s: %s %d, want add_nodes 3", cd.Label, cd.Type, cd.Amount)
	}
	if !slices.ContainsFunc(cd.Causes, func(x api.Cause) bool {
		return x.Event.ID == in.ID && x.Attribution == api.AttributionIndirect
	}) {
		t.Errorf("causes of %s: %+v, want %s (indirect)", cd.Label, cd.Causes, in.Label)
	}
	if !strings.Contains(cd.Explanation, in.Label) {
		t.Errorf("explanation of %s does not name %s: %q", cd.Label, in.Label, cd.Explanation)
	}
	ed, err := c.GetEvent(ctx, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(ed.Effects, func(x api.Effect) bool { return x.Change.ID == changeID }) {
		t.Errorf("effects of %s: %+v, want %s", ed.Label, ed.Effects, cd.Label)
	}
	chs, err := c.ListAllChanges(ctx, groupID, client.ChangeFilter{CausedBy: in.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(chs) != 1 || chs[0].ID != changeID {
		t.Errorf("changes caused_by %s: %d, want only %s", in.Label, len(chs), cd.Label)
	}
}
