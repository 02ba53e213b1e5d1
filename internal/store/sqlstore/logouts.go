package sqlstore

import (
	"context"
	"database/sql"
	"time"
)

// AddPanelLogout implements store.PanelLogouts.
func (s *Store) AddPanelLogout(ctx context.Context, nonce string, expires, now time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM panel_logouts WHERE expires_at < $1", micros(now)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO panel_logouts (nonce, expires_at) VALUES ($1, $2)
			ON CONFLICT (nonce) DO NOTHING`, nonce, micros(expires))
		return err
	})
	return wrap("add panel log-out", err)
}

// PanelLoggedOut implements store.PanelLogouts.
func (s *Store) PanelLoggedOut(ctx context.Context, nonce string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM panel_logouts WHERE nonce = $1", nonce).Scan(&n)
	return n > 0, wrap("check panel log-out", err)
}
