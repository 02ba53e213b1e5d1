package service

import (
	"context"
	"errors"

	"github.com/panelftp/panelftp/internal/auth"
	"github.com/panelftp/panelftp/internal/domain"
)

// Log-in refusals. The FTP client only ever learns "login incorrect"; the
// reason is for the server's log.
var (
	ErrBadCredentials = errors.New("unknown user or wrong password")
	ErrUserDisabled   = errors.New("FTP user is disabled")
	ErrAccountOff     = errors.New("account is disabled")
	// ErrHomeRefused: the account's home breaks the home rules (see
	// AuditHomes); the administrator must move it.
	ErrHomeRefused = errors.New("the account's home directory is not allowed")
	// ErrBusy: too many password checks at once; the client may retry.
	ErrBusy = auth.ErrBusy
)

// Login is what a successful FTP log-in decides once, for the whole session.
type Login struct {
	User    domain.FTPUser
	Account domain.Account
	// Directory is the absolute host path the session is locked into.
	Directory string
}

// Authenticate checks an FTP log-in. An unknown user costs the same
// password hash as a wrong password, so timing does not reveal which
// usernames exist. A success records the time and IP of the log-in.
// With a LoginCache, a repeat of recently verified credentials of an
// enabled user skips the hash; a wrong password always pays for it, and
// so does a disabled user or account, so that timing does not tell
// whether a password was right.
func (s *Service) Authenticate(ctx context.Context, username, password, ip string) (Login, error) {
	u, err := s.store.GetFTPUser(ctx, domain.Lower(username))
	if isNotFound(err) {
		// Busy must look the same for unknown and real users.
		if err := s.hasher.Verify(ctx, "", password); errors.Is(err, ErrBusy) {
			return Login{}, ErrBusy
		}
		return Login{}, ErrBadCredentials
	}
	if err != nil {
		return Login{}, err
	}
	a, err := s.store.GetAccount(ctx, u.Account)
	if err != nil {
		return Login{}, err
	}
	enabled := u.Enabled && a.Enabled
	if !enabled || !s.cache.Hit(u.Username, u.PasswordHash, password) {
		if err := s.hasher.Verify(ctx, u.PasswordHash, password); err != nil {
			if errors.Is(err, auth.ErrMismatch) {
				return Login{}, ErrBadCredentials
			}
			return Login{}, err
		}
		if enabled {
			s.cache.Add(u.Username, u.PasswordHash, password)
		}
	}
	switch {
	case !u.Enabled:
		return Login{}, ErrUserDisabled
	case !a.Enabled:
		return Login{}, ErrAccountOff
	}
	if err := s.checkLoginHome(a); err != nil {
		return Login{}, err
	}
	now := s.now().UTC()
	if err := s.store.RecordLogin(ctx, u.Username, now, ip); err != nil {
		s.log.Warn("could not record last login", "user", u.Username, "err", err)
	}
	u.LastLoginAt, u.LastLoginIP = now, ip
	return Login{User: u, Account: a, Directory: u.Directory(a.Home)}, nil
}

// CheckPanelLogin checks an account owner's web panel log-in.
func (s *Service) CheckPanelLogin(ctx context.Context, account, password string) (domain.Account, error) {
	a, err := s.store.GetAccount(ctx, domain.Lower(account))
	if isNotFound(err) || (err == nil && a.PanelPasswordHash == "") {
		_ = s.hasher.Verify(ctx, "", password)
		return domain.Account{}, ErrBadCredentials
	}
	if err != nil {
		return domain.Account{}, err
	}
	if err := s.hasher.Verify(ctx, a.PanelPasswordHash, password); err != nil {
		if errors.Is(err, auth.ErrMismatch) {
			return domain.Account{}, ErrBadCredentials
		}
		return domain.Account{}, err
	}
	if !a.Enabled {
		return domain.Account{}, ErrAccountOff
	}
	return a, nil
}
