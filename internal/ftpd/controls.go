package ftpd

import (
	"context"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/ftp"
)

// errReadOnly refuses every command that writes in a read-only session.
var errReadOnly = &ftp.Error{Code: 550, Message: "Read-only account."}

// requireTLS applies the user's TLS requirement, on top of the server's:
// a log-in over a plain control connection is refused (the password was
// right, so saying why gives nothing away), and the session's transfers
// need PROT P.
func (cl *client) requireTLS(login domain.Login) error {
	if !login.TLSRequired {
		return nil
	}
	if control, _ := cl.conn.TLS(); !control {
		cl.log.Warn("FTP login refused: TLS required for this user", "user", login.User.Username)
		return ftp.ErrTLSRequired
	}
	cl.conn.RequireTLS()
	return nil
}

// ExpiryReader is implemented by an Authenticator that can tell when a
// user's access ends now (zero: never). With it, a session checks the
// expiry again when the one it logged in with comes, and goes on when the
// date was extended or removed meanwhile: extending ends no session, so
// it sends nodes no change. Without it, the session ends at the expiry of
// its log-in.
type ExpiryReader interface {
	FTPUserExpiry(ctx context.Context, username string) (time.Time, error)
}

// endAtExpiry ends the session when the user's access ends, as a kick
// does; the timer is stopped when the session closes.
func (cl *client) endAtExpiry(u *userState) { cl.armExpiry(u, u.login.ExpiresAt) }

func (cl *client) armExpiry(u *userState, end time.Time) {
	if end.IsZero() {
		return
	}
	u.expiryMu.Lock()
	defer u.expiryMu.Unlock()
	if u.closed {
		return
	}
	u.expiry = time.AfterFunc(end.Sub(cl.srv.now()), func() { cl.expire(u, end) })
}

// expire ends the session whose expiry, end, came, unless the user's
// access now ends after it (or never). When the store cannot tell, it
// ends. An earlier date needs no check here: setting it ended the
// session already (domain.SessionsMustEnd).
func (cl *client) expire(u *userState, end time.Time) {
	username := u.login.User.Username
	if r, ok := cl.srv.auth.(ExpiryReader); ok {
		ctx, cancel := context.WithTimeout(cl.srv.ctx, cl.srv.authWait)
		later, err := r.FTPUserExpiry(ctx, username)
		cancel()
		switch {
		case err != nil:
			cl.log.Warn("cannot read the user's expiry again; ending the session as due", "user", username, "err", err)
		case later.IsZero() || later.After(end):
			until := domain.Never
			if !later.IsZero() {
				until = later.UTC().Format(time.RFC3339)
			}
			cl.log.Info("FTP session goes on: the user's access was extended", "user", username,
				"was_expiring_at", end.UTC().Format(time.RFC3339), "expires_at", until)
			cl.armExpiry(u, later)
			return
		}
	}
	cl.log.Info("FTP session ended: the user's access expired", "user", username,
		"expired_at", end.UTC().Format(time.RFC3339))
	cl.sess.Kick()
}

// ReadOnly implements ftp.ReadOnlySession: the engine refuses every
// command that writes in a read-only user's session.
func (s *session) ReadOnly() error {
	if s.u.login.ReadOnly {
		return errReadOnly
	}
	return nil
}

// writable refuses a write in a read-only session. The engine already
// refuses the commands that write (ReadOnly); this keeps the file system
// itself read-only whatever calls it.
func (s *session) writable() error { return s.ReadOnly() }
