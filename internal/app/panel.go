package app

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/panelftp/panelftp/internal/api"
	"github.com/panelftp/panelftp/internal/config"
	"github.com/panelftp/panelftp/internal/defender"
	"github.com/panelftp/panelftp/internal/ftpd"
	"github.com/panelftp/panelftp/internal/service"
	"github.com/panelftp/panelftp/internal/version"
	"github.com/panelftp/panelftp/internal/web"
)

// Deadlines of a panel request, so that a client trickling its headers or
// body, or reading the answer slowly, cannot hold a connection for long.
// Every request and answer of the panel and the API is small (bodies are
// capped at 1 MiB).
const (
	panelHeaderTimeout = 10 * time.Second
	panelReadTimeout   = 30 * time.Second // headers and body
	panelWriteTimeout  = time.Minute
)

// panelServer is the running web panel and API.
type panelServer struct {
	*http.Server
	port int
}

// startPanel serves the web panel and the API on c.PanelListen; nil when
// it is turned off.
func startPanel(c config.Serve, svc *service.Service, ftp *ftpd.Server, guard *defender.Defender, log *slog.Logger) (*panelServer, error) {
	if c.PanelListen == "" {
		return nil, nil
	}
	secret, err := panelSecret(c.DataDir)
	if err != nil {
		return nil, err
	}
	proxies, err := web.ParseTrustedProxies(c.PanelProxies)
	if err != nil {
		return nil, fmt.Errorf("--panel-trusted-proxies: %w", err)
	}
	cfg := web.Config{
		FTPHost: c.PublicHost, FTPPort: portOf(ftp.Addr()), TLSRequired: c.TLSRequired,
		SecretKey: secret, SecureCookies: c.PanelSecure, TrustedProxies: proxies, Defaults: liveDefaults(c),
		Version: version.Get().String(), NodePublicHost: c.PublicHost,
	}
	if a := ftp.ImplicitTLSAddr(); a != nil {
		cfg.FTPSPort = portOf(a)
	}
	if guard != nil {
		cfg.Guard = guard
	}
	pages, err := web.New(cfg, svc, log)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(api.Prefix+"/", api.New(svc, log))
	mux.Handle("/", pages)
	ln, err := net.Listen("tcp", c.PanelListen)
	if err != nil {
		return nil, fmt.Errorf("web panel cannot listen on %s (--panel-listen): %w%s", c.PanelListen, err, privilegedHint(err))
	}
	srv := newPanelHTTPServer(mux)
	ln = web.LimitListener(ln, c.PanelMaxPerIP, proxies)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("web panel stopped", "err", err)
		}
	}()
	return &panelServer{srv, portOf(ln.Addr())}, nil
}

// newPanelHTTPServer serves h with the panel's deadlines.
func newPanelHTTPServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: panelHeaderTimeout, ReadTimeout: panelReadTimeout,
		WriteTimeout: panelWriteTimeout, IdleTimeout: 2 * time.Minute}
}

func portOf(a net.Addr) int {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.Port
	}
	return 0
}

// privilegedHint explains the most common bind failure.
func privilegedHint(err error) string {
	if errors.Is(err, os.ErrPermission) || strings.Contains(err.Error(), "permission denied") {
		return " (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
	}
	return ""
}
