package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/store"
)

// GetSettings implements store.Settings.
func (s *Store) GetSettings(ctx context.Context) (domain.Settings, time.Time, error) {
	var set domain.Settings
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT public_host, tls_required, max_connections, max_per_ip, max_per_user,
		banner, hide_server_name, updated_at FROM settings WHERE id = 1`).Scan(&set.PublicHost, &set.TLSRequired,
		&set.MaxConnections, &set.MaxPerIP, &set.MaxPerUser, &set.Banner, &set.HideServerName, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return set, time.Time{}, domain.NotFoundf("no FTP service settings are saved")
	}
	return set, timeOf(at), wrap("get settings", err)
}

// PutSettings implements store.Settings.
func (s *Store) PutSettings(ctx context.Context, set domain.Settings, at time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (id, public_host, tls_required, max_connections, max_per_ip, max_per_user,
				banner, hide_server_name, updated_at)
			VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (id) DO UPDATE SET public_host = excluded.public_host, tls_required = excluded.tls_required,
			max_connections = excluded.max_connections, max_per_ip = excluded.max_per_ip,
			max_per_user = excluded.max_per_user, banner = excluded.banner,
			hide_server_name = excluded.hide_server_name, updated_at = excluded.updated_at`,
			set.PublicHost, set.TLSRequired, set.MaxConnections, set.MaxPerIP, set.MaxPerUser, set.Banner, set.HideServerName, micros(at))
		if err != nil {
			return err
		}
		_, err = s.recordChange(ctx, tx, store.ChangeSettings, "")
		return err
	})
	return wrap("put settings", err)
}

// DeleteSettings implements store.Settings.
func (s *Store) DeleteSettings(ctx context.Context) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM settings"); err != nil {
			return err
		}
		_, err := s.recordChange(ctx, tx, store.ChangeSettings, "")
		return err
	})
	return wrap("delete settings", err)
}
