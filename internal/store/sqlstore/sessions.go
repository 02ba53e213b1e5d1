package sqlstore

import (
	"context"
	"database/sql"
	"errors"
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
	connected_at, last_activity, activity, file, bytes_done, bytes_total, speed, bytes_up, bytes_down)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
ON CONFLICT (id) DO UPDATE SET node = excluded.node, username = excluded.username, account = excluded.account,
	remote_addr = excluded.remote_addr, client = excluded.client, tls_control = excluded.tls_control,
	tls_data = excluded.tls_data, connected_at = excluded.connected_at, last_activity = excluded.last_activity,
	activity = excluded.activity, file = excluded.file, bytes_done = excluded.bytes_done,
	bytes_total = excluded.bytes_total, speed = excluded.speed, bytes_up = excluded.bytes_up,
	bytes_down = excluded.bytes_down`

func sessionArgs(node string, x domain.Session) []any {
	return []any{x.ID, node, x.Username, x.Account, x.RemoteAddr, x.Client, x.TLSControl, x.TLSData,
		micros(x.ConnectedAt), micros(x.LastActivity), string(x.Activity), x.File, x.BytesDone, x.BytesTotal,
		x.Speed, x.BytesUp, x.BytesDown}
}

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
func (s *Store) PublishSessions(ctx context.Context, node string, at time.Time, changed []domain.Session, gone []string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO nodes (id, heartbeat_at) VALUES ($1, $2)
			ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`, node, micros(at)); err != nil {
			return err
		}
		if err := execEach(ctx, tx, upsertSession, changed, func(x domain.Session) []any { return sessionArgs(node, x) }); err != nil {
			return err
		}
		return execEach(ctx, tx, "DELETE FROM sessions WHERE id = $1 AND node = $2", gone,
			func(id string) []any { return []any{id, node} })
	})
	return wrap("publish sessions", err)
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
func (s *Store) ListSessions(ctx context.Context, account string, aliveAfter time.Time) ([]domain.Session, error) {
	q := "SELECT " + sessionCols + " FROM sessions s JOIN nodes n ON n.id = s.node WHERE n.heartbeat_at >= $1"
	args := []any{micros(aliveAfter)}
	if account != "" {
		q += " AND s.account = $2"
		args = append(args, account)
	}
	rows, err := s.db.QueryContext(ctx, q+" ORDER BY s.id", args...)
	list, err := scanAll(rows, err, scanSession)
	return list, wrap("list sessions", err)
}

// GetSession implements store.Sessions.
func (s *Store) GetSession(ctx context.Context, id string, aliveAfter time.Time) (domain.Session, error) {
	x, err := scanSession(s.db.QueryRowContext(ctx,
		"SELECT "+sessionCols+" FROM sessions s JOIN nodes n ON n.id = s.node WHERE s.id = $1 AND n.heartbeat_at >= $2",
		id, micros(aliveAfter)))
	if errors.Is(err, sql.ErrNoRows) {
		return x, domain.NotFoundf("session %s is not connected", id)
	}
	return x, wrap("get session", err)
}

// RequestKick implements store.Sessions. In PostgreSQL the kick lock makes
// kicks commit in Seq order: otherwise a node could read Seq 11 while 10
// was still uncommitted, move past 10 and never see it.
func (s *Store) RequestKick(ctx context.Context, k store.Kick) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := s.d.lock(ctx, tx, lockKicks); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO kicks (session_id, username, at) VALUES ($1, $2, $3)",
			k.SessionID, k.Username, micros(k.At))
		return err
	})
	return wrap("request kick", err)
}

// KicksAfter implements store.Sessions. Kicks older than olderThan are
// deleted first and so never returned: a node back from a long pause must
// not end sessions opened after the kick. Every node polls this, so the
// delete runs only when there is something to delete: in SQLite even an
// empty DELETE takes the database's single write lock.
func (s *Store) KicksAfter(ctx context.Context, seq int64, olderThan time.Time) ([]store.Kick, error) {
	cut := micros(olderThan)
	var stale int
	err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM kicks WHERE at < $1 LIMIT 1) old", cut).Scan(&stale)
	if err == nil && stale > 0 {
		err = s.write(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "DELETE FROM kicks WHERE at < $1", cut)
			return err
		})
	}
	if err != nil {
		return nil, wrap("delete old kicks", err)
	}
	// at >= cut also hides a stale kick another node added meanwhile.
	rows, err := s.db.QueryContext(ctx,
		"SELECT seq, session_id, username, at FROM kicks WHERE seq > $1 AND at >= $2 ORDER BY seq", seq, cut)
	kicks, err := scanAll(rows, err, scanKick)
	return kicks, wrap("read kicks", err)
}

func scanKick(r rowScanner) (store.Kick, error) {
	var k store.Kick
	var at int64
	err := r.Scan(&k.Seq, &k.SessionID, &k.Username, &at)
	k.At = timeOf(at)
	return k, err
}

// LastKickSeq implements store.Sessions. Seqs are never reused (AUTOINCREMENT,
// identity), so kicks added later have a higher Seq even if every kick up
// to now has been deleted.
func (s *Store) LastKickSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := s.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq), 0) FROM kicks").Scan(&seq)
	return seq, wrap("last kick seq", err)
}
