// Package view holds the JSON shapes in which panelftp shows accounts, FTP
// sub-users and live sessions to machines: the CLI's --json output and the
// API's bodies are the same objects. Password hashes never appear.
package view

import (
	"net/netip"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

// Account is a hosting account; only whether a panel password is set shows.
type Account struct {
	Name string `json:"name"`
	Home string `json:"home"`
	// UID and GID own what FTP clients create; null = the server's own.
	UID      *int `json:"uid"`
	GID      *int `json:"gid"`
	FTPLimit int  `json:"ftp_limit"`
	// FTPUsers is how many FTP sub-users the account has now.
	FTPUsers         int    `json:"ftp_users"`
	Enabled          bool   `json:"enabled"`
	PanelPasswordSet bool   `json:"panel_password_set"`
	CreatedAt        string `json:"created_at"`
	UpdatedAt        string `json:"updated_at"`
}

// NewAccount shows a, which has ftpUsers sub-users.
func NewAccount(a domain.Account, ftpUsers int) Account {
	return Account{
		Name: a.Name, Home: a.Home, UID: optionalID(a.UID), GID: optionalID(a.GID),
		FTPLimit: a.FTPLimit, FTPUsers: ftpUsers, Enabled: a.Enabled,
		PanelPasswordSet: a.PanelPasswordHash != "",
		CreatedAt:        Time(a.CreatedAt), UpdatedAt: Time(a.UpdatedAt),
	}
}

// FTPUser is an FTP sub-user.
type FTPUser struct {
	Account  string `json:"account"`
	Username string `json:"username"`
	// Path is the folder inside the home; Directory the absolute host path.
	Path      string `json:"path"`
	Directory string `json:"directory"`
	// UID and GID are the account's: files the user creates belong to them.
	UID         *int    `json:"uid"`
	GID         *int    `json:"gid"`
	QuotaMB     int64   `json:"quota_mb"`
	Enabled     bool    `json:"enabled"`
	CreatedAt   string  `json:"created_at"`
	UpdatedAt   string  `json:"updated_at"`
	LastLoginAt *string `json:"last_login_at"`
	LastLoginIP string  `json:"last_login_ip"`

	// The per-user controls; 0 is no limit.
	MaxFiles     int64 `json:"max_files"`
	UploadKBps   int64 `json:"upload_kbps"`
	DownloadKBps int64 `json:"download_kbps"`
	// AllowIPs and DenyIPs are networks; a single address shows without
	// /32 or /128. Empty: no list.
	AllowIPs    []string `json:"allow_ips"`
	DenyIPs     []string `json:"deny_ips"`
	ReadOnly    bool     `json:"read_only"`
	TLSRequired bool     `json:"tls_required"`
	// Expires is the last day of access (YYYY-MM-DD, UTC), ExpiresAt the
	// instant access ends; both null when the user never expires.
	Expires   *string `json:"expires"`
	ExpiresAt *string `json:"expires_at"`
	// Expired says whether that instant has passed at now.
	Expired     bool `json:"expired"`
	MaxSessions int  `json:"max_sessions"`
}

// NewFTPUser shows u of account a as it stands at now.
func NewFTPUser(u domain.FTPUser, a domain.Account, now time.Time) FTPUser {
	v := FTPUser{
		Account: u.Account, Username: u.Username, Path: u.Path, Directory: u.Directory(a.Home),
		UID: optionalID(a.UID), GID: optionalID(a.GID), QuotaMB: u.QuotaMB, Enabled: u.Enabled,
		CreatedAt: Time(u.CreatedAt), UpdatedAt: Time(u.UpdatedAt),
		LastLoginAt: OptionalTime(u.LastLoginAt), LastLoginIP: u.LastLoginIP,
		MaxFiles: u.MaxFiles, UploadKBps: u.UploadKBps, DownloadKBps: u.DownloadKBps,
		AllowIPs: prefixes(u.AllowIPs), DenyIPs: prefixes(u.DenyIPs), ReadOnly: u.ReadOnly, TLSRequired: u.TLSRequired,
		ExpiresAt: OptionalTime(u.ExpiresAt()), Expired: u.Expired(now), MaxSessions: u.MaxSessions,
	}
	if !u.Expires.IsZero() {
		day := domain.ExpiryText(u.Expires)
		v.Expires = &day
	}
	return v
}

// prefixes shows an IP list, never as null.
func prefixes(list []netip.Prefix) []string {
	out := make([]string, len(list))
	for i, p := range list {
		out[i] = domain.PrefixText(p)
	}
	return out
}

// Session is a live FTP session: every field of domain.Session.
type Session struct {
	ID           string `json:"id"`
	Node         string `json:"node"`
	Username     string `json:"username"`
	Account      string `json:"account"`
	RemoteAddr   string `json:"remote_addr"`
	Client       string `json:"client"`
	TLSControl   bool   `json:"tls_control"`
	TLSData      bool   `json:"tls_data"`
	ConnectedAt  string `json:"connected_at"`
	LastActivity string `json:"last_activity"`
	Activity     string `json:"activity"`
	File         string `json:"file"`
	BytesDone    int64  `json:"bytes_done"`
	BytesTotal   int64  `json:"bytes_total"`
	Speed        int64  `json:"speed"`
	BytesUp      int64  `json:"bytes_up"`
	BytesDown    int64  `json:"bytes_down"`
}

// NewSession shows s.
func NewSession(s domain.Session) Session {
	return Session{
		ID: s.ID, Node: s.Node, Username: s.Username, Account: s.Account, RemoteAddr: s.RemoteAddr,
		Client: s.Client, TLSControl: s.TLSControl, TLSData: s.TLSData,
		ConnectedAt: Time(s.ConnectedAt), LastActivity: Time(s.LastActivity),
		Activity: string(s.Activity), File: s.File, BytesDone: s.BytesDone, BytesTotal: s.BytesTotal,
		Speed: s.Speed, BytesUp: s.BytesUp, BytesDown: s.BytesDown,
	}
}

// Time formats t as RFC 3339 in UTC.
func Time(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// OptionalTime is nil for the zero time ("never").
func OptionalTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := Time(t)
	return &s
}

func optionalID(id int) *int {
	if id == domain.NoID {
		return nil
	}
	return &id
}
