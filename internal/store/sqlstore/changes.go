package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/panelftp/panelftp/internal/store"
)

// recordChange adds a change to the feed inside tx and returns its Seq.
// In PostgreSQL the changes lock makes Seqs commit in order (otherwise a
// reader could see Seq 11 while 10 is still uncommitted, move past 10 and
// never see it), and pg_notify wakes the listening nodes when tx commits.
func (s *Store) recordChange(ctx context.Context, tx *sql.Tx, kind store.ChangeKind, key string) (int64, error) {
	if err := s.d.lock(ctx, tx, lockChanges, ""); err != nil {
		return 0, err
	}
	var seq int64
	err := tx.QueryRowContext(ctx, s.d.sql("INSERT INTO changes (kind, key, at) VALUES ($1, $2, {now}) RETURNING seq"),
		string(kind), key).Scan(&seq)
	if err != nil {
		return 0, err
	}
	if s.channel != "" {
		// One notice per transaction: PostgreSQL folds identical ones.
		if _, err := tx.ExecContext(ctx, "SELECT pg_notify($1, '')", s.channel); err != nil {
			return 0, err
		}
	}
	return seq, nil
}

// ChangesAfter implements store.Changes in one statement (one transaction
// in PostgreSQL, which idle nodes run every few seconds): the floor row
// always comes back, joined with the changes after `after`, if any.
func (s *Store) ChangesAfter(ctx context.Context, after int64, limit int) ([]store.Change, bool, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT f.pruned_through, c.seq, c.kind, c.key FROM change_floor f
		LEFT JOIN changes c ON c.seq > $1 ORDER BY c.seq LIMIT $2`, after, max(limit, 1))
	if err != nil {
		return nil, false, wrap("read changes", err)
	}
	defer rows.Close()
	changes := []store.Change{}
	var floor int64
	for rows.Next() {
		var seq sql.NullInt64
		var kind, key sql.NullString
		if err := rows.Scan(&floor, &seq, &kind, &key); err != nil {
			return nil, false, wrap("read changes", err)
		}
		if seq.Valid {
			changes = append(changes, store.Change{Seq: seq.Int64, Kind: store.ChangeKind(kind.String), Key: key.String})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, false, wrap("read changes", err)
	}
	return changes, after >= floor, nil
}

// PruneChanges implements store.Changes. It deletes a prefix of the feed
// (up to the last Seq old enough) and raises the floor to it.
func (s *Store) PruneChanges(ctx context.Context, olderThan time.Duration) error {
	var last sql.NullInt64
	err := s.db.QueryRowContext(ctx, s.d.sql("SELECT MAX(seq) FROM changes WHERE at < {now} - $1"),
		olderThan.Microseconds()).Scan(&last)
	if err != nil || !last.Valid {
		return wrap("prune changes", err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM changes WHERE seq <= $1", last.Int64); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "UPDATE change_floor SET pruned_through = $1 WHERE pruned_through < $1", last.Int64)
		return err
	})
	return wrap("prune changes", err)
}

// KickSession implements store.Changes.
func (s *Store) KickSession(ctx context.Context, id string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := s.recordChange(ctx, tx, store.ChangeSession, id)
		return err
	})
	return wrap("kick session", err)
}

// WatchChanges implements store.ChangeWatcher on PostgreSQL with LISTEN on
// a connection outside the pool. On SQLite, which has no such thing, it
// returns an error at once: callers poll instead.
func (s *Store) WatchChanges(ctx context.Context, ready, changed func()) error {
	if s.channel == "" {
		return fmt.Errorf("sqlstore: %s cannot announce changes; poll ChangesAfter", s.d.name)
	}
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return wrap("listen for changes", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		return wrap("listen for changes", err)
	}
	ready()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return wrap("listen for changes", err)
		}
		changed()
	}
}

var _ store.ChangeWatcher = (*Store)(nil)
