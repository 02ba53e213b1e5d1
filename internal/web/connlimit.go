package web

import (
	"net"
	"net/netip"
	"sync"

	"github.com/panelftp/panelftp/internal/domain"
)

// LimitListener caps the connections open at once from one client (an
// IPv4 address or an IPv6 /64, see domain.ClientKey) at perClient: one
// more is closed as soon as it is accepted, so a client holding many idle
// or slow connections cannot use up the panel's. Connections from the
// trusted reverse proxies are not counted: every client behind them
// shares their address. perClient <= 0 means no cap.
func LimitListener(ln net.Listener, perClient int, trusted []netip.Prefix) net.Listener {
	if perClient <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, max: perClient, trusted: trusted, open: map[netip.Prefix]int{}}
}

type limitListener struct {
	net.Listener
	max     int
	trusted []netip.Prefix

	mu   sync.Mutex
	open map[netip.Prefix]int
}

// Accept returns the next connection within its client's cap.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key, counted := l.key(c)
		if !counted {
			return c, nil
		}
		l.mu.Lock()
		over := l.open[key] >= l.max
		if !over {
			l.open[key]++
		}
		l.mu.Unlock()
		if over {
			c.Close()
			continue
		}
		return &limitConn{Conn: c, release: func() { l.release(key) }}, nil
	}
}

// key is the client key of c's remote address; counted is false for a
// trusted proxy or an address that is not IP.
func (l *limitListener) key(c net.Conn) (key netip.Prefix, counted bool) {
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil {
		return netip.Prefix{}, false
	}
	ip := ap.Addr().Unmap()
	for _, p := range l.trusted {
		if p.Contains(ip) {
			return netip.Prefix{}, false
		}
	}
	return domain.ClientKey(ip), true
}

func (l *limitListener) release(key netip.Prefix) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key]--; l.open[key] <= 0 {
		delete(l.open, key)
	}
}

// limitConn gives its slot back once, when closed.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
