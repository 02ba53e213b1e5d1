package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/panelftp/panelftp/internal/auth"
	"github.com/panelftp/panelftp/internal/domain"
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
	if err := s.store.CreateAdmin(ctx, domain.Admin{Name: name, PasswordHash: hash, CreatedAt: s.now().UTC()}); err != nil {
		return err
	}
	s.log.Info("admin added", "admin", name)
	return nil
}

// ListAdmins returns the administrators.
func (s *Service) ListAdmins(ctx context.Context) ([]domain.Admin, error) {
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
		return domain.ErrBadCredentials
	}
	if err != nil {
		return err
	}
	if err := s.hasher.Verify(ctx, a.PasswordHash, password); err != nil {
		if errors.Is(err, auth.ErrMismatch) {
			return domain.ErrBadCredentials
		}
		return err
	}
	return nil
}

// tokenLabelMax bounds a token's label.
const tokenLabelMax = 64

// CreateAPIToken makes a new API bearer token and returns its secret, which
// is shown once: only its SHA-256 is stored.
func (s *Service) CreateAPIToken(ctx context.Context, in domain.NewAPIToken) (domain.APIToken, string, error) {
	if err := validateTokenLabel(in.Label); err != nil {
		return domain.APIToken{}, "", err
	}
	if in.Account != "" {
		a, err := s.getAccount(ctx, in.Account)
		if err != nil {
			return domain.APIToken{}, "", err
		}
		in.Account = a.Name
	}
	now := s.now().UTC()
	if !in.ExpiresAt.IsZero() && !in.ExpiresAt.After(now) {
		return domain.APIToken{}, "", &domain.Error{Kind: domain.Invalid, Field: "expires",
			Msg: fmt.Sprintf("expiry %s has already passed: give a later date, or a duration such as 90d", in.ExpiresAt.UTC().Format(time.RFC3339))}
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return domain.APIToken{}, "", err
	}
	secret := "pftp_" + hex.EncodeToString(raw)
	t := domain.APIToken{ID: hex.EncodeToString(raw[:6]), Name: in.Label, Hash: tokenHash(secret),
		Account: in.Account, ExpiresAt: in.ExpiresAt.UTC(), CreatedAt: now}
	if err := s.store.CreateAPIToken(ctx, t); err != nil {
		return domain.APIToken{}, "", err
	}
	s.log.Info("API token created", "token", t.ID, "label", t.Name, "account", t.Account, "expires", t.ExpiresAt)
	return t, secret, nil
}

func validateTokenLabel(label string) error {
	const field = "label"
	switch {
	case strings.TrimSpace(label) == "":
		return &domain.Error{Kind: domain.Invalid, Field: field, Msg: "token label is missing: say what the token is for, e.g. billing"}
	case len(label) > tokenLabelMax:
		return &domain.Error{Kind: domain.Invalid, Field: field, Msg: fmt.Sprintf("token label is %d characters long: use at most %d", len(label), tokenLabelMax)}
	case strings.ContainsFunc(label, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return &domain.Error{Kind: domain.Invalid, Field: field, Msg: "token label contains a control character: remove it"}
	}
	return nil
}

// CheckAPIToken returns the token a bearer secret belongs to:
// domain.ErrBadCredentials for an unknown or revoked one, ErrTokenExpired once
// its expiry has passed.
func (s *Service) CheckAPIToken(ctx context.Context, secret string) (domain.APIToken, error) {
	t, err := s.store.GetAPITokenByHash(ctx, tokenHash(secret))
	if isNotFound(err) {
		return domain.APIToken{}, domain.ErrBadCredentials
	}
	if err != nil {
		return domain.APIToken{}, err
	}
	now := s.now().UTC()
	if !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) {
		return domain.APIToken{}, fmt.Errorf("%w (%s)", domain.ErrTokenExpired, t.ExpiresAt.Format(time.RFC3339))
	}
	if err := s.store.TouchAPIToken(ctx, t.ID, now); err != nil {
		s.log.Warn("could not record API token use", "token", t.ID, "err", err)
	}
	return t, nil
}

// ListAPITokens returns the API tokens (without secrets).
func (s *Service) ListAPITokens(ctx context.Context) ([]domain.APIToken, error) {
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
