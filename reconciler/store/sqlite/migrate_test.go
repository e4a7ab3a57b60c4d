package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlstore"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/storetest"
)

func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", dsn(path, map[string][]string{"_foreign_keys": {"on"}}))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// oldGroup inserts an active group with the columns every schema since
// version 2 has, created and updated at ts, into a database migrated by
// hand.
func oldGroup(t *testing.T, db *sql.DB, id, name, ts string) {
	t.Helper()
	if _, err := db.Exec(`INSERT INTO groups (id, name, driver, program, desired_quantity, min_quantity, max_quantity,
		aggregation_period, aggregation_policy, replacement, replacement_defer_window, init_deadline,
		cooldown, termination_policy, official_quantity, actual_quantity, status, current_period_id,
		current_period_label, created_at, updated_at)
		VALUES (?, ?, 'sim', '{"command":"x"}', 3, 0, 10, '60s', 'largest', 'auto', '15s', '10m',
		'0s', 'newest', 3, 3, 'active', '', '', ?, ?)`, id, name, ts, ts); err != nil {
		t.Fatal(err)
	}
}

// migrate runs the shared migrations runner with SQLite's dialect.
func migrate(ctx context.Context, db *sql.DB, ms []sqlstore.Migration, now time.Time) error {
	return sqlstore.Migrate(ctx, db, dialect(), ms, now)
}

func versions(t *testing.T, db *sql.DB) []int {
	t.Helper()
	rows, err := db.Query(`SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	return vs
}

func TestOpenAppliesEveryMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "pes.db") // parents created
	s := mustOpen(t, path)
	defer s.Close()
	ms := mustMigrations()
	got := versions(t, s.w)
	if len(got) != len(ms) || got[len(got)-1] != ms[len(ms)-1].Version {
		t.Errorf("applied versions %v, want the %d embedded migrations", got, len(ms))
	}
	// The pragmas the durability and concurrency design rests on.
	for _, p := range []struct {
		db     *sql.DB
		pragma string
		want   string
	}{
		{s.w, "journal_mode", "wal"},
		{s.w, "synchronous", "1"}, // NORMAL
		{s.w, "foreign_keys", "1"},
		{s.r, "query_only", "1"},
		{s.r, "journal_mode", "wal"},
	} {
		var v string
		if err := p.db.QueryRow("PRAGMA " + p.pragma).Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v != p.want {
			t.Errorf("PRAGMA %s = %s, want %s", p.pragma, v, p.want)
		}
	}
	// Readers cannot write, even by mistake.
	if _, err := s.r.Exec(`DELETE FROM groups`); err == nil {
		t.Error("a reader connection accepted a write")
	}
}

func TestOpenMigratesAnOlderDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pes.db")
	ms := mustMigrations()
	db := rawDB(t, path)
	// A database written by the previous release: all but the newest
	// migration.
	if err := migrate(ctx, db, ms[:len(ms)-1], time.Now()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s := mustOpen(t, path)
	defer s.Close()
	if got := versions(t, s.w); len(got) != len(ms) {
		t.Errorf("versions after Open: %v, want %d", got, len(ms))
	}
	if err := s.Update(ctx, func(tx store.Tx) error {
		return tx.InsertGroup(api.Group{ID: "g1", GroupConfig: api.GroupConfig{Name: "web"}, Status: api.GroupActive})
	}); err != nil {
		t.Fatalf("migrated database does not take writes: %v", err)
	}
}

func TestMigrateStepByStep(t *testing.T) {
	ctx := context.Background()
	fsys := fstest.MapFS{
		"m/0001_things.sql": {Data: []byte(`CREATE TABLE things (id TEXT PRIMARY KEY);`)},
		"m/0002_color.sql":  {Data: []byte(`ALTER TABLE things ADD COLUMN color TEXT NOT NULL DEFAULT 'red';`)},
		"m/0010_index.sql":  {Data: []byte(`CREATE INDEX things_color ON things (color);`)},
		"m/README":          {Data: []byte(`not a migration`)},
	}
	all, err := sqlstore.LoadMigrations(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].Version != 1 || all[1].Version != 2 || all[2].Version != 10 {
		t.Fatalf("loaded %+v", all)
	}
	db := rawDB(t, filepath.Join(t.TempDir(), "m.db"))
	if err := migrate(ctx, db, all[:1], time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO things (id) VALUES ('a')`); err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, db, all, time.Now()); err != nil {
		t.Fatal(err)
	}
	var color string
	if err := db.QueryRow(`SELECT color FROM things WHERE id = 'a'`).Scan(&color); err != nil || color != "red" {
		t.Errorf("row after migration: color %q, err %v", color, err)
	}
	// Idempotent: migrating again applies nothing.
	if err := migrate(ctx, db, all, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := versions(t, db); len(got) != 3 {
		t.Errorf("versions %v", got)
	}

	// A failing migration leaves no trace: not recorded, DDL undone.
	bad := append(all, sqlstore.Migration{Version: 11, Name: "0011_bad.sql",
		SQL: `CREATE TABLE half (id TEXT); INSERT INTO nowhere VALUES (1);`})
	if err := migrate(ctx, db, bad, time.Now()); err == nil || !strings.Contains(err.Error(), "0011_bad.sql") {
		t.Errorf("bad migration: err %v, want one naming the file", err)
	}
	if got := versions(t, db); len(got) != 3 {
		t.Errorf("versions after a failed migration: %v", got)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'half'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("table of a failed migration exists (%d, %v)", n, err)
	}
}

func TestOpenRefusesANewerDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pes.db")
	s := mustOpen(t, path)
	if _, err := s.w.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', '')`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := Open(path)
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open of a newer database: %v, want ErrSchemaTooNew", err)
	}
	if !strings.Contains(err.Error(), "9999") {
		t.Errorf("error %q does not say which version the database has", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "plain-file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("this is not a database\n", 500)), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{
		"parent is a file": filepath.Join(file, "pes.db"),
		"not a database":   garbage,
	} {
		s, err := Open(path)
		if err == nil {
			s.Close()
			t.Errorf("%s: Open succeeded", name)
			continue
		}
		if !strings.Contains(err.Error(), "sqlite") {
			t.Errorf("%s: error %q does not say where it comes from", name, err)
		}
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pes.db")
	s := mustOpen(t, path)
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertGroup(api.Group{ID: "g1", GroupConfig: api.GroupConfig{Name: "web"}, Status: api.GroupActive}); err != nil {
			return err
		}
		return tx.SetLabels("g1", store.Labels{E: 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, path)
	defer s.Close()
	if _, err := s.GetGroup(ctx, "g1"); err != nil {
		t.Errorf("after reopen: %v", err)
	}
	if l, err := s.Labels(ctx, "g1"); err != nil || l != (store.Labels{E: 1}) {
		t.Errorf("label counters after reopen: %+v (err %v), want E 1", l, err)
	}
}

// TestMigration2KeepsNexusMembers opens a version-1 database holding
// nexus rows with members in the link tables; after migration each
// nexus lists the same members in the same order.
func TestMigration2KeepsNexusMembers(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pes.db")
	db := rawDB(t, path)
	ms := mustMigrations()
	if err := migrate(ctx, db, ms[:1], time.Now()); err != nil {
		t.Fatal(err)
	}
	ts := sqlstore.FormatTime(time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC))
	for _, q := range []string{
		`INSERT INTO groups (id, name, driver, program, desired_quantity, min_quantity, max_quantity,
			aggregation_period, aggregation_policy, replacement, replacement_defer_window, init_deadline,
			cooldown, termination_policy, official_quantity, actual_quantity, status, current_period_id,
			current_period_label, created_at, updated_at)
			VALUES ('g1', 'web', 'sim', '{"command":"x"}', 3, 0, 10, '60s', 'largest', 'auto', '15s', '10m',
			'0s', 'newest', 3, 3, 'active', '', '', '` + ts + `', '` + ts + `')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range []string{"e4", "e5", "e6"} {
		if _, err := db.Exec(`INSERT INTO events (id, group_id, label, type, source_kind, source_id, source_name,
			time, period_id, period_label, immediate, priority, status, reason, observed, node_id,
			parent_change_id, nexus_id, description) VALUES (?, 'g1', '', 't', 'user', '', '', ?, '', '', 0, 0,
			'aggregated', '', '', '', '', 'x1', '')`, e, ts); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []string{"c7", "c8"} {
		if _, err := db.Exec(`INSERT INTO changes (id, group_id, label, type, amount, quantity_before,
			quantity_after, status, started_at, period_id, period_label, nexus_id, attribution, description)
			VALUES (?, 'g1', '', 'add_nodes', 1, 1, 2, 'completed', ?, '', '', 'x1', 'indirect', '')`, c, ts); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		`INSERT INTO nexus (id, group_id, attribution, period_id, created_at) VALUES ('x1', 'g1', 'indirect', 'p2', '` + ts + `')`,
		`INSERT INTO nexus (id, group_id, attribution, period_id, created_at) VALUES ('x-empty', 'g1', 'direct', '', '` + ts + `')`,
		`INSERT INTO nexus_events (nexus_id, pos, event_id) VALUES ('x1', 0, 'e5'), ('x1', 1, 'e6'), ('x1', 2, 'e4')`,
		`INSERT INTO nexus_changes (nexus_id, pos, change_id) VALUES ('x1', 1, 'c8'), ('x1', 0, 'c7')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s := mustOpen(t, path)
	defer s.Close()
	x, err := s.GetNexus(ctx, "x1")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(x.EventIDs, " ") != "e5 e6 e4" || strings.Join(x.ChangeIDs, " ") != "c7 c8" {
		t.Errorf("migrated nexus: events %v changes %v, want [e5 e6 e4] [c7 c8]", x.EventIDs, x.ChangeIDs)
	}
	x, err = s.GetNexus(ctx, "x-empty")
	if err != nil {
		t.Fatal(err)
	}
	if x.EventIDs == nil || x.ChangeIDs == nil || len(x.EventIDs)+len(x.ChangeIDs) != 0 {
		t.Errorf("migrated empty nexus: %#v %#v", x.EventIDs, x.ChangeIDs)
	}
	chs, _, err := s.ListChanges(ctx, store.ChangeFilter{CausedBy: "e6"})
	if err != nil || len(chs) != 2 {
		t.Errorf("caused_by after migration: %d changes, %v", len(chs), err)
	}
}

// TestMigration3SplitsEventNotes opens a version-2 database whose event
// reasons hold pesd's notes behind the "; pesd: " mark; after migration
// the reason holds the words alone and the notes are their own field.
func TestMigration3SplitsEventNotes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pes.db")
	db := rawDB(t, path)
	if err := migrate(ctx, db, mustMigrations()[:2], time.Now()); err != nil {
		t.Fatal(err)
	}
	ts := sqlstore.FormatTime(time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC))
	oldGroup(t, db, "g1", "web", ts)
	for i, c := range storetest.LegacyReasons() {
		if _, err := db.Exec(`INSERT INTO events (id, group_id, label, type, source_kind, source_id, source_name,
			time, period_id, period_label, immediate, priority, status, reason, observed, node_id,
			parent_change_id, nexus_id, description) VALUES (?, 'g1', '', 'user_instruction', 'user', '', 'alice',
			?, '', '', 1, 50, 'applied', ?, '', '', '', '', '')`, fmt.Sprintf("legacy-%d", i), ts, c.Reason); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s := mustOpen(t, path)
	defer s.Close()
	storetest.CheckLegacyReasons(t, s)
}

// TestMigration5ReadsOldSamples: samples stored one a row before version 5
// are read with the packed ones, first among equal times, until retention
// drops them.
func TestMigration5ReadsOldSamples(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "pes.db"))
	defer s.Close()
	t0 := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	if err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertGroup(api.Group{ID: "g1", GroupConfig: api.GroupConfig{Name: "web"}, Status: api.GroupActive}); err != nil {
			return err
		}
		return tx.InsertSamples("g1", []store.StoredSample{{Name: "cpu", Time: t0.Add(time.Second), Value: 2}})
	}); err != nil {
		t.Fatal(err)
	}
	for i, at := range []time.Time{t0, t0.Add(time.Second)} {
		if _, err := s.w.Exec(`INSERT INTO samples (group_id, name, node_id, time, value) VALUES ('g1', 'cpu', '', ?, ?)`,
			sqlstore.FormatTime(at), 10+i); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Samples(ctx, "g1", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var vals []float64
	for _, x := range got {
		vals = append(vals, x.Value)
	}
	if !slices.Equal(vals, []float64{10, 11, 2}) {
		t.Errorf("samples old and packed: values %v, want [10 11 2]", vals)
	}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.DeleteSamplesBefore("g1", t0.Add(time.Second)) }); err != nil {
		t.Fatal(err)
	}
	if got, err = s.Samples(ctx, "g1", time.Time{}); err != nil || len(got) != 2 {
		t.Errorf("after retention: %d samples (err %v), want 2", len(got), err)
	}
}

// TestMigration6MovesLabelCounters: the counters of the labels table move
// into the group rows; a group without any starts from zero.
func TestMigration6MovesLabelCounters(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pes.db")
	db := rawDB(t, path)
	if err := migrate(ctx, db, mustMigrations()[:5], time.Now()); err != nil {
		t.Fatal(err)
	}
	ts := sqlstore.FormatTime(time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC))
	for _, g := range []string{"g1", "g2"} {
		oldGroup(t, db, g, "name-"+g, ts)
	}
	if _, err := db.Exec(`INSERT INTO labels (group_id, kind, last) VALUES ('g1', 'E', 41), ('g1', 'C', 7), ('g1', 'H', 12)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s := mustOpen(t, path)
	defer s.Close()
	for g, want := range map[string]store.Labels{"g1": {E: 41, C: 7, H: 12}, "g2": {}} {
		if l, err := s.Labels(ctx, g); err != nil || l != want {
			t.Errorf("group %s after migration: counters %+v (err %v), want %+v", g, l, err, want)
		}
	}
}

// TestTenantsMigrationKeepsGroups: the groups of a database from before
// tenants go to the tenant "default", keep their names, and a second
// tenant may then use the same name.
func TestTenantsMigrationKeepsGroups(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pes.db")
	db := rawDB(t, path)
	ms := mustMigrations()
	before := slices.IndexFunc(ms, func(m sqlstore.Migration) bool { return strings.HasSuffix(m.Name, "_tenants.sql") })
	if before < 0 {
		t.Fatal("no tenants migration")
	}
	if err := migrate(ctx, db, ms[:before], time.Now()); err != nil {
		t.Fatal(err)
	}
	ts := sqlstore.FormatTime(time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC))
	oldGroup(t, db, "g1", "web", ts)
	db.Close()
	s := mustOpen(t, path)
	defer s.Close()
	g, err := s.GetGroupByName(ctx, api.DefaultTenant, "web")
	if err != nil || g.ID != "g1" || g.Tenant != api.DefaultTenant {
		t.Fatalf("web after the migration: %+v, %v; want g1 in tenant default", g, err)
	}
	other := g
	other.ID, other.Tenant = "g2", "payments"
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertGroup(other) }); err != nil {
		t.Errorf("a second tenant's web: %v", err)
	}
}
