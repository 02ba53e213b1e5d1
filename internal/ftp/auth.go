package ftp

import (
	"context"
	"crypto/tls"
	"errors"
	"net/netip"
	"strings"
	"time"
)

const msgTLSRequired = "TLS is required: use AUTH TLS, then log in."

func (c *Conn) cmdUSER(arg string) {
	switch {
	case c.loggedIn.Load():
		c.out.reply(503, "Already logged in; open a new connection to log in as someone else.")
	case c.requireTLS && !c.tlsControl.Load():
		c.out.reply(530, msgTLSRequired)
	default:
		c.user = arg
		c.out.reply(331, "Password required for "+printable(arg, 64)+".")
	}
}

func (c *Conn) cmdPASS(arg string) {
	switch {
	case c.loggedIn.Load():
		c.out.reply(503, "Already logged in.")
		return
	case c.requireTLS && !c.tlsControl.Load():
		c.out.reply(530, msgTLSRequired)
		return
	case c.user == "":
		c.out.reply(503, "Send USER first.")
		return
	}
	sess, err := c.client.Login(c.srv.context(), c.user, arg)
	if errors.Is(err, ErrTLSRequired) {
		c.user = ""
		c.out.reply(530, msgTLSRequired)
		return
	}
	if err != nil {
		code, msg := 530, "Login incorrect."
		var e *Error
		if errors.As(err, &e) {
			code, msg = e.Code, e.Message
		}
		c.out.reply(code, msg)
		c.done = true // a new guess costs a new connection
		return
	}
	c.sess = sess
	if ro, ok := sess.(ReadOnlySession); ok {
		if c.readOnly = ro.ReadOnly(); c.readOnly != nil {
			c.facts |= factReadOnly
		}
	}
	c.loggedIn.Store(true)
	c.out.reply(230, "Login successful.")
}

// cmdAUTH upgrades the control connection to TLS (RFC 4217 section 4).
func (c *Conn) cmdAUTH(arg string) {
	mech := strings.ToUpper(strings.TrimSpace(arg))
	switch {
	case c.srv.TLSConfig == nil:
		c.out.reply(502, "TLS is not available on this server.")
		return
	case c.tlsControl.Load():
		c.out.reply(503, "The connection already uses TLS.")
		return
	case mech != "TLS" && mech != "TLS-C" && mech != "SSL" && mech != "TLS-P":
		c.out.reply(504, "Only AUTH TLS is supported.")
		return
	}
	c.out.reply(234, "AUTH "+mech+" successful: start the TLS handshake.")
	if err := c.out.flush(); err != nil {
		c.done = true
		return
	}
	// Commands sent after AUTH TLS in the same packet were written before
	// the handshake, by anyone on the path: none of them may run as if
	// they came through TLS.
	if n := c.in.discard(); n > 0 {
		c.log.Warn("FTP: dropped plain-text bytes sent after AUTH TLS", "bytes", n)
	}
	tc := tls.Server(c.raw, c.controlTLS())
	_ = tc.SetDeadline(c.handshakeDeadline())
	if err := tc.HandshakeContext(c.srv.context()); err != nil {
		c.log.Debug("FTP TLS handshake failed", "err", err)
		c.done = true
		return
	}
	_ = tc.SetWriteDeadline(time.Time{})
	c.ctrl, c.in.conn = tc, tc
	_ = c.out.setConn(tc)
	c.tlsControl.Store(true)
	c.user = "" // RFC 4217 section 4: log in again, through TLS
	if mech == "SSL" || mech == "TLS-P" {
		c.protP.Store(true) // the old drafts protected data with these names
	}
	c.statusChanged()
}

// startImplicitTLS runs the handshake of an implicit FTPS connection.
func (c *Conn) startImplicitTLS() bool {
	tc := tls.Server(c.raw, c.controlTLS())
	_ = tc.SetDeadline(c.handshakeDeadline())
	if err := tc.HandshakeContext(c.srv.context()); err != nil {
		c.log.Debug("FTP implicit TLS handshake failed", "err", err)
		return false
	}
	_ = tc.SetWriteDeadline(time.Time{})
	c.ctrl, c.in.conn = tc, tc
	c.out.conn = tc
	return true
}

// handshakeDeadline bounds a control connection's TLS handshake: a
// client that stalls it cannot hold its slot past the log-in timeout.
func (c *Conn) handshakeDeadline() time.Time {
	by := time.Now().Add(c.srv.idleTimeout())
	if !c.loggedIn.Load() && c.loginBy.Before(by) {
		by = c.loginBy
	}
	return by
}

func (c *Conn) cmdPBSZ(arg string) {
	if !c.tlsControl.Load() {
		c.out.reply(503, "Use AUTH TLS first.")
		return
	}
	if strings.Trim(arg, "0123456789") != "" {
		c.out.reply(501, "Give a number: PBSZ 0.")
		return
	}
	c.out.reply(200, "PBSZ=0")
}

func (c *Conn) cmdPROT(arg string) {
	if !c.tlsControl.Load() {
		c.out.reply(503, "Use AUTH TLS first.")
		return
	}
	switch strings.ToUpper(strings.TrimSpace(arg)) {
	case "P":
		c.protP.Store(true)
		c.statusChanged()
		c.out.reply(200, "Data connections will use TLS.")
	case "C":
		c.protP.Store(false)
		c.statusChanged()
		if c.requireTLS {
			c.out.reply(200, "Data connections will be in clear text; this server refuses transfers until PROT P.")
			return
		}
		c.out.reply(200, "Data connections will be in clear text.")
	case "S", "E":
		c.out.reply(536, "Only PROT C and PROT P are supported with TLS.")
	default:
		c.out.reply(504, "Unknown protection level: use PROT P.")
	}
}

// cmdCCC: the control connection stays protected (RFC 4217 section 6).
func (c *Conn) cmdCCC(string) {
	if !c.tlsControl.Load() {
		c.out.reply(533, "The control connection is not protected.")
		return
	}
	c.out.reply(534, "The control connection must stay protected on this server.")
}

// cmdHOST records the virtual host the client wants (RFC 7151); it
// chooses the TLS certificate of an AUTH TLS that follows.
func (c *Conn) cmdHOST(arg string) {
	switch {
	case c.loggedIn.Load() || c.user != "":
		c.out.reply(503, "HOST must come before USER.")
		return
	case !validHost(arg):
		c.out.reply(501, "Give a host name or address: HOST ftp.example.com.")
		return
	}
	name := strings.ToLower(strings.TrimSuffix(strings.Trim(arg, "[]"), "."))
	c.mu.Lock()
	c.host = name
	c.mu.Unlock()
	c.tlsConf = nil
	c.out.reply(220, "Host accepted: "+name+".")
}

// validHost accepts a DNS name or an IP literal (IPv6 in brackets).
func validHost(s string) bool {
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		_, err := netip.ParseAddr(s[1 : len(s)-1])
		return err == nil
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			b := label[i]
			if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_') {
				return false
			}
		}
	}
	return true
}

// context is the server's context for backend calls: it ends at Close.
func (s *Server) context() context.Context {
	s.ctxOnce.Do(func() { s.ctx, s.cancel = context.WithCancel(context.Background()) })
	return s.ctx
}
