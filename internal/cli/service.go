package cli

import (
	"context"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

// Service is what the commands ask of the service layer, one interface
// per aggregate. The service enforces every rule; the commands print its
// refusals (domain.Error) and turn them into exit codes.
type Service interface {
	Accounts
	FTPUsers
	Sessions
	Bans
	Settings
	Admins
	// Now is the service's clock, so that listings show time-dependent
	// state (an expiry) the way the service decides it.
	Now() time.Time
}

// Accounts are the hosting accounts.
type Accounts interface {
	AddAccount(ctx context.Context, in domain.NewAccount) (domain.Account, error)
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
	SetFTPQuota(ctx context.Context, account, username string, quotaMB int64) error
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

// Bans keep IP addresses out of the FTP service and the panel.
type Bans interface {
	ListBans(ctx context.Context) ([]domain.Ban, error)
	AddBan(ctx context.Context, ip string, dur time.Duration, reason string) (domain.Ban, error)
	RemoveBan(ctx context.Context, ip string) error
}

// Settings are the live FTP service settings.
type Settings interface {
	// Settings returns saved=false when none are saved.
	Settings(ctx context.Context) (set domain.Settings, saved bool, at time.Time, err error)
	SaveSettings(ctx context.Context, set domain.Settings) error
	ResetSettings(ctx context.Context) error
}

// Admins are the panel's administrators and the API's tokens.
type Admins interface {
	AddAdmin(ctx context.Context, name, password string) error
	ListAdmins(ctx context.Context) ([]domain.Admin, error)
	SetAdminPassword(ctx context.Context, name, password string) error
	// CreateAPIToken returns the token and its secret, which is shown
	// once.
	CreateAPIToken(ctx context.Context, in domain.NewAPIToken) (domain.APIToken, string, error)
	ListAPITokens(ctx context.Context) ([]domain.APIToken, error)
	DeleteAPIToken(ctx context.Context, id string) error
}
