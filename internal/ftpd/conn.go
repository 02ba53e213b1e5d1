package ftpd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	ftpserver "github.com/fclairamb/ftpserverlib"

	"github.com/panelftp/panelftp/internal/sessions"
)

const (
	// refuseTimeout bounds writing the 421 reply to a refused connection.
	refuseTimeout = 5 * time.Second
	// maxRefusing bounds the refused connections being answered at once;
	// past it, a flood is closed without a reply.
	maxRefusing = 64
)

// listener admits connections through the session registry before the
// engine sees them: a connection over a limit gets a 421 reply and is
// closed here. For the implicit FTPS port it also starts TLS.
type listener struct {
	net.Listener
	srv      *Server
	implicit bool
}

// connKey identifies a TCP connection by its two ends.
type connKey struct{ local, remote string }

func keyOf(local, remote net.Addr) connKey { return connKey{local.String(), remote.String()} }

// Accept returns the next admitted connection. A banned IP is answered
// and closed here, before the registry, the engine or a password hash
// spend anything on it.
func (l *listener) Accept() (net.Conn, error) {
	for {
		raw, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if reply, banned := l.srv.banned(raw.RemoteAddr()); banned {
			l.srv.refuse(raw, reply, "banned", l.implicit, slog.LevelDebug)
			continue
		}
		ctrl, err := l.srv.admit(raw, l.implicit)
		if err != nil {
			reply := capitalize(err.Error()) + "; try again later."
			l.srv.refuse(raw, reply, err.Error(), l.implicit, slog.LevelWarn)
			continue
		}
		return ctrl, nil
	}
}

// banned reports whether the Guard bans addr, with the reply to send.
func (s *Server) banned(addr net.Addr) (reply string, banned bool) {
	if s.cfg.Guard == nil {
		return "", false
	}
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return "", false
	}
	until, banned := s.cfg.Guard.Banned(ap.Addr().Unmap())
	if !banned {
		return "", false
	}
	return banMessage(until), true
}

// client is the state of one control connection, from accept to close.
type client struct {
	srv   *Server
	raw   net.Conn  // the TCP control connection, under TLS if any
	ctrl  *ctrlConn // what the engine reads and writes
	sess  *sessions.Session
	ip    string
	addr  netip.Addr
	log   *slog.Logger
	timer *time.Timer // log-in timeout

	mu         sync.Mutex
	cc         ftpserver.ClientContext
	data       io.Closer // data connection of the running transfer
	user       *userState
	refusal    string    // reply text for the failed log-in
	tlsConn    *tls.Conn // the explicit TLS control connection, once known
	tlsControl bool
}

// admit registers raw with the registry, refusing it over a limit, and
// returns the connection the engine is to use.
func (s *Server) admit(raw net.Conn, implicit bool) (*ctrlConn, error) {
	remote, err := netip.ParseAddrPort(raw.RemoteAddr().String())
	if err != nil {
		return nil, fmt.Errorf("unexpected client address %s: %w", raw.RemoteAddr(), err)
	}
	c := &client{srv: s, raw: raw, addr: remote.Addr().Unmap(), tlsControl: implicit}
	c.ip = c.addr.String()
	c.sess, err = s.reg.Open(remote, c.kick)
	if err != nil {
		return nil, err
	}
	c.log = s.log.With("session", c.sess.ID(), "ip", c.ip)
	inner := raw
	if implicit {
		inner = tls.Server(raw, s.tls)
	}
	c.ctrl = newCtrlConn(inner, c, time.Now().Add(s.cfg.LoginTimeout))
	s.mu.Lock()
	stopping := s.stopping
	if !stopping {
		s.pending[keyOf(raw.LocalAddr(), raw.RemoteAddr())] = c
	}
	s.mu.Unlock()
	if stopping {
		c.sess.Close()
		return nil, errors.New("server shutting down")
	}
	// Until the engine sets its idle deadline, bound the TLS handshake
	// and the greeting, so a silent client cannot hold the slot.
	_ = c.ctrl.SetDeadline(time.Now().Add(s.cfg.IdleTimeout))
	c.timer = time.AfterFunc(s.cfg.LoginTimeout, c.loginExpired)
	return c.ctrl, nil
}

// refuse tells a connection why it was not admitted, and closes it. At
// most maxRefusing connections are answered at once; past that, a flood
// is closed without a reply.
func (s *Server) refuse(raw net.Conn, reply, reason string, implicit bool, level slog.Level) {
	select {
	case s.refusing <- struct{}{}:
	default:
		raw.Close()
		return
	}
	go func() {
		defer func() { <-s.refusing }()
		defer raw.Close()
		ip, _, _ := net.SplitHostPort(raw.RemoteAddr().String())
		s.log.Log(context.Background(), level, "FTP connection refused", "ip", ip, "reason", reason)
		_ = raw.SetDeadline(time.Now().Add(refuseTimeout))
		conn := raw
		if implicit {
			conn = tls.Server(raw, s.tls)
		}
		fmt.Fprintf(conn, "421 %s\r\n", reply)
	}()
}

// connected moves the engine's new connection from pending to clients.
func (s *Server) connected(cc ftpserver.ClientContext) (*client, error) {
	key := keyOf(cc.LocalAddr(), cc.RemoteAddr())
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.pending[key]
	if c == nil {
		return nil, errors.New("connection was not admitted")
	}
	delete(s.pending, key)
	c.mu.Lock()
	c.cc = cc
	c.mu.Unlock()
	s.clients[c] = struct{}{}
	return c, nil
}

// disconnected forgets c.
func (s *Server) disconnected(c *client) {
	s.mu.Lock()
	delete(s.clients, c)
	s.mu.Unlock()
}

// kick ends the connection: closing the TCP control connection makes the
// engine end the session and close its data connection; the running
// transfer's data connection is closed directly too, so a transfer
// blocked in the kernel stops at once.
func (c *client) kick() {
	c.mu.Lock()
	data := c.data
	c.mu.Unlock()
	if c.timer != nil {
		c.timer.Stop()
	}
	if data != nil {
		_ = data.Close()
	}
	_ = c.raw.Close()
}

// setData records the data connection of the running transfer (nil when
// it ends); a kick closes it.
func (c *client) setData(d io.Closer) {
	c.mu.Lock()
	c.data = d
	c.mu.Unlock()
	if d != nil && c.sess.Kicked() {
		_ = d.Close()
	}
}

func (c *client) loggedIn() *userState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.user
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
