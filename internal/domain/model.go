package domain

import (
	"path/filepath"
	"time"
)

// NoID means "no uid/gid of its own": files get the server process's owner.
const NoID = -1

// Account is a hosting customer (e.g. "bob") with a home directory holding
// their websites. FTP sub-users are locked into folders of that home.
type Account struct {
	Name string
	// Home is the absolute host path of the account's home directory.
	Home string
	// UID and GID own the files FTP clients create; NoID keeps the server's.
	UID, GID int
	// FTPLimit caps the number of FTP sub-users; 0 means unlimited.
	FTPLimit int
	// PanelPasswordHash is the web panel log-in hash ("" = cannot log in).
	PanelPasswordHash string
	Enabled           bool
	CreatedAt         time.Time
	UpdatedAt         time.Time
	// Version is set by the store and grows with every change that must
	// end the FTP sessions of the account's sub-users (see Versions).
	Version int64
}

// FTPUser is an FTP sub-user "<name>.<account>", locked into Path.
type FTPUser struct {
	Username     string // lowercase, "<name>.<account>"
	Account      string
	PasswordHash string // argon2id, PHC string format
	// Path is the folder inside the owner's home, clean, starting with "/".
	Path string
	// QuotaMB limits the bytes stored under Path; 0 means unlimited.
	QuotaMB int64
	// Controls are the user's other limits and access rules.
	Controls
	Enabled   bool
	CreatedAt time.Time
	UpdatedAt time.Time
	// LastLoginAt is zero when the user never logged in.
	LastLoginAt time.Time
	LastLoginIP string
	// Version is set by the store and grows with every change that must
	// end the user's FTP sessions (see Versions).
	Version int64
}

// Versions are the versions of the sub-user and of its account that an
// FTP log-in read. A session is stale, and must end, once either has
// grown: versions come from one counter in the shared store, so comparing
// them needs no clock and holds across nodes and restarts.
type Versions struct {
	User, Account int64
}

// Older reports whether v was read before current: a session logged in
// with v must end.
func (v Versions) Older(current Versions) bool {
	return v.User < current.User || v.Account < current.Account
}

// Directory is the absolute host path the sub-user is locked into.
func (u FTPUser) Directory(home string) string {
	return filepath.Join(home, filepath.FromSlash(u.Path))
}

// Activity is what a live FTP session is doing right now.
type Activity string

const (
	ActivityIdle     Activity = "idle"
	ActivityListing  Activity = "listing"
	ActivityUpload   Activity = "upload"
	ActivityDownload Activity = "download"
)

// Session is a live FTP connection as seen from any node: who, from where,
// with which client, and what it is doing now.
type Session struct {
	ID         string // unique across restarts and nodes
	Node       string // the panelftp process serving it
	Username   string // "" until logged in
	Account    string
	RemoteAddr string
	Client     string // from CLNT, "" when not sent
	TLSControl bool
	TLSData    bool

	ConnectedAt  time.Time
	LastActivity time.Time

	Activity Activity
	File     string // path inside the jail of the running transfer or listing
	// BytesDone and BytesTotal describe the running transfer; BytesTotal
	// is 0 when unknown (uploads).
	BytesDone  int64
	BytesTotal int64
	// Speed is the current transfer rate in bytes per second.
	Speed int64

	BytesUp   int64 // total received from the client
	BytesDown int64 // total sent to the client
}

// NewAccount is the input of adding an account.
type NewAccount struct {
	Name string
	Home string
	// UID and GID own what FTP clients create; NoID keeps the server's.
	UID, GID int
	// FTPLimit caps FTP sub-users; 0 means unlimited.
	FTPLimit int
	// PanelPassword lets the owner log in to the web panel; "" = not yet.
	PanelPassword string
}

// NewFTPUser is the input of adding an FTP sub-user.
type NewFTPUser struct {
	Account  string
	Username string // "<name>.<account>", any case
	Password string
	Path     string // folder inside the account's home
	QuotaMB  int64  // 0 = unlimited
}
