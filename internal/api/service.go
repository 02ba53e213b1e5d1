package api

import (
	"context"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

// Service is what the API asks of the service layer, one interface per
// aggregate. The service enforces every rule; the API turns its refusals
// (domain.Error) into HTTP statuses.
type Service interface {
	Accounts
	FTPUsers
	Sessions
	Tokens
	// Now is the service's clock, so that the API shows time-dependent
	// state (a sub-user's expiry) the way the service decides it.
	Now() time.Time
}

// Accounts are the hosting accounts.
type Accounts interface {
	AddAccount(ctx context.Context, in domain.NewAccount) (domain.Account, error)
	GetAccount(ctx context.Context, name string) (domain.Account, error)
	ListAccounts(ctx context.Context) ([]domain.Account, error)
	SetAccountPassword(ctx context.Context, name, password string) error
	SetFTPLimit(ctx context.Context, name string, limit int) error
	SetAccountEnabled(ctx context.Context, name string, enabled bool) error
	DeleteAccount(ctx context.Context, name string, force bool) error
}

// FTPUsers are an account's FTP sub-users.
type FTPUsers interface {
	AddFTPUser(ctx context.Context, in domain.NewFTPUser) (domain.FTPUser, error)
	GetFTPUser(ctx context.Context, account, username string) (domain.FTPUser, error)
	ListFTPUsers(ctx context.Context, account string) ([]domain.FTPUser, error)
	ChangeFTPPassword(ctx context.Context, account, username, password string) error
	ChangeFTPPath(ctx context.Context, account, username, newPath string) error
	// SetFTPControls changes the controls ch gives; ended says the user's
	// live sessions were ended for a stricter rule to apply at once.
	SetFTPControls(ctx context.Context, account, username string, ch domain.ControlsChange) (u domain.FTPUser, ended bool, err error)
	SetFTPUserEnabled(ctx context.Context, account, username string, enabled bool) error
	DeleteFTPUser(ctx context.Context, account, username string) error
}

// Sessions are the live FTP sessions of every node.
type Sessions interface {
	// ListSessions lists the sessions of account, or all for "".
	ListSessions(ctx context.Context, account string) ([]domain.Session, error)
	// Kick ends a session; with account set, another account's session
	// is not found.
	Kick(ctx context.Context, account, id string) error
}

// Tokens authenticate the API's callers.
type Tokens interface {
	// CheckAPIToken returns the token a bearer secret belongs to; it
	// refuses with domain.ErrBadCredentials (unknown or revoked) or
	// domain.ErrTokenExpired.
	CheckAPIToken(ctx context.Context, secret string) (domain.APIToken, error)
}
