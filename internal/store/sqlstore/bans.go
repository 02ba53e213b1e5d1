package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"net/netip"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/store"
)

const banCols = "ip, until_at, count, reason, banned_at"

func scanBan(r rowScanner) (domain.Ban, error) {
	var b domain.Ban
	var until, at int64
	err := r.Scan(&b.IP, &until, &b.Count, &b.Reason, &at)
	b.Until, b.At = timeOf(until), timeOf(at)
	return b, err
}

// PutBan implements store.Bans.
func (s *Store) PutBan(ctx context.Context, b domain.Ban) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO bans ("+banCols+`) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (ip) DO UPDATE SET until_at = excluded.until_at, count = excluded.count,
			reason = excluded.reason, banned_at = excluded.banned_at`,
			b.IP, micros(b.Until), b.Count, b.Reason, micros(b.At))
		if err != nil {
			return err
		}
		return s.banChanged(ctx, tx, b.IP)
	})
	return wrap("put ban", err)
}

// banChanged forgets ip's failed log-ins, which the ban or its lifting
// settles, and records the change for every node. Failures are counted
// per client key, so for one IPv6 address those of its /64 go too.
func (s *Store) banChanged(ctx context.Context, tx *sql.Tx, ip string) error {
	key := ip
	if a, err := netip.ParseAddr(ip); err == nil {
		key = domain.KeyText(domain.ClientKey(a))
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM login_failures WHERE key IN ($1, $2)", ip, key); err != nil {
		return err
	}
	_, err := s.recordChange(ctx, tx, store.ChangeBan, ip)
	return err
}

// GetBan implements store.Bans.
func (s *Store) GetBan(ctx context.Context, ip string) (domain.Ban, error) {
	b, err := scanBan(s.db.QueryRowContext(ctx, "SELECT "+banCols+" FROM bans WHERE ip = $1", ip))
	if errors.Is(err, sql.ErrNoRows) {
		return b, domain.NotFoundf("IP %s is not banned", ip)
	}
	return b, wrap("get ban", err)
}

// ListBans implements store.Bans, ordered by IP.
func (s *Store) ListBans(ctx context.Context, now time.Time) ([]domain.Ban, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+banCols+" FROM bans WHERE until_at > $1 ORDER BY ip", micros(now))
	list, err := scanAll(rows, err, scanBan)
	return list, wrap("list bans", err)
}

// DeleteBan implements store.Bans.
func (s *Store) DeleteBan(ctx context.Context, ip string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM bans WHERE ip = $1", ip)
		if err != nil {
			return err
		}
		if err := mustChange(res, func() error { return domain.NotFoundf("IP %s is not banned", ip) }); err != nil {
			return err
		}
		return s.banChanged(ctx, tx, ip)
	})
	return wrap("delete ban", err)
}

// PruneBans implements store.Bans. Nodes only hold bans in force, so no
// change is recorded.
func (s *Store) PruneBans(ctx context.Context, before time.Time) error {
	return wrap("prune bans", s.deleteIfAny(ctx, "bans WHERE until_at < $1", micros(before)))
}

// AddLoginFailure implements store.LoginFailures. In PostgreSQL a lock on
// key serialises the failures of one client across nodes, so the one that
// reaches the threshold is seen by exactly one of them.
func (s *Store) AddLoginFailure(ctx context.Context, key string, at, since time.Time) (int, error) {
	n := 0
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := s.d.lock(ctx, tx, lockFailures, key); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO login_failures (key, at) VALUES ($1, $2)", key, micros(at)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM login_failures WHERE key = $1 AND at < $2", key, micros(since)); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM login_failures WHERE key = $1", key).Scan(&n)
	})
	return n, wrap("add failed log-in", err)
}

// PruneLoginFailures implements store.LoginFailures.
func (s *Store) PruneLoginFailures(ctx context.Context, before time.Time) error {
	return wrap("prune failed log-ins", s.deleteIfAny(ctx, "login_failures WHERE at < $1", micros(before)))
}

// deleteIfAny runs DELETE FROM `from` when a row matches: in SQLite even
// an empty DELETE takes the database's single write lock, and these run
// on every node.
func (s *Store) deleteIfAny(ctx context.Context, from string, args ...any) error {
	var found int
	err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM "+from+" LIMIT 1) x", args...).Scan(&found)
	if err != nil || found == 0 {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM "+from, args...)
		return err
	})
}
