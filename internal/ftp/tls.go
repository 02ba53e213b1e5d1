package ftp

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
)

// controlTLS returns the TLS configuration of this connection's control
// and data connections: the server's own, or a copy made once per
// connection that chooses the certificate by HOST and, with
// TLSSessionReuse, binds session tickets to this connection. The copy
// shares the server's ticket keys.
func (c *Conn) controlTLS() *tls.Config {
	if c.tlsConf != nil {
		return c.tlsConf
	}
	base, host := c.srv.TLSConfig, c.Host()
	if host == "" && !c.srv.TLSSessionReuse {
		return base
	}
	cfg := base.Clone()
	if get := base.GetCertificate; host != "" && get != nil {
		cfg.GetCertificate = func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			if hello.ServerName != "" {
				return get(hello)
			}
			named := *hello
			named.ServerName = host
			return get(&named)
		}
	}
	if c.srv.TLSSessionReuse {
		bindTickets(cfg)
	}
	c.tlsConf = cfg
	return cfg
}

// reuseTag marks the Extra entry of a session ticket that names the
// control connection it was issued to.
const reuseTag = "panelftp-ctrl:"

// bindTickets makes cfg put a token of its own in every session ticket
// it issues and resume only tickets that carry it: since cfg belongs to
// one control connection, a data connection can resume only that
// connection's TLS session.
func bindTickets(cfg *tls.Config) {
	token := make([]byte, len(reuseTag)+16)
	copy(token, reuseTag)
	_, _ = rand.Read(token[len(reuseTag):])
	cfg.WrapSession = func(cs tls.ConnectionState, ss *tls.SessionState) ([]byte, error) {
		ss.Extra = append(ss.Extra, token)
		return cfg.EncryptTicket(cs, ss)
	}
	cfg.UnwrapSession = func(identity []byte, cs tls.ConnectionState) (*tls.SessionState, error) {
		ss, err := cfg.DecryptTicket(identity, cs)
		if err != nil || ss == nil {
			return nil, err
		}
		for _, e := range ss.Extra {
			if bytes.Equal(e, token) {
				return ss, nil
			}
		}
		return nil, nil // another connection's ticket: no resumption
	}
}
