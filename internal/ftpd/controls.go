package ftpd

import (
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

// endAtExpiry ends the session when the user's access ends, as a kick
// does; the timer is stopped when the session closes.
func (cl *client) endAtExpiry(u *userState) {
	end := u.login.ExpiresAt
	if end.IsZero() {
		return
	}
	u.expiry = time.AfterFunc(end.Sub(cl.srv.now()), func() {
		cl.log.Info("FTP session ended: the user's access expired", "user", u.login.User.Username,
			"expired_at", end.UTC().Format(time.RFC3339))
		cl.sess.Kick()
	})
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
