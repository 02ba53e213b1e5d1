package ftpd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	ftpserver "github.com/fclairamb/ftpserverlib"

	"github.com/panelftp/panelftp/internal/service"
	"github.com/panelftp/panelftp/internal/sessions"
)

// Authenticator checks an FTP log-in; *service.Service implements it.
// It is called once per log-in attempt, with the client's IP for the
// audit trail. It returns service.ErrBadCredentials, ErrUserDisabled,
// ErrAccountOff or ErrBusy for a refusal; any other error is a fault of
// the server, logged and shown to the client as a refused log-in.
type Authenticator interface {
	Authenticate(ctx context.Context, username, password, ip string) (service.Login, error)
}

var _ Authenticator = (*service.Service)(nil)

const (
	// authTimeout bounds one log-in, including the wait for a free
	// password-hashing slot; past it the service answers ErrBusy, so a
	// burst of log-ins gets "server busy" instead of queueing.
	authTimeout = 5 * time.Second
	// drainTimeout bounds the wait for connections to wind down after
	// they have been closed at the end of Shutdown or in Close.
	drainTimeout = 2 * time.Second
)

// Server is the FTP service: one control listener, optionally an implicit
// FTPS listener, and every connection they accept.
type Server struct {
	cfg    Config
	auth   Authenticator
	reg    *sessions.Registry
	log    *slog.Logger
	tls    *tls.Config
	certs  *certLoader
	quotas *quotaBook
	logins *loginRate
	// passive picks passive ports; nil lets the engine ask the system.
	passive *passivePorts
	// authWait is authTimeout; tests shorten it.
	authWait time.Duration
	live     liveSettings

	ctx    context.Context // ends at Close; cancels log-ins in flight
	cancel context.CancelFunc

	engines  []*engine
	refusing chan struct{} // slots for answering refused connections

	mu       sync.Mutex
	pending  map[connKey]*client // accepted, not yet announced to the driver
	clients  map[*client]struct{}
	stopping bool
}

// engine is one ftpserverlib server over one of our listeners.
type engine struct {
	ftp *ftpserver.FtpServer
	ln  *listener
}

// New validates cfg, prepares TLS and binds the listeners, so that every
// configuration mistake (a privileged port, an unreadable certificate, a
// bad passive range) is reported here, before Serve.
func New(cfg Config, auth Authenticator, reg *sessions.Registry, log *slog.Logger) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("FTP configuration: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	tlsConf, certs, err := newTLSConfig(cfg, log)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg: cfg, auth: auth, reg: reg, log: log, tls: tlsConf, certs: certs, quotas: newQuotaBook(),
		logins: newLoginRate(cfg.LoginsPerIPPerMinute), authWait: authTimeout,
		ctx: ctx, cancel: cancel,
		pending: map[connKey]*client{}, clients: map[*client]struct{}{},
		refusing: make(chan struct{}, maxRefusing),
	}
	s.live.set(Live{PublicHost: cfg.PublicHost, TLSRequired: cfg.TLSRequired})
	if !cfg.PassivePorts.IsZero() {
		s.passive = newPassivePorts(cfg.PassivePorts) // shared by both engines
	}
	if err := s.addEngine(cfg.ListenAddr, false); err != nil {
		s.Close()
		return nil, err
	}
	if cfg.ImplicitTLSAddr != "" {
		if err := s.addEngine(cfg.ImplicitTLSAddr, true); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

func (s *Server) addEngine(addr string, implicit bool) error {
	tcp, err := net.Listen("tcp", addr)
	if err != nil {
		return listenError(addr, implicit, err)
	}
	ln := &listener{Listener: tcp, srv: s, implicit: implicit}
	d := &mainDriver{srv: s, settings: s.settings(ln, implicit)}
	ftp := ftpserver.NewFtpServer(d)
	ftp.Logger = s.log.With("component", "ftpserverlib")
	if err := ftp.Listen(); err != nil {
		tcp.Close()
		return fmt.Errorf("FTP service on %s: %w", addr, err)
	}
	s.engines = append(s.engines, &engine{ftp: ftp, ln: ln})
	return nil
}

func listenError(addr string, implicit bool, err error) error {
	what := "FTP"
	if implicit {
		what = "implicit FTPS"
	}
	msg := fmt.Sprintf("%s service cannot listen on %s: %v", what, addr, err)
	if errors.Is(err, syscall.EACCES) || errors.Is(err, os.ErrPermission) {
		msg += "; ports below 1024 need root or the CAP_NET_BIND_SERVICE capability (or choose a port of 1024 or more)"
	} else if errors.Is(err, syscall.EADDRINUSE) {
		msg += "; another program (another FTP server?) already uses this port"
	}
	return errors.New(msg)
}

// settings are the engine's settings for one listener.
func (s *Server) settings(ln *listener, implicit bool) *ftpserver.Settings {
	st := &ftpserver.Settings{
		Listener:   ln,
		ListenAddr: ln.Addr().String(),
		// The passive address and the TLS requirement are live settings:
		// the engine asks for them per client (publicIP, ClientConnected).
		PublicIPResolver: s.publicIP,
		Banner:           "panelftp",
		// A missing TYPE must not corrupt a binary file: most servers
		// assume image type in practice, and every client that wants
		// ASCII says so.
		DefaultTransferType:     ftpserver.TransferTypeBinary,
		IdleTimeout:             s.cfg.idleSeconds(),
		ConnectionTimeout:       wholeSeconds(s.cfg.DataConnTimeout),
		ActiveTransferPortNon20: true, // port 20 needs root; RFC 1579 prefers any
		DisableSite:             true, // no SITE CHMOD/CHOWN/SYMLINK
		ActiveConnectionsCheck:  ftpserver.IPMatchRequired,
		PasvConnectionsCheck:    ftpserver.IPMatchRequired,
	}
	if r := s.cfg.PassivePorts; !r.IsZero() {
		// Each passive data connection gets a port of its own for the time
		// of its transfer. ftpserverlib v0.32.3 can share a port between
		// clients (PassiveTransferPortMultiplexing), but closing one
		// client's reservation there drops another's from the same IP,
		// whose transfer then fails with 425 after the timeout; so the
		// range must be as large as the number of simultaneous transfers.
		st.PassiveTransferPortRange = s.passive
	}
	if implicit {
		st.TLSRequired = ftpserver.ImplicitEncryption
	}
	return st
}

// Addr is the bound control address.
func (s *Server) Addr() net.Addr { return s.engines[0].ln.Addr() }

// ImplicitTLSAddr is the bound implicit FTPS address, or nil when off.
func (s *Server) ImplicitTLSAddr() net.Addr {
	if len(s.engines) < 2 {
		return nil
	}
	return s.engines[1].ln.Addr()
}

// Serve accepts connections until Shutdown or Close, then returns nil.
// It returns an error only when a listener fails.
func (s *Server) Serve() error {
	errs := make(chan error, len(s.engines))
	for _, e := range s.engines {
		go func() { errs <- e.ftp.Serve() }()
	}
	var first error
	for range s.engines {
		if err := <-errs; err != nil && first == nil && !s.isStopping() {
			first = err
			s.stopAccepting() // one listener failed: do not limp on with the other
		}
	}
	return first
}

// Shutdown stops accepting connections, closes the idle ones at once, lets
// running transfers finish for up to ShutdownGrace (or until ctx ends),
// then closes every connection. It returns ctx.Err() if ctx ended first.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopAccepting()
	defer s.cancel()
	grace := time.NewTimer(s.cfg.ShutdownGrace)
	defer grace.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		busy := 0
		for _, c := range s.liveClients() {
			if c.sess.Busy() {
				busy++
			} else {
				c.sess.Kick()
			}
		}
		if busy == 0 && s.drained() {
			return nil
		}
		select {
		case <-ctx.Done():
			s.closeAll()
			return ctx.Err()
		case <-grace.C:
			if busy > 0 {
				s.log.Warn("FTP shutdown grace over, closing running transfers", "transfers", busy)
			}
			s.closeAll()
			return nil
		case <-tick.C:
		}
	}
}

// Close closes the listeners and every connection at once.
func (s *Server) Close() error {
	s.stopAccepting()
	s.cancel()
	s.closeAll()
	return nil
}

func (s *Server) isStopping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopping
}

func (s *Server) stopAccepting() {
	s.mu.Lock()
	already := s.stopping
	s.stopping = true
	s.mu.Unlock()
	if already {
		return
	}
	for _, e := range s.engines {
		// Stop closes our listener and the shared passive listeners; it
		// fails harmlessly when Serve already saw the listener close.
		if err := e.ftp.Stop(); err != nil && !errors.Is(err, ftpserver.ErrNotListening) && !strings.Contains(err.Error(), "closed") {
			s.log.Warn("closing FTP listener", "err", err)
		}
	}
}

// closeAll kicks every connection and waits a moment for them to end.
func (s *Server) closeAll() {
	deadline := time.Now().Add(drainTimeout)
	for {
		for _, c := range s.liveClients() {
			c.sess.Kick()
		}
		if s.drained() || time.Now().After(deadline) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *Server) liveClients() []*client {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := make([]*client, 0, len(s.clients)+len(s.pending))
	for c := range s.clients {
		list = append(list, c)
	}
	for _, c := range s.pending {
		list = append(list, c)
	}
	return list
}

// drained reports whether every connection has ended.
func (s *Server) drained() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients) == 0 && len(s.pending) == 0
}
