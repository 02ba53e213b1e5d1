package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/panelftp/panelftp/internal/domain"
)

// AddFTPUser creates an FTP sub-user and its folder. Nothing is saved
// unless every rule passes; a refusal names every field at fault at once
// (see CheckNewFTPUser).
func (s *Service) AddFTPUser(ctx context.Context, in domain.NewFTPUser) (domain.FTPUser, error) {
	a, err := s.getAccount(ctx, in.Account)
	if err != nil {
		return domain.FTPUser{}, err
	}
	username, p, err := s.checkNewFTPUser(ctx, a, in)
	if err != nil {
		return domain.FTPUser{}, err
	}
	if err := s.checkLimit(ctx, a); err != nil {
		return domain.FTPUser{}, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return domain.FTPUser{}, err
	}
	created, err := s.ensureFolder(a, p)
	if err != nil {
		return domain.FTPUser{}, err
	}
	now := s.now().UTC()
	u := domain.FTPUser{
		Username: username, Account: a.Name, PasswordHash: hash, Path: p,
		QuotaMB: in.QuotaMB, Enabled: true, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.store.CreateFTPUser(ctx, u, a.FTPLimit); err != nil {
		s.undoFolders(a, created)
		return domain.FTPUser{}, err
	}
	s.log.Info("FTP user added", "account", a.Name, "user", username, "path", p, "quota_mb", in.QuotaMB)
	return u, nil
}

// CheckNewFTPUser reports what AddFTPUser would refuse in in, except the
// account's limit, without changing anything: one refusal per field at
// fault, joined (see domain.Refusals), so a form can show them all at once.
func (s *Service) CheckNewFTPUser(ctx context.Context, in domain.NewFTPUser) error {
	a, err := s.getAccount(ctx, in.Account)
	if err != nil {
		return err
	}
	_, _, err = s.checkNewFTPUser(ctx, a, in)
	return err
}

// checkNewFTPUser applies every rule to in and returns the stored
// username and the clean path.
func (s *Service) checkNewFTPUser(ctx context.Context, a domain.Account, in domain.NewFTPUser) (username, p string, err error) {
	username, userErr := domain.NormalizeUsername(in.Username, a.Name)
	if userErr == nil {
		if _, err := s.store.GetFTPUser(ctx, username); err == nil {
			userErr = domain.Conflictf("username", "FTP username %s already exists: choose another name", username)
		} else if !isNotFound(err) {
			return "", "", err
		}
	}
	// The password must not contain the name as typed either, even when
	// the name itself was refused.
	pwUser := username
	if pwUser == "" {
		pwUser = domain.Lower(in.Username)
	}
	p, pathErr := domain.NormalizePath(in.Path, a.Home)
	return username, p, errors.Join(userErr, domain.ValidatePassword(in.Password, pwUser), pathErr, validateQuota(in.QuotaMB))
}

func (s *Service) checkLimit(ctx context.Context, a domain.Account) error {
	if a.FTPLimit == 0 {
		return nil
	}
	n, err := s.store.CountFTPUsers(ctx, a.Name)
	if err != nil {
		return err
	}
	if n >= a.FTPLimit {
		return &domain.Error{Kind: domain.LimitReached, Field: "username",
			Msg: fmt.Sprintf("account %s already has its limit of %d FTP sub-users: delete one or ask the administrator to raise the limit", a.Name, a.FTPLimit)}
	}
	return nil
}

// ListFTPUsers returns the sub-users of account, or of all accounts when
// account is "".
func (s *Service) ListFTPUsers(ctx context.Context, account string) ([]domain.FTPUser, error) {
	if account != "" {
		a, err := s.getAccount(ctx, account)
		if err != nil {
			return nil, err
		}
		account = a.Name
	}
	return s.store.ListFTPUsers(ctx, account)
}

// GetFTPUser returns the sub-user username of account. A sub-user of
// another account is reported as not found, so an account owner cannot
// learn which usernames other accounts have.
func (s *Service) GetFTPUser(ctx context.Context, account, username string) (domain.FTPUser, error) {
	a, err := s.getAccount(ctx, account)
	if err != nil {
		return domain.FTPUser{}, err
	}
	u, err := s.store.GetFTPUser(ctx, domain.Lower(username))
	if isNotFound(err) || (err == nil && u.Account != a.Name) {
		return domain.FTPUser{}, domain.NotFoundf("FTP user %s does not exist in account %s", username, a.Name)
	}
	return u, err
}

// ChangeFTPPassword sets a new password and ends the user's live sessions.
func (s *Service) ChangeFTPPassword(ctx context.Context, account, username, password string) error {
	u, err := s.GetFTPUser(ctx, account, username)
	if err != nil {
		return err
	}
	if err := domain.ValidatePassword(password, u.Username); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	return s.updateFTPUser(ctx, u.Username, "FTP user password changed", func(u *domain.FTPUser) { u.PasswordHash = hash })
}

// ChangeFTPPath moves the user's jail to another folder of the home
// (created if missing) and ends its live sessions.
func (s *Service) ChangeFTPPath(ctx context.Context, account, username, newPath string) error {
	u, err := s.GetFTPUser(ctx, account, username)
	if err != nil {
		return err
	}
	a, err := s.getAccount(ctx, account)
	if err != nil {
		return err
	}
	p, err := domain.NormalizePath(newPath, a.Home)
	if err != nil {
		return err
	}
	created, err := s.ensureFolder(a, p)
	if err != nil {
		return err
	}
	if err := s.updateFTPUser(ctx, u.Username, "FTP user path changed", func(u *domain.FTPUser) { u.Path = p }); err != nil {
		s.undoFolders(a, created)
		return err
	}
	return nil
}

// SetFTPQuota changes the user's upload quota (0 = unlimited); it is
// SetFTPControls with the quota alone.
func (s *Service) SetFTPQuota(ctx context.Context, account, username string, quotaMB int64) error {
	_, _, err := s.SetFTPControls(ctx, account, username, domain.ControlsChange{QuotaMB: &quotaMB})
	return err
}

// SetFTPUserEnabled enables or disables log-in for the user.
func (s *Service) SetFTPUserEnabled(ctx context.Context, account, username string, enabled bool) error {
	u, err := s.GetFTPUser(ctx, account, username)
	if err != nil {
		return err
	}
	return s.updateFTPUser(ctx, u.Username, "FTP user enabled changed", func(u *domain.FTPUser) { u.Enabled = enabled })
}

// DeleteFTPUser removes the login, which ends its live sessions on every
// node. The files stay where they are.
func (s *Service) DeleteFTPUser(ctx context.Context, account, username string) error {
	u, err := s.GetFTPUser(ctx, account, username)
	if err != nil {
		return err
	}
	if err := s.store.DeleteFTPUser(ctx, u.Username); err != nil {
		return err
	}
	s.log.Info("FTP user deleted", "account", u.Account, "user", u.Username)
	return nil
}

// updateFTPUser applies set to the user as stored and saves it, which
// ends its live sessions on every node so the change takes effect at once
// (sessions decide their root and limits at log-in): the store gives the
// user a new version in the same transaction. The store applies set
// under the user's lock, so a concurrent change of another field is kept.
func (s *Service) updateFTPUser(ctx context.Context, username, what string, set func(*domain.FTPUser)) error {
	u, err := s.store.ModifyFTPUser(ctx, username, func(u domain.FTPUser) (domain.FTPUser, bool, error) {
		set(&u)
		u.UpdatedAt = s.now().UTC()
		return u, true, nil
	})
	if err != nil {
		return err
	}
	s.log.Info(what, "account", u.Account, "user", u.Username)
	return nil
}

func validateQuota(mb int64) error { return domain.ValidateQuotaMB(mb) }
