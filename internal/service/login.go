package service

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/panelftp/panelftp/internal/auth"
	"github.com/panelftp/panelftp/internal/domain"
)

// Log-in refusals. The FTP client only ever learns "login incorrect",
// except for an expired account after the right password; the reason is
// for the server's log.
var (
	ErrBadCredentials = errors.New("unknown user or wrong password")
	ErrUserDisabled   = errors.New("FTP user is disabled")
	ErrAccountOff     = errors.New("account is disabled")
	// ErrHomeRefused: the account's home breaks the home rules (see
	// AuditHomes); the administrator must move it.
	ErrHomeRefused = errors.New("the account's home directory is not allowed")
	// ErrIPNotAllowed: the user's IP allow or deny list refuses the
	// client's address. It is decided before the password is hashed.
	ErrIPNotAllowed = errors.New("IP not allowed for this user")
	// ErrExpired matches (errors.Is) an *ExpiredError.
	ErrExpired = errors.New("FTP account expired")
	// ErrBusy: too many password checks at once; the client may retry.
	ErrBusy = auth.ErrBusy
)

// ExpiredError refuses a log-in after the user's last day of access. Its
// message is meant for the FTP client: it may be shown once the password
// was right.
type ExpiredError struct {
	// LastDay is the last day of access (00:00 UTC of that day).
	LastDay time.Time
}

func (e *ExpiredError) Error() string {
	return "FTP account expired on " + domain.ExpiryText(e.LastDay)
}

// Is makes errors.Is(err, ErrExpired) true.
func (e *ExpiredError) Is(target error) bool { return target == ErrExpired }

// Login is what a successful FTP log-in decides once, for the whole
// session: the FTP side enforces it without another query.
type Login struct {
	User    domain.FTPUser
	Account domain.Account
	// Directory is the absolute host path the session is locked into.
	Directory string

	// ReadOnly refuses every command that writes.
	ReadOnly bool
	// TLSRequired asks for TLS on control and data connections, on top of
	// the server-wide setting.
	TLSRequired bool
	// UploadRate and DownloadRate cap the user's bandwidth in bytes per
	// second, shared by its transfers on this node; 0 = no limit.
	UploadRate, DownloadRate int64
	// MaxSessions caps the user's sessions at once; 0 = the server's
	// max per user.
	MaxSessions int
	// QuotaBytes and MaxFiles cap what the folder may hold; 0 = no limit.
	QuotaBytes, MaxFiles int64
	// ExpiresAt is when the session must end (the end of the user's last
	// day, UTC); zero = never.
	ExpiresAt time.Time
	// Versions are those of User and Account as read: the session must
	// end once either changes (see sessions.Session.Login).
	Versions domain.Versions
}

// newLogin decides the session of u in a.
func newLogin(u domain.FTPUser, a domain.Account) Login {
	return Login{
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
func (s *Service) Authenticate(ctx context.Context, username, password, ip string) (login Login, err error) {
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
	case errors.Is(err, ErrBadCredentials):
		return "bad_credentials"
	case errors.Is(err, ErrUserDisabled):
		return "user_disabled"
	case errors.Is(err, ErrAccountOff):
		return "account_disabled"
	case errors.Is(err, ErrHomeRefused):
		return "home_refused"
	case errors.Is(err, ErrIPNotAllowed):
		return "ip_refused"
	case errors.Is(err, ErrExpired):
		return "expired"
	case errors.Is(err, ErrBusy), errors.Is(err, context.DeadlineExceeded):
		return "busy"
	}
	return "error"
}

func (s *Service) authenticate(ctx context.Context, username, password, ip string) (Login, error) {
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
	if !allowsIP(u, ip) {
		s.log.Warn("FTP login refused", "ip", ip, "user", u.Username, "reason", ErrIPNotAllowed.Error())
		return Login{}, ErrIPNotAllowed
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
	if u.Expired(now) {
		err := &ExpiredError{LastDay: u.Expires}
		s.log.Warn("FTP login refused", "ip", ip, "user", u.Username, "reason", err.Error())
		return Login{}, err
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
