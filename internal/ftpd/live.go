package ftpd

import (
	"fmt"
	"net/netip"
	"strings"
	"sync/atomic"
)

// Live are the settings an administrator may change while the server runs.
// PublicHost applies to the next PASV of every connection, TLSRequired to
// connections made after the change; open sessions are not cut.
type Live struct {
	// PublicHost is the IPv4 address PASV announces; "" = the local
	// address the client connected to.
	PublicHost string
	// TLSRequired refuses log-in before AUTH TLS and data transfers
	// without PROT P, for connections made from now on.
	TLSRequired bool
	// Greeting is the text of the 220 reply to new connections; "" =
	// DefaultGreeting.
	Greeting string
}

// DefaultGreeting greets FTP clients unless Live.Greeting says otherwise.
const DefaultGreeting = "panelftp ready."

// liveSettings holds Live for lock-free reads on every connection and PASV.
type liveSettings struct {
	publicHost  atomic.Pointer[netip.Addr] // the zero Addr: none
	tlsRequired atomic.Bool
	greetWith   atomic.Pointer[string]
}

func (l *liveSettings) set(v Live) error {
	var ip netip.Addr
	if v.PublicHost != "" {
		a, err := netip.ParseAddr(v.PublicHost)
		if err != nil || !a.Unmap().Is4() {
			return fmt.Errorf("public host %q: give the IPv4 address clients reach this server at (PASV can only announce IPv4)", v.PublicHost)
		}
		ip = a.Unmap()
	}
	greeting := strings.TrimSpace(v.Greeting)
	if strings.ContainsAny(greeting, "\r\n") {
		return fmt.Errorf("greeting %q: write it on one line", v.Greeting)
	}
	if greeting == "" {
		greeting = DefaultGreeting
	}
	l.publicHost.Store(&ip)
	l.tlsRequired.Store(v.TLSRequired)
	l.greetWith.Store(&greeting)
	return nil
}

// greeting is the text of the 220 reply.
func (l *liveSettings) greeting() string { return *l.greetWith.Load() }

// publicIP is the address PASV announces; the zero Addr lets the engine
// announce the local address.
func (l *liveSettings) publicIP() netip.Addr { return *l.publicHost.Load() }

// SetLive applies new live settings. An invalid PublicHost is refused and
// nothing changes.
func (s *Server) SetLive(v Live) error { return s.live.set(v) }

// Live returns the live settings in force.
func (s *Server) Live() Live {
	host := ""
	if ip := s.live.publicIP(); ip.IsValid() {
		host = ip.String()
	}
	return Live{PublicHost: host, TLSRequired: s.live.tlsRequired.Load(), Greeting: s.live.greeting()}
}
