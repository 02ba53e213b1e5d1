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
	"github.com/panelftp/panelftp/internal/store"
	"github.com/panelftp/panelftp/internal/store/sqlstore"
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
		Serve:   serve,
		EnvFile: envFile,
	}
	return cli.Run(ctx, env, args)
}

// openStore opens PostgreSQL when s.DB is set, else SQLite in s.DataDir.
func openStore(ctx context.Context, s config.Store) (store.Store, error) {
	if s.DB != "" {
		st, err := sqlstore.OpenPostgres(ctx, s.DB)
		if err != nil {
			return nil, fmt.Errorf("opening PostgreSQL database (--db): %w", err)
		}
		return st, nil
	}
	st, err := sqlstore.OpenSQLite(s.DataDir)
	if err != nil {
		return nil, fmt.Errorf("opening the database in %s (--data): %w", s.DataDir, err)
	}
	return st, nil
}

func newHasher() *auth.Hasher {
	return auth.NewHasher(auth.Params{}, 2*runtime.NumCPU())
}

func openService(ctx context.Context, s config.Store, h config.Homes) (*service.Service, func() error, error) {
	st, err := openStore(ctx, s)
	if err != nil {
		return nil, nil, err
	}
	// The CLI prints its own result; only warnings from the service show.
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return service.New(st, newHasher(), service.Options{Logger: log, Homes: homeOptions(s, h)}), st.Close, nil
}

// homeOptions are the service's home rules from the flags.
func homeOptions(s config.Store, h config.Homes) service.HomeOptions {
	return service.HomeOptions{Root: h.Root, DataDir: s.DataDir, AllowRootOwner: h.AllowRootOwner,
		HomeMode: os.FileMode(h.Mode), FolderMode: os.FileMode(h.FolderMode)}
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
