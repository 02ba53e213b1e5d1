// Package config holds the settings of `panelftp serve` and of the store
// every command opens, and fills them from flags and PANELFTP_* environment
// variables in one place. A flag on the command line wins over the
// environment, which wins over the default.
package config

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Store says where panelftp keeps its data; every command has these flags.
type Store struct {
	// DataDir holds the SQLite database, the TLS certificate and the panel
	// secret (default ./panelftp-data).
	DataDir string
	// DB is a PostgreSQL URL; when set, it replaces the SQLite database
	// (several nodes share it).
	DB string
	// Pool caps this process's PostgreSQL connections (0: the store's
	// default); a serving node holds one more, listening for changes.
	Pool int
}

// Homes are the installation's rules for account homes. `serve` applies
// them to accounts made in the panel and the API, and the commands that
// create homes and folders apply them too: give them the same values
// (PANELFTP_HOMES_ROOT etc. in one environment file serves both).
type Homes struct {
	// Root, when set, confines every home to this folder.
	Root string
	// Mode and FolderMode are the modes of created homes and sub-user
	// folders.
	Mode, FolderMode Octal
	// AllowRootOwner allows accounts owned by root (uid or gid 0, or no
	// ids of their own while the server runs as root).
	AllowRootOwner bool
}

// Serve is the configuration of `panelftp serve`.
type Serve struct {
	Store
	Homes
	FTPListen     string
	FTPSListen    string
	PassivePorts  string
	PublicHost    string
	TLSCert       string
	TLSKey        string
	TLSCertDir    string
	TLSRequired   bool
	TLSDataReuse  bool
	IdleTimeout   time.Duration
	LoginTimeout  time.Duration
	LoginsPerIP   int
	MaxConns      int
	MaxPerIP      int
	MaxPerUser    int
	Umask         Octal
	ShutdownGrace time.Duration
	PanelListen   string
	// PanelSecure marks panel cookies Secure, for a panel served over
	// HTTPS (usually behind a reverse proxy that terminates TLS).
	PanelSecure bool
	// PanelProxies lists the reverse proxies whose X-Forwarded-For the
	// panel believes (addresses and networks, comma-separated).
	PanelProxies string
	// PanelMaxPerIP caps the panel connections open at once from one
	// client (IPv6: one /64), trusted proxies excepted; 0 = no cap.
	PanelMaxPerIP int
	Bans          Bans
	LogFormat     string
	LogLevel      string
	// DebugListen serves Go's profiler (net/http/pprof) for measuring;
	// keep it on loopback.
	DebugListen string
	// Banner and HideServerName are the greeting's defaults until an
	// administrator saves live settings (domain.Settings).
	Banner         string
	HideServerName bool
	// TransferLog is the file every finished or aborted transfer is
	// logged to ("" = none), in TransferLogFormat: xferlog or json.
	TransferLog       string
	TransferLogFormat string
	// MetricsListen serves Prometheus metrics at /metrics ("" = off).
	MetricsListen string
	// UploadMode is how STOR writes a file: atomic (a hidden temporary
	// file renamed over the target when complete) or direct.
	UploadMode string
	// Demo creates a demo account and FTP sub-user and prints their
	// credentials; when not root and no --ftp-listen is given, it listens
	// on :2121 so no privilege is needed.
	Demo bool
	// NodeTimeout is how long the other nodes count this one as alive
	// after its last heartbeat; a node silent for longer is removed with
	// its sessions.
	NodeTimeout time.Duration
}

// Bans configures the defender: failed log-ins per IP over Threshold within
// Window ban the IP for BanTime, doubling on each repeat up to MaxBan.
type Bans struct {
	Threshold int
	Window    time.Duration
	BanTime   time.Duration
	MaxBan    time.Duration
	// SafeList is a comma-separated list of IPs and networks never banned.
	SafeList string
}

// BindStore defines --data and --db on fs.
func BindStore(fs *flag.FlagSet, s *Store) {
	fs.StringVar(&s.DataDir, "data", "./panelftp-data", "data directory (SQLite database, TLS certificate, panel secret)")
	fs.StringVar(&s.DB, "db", "", "PostgreSQL URL, e.g. postgres://panelftp@db/panelftp (default: SQLite in the data directory)")
	fs.IntVar(&s.Pool, "db-pool", 3, "most PostgreSQL connections this process opens (a server holds one more, listening for changes)")
}

// DefaultHomes are the home rules when no flag is given.
func DefaultHomes() Homes { return Homes{Mode: 0o711, FolderMode: 0o750} }

// Validate refuses modes that would lock the account out of its own
// folders.
func (h Homes) Validate() error {
	for _, m := range []struct {
		flag string
		mode Octal
	}{{"--home-mode", h.Mode}, {"--folder-mode", h.FolderMode}} {
		if m.mode&0o700 != 0o700 {
			return fmt.Errorf("%s %s: the account needs rwx on its own folders; use a mode such as 0711 or 0750", m.flag, m.mode.String())
		}
	}
	return nil
}

// BindHomes defines the home rules' flags on fs.
func BindHomes(fs *flag.FlagSet, h *Homes) {
	fs.StringVar(&h.Root, "homes-root", "", "folder every account home must be inside, e.g. /home (default: anywhere but system folders)")
	d := DefaultHomes()
	h.Mode, h.FolderMode = d.Mode, d.FolderMode
	fs.Var(&h.Mode, "home-mode", "mode of the home directories panelftp creates (octal): other accounts may pass through, not list")
	fs.Var(&h.FolderMode, "folder-mode", "mode of the sub-user folders panelftp creates (octal): only the account and its group may enter")
	fs.BoolVar(&h.AllowRootOwner, "allow-root-owner", false, "allow accounts owned by uid or gid 0 (or, when run as root, without a uid and gid of their own): their FTP users act as root")
}

// BindSafeList defines --ban-safe-list on fs: serve never bans what it
// names, and `ban add` refuses it, so both read the same flag and variable.
func BindSafeList(fs *flag.FlagSet, list *string) {
	fs.StringVar(list, "ban-safe-list", "", "IPs and networks never banned, e.g. 192.0.2.0/24,198.51.100.7")
}

// BindServe defines every flag of `panelftp serve` on fs.
func BindServe(fs *flag.FlagSet, c *Serve) {
	BindStore(fs, &c.Store)
	BindHomes(fs, &c.Homes)
	fs.StringVar(&c.FTPListen, "ftp-listen", ":21", "FTP control address")
	fs.StringVar(&c.FTPSListen, "ftps-listen", "", "implicit FTPS address, e.g. :990 (default off)")
	fs.StringVar(&c.PassivePorts, "passive-ports", "21000-21100", "passive data port range to open in the firewall")
	fs.StringVar(&c.PublicHost, "public-host", "", "IP address PASV announces (needed behind NAT and in containers); it overrides the live setting, for this node (default: the live setting, else the address the client connected to)")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "TLS certificate PEM file (default: a self-signed one generated into the data directory)")
	fs.StringVar(&c.TLSKey, "tls-key", "", "TLS private key PEM file")
	fs.StringVar(&c.TLSCertDir, "tls-cert-dir", "", "folder of per-domain certificates (NAME.crt with NAME.key, or NAME.pem with both), chosen by SNI or HOST (default: none)")
	fs.BoolVar(&c.TLSRequired, "tls-required", false, "refuse log-in and data transfer without TLS")
	fs.BoolVar(&c.TLSDataReuse, "tls-data-reuse", false, "refuse TLS data connections that do not resume their control connection's TLS session")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", 5*time.Minute, "disconnect sessions idle for this long")
	fs.DurationVar(&c.LoginTimeout, "login-timeout", 30*time.Second, "time a new connection has to log in")
	fs.IntVar(&c.LoginsPerIP, "max-logins-per-ip", 30, "log-in attempts per minute from one IP (IPv6: per /64); -1 = no limit")
	fs.IntVar(&c.MaxConns, "max-connections", 500, "maximum simultaneous FTP connections")
	fs.IntVar(&c.MaxPerIP, "max-per-ip", 20, "maximum simultaneous FTP connections from one IP")
	fs.IntVar(&c.MaxPerUser, "max-per-user", 10, "maximum simultaneous sessions of one FTP user")
	c.Umask = 0o022
	fs.Var(&c.Umask, "umask", "umask for files and folders FTP clients create (octal)")
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", 30*time.Second, "on SIGTERM, how long running transfers may finish")
	fs.StringVar(&c.PanelListen, "panel-listen", ":2083", "web panel and API address (empty: off)")
	fs.BoolVar(&c.PanelSecure, "panel-secure-cookies", false, "mark panel cookies Secure: set it when the panel is reached over HTTPS (e.g. behind a reverse proxy)")
	fs.IntVar(&c.PanelMaxPerIP, "panel-max-per-ip", 64, "panel connections open at once from one client IP (IPv6: per /64), the trusted proxies excepted; 0 = no limit")
	fs.StringVar(&c.PanelProxies, "panel-trusted-proxies", "", "addresses of the reverse proxies in front of the panel, e.g. 127.0.0.1: from them, X-Forwarded-For names the client (default: none)")
	fs.IntVar(&c.Bans.Threshold, "ban-threshold", 10, "failed FTP or panel log-ins from one IP that ban it (0: off)")
	fs.DurationVar(&c.Bans.Window, "ban-window", 10*time.Minute, "window in which failed log-ins are counted")
	fs.DurationVar(&c.Bans.BanTime, "ban-time", 15*time.Minute, "first ban; each repeat ban doubles it")
	fs.DurationVar(&c.Bans.MaxBan, "ban-max", 24*time.Hour, "longest ban")
	BindSafeList(fs, &c.Bans.SafeList)
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.Banner, "banner", "", "greeting FTP clients see on connecting, one line (default: \"panelftp ready.\"); panelftp settings set --banner changes it live")
	fs.BoolVar(&c.HideServerName, "hide-server-name", false, "keep the name panelftp out of the greeting and the replies")
	fs.StringVar(&c.TransferLog, "transfer-log", "", "log every finished or aborted transfer to this file, reopened on SIGHUP (default: none)")
	fs.StringVar(&c.TransferLogFormat, "transfer-log-format", "xferlog", "transfer log format: xferlog (wu-ftpd's, one line per transfer) or json (one object per line)")
	fs.StringVar(&c.UploadMode, "upload-mode", "atomic", "how STOR writes a file: atomic (into a hidden temporary file renamed over the target once complete; a failed upload leaves the old file) or direct (into the file itself)")
	fs.StringVar(&c.MetricsListen, "metrics-listen", "", "serve Prometheus metrics at /metrics on this address, e.g. 127.0.0.1:9121 (default off)")
	fs.StringVar(&c.DebugListen, "debug-listen", "", "serve the Go profiler (/debug/pprof) on this address, e.g. 127.0.0.1:6060 (default off)")
	fs.BoolVar(&c.Demo, "demo", false, "create a demo account and FTP user and print their credentials")
	fs.DurationVar(&c.NodeTimeout, "node-timeout", 20*time.Second, "with several nodes: a node silent for this long counts as dead, and its sessions are dropped")
}

// ApplyEnv sets every flag of fs that was not given on the command line
// from its environment variable: --ftp-listen ← PANELFTP_FTP_LISTEN.
func ApplyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil || f.Name == "help" {
			return
		}
		name := EnvName(f.Name)
		if v := getenv(name); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("environment variable %s=%q: %v", name, v, e)
			}
		}
	})
	return err
}

// EnvName is the environment variable of a flag.
func EnvName(flagName string) string {
	return "PANELFTP_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Given reports whether flag name was set on the command line or by its
// environment variable (as getenv sees it).
func Given(fs *flag.FlagSet, name string, getenv func(string) string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set || getenv(EnvName(name)) != ""
}

// Octal is a file mode flag written in octal, like a umask.
type Octal os.FileMode

func (o *Octal) String() string { return fmt.Sprintf("%03o", uint32(*o)) }

// Set parses an octal mode such as 022 or 0027.
func (o *Octal) Set(s string) error {
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || v > 0o777 {
		return fmt.Errorf("%q is not an octal mode like 022", s)
	}
	*o = Octal(v)
	return nil
}
