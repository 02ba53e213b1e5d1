package service

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/panelftp/panelftp/internal/auth"
	"github.com/panelftp/panelftp/internal/domain"
)

// newLogin decides the session of u in a.
func newLogin(u domain.FTPUser, a domain.Account) domain.Login {
	return domain.Login{
		User: u, Account: a, Directory: u.Directory(a.Home),
		ReadOnly: u.ReadOnly, TLSRequired: u.TLSRequired,
		UploadRate: u.UploadKBps << 10, DownloadRate: u.DownloadKBps << 10,
		MaxSessions: u.MaxSessions, QuotaBytes: u.QuotaMB << 20, MaxFiles: u.MaxFiles,
		ExpiresAt: u.ExpiresAt(), Versions: domain.Versions{User: u.Version, Account: a.Version},
	}
}

// Authenticate checks an FTP log-in. An unknown user costs the same
// password hash as a wrong password, so timing does not reveal which
// usernames exist. A success records the time and IP of the log-in.
// With a LoginCache, a repeat of recently verified credentials of an
// enabled user skips the hash; a wrong password always pays for it, and
// so does a disabled user or account, so that timing does not tell
// whether a password was right.
func (s *Service) Authenticate(ctx context.Context, username, password, ip string) (login domain.Login, err error) {
	if s.onLogin != nil {
		defer func() { s.onLogin(LoginResult(err)) }()
	}
	return s.authenticate(ctx, username, password, ip)
}

// LoginResult names the outcome of an FTP log-in for the metrics: success,
// bad_credentials, user_disabled, account_disabled, home_refused,
// ip_refused, expired, busy or error.
func LoginResult(err error) string {
	switch {
	case err == nil:
		return "success"
	case errors.Is(err, domain.ErrBadCredentials):
		return "bad_credentials"
	case errors.Is(err, domain.ErrUserDisabled):
		return "user_disabled"
	case errors.Is(err, domain.ErrAccountOff):
		return "account_disabled"
	case errors.Is(err, domain.ErrHomeRefused):
		return "home_refused"
	case errors.Is(err, domain.ErrIPNotAllowed):
		return "ip_refused"
	case errors.Is(err, domain.ErrExpired):
		return "expired"
	case errors.Is(err, domain.ErrBusy), errors.Is(err, context.DeadlineExceeded):
		return "busy"
	}
	return "error"
}

func (s *Service) authenticate(ctx context.Context, username, password, ip string) (domain.Login, error) {
	u, err := s.store.GetFTPUser(ctx, domain.Lower(username))
	if isNotFound(err) {
		// Busy must look the same for unknown and real users.
		if err := s.hasher.Verify(ctx, "", password); errors.Is(err, domain.ErrBusy) {
			return domain.Login{}, domain.ErrBusy
		}
		return domain.Login{}, domain.ErrBadCredentials
	}
	if err != nil {
		return domain.Login{}, err
	}
	if !allowsIP(u, ip) {
		s.log.Warn("FTP login refused", "ip", ip, "user", u.Username, "reason", domain.ErrIPNotAllowed.Error())
		return domain.Login{}, domain.ErrIPNotAllowed
	}
	a, err := s.store.GetAccount(ctx, u.Account)
	if err != nil {
		return domain.Login{}, err
	}
	enabled := u.Enabled && a.Enabled
	if !enabled || !s.cache.Hit(u.Username, u.PasswordHash, password) {
		if err := s.hasher.Verify(ctx, u.PasswordHash, password); err != nil {
			if errors.Is(err, auth.ErrMismatch) {
				return domain.Login{}, domain.ErrBadCredentials
			}
			return domain.Login{}, err
		}
		if enabled {
			s.cache.Add(u.Username, u.PasswordHash, password)
		}
	}
	switch {
	case !u.Enabled:
		return domain.Login{}, domain.ErrUserDisabled
	case !a.Enabled:
		return domain.Login{}, domain.ErrAccountOff
	}
	if err := s.checkLoginHome(a); err != nil {
		return domain.Login{}, err
	}
	now := s.now().UTC()
	if u.Expired(now) {
		err := &domain.ExpiredError{LastDay: u.Expires}
		s.log.Warn("FTP login refused", "ip", ip, "user", u.Username, "reason", err.Error())
		return domain.Login{}, err
	}
	if err := s.store.RecordLogin(ctx, u.Username, now, ip); err != nil {
		s.log.Warn("could not record last login", "user", u.Username, "err", err)
	}
	u.LastLoginAt, u.LastLoginIP = now, ip
	return newLogin(u, a), nil
}

// allowsIP applies u's allow and deny lists to the client's address; an
// address that cannot be read passes only a user without lists.
func allowsIP(u domain.FTPUser, ip string) bool {
	if len(u.AllowIPs) == 0 && len(u.DenyIPs) == 0 {
		return true
	}
	addr, err := netip.ParseAddr(ip)
	return err == nil && u.AllowsIP(addr)
}

// CheckPanelLogin checks an account owner's web panel log-in.
func (s *Service) CheckPanelLogin(ctx context.Context, account, password string) (domain.Account, error) {
	a, err := s.store.GetAccount(ctx, domain.Lower(account))
	if isNotFound(err) || (err == nil && a.PanelPasswordHash == "") {
		_ = s.hasher.Verify(ctx, "", password)
		return domain.Account{}, domain.ErrBadCredentials
	}
	if err != nil {
		return domain.Account{}, err
	}
	if err := s.hasher.Verify(ctx, a.PanelPasswordHash, password); err != nil {
		if errors.Is(err, auth.ErrMismatch) {
			return domain.Account{}, domain.ErrBadCredentials
		}
		return domain.Account{}, err
	}
	if !a.Enabled {
		return domain.Account{}, domain.ErrAccountOff
	}
	return a, nil
}

// FTPUserExpiry returns when username's access ends now, as stored (zero:
// never): a live session checks it when the expiry it logged in with
// comes, since extending the date ends no session and so sends nodes no
// change.
func (s *Service) FTPUserExpiry(ctx context.Context, username string) (time.Time, error) {
	u, err := s.store.GetFTPUser(ctx, domain.Lower(username))
	if err != nil {
		return time.Time{}, err
	}
	return u.ExpiresAt(), nil
}
