package cli_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/panelftp/panelftp/internal/auth"
	"github.com/panelftp/panelftp/internal/cli"
	"github.com/panelftp/panelftp/internal/config"
	"github.com/panelftp/panelftp/internal/defender"
	"github.com/panelftp/panelftp/internal/service"
	"github.com/panelftp/panelftp/internal/store/sqlstore"
)

// The CLI tests run the command line in the test's own process, on a
// real store, so that the race detector sees the commands too. What only
// a real process shows (serve, signals, the composition root's choice of
// store) is tested on the binary in cmd/panelftp.

// hasher is cheap: the tests set many passwords and check none.
var hasher = auth.NewHasher(auth.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 4)

// openService opens the existing store s names, as the program does,
// with its bans kept by a defender with the safe list of b.
func openService(ctx context.Context, s config.Store, h config.Homes, b config.Bans) (cli.Service, func() error, error) {
	safe, err := defender.ParseSafeList(b.SafeList)
	if err != nil {
		return nil, nil, err
	}
	st, err := sqlstore.Open(ctx, s.DataDir, s.DB, sqlstore.Options{Existing: true, MaxConns: s.Pool})
	if err != nil {
		return nil, nil, err
	}
	log := slog.New(slog.DiscardHandler)
	svc := service.New(st, hasher, service.Options{
		Logger: log,
		Homes: service.HomeOptions{Root: h.Root, DataDir: s.DataDir, AllowRootOwner: h.AllowRootOwner,
			HomeMode: os.FileMode(h.Mode), FolderMode: os.FileMode(h.FolderMode)},
		Bans: defender.New(defender.Config{Threshold: b.Threshold, SafeList: safe}, st, log),
	})
	return svc, st.Close, nil
}

// initStore creates the store s names.
func initStore(ctx context.Context, s config.Store) (string, error) {
	st, err := sqlstore.Open(ctx, s.DataDir, s.DB, sqlstore.Options{MaxConns: s.Pool})
	if err != nil {
		return "", err
	}
	if s.DB != "" {
		return "postgres", st.Close()
	}
	return "sqlite", st.Close()
}

// cmdline runs commands against one data directory, with the environment
// variables in env and no environment file unless envFile is set.
type cmdline struct {
	t       *testing.T
	data    string
	env     map[string]string
	envFile string

	mu     sync.Mutex
	served []config.Serve // what serve was asked to run
}

// newCmdline runs commands against a new SQLite database of its own,
// made with init.
func newCmdline(t *testing.T) *cmdline {
	c := bareCmdline(t)
	c.ok("init")
	return c
}

// bareCmdline runs commands against a fresh, empty data directory.
func bareCmdline(t *testing.T) *cmdline {
	data := t.TempDir()
	return &cmdline{t: t, data: data, env: map[string]string{"PANELFTP_DATA": data}}
}

type result struct {
	code           int
	stdout, stderr string
}

func (c *cmdline) getenv(name string) string { return c.env[name] }

func (c *cmdline) serve(_ context.Context, s config.Serve) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.served = append(c.served, s)
	return nil
}

func (c *cmdline) runStdin(stdin string, args ...string) result {
	c.t.Helper()
	var out, errb bytes.Buffer
	env := cli.Env{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: c.getenv,
		Open: openService, Init: initStore, Serve: c.serve, EnvFile: c.envFile,
	}
	code := cli.Run(c.t.Context(), env, args)
	return result{code, out.String(), errb.String()}
}

func (c *cmdline) run(args ...string) result { c.t.Helper(); return c.runStdin("", args...) }

// ok runs a command that must succeed and returns its standard output.
func (c *cmdline) ok(args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	if r.code != 0 {
		c.t.Fatalf("panelftp %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// jsonOf runs a command that must succeed and decodes its JSON output.
func (c *cmdline) jsonOf(v any, args ...string) {
	c.t.Helper()
	out := c.ok(args...)
	if err := json.NewDecoder(strings.NewReader(out)).Decode(v); err != nil {
		c.t.Fatalf("panelftp %s is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

type ftpUser struct {
	Account     string  `json:"account"`
	Username    string  `json:"username"`
	Path        string  `json:"path"`
	Directory   string  `json:"directory"`
	UID         *int    `json:"uid"`
	GID         *int    `json:"gid"`
	QuotaMB     int64   `json:"quota_mb"`
	CreatedAt   string  `json:"created_at"`
	LastLoginAt *string `json:"last_login_at"`
}

func (c *cmdline) users(args ...string) []ftpUser {
	c.t.Helper()
	var list []ftpUser
	c.jsonOf(&list, append([]string{"ftp", "list", "--json"}, args...)...)
	return list
}

const goodPassword = "Str0ng!Pass"

// ownerFlags give a test account its own uid and gid when the tests run
// as root, where an account may not act as root by default.
func ownerFlags() []string {
	if os.Geteuid() != 0 {
		return nil
	}
	return []string{"--uid", "4242", "--gid", "4242"}
}

// addAccount creates account name with a home in a new folder.
func (c *cmdline) addAccount(name string) string {
	c.t.Helper()
	home := c.t.TempDir() + "/" + name
	c.ok(append([]string{"account", "add", name, "--home", home}, ownerFlags()...)...)
	return home
}

// freshSchema returns PANELFTP_TEST_POSTGRES with its search_path set to
// an empty schema of the test's own, dropped when the test ends, or skips
// the test when that variable is not set.
func freshSchema(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("PANELFTP_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("set PANELFTP_TEST_POSTGRES to a PostgreSQL URL to run the CLI against PostgreSQL")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("PANELFTP_TEST_POSTGRES is set but PostgreSQL is unreachable: %v", err)
	}
	defer conn.Close(ctx)
	schema := "t_clitest_" + rand.Text()[:12]
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c, err := pgx.Connect(context.Background(), dsn); err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
