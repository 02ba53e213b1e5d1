package ftpd

import (
	"fmt"
	"net"
	"sync/atomic"

	ftpserver "github.com/fclairamb/ftpserverlib"
)

// Live are the settings an administrator may change while the server runs.
// They apply to connections made (PublicHost: passive replies) after the
// change; open sessions are not cut.
type Live struct {
	// PublicHost is the IPv4 address PASV announces; "" = the local
	// address the client connected to.
	PublicHost string
	// TLSRequired refuses log-in before AUTH TLS and data transfers
	// without PROT P, for connections made from now on.
	TLSRequired bool
}

// liveSettings holds Live for lock-free reads on every connection and PASV.
type liveSettings struct {
	publicHost  atomic.Pointer[string]
	tlsRequired atomic.Bool
}

func (l *liveSettings) set(v Live) {
	host := v.PublicHost
	l.publicHost.Store(&host)
	l.tlsRequired.Store(v.TLSRequired)
}

// SetLive applies new live settings. An invalid PublicHost is refused and
// nothing changes.
func (s *Server) SetLive(v Live) error {
	if v.PublicHost != "" {
		if ip := net.ParseIP(v.PublicHost); ip == nil || ip.To4() == nil {
			return fmt.Errorf("public host %q: give the IPv4 address clients reach this server at (PASV can only announce IPv4)", v.PublicHost)
		}
	}
	s.live.set(v)
	return nil
}

// Live returns the live settings in force.
func (s *Server) Live() Live {
	return Live{PublicHost: *s.live.publicHost.Load(), TLSRequired: s.live.tlsRequired.Load()}
}

// publicIP answers the engine's question "which IPv4 address does PASV
// announce to this client?".
func (s *Server) publicIP(cc ftpserver.ClientContext) (string, error) {
	if h := *s.live.publicHost.Load(); h != "" {
		return h, nil
	}
	if a, ok := cc.LocalAddr().(*net.TCPAddr); ok {
		if ip4 := a.IP.To4(); ip4 != nil {
			return ip4.String(), nil
		}
	}
	return "", fmt.Errorf("the client reached %v, not an IPv4 address: set a public host for PASV (EPSV works without)", cc.LocalAddr())
}
