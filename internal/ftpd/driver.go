package ftpd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	ftpserver "github.com/fclairamb/ftpserverlib"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/jail"
	"github.com/panelftp/panelftp/internal/service"
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

// mainDriver connects the engine to the server: connection events and
// log-in. One exists per listener, because the engine reads its settings
// (plain or implicit TLS) from it.
type mainDriver struct {
	srv      *Server
	settings *ftpserver.Settings
}

var (
	_ ftpserver.MainDriver                         = (*mainDriver)(nil)
	_ ftpserver.MainDriverExtensionPostAuthMessage = (*mainDriver)(nil)
	_ ftpserver.MainDriverExtensionQuitMessage     = (*mainDriver)(nil)
	_ ftpserver.MainDriverExtensionTLSVerifier     = (*mainDriver)(nil)
	_ ftpserver.MainDriverExtensionPassiveWrapper  = (*mainDriver)(nil)
)

// GetSettings implements ftpserver.MainDriver.
func (d *mainDriver) GetSettings() (*ftpserver.Settings, error) { return d.settings, nil }

// GetTLSConfig implements ftpserver.MainDriver; it is the same object for
// every call, see newTLSConfig.
func (d *mainDriver) GetTLSConfig() (*tls.Config, error) { return d.srv.tls, nil }

// QuitMessage implements ftpserver.MainDriverExtensionQuitMessage.
func (d *mainDriver) QuitMessage() string { return "Goodbye." }

// ClientConnected implements ftpserver.MainDriver. The engine calls it
// outside its own panic recovery, so this one recovers itself.
func (d *mainDriver) ClientConnected(cc ftpserver.ClientContext) (msg string, err error) {
	defer d.srv.recoverPanic("ClientConnected", &err)
	c, err := d.srv.connected(cc)
	if err != nil {
		d.srv.log.Error("FTP connection not found", "remote", cc.RemoteAddr().String(), "err", err)
		return "Internal error.", err
	}
	cc.SetExtra(c)
	if d.srv.live.tlsRequired.Load() {
		if err := cc.SetTLSRequirement(ftpserver.MandatoryEncryption); err != nil {
			return "Internal error.", err
		}
	}
	c.sess.SetTLS(c.tlsControl, c.tlsControl)
	c.log.Info("FTP connect", "remote", cc.RemoteAddr().String(), "local", cc.LocalAddr().String(), "implicit_tls", c.tlsControl)
	return "panelftp ready.", nil
}

// VerifyConnection implements ftpserver.MainDriverExtensionTLSVerifier.
// The engine calls it at USER on a TLS control connection; it asks for
// no client certificate, and only learns the *tls.Conn, which replies of
// our own (see client.finalReply) must go through.
func (d *mainDriver) VerifyConnection(cc ftpserver.ClientContext, _ string, tc *tls.Conn) (ftpserver.ClientDriver, error) {
	if c, ok := cc.Extra().(*client); ok {
		c.setTLSConn(tc)
	}
	return nil, nil
}

// ClientDisconnected implements ftpserver.MainDriver; it is called for
// every connection ClientConnected saw, logged in or not.
func (d *mainDriver) ClientDisconnected(cc ftpserver.ClientContext) {
	defer d.srv.recoverPanic("ClientDisconnected", nil)
	c, ok := cc.Extra().(*client)
	if !ok {
		return
	}
	c.timer.Stop()
	c.sess.Close()
	d.srv.disconnected(c)
	up, down := c.sess.Totals()
	attrs := []any{"bytes_up", up, "bytes_down", down}
	if u := c.loggedIn(); u != nil {
		u.close()
		attrs = append(attrs, "user", u.login.User.Username)
	}
	if c.sess.Kicked() {
		attrs = append(attrs, "kicked", true)
	}
	c.log.Info("FTP disconnect", attrs...)
}

// AuthUser implements ftpserver.MainDriver. It decides everything about
// the session once: account, root folder, owner of new files, quota.
// Every refusal is logged with its reason; the client sees only the
// reply PostAuthMessage chooses.
func (d *mainDriver) AuthUser(cc ftpserver.ClientContext, user, pass string) (drv ftpserver.ClientDriver, err error) {
	defer d.srv.recoverPanic("AuthUser", &err)
	c, ok := cc.Extra().(*client)
	if !ok {
		return nil, errors.New("connection not registered")
	}
	if c.loggedIn() != nil {
		return nil, c.refuse("already logged in", msgLoginIncorrect)
	}
	c.sess.SetClient(cc.GetClientVersion())
	c.sess.SetTLS(cc.HasTLSForControl(), cc.HasTLSForTransfers())

	started := time.Now()
	if err := c.beforePassword(started); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(d.srv.ctx, d.srv.authWait)
	defer cancel()
	login, err := d.srv.auth.Authenticate(ctx, user, pass, c.ip)
	if err != nil {
		return nil, c.authFailed(user, err)
	}
	username := login.User.Username
	if err := c.sess.Login(username, login.Account.Name, started); err != nil {
		c.log.Warn("FTP login refused", "user", username, "reason", err.Error())
		return nil, c.refuse(err.Error(), capitalize(err.Error())+".")
	}
	u, err := d.srv.openUser(login)
	if err != nil {
		c.log.Error("FTP login failed: cannot open the user's folder", "user", username, "dir", login.Directory, "err", err)
		return nil, c.refuse(err.Error(), msgNoFolder)
	}
	c.mu.Lock()
	c.user = u
	c.mu.Unlock()
	c.timer.Stop()
	c.ctrl.loggedIn()
	c.log.Info("FTP login", "user", username, "account", login.Account.Name,
		"client", cc.GetClientVersion(), "tls", cc.HasTLSForControl())
	return &clientDriver{Fs: u.fs, c: c, u: u}, nil
}

// beforePassword refuses, before any password is hashed, a log-in from
// an IP banned since it connected or over LoginsPerIPPerMinute.
func (c *client) beforePassword(now time.Time) error {
	if reply, banned := c.srv.banned(c.raw.RemoteAddr()); banned {
		c.log.Info("FTP login refused: IP banned")
		return c.refuse421("IP banned", reply)
	}
	if !c.srv.logins.allow(c.addr, now) {
		c.log.Warn("FTP login refused: too many log-ins from this IP", "limit", c.srv.cfg.LoginsPerIPPerMinute)
		return c.refuse421("too many log-ins", fmt.Sprintf(msgTooManyLogins, c.srv.cfg.LoginsPerIPPerMinute))
	}
	return nil
}

// authFailed logs a refused password check in one stable line, for
// fail2ban: msg="FTP login failed" ip=... user=... reason=...; and
// reports it to the Guard when it is the client's fault.
func (c *client) authFailed(user string, err error) error {
	reason := err.Error()
	switch {
	case errors.Is(err, service.ErrBadCredentials):
		reason = "unknown user or wrong password"
	case errors.Is(err, service.ErrUserDisabled):
		reason = "user disabled"
	case errors.Is(err, service.ErrAccountOff):
		reason = "account disabled"
	case errors.Is(err, service.ErrBusy), errors.Is(err, context.DeadlineExceeded):
		// Not the client's fault: not a failed log-in for fail2ban.
		c.log.Warn("FTP login postponed: server busy", "user", user, "err", err)
		return c.refuse421("server busy", msgBusy)
	default:
		// The store failing, say: not the client's fault either, and
		// the same for every username, so a 421 tells nothing.
		c.log.Error("FTP login error", "user", user, "err", err)
		return c.refuse421("internal error", msgUnavailable)
	}
	c.srv.log.Warn("FTP login failed", "ip", c.ip, "user", user, "reason", reason, "session", c.sess.ID())
	c.reportFailure(user, reason)
	// The engine closes the connection after every refused PASS, so a
	// ban needs no more here: the next connection is refused at accept.
	return c.refuse(reason, msgLoginIncorrect)
}

// reportFailure tells the Guard about a failed log-in.
func (c *client) reportFailure(user, reason string) {
	g := c.srv.cfg.Guard
	if g == nil {
		return
	}
	ctx, cancel := context.WithTimeout(c.srv.ctx, failureTimeout)
	defer cancel()
	banned, err := g.Failure(ctx, c.addr, "FTP "+user+": "+reason)
	if err != nil {
		c.log.Error("recording a failed FTP log-in", "err", err)
	}
	if banned {
		c.log.Info("FTP client IP banned after failed log-ins")
	}
}

// refuse421 refuses the log-in with "421 reply" and ends the connection;
// when that reply cannot be written (see finalReply), with "530 reply".
func (c *client) refuse421(reason, reply string) error {
	if c.ctrl != nil && c.finalReply(421, reply) {
		return errors.New(reason) // the engine's 530 is dropped, then it disconnects
	}
	return c.refuse(reason, reply)
}

// refuse records the reply for PostAuthMessage and returns the error the
// engine needs to refuse the log-in.
func (c *client) refuse(reason, reply string) error {
	c.mu.Lock()
	c.refusal = reply
	c.mu.Unlock()
	return errors.New(reason)
}

// PostAuthMessage implements ftpserver.MainDriverExtensionPostAuthMessage:
// the text of the 230 or 530 reply.
func (d *mainDriver) PostAuthMessage(cc ftpserver.ClientContext, _ string, authErr error) string {
	if authErr == nil {
		return "Login successful."
	}
	if c, ok := cc.Extra().(*client); ok {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.refusal != "" {
			return c.refusal
		}
	}
	return msgLoginIncorrect
}

// userState is what a log-in decided, fixed for the whole session.
type userState struct {
	login service.Login
	fs    *jail.Fs
	quota *quota // nil: no quota
	limit int64  // quota in bytes
	srv   *Server
}

// openUser opens the user's jail and quota.
func (s *Server) openUser(login service.Login) (*userState, error) {
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
	fs, err := jail.New(login.Account.Home, sub, opts)
	if err != nil {
		return nil, err
	}
	u := &userState{login: login, fs: fs, srv: s}
	if mb := login.User.QuotaMB; mb > 0 {
		u.limit = mb << 20
		key := login.User.Username + "\x00" + login.Directory
		if u.quota, err = s.quotas.acquire(key, func() (int64, error) { return diskUsage(fs) }); err != nil {
			fs.Close()
			return nil, fmt.Errorf("measuring quota use: %w", err)
		}
	}
	return u, nil
}

func (u *userState) close() {
	if u.quota != nil {
		u.srv.quotas.release(u.quota)
	}
	_ = u.fs.Close()
}

// recoverPanic turns a panic in a driver callback the engine does not
// protect into a logged error, so one bad connection cannot stop the
// server. err, when not nil, receives an error for the engine.
func (s *Server) recoverPanic(where string, err *error) {
	r := recover()
	if r == nil {
		return
	}
	s.log.Error("panic in FTP connection", "where", where, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	if err != nil {
		*err = errors.New("internal error")
	}
}
