package ftp

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Limits and defaults of the engine.
const (
	// MaxCommandLine is the longest command line accepted, CRLF included.
	// A longer one reads "500 Command line too long" and the connection
	// is closed; nothing longer is ever held in memory.
	MaxCommandLine = 4096
	// MaxPathLength is the longest path a command may name once made
	// absolute (Linux's PATH_MAX): 553 for uploads and renames, 550
	// otherwise.
	MaxPathLength = 4096

	DefaultIdleTimeout  = 5 * time.Minute
	DefaultLoginTimeout = 30 * time.Second
	DefaultDataTimeout  = 30 * time.Second
	DefaultGreeting     = "FTP server ready."
)

// ErrServerClosed is returned by Serve and ServeTLS after Shutdown or
// Close.
var ErrServerClosed = errors.New("ftp: server closed")

// Server is an FTP server. Set its fields before the first Serve; the
// zero value of each is its documented default. One Server may serve
// several listeners (plain FTP with Serve, implicit FTPS with ServeTLS).
type Server struct {
	// Backend decides connections and log-ins; it must be set.
	Backend Backend
	// TLSConfig serves AUTH TLS, implicit FTPS and TLS on data
	// connections; nil turns TLS off. Its GetCertificate (if any) sees
	// the name given with HOST as ServerName when the client sent no SNI.
	TLSConfig *tls.Config
	// RequireTLS is asked once per connection, at connect: when it
	// returns true, USER and PASS are refused with 530 until AUTH TLS,
	// and transfers with 521 until PROT P. nil: TLS is optional.
	RequireTLS func() bool
	// TLSSessionReuse refuses (522) a TLS data connection that does not
	// resume the TLS session of its own control connection, so that a
	// data connection cannot be taken over by anyone who lacks that
	// session, even from the same address (vsftpd's require_ssl_reuse).
	TLSSessionReuse bool
	// PublicIP returns the IPv4 address PASV announces; nil, or an
	// invalid address, announces the address the client connected to.
	// It is asked at every PASV, so it may change while the server runs.
	PublicIP func() netip.Addr
	// PassivePorts is the range passive data connections listen on; the
	// zero value lets the system choose any free port.
	PassivePorts PortRange
	// IdleTimeout closes a connection that sends no command for that long
	// (default 5m). A running transfer is not idle, but one on which
	// nothing moves for that long is ended with 426.
	IdleTimeout time.Duration
	// LoginTimeout closes a connection not logged in that long after it
	// connected, however many other commands it sends (default 30s).
	LoginTimeout time.Duration
	// DataTimeout bounds opening a data connection: a passive port the
	// client never connects to, an active one that does not answer, a TLS
	// handshake that does not end (default 30s).
	DataTimeout time.Duration
	// Greeting returns the text of the 220 reply to each new connection;
	// nil, or "", means DefaultGreeting.
	Greeting func() string
	// Logger receives the engine's own messages: panics, refused data
	// connections, errors a backend left unclassified. nil: slog.Default.
	Logger *slog.Logger

	// watchAfter replaces watchDelay (tests make it long, so that even a
	// slow machine sends a small transfer's replies in one write).
	watchAfter time.Duration

	shutdown atomic.Bool
	ports    portPool
	portsSet sync.Once
	ctxOnce  sync.Once
	ctx      context.Context // ends at Close
	cancel   context.CancelFunc

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*Conn]struct{}
}

// PortRange is an inclusive range of TCP ports; the zero value means any.
type PortRange struct {
	Start, End int
}

// IsZero reports whether r is the zero range (any free port).
func (r PortRange) IsZero() bool { return r == PortRange{} }

// Serve accepts plain FTP connections on l until Shutdown or Close, then
// returns ErrServerClosed; any other error is l's.
func (s *Server) Serve(l net.Listener) error { return s.serve(l, false) }

// ServeTLS accepts implicit FTPS connections on l (RFC 4217 section 4
// calls them "implicit": TLS from the first byte, usually on port 990).
func (s *Server) ServeTLS(l net.Listener) error {
	if s.TLSConfig == nil {
		return errors.New("ftp: ServeTLS needs a TLSConfig")
	}
	return s.serve(l, true)
}

func (s *Server) serve(l net.Listener, implicit bool) error {
	if s.Backend == nil {
		return errors.New("ftp: Server.Backend is nil")
	}
	if !s.track(l) {
		l.Close()
		return ErrServerClosed
	}
	defer s.untrack(l)
	var delay time.Duration // after a temporary accept error, as net/http does
	for {
		raw, err := l.Accept()
		if err != nil {
			if s.shutdown.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.logger().Warn("FTP accept failed; retrying", "err", err, "in", delay)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		c := newConn(s, raw, implicit)
		if !s.addConn(c) {
			raw.Close()
			return ErrServerClosed
		}
		go c.serve()
	}
}

// Shutdown stops accepting connections and closes idle ones (after a
// "421 Server shutting down." reply) as soon as they wait for a command,
// letting running transfers finish. It returns nil once every connection
// has ended, or ctx.Err() when ctx ends first, having closed the rest.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdown.Store(true)
	s.closeListeners()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if s.wakeIdle() == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			s.closeConns()
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Close closes the listeners and every connection at once, data
// connections included. It does not wait for their goroutines.
func (s *Server) Close() error {
	s.shutdown.Store(true)
	s.context()
	s.cancel()
	s.closeListeners()
	s.closeConns()
	return nil
}

func (s *Server) track(l net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown.Load() {
		return false
	}
	if s.listeners == nil {
		s.listeners = map[net.Listener]struct{}{}
	}
	s.listeners[l] = struct{}{}
	return true
}

func (s *Server) untrack(l net.Listener) {
	s.mu.Lock()
	delete(s.listeners, l)
	s.mu.Unlock()
}

func (s *Server) closeListeners() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for l := range s.listeners {
		l.Close()
	}
}

func (s *Server) addConn(c *Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown.Load() {
		return false
	}
	if s.conns == nil {
		s.conns = map[*Conn]struct{}{}
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) removeConn(c *Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// wakeIdle interrupts the connections waiting for a command, so that
// they see the shutdown, and returns how many connections remain.
func (s *Server) wakeIdle() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.wake()
	}
	return len(s.conns)
}

func (s *Server) closeConns() {
	s.mu.Lock()
	list := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		list = append(list, c)
	}
	s.mu.Unlock()
	for _, c := range list {
		c.Close()
	}
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Server) idleTimeout() time.Duration  { return orDefault(s.IdleTimeout, DefaultIdleTimeout) }
func (s *Server) loginTimeout() time.Duration { return orDefault(s.LoginTimeout, DefaultLoginTimeout) }
func (s *Server) dataTimeout() time.Duration  { return orDefault(s.DataTimeout, DefaultDataTimeout) }

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func (s *Server) greeting() string {
	if s.Greeting != nil {
		if g := s.Greeting(); g != "" {
			return g
		}
	}
	return DefaultGreeting
}

// PassivePortsInUse is how many passive ports wait for a data connection
// now (PASV or EPSV answered, the client not yet connected).
func (s *Server) PassivePortsInUse() int { return s.portPool().held() }

// portPool returns the pool of passive ports, set up at first use.
func (s *Server) portPool() *portPool {
	s.portsSet.Do(func() { s.ports.init(s.PassivePorts) })
	return &s.ports
}
