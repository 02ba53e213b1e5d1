package ftpd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/ftp"
	"github.com/panelftp/panelftp/internal/jail"
	"github.com/panelftp/panelftp/internal/sessions"
)

// Replies to a refused log-in. Whatever the reason (unknown user, wrong
// password, disabled user or account), the client reads the same text,
// so it cannot learn which usernames exist.
const (
	msgLoginIncorrect = "Login incorrect."
	msgBusy           = "Server busy, please try again in a moment."
	msgUnavailable    = "Log-in is not possible right now, please try again later."
	msgNoFolder       = "Your FTP folder is not available; please contact the account owner."
	msgTooManyLogins  = "Too many log-ins from your IP address (limit %d a minute); try again later."
)

// client is one control connection, from Connect to Close.
type client struct {
	srv  *Server
	conn *ftp.Conn
	sess *sessions.Session
	ip   string
	addr netip.Addr
	log  *slog.Logger
	user *userState // set by Login, in the connection's goroutine
	// ctx ends with the connection, at a kick or at Close: a transfer
	// waiting for its bandwidth stops waiting.
	ctx    context.Context
	cancel context.CancelFunc
}

var (
	_ ftp.Client        = (*client)(nil)
	_ ftp.StatusWatcher = (*client)(nil)
)

// Connect implements ftp.Backend. A banned IP is refused here, before the
// registry, a session or a password hash spend anything on it; so is a
// connection over a limit of the registry.
func (s *Server) Connect(c *ftp.Conn) (ftp.Client, error) {
	remote := addrOf(c.RemoteAddr())
	ip := remote.Addr().String()
	if until, banned := s.banned(remote.Addr()); banned {
		s.log.Debug("FTP connection refused", "ip", ip, "reason", "banned")
		return nil, &ftp.Error{Code: 421, Message: banMessage(until)}
	}
	cl := &client{srv: s, conn: c, ip: ip, addr: remote.Addr()}
	cl.ctx, cl.cancel = context.WithCancel(s.ctx)
	sess, err := s.reg.Open(remote, func() { cl.cancel(); c.Close() })
	if err != nil {
		cl.cancel()
		s.log.Warn("FTP connection refused", "ip", ip, "reason", err.Error())
		return nil, &ftp.Error{Code: 421, Message: capitalize(err.Error()) + "; try again later."}
	}
	cl.sess = sess
	cl.log = s.log.With("session", sess.ID(), "ip", ip)
	c.SetLogger(cl.log)
	s.mu.Lock()
	s.clients[cl] = struct{}{}
	s.mu.Unlock()
	control, data := c.TLS()
	sess.SetTLS(control, data)
	cl.log.Info("FTP connect", "remote", c.RemoteAddr().String(), "local", c.LocalAddr().String(), "implicit_tls", control)
	return cl, nil
}

// banned reports whether the Guard bans ip, and until when.
func (s *Server) banned(ip netip.Addr) (until time.Time, banned bool) {
	if s.cfg.Guard == nil {
		return time.Time{}, false
	}
	return s.cfg.Guard.Banned(ip)
}

// StatusChanged implements ftp.StatusWatcher: the live session shows TLS
// and the client's name as soon as AUTH TLS, PROT or CLNT change them.
func (cl *client) StatusChanged() {
	cl.sess.SetTLS(cl.conn.TLS())
	cl.sess.SetClient(cl.conn.ClientName())
}

// Close implements ftp.Client; it is called once per connection.
func (cl *client) Close() {
	cl.cancel()
	cl.sess.Close()
	up, down := cl.sess.Totals()
	attrs := []any{"bytes_up", up, "bytes_down", down}
	if u := cl.user; u != nil {
		u.close()
		attrs = append(attrs, "user", u.login.User.Username)
	}
	if cl.sess.Kicked() {
		attrs = append(attrs, "kicked", true)
	}
	cl.log.Info("FTP disconnect", attrs...)
	cl.srv.mu.Lock()
	delete(cl.srv.clients, cl) // last: drained means released
	cl.srv.mu.Unlock()
}

// Login implements ftp.Client. It decides everything about the session
// once: account, root folder, owner of new files, quota, bandwidth,
// read-only, TLS, sessions at once, the end of access. Every refusal is
// logged with its reason; the client reads a reply that gives nothing
// away (see msgLoginIncorrect).
func (cl *client) Login(ctx context.Context, user, pass string) (ftp.Session, error) {
	started := time.Now()
	if err := cl.beforePassword(started); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cl.srv.authWait)
	defer cancel()
	login, err := cl.srv.auth.Authenticate(ctx, user, pass, cl.ip)
	if err != nil {
		return nil, cl.authFailed(user, err)
	}
	username := login.User.Username
	if err := cl.requireTLS(login); err != nil {
		return nil, err
	}
	if err := cl.sess.Login(username, login.Account.Name, login.Versions, login.MaxSessions); err != nil {
		cl.log.Warn("FTP login refused", "user", username, "reason", err.Error())
		return nil, &ftp.Error{Code: 530, Message: capitalize(err.Error()) + "."}
	}
	u, err := cl.srv.openUser(login)
	if err != nil {
		cl.log.Error("FTP login failed: cannot open the user's folder", "user", username, "dir", login.Directory, "err", err)
		return nil, &ftp.Error{Code: 530, Message: msgNoFolder}
	}
	cl.user = u
	cl.endAtExpiry(u)
	control, _ := cl.conn.TLS()
	cl.log.Info("FTP login", "user", username, "account", login.Account.Name,
		"client", cl.conn.ClientName(), "tls", control)
	return &session{cl: cl, u: u, fs: u.fs}, nil
}

// beforePassword refuses, before any password is hashed, a log-in from
// an IP banned since it connected or over LoginsPerIPPerMinute.
func (cl *client) beforePassword(now time.Time) error {
	if until, banned := cl.srv.banned(cl.addr); banned {
		cl.log.Info("FTP login refused: IP banned")
		return &ftp.Error{Code: 421, Message: banMessage(until)}
	}
	if !cl.srv.logins.allow(cl.addr, now) {
		cl.log.Warn("FTP login refused: too many log-ins from this IP", "limit", cl.srv.cfg.LoginsPerIPPerMinute)
		return &ftp.Error{Code: 421, Message: fmt.Sprintf(msgTooManyLogins, cl.srv.cfg.LoginsPerIPPerMinute)}
	}
	return nil
}

// authFailed logs a refused password check in one stable line, for
// fail2ban: msg="FTP login failed" ip=... user=... reason=...; reports it
// to the Guard when it is the client's fault; and returns the reply.
func (cl *client) authFailed(user string, err error) error {
	var reason string
	switch {
	case errors.Is(err, domain.ErrBadCredentials):
		reason = "unknown user or wrong password"
	case errors.Is(err, domain.ErrUserDisabled):
		reason = "user disabled"
	case errors.Is(err, domain.ErrAccountOff):
		reason = "account disabled"
	case errors.Is(err, domain.ErrIPNotAllowed):
		// The user's IP lists refuse this address: no guess was
		// checked, so no failure for the Guard; the service wrote the
		// line for fail2ban.
		return &ftp.Error{Code: 530, Message: msgLoginIncorrect}
	case errors.Is(err, domain.ErrExpired):
		// Said only after the right password (see domain.ExpiredError);
		// the service logged it.
		return &ftp.Error{Code: 530, Message: capitalize(err.Error()) + "."}
	case errors.Is(err, domain.ErrHomeRefused):
		cl.log.Error("FTP login refused: the account's home breaks the home rules", "user", user, "err", err)
		return &ftp.Error{Code: 530, Message: msgNoFolder}
	case errors.Is(err, domain.ErrBusy), errors.Is(err, context.DeadlineExceeded):
		// Not the client's fault: not a failed log-in for fail2ban.
		cl.log.Warn("FTP login postponed: server busy", "user", user, "err", err)
		return &ftp.Error{Code: 421, Message: msgBusy}
	default:
		// The store failing, say: not the client's fault either, and
		// the same for every username, so a 421 tells nothing.
		cl.log.Error("FTP login error", "user", user, "err", err)
		return &ftp.Error{Code: 421, Message: msgUnavailable}
	}
	cl.srv.log.Warn("FTP login failed", "ip", cl.ip, "user", user, "reason", reason, "session", cl.sess.ID())
	cl.reportFailure(user, reason)
	// The engine closes the connection after a refused log-in, so a ban
	// needs no more here: the next connection is refused at connect.
	return &ftp.Error{Code: 530, Message: msgLoginIncorrect}
}

// reportFailure tells the Guard about a failed log-in.
func (cl *client) reportFailure(user, reason string) {
	g := cl.srv.cfg.Guard
	if g == nil {
		return
	}
	ctx, cancel := context.WithTimeout(cl.srv.ctx, failureTimeout)
	defer cancel()
	banned, err := g.Failure(ctx, cl.addr, "FTP "+user+": "+reason)
	if err != nil {
		cl.log.Error("recording a failed FTP log-in", "err", err)
	}
	if banned {
		cl.log.Info("FTP client IP banned after failed log-ins")
	}
}

// userState is what a log-in decided, fixed for the whole session.
type userState struct {
	login  domain.Login
	jail   *sharedJail
	fs     *jail.Fs // jail.fs
	groups []int    // the account's groups the session acts with
	quota  *quota   // nil: no quota and no file limit
	rates  *userRates
	// expiry ends the session when the user's access ends (nil: never);
	// expiryMu guards it against the timer re-arming itself, closed
	// keeps a closed session from re-arming it.
	expiryMu sync.Mutex
	expiry   *time.Timer
	closed   bool
	srv      *Server
}

// openUser opens the user's jail and quota.
func (s *Server) openUser(login domain.Login) (*userState, error) {
	opts := jail.Options{UID: domain.NoID, GID: domain.NoID, Umask: *s.cfg.Umask}
	if *s.cfg.ChownToAccount {
		opts.UID, opts.GID = login.Account.UID, login.Account.GID
		if opts.UID >= 0 && opts.GID >= 0 {
			opts.Groups = jail.Groups(opts.UID, opts.GID)
		}
	}
	sub := strings.TrimPrefix(login.User.Path, "/")
	if sub == "" {
		sub = "."
	}
	fresh, err := jail.New(login.Account.Home, sub, opts)
	if err != nil {
		return nil, err
	}
	shared := s.jails.share(jailKey(login.Account.Home, sub, opts.UID, opts.GID), fresh)
	u := &userState{login: login, jail: shared, fs: shared.fs, srv: s}
	if shared.fs.ActsAsAccount() {
		u.groups = opts.Groups
	}
	u.rates = s.rates.acquire(login.User.Username, login.UploadRate, login.DownloadRate)
	if login.QuotaBytes > 0 || login.MaxFiles > 0 {
		if u.quota, err = s.quotas.acquire(s.ctx, login, shared.fs); err != nil {
			s.rates.release(u.rates)
			s.jails.release(shared)
			return nil, fmt.Errorf("opening the quota: %w", err)
		}
	}
	return u, nil
}

func (u *userState) close() {
	u.expiryMu.Lock()
	u.closed = true
	if u.expiry != nil {
		u.expiry.Stop()
	}
	u.expiryMu.Unlock()
	u.srv.rates.release(u.rates)
	if u.quota != nil {
		u.srv.quotas.release(u.quota)
	}
	u.srv.jails.release(u.jail)
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
