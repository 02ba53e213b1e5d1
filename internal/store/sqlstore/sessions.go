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

const sessionCols = `s.id, s.node, s.username, s.account, s.remote_addr, s.client, s.tls_control, s.tls_data,
	s.connected_at, s.last_activity, s.activity, s.file, s.bytes_done, s.bytes_total, s.speed,
	s.bytes_up, s.bytes_down`

// upsertSession writes one session of node $2. Its column list matches
// sessionArgs.
const upsertSession = `INSERT INTO sessions (id, node, username, account, remote_addr, client, tls_control, tls_data,
	connected_at, last_activity, activity, file, bytes_done, bytes_total, speed, bytes_up, bytes_down, ip_key)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
ON CONFLICT (id) DO UPDATE SET node = excluded.node, username = excluded.username, account = excluded.account,
	remote_addr = excluded.remote_addr, client = excluded.client, tls_control = excluded.tls_control,
	tls_data = excluded.tls_data, connected_at = excluded.connected_at, last_activity = excluded.last_activity,
	activity = excluded.activity, file = excluded.file, bytes_done = excluded.bytes_done,
	bytes_total = excluded.bytes_total, speed = excluded.speed, bytes_up = excluded.bytes_up,
	bytes_down = excluded.bytes_down, ip_key = excluded.ip_key`

func sessionArgs(node string, x domain.Session) []any {
	return []any{x.ID, node, x.Username, x.Account, x.RemoteAddr, x.Client, x.TLSControl, x.TLSData,
		micros(x.ConnectedAt), micros(x.LastActivity), string(x.Activity), x.File, x.BytesDone, x.BytesTotal,
		x.Speed, x.BytesUp, x.BytesDown, clientKey(x.RemoteAddr)}
}

// clientKey is what per-IP limits count x's client as (domain.ClientKey),
// or "" for an address that does not parse.
func clientKey(remote string) string {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return ""
	}
	return domain.ClientKey(ap.Addr()).String()
}

// alive is the condition on nodes n that are alive by the database's clock.
const alive = "n.expires_at >= {now}"

func scanSession(r rowScanner) (domain.Session, error) {
	var x domain.Session
	var connected, last int64
	var activity string
	err := r.Scan(&x.ID, &x.Node, &x.Username, &x.Account, &x.RemoteAddr, &x.Client, &x.TLSControl, &x.TLSData,
		&connected, &last, &activity, &x.File, &x.BytesDone, &x.BytesTotal, &x.Speed, &x.BytesUp, &x.BytesDown)
	x.ConnectedAt, x.LastActivity, x.Activity = timeOf(connected), timeOf(last), domain.Activity(activity)
	return x, err
}

// PublishSessions implements store.Sessions. Every session is stored under
// node, whatever its Node field says. A node publishes often with up to
// thousands of sessions, so one transaction reuses two prepared statements.
func (s *Store) PublishSessions(ctx context.Context, node string, ttl time.Duration, changed []domain.Session, gone []string) (known bool, err error) {
	err = s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if known, err = s.heartbeat(ctx, tx, node, ttl); err != nil {
			return err
		}
		// The dead nodes' sessions go with them, by ON DELETE CASCADE.
		if _, err := tx.ExecContext(ctx, s.d.sql("DELETE FROM nodes WHERE expires_at < {now} AND id <> $1"), node); err != nil {
			return err
		}
		if err := execEach(ctx, tx, upsertSession, changed, func(x domain.Session) []any { return sessionArgs(node, x) }); err != nil {
			return err
		}
		return execEach(ctx, tx, "DELETE FROM sessions WHERE id = $1 AND node = $2", gone,
			func(id string) []any { return []any{id, node} })
	})
	return known, wrap("publish sessions", err)
}

// heartbeat makes node alive until ttl from now and reports whether it
// had published before (a row that ClaimSession made has heartbeat 0).
func (s *Store) heartbeat(ctx context.Context, tx *sql.Tx, node string, ttl time.Duration) (known bool, err error) {
	var last int64
	err = tx.QueryRowContext(ctx, "SELECT heartbeat_at FROM nodes WHERE id = $1", node).Scan(&last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	_, err = tx.ExecContext(ctx, s.d.sql(`INSERT INTO nodes (id, heartbeat_at, expires_at) VALUES ($1, {now}, {now} + $2)
		ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at`),
		node, ttl.Microseconds())
	return last != 0, err
}

// execEach runs the prepared query once per item, with args(item).
func execEach[T any](ctx context.Context, tx *sql.Tx, query string, items []T, args func(T) []any) error {
	if len(items) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, it := range items {
		if _, err := st.ExecContext(ctx, args(it)...); err != nil {
			return err
		}
	}
	return nil
}

// ClearNode implements store.Sessions. The node row goes too, taking its
// sessions with it by ON DELETE CASCADE; the next publish recreates it.
func (s *Store) ClearNode(ctx context.Context, node string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM nodes WHERE id = $1", node)
		return err
	})
	return wrap("clear node", err)
}

// ListSessions implements store.Sessions, ordered by session ID.
func (s *Store) ListSessions(ctx context.Context, account string) ([]domain.Session, error) {
	q := "SELECT " + sessionCols + " FROM sessions s JOIN nodes n ON n.id = s.node WHERE " + alive
	var args []any
	if account != "" {
		q += " AND s.account = $1"
		args = append(args, account)
	}
	rows, err := s.db.QueryContext(ctx, s.d.sql(q+" ORDER BY s.id"), args...)
	list, err := scanAll(rows, err, scanSession)
	return list, wrap("list sessions", err)
}

// GetSession implements store.Sessions.
func (s *Store) GetSession(ctx context.Context, id string) (domain.Session, error) {
	x, err := scanSession(s.db.QueryRowContext(ctx,
		s.d.sql("SELECT "+sessionCols+" FROM sessions s JOIN nodes n ON n.id = s.node WHERE s.id = $1 AND "+alive), id))
	if errors.Is(err, sql.ErrNoRows) {
		return x, domain.NotFoundf("session %s is not connected", id)
	}
	return x, wrap("get session", err)
}

// ClaimSession implements store.Sessions. In PostgreSQL, locks on the
// user and on the client (always taken in that order) serialise the claims
// that count the same sessions; SQLite has one writer at a time anyway.
// The node's row is made if missing, with heartbeat 0 so that its next
// publish still sends every session.
func (s *Store) ClaimSession(ctx context.Context, c store.SessionClaim) error {
	x, key := c.Session, clientKey(c.Session.RemoteAddr)
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := s.d.lock(ctx, tx, lockUser, x.Username); err != nil {
			return err
		}
		if err := s.d.lock(ctx, tx, lockClient, key); err != nil {
			return err
		}
		for _, l := range []struct {
			room          int
			column, value string
			field, what   string
		}{
			{c.UserRoom, "username", x.Username, "user", "too many sessions for this user"},
			{c.IPRoom, "ip_key", key, "ip", "too many connections from your IP address"},
		} {
			if l.room < 0 {
				continue
			}
			var n int
			err := tx.QueryRowContext(ctx, s.d.sql("SELECT COUNT(*) FROM sessions s JOIN nodes n ON n.id = s.node WHERE s."+
				l.column+" = $1 AND s.node <> $2 AND "+alive), l.value, c.Node).Scan(&n)
			if err != nil {
				return err
			}
			if n >= l.room {
				return &domain.Error{Kind: domain.LimitReached, Field: l.field, Msg: l.what + " on the other servers"}
			}
		}
		_, err := tx.ExecContext(ctx, s.d.sql(`INSERT INTO nodes (id, heartbeat_at, expires_at) VALUES ($1, 0, {now} + $2)
			ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at`), c.Node, c.TTL.Microseconds())
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, upsertSession, sessionArgs(c.Node, x)...)
		return err
	})
	return wrap("claim a session", err)
}
