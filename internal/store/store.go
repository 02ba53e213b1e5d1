// Package store defines what panelftp keeps: accounts, FTP sub-users, the
// live-session view shared by all nodes, kick requests, administrators, API
// tokens, IP bans, live settings and panel log-outs. The sqlstore
// subpackage implements it on SQLite (embedded default) and PostgreSQL
// (several nodes); storetest holds the one conformance suite both must
// pass.
//
// Errors: a missing row is domain.ErrNotFound, a duplicate key
// domain.ErrConflict, a full account domain.ErrLimitReached (all matched with
// errors.Is). The store checks no product rule beyond those.
package store

import (
	"context"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

// Store is everything panelftp persists.
type Store interface {
	Accounts
	FTPUsers
	Sessions
	Admins
	Bans
	Settings
	PanelLogouts
	Close() error
}

// Accounts persists hosting accounts.
type Accounts interface {
	// CreateAccount inserts a; domain.ErrConflict if the name exists.
	CreateAccount(ctx context.Context, a domain.Account) error
	GetAccount(ctx context.Context, name string) (domain.Account, error)
	ListAccounts(ctx context.Context) ([]domain.Account, error)
	// UpdateAccount replaces every field of the account named a.Name.
	UpdateAccount(ctx context.Context, a domain.Account) error
	// DeleteAccount removes the account and, in the same transaction, its
	// FTP sub-users and the API tokens limited to it.
	DeleteAccount(ctx context.Context, name string) error
}

// FTPUsers persists FTP sub-users.
type FTPUsers interface {
	// CreateFTPUser inserts u unless its account already has limit sub-users
	// (limit 0 = unlimited), checked and inserted atomically so two
	// concurrent adds cannot both pass the last free slot.
	CreateFTPUser(ctx context.Context, u domain.FTPUser, limit int) error
	GetFTPUser(ctx context.Context, username string) (domain.FTPUser, error)
	// ListFTPUsers lists an account's sub-users, or all when account is "",
	// ordered by username.
	ListFTPUsers(ctx context.Context, account string) ([]domain.FTPUser, error)
	CountFTPUsers(ctx context.Context, account string) (int, error)
	// UpdateFTPUser replaces the password hash, path, quota, controls,
	// enabled flag and updated time.
	UpdateFTPUser(ctx context.Context, u domain.FTPUser) error
	DeleteFTPUser(ctx context.Context, username string) error
	RecordLogin(ctx context.Context, username string, at time.Time, ip string) error
}

// Kick asks whichever node serves a session to end it: either one session
// by ID, or every session of Username.
type Kick struct {
	Seq       int64 // increasing; nodes remember the last one they saw
	SessionID string
	Username  string
	At        time.Time
}

// Sessions is the live-session view shared by every node: each node
// publishes its sessions and a heartbeat; anyone lists them or asks for a kick.
type Sessions interface {
	// PublishSessions records node's heartbeat at `at`, upserts the changed
	// sessions and deletes the node's sessions whose IDs are in gone.
	PublishSessions(ctx context.Context, node string, at time.Time, changed []domain.Session, gone []string) error
	// ClearNode forgets every session of node (at start and clean shutdown).
	ClearNode(ctx context.Context, node string) error
	// ListSessions returns the sessions of nodes whose heartbeat is not
	// older than aliveAfter, of one account or all when account is "".
	ListSessions(ctx context.Context, account string, aliveAfter time.Time) ([]domain.Session, error)
	GetSession(ctx context.Context, id string, aliveAfter time.Time) (domain.Session, error)
	// RequestKick queues k (Seq is assigned).
	RequestKick(ctx context.Context, k Kick) error
	// KicksAfter returns kicks with Seq > seq, oldest first, and deletes
	// kicks older than olderThan.
	KicksAfter(ctx context.Context, seq int64, olderThan time.Time) ([]Kick, error)
	// LastKickSeq is where a starting node begins reading kicks.
	LastKickSeq(ctx context.Context) (int64, error)
}

// Admin is a server administrator of the web panel.
type Admin struct {
	Name         string
	PasswordHash string
	CreatedAt    time.Time
}

// APIToken authenticates API calls; only a hash of the secret is kept.
type APIToken struct {
	ID string
	// Name is a label saying what the token is for ("billing").
	Name string
	Hash string // hex SHA-256 of the secret
	// Account limits the token to that account's routes; "" is an
	// administrator's token.
	Account string
	// ExpiresAt is when the token stops working; zero means never.
	ExpiresAt time.Time
	CreatedAt time.Time
	LastUsed  time.Time
}

// Admins persists administrators and their API tokens.
type Admins interface {
	CreateAdmin(ctx context.Context, a Admin) error
	GetAdmin(ctx context.Context, name string) (Admin, error)
	ListAdmins(ctx context.Context) ([]Admin, error)
	UpdateAdminPassword(ctx context.Context, name, hash string) error
	DeleteAdmin(ctx context.Context, name string) error
	CreateAPIToken(ctx context.Context, t APIToken) error
	// GetAPITokenByHash returns domain.ErrNotFound for an unknown token.
	GetAPITokenByHash(ctx context.Context, hash string) (APIToken, error)
	ListAPITokens(ctx context.Context) ([]APIToken, error)
	DeleteAPIToken(ctx context.Context, id string) error
	TouchAPIToken(ctx context.Context, id string, at time.Time) error
}

// Ban keeps an IP out until Until. Count is how many times it was banned,
// so repeat offenders get longer bans.
type Ban struct {
	IP     string
	Until  time.Time
	Count  int
	Reason string
	At     time.Time
}

// Bans persists IP bans shared by every node.
type Bans interface {
	// PutBan inserts or replaces the ban of b.IP.
	PutBan(ctx context.Context, b Ban) error
	GetBan(ctx context.Context, ip string) (Ban, error)
	ListBans(ctx context.Context) ([]Ban, error)
	DeleteBan(ctx context.Context, ip string) error
}

// Settings persists the live FTP service settings saved by an
// administrator; when none are saved, the command-line values apply.
type Settings interface {
	// GetSettings returns the saved settings and when they were saved, or
	// domain.ErrNotFound when none are.
	GetSettings(ctx context.Context) (domain.Settings, time.Time, error)
	PutSettings(ctx context.Context, s domain.Settings, at time.Time) error
	// DeleteSettings returns to the command-line values; no error when
	// none were saved.
	DeleteSettings(ctx context.Context) error
}

// PanelLogouts remembers the web panel sessions that were logged out,
// until they would have expired anyway, so that their cookies are refused
// by every node and after a restart.
type PanelLogouts interface {
	// AddPanelLogout records the session nonce as logged out until
	// expires, and forgets the log-outs whose sessions have expired.
	AddPanelLogout(ctx context.Context, nonce string, expires, now time.Time) error
	// PanelLoggedOut reports whether the session nonce was logged out.
	PanelLoggedOut(ctx context.Context, nonce string) (bool, error)
}
