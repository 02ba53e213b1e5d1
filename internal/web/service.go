package web

import (
	"context"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

// Service is what the panel asks of the service layer, one interface per
// aggregate. The service enforces every rule; the panel shows its
// refusals (domain.Error) beside the fields they name.
type Service interface {
	Accounts
	Homes
	FTPUsers
	Sessions
	Bans
	Settings
	PanelLogins
	// Now is the service's clock, so that the panel shows time-dependent
	// state (a sub-user's expiry) the way the service decides it.
	Now() time.Time
}

// Accounts are the hosting accounts an administrator manages, and what
// their owners see of them.
type Accounts interface {
	// CheckNewAccount refuses in as AddAccount would, naming every field
	// at fault at once, without creating anything.
	CheckNewAccount(ctx context.Context, in domain.NewAccount) error
	AddAccount(ctx context.Context, in domain.NewAccount) (domain.Account, error)
	GetAccount(ctx context.Context, name string) (domain.Account, error)
	ListAccounts(ctx context.Context) ([]domain.Account, error)
	SetAccountPassword(ctx context.Context, name, password string) error
	SetFTPLimit(ctx context.Context, name string, limit int) error
	SetAccountEnabled(ctx context.Context, name string, enabled bool) error
	DeleteAccount(ctx context.Context, name string, force bool) error
}

// Homes are what the panel shows of an account's home.
type Homes interface {
	// FolderUsage measures a folder of home within bounds; past them the
	// result says Partial.
	FolderUsage(ctx context.Context, home, p string) (domain.FolderUsage, error)
	// FolderSuggestions lists the folders of home worth offering as a
	// sub-user's path.
	FolderSuggestions(home string) []string
}

// FTPUsers are an account's FTP sub-users.
type FTPUsers interface {
	// CheckNewFTPUser refuses in as AddFTPUser would, without creating
	// anything.
	CheckNewFTPUser(ctx context.Context, in domain.NewFTPUser) error
	AddFTPUser(ctx context.Context, in domain.NewFTPUser) (domain.FTPUser, error)
	GetFTPUser(ctx context.Context, account, username string) (domain.FTPUser, error)
	ListFTPUsers(ctx context.Context, account string) ([]domain.FTPUser, error)
	ChangeFTPPassword(ctx context.Context, account, username, password string) error
	ChangeFTPPath(ctx context.Context, account, username, newPath string) error
	// SetFTPControls changes the controls ch gives; ended says the user's
	// live sessions were ended for a stricter rule to apply at once.
	SetFTPControls(ctx context.Context, account, username string, ch domain.ControlsChange) (u domain.FTPUser, ended bool, err error)
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

// Settings are the live FTP service settings an administrator saves.
type Settings interface {
	// Settings returns saved=false when none are saved.
	Settings(ctx context.Context) (set domain.Settings, saved bool, at time.Time, err error)
	SaveSettings(ctx context.Context, set domain.Settings) error
	ResetSettings(ctx context.Context) error
}

// PanelLogins check the panel's log-ins (administrators and account
// owners) and remember log-outs on every node.
type PanelLogins interface {
	// ListAdmins gives the administrators with their password hashes.
	ListAdmins(ctx context.Context) ([]domain.Admin, error)
	// CheckAdminLogin and CheckPanelLogin refuse with
	// domain.ErrBadCredentials, domain.ErrAccountOff (an owner's account
	// is disabled) or domain.ErrBusy (too many log-ins at once).
	CheckAdminLogin(ctx context.Context, name, password string) error
	CheckPanelLogin(ctx context.Context, account, password string) (domain.Account, error)
	LogOutPanelSession(ctx context.Context, nonce string, expires time.Time) error
	PanelSessionLoggedOut(ctx context.Context, nonce string) (bool, error)
}
