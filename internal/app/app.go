// Package app is panelftp's composition root: it opens the store, builds
// the service, and wires the CLI, the FTP engine, the session registry, the
// web panel and the API together. It is the only package that knows them all.
package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/panelftp/panelftp/internal/auth"
	"github.com/panelftp/panelftp/internal/cli"
	"github.com/panelftp/panelftp/internal/config"
	"github.com/panelftp/panelftp/internal/service"
)

// Main runs the command line and returns the exit status.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	envFile := os.Getenv("PANELFTP_ENV_FILE")
	if envFile == "" {
		envFile = config.DefaultEnvFile
	}
	env := cli.Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv,
		Open:    openService,
		Init:    initStore,
		Serve:   serve,
		EnvFile: envFile,
	}
	return cli.Run(ctx, env, args)
}

func newHasher() *auth.Hasher {
	return auth.NewHasher(auth.Params{}, 2*runtime.NumCPU())
}

// openService opens the store a command works on: the one the data
// directory's server uses, which must exist. Its bans go through a
// defender with the server's safe list, so the CLI refuses what serve
// would never ban.
func openService(ctx context.Context, s config.Store, h config.Homes, b config.Bans) (cli.Service, func() error, error) {
	if err := checkStore(s); err != nil {
		return nil, nil, err
	}
	st, err := openStore(ctx, s, false)
	if err != nil {
		return nil, nil, err
	}
	// The CLI prints its own result; only warnings from the service show.
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	bans, err := newDefender(b, st, false, log)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return service.New(st, newHasher(), service.Options{Logger: log, Homes: homeOptions(s, h), Bans: bans}), st.Close, nil
}

// homeOptions are the service's home rules from the flags.
func homeOptions(s config.Store, h config.Homes) service.HomeOptions {
	return service.HomeOptions{Root: h.Root, DataDir: s.DataDir, AllowRootOwner: h.AllowRootOwner,
		HomeMode: os.FileMode(h.Mode), FolderMode: os.FileMode(h.FolderMode)}
}

// initStore creates the database s names, or brings an existing one up to
// date, and records it in the data directory, as serve would.
func initStore(ctx context.Context, s config.Store) (string, error) {
	if err := checkStore(s); err != nil {
		return "", err
	}
	if err := os.MkdirAll(s.DataDir, 0o700); err != nil {
		return "", fmt.Errorf("creating data directory %s: %w", s.DataDir, err)
	}
	st, err := openStore(ctx, s, true)
	if err != nil {
		return "", err
	}
	defer st.Close()
	if err := recordStore(s); err != nil {
		return "", err
	}
	return describeStore(s), nil
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
