package ftpd

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// loginGrace is how long after the log-in timeout the engine's own read
// deadline ends a connection whose 421 could not be written by
// loginExpired (see ctrlConn.SetDeadline).
const loginGrace = time.Second

// ctrlConn is the control connection as the engine sees it. It adds what
// the engine lacks:
//
//   - Command lines reach the engine through a line reader (lines.go):
//     lines longer than MaxCommandLine get "500 Command line too long"
//     and the connection is closed (the engine would close silently),
//     and the few commands the engine would answer at the same time as a
//     running transfer, racing on its reply buffer, are answered here.
//     Lines are seen on plain FTP and implicit FTPS (ctrlConn sits above
//     TLS there). After AUTH TLS the engine puts TLS above ctrlConn, so
//     lines cannot be seen any more: the engine's own limit then closes
//     a long line without a reply.
//   - Until the user has logged in, every read deadline the engine sets
//     is capped at the log-in deadline (plus loginGrace), so a client
//     that keeps sending NOOPs or junk is still disconnected on time.
//   - A final reply of ours (a 421, the 500 above) can be written
//     between two of the engine's writes, after which the engine's
//     writes are dropped: the client reads our reply last.
type ctrlConn struct {
	net.Conn // TCP, or TLS over TCP for implicit FTPS
	c        *client

	wmu    sync.Mutex
	sealed bool // guarded by wmu: a final reply was written

	tlsUp   atomic.Bool  // AUTH TLS started: the bytes here are TLS records
	loginBy atomic.Int64 // log-in deadline in Unix nanoseconds; 0 once logged in

	lines lineReader // used by the engine's command goroutine only
}

func newCtrlConn(conn net.Conn, c *client, loginBy time.Time) *ctrlConn {
	w := &ctrlConn{Conn: conn, c: c}
	w.loginBy.Store(loginBy.UnixNano())
	return w
}

func (w *ctrlConn) lineTooLong() error {
	w.c.log.Warn("FTP command line too long", "limit", MaxCommandLine)
	w.c.finalReply(500, fmt.Sprintf("Command line too long (limit %d bytes).", MaxCommandLine))
	// Read as a closed connection, the engine ends the session quietly.
	return fmt.Errorf("command line too long: %w", net.ErrClosed)
}

// Write implements net.Conn. It notices the reply to AUTH TLS, after
// which the engine speaks TLS over this connection.
func (w *ctrlConn) Write(p []byte) (int, error) {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if w.sealed {
		return len(p), nil
	}
	if !w.tlsUp.Load() && bytes.HasPrefix(p, []byte("234 ")) {
		w.tlsUp.Store(true)
	}
	return w.Conn.Write(p)
}

// writeFinal writes line as the last thing the client reads here, unless
// a final reply was written already.
func (w *ctrlConn) writeFinal(line string) {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if w.sealed {
		return
	}
	w.sealed = true
	_ = w.Conn.SetWriteDeadline(time.Now().Add(refuseTimeout))
	_, _ = w.Conn.Write([]byte(line))
}

// seal drops the engine's writes from now on.
func (w *ctrlConn) seal() {
	w.wmu.Lock()
	w.sealed = true
	w.wmu.Unlock()
}

// loggedIn lifts the log-in deadline.
func (w *ctrlConn) loggedIn() { w.loginBy.Store(0) }

// expired is loginBy once the log-in timeout has been answered: every
// read deadline is then in the past.
const expired = 1

// expire makes the engine's reads time out now, so that it ends the
// connection itself (its own 421 is dropped after ours).
func (w *ctrlConn) expire() {
	if by := w.loginBy.Load(); by != 0 && w.loginBy.CompareAndSwap(by, expired) {
		_ = w.Conn.SetReadDeadline(time.Unix(0, expired))
	}
}

// SetDeadline implements net.Conn, capping the read side (see ctrlConn).
func (w *ctrlConn) SetDeadline(t time.Time) error {
	if capped := w.capped(t); !capped.Equal(t) {
		if err := w.Conn.SetWriteDeadline(t); err != nil {
			return err
		}
		return w.Conn.SetReadDeadline(capped)
	}
	return w.Conn.SetDeadline(t)
}

// SetReadDeadline implements net.Conn, capped like SetDeadline.
func (w *ctrlConn) SetReadDeadline(t time.Time) error {
	return w.Conn.SetReadDeadline(w.capped(t))
}

func (w *ctrlConn) capped(t time.Time) time.Time {
	by := w.loginBy.Load()
	switch by {
	case 0:
		return t
	case expired:
		return time.Unix(0, expired)
	}
	limit := time.Unix(0, by).Add(loginGrace)
	if t.IsZero() || t.After(limit) {
		return limit
	}
	return t
}

// finalReply writes "code text" as the connection's last reply; the
// engine's later writes are dropped. It returns false when it cannot:
// on an explicit TLS connection whose *tls.Conn is not known yet (the
// client sent AUTH TLS but no USER).
func (c *client) finalReply(code int, text string) bool {
	line := fmt.Sprintf("%d %s\r\n", code, text)
	if !c.ctrl.tlsUp.Load() {
		c.ctrl.writeFinal(line)
		return true
	}
	c.mu.Lock()
	tc := c.tlsConn
	c.mu.Unlock()
	if tc == nil {
		return false
	}
	// Through TLS, whose records come back through ctrl.Write: seal
	// only afterwards.
	_ = tc.SetWriteDeadline(time.Now().Add(refuseTimeout))
	_, _ = tc.Write([]byte(line))
	c.ctrl.seal()
	return true
}

// setTLSConn records the explicit TLS control connection, so that
// finalReply can write through it.
func (c *client) setTLSConn(tc *tls.Conn) {
	c.mu.Lock()
	c.tlsConn = tc
	c.mu.Unlock()
}

// loginExpired ends a connection that has not logged in within
// LoginTimeout.
func (c *client) loginExpired() {
	if c.loggedIn() != nil || c.sess.Kicked() {
		return
	}
	secs := wholeSeconds(c.srv.cfg.LoginTimeout)
	c.log.Info("FTP log-in timeout", "seconds", secs)
	if c.finalReply(421, fmt.Sprintf("Log-in timeout: log in within %d seconds of connecting.", secs)) {
		c.ctrl.expire()
	}
	// Otherwise the capped read deadline ends it within loginGrace, with
	// the engine's own 421.
}
