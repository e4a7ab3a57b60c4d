package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/store"
)

var _ store.Leases = (*Store)(nil)

// fenceQuery reads a shard's lease and holds its row (FOR KEY SHARE)
// until the writing transaction ends, so a takeover or a release, which
// lock the row FOR UPDATE first, waits for the write to land, and a write
// after them sees the new generation. The owner's renewals, which update
// no key, do not wait for its writes, nor its writes for them (a renewal
// of many rows against writes holding several would deadlock). The
// sessions' idle_in_transaction_session_timeout bounds the wait when the
// writer is paused mid-transaction.
const fenceQuery = `SELECT owner, generation, expires_at, released FROM leases WHERE shard = ? FOR KEY SHARE`

// millis binds a TTL as milliseconds for "now() + ? * interval '1 ms'".
func millis(d time.Duration) int64 { return d.Milliseconds() }

func (s *Store) Heartbeat(ctx context.Context, r store.Replica) error {
	_, err := s.leases.ExecContext(ctx, `INSERT INTO replicas (id, address, started_at, seen_at)
		VALUES ($1, $2, now(), now())
		ON CONFLICT (id) DO UPDATE SET address = excluded.address, seen_at = now()`, r.ID, r.Address)
	if err != nil {
		return fmt.Errorf("postgres: heartbeat of replica %s: %w", r.ID, err)
	}
	return nil
}

func (s *Store) Unregister(ctx context.Context, id string) error {
	if _, err := s.leases.ExecContext(ctx, `DELETE FROM replicas WHERE id = $1`, id); err != nil {
		return fmt.Errorf("postgres: unregister replica %s: %w", id, err)
	}
	return nil
}

func (s *Store) Replicas(ctx context.Context) ([]store.Replica, error) {
	rows, err := s.leases.QueryContext(ctx, `SELECT id, address, started_at, seen_at FROM replicas ORDER BY started_at, id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list replicas: %w", err)
	}
	defer rows.Close()
	var out []store.Replica
	for rows.Next() {
		var r store.Replica
		if err := rows.Scan(&r.ID, &r.Address, &r.StartedAt, &r.SeenAt); err != nil {
			return nil, fmt.Errorf("postgres: list replicas: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *Store) ListLeases(ctx context.Context) ([]store.Lease, error) {
	rows, err := s.leases.QueryContext(ctx, `SELECT shard, owner, generation, expires_at, released FROM leases ORDER BY shard`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list leases: %w", err)
	}
	defer rows.Close()
	var out []store.Lease
	for rows.Next() {
		var l store.Lease
		if err := rows.Scan(&l.Shard, &l.Owner, &l.Generation, &l.ExpiresAt, &l.Released); err != nil {
			return nil, fmt.Errorf("postgres: list leases: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// Acquire reads the lease under a row lock and takes it when it is free.
// The first owner of a shard inserts its row; a concurrent first
// acquisition loses on the primary key and finds the shard held.
func (s *Store) Acquire(ctx context.Context, shard int, owner string, ttl time.Duration) (store.Acquired, bool, error) {
	var a store.Acquired
	ok := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var cur store.Lease
		var free bool
		err := tx.QueryRowContext(ctx, `SELECT owner, generation, released, expires_at <= now()
			FROM leases WHERE shard = $1 FOR UPDATE`, shard).Scan(&cur.Owner, &cur.Generation, &cur.Released, &free)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			res, err := tx.ExecContext(ctx, `INSERT INTO leases (shard, owner, generation, expires_at, acquired_at)
				VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond', now()) ON CONFLICT (shard) DO NOTHING`,
				shard, owner, millis(ttl))
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil || n == 0 {
				return err
			}
		case err != nil:
			return err
		case !free && !cur.Released:
			return nil
		default:
			a.PreviousOwner, a.PreviousReleased = cur.Owner, cur.Released
			if _, err := tx.ExecContext(ctx, `UPDATE leases SET owner = $2, generation = generation + 1,
				expires_at = now() + $3 * interval '1 millisecond', released = false, acquired_at = now()
				WHERE shard = $1`, shard, owner, millis(ttl)); err != nil {
				return err
			}
		}
		ok = true
		return tx.QueryRowContext(ctx, `SELECT shard, owner, generation, expires_at, released FROM leases WHERE shard = $1`,
			shard).Scan(&a.Shard, &a.Owner, &a.Generation, &a.ExpiresAt, &a.Released)
	})
	if err != nil {
		return store.Acquired{}, false, fmt.Errorf("postgres: acquire shard %d: %w", shard, err)
	}
	return a, ok, nil
}

func (s *Store) Renew(ctx context.Context, owner string, held []store.Fence, ttl time.Duration) ([]store.Fence, error) {
	if len(held) == 0 {
		return nil, nil
	}
	shards := make([]int64, len(held))
	gens := make([]int64, len(held))
	for i, f := range held {
		shards[i], gens[i] = int64(f.Shard), f.Generation
	}
	rows, err := s.leases.QueryContext(ctx, `UPDATE leases l SET expires_at = now() + $2 * interval '1 millisecond'
		FROM unnest($3::int[], $4::bigint[]) AS h(shard, generation)
		WHERE l.shard = h.shard AND l.generation = h.generation AND l.owner = $1 AND NOT l.released
		RETURNING l.shard, l.generation`, owner, millis(ttl), shards, gens)
	if err != nil {
		return nil, fmt.Errorf("postgres: renew leases of replica %s: %w", owner, err)
	}
	defer rows.Close()
	var out []store.Fence
	for rows.Next() {
		f := store.Fence{Owner: owner}
		if err := rows.Scan(&f.Shard, &f.Generation); err != nil {
			return nil, fmt.Errorf("postgres: renew leases of replica %s: %w", owner, err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// Release locks the row FOR UPDATE first, so it waits for writes under
// the lease still in flight (fenceQuery).
func (s *Store) Release(ctx context.Context, f store.Fence) error {
	_, err := s.leases.ExecContext(ctx, `UPDATE leases SET released = true, expires_at = now()
		WHERE shard = (SELECT shard FROM leases WHERE shard = $1 AND owner = $2 AND generation = $3 FOR UPDATE)`,
		f.Shard, f.Owner, f.Generation)
	if err != nil {
		return fmt.Errorf("postgres: release shard %d: %w", f.Shard, err)
	}
	return nil
}

func (s *Store) Pin(ctx context.Context, groupID, replicaID string) error {
	if _, err := s.leases.ExecContext(ctx, `INSERT INTO pins (group_id, replica) VALUES ($1, $2)
		ON CONFLICT (group_id) DO UPDATE SET replica = excluded.replica`, groupID, replicaID); err != nil {
		return fmt.Errorf("postgres: pin group %s to replica %s: %w", groupID, replicaID, err)
	}
	return nil
}

func (s *Store) Pins(ctx context.Context) (map[string]string, error) {
	rows, err := s.leases.QueryContext(ctx, `SELECT group_id, replica FROM pins`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list pins: %w", err)
	}
	defer rows.Close()
	out := make(map[string]string)
	for rows.Next() {
		var g, r string
		if err := rows.Scan(&g, &r); err != nil {
			return nil, fmt.Errorf("postgres: list pins: %w", err)
		}
		out[g] = r
	}
	return out, rows.Err()
}

func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.leases.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
