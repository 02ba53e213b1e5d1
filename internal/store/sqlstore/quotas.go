package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

// HoldQuota implements store.Quotas.
func (s *Store) HoldQuota(ctx context.Context, username, node string, ttl time.Duration) (u domain.QuotaUsage, found, shared bool, err error) {
	err = s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM quota_holds WHERE expires_at < "+s.d.now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO quota_holds (username, node, expires_at) VALUES ($1, $2, `+s.d.now+` + $3)
			ON CONFLICT (username, node) DO UPDATE SET expires_at = excluded.expires_at`, username, node, ttl.Microseconds())
		if s.d.isMissingRef(err) {
			return domain.NotFoundf("FTP user %s does not exist", username)
		}
		if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM quota_holds WHERE username = $1 AND node <> $2)",
			username, node).Scan(&shared); err != nil {
			return err
		}
		var measured int64
		err = tx.QueryRowContext(ctx, "SELECT directory, bytes, files, measured_at FROM quota_usage WHERE username = $1",
			username).Scan(&u.Directory, &u.Bytes, &u.Files, &measured)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return nil
		case err != nil:
			return err
		}
		found, u.MeasuredAt = true, timeOf(measured)
		return nil
	})
	return u, found, shared, wrap("hold quota", err)
}

// RenewQuotaHolds implements store.Quotas.
func (s *Store) RenewQuotaHolds(ctx context.Context, node string, ttl time.Duration) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE quota_holds SET expires_at = "+s.d.now+" + $2 WHERE node = $1", node, ttl.Microseconds())
		return err
	})
	return wrap("renew quota holds", err)
}

// ReleaseQuotaHold implements store.Quotas.
func (s *Store) ReleaseQuotaHold(ctx context.Context, username, node string, unusedBytes, unusedFiles int64) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM quota_holds WHERE username = $1 AND node = $2", username, node); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "UPDATE quota_usage SET bytes = bytes - $2, files = files - $3 WHERE username = $1",
			username, unusedBytes, unusedFiles)
		return err
	})
	return wrap("release quota hold", err)
}

// SetQuotaUsage implements store.Quotas.
func (s *Store) SetQuotaUsage(ctx context.Context, username string, measured, base domain.QuotaUsage) error {
	insert := `INSERT INTO quota_usage (username, directory, bytes, files, measured_at) VALUES ($1, $2, $3, $4, $5)`
	args := []any{username, measured.Directory, measured.Bytes, measured.Files, micros(measured.MeasuredAt)}
	if base == (domain.QuotaUsage{}) {
		insert += " ON CONFLICT (username) DO NOTHING"
	} else {
		insert += ` ON CONFLICT (username) DO UPDATE SET directory = excluded.directory, measured_at = excluded.measured_at,
			bytes = excluded.bytes + quota_usage.bytes - $6, files = excluded.files + quota_usage.files - $7`
		args = append(args, base.Bytes, base.Files)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, insert, args...)
		if s.d.isMissingRef(err) {
			return domain.NotFoundf("FTP user %s does not exist", username)
		}
		return err
	})
	return wrap("set quota usage", err)
}

// ReserveQuota implements store.Quotas.
func (s *Store) ReserveQuota(ctx context.Context, username string, bytes, files, maxBytes, maxFiles int64) (addedBytes, addedFiles int64, err error) {
	err = s.write(ctx, func(tx *sql.Tx) error {
		var usedBytes, usedFiles int64
		err := tx.QueryRowContext(ctx, "SELECT bytes, files FROM quota_usage WHERE username = $1"+s.d.forUpdate,
			username).Scan(&usedBytes, &usedFiles)
		if errors.Is(err, sql.ErrNoRows) {
			return domain.NotFoundf("no quota usage is stored for FTP user %s", username)
		}
		if err != nil {
			return err
		}
		addedBytes, addedFiles = upTo(bytes, usedBytes, maxBytes), upTo(files, usedFiles, maxFiles)
		if addedBytes == 0 && addedFiles == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, "UPDATE quota_usage SET bytes = bytes + $2, files = files + $3 WHERE username = $1",
			username, addedBytes, addedFiles)
		return err
	})
	if err != nil {
		return 0, 0, wrap("reserve quota", err)
	}
	return addedBytes, addedFiles, nil
}

// upTo is how much of want fits when used of limit (0 = none) is in
// use; a negative want always fits.
func upTo(want, used, limit int64) int64 {
	if want <= 0 || limit <= 0 {
		return want
	}
	return max(0, min(want, limit-used))
}
