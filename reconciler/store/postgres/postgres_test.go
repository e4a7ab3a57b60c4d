package postgres

import (
	"context"
	"errors"
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
