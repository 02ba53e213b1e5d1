package domain

import (
	"errors"
	"time"
)

// Log-in refusals, shared by the FTP service, the panel and the API. The
// FTP client only ever learns "login incorrect", except for an expired
// account after the right password; the reason is for the server's log.
var (
	ErrBadCredentials = errors.New("unknown user or wrong password")
	ErrUserDisabled   = errors.New("FTP user is disabled")
	ErrAccountOff     = errors.New("account is disabled")
	// ErrHomeRefused: the account's home breaks the home rules; the
	// administrator must move it.
	ErrHomeRefused = errors.New("the account's home directory is not allowed")
	// ErrIPNotAllowed: the user's IP allow or deny list refuses the
	// client's address. It is decided before the password is hashed.
	ErrIPNotAllowed = errors.New("IP not allowed for this user")
	// ErrExpired matches (errors.Is) an *ExpiredError.
	ErrExpired = errors.New("FTP account expired")
	// ErrBusy: too many password checks at once; the client may retry.
	ErrBusy = errors.New("too many log-ins at once, try again")
	// ErrTokenExpired: the API token's expiry has passed.
	ErrTokenExpired = errors.New("the API token has expired")
)

// ExpiredError refuses a log-in after the user's last day of access. Its
// message is meant for the FTP client: it may be shown once the password
// was right.
type ExpiredError struct {
	// LastDay is the last day of access (00:00 UTC of that day).
	LastDay time.Time
}

func (e *ExpiredError) Error() string {
	return "FTP account expired on " + ExpiryText(e.LastDay)
}

// Is makes errors.Is(err, ErrExpired) true.
func (e *ExpiredError) Is(target error) bool { return target == ErrExpired }

// Login is what a successful FTP log-in decides once, for the whole
// session: the FTP side enforces it without another query.
type Login struct {
	User    FTPUser
	Account Account
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
	Versions Versions
}
