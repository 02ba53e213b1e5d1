package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

func TestUsage(t *testing.T) {
	t.Parallel()
	c := newCmdline(t)
	for _, args := range [][]string{
		{"ftp", "add", "only-one-arg"},
		{"account", "add", "bob", "--no-such-flag"},
		{"nonsense"},
		{"ftp", "nonsense"},
		{},
	} {
		if r := c.run(args...); r.code != 2 || r.stderr == "" || r.stdout != "" {
			t.Errorf("panelftp %v: exit %d, stdout %q, stderr %q; want exit 2 with a message on stderr", args, r.code, r.stdout, r.stderr)
		}
	}
	if r := c.run("ftp", "nonsense"); !strings.Contains(r.stderr, `unknown command "ftp nonsense"`) {
		t.Errorf("an unknown command is not named: %q", r.stderr)
	}
	for _, args := range [][]string{
		{"--help"}, {"help"}, {"ftp", "--help"}, {"ftp", "add", "--help"}, {"account", "add", "--help"},
		{"ftp", "connections", "--help"}, {"serve", "--help"}, {"admin", "token", "--help"}, {"version", "--help"},
	} {
		r := c.run(args...)
		if r.code != 0 || !strings.Contains(r.stdout, "usage: panelftp") || r.stderr != "" {
			t.Errorf("panelftp %v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	if out := c.ok("serve", "--help"); !strings.Contains(out, "-passive-ports") || !strings.Contains(out, "PANELFTP_") {
		t.Errorf("serve --help lacks its flags: %s", out)
	}
	if out := c.ok("--help"); !strings.Contains(out, "account") || !strings.Contains(out, "settings") {
		t.Errorf("--help does not list the command groups:\n%s", out)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	// It needs no data directory, database or environment file.
	c := &cmdline{t: t, env: map[string]string{"PANELFTP_DB": "postgres://nowhere.invalid/x"}, envFile: "/nonexistent/dir/and/file"}
	want := regexp.MustCompile(`^panelftp \S+ \(commit [^,]+, ` + regexp.QuoteMeta(runtime.Version()) + ` \S+/\S+\)\n$`)
	for _, args := range [][]string{{"--version"}, {"-version"}, {"version"}} {
		if out := c.ok(args...); !want.MatchString(out) {
			t.Errorf("panelftp %s printed %q, want the version, commit and Go version on one line", args[0], out)
		}
	}
	if r := c.run("version", "extra"); r.code != 2 {
		t.Errorf("version with an argument: exit %d, want 2", r.code)
	}
}

// The command line reads the environment file for the PANELFTP_*
// variables the shell does not set; a flag wins over both.
func TestReadsTheEnvironmentFile(t *testing.T) {
	t.Parallel()
	fromFile, fromShell, fromFlag := t.TempDir(), t.TempDir(), t.TempDir()
	envFile := filepath.Join(t.TempDir(), "panelftp.env")
	writeFile(t, envFile, "# as installed\nPANELFTP_DATA="+fromFile+"\n")
	home := filepath.Join(t.TempDir(), "acme")

	c := &cmdline{t: t, env: map[string]string{}, envFile: envFile}
	for _, dir := range []string{fromFile, fromShell, fromFlag} { // the CLI creates no database
		c.ok("init", "--data", dir)
	}
	c.ok(append([]string{"account", "add", "acme", "--home", home}, ownerFlags()...)...)
	c.env["PANELFTP_DATA"] = fromShell
	c.ok(append([]string{"account", "add", "beta", "--home", home + "b"}, ownerFlags()...)...)
	c.ok(append([]string{"account", "add", "gamma", "--home", home + "c", "--data", fromFlag}, ownerFlags()...)...)
	delete(c.env, "PANELFTP_DATA")
	for dir, want := range map[string]string{fromFile: "acme", fromShell: "beta", fromFlag: "gamma"} {
		if out := c.ok("account", "list", "--data", dir); !strings.Contains(out, want) || strings.Count(out, "\n") != 2 {
			t.Errorf("accounts in %s: %q, want only %s", dir, out, want)
		}
	}

	writeFile(t, envFile, "PANELFTP_DATA="+fromFile+"\nnot a setting\n")
	if r := c.run("account", "list"); r.code != 1 || !strings.Contains(r.stderr, "line 2") {
		t.Errorf("a broken environment file: exit %d, stderr %q; want exit 1 naming line 2", r.code, r.stderr)
	}
	if r := c.run("account", "list", "--help"); r.code != 0 {
		t.Errorf("--help with a broken environment file: exit %d, stderr %q", r.code, r.stderr)
	}
	// A missing file is no file: the shell's variables alone apply.
	c.envFile = filepath.Join(t.TempDir(), "none.env")
	c.env["PANELFTP_DATA"] = fromShell
	if out := c.ok("account", "list"); !strings.Contains(out, "beta") {
		t.Errorf("with no environment file: %q", out)
	}
}

func TestEnvironmentSelectsStore(t *testing.T) {
	t.Parallel()
	c := newCmdline(t)
	other := t.TempDir()
	c.ok("init", "--data", other)
	home := filepath.Join(t.TempDir(), "bob")
	// --data wins over PANELFTP_DATA.
	c.ok(append([]string{"account", "add", "bob", "--home", home, "--data", other}, ownerFlags()...)...)
	if out := c.ok("account", "list"); strings.Contains(out, "bob") {
		t.Errorf("account added with --data shows up in PANELFTP_DATA's store: %s", out)
	}
	if out := c.ok("account", "list", "--data", other); !strings.Contains(out, "bob") {
		t.Errorf("account list --data does not show bob: %s", out)
	}
	// Without a database the command fails and creates none.
	missing := filepath.Join(t.TempDir(), "none")
	if r := c.run("account", "list", "--data", missing); r.code != 1 || r.stderr == "" {
		t.Errorf("account list without a database: exit %d, %q", r.code, r.stderr)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("a refused command made %s: %v", missing, err)
	}
	if out := c.ok("init", "--data", missing); !strings.Contains(out, "SQLite in "+missing) {
		t.Errorf("init says %q", out)
	}
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	dsn := freshSchema(t)
	c := bareCmdline(t)
	c.env["PANELFTP_DB"] = dsn
	if out := c.ok("init"); !strings.Contains(out, "postgres") {
		t.Errorf("init on PostgreSQL says %q", out)
	}
	c.addAccount("bob")
	c.ok("ftp", "add", "dev.bob", goodPassword, "/", "bob")
	if got := c.users(); len(got) != 1 || got[0].Username != "dev.bob" {
		t.Fatalf("ftp list on PostgreSQL: %+v", got)
	}
	// The SQLite data directory was not used.
	if entries, _ := os.ReadDir(c.data); len(entries) != 0 {
		t.Errorf("with PANELFTP_DB set, the data directory got %v", entries)
	}
}

// serve hands its parsed flags to the server; a variable sets a flag
// that the command line does not give.
func TestServeFlags(t *testing.T) {
	t.Parallel()
	c := bareCmdline(t)
	c.env["PANELFTP_PANEL_LISTEN"] = "127.0.0.1:9999"
	c.ok("serve", "--ftp-listen", "127.0.0.1:2100", "--passive-ports", "40000-40009", "--demo")
	if len(c.served) != 1 {
		t.Fatalf("serve ran %d times", len(c.served))
	}
	s := c.served[0]
	if s.FTPListen != "127.0.0.1:2100" || s.PanelListen != "127.0.0.1:9999" || s.Store.DataDir != c.data || !s.Demo {
		t.Errorf("serve was given %+v", s)
	}
	if r := c.run("serve", "extra"); r.code != 2 || len(c.served) != 1 {
		t.Errorf("serve with an argument: exit %d, ran %d times", r.code, len(c.served))
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}
