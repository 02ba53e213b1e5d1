package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/panelftp/panelftp/internal/auth"
	"github.com/panelftp/panelftp/internal/config"
	"github.com/panelftp/panelftp/internal/defender"
	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/ftpd"
	"github.com/panelftp/panelftp/internal/metrics"
	"github.com/panelftp/panelftp/internal/service"
	"github.com/panelftp/panelftp/internal/sessions"
	"github.com/panelftp/panelftp/internal/store"
	"github.com/panelftp/panelftp/internal/store/measured"
	"github.com/panelftp/panelftp/internal/version"
	"github.com/panelftp/panelftp/internal/xferlog"
)

// node is one running `panelftp serve`: everything it started, so that
// shutdown can stop it in the right order.
type node struct {
	cfg     config.Serve
	id      string // this node among the nodes sharing the store
	log     *slog.Logger
	st      store.Store
	watcher store.ChangeWatcher // PostgreSQL's announcements; nil with SQLite
	svc     *service.Service
	reg     *sessions.Registry
	ftp     *ftpd.Server
	guard   *defender.Defender // guards log-ins (the service's ban keeper); nil when bans are off
	panel   *panelServer       // nil when the panel is off
	metrics *metrics.Metrics   // nil when --metrics-listen is not set
	xfer    *xferlog.Writer    // nil when --transfer-log is not set
	closer  []func()           // run in reverse at the end

	mu      sync.Mutex
	applied *domain.Settings // the live settings in force, once read
}

// serve runs the FTP service, the session registry, the defender and the
// web panel until ctx ends, then shuts them down gracefully.
func serve(ctx context.Context, c config.Serve) error {
	n, err := start(ctx, c)
	if err != nil {
		return err
	}
	defer n.close()
	return n.run(ctx)
}

// start opens the store and binds every listener, so that a bad flag, a
// busy port or an unreadable certificate fails before anything runs.
func start(ctx context.Context, c config.Serve) (_ *node, err error) {
	n := &node{cfg: c}
	defer func() { // n, not the result, which is nil on error
		if err != nil {
			n.close()
		}
	}()
	if n.log, err = newLogger(c.LogFormat, c.LogLevel, os.Stderr); err != nil {
		return nil, err
	}
	if c.Pool < 1 {
		return nil, fmt.Errorf("--db-pool %d: give at least 1 connection", c.Pool)
	}
	if c.NodeTimeout < time.Second {
		return nil, fmt.Errorf("--node-timeout %v: give at least 1s (heartbeats go every quarter of it)", c.NodeTimeout)
	}
	if err := checkStore(c.Store); err != nil {
		return nil, fmt.Errorf("%w (to move this data directory's server to another store, delete %s)", err, filepath.Join(c.DataDir, storeFile))
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data directory %s: %w", c.DataDir, err)
	}
	if c.Banner, err = domain.NormalizeBanner(c.Banner); err != nil {
		return nil, fmt.Errorf("--banner: %w", err)
	}
	n.cfg = c
	if n.st, err = openStore(ctx, c.Store, true); err != nil {
		return nil, err
	}
	n.closer = append(n.closer, func() { n.st.Close() })
	if err := recordStore(c.Store); err != nil {
		return nil, err
	}
	if w, ok := n.st.(store.ChangeWatcher); ok && c.DB != "" {
		n.watcher = w
	}
	n.id = sessions.NodeID()
	if c.TransferLog != "" {
		if n.xfer, err = openTransferLog(c, n.log); err != nil {
			return nil, err
		}
		n.closer = append(n.closer, func() { n.xfer.Close() })
	}
	hasher := newHasher()
	opts := service.Options{Logger: n.log}
	if c.MetricsListen != "" {
		n.metrics = metrics.New()
		n.st = measured.New(n.st, n.metrics)
		hasher.ObserveWait(n.metrics.HashWait)
		opts.OnLogin = n.metrics.Login
	}
	// FTP clients open several connections with the same credentials; a
	// short cache makes the repeats cheap without weakening the stored hash.
	opts.LoginCache = auth.NewVerifyCache(2*time.Minute, 10000, nil)
	if err := c.Homes.Validate(); err != nil {
		return nil, err
	}
	opts.Homes = homeOptions(c.Store, c.Homes)
	bans, err := newDefender(c.Bans, n.st, c.DB != "", n.log)
	if err != nil {
		return nil, err
	}
	opts.Bans = bans
	if c.Bans.Threshold > 0 {
		n.guard = bans
	}
	n.svc = service.New(n.st, hasher, opts)
	n.auditHomes(ctx)
	if err := n.startFTP(); err != nil {
		return nil, err
	}
	if err := n.startMetrics(); err != nil {
		return nil, err
	}
	if n.panel, err = startPanel(c, n.svc, n.ftp, n.guard, n.log); err != nil {
		return nil, err
	}
	if n.panel != nil {
		n.closer = append(n.closer, func() { n.panel.Close() })
	}
	debug, err := startDebug(c.DebugListen, n.log)
	if err != nil {
		return nil, err
	}
	if debug != nil {
		n.closer = append(n.closer, func() { debug.Close() })
	}
	// Only once everything is bound, so that a start refused for a bad
	// setting does not use up the one showing of the first password.
	if err := ensureFirstAdmin(ctx, n.svc, os.Stdout); err != nil {
		return nil, err
	}
	if c.Demo {
		d, err := createDemo(ctx, n.svc, c)
		if err != nil {
			return nil, err
		}
		d.print(os.Stdout, portOf(n.ftp.Addr()), n.panelPort())
	}
	return n, nil
}

// auditHomes logs every stored account that breaks the home rules (see
// service.AuditHomes); the service runs on.
func (n *node) auditHomes(ctx context.Context) {
	problems, err := n.svc.AuditHomes(ctx)
	if err != nil {
		n.log.Error("checking account homes", "err", err)
	}
	for _, p := range problems {
		n.log.Warn("account home breaks the rules", "problem", p)
	}
}

func (n *node) startFTP() error {
	cfg, err := ftpConfig(n.cfg)
	if err != nil {
		return err
	}
	if n.guard != nil { // a nil *Defender in the interface would not be nil
		cfg.Guard = n.guard
	}
	if n.xfer != nil {
		cfg.TransferLog = n.xfer
	}
	if n.metrics != nil {
		cfg.Metrics = transferMetrics{n.metrics}
	}
	cfg.Quotas, cfg.Node = n.st, n.id
	n.reg = sessions.NewRegistry(sessions.Limits{MaxConnections: n.cfg.MaxConns, MaxPerIP: n.cfg.MaxPerIP, MaxPerUser: n.cfg.MaxPerUser})
	n.reg.Join(sessions.Cluster{Store: n.st, Node: n.id, Log: n.log, NodeTTL: n.cfg.NodeTimeout,
		CountEverywhere: n.cfg.DB != ""})
	if n.ftp, err = ftpd.New(cfg, n.svc, n.reg, n.log); err != nil {
		return err
	}
	n.closer = append(n.closer, func() { n.ftp.Close() })
	if uid := os.Geteuid(); uid != 0 {
		n.log.Warn("not running as root: FTP sessions read and write files as this process, not as their accounts; the kernel cannot tell accounts apart",
			"uid", uid, "gid", os.Getegid())
	}
	return nil
}

// run serves until ctx ends, then stops accepting, lets running transfers
// finish for --shutdown-grace and closes the rest.
func (n *node) run(ctx context.Context) error {
	bg, stopBackground := context.WithCancel(context.Background())
	done := n.background(bg)

	ftpDone := make(chan error, 1)
	go func() { ftpDone <- n.ftp.Serve() }()
	n.log.Info("panelftp started", "version", version.Get().String(), "ftp", n.ftp.Addr().String(), "panel", n.cfg.PanelListen,
		"data", n.cfg.DataDir, "db", describeStore(n.cfg.Store), "node", n.id, "bans", n.guard != nil)

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var err error
	for running := true; running; {
		select {
		case <-hup:
			n.reloadTLS()
			n.reopenTransferLog()
		case <-ctx.Done():
			n.log.Info("shutting down", "grace", n.cfg.ShutdownGrace)
			running = false
		case err = <-ftpDone:
			n.log.Error("FTP service stopped", "err", err)
			running = false
		}
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), n.cfg.ShutdownGrace+5*time.Second)
	defer cancel()
	if n.panel != nil {
		n.panel.Shutdown(shutdownCtx)
	}
	if shutErr := n.ftp.Shutdown(shutdownCtx); shutErr != nil {
		n.log.Warn("FTP shutdown", "err", shutErr)
	}
	stopBackground()
	done.Wait()
	n.log.Info("panelftp stopped")
	return err
}

// reloadTLS re-reads the certificate files (SIGHUP), keeping the old
// certificate when the new one cannot be loaded.
func (n *node) reloadTLS() {
	if err := n.ftp.ReloadTLS(); err != nil {
		n.log.Error("TLS certificate reload failed; the previous certificate stays in use", "err", err)
	}
}

func (n *node) panelPort() int {
	if n.panel == nil {
		return 0
	}
	return n.panel.port
}

func (n *node) close() {
	for i := len(n.closer) - 1; i >= 0; i-- {
		n.closer[i]()
	}
}

// ftpConfig maps the serve flags to the FTP engine's settings.
func ftpConfig(c config.Serve) (ftpd.Config, error) {
	ports, err := ftpd.ParsePortRange(c.PassivePorts)
	if err != nil {
		return ftpd.Config{}, fmt.Errorf("--passive-ports: %w", err)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return ftpd.Config{}, errors.New("--tls-cert and --tls-key go together: give both, or neither for a self-signed certificate")
	}
	if mode := ftpd.UploadMode(c.UploadMode); mode != ftpd.UploadAtomic && mode != ftpd.UploadDirect {
		return ftpd.Config{}, fmt.Errorf("--upload-mode %q: use %s or %s", c.UploadMode, ftpd.UploadAtomic, ftpd.UploadDirect)
	}
	umask := os.FileMode(c.Umask)
	return ftpd.Config{
		ListenAddr: c.FTPListen, ImplicitTLSAddr: c.FTPSListen, PassivePorts: ports,
		PublicHost: c.PublicHost, TLSCertFile: c.TLSCert, TLSKeyFile: c.TLSKey, TLSCertDir: c.TLSCertDir, DataDir: c.DataDir,
		TLSRequired: c.TLSRequired, TLSDataReuse: c.TLSDataReuse, IdleTimeout: c.IdleTimeout, LoginTimeout: c.LoginTimeout,
		LoginsPerIPPerMinute: c.LoginsPerIP, Umask: &umask, ShutdownGrace: c.ShutdownGrace,
		UploadMode: ftpd.UploadMode(c.UploadMode),
	}, nil
}

// liveDefaults are the live settings as the flags give them.
func liveDefaults(c config.Serve) domain.Settings {
	return domain.Settings{PublicHost: c.PublicHost, TLSRequired: c.TLSRequired,
		MaxConnections: c.MaxConns, MaxPerIP: c.MaxPerIP, MaxPerUser: c.MaxPerUser,
		Banner: c.Banner, HideServerName: c.HideServerName}
}
