package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/store"
)

const accountCols = "name, home, uid, gid, ftp_limit, panel_password_hash, enabled, created_at, updated_at, version"

func scanAccount(r rowScanner) (domain.Account, error) {
	var a domain.Account
	var created, updated int64
	err := r.Scan(&a.Name, &a.Home, &a.UID, &a.GID, &a.FTPLimit, &a.PanelPasswordHash, &a.Enabled, &created, &updated, &a.Version)
	a.CreatedAt, a.UpdatedAt = timeOf(created), timeOf(updated)
	return a, err
}

func noAccount(name string) func() error {
	return func() error { return domain.NotFoundf("account %s does not exist", name) }
}

// CreateAccount implements store.Accounts.
func (s *Store) CreateAccount(ctx context.Context, a domain.Account) error {
	return s.CreateAccountIf(ctx, a, nil)
}

// CreateAccountIf implements store.Accounts. The accounts lock (SQLite:
// the write lock, held from BEGIN) is taken before reading, so each
// creation reads the accounts the ones before it committed.
func (s *Store) CreateAccountIf(ctx context.Context, a domain.Account, check func([]domain.Account) error) error {
	var refused error // check's, returned as it is
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := s.d.lock(ctx, tx, lockAccounts, ""); err != nil {
			return err
		}
		if check != nil {
			rows, err := tx.QueryContext(ctx, "SELECT "+accountCols+" FROM accounts ORDER BY name")
			stored, err := scanAll(rows, err, scanAccount)
			if err != nil {
				return err
			}
			if refused = check(stored); refused != nil {
				return refused
			}
		}
		version, err := s.recordChange(ctx, tx, store.ChangeAccount, a.Name)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO accounts ("+accountCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
			a.Name, a.Home, a.UID, a.GID, a.FTPLimit, a.PanelPasswordHash, a.Enabled, micros(a.CreatedAt), micros(a.UpdatedAt), version)
		if s.d.isDuplicate(err) {
			return domain.Conflictf("account", "account %s already exists", a.Name)
		}
		return err
	})
	if refused != nil {
		return refused
	}
	return wrap("create account", err)
}

// GetAccount implements store.Accounts.
func (s *Store) GetAccount(ctx context.Context, name string) (domain.Account, error) {
	a, err := scanAccount(s.db.QueryRowContext(ctx, "SELECT "+accountCols+" FROM accounts WHERE name = $1", name))
	if errors.Is(err, sql.ErrNoRows) {
		return a, noAccount(name)()
	}
	return a, wrap("get account", err)
}

// ListAccounts implements store.Accounts, ordered by name.
func (s *Store) ListAccounts(ctx context.Context) ([]domain.Account, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+accountCols+" FROM accounts ORDER BY name")
	list, err := scanAll(rows, err, scanAccount)
	return list, wrap("list accounts", err)
}

// UpdateAccount implements store.Accounts.
func (s *Store) UpdateAccount(ctx context.Context, a domain.Account) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		old, err := s.lockedAccount(ctx, tx, a.Name)
		if err != nil {
			return err
		}
		_, err = s.updateAccount(ctx, tx, old, a)
		return err
	})
	return wrap("update account", err)
}

// ModifyAccount implements store.Accounts. The row is read FOR UPDATE
// (SQLite: the write lock is held from BEGIN), so a concurrent
// modification waits until this one commits, then reads its result.
func (s *Store) ModifyAccount(ctx context.Context, name string, change func(domain.Account) (domain.Account, error)) (domain.Account, error) {
	var saved domain.Account
	var refused error // change's, returned as it is
	err := s.write(ctx, func(tx *sql.Tx) error {
		old, err := s.lockedAccount(ctx, tx, name)
		if err != nil {
			return err
		}
		a, err := change(old)
		if err != nil {
			refused = err
			return err
		}
		a.Name = name
		if a.Version, err = s.updateAccount(ctx, tx, old, a); err != nil {
			return err
		}
		saved = a
		return nil
	})
	if refused != nil {
		return domain.Account{}, refused
	}
	return saved, wrap("modify account", err)
}

// lockedAccount reads the account inside tx, holding its row until tx ends.
func (s *Store) lockedAccount(ctx context.Context, tx *sql.Tx, name string) (domain.Account, error) {
	a, err := scanAccount(tx.QueryRowContext(ctx, "SELECT "+accountCols+" FROM accounts WHERE name = $1"+s.d.forUpdate, name))
	if errors.Is(err, sql.ErrNoRows) {
		return a, noAccount(name)()
	}
	return a, err
}

// updateAccount replaces old, as read in tx, with a and returns a's
// version: a new one when what a session decided at log-in changed,
// else old's.
func (s *Store) updateAccount(ctx context.Context, tx *sql.Tx, old, a domain.Account) (int64, error) {
	version := old.Version
	if a.Home != old.Home || a.UID != old.UID || a.GID != old.GID || a.Enabled != old.Enabled {
		var err error
		if version, err = s.recordChange(ctx, tx, store.ChangeAccount, a.Name); err != nil {
			return 0, err
		}
	}
	_, err := tx.ExecContext(ctx,
		`UPDATE accounts SET home = $2, uid = $3, gid = $4, ftp_limit = $5, panel_password_hash = $6,
		enabled = $7, created_at = $8, updated_at = $9, version = $10 WHERE name = $1`,
		a.Name, a.Home, a.UID, a.GID, a.FTPLimit, a.PanelPasswordHash, a.Enabled, micros(a.CreatedAt), micros(a.UpdatedAt), version)
	return version, err
}

// DeleteAccount implements store.Accounts. The sub-users go with it, by
// ON DELETE CASCADE, in the same statement.
func (s *Store) DeleteAccount(ctx context.Context, name string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM api_tokens WHERE account = $1", name); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM accounts WHERE name = $1", name)
		if err != nil {
			return err
		}
		if err := mustChange(res, noAccount(name)); err != nil {
			return err
		}
		_, err = s.recordChange(ctx, tx, store.ChangeAccount, name)
		return err
	})
	return wrap("delete account", err)
}

const ftpUserCols = `username, account, password_hash, path, quota_mb, enabled,
	created_at, updated_at, last_login_at, last_login_ip, version, ` + controlCols

func scanFTPUser(r rowScanner) (domain.FTPUser, error) {
	var u domain.FTPUser
	var created, updated, login int64
	var c controlRow
	err := r.Scan(append([]any{&u.Username, &u.Account, &u.PasswordHash, &u.Path, &u.QuotaMB, &u.Enabled,
		&created, &updated, &login, &u.LastLoginIP, &u.Version}, c.dest()...)...)
	if err != nil {
		return u, err
	}
	u.CreatedAt, u.UpdatedAt, u.LastLoginAt = timeOf(created), timeOf(updated), timeOf(login)
	u.Controls, err = c.controls()
	if err != nil {
		err = fmt.Errorf("FTP user %s: %w", u.Username, err)
	}
	return u, err
}

func noFTPUser(username string) func() error {
	return func() error { return domain.NotFoundf("FTP user %s does not exist", username) }
}

// CreateFTPUser implements store.FTPUsers. The account row is locked
// before counting (SQLite: the whole database already is), so concurrent
// adds to one account queue up and each counts the ones before it.
func (s *Store) CreateFTPUser(ctx context.Context, u domain.FTPUser, limit int) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := s.lockAccount(ctx, tx, u.Account); err != nil {
			return err
		}
		if err := checkLimit(ctx, tx, u.Account, limit); err != nil {
			return err
		}
		version, err := s.recordChange(ctx, tx, store.ChangeUser, u.Username)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO ftp_users ("+ftpUserCols+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
			append([]any{u.Username, u.Account, u.PasswordHash, u.Path, u.QuotaMB, u.Enabled,
				micros(u.CreatedAt), micros(u.UpdatedAt), micros(u.LastLoginAt), u.LastLoginIP, version}, controlValues(u.Controls)...)...)
		switch {
		case s.d.isDuplicate(err):
			return domain.Conflictf("username", "FTP username %s already exists", u.Username)
		case s.d.isMissingRef(err): // cannot happen under the lock; kept as a safety net
			return noAccount(u.Account)()
		}
		return err
	})
	return wrap("create FTP user", err)
}

// lockAccount checks that the account exists and, in PostgreSQL, holds its
// row until the transaction ends.
func (s *Store) lockAccount(ctx context.Context, tx *sql.Tx, name string) error {
	var one int
	err := tx.QueryRowContext(ctx, "SELECT 1 FROM accounts WHERE name = $1"+s.d.forUpdate, name).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return noAccount(name)()
	}
	return err
}

func checkLimit(ctx context.Context, tx *sql.Tx, account string, limit int) error {
	if limit <= 0 {
		return nil
	}
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM ftp_users WHERE account = $1", account).Scan(&n); err != nil {
		return err
	}
	if n >= limit {
		return &domain.Error{Kind: domain.LimitReached, Field: "username",
			Msg: fmt.Sprintf("account %s already has its limit of %d FTP sub-users: delete one or ask the administrator to raise the limit", account, limit)}
	}
	return nil
}

// GetFTPUser implements store.FTPUsers.
func (s *Store) GetFTPUser(ctx context.Context, username string) (domain.FTPUser, error) {
	u, err := scanFTPUser(s.db.QueryRowContext(ctx, "SELECT "+ftpUserCols+" FROM ftp_users WHERE username = $1", username))
	if errors.Is(err, sql.ErrNoRows) {
		return u, noFTPUser(username)()
	}
	return u, wrap("get FTP user", err)
}

// ListFTPUsers implements store.FTPUsers, ordered by username.
func (s *Store) ListFTPUsers(ctx context.Context, account string) ([]domain.FTPUser, error) {
	q := "SELECT " + ftpUserCols + " FROM ftp_users"
	var args []any
	if account != "" {
		q += " WHERE account = $1"
		args = append(args, account)
	}
	rows, err := s.db.QueryContext(ctx, q+" ORDER BY username", args...)
	list, err := scanAll(rows, err, scanFTPUser)
	return list, wrap("list FTP users", err)
}

// CountFTPUsers implements store.FTPUsers.
func (s *Store) CountFTPUsers(ctx context.Context, account string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM ftp_users WHERE account = $1", account).Scan(&n)
	return n, wrap("count FTP users", err)
}

// UpdateFTPUser implements store.FTPUsers. It also saves UpdatedAt, which
// the caller sets; the account, creation time and last log-in stay.
func (s *Store) UpdateFTPUser(ctx context.Context, u domain.FTPUser, endSessions bool) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := s.updateFTPUser(ctx, tx, u, endSessions)
		return err
	})
	return wrap("update FTP user", err)
}

// ModifyFTPUser implements store.FTPUsers. The row is read FOR UPDATE
// (SQLite: the write lock is held from BEGIN), so a concurrent
// modification waits until this one commits, then reads its result.
func (s *Store) ModifyFTPUser(ctx context.Context, username string, change func(domain.FTPUser) (domain.FTPUser, bool, error)) (domain.FTPUser, error) {
	var saved domain.FTPUser
	var refused error // change's, returned as it is
	err := s.write(ctx, func(tx *sql.Tx) error {
		u, err := scanFTPUser(tx.QueryRowContext(ctx, "SELECT "+ftpUserCols+" FROM ftp_users WHERE username = $1"+s.d.forUpdate, username))
		if errors.Is(err, sql.ErrNoRows) {
			return noFTPUser(username)()
		}
		if err != nil {
			return err
		}
		u, endSessions, err := change(u)
		if err != nil {
			refused = err
			return err
		}
		u.Username = username
		if u.Version, err = s.updateFTPUser(ctx, tx, u, endSessions); err != nil {
			return err
		}
		saved = u
		return nil
	})
	if refused != nil {
		return domain.FTPUser{}, refused
	}
	return saved, wrap("modify FTP user", err)
}

// updateFTPUser saves u inside tx and returns its version: a new one
// with endSessions, else u.Version.
func (s *Store) updateFTPUser(ctx context.Context, tx *sql.Tx, u domain.FTPUser, endSessions bool) (int64, error) {
	version := sql.NullInt64{}
	if endSessions {
		seq, err := s.recordChange(ctx, tx, store.ChangeUser, u.Username)
		if err != nil {
			return 0, err
		}
		version = sql.NullInt64{Int64: seq, Valid: true}
	}
	res, err := tx.ExecContext(ctx,
		`UPDATE ftp_users SET password_hash = $2, path = $3, quota_mb = $4, enabled = $5, updated_at = $6,
		version = COALESCE($7, version),
		max_files = $8, upload_kbps = $9, download_kbps = $10, allow_ips = $11, deny_ips = $12,
		read_only = $13, tls_required = $14, expires = $15, max_sessions = $16
		WHERE username = $1`,
		append([]any{u.Username, u.PasswordHash, u.Path, u.QuotaMB, u.Enabled, micros(u.UpdatedAt), version},
			controlValues(u.Controls)...)...)
	if err != nil {
		return 0, err
	}
	if err := mustChange(res, noFTPUser(u.Username)); err != nil {
		return 0, err
	}
	if version.Valid {
		return version.Int64, nil
	}
	return u.Version, nil
}

// DeleteFTPUser implements store.FTPUsers.
func (s *Store) DeleteFTPUser(ctx context.Context, username string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM ftp_users WHERE username = $1", username)
		if err != nil {
			return err
		}
		if err := mustChange(res, noFTPUser(username)); err != nil {
			return err
		}
		_, err = s.recordChange(ctx, tx, store.ChangeUser, username)
		return err
	})
	return wrap("delete FTP user", err)
}

// LoginStates implements store.FTPUsers, a few hundred names per query.
func (s *Store) LoginStates(ctx context.Context, usernames []string) (map[string]store.LoginState, error) {
	states := make(map[string]store.LoginState, len(usernames))
	for chunk := range slices.Chunk(usernames, 500) {
		marks := make([]string, len(chunk))
		args := make([]any, len(chunk))
		for i, u := range chunk {
			marks[i], args[i] = fmt.Sprintf("$%d", i+1), u
		}
		rows, err := s.db.QueryContext(ctx, `SELECT u.username, u.version, a.version, u.enabled AND a.enabled
			FROM ftp_users u JOIN accounts a ON a.name = u.account
			WHERE u.username IN (`+strings.Join(marks, ", ")+")", args...)
		if err != nil {
			return nil, wrap("read log-in states", err)
		}
		for rows.Next() {
			var name string
			var st store.LoginState
			if err := rows.Scan(&name, &st.Versions.User, &st.Versions.Account, &st.Enabled); err != nil {
				rows.Close()
				return nil, wrap("read log-in states", err)
			}
			states[name] = st
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, wrap("read log-in states", err)
		}
	}
	return states, nil
}

// RecordLogin implements store.FTPUsers.
func (s *Store) RecordLogin(ctx context.Context, username string, at time.Time, ip string) error {
	err := s.exec(ctx, noFTPUser(username),
		"UPDATE ftp_users SET last_login_at = $2, last_login_ip = $3 WHERE username = $1",
		username, micros(at), ip)
	return wrap("record FTP log-in", err)
}
