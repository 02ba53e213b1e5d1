package ftpd

import (
	"time"

	"github.com/panelftp/panelftp/internal/xferlog"
)

// Metrics counts what the FTP service does, for monitoring; the
// composition root adapts the Prometheus metrics to it. Its methods are
// called on the transfer path and must be cheap and safe for concurrent
// use.
type Metrics interface {
	// TransferDone counts one RETR, STOR or APPE that ended: complete
	// when every byte arrived, aborted otherwise (ABOR, a broken or
	// refused data connection, a full quota...).
	TransferDone(upload bool, bytes int64, took time.Duration, complete bool)
}

// report tells the metrics and the transfer log how a transfer ended.
func (t *transfer) report(failed, closeErr error) {
	cl := t.s.cl
	complete := failed == nil && closeErr == nil
	took := time.Since(t.start)
	if m := cl.srv.cfg.Metrics; m != nil {
		m.TransferDone(t.upload, t.moved, took, complete)
	}
	if cl.srv.cfg.TransferLog == nil {
		return
	}
	dir := xferlog.Download
	if t.upload {
		dir = xferlog.Upload
	}
	t.s.logTransfer(xferlog.Transfer{Duration: took, Bytes: t.moved, Path: t.name,
		ASCII: cl.conn.ASCII(), Direction: dir, Complete: complete})
}

// reportDelete writes the transfer log's line of a deleted file.
func (s *session) reportDelete(name string, size int64) {
	if s.cl.srv.cfg.TransferLog != nil {
		s.logTransfer(xferlog.Transfer{Bytes: size, Path: name, Direction: xferlog.Delete, Complete: true})
	}
}

// logTransfer completes x with who and from where, and logs it.
func (s *session) logTransfer(x xferlog.Transfer) {
	cl := s.cl
	x.RemoteIP, x.Session = cl.ip, cl.sess.ID()
	x.Username, x.Account = s.u.login.User.Username, s.u.login.Account.Name
	cl.srv.cfg.TransferLog.Log(x)
}
