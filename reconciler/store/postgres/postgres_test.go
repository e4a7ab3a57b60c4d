package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/store"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/postgres/pgtest"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlstore"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/storetest"
)

func TestPostgres(t *testing.T) {
	srv := pgtest.Start(t)
	ctx := context.Background()

	t.Run("Conformance", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store {
			s, err := Open(ctx, srv.NewDatabase(t))
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
	})

	t.Run("Leases", func(t *testing.T) {
		storetest.RunLeases(t, func(t *testing.T) store.Store {
			s, err := Open(ctx, srv.NewDatabase(t))
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
	})

	t.Run("ReopenAndMigrateOnce", func(t *testing.T) {
		dsn := srv.NewDatabase(t)
		// Replicas starting together: the advisory lock lets one migrate.
		errs := make(chan error, 4)
		for range 4 {
			go func() {
				s, err := Open(ctx, dsn)
				if err == nil {
					err = s.Close()
				}
				errs <- err
			}()
		}
		for range 4 {
			if err := <-errs; err != nil {
				t.Fatalf("concurrent Open: %v", err)
			}
		}
		s, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var n int
		if err := s.db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		ms, _ := sqlstore.LoadMigrations(migrationFiles, "migrations")
		if n != len(ms) {
			t.Errorf("%d migrations recorded, want %d", n, len(ms))
		}
		if _, err := s.db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', '')`); err != nil {
			t.Fatal(err)
		}
		_, err = Open(ctx, dsn)
		if !errors.Is(err, ErrSchemaTooNew) {
			t.Errorf("Open of a newer database: %v, want ErrSchemaTooNew", err)
		}
	})

	// A version-1 database whose event reasons hold pesd's notes behind
	// the "; pesd: " mark: after migration the reason holds the words
	// alone and the notes are their own field.
	t.Run("Migration2SplitsEventNotes", func(t *testing.T) {
		dsn := srv.NewDatabase(t)
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		ms, err := sqlstore.LoadMigrations(migrationFiles, "migrations")
		if err != nil {
			t.Fatal(err)
		}
		if err := sqlstore.Migrate(ctx, db, dialect(), ms[:1], time.Now()); err != nil {
			t.Fatal(err)
		}
		ts := sqlstore.FormatTime(time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC))
		if _, err := db.Exec(`INSERT INTO groups (id, name, driver, program, desired_quantity, min_quantity,
			max_quantity, aggregation_period, aggregation_policy, replacement, replacement_defer_window,
			init_deadline, cooldown, termination_policy, official_quantity, actual_quantity, status,
			current_period_id, current_period_label, created_at, updated_at)
			VALUES ('g1', 'web', 'sim', '{"command":"x"}', 3, 0, 10, '60s', 'largest', 'auto', '15s', '10m',
			'0s', 'newest', 3, 3, 'active', '', '', $1, $1)`, ts); err != nil {
			t.Fatal(err)
		}
		for i, c := range storetest.LegacyReasons() {
			if _, err := db.Exec(`INSERT INTO events (id, group_id, label, type, source_kind, source_id,
				source_name, time, period_id, period_label, immediate, priority, status, reason, observed,
				node_id, parent_change_id, nexus_id, description) VALUES ($1, 'g1', '', 'user_instruction',
				'user', '', 'alice', $2, '', '', true, 50, 'applied', $3, '', '', '', '', '')`,
				fmt.Sprintf("legacy-%d", i), ts, c.Reason); err != nil {
				t.Fatal(err)
			}
		}
		s, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		storetest.CheckLegacyReasons(t, s)
	})

	t.Run("BadDSN", func(t *testing.T) {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		for _, dsn := range []string{"postgres://%zz", srv.DSN("no_such_database")} {
			if s, err := Open(cctx, dsn); err == nil {
				s.Close()
				t.Errorf("Open(%q) succeeded", dsn)
			} else if !strings.Contains(err.Error(), "postgres") {
				t.Errorf("Open(%q): %v does not say where it comes from", dsn, err)
			}
		}
	})
}
