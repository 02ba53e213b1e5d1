package ftpd

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/panelftp/panelftp/internal/ftp"
	"github.com/panelftp/panelftp/internal/sessions"
	"github.com/panelftp/panelftp/internal/xferlog"
)

// Config is the FTP service's configuration. The zero value of each field
// is its documented default; New copies it and never changes the caller's.
//
// Connection limits are not here: they belong to the sessions.Registry,
// which is the one place that counts connections.
type Config struct {
	// ListenAddr is the control connection address (default ":21").
	ListenAddr string
	// ImplicitTLSAddr is the implicit FTPS address, e.g. ":990"; "" = off.
	ImplicitTLSAddr string
	// PassivePorts is the range passive data connections listen on; the
	// zero value lets the system pick any free port (fine on a machine
	// without a firewall, and in tests).
	PassivePorts PortRange
	// PublicHost is the IPv4 address PASV announces, needed behind NAT;
	// "" announces the local address the client connected to. EPSV, which
	// carries no address, is unaffected.
	PublicHost string
	// TLSCertFile and TLSKeyFile are a PEM certificate chain and key. Both
	// "" means a self-signed ECDSA P-256 certificate, generated once into
	// DataDir as tls-cert.pem and tls-key.pem (mode 0600) and reused; with
	// DataDir "" too, a new one is generated in memory at every start.
	// The files are re-read when they change, so a renewed certificate
	// takes effect without a restart.
	TLSCertFile, TLSKeyFile string
	// TLSCertDir holds one certificate per domain: NAME.crt with NAME.key,
	// or NAME.pem holding both. A client naming one of a certificate's
	// domains (SNI, or HOST before AUTH TLS) gets that certificate; any
	// other gets the default one. "" = the default certificate only.
	TLSCertDir string
	// TLSDataReuse refuses a TLS data connection that does not resume the
	// TLS session of its own control connection (vsftpd's
	// require_ssl_reuse).
	TLSDataReuse bool
	// DataDir holds the generated certificate.
	DataDir string
	// TLSRequired refuses log-in before AUTH TLS and data transfers
	// without PROT P.
	TLSRequired bool
	// IdleTimeout disconnects a control connection idle for that long
	// (default 5m). A running transfer is not idle, but one on which
	// nothing moves for that long is ended.
	IdleTimeout time.Duration
	// Umask is applied to the mode of files (0666) and folders (0777)
	// clients create. nil means 022.
	Umask *os.FileMode
	// ShutdownGrace is how long Shutdown lets running transfers finish
	// (default 30s).
	ShutdownGrace time.Duration
	// ChownToAccount makes sessions act as their account: when the
	// process is root and the account has a uid and gid, every
	// filesystem call runs with them (see jail), so what clients create
	// is the account's. nil means: when the process runs as root, since
	// only root may act as another uid.
	ChownToAccount *bool
	// Guard bans IPs that fail to log in too often; nil means no bans.
	// A banned IP is refused at connect with a 421 reply that says until
	// when, before any password is hashed or any session is opened.
	Guard Guard
	// LoginTimeout is how long a connection may take to log in (default
	// 30s). Past it the client reads "421 Log-in timeout" and is
	// disconnected, however many other commands it sends meanwhile.
	LoginTimeout time.Duration
	// LoginsPerIPPerMinute caps the log-in attempts (PASS) from one IP
	// address (an IPv6 /64) in any minute (default 30; negative: no cap).
	// One more reads "421 Too many log-ins" and is disconnected.
	LoginsPerIPPerMinute int
	// Quotas keeps the users' quota usage, shared by every node that uses
	// the same QuotaStore; nil keeps it in this process only.
	Quotas QuotaStore
	// Node names this server among the nodes sharing Quotas (default: a
	// new sessions.NodeID()).
	Node string
	// UploadMode is how STOR writes a file (default UploadAtomic).
	UploadMode UploadMode
	// DataConnTimeout bounds opening a data connection: a client that
	// asked for passive mode but never connects, or whose active-mode
	// port does not answer, gets a 425 reply, and a passive port is
	// released (default 30s).
	DataConnTimeout time.Duration
	// TransferLog receives one entry per RETR, STOR or APPE that ended,
	// complete or not, and per file deleted (DELE); nil: none.
	TransferLog xferlog.Logger
	// Metrics counts the transfers; nil: none.
	Metrics Metrics
}

// Defaults of Config.
const (
	DefaultListenAddr    = ":21"
	DefaultIdleTimeout   = 5 * time.Minute
	DefaultUmask         = os.FileMode(0o022)
	DefaultShutdownGrace = 30 * time.Second
	DefaultLoginTimeout  = 30 * time.Second
	DefaultLoginsPerIP   = 30
	DefaultDataTimeout   = 30 * time.Second
)

// Fixed limits of the protocol engine (see package ftp).
const (
	// MaxCommandLine is the longest command line accepted, CRLF included;
	// a longer one reads "500 Command line too long" and is disconnected.
	MaxCommandLine = ftp.MaxCommandLine
	// MaxPathLength is the longest path a command may name, once made
	// absolute (Linux's PATH_MAX).
	MaxPathLength = ftp.MaxPathLength
)

// Names of the generated self-signed certificate and key inside DataDir.
const (
	CertFileName = "tls-cert.pem"
	KeyFileName  = "tls-key.pem"
)

// PortRange is an inclusive range of TCP ports; the zero value means "any".
type PortRange = ftp.PortRange

// validateRange checks that r is zero or a sane range of unprivileged
// ports.
func validateRange(r PortRange) error {
	switch {
	case r.IsZero():
		return nil
	case r.Start < 1024 || r.End > 65535:
		return fmt.Errorf("passive port range %d-%d: use ports from 1024 to 65535", r.Start, r.End)
	case r.Start > r.End:
		return fmt.Errorf("passive port range %d-%d: the first port must not be greater than the last", r.Start, r.End)
	}
	return nil
}

// ParsePortRange parses "21000-21100" (or a single port "21000"); ""
// gives the zero range, meaning any free port.
func ParsePortRange(s string) (PortRange, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return PortRange{}, nil
	}
	lo, hi, isRange := strings.Cut(s, "-")
	start, err := parsePort(lo)
	if err != nil {
		return PortRange{}, fmt.Errorf("passive port range %q: %w; write it like 21000-21100", s, err)
	}
	end := start
	if isRange {
		if end, err = parsePort(hi); err != nil {
			return PortRange{}, fmt.Errorf("passive port range %q: %w; write it like 21000-21100", s, err)
		}
	}
	r := PortRange{Start: start, End: end}
	return r, validateRange(r)
}

func parsePort(s string) (int, error) {
	s = strings.TrimSpace(s)
	p, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a port number", s)
	}
	if p < 1 || p > 65535 {
		return 0, fmt.Errorf("port %d is outside 1-65535", p)
	}
	return p, nil
}

// withDefaults returns a validated copy of c with defaults filled in.
func (c Config) withDefaults() (Config, error) {
	if c.ListenAddr == "" {
		c.ListenAddr = DefaultListenAddr
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.ShutdownGrace == 0 {
		c.ShutdownGrace = DefaultShutdownGrace
	}
	if c.LoginTimeout == 0 {
		c.LoginTimeout = DefaultLoginTimeout
	}
	if c.LoginsPerIPPerMinute == 0 {
		c.LoginsPerIPPerMinute = DefaultLoginsPerIP
	}
	if c.DataConnTimeout == 0 {
		c.DataConnTimeout = DefaultDataTimeout
	}
	if c.Node == "" {
		c.Node = sessions.NodeID()
	}
	if c.UploadMode == "" {
		c.UploadMode = UploadAtomic
	}
	umask := DefaultUmask
	if c.Umask != nil {
		umask = *c.Umask
	}
	c.Umask = &umask
	chown := os.Geteuid() == 0
	if c.ChownToAccount != nil {
		chown = *c.ChownToAccount
	}
	c.ChownToAccount = &chown

	var errs []error
	if c.IdleTimeout < 0 || c.ShutdownGrace < 0 || c.LoginTimeout < 0 || c.DataConnTimeout < 0 {
		errs = append(errs, errors.New("idle, log-in and data connection timeouts and the shutdown grace must not be negative"))
	}
	if c.UploadMode != UploadAtomic && c.UploadMode != UploadDirect {
		errs = append(errs, fmt.Errorf("upload mode %q: use %s or %s", c.UploadMode, UploadAtomic, UploadDirect))
	}
	if umask&^0o777 != 0 {
		errs = append(errs, fmt.Errorf("umask %o: only permission bits (at most 777) are allowed", umask))
	}
	if err := validateRange(c.PassivePorts); err != nil {
		errs = append(errs, err)
	}
	if c.PublicHost != "" {
		if ip := net.ParseIP(c.PublicHost); ip == nil || ip.To4() == nil {
			errs = append(errs, fmt.Errorf("public host %q: give the IPv4 address clients reach this server at (PASV can only announce IPv4)", c.PublicHost))
		}
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		errs = append(errs, errors.New("TLS certificate and key go together: give both files, or neither for a self-signed certificate"))
	}
	return c, errors.Join(errs...)
}
