// Package web owns panelftp's web panel: the account owner's Files › FTP
// pages (sub-users, client configuration downloads, live connections) and
// the administrator's area (accounts, all sub-users, all connections,
// service settings). Pages are server-rendered with html/template; CSS and
// a little vanilla JavaScript are embedded, and every page works without
// JavaScript.
//
// The package calls the service layer only. Who may touch what is decided
// once per request from a signed session cookie: an owner's requests always
// pass the logged-in account to the service, never one taken from the form
// or the URL, so the service's account scoping keeps accounts apart.
//
// Security: sessions are HMAC-SHA256-signed, HttpOnly, SameSite=Lax
// cookies with an expiry, one cookie and signing context per role (owner,
// admin); every POST, the log-in forms included, carries a session-bound
// CSRF token (the OWASP synchronizer token pattern, derived with HMAC
// instead of stored); log-ins are throttled per client IP and per name,
// and an IP banned by the Guard (repeated failures, on the panel or over
// FTP) cannot log in at all;
// responses carry a strict Content-Security-Policy (no inline script),
// X-Frame-Options DENY, X-Content-Type-Options nosniff and
// Referrer-Policy same-origin.
package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
)

// Config is what the panel shows and how it protects its cookies. The zero
// value of each field is its default, except SecretKey, which is required.
type Config struct {
	// FTPHost is the address shown to connect to; "" means the host name
	// the browser used for the panel (without its port).
	FTPHost string
	// FTPPort is the FTP control port shown (default 21).
	FTPPort int
	// FTPSPort is the implicit FTPS port shown; 0 means implicit FTPS is off.
	FTPSPort int
	// TLSRequired says the server refuses plain FTP log-ins; the connect
	// information and the client downloads then ask for explicit TLS.
	TLSRequired bool
	// SecretKey signs session cookies and CSRF tokens; at least 32 bytes.
	// Keep it across restarts or every panel user is logged out.
	SecretKey []byte
	// SecureCookies sets the Secure flag (and the __Host- name prefix):
	// use it when the panel is served over HTTPS.
	SecureCookies bool
	// TrustedProxies are the reverse proxies in front of the panel whose
	// X-Forwarded-For header names the client (see clientIP); empty means
	// the TCP peer is the client.
	TrustedProxies []netip.Prefix
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Guard bans IPs that fail to log in too often; nil means no bans.
	// A banned IP's log-in forms are refused with 403 before any password
	// is checked, and every failed owner or admin log-in is reported.
	Guard Guard
	// Defaults are the live FTP service settings panelftp serve was started
	// with; the admin area shows them, and they apply while no settings are
	// saved in the database.
	Defaults domain.Settings
	// Version is the running panelftp's version line, shown to
	// administrators at the foot of every page; "" shows none.
	Version string
	// NodePublicHost is this node's own --public-host: it overrides the
	// saved passive address on this node; "" when not given.
	NodePublicHost string
}

// Guard decides which client IPs are banned for failing to log in;
// *defender.Defender implements it. Banned is called for every log-in
// POST and must answer from memory; Failure after every log-in refused
// for a wrong name or password or a disabled account. Failure's error
// (the ban could not be saved) is logged; the ban still applies. The bans
// an administrator puts or lifts go through the service, whose ban keeper
// is the same defender, so they apply on this node at once.
type Guard interface {
	Banned(ip netip.Addr) (until time.Time, banned bool)
	Failure(ctx context.Context, ip netip.Addr, reason string) (banned bool, err error)
}

// Timing and size limits of the panel.
const (
	ownerSessionTTL = 12 * time.Hour
	adminSessionTTL = 4 * time.Hour
	maxFormBytes    = 64 << 10
	failureTimeout  = 5 * time.Second // recording a failed log-in with the Guard
	usageTTL        = 10 * time.Second
	pollInterval    = 1500 * time.Millisecond // of the live connections table
)

// server is the panel's http.Handler.
type server struct {
	cfg     Config
	svc     Service
	log     *slog.Logger
	mux     *http.ServeMux
	pages   map[string]*template.Template
	assets  assetSet
	keys    keys
	cookies cookieNames
	limiter *limiter
	usage   *usageCache
}

// New returns the panel's handler. It fails when the configuration cannot
// work (a short secret key, a port out of range) or the embedded templates
// do not parse.
func New(cfg Config, svc Service, log *slog.Logger) (http.Handler, error) {
	if len(cfg.SecretKey) < 32 {
		return nil, fmt.Errorf("web: secret key is %d bytes: need at least 32", len(cfg.SecretKey))
	}
	if svc == nil {
		return nil, errors.New("web: no service")
	}
	if cfg.FTPPort == 0 {
		cfg.FTPPort = 21
	}
	if cfg.FTPPort < 1 || cfg.FTPPort > 65535 || cfg.FTPSPort < 0 || cfg.FTPSPort > 65535 {
		return nil, fmt.Errorf("web: FTP port %d or FTPS port %d is out of range", cfg.FTPPort, cfg.FTPSPort)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	// Copy the key so a caller reusing its slice cannot change ours.
	cfg.SecretKey = append([]byte(nil), cfg.SecretKey...)

	s := &server{
		cfg:     cfg,
		svc:     svc,
		log:     log,
		mux:     http.NewServeMux(),
		keys:    deriveKeys(cfg.SecretKey),
		cookies: newCookieNames(cfg.SecureCookies),
		limiter: newLimiter(cfg.Now),
	}
	s.usage = newUsageCache(cfg.Now, usageTTL, s.dirSize)
	var err error
	if s.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	if s.pages, err = parsePages(s.assets); err != nil {
		return nil, err
	}
	s.routes()
	return s.secure(s.mux), nil
}

func (s *server) routes() {
	m := s.mux
	m.Handle("GET /static/{file}", s.assets)
	m.HandleFunc("GET /favicon.ico", s.assets.favicon)
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/files/ftp", http.StatusSeeOther)
	})

	// Account owner.
	m.HandleFunc("GET /login", s.ownerLoginPage)
	m.HandleFunc("POST /login", s.ownerLogin)
	m.HandleFunc("POST /logout", s.owner(s.logout))
	m.HandleFunc("GET /files/ftp", s.owner(s.ftpPage))
	m.HandleFunc("POST /files/ftp/add", s.owner(s.ftpAdd))
	s.userRoutes("/files/ftp/users", s.owner)
	s.connectionRoutes("/files/ftp/connections", s.owner)

	// Administrator.
	m.HandleFunc("GET /admin", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/admin/accounts", http.StatusSeeOther)
	})
	m.HandleFunc("GET /admin/login", s.adminLoginPage)
	m.HandleFunc("POST /admin/login", s.adminLogin)
	m.HandleFunc("POST /admin/logout", s.admin(s.logout))
	m.HandleFunc("GET /admin/accounts", s.admin(s.accountsPage))
	m.HandleFunc("POST /admin/accounts", s.admin(s.accountAdd))
	m.HandleFunc("POST /admin/accounts/{name}/limit", s.admin(s.accountLimit))
	m.HandleFunc("POST /admin/accounts/{name}/enabled", s.admin(s.accountEnabled))
	m.HandleFunc("GET /admin/accounts/{name}/password", s.admin(s.accountPasswordPage))
	m.HandleFunc("POST /admin/accounts/{name}/password", s.admin(s.accountPassword))
	m.HandleFunc("GET /admin/accounts/{name}/delete", s.admin(s.accountDeletePage))
	m.HandleFunc("POST /admin/accounts/{name}/delete", s.admin(s.accountDelete))
	m.HandleFunc("GET /admin/users", s.admin(s.adminUsersPage))
	s.userRoutes("/admin/users", s.admin)
	m.HandleFunc("GET /admin/users/{user}/controls", s.admin(s.controlsPage))
	m.HandleFunc("POST /admin/users/{user}/controls", s.admin(s.controlsSave))
	s.connectionRoutes("/admin/connections", s.admin)
	m.HandleFunc("GET /admin/settings", s.admin(s.settingsPage))
	m.HandleFunc("POST /admin/settings", s.admin(s.settingsSave))
	m.HandleFunc("POST /admin/settings/reset", s.admin(s.settingsReset))
	m.HandleFunc("GET /admin/bans", s.admin(s.bansPage))
	m.HandleFunc("POST /admin/bans", s.admin(s.banAdd))
	m.HandleFunc("POST /admin/bans/lift", s.admin(s.banLift))
}

// userRoutes mounts the pages acting on one FTP sub-user under base, for
// the owner (base /files/ftp/users) or the admin (base /admin/users).
func (s *server) userRoutes(base string, auth func(handlerFunc) http.HandlerFunc) {
	m := s.mux
	m.HandleFunc("GET "+base+"/{user}/password", auth(s.passwordPage))
	m.HandleFunc("POST "+base+"/{user}/password", auth(s.passwordSave))
	m.HandleFunc("GET "+base+"/{user}/path", auth(s.pathPage))
	m.HandleFunc("POST "+base+"/{user}/path", auth(s.pathSave))
	m.HandleFunc("GET "+base+"/{user}/quota", auth(s.quotaPage))
	m.HandleFunc("POST "+base+"/{user}/quota", auth(s.quotaSave))
	m.HandleFunc("GET "+base+"/{user}/delete", auth(s.deletePage))
	m.HandleFunc("POST "+base+"/{user}/delete", auth(s.deleteUser))
	m.HandleFunc("GET "+base+"/{user}/filezilla.xml", auth(s.downloadFileZilla))
	m.HandleFunc("GET "+base+"/{user}/cyberduck.duck", auth(s.downloadCyberduck))
}

// connectionRoutes mounts the live connections page, its JSON feed and
// Disconnect under base.
func (s *server) connectionRoutes(base string, auth func(handlerFunc) http.HandlerFunc) {
	m := s.mux
	m.HandleFunc("GET "+base, auth(s.connectionsPage))
	m.HandleFunc("GET "+base+".json", auth(s.connectionsJSON))
	m.HandleFunc("POST "+base+"/{id}/disconnect", auth(s.disconnect))
}

// secure adds the security headers to every response and turns a panic in
// one request into a logged 500 instead of a dropped connection.
func (s *server) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; "+
			"img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "+
			"base-uri 'none'; object-src 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("web: panic serving request", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				http.Error(w, "Internal error: the panel could not show this page.", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}
