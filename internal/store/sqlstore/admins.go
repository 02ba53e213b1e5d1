package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

func noAdmin(name string) func() error {
	return func() error { return domain.NotFoundf("administrator %s does not exist", name) }
}

// CreateAdmin implements store.Admins.
func (s *Store) CreateAdmin(ctx context.Context, a domain.Admin) error {
	err := s.insert(ctx, func() error { return domain.Conflictf("name", "administrator %s already exists", a.Name) },
		"INSERT INTO admins (name, password_hash, created_at) VALUES ($1, $2, $3)",
		a.Name, a.PasswordHash, micros(a.CreatedAt))
	return wrap("create administrator", err)
}

func scanAdmin(r rowScanner) (domain.Admin, error) {
	var a domain.Admin
	var created int64
	err := r.Scan(&a.Name, &a.PasswordHash, &created)
	a.CreatedAt = timeOf(created)
	return a, err
}

// GetAdmin implements store.Admins.
func (s *Store) GetAdmin(ctx context.Context, name string) (domain.Admin, error) {
	a, err := scanAdmin(s.db.QueryRowContext(ctx, "SELECT name, password_hash, created_at FROM admins WHERE name = $1", name))
	if errors.Is(err, sql.ErrNoRows) {
		return a, noAdmin(name)()
	}
	return a, wrap("get administrator", err)
}

// ListAdmins implements store.Admins, ordered by name.
func (s *Store) ListAdmins(ctx context.Context) ([]domain.Admin, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT name, password_hash, created_at FROM admins ORDER BY name")
	list, err := scanAll(rows, err, scanAdmin)
	return list, wrap("list administrators", err)
}

// UpdateAdminPassword implements store.Admins.
func (s *Store) UpdateAdminPassword(ctx context.Context, name, hash string) error {
	err := s.exec(ctx, noAdmin(name), "UPDATE admins SET password_hash = $2 WHERE name = $1", name, hash)
	return wrap("update administrator password", err)
}

// DeleteAdmin implements store.Admins.
func (s *Store) DeleteAdmin(ctx context.Context, name string) error {
	return wrap("delete administrator", s.exec(ctx, noAdmin(name), "DELETE FROM admins WHERE name = $1", name))
}

const tokenCols = "id, name, hash, account, expires_at, created_at, last_used"

func noToken(id string) func() error {
	return func() error { return domain.NotFoundf("API token %s does not exist", id) }
}

func scanToken(r rowScanner) (domain.APIToken, error) {
	var t domain.APIToken
	var expires, created, used int64
	err := r.Scan(&t.ID, &t.Name, &t.Hash, &t.Account, &expires, &created, &used)
	t.ExpiresAt, t.CreatedAt, t.LastUsed = timeOf(expires), timeOf(created), timeOf(used)
	return t, err
}

// CreateAPIToken implements store.Admins. A duplicate ID or hash is a
// conflict (the message does not echo the hash).
func (s *Store) CreateAPIToken(ctx context.Context, t domain.APIToken) error {
	err := s.insert(ctx, func() error { return domain.Conflictf("id", "API token %s already exists", t.ID) },
		"INSERT INTO api_tokens ("+tokenCols+") VALUES ($1, $2, $3, $4, $5, $6, $7)",
		t.ID, t.Name, t.Hash, t.Account, micros(t.ExpiresAt), micros(t.CreatedAt), micros(t.LastUsed))
	return wrap("create API token", err)
}

// GetAPITokenByHash implements store.Admins.
func (s *Store) GetAPITokenByHash(ctx context.Context, hash string) (domain.APIToken, error) {
	t, err := scanToken(s.db.QueryRowContext(ctx, "SELECT "+tokenCols+" FROM api_tokens WHERE hash = $1", hash))
	if errors.Is(err, sql.ErrNoRows) {
		return t, domain.NotFoundf("unknown API token")
	}
	return t, wrap("get API token", err)
}

// ListAPITokens implements store.Admins, ordered by name then ID.
func (s *Store) ListAPITokens(ctx context.Context) ([]domain.APIToken, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+tokenCols+" FROM api_tokens ORDER BY name, id")
	list, err := scanAll(rows, err, scanToken)
	return list, wrap("list API tokens", err)
}

// DeleteAPIToken implements store.Admins.
func (s *Store) DeleteAPIToken(ctx context.Context, id string) error {
	return wrap("delete API token", s.exec(ctx, noToken(id), "DELETE FROM api_tokens WHERE id = $1", id))
}

// TouchAPIToken implements store.Admins.
func (s *Store) TouchAPIToken(ctx context.Context, id string, at time.Time) error {
	err := s.exec(ctx, noToken(id), "UPDATE api_tokens SET last_used = $2 WHERE id = $1", id, micros(at))
	return wrap("touch API token", err)
}
