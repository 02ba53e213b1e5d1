// Package store defines what panelftp keeps: accounts, FTP sub-users, the
// live-session view shared by all nodes, the feed of changes every node
// follows, administrators, API tokens, IP bans and failed log-ins, live
// settings and panel log-outs. The sqlstore subpackage implements it on
// SQLite (embedded default) and PostgreSQL (several nodes); storetest holds
// the one conformance suite both must pass.
//
// Errors: a missing row is domain.ErrNotFound, a duplicate key
// domain.ErrConflict, a full account or session limit
// domain.ErrLimitReached, a database that does not answer
// domain.ErrUnavailable (all matched with errors.Is). The store checks no
// product rule beyond those.
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
	Changes
	Admins
	Bans
	LoginFailures
	Settings
	PanelLogouts
	Quotas
	Close() error
}

// Accounts persists hosting accounts.
type Accounts interface {
	// CreateAccount inserts a; domain.ErrConflict if the name exists. The
	// account gets a new Version.
	CreateAccount(ctx context.Context, a domain.Account) error
	// CreateAccountIf is CreateAccount after check accepts the accounts
	// stored, read in the same transaction; an error from check is
	// returned and nothing is written. Account creations are serialised,
	// so an account added meanwhile by another call, node or process is
	// among those check sees: a rule between accounts (homes may not
	// overlap) holds under concurrent adds. check runs inside the write
	// transaction: it must be quick and must not call the store (with
	// SQLite that would wait for the lock it holds).
	CreateAccountIf(ctx context.Context, a domain.Account, check func(stored []domain.Account) error) error
	GetAccount(ctx context.Context, name string) (domain.Account, error)
	ListAccounts(ctx context.Context) ([]domain.Account, error)
	// UpdateAccount replaces every field of the account named a.Name
	// except Version. When the home, uid, gid or enabled flag changes —
	// what an FTP session decided at log-in — it gives the account a new
	// Version and records a ChangeAccount, in the same transaction.
	UpdateAccount(ctx context.Context, a domain.Account) error
	// ModifyAccount reads the account, calls change with it and saves
	// what change returns as UpdateAccount does, in one transaction that
	// holds the account's row: concurrent modifications queue, each sees
	// the ones before it, and none is lost. An error from change is
	// returned as it is and nothing is saved. It returns the account as
	// saved.
	ModifyAccount(ctx context.Context, name string, change func(domain.Account) (domain.Account, error)) (domain.Account, error)
	// DeleteAccount removes the account and, in the same transaction, its
	// FTP sub-users and the API tokens limited to it, and records a
	// ChangeAccount.
	DeleteAccount(ctx context.Context, name string) error
}

// FTPUsers persists FTP sub-users.
type FTPUsers interface {
	// CreateFTPUser inserts u unless its account already has limit sub-users
	// (limit 0 = unlimited), checked and inserted atomically so two
	// concurrent adds cannot both pass the last free slot. The user gets a
	// new Version, recorded as a ChangeUser: sessions left over from an
	// earlier user of the same name end.
	CreateFTPUser(ctx context.Context, u domain.FTPUser, limit int) error
	GetFTPUser(ctx context.Context, username string) (domain.FTPUser, error)
	// ListFTPUsers lists an account's sub-users, or all when account is "",
	// ordered by username.
	ListFTPUsers(ctx context.Context, account string) ([]domain.FTPUser, error)
	CountFTPUsers(ctx context.Context, account string) (int, error)
	// UpdateFTPUser replaces the password hash, path, quota, controls,
	// enabled flag and updated time. With endSessions (the change must
	// apply to the sessions logged in already, which decided at log-in),
	// the user gets a new Version and a ChangeUser is recorded, in the
	// same transaction.
	UpdateFTPUser(ctx context.Context, u domain.FTPUser, endSessions bool) error
	// ModifyFTPUser reads the user, calls change with it and saves what
	// change returns as UpdateFTPUser(u, endSessions) does, in one
	// transaction that holds the user's row: concurrent modifications
	// queue, each sees the ones before it, and none is lost. An error
	// from change is returned as it is and nothing is saved. It returns
	// the user as saved.
	ModifyFTPUser(ctx context.Context, username string, change func(domain.FTPUser) (u domain.FTPUser, endSessions bool, err error)) (domain.FTPUser, error)
	// DeleteFTPUser removes the user and records a ChangeUser.
	DeleteFTPUser(ctx context.Context, username string) error
	RecordLogin(ctx context.Context, username string, at time.Time, ip string) error
	// LoginStates returns the current state of the named users that
	// exist; a name missing from the result was deleted.
	LoginStates(ctx context.Context, usernames []string) (map[string]LoginState, error)
}

// LoginState is what decides whether an FTP session may go on: the
// versions of its user and account now, and whether both are enabled.
type LoginState struct {
	Versions domain.Versions
	Enabled  bool // the user and its account
}

// Sessions is the live-session view shared by every node: each node
// publishes its sessions and a heartbeat; anyone lists them. Whether a
// node is alive is judged by the database's clock alone, so nodes whose
// clocks differ agree on it.
type Sessions interface {
	// PublishSessions records node's heartbeat — the node counts as
	// alive until ttl after now, by the database's clock —, upserts the
	// changed sessions and deletes the node's sessions whose IDs are in
	// gone. It also removes every node whose time is up, with its
	// sessions. known is false when node had no row (its first publish,
	// or it was removed as dead while it could not publish): the caller
	// must then publish all its sessions again.
	PublishSessions(ctx context.Context, node string, ttl time.Duration, changed []domain.Session, gone []string) (known bool, err error)
	// ClearNode forgets every session of node (at start and clean shutdown).
	ClearNode(ctx context.Context, node string) error
	// ListSessions returns the sessions of live nodes, of one account or
	// all when account is "".
	ListSessions(ctx context.Context, account string) ([]domain.Session, error)
	// GetSession returns a session of a live node.
	GetSession(ctx context.Context, id string) (domain.Session, error)
	// ClaimSession admits a log-in among the sessions of every live node:
	// unless other nodes hold UserRoom or more sessions of c.Session's user,
	// or IPRoom or more from its client (domain.ClientKey), it stores the
	// session under c.Node, at once. Counting and storing are atomic, so two
	// nodes cannot both take the last place. A refusal is a
	// domain.ErrLimitReached error whose Field is "user" or "ip".
	ClaimSession(ctx context.Context, c SessionClaim) error
}

// SessionClaim is a log-in asking for its place (see ClaimSession).
type SessionClaim struct {
	Node string
	TTL  time.Duration // the node's heartbeat lifetime, as in PublishSessions
	// Session is the session as the node will publish it, logged in.
	Session domain.Session
	// UserRoom and IPRoom are how many sessions of the user, and from the
	// client, other nodes may hold for the claim to pass: the limit minus
	// what the claiming node holds itself. Negative means no limit.
	UserRoom, IPRoom int
}

// ChangeKind says what a Change is about.
type ChangeKind string

// What changes nodes follow.
const (
	// ChangeUser: FTP user Key changed or was deleted; its sessions
	// logged in with a user version below Seq must end.
	ChangeUser ChangeKind = "user"
	// ChangeAccount: account Key changed or was deleted; its sub-users'
	// sessions logged in with an account version below Seq must end.
	ChangeAccount ChangeKind = "account"
	// ChangeSession: an administrator or owner asked to end session Key.
	ChangeSession ChangeKind = "session"
	// ChangeBan: the ban of Key (an address or an IPv6 /64) was put or
	// lifted.
	ChangeBan ChangeKind = "ban"
	// ChangeSettings: the live FTP service settings changed.
	ChangeSettings ChangeKind = "settings"
)

// Change is one entry of the change feed: what another process changed
// that every node must act on.
type Change struct {
	// Seq orders the feed: increasing in commit order, never reused. The
	// versions of users and accounts are Seqs of this feed.
	Seq  int64
	Kind ChangeKind
	Key  string
}

// Changes is the change feed. The store records a Change in the same
// transaction as the write it describes, so a node following the feed
// misses nothing that was committed.
type Changes interface {
	// ChangesAfter returns up to limit changes with Seq > after, oldest
	// first. complete is false when changes after `after` were already
	// pruned: the caller has missed some and must re-read what it follows.
	ChangesAfter(ctx context.Context, after int64, limit int) (changes []Change, complete bool, err error)
	// PruneChanges forgets the changes recorded more than olderThan ago,
	// by the database's clock.
	PruneChanges(ctx context.Context, olderThan time.Duration) error
	// KickSession records a ChangeSession asking the node serving session
	// id to end it.
	KickSession(ctx context.Context, id string) error
}

// ChangeWatcher is implemented by stores that announce changes as they
// commit (PostgreSQL's LISTEN/NOTIFY), so nodes need not poll often.
type ChangeWatcher interface {
	// WatchChanges listens on a connection of its own: it calls ready once
	// listening, then changed after each commit that recorded changes
	// (possibly more often), until ctx ends or the connection fails; it
	// returns that error.
	WatchChanges(ctx context.Context, ready, changed func()) error
}

// Admins persists administrators and their API tokens.
type Admins interface {
	CreateAdmin(ctx context.Context, a domain.Admin) error
	GetAdmin(ctx context.Context, name string) (domain.Admin, error)
	ListAdmins(ctx context.Context) ([]domain.Admin, error)
	UpdateAdminPassword(ctx context.Context, name, hash string) error
	DeleteAdmin(ctx context.Context, name string) error
	CreateAPIToken(ctx context.Context, t domain.APIToken) error
	// GetAPITokenByHash returns domain.ErrNotFound for an unknown token.
	GetAPITokenByHash(ctx context.Context, hash string) (domain.APIToken, error)
	ListAPITokens(ctx context.Context) ([]domain.APIToken, error)
	DeleteAPIToken(ctx context.Context, id string) error
	TouchAPIToken(ctx context.Context, id string, at time.Time) error
}

// Bans persists IP bans shared by every node. Every write records a
// ChangeBan.
type Bans interface {
	// PutBan inserts or replaces the ban of b.IP and forgets b.IP's failed
	// log-ins (see LoginFailures), which the ban settles.
	PutBan(ctx context.Context, b domain.Ban) error
	GetBan(ctx context.Context, ip string) (domain.Ban, error)
	// ListBans returns the bans in force at now (Until after now),
	// ordered by IP.
	ListBans(ctx context.Context, now time.Time) ([]domain.Ban, error)
	// DeleteBan lifts the ban of ip, forgetting its repeat count and its
	// failed log-ins: an administrator's pardon.
	DeleteBan(ctx context.Context, ip string) error
	// PruneBans forgets the bans that ended before `before`, repeat count
	// and all.
	PruneBans(ctx context.Context, before time.Time) error
}

// LoginFailures keeps the failed log-ins of each client (an address or an
// IPv6 /64, as a ban's IP) so that every node counts them together.
type LoginFailures interface {
	// AddLoginFailure records a failure of key at `at`, forgets key's
	// failures before since, and returns how many are left, this one
	// included. Concurrent calls for one key are serialised, so each sees
	// the ones before it.
	AddLoginFailure(ctx context.Context, key string, at, since time.Time) (int, error)
	// PruneLoginFailures forgets every failure before `before`.
	PruneLoginFailures(ctx context.Context, before time.Time) error
}

// Settings persists the live FTP service settings saved by an
// administrator; when none are saved, the command-line values apply.
// Every write records a ChangeSettings.
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

// Quotas keeps what each FTP user's folder uses against its quota, for
// every node: a node reserves space and entries before a write adds
// them, so that nodes together stay within the limits, and gives back
// what it did not use. A node holds a user while it serves sessions of
// that user; the first node to hold a user measures the folder.
type Quotas interface {
	// HoldQuota records that node serves username until ttl from now by
	// the database's clock, unless renewed; forgets every hold that
	// expired; and returns the user's stored usage (found false when
	// none is) and whether another node holds the user.
	HoldQuota(ctx context.Context, username, node string, ttl time.Duration) (u domain.QuotaUsage, found, shared bool, err error)
	// RenewQuotaHolds extends every hold of node to ttl from now.
	RenewQuotaHolds(ctx context.Context, node string, ttl time.Duration) error
	// ReleaseQuotaHold forgets node's hold of username and takes back
	// the bytes and files node had reserved and not used, in one
	// transaction.
	ReleaseQuotaHold(ctx context.Context, username, node string, unusedBytes, unusedFiles int64) error
	// SetQuotaUsage stores a measure of username's folder, keeping the
	// changes made since base was read by HoldQuota. With the zero base
	// (none was stored), a usage another node stored meanwhile is kept:
	// both measured the same folder.
	SetQuotaUsage(ctx context.Context, username string, measured, base domain.QuotaUsage) error
	// ReserveQuota adds bytes and files to username's usage: a positive
	// amount up to what its limit leaves (maxBytes, maxFiles; 0 = no
	// limit), a negative one always; it returns what it added, checked
	// and added atomically. domain.ErrNotFound when no usage is stored.
	ReserveQuota(ctx context.Context, username string, bytes, files, maxBytes, maxFiles int64) (addedBytes, addedFiles int64, err error)
}
