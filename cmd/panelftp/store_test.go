package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestCLIRefusesToCreateADatabase: outside init and serve, a command run
// where there is no database refuses, says which flag or variable names
// the server's, and creates nothing — not even with the default
// ./panelftp-data.
func TestCLIRefusesToCreateADatabase(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "no-such-data")
	c := bareCLI(t)
	c.data = missing
	r := c.run(append([]string{"account", "add", "bob", "--home", filepath.Join(t.TempDir(), "bob")}, ownerFlags()...)...)
	if r.code != 1 || !strings.Contains(r.stderr, "--data") || !strings.Contains(r.stderr, "PANELFTP_DATA") ||
		!strings.Contains(r.stderr, "panelftp init") || strings.Contains(r.stdout, "created") {
		t.Errorf("account add without a database: exit %d, stdout %q, stderr %q; want exit 1 naming --data, PANELFTP_DATA and panelftp init",
			r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("a refused command made %s: %v", missing, err)
	}

	// The default data directory, as the README's production layout
	// leaves it when the administrator's shell lacks PANELFTP_DATA.
	cwd := t.TempDir()
	cmd := exec.Command(binary, "account", "list")
	cmd.Dir, cmd.Env = cwd, []string{"PATH=" + os.Getenv("PATH"), "PANELFTP_ENV_FILE=/dev/null"}
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "PANELFTP_DATA") {
		t.Errorf("account list in a directory without a database: %v, %q", err, out)
	}
	if entries, _ := os.ReadDir(cwd); len(entries) != 0 {
		t.Errorf("a refused command left %v in the working directory", entries)
	}

	// init creates it; then the same command works.
	if out := c.ok("init"); !strings.Contains(out, "SQLite in "+missing) {
		t.Errorf("init says %q", out)
	}
	c.ok(append([]string{"account", "add", "bob", "--home", filepath.Join(t.TempDir(), "bob")}, ownerFlags()...)...)
	if out := c.ok("init"); !strings.Contains(out, "ready") {
		t.Errorf("a second init says %q", out)
	}
	if out := c.ok("account", "list"); !strings.Contains(out, "bob") {
		t.Errorf("a second init lost the account: %s", out)
	}
}

// TestCLIRefusesAnotherStoreThanTheServers: the data directory records
// the store its server uses (serve and init write it), and a command
// given the other kind of store is refused, saying what to set.
func TestCLIRefusesAnotherStoreThanTheServers(t *testing.T) {
	t.Parallel()
	c := newCLI(t) // SQLite
	r := c.runEnv([]string{"PANELFTP_DB=postgres://panelftp@db.invalid/panelftp"}, "account", "list")
	if r.code != 1 || !strings.Contains(r.stderr, "SQLite") || !strings.Contains(r.stderr, "PANELFTP_DB") {
		t.Errorf("--db against a SQLite server's data directory: exit %d, %q", r.code, r.stderr)
	}
}

// TestCLIFollowsAPostgresServersDataDirectory: serve on PostgreSQL records
// it in its data directory (without the password); the CLI run there
// without --db refuses and writes nothing, with --db it works, and a
// PostgreSQL database without tables is not created by the CLI.
func TestCLIFollowsAPostgresServersDataDirectory(t *testing.T) {
	t.Parallel()
	dsn := os.Getenv("PANELFTP_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("set PANELFTP_TEST_POSTGRES to a PostgreSQL URL to run the CLI against PostgreSQL")
	}
	dsn = withPassword(t, freshSchema(t, dsn), "s3cret-word")

	c := bareCLI(t)
	r := c.runEnv([]string{"PANELFTP_DB=" + dsn}, "account", "list")
	if r.code != 1 || !strings.Contains(r.stderr, "no panelftp tables") || !strings.Contains(r.stderr, "panelftp init") {
		t.Errorf("account list on an empty PostgreSQL schema: exit %d, %q", r.code, r.stderr)
	}
	if n := tableCount(t, dsn); n != 0 {
		t.Errorf("a refused command created %d tables", n)
	}

	s := launch(t, bareCLI(t), "--db", dsn)
	s.cli.okEnv([]string{"PANELFTP_DB=" + dsn}, append([]string{"account", "add", "bob", "--home", filepath.Join(t.TempDir(), "bob")}, ownerFlags()...)...)
	marker, err := os.ReadFile(filepath.Join(s.cli.data, "store"))
	if err != nil || !strings.Contains(string(marker), "postgres ") || strings.Contains(string(marker), "s3cret-word") {
		t.Fatalf("data directory's store file = %q, %v; want postgres and the URL without its password", marker, err)
	}
	before, _ := os.ReadDir(s.cli.data)
	r = s.cli.run("account", "list")
	if r.code != 1 || !strings.Contains(r.stderr, "PostgreSQL") || !strings.Contains(r.stderr, "--db") ||
		!strings.Contains(r.stderr, "PANELFTP_DB") || strings.Contains(r.stderr, "s3cret-word") {
		t.Errorf("account list without --db on a PostgreSQL server's data directory: exit %d, %q", r.code, r.stderr)
	}
	after, _ := os.ReadDir(s.cli.data)
	if len(after) != len(before) {
		t.Errorf("the refused command changed the data directory: %v, then %v", before, after)
	}
	if out := s.cli.okEnv([]string{"PANELFTP_DB=" + dsn}, "account", "list"); !strings.Contains(out, "bob") {
		t.Errorf("account list with --db: %s", out)
	}
}

// runEnv runs a command with extra environment variables.
func (c *cli) runEnv(env []string, args ...string) result {
	c.t.Helper()
	saved := c.env
	c.env = append(append([]string{}, c.env...), env...)
	defer func() { c.env = saved }()
	return c.run(args...)
}

func (c *cli) okEnv(env []string, args ...string) string {
	c.t.Helper()
	r := c.runEnv(env, args...)
	if r.code != 0 {
		c.t.Fatalf("panelftp %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

// withPassword adds a password to a postgres:// URL; PostgreSQL with
// trust authentication ignores it.
func withPassword(t *testing.T, dsn, password string) string {
	t.Helper()
	i := strings.Index(dsn, "://")
	at := strings.Index(dsn, "@")
	if i < 0 || at < 0 || strings.Contains(dsn[i+3:at], ":") {
		t.Fatalf("cannot add a password to %s", dsn)
	}
	return dsn[:at] + ":" + password + dsn[at:]
}

// tableCount is the number of tables in the DSN's schema.
func tableCount(t *testing.T, dsn string) int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(),
		"SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
