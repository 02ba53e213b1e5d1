package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// The CLI tests drive the real binary, built once for the package.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "panelftp-cli")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "panelftp")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		panic("building panelftp: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cli runs the binary against one data directory.
type cli struct {
	t    *testing.T
	data string
	env  []string
}

// newCLI runs the binary against a new SQLite database of its own (made
// with panelftp init, as the CLI does not create one itself).
func newCLI(t *testing.T) *cli {
	c := bareCLI(t)
	c.ok("init")
	return c
}

// bareCLI runs commands against a fresh, empty data directory.
// PANELFTP_ENV_FILE keeps the tests off an installed package's
// /etc/panelftp/panelftp.env.
func bareCLI(t *testing.T) *cli {
	return &cli{t: t, data: t.TempDir(), env: []string{"PATH=" + os.Getenv("PATH"), "PANELFTP_ENV_FILE=/dev/null"}}
}

type result struct {
	code           int
	stdout, stderr string
}

func (c *cli) runStdin(stdin string, args ...string) result {
	c.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(c.env, "PANELFTP_DATA="+c.data)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("running %v: %v", args, err)
	}
	return result{code, out.String(), errb.String()}
}

func (c *cli) run(args ...string) result { c.t.Helper(); return c.runStdin("", args...) }

// ok runs a command that must succeed.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	if r.code != 0 {
		c.t.Fatalf("panelftp %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
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

func (c *cli) users(args ...string) []ftpUser {
	c.t.Helper()
	var list []ftpUser
	out := c.ok(append([]string{"ftp", "list", "--json"}, args...)...)
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		c.t.Fatalf("ftp list --json is not JSON: %v\n%s", err, out)
	}
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

func TestCLIManagesAccountsAndFTPUsers(t *testing.T) {
	c := newCLI(t)
	home := filepath.Join(t.TempDir(), "bob")

	c.ok("account", "add", "bob", "--home", home, "--uid", "4242", "--gid", "4343", "--ftp-limit", "2")
	var accounts []map[string]any
	if err := json.Unmarshal([]byte(c.ok("account", "list", "--json")), &accounts); err != nil || len(accounts) != 1 || accounts[0]["name"] != "bob" {
		t.Fatalf("account list --json = %v, %v", accounts, err)
	}

	out := c.ok("ftp", "add", "Dev.Bob", goodPassword, "example.com/dev", "bob", "--quota", "500")
	if !strings.Contains(out, "dev.bob") {
		t.Errorf("ftp add output %q does not name dev.bob", out)
	}
	if fi, err := os.Stat(filepath.Join(home, "example.com", "dev")); err != nil || !fi.IsDir() {
		t.Fatalf("ftp add did not create the folder: %v", err)
	}
	// Password from standard input.
	if r := c.runStdin(goodPassword+"\n", "ftp", "add", "ci.bob", "-", "/", "bob"); r.code != 0 {
		t.Fatalf("ftp add with password on stdin: exit %d: %s", r.code, r.stderr)
	}

	users := c.users("bob")
	if len(users) != 2 {
		t.Fatalf("ftp list bob: %d users, want 2: %+v", len(users), users)
	}
	dev := users[1]
	if dev.Username != "dev.bob" || dev.Account != "bob" || dev.Path != "/example.com/dev" ||
		dev.Directory != filepath.Join(home, "example.com", "dev") || dev.QuotaMB != 500 ||
		dev.UID == nil || *dev.UID != 4242 || dev.GID == nil || *dev.GID != 4343 ||
		dev.CreatedAt == "" || dev.LastLoginAt != nil {
		t.Errorf("ftp list --json entry = %+v", dev)
	}

	c.ok("ftp", "password", "dev.bob", "N3w!Password", "bob")
	c.ok("ftp", "path", "dev.bob", "/example.com", "bob")
	if got := c.users("bob")[1].Path; got != "/example.com" {
		t.Errorf("path after ftp path = %q, want /example.com", got)
	}

	// Files survive ftp delete.
	keep := filepath.Join(home, "example.com", "index.html")
	if err := os.WriteFile(keep, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.ok("ftp", "delete", "dev.bob", "bob")
	if b, err := os.ReadFile(keep); err != nil || string(b) != "hello" {
		t.Errorf("ftp delete touched the files: %q, %v", b, err)
	}
	if got := c.users(); len(got) != 1 || got[0].Username != "ci.bob" {
		t.Errorf("after delete: %+v", got)
	}

	// account delete refuses while sub-users exist, then --force keeps files.
	if r := c.run("account", "delete", "bob"); r.code != 1 || !strings.Contains(r.stderr, "--force") {
		t.Errorf("account delete with users: exit %d, stderr %q", r.code, r.stderr)
	}
	c.ok("account", "delete", "bob", "--force")
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("account delete --force removed files: %v", err)
	}
	if got := c.users(); len(got) != 0 {
		t.Errorf("users left after account delete --force: %+v", got)
	}
}

func TestCLIRefusalsChangeNothing(t *testing.T) {
	c := newCLI(t)
	home := filepath.Join(t.TempDir(), "bob")
	c.ok(append([]string{"account", "add", "bob", "--home", home, "--ftp-limit", "1"}, ownerFlags()...)...)
	c.ok("ftp", "add", "web.bob", goodPassword, "/site", "bob")
	before := c.ok("ftp", "list", "--json")
	accountsBefore := c.ok("account", "list", "--json")

	cases := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"wrong suffix", []string{"ftp", "add", "dev.alice", goodPassword, "/x", "bob"}, "must end with .bob"},
		{"no digit", []string{"ftp", "add", "dev.bob", "NoDigits!here", "/x", "bob"}, "at least one digit"},
		{"dot-dot path", []string{"ftp", "add", "dev.bob", goodPassword, "../../etc", "bob"}, `".."`},
		{"limit", []string{"ftp", "add", "dev.bob", goodPassword, "/x", "bob"}, "limit of 1"},
		{"duplicate", []string{"ftp", "add", "WEB.bob", goodPassword, "/x", "bob"}, "already exists"},
		{"unknown account", []string{"ftp", "add", "dev.carol", goodPassword, "/x", "carol"}, "account carol does not exist"},
		{"weak new password", []string{"ftp", "password", "web.bob", "short", "bob"}, "too short"},
		{"path escape", []string{"ftp", "path", "web.bob", "/a/../../b", "bob"}, `".."`},
		{"other account's user", []string{"ftp", "delete", "web.bob", "alice"}, "account alice does not exist"},
		{"bad account name", []string{"account", "add", "Bo", "--home", "/tmp/x"}, "uppercase"},
		{"relative home", []string{"account", "add", "carol", "--home", "carol"}, "not absolute"},
		{"another account's home", []string{"account", "add", "bob2", "--home", home, "--uid", "5000", "--gid", "5000"}, "already the home of account bob"},
		{"inside another home", []string{"account", "add", "bob2", "--home", home + "/blog", "--uid", "5000", "--gid", "5000"}, "inside the home of account bob"},
		{"system home", []string{"account", "add", "carol", "--home", "/etc", "--uid", "5000", "--gid", "5000"}, "system folder"},
		{"root owner", []string{"account", "add", "carol", "--home", filepath.Join(filepath.Dir(home), "carol"), "--uid", "0", "--gid", "0"}, "--allow-root-owner"},
		{"host path outside the home", []string{"ftp", "path", "web.bob", filepath.Join(filepath.Dir(home), "zenith", "blog"), "bob"}, "outside the home directory"},
		{"bad home mode", []string{"account", "add", "carol", "--home", filepath.Join(filepath.Dir(home), "carol"), "--home-mode", "0055"}, "--home-mode"},
		{"quota not a number", []string{"ftp", "add", "dev.bob", goodPassword, "/x", "bob", "--quota", "lots"}, "invalid value"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.run(tc.args...)
			wantCode := 1
			if tc.name == "quota not a number" || tc.name == "bad home mode" {
				wantCode = 2
			}
			if r.code != wantCode || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)", r.code, wantCode, r.stderr, tc.want)
			}
		})
	}
	if after := c.ok("ftp", "list", "--json"); after != before {
		t.Errorf("a refused command changed the store:\nbefore %s\nafter %s", before, after)
	}
	if after := c.ok("account", "list", "--json"); after != accountsBefore {
		t.Errorf("a refused command changed the accounts:\nbefore %s\nafter %s", accountsBefore, after)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(home), "carol")); !os.IsNotExist(err) {
		t.Errorf("a refused account add created its home: %v", err)
	}
	if _, err := os.Stat(filepath.Join(home, "x")); !os.IsNotExist(err) {
		t.Errorf("a refused ftp add created its folder: %v", err)
	}
}

func TestCLIUsage(t *testing.T) {
	c := newCLI(t)
	for _, args := range [][]string{
		{"ftp", "add", "only-one-arg"},
		{"account", "add", "bob", "--no-such-flag"},
		{"nonsense"},
		{},
	} {
		if r := c.run(args...); r.code != 2 || r.stderr == "" {
			t.Errorf("panelftp %v: exit %d stderr %q, want exit 2 with a message", args, r.code, r.stderr)
		}
	}
	for _, args := range [][]string{
		{"--help"}, {"ftp", "--help"}, {"ftp", "add", "--help"}, {"account", "add", "--help"},
		{"ftp", "connections", "--help"}, {"serve", "--help"}, {"admin", "token", "--help"},
	} {
		r := c.run(args...)
		if r.code != 0 || !strings.Contains(r.stdout, "usage: panelftp") {
			t.Errorf("panelftp %v: exit %d, stdout %q", args, r.code, r.stdout)
		}
	}
	if out := c.ok("serve", "--help"); !strings.Contains(out, "-passive-ports") || !strings.Contains(out, "PANELFTP_") {
		t.Errorf("serve --help lacks its flags: %s", out)
	}
}

func TestCLIVersion(t *testing.T) {
	c := newCLI(t)
	want := regexp.MustCompile(`^panelftp \S+ \(commit [^,]+, ` + regexp.QuoteMeta(runtime.Version()) + ` \S+/\S+\)\n$`)
	for _, args := range [][]string{{"--version"}, {"-version"}, {"version"}} {
		if out := c.ok(args...); !want.MatchString(out) {
			t.Errorf("panelftp %s printed %q, want the version, commit and Go version on one line", args[0], out)
		}
	}
	// It needs no data directory, database or environment file.
	c.env = append(c.env, "PANELFTP_ENV_FILE=/nonexistent/dir/and/file", "PANELFTP_DB=postgres://nowhere.invalid/x")
	line := strings.TrimSpace(c.ok("version"))

	// serve logs it when it starts.
	s := startServer(t)
	s.stop()
	if !strings.Contains(s.logs.String(), `msg="panelftp started" version="`+line+`"`) {
		t.Errorf("serve's start line does not name the version %q:\n%s", line, s.logs.String())
	}
}

// A negative number is an argument, not an unknown flag: the command says
// what the number may be. --uid and --gid refuse one at once.
func TestCLINegativeNumbers(t *testing.T) {
	c := newCLI(t)
	home := filepath.Join(t.TempDir(), "acme")
	c.ok(append([]string{"account", "add", "acme", "--home", home}, ownerFlags()...)...)
	c.ok("ftp", "add", "web.acme", goodPassword, "/", "acme")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"ftp", "quota", "web.acme", "-1", "acme"}, 1, "quota -1 MB is negative: use 0 for unlimited"},
		{[]string{"account", "limit", "acme", "-3"}, 1, "limit -3 is negative: use 0 for unlimited"},
		{[]string{"account", "add", "beta", "--home", home + "2", "--uid", "-5"}, 2, `"-5" is not a uid or gid: give a number, 0 or more`},
	} {
		r := c.run(tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stderr, "flag provided but not defined") {
			t.Errorf("panelftp %s: exit %d, stderr %q; want exit %d saying %q", strings.Join(tc.args, " "), r.code, r.stderr, tc.code, tc.want)
		}
	}
	if users := c.users(); len(users) != 1 || users[0].QuotaMB != 0 {
		t.Errorf("a refused quota changed the user: %+v", users)
	}
	help := c.ok("account", "add", "--help")
	if strings.Contains(help, "(default -1)") || !strings.Contains(help, "-uid N") || !strings.Contains(help, "--flag both work") {
		t.Errorf("account add --help:\n%s", help)
	}
}

// The command line reads the package's environment file for the
// PANELFTP_* variables the shell does not set; a flag wins over both.
func TestCLIReadsTheEnvironmentFile(t *testing.T) {
	fromFile, fromShell, fromFlag := t.TempDir(), t.TempDir(), t.TempDir()
	envFile := filepath.Join(t.TempDir(), "panelftp.env")
	writeFile(t, envFile, []byte("# as installed\nPANELFTP_DATA="+fromFile+"\n"))
	home := filepath.Join(t.TempDir(), "acme")

	c := &cli{t: t, env: []string{"PATH=" + os.Getenv("PATH"), "PANELFTP_ENV_FILE=" + envFile}}
	run := func(env []string, args ...string) result {
		t.Helper()
		cmd := exec.Command(binary, args...)
		cmd.Env = append(append([]string{}, c.env...), env...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return result{code, out.String(), errb.String()}
	}
	for _, dir := range []string{fromFile, fromShell, fromFlag} { // the CLI creates no database
		if r := run(nil, "init", "--data", dir); r.code != 0 {
			t.Fatalf("init --data %s: exit %d: %s", dir, r.code, r.stderr)
		}
	}
	if r := run(nil, append([]string{"account", "add", "acme", "--home", home}, ownerFlags()...)...); r.code != 0 {
		t.Fatalf("account add with the file's data directory: exit %d: %s", r.code, r.stderr)
	}
	if r := run([]string{"PANELFTP_DATA=" + fromShell}, append([]string{"account", "add", "beta", "--home", home + "b"}, ownerFlags()...)...); r.code != 0 {
		t.Fatalf("account add with the shell's data directory: exit %d: %s", r.code, r.stderr)
	}
	if r := run([]string{"PANELFTP_DATA=" + fromShell}, append([]string{"account", "add", "gamma", "--home", home + "c", "--data", fromFlag}, ownerFlags()...)...); r.code != 0 {
		t.Fatalf("account add with --data: exit %d: %s", r.code, r.stderr)
	}
	for dir, want := range map[string]string{fromFile: "acme", fromShell: "beta", fromFlag: "gamma"} {
		r := run(nil, "account", "list", "--data", dir)
		if r.code != 0 || !strings.Contains(r.stdout, want) || strings.Count(r.stdout, "\n") != 2 {
			t.Errorf("accounts in %s: %q (exit %d), want only %s", dir, r.stdout, r.code, want)
		}
	}

	writeFile(t, envFile, []byte("PANELFTP_DATA="+fromFile+"\nnot a setting\n"))
	if r := run(nil, "account", "list"); r.code != 1 || !strings.Contains(r.stderr, "line 2") {
		t.Errorf("a broken environment file: exit %d, stderr %q; want exit 1 naming line 2", r.code, r.stderr)
	}
	if r := run(nil, "account", "list", "--help"); r.code != 0 {
		t.Errorf("--help with a broken environment file: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestCLIEnvironmentSelectsStore(t *testing.T) {
	c := newCLI(t)
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
}

func TestCLIPostgres(t *testing.T) {
	dsn := os.Getenv("PANELFTP_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("set PANELFTP_TEST_POSTGRES to a PostgreSQL URL to run the CLI against PostgreSQL")
	}
	dsn = freshSchema(t, dsn)
	c := bareCLI(t)
	c.env = append(c.env, "PANELFTP_DB="+dsn)
	c.ok("init")
	home := filepath.Join(t.TempDir(), "bob")
	c.ok(append([]string{"account", "add", "bob", "--home", home}, ownerFlags()...)...)
	c.ok("ftp", "add", "dev.bob", goodPassword, "/", "bob")
	if got := c.users(); len(got) != 1 || got[0].Username != "dev.bob" {
		t.Fatalf("ftp list on PostgreSQL: %+v", got)
	}
	// The SQLite data directory was not used.
	if _, err := os.Stat(filepath.Join(c.data, "panelftp.db")); err == nil {
		t.Errorf("with PANELFTP_DB set, a SQLite database was created in the data directory")
	}
}

func TestCLIBans(t *testing.T) {
	c := newCLI(t)
	c.ok("ban", "add", "203.0.113.7", "--for", "2h", "--reason", "scanner")
	var bans []struct {
		IP     string `json:"ip"`
		Reason string `json:"reason"`
		Until  string `json:"until"`
	}
	if err := json.Unmarshal([]byte(c.ok("ban", "list", "--json")), &bans); err != nil || len(bans) != 1 ||
		bans[0].IP != "203.0.113.7" || bans[0].Reason != "scanner" {
		t.Fatalf("ban list --json = %+v, %v", bans, err)
	}
	if r := c.run("ban", "add", "not-an-ip"); r.code != 1 || !strings.Contains(r.stderr, "not an IP address") {
		t.Errorf("ban add not-an-ip: exit %d, %q", r.code, r.stderr)
	}
	if r := c.run("ban", "add", "198.51.100.1", "--for", "-1h"); r.code != 1 || !strings.Contains(r.stderr, "positive") {
		t.Errorf("negative duration: exit %d, %q", r.code, r.stderr)
	}
	c.ok("ban", "remove", "203.0.113.7")
	if out := c.ok("ban", "list"); !strings.Contains(out, "no IP is banned") {
		t.Errorf("after remove: %s", out)
	}
	if r := c.run("ban", "remove", "203.0.113.7"); r.code != 1 || !strings.Contains(r.stderr, "not banned") {
		t.Errorf("second remove: exit %d, %q", r.code, r.stderr)
	}
	// The server never bans what its safe list names, so the CLI refuses
	// such a ban rather than store one that does nothing; it reads the
	// safe list where serve does (the flag or PANELFTP_BAN_SAFE_LIST).
	if r := c.run("ban", "add", "192.0.2.7", "--ban-safe-list", "192.0.2.0/24"); r.code != 1 || !strings.Contains(r.stderr, "safe list") {
		t.Errorf("ban add of a safe-listed IP: exit %d, %q", r.code, r.stderr)
	}
	c.env = append(c.env, "PANELFTP_BAN_SAFE_LIST=2001:db8::/32")
	if r := c.run("ban", "add", "2001:db8::7"); r.code != 1 || !strings.Contains(r.stderr, "safe list") {
		t.Errorf("ban add of an IP the variable makes safe: exit %d, %q", r.code, r.stderr)
	}
	if out := c.ok("ban", "list"); !strings.Contains(out, "no IP is banned") {
		t.Errorf("after refused bans: %s", out)
	}
}

// TestServeRefusesToStart: a bad setting or a busy port stops serve
// before it runs, with a message that names what to change, whichever
// part fails (the panel starts after the FTP service has bound its port).
func TestServeRefusesToStart(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	base := []string{"serve", "--ftp-listen", "127.0.0.1:0", "--panel-listen", "127.0.0.1:0", "--passive-ports", "30000-30010"}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--passive-ports", "80-90"}, "--passive-ports"},
		{[]string{"--ban-safe-list", "10.0.0.0/33"}, "--ban-safe-list"},
		{[]string{"--upload-mode", "fast"}, `--upload-mode "fast": use atomic or direct`},
		{[]string{"--panel-trusted-proxies", "10.0.0.0/8,proxy.example"}, `--panel-trusted-proxies: "proxy.example" is not an IP address or network`},
		{[]string{"--panel-listen", busy.Addr().String()}, "web panel cannot listen on " + busy.Addr().String()},
		{[]string{"--ftp-listen", busy.Addr().String()}, "FTP service cannot listen on " + busy.Addr().String()},
	} {
		// A serve that does start would run until killed.
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		cmd := exec.CommandContext(ctx, binary, append(slices.Clone(base), tt.args...)...)
		cmd.Env = append(os.Environ(), "PANELFTP_DATA="+t.TempDir())
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		timedOut := ctx.Err() != nil
		cancel()
		if err == nil || timedOut || !strings.Contains(stderr.String(), tt.want) || strings.Contains(stderr.String(), "panic") {
			t.Errorf("serve %v: %v, stderr %q; want a refusal naming %q", tt.args, err, stderr.String(), tt.want)
		}
		if strings.Contains(stderr.String(), "admin added") {
			t.Errorf("serve %v created the first admin before refusing to start", tt.args)
		}
	}
}

func TestCLIAPITokens(t *testing.T) {
	c := newCLI(t)
	c.ok(append([]string{"account", "add", "bob", "--home", filepath.Join(t.TempDir(), "bob")}, ownerFlags()...)...)
	if out := c.ok("admin", "token", "billing"); !strings.Contains(out, "every account (administrator), never expires") || !strings.Contains(out, "Bearer pftp_") {
		t.Errorf("admin token billing: %q", out)
	}
	out := c.ok("admin", "token", "deploy", "--account", "bob", "--expires", "90d")
	if !strings.Contains(out, "account bob, expires "+time.Now().AddDate(0, 0, 90).UTC().Format("2006-01-02")) {
		t.Errorf("admin token --account --expires: %q", out)
	}
	c.ok("admin", "token", "old", "--expires", "2099-01-31")
	for _, tc := range []struct{ args []string }{
		{[]string{"admin", "token", "x", "--account", "nobody"}},
		{[]string{"admin", "token", "x", "--expires", "2001-01-01"}},
		{[]string{"admin", "token", "x", "--expires", "soon"}},
	} {
		if r := c.run(tc.args...); r.code != 1 || r.stderr == "" {
			t.Errorf("panelftp %v: exit %d %q, want 1 with a message", tc.args, r.code, r.stderr)
		}
	}
	var tokens []struct {
		ID        string  `json:"id"`
		Label     string  `json:"name"`
		Account   *string `json:"account"`
		ExpiresAt *string `json:"expires_at"`
		Expired   bool    `json:"expired"`
	}
	if err := json.Unmarshal([]byte(c.ok("admin", "tokens", "--json")), &tokens); err != nil || len(tokens) != 3 {
		t.Fatalf("admin tokens --json: %+v, %v", tokens, err)
	}
	byLabel := map[string]int{}
	for i, tk := range tokens {
		byLabel[tk.Label] = i
	}
	if tk := tokens[byLabel["billing"]]; tk.Account != nil || tk.ExpiresAt != nil {
		t.Errorf("billing: %+v, want an administrator's token that never expires", tk)
	}
	if tk := tokens[byLabel["deploy"]]; tk.Account == nil || *tk.Account != "bob" || tk.ExpiresAt == nil || tk.Expired {
		t.Errorf("deploy: %+v", tk)
	}
	if tk := tokens[byLabel["old"]]; tk.ExpiresAt == nil || *tk.ExpiresAt != "2099-01-31T00:00:00Z" {
		t.Errorf("old: %+v", tk)
	}
	table := c.ok("admin", "tokens")
	for _, want := range []string{"SCOPE", "EXPIRES", "account bob", "admin"} {
		if !strings.Contains(table, want) {
			t.Errorf("admin tokens does not show %q:\n%s", want, table)
		}
	}
	c.ok("admin", "revoke", tokens[byLabel["deploy"]].ID)
	if strings.Contains(c.ok("admin", "tokens"), "account bob") {
		t.Error("revoked token still listed")
	}
}
