package ftpd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/ftp"
	"github.com/panelftp/panelftp/internal/sessions"
)

// Authenticator checks an FTP log-in.
// It is called once per log-in attempt, with the client's IP for the
// audit trail and the user's IP lists. It returns
// domain.ErrBadCredentials, ErrUserDisabled, ErrAccountOff,
// ErrIPNotAllowed, ErrExpired, ErrHomeRefused or ErrBusy for a refusal;
// any other error is a fault of the server, logged and answered 421.
type Authenticator interface {
	Authenticate(ctx context.Context, username, password, ip string) (domain.Login, error)
}

const (
	// authTimeout bounds one log-in, including the wait for a free
	// password-hashing slot; past it the service answers ErrBusy, so a
	// burst of log-ins gets "server busy" instead of queueing.
	authTimeout = 5 * time.Second
	// drainTimeout bounds the wait for connections to wind down after
	// they have been closed at the end of Shutdown or in Close.
	drainTimeout = 2 * time.Second
)

// Server is the FTP service: the protocol engine (package ftp) on one
// control listener and optionally an implicit FTPS one, with this
// package as its backend.
type Server struct {
	cfg    Config
	auth   Authenticator
	reg    *sessions.Registry
	log    *slog.Logger
	certs  *certStore
	quotas *quotaBook
	rates  *rateBook
	jails  *jailBook
	logins *loginRate
	// authWait is authTimeout; tests shorten it.
	authWait time.Duration
	// now is the clock of the users' expiry; tests move it.
	now  func() time.Time
	live liveSettings

	engine   *ftp.Server
	ln, tlLn net.Listener // tlLn: implicit FTPS, nil when off

	ctx    context.Context // ends at Close; bounds recording failures
	cancel context.CancelFunc

	mu      sync.Mutex
	clients map[*client]struct{}
}

var _ ftp.Backend = (*Server)(nil)

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
	certs, err := newCertStore(cfg, log)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	quotaStore := cfg.Quotas
	if quotaStore == nil {
		quotaStore = newMemQuotas()
	}
	s := &Server{
		cfg: cfg, auth: auth, reg: reg, log: log, certs: certs, rates: newRateBook(), jails: newJailBook(),
		quotas: newQuotaBook(quotaStore, cfg.Node, max(staleUploadAge, 2*cfg.IdleTimeout), log),
		logins: newLoginRate(cfg.LoginsPerIPPerMinute), authWait: authTimeout, now: time.Now,
		ctx: ctx, cancel: cancel, clients: map[*client]struct{}{},
	}
	if err := s.live.set(Live{PublicHost: cfg.PublicHost, TLSRequired: cfg.TLSRequired}); err != nil {
		cancel()
		return nil, err
	}
	s.engine = &ftp.Server{
		Backend:         s,
		TLSConfig:       certs.tlsConfig(),
		RequireTLS:      s.live.tlsRequired.Load,
		TLSSessionReuse: cfg.TLSDataReuse,
		PublicIP:        s.live.publicIP,
		PassivePorts:    cfg.PassivePorts,
		IdleTimeout:     cfg.IdleTimeout,
		LoginTimeout:    cfg.LoginTimeout,
		DataTimeout:     cfg.DataConnTimeout,
		Greeting:        s.live.greeting,
		Logger:          log,
	}
	if s.ln, err = bind(cfg.ListenAddr, false); err != nil {
		cancel()
		return nil, err
	}
	if cfg.ImplicitTLSAddr != "" {
		if s.tlLn, err = bind(cfg.ImplicitTLSAddr, true); err != nil {
			s.ln.Close()
			cancel()
			return nil, err
		}
	}
	return s, nil
}

func bind(addr string, implicit bool) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, listenError(addr, implicit, err)
	}
	return ln, nil
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

// Addr is the bound control address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// ImplicitTLSAddr is the bound implicit FTPS address, or nil when off.
func (s *Server) ImplicitTLSAddr() net.Addr {
	if s.tlLn == nil {
		return nil
	}
	return s.tlLn.Addr()
}

// PassivePorts reports how many passive ports wait for a data connection
// now, and how many the range has (0: any free port).
func (s *Server) PassivePorts() (inUse, rangeSize int) {
	if r := s.cfg.PassivePorts; !r.IsZero() {
		rangeSize = r.End - r.Start + 1
	}
	return s.engine.PassivePortsInUse(), rangeSize
}

// Serve accepts connections until Shutdown or Close, then returns nil.
// It returns an error only when a listener fails; the other one is then
// closed too.
func (s *Server) Serve() error {
	go s.quotas.run(s.ctx)
	serve := []func() error{func() error { return s.engine.Serve(s.ln) }}
	if s.tlLn != nil {
		serve = append(serve, func() error { return s.engine.ServeTLS(s.tlLn) })
	}
	errs := make(chan error, len(serve))
	for _, f := range serve {
		go func() { errs <- f() }()
	}
	var first error
	for range serve {
		if err := <-errs; err != nil && !errors.Is(err, ftp.ErrServerClosed) && first == nil {
			first = err
			s.ln.Close() // one listener failed: do not limp on with the other
			if s.tlLn != nil {
				s.tlLn.Close()
			}
		}
	}
	return first
}

// Shutdown stops accepting connections, closes the idle ones at once, lets
// running transfers finish for up to ShutdownGrace (or until ctx ends),
// then closes every connection. It returns ctx.Err() if ctx ended first.
func (s *Server) Shutdown(ctx context.Context) error {
	grace, cancel := context.WithTimeout(ctx, s.cfg.ShutdownGrace)
	defer cancel()
	err := s.engine.Shutdown(grace)
	if err != nil && ctx.Err() == nil {
		s.log.Warn("FTP shutdown grace over, closing running transfers")
		err = nil
	}
	s.cancel()
	s.waitDrained()
	if err != nil {
		return ctx.Err()
	}
	return nil
}

// Close closes the listeners and every connection at once.
func (s *Server) Close() error {
	s.engine.Close()
	s.cancel()
	s.waitDrained()
	return nil
}

// waitDrained waits a moment for the closed connections' goroutines to
// release their sessions.
func (s *Server) waitDrained() {
	deadline := time.Now().Add(drainTimeout)
	for !s.drained() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

// drained reports whether every connection has ended.
func (s *Server) drained() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients) == 0
}

// addrOf is the client's address and port, IPv4 unmapped.
func addrOf(a net.Addr) netip.AddrPort {
	if t, ok := a.(*net.TCPAddr); ok {
		ap := t.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// staleUploadAge is the age of the temporary file of an upload no one
// writes any more.
func (s *Server) staleUploadAge() time.Duration { return s.quotas.staleAge }
