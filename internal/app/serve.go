package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/panelftp/panelftp/internal/api"
	"github.com/panelftp/panelftp/internal/auth"
	"github.com/panelftp/panelftp/internal/config"
	"github.com/panelftp/panelftp/internal/ftpd"
	"github.com/panelftp/panelftp/internal/service"
	"github.com/panelftp/panelftp/internal/sessions"
	"github.com/panelftp/panelftp/internal/web"
)

// serve runs the FTP service, the session registry and the web panel until
// ctx ends, then shuts them down gracefully.
func serve(ctx context.Context, c config.Serve) error {
	log, err := newLogger(c.LogFormat, c.LogLevel, os.Stderr)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("creating data directory %s: %w", c.DataDir, err)
	}
	st, err := openStore(ctx, c.Store)
	if err != nil {
		return err
	}
	defer st.Close()
	// FTP clients open several connections with the same credentials; a
	// short cache makes the repeats cheap without weakening the stored hash.
	cache := auth.NewVerifyCache(2*time.Minute, 10000, nil)
	svc := service.New(st, newHasher(), service.Options{Logger: log, LoginCache: cache})

	if err := ensureFirstAdmin(ctx, svc, os.Stdout); err != nil {
		return err
	}
	var demoUser *demo
	if c.Demo {
		d, err := createDemo(ctx, svc, c)
		if err != nil {
			return err
		}
		demoUser = &d
	}

	debug, err := startDebug(c.DebugListen, log)
	if err != nil {
		return err
	}
	if debug != nil {
		defer debug.Close()
	}

	ftpCfg, err := ftpConfig(c)
	if err != nil {
		return err
	}
	reg := sessions.NewRegistry(sessions.Limits{MaxConnections: c.MaxConns, MaxPerIP: c.MaxPerIP, MaxPerUser: c.MaxPerUser})
	ftp, err := ftpd.New(ftpCfg, svc, reg, log)
	if err != nil {
		return err
	}
	panel, err := startPanel(c, svc, ftp, log)
	if err != nil {
		ftp.Shutdown(context.Background())
		return err
	}

	regCtx, stopRegistry := context.WithCancel(context.Background())
	regDone := make(chan struct{})
	go func() {
		defer close(regDone)
		reg.Run(regCtx, st, sessions.NodeID(), log)
	}()

	ftpDone := make(chan error, 1)
	go func() { ftpDone <- ftp.Serve() }()
	if demoUser != nil {
		panelPort := 0
		if panel != nil {
			panelPort = panel.port
		}
		demoUser.print(os.Stdout, portOf(ftp.Addr()), panelPort)
	}
	log.Info("panelftp started", "ftp", ftp.Addr().String(), "panel", c.PanelListen, "data", c.DataDir, "db", dbKind(c.Store))

	select {
	case <-ctx.Done():
		log.Info("shutting down", "grace", c.ShutdownGrace)
	case err = <-ftpDone:
		log.Error("FTP service stopped", "err", err)
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), c.ShutdownGrace+5*time.Second)
	defer cancel()
	if panel != nil {
		panel.Shutdown(shutdownCtx)
	}
	if shutErr := ftp.Shutdown(shutdownCtx); shutErr != nil {
		log.Warn("FTP shutdown", "err", shutErr)
	}
	stopRegistry()
	<-regDone
	log.Info("panelftp stopped")
	return err
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
	umask := os.FileMode(c.Umask)
	return ftpd.Config{
		ListenAddr: c.FTPListen, ImplicitTLSAddr: c.FTPSListen, PassivePorts: ports,
		PublicHost: c.PublicHost, TLSCertFile: c.TLSCert, TLSKeyFile: c.TLSKey, DataDir: c.DataDir,
		TLSRequired: c.TLSRequired, IdleTimeout: c.IdleTimeout,
		Umask: &umask, ShutdownGrace: c.ShutdownGrace,
	}, nil
}

// panelServer is the running web panel and API.
type panelServer struct {
	*http.Server
	port int
}

// startPanel serves the web panel and the API on c.PanelListen.
func startPanel(c config.Serve, svc *service.Service, ftp *ftpd.Server, log *slog.Logger) (*panelServer, error) {
	if c.PanelListen == "" {
		return nil, nil
	}
	secret, err := panelSecret(c.DataDir)
	if err != nil {
		return nil, err
	}
	ftpsPort := 0
	if a := ftp.ImplicitTLSAddr(); a != nil {
		ftpsPort = portOf(a)
	}
	pages, err := web.New(web.Config{
		FTPHost: c.PublicHost, FTPPort: portOf(ftp.Addr()), FTPSPort: ftpsPort,
		TLSRequired: c.TLSRequired, SecretKey: secret,
	}, svc, log)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(api.Prefix+"/", api.New(svc, log))
	mux.Handle("/", pages)
	ln, err := net.Listen("tcp", c.PanelListen)
	if err != nil {
		return nil, fmt.Errorf("web panel cannot listen on %s (--panel-listen): %w%s", c.PanelListen, err, privilegedHint(c.PanelListen, err))
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("web panel stopped", "err", err)
		}
	}()
	return &panelServer{srv, portOf(ln.Addr())}, nil
}

func portOf(a net.Addr) int {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.Port
	}
	return 0
}

func dbKind(s config.Store) string {
	if s.DB != "" {
		return "postgres"
	}
	return "sqlite"
}

// privilegedHint explains the most common bind failure.
func privilegedHint(addr string, err error) string {
	if errors.Is(err, os.ErrPermission) || strings.Contains(err.Error(), "permission denied") {
		return " (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
	}
	return ""
}

func newLogger(format, level string, w io.Writer) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", format)
}
