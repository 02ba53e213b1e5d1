package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/panelftp/panelftp/internal/auth"
	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/store"
)

// AddAdmin creates a web panel administrator. Admin names follow the
// account name rule; passwords the password rule.
func (s *Service) AddAdmin(ctx context.Context, name, password string) error {
	if err := domain.ValidateAccountName(name); err != nil {
		return &domain.Error{Kind: domain.Invalid, Field: "name", Msg: "admin " + err.Error()}
	}
	if err := domain.ValidatePassword(password, name); err != nil {
		return err
	}
	if _, err := s.store.GetAdmin(ctx, name); err == nil {
		return domain.Conflictf("name", "admin %s already exists", name)
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	if err := s.store.CreateAdmin(ctx, store.Admin{Name: name, PasswordHash: hash, CreatedAt: s.now().UTC()}); err != nil {
		return err
	}
	s.log.Info("admin added", "admin", name)
	return nil
}

// ListAdmins returns the administrators.
func (s *Service) ListAdmins(ctx context.Context) ([]store.Admin, error) {
	return s.store.ListAdmins(ctx)
}

// SetAdminPassword changes an administrator's password.
func (s *Service) SetAdminPassword(ctx context.Context, name, password string) error {
	if _, err := s.store.GetAdmin(ctx, name); isNotFound(err) {
		return domain.NotFoundf("admin %s does not exist", name)
	} else if err != nil {
		return err
	}
	if err := domain.ValidatePassword(password, name); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	return s.store.UpdateAdminPassword(ctx, name, hash)
}

// CheckAdminLogin checks an administrator's web panel log-in.
func (s *Service) CheckAdminLogin(ctx context.Context, name, password string) error {
	a, err := s.store.GetAdmin(ctx, domain.Lower(name))
	if isNotFound(err) {
		_ = s.hasher.Verify(ctx, "", password)
		return ErrBadCredentials
	}
	if err != nil {
		return err
	}
	if err := s.hasher.Verify(ctx, a.PasswordHash, password); err != nil {
		if errors.Is(err, auth.ErrMismatch) {
			return ErrBadCredentials
		}
		return err
	}
	return nil
}

// CreateAPIToken makes a new API bearer token and returns its secret, which
// is shown once: only its SHA-256 is stored.
func (s *Service) CreateAPIToken(ctx context.Context, name string) (store.APIToken, string, error) {
	if name == "" {
		return store.APIToken{}, "", &domain.Error{Kind: domain.Invalid, Field: "name", Msg: "token name is missing: say what the token is for, e.g. billing"}
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return store.APIToken{}, "", err
	}
	secret := "pftp_" + hex.EncodeToString(raw)
	t := store.APIToken{ID: hex.EncodeToString(raw[:6]), Name: name, Hash: tokenHash(secret), CreatedAt: s.now().UTC()}
	if err := s.store.CreateAPIToken(ctx, t); err != nil {
		return store.APIToken{}, "", err
	}
	s.log.Info("API token created", "token", t.ID, "name", name)
	return t, secret, nil
}

// CheckAPIToken returns the token a bearer secret belongs to.
func (s *Service) CheckAPIToken(ctx context.Context, secret string) (store.APIToken, error) {
	t, err := s.store.GetAPITokenByHash(ctx, tokenHash(secret))
	if isNotFound(err) {
		return store.APIToken{}, ErrBadCredentials
	}
	if err != nil {
		return store.APIToken{}, err
	}
	if err := s.store.TouchAPIToken(ctx, t.ID, s.now().UTC()); err != nil {
		s.log.Warn("could not record API token use", "token", t.ID, "err", err)
	}
	return t, nil
}

// ListAPITokens returns the API tokens (without secrets).
func (s *Service) ListAPITokens(ctx context.Context) ([]store.APIToken, error) {
	return s.store.ListAPITokens(ctx)
}

// DeleteAPIToken revokes a token.
func (s *Service) DeleteAPIToken(ctx context.Context, id string) error {
	if err := s.store.DeleteAPIToken(ctx, id); isNotFound(err) {
		return domain.NotFoundf("API token %s does not exist", id)
	} else if err != nil {
		return fmt.Errorf("deleting API token: %w", err)
	}
	return nil
}

func tokenHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
