package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestManagesAccountsAndFTPUsers(t *testing.T) {
	t.Parallel()
	c := newCmdline(t)
	home := filepath.Join(t.TempDir(), "bob")

	c.ok("account", "add", "bob", "--home", home, "--uid", "4242", "--gid", "4343", "--ftp-limit", "2")
	var accounts []map[string]any
	if c.jsonOf(&accounts, "account", "list", "--json"); len(accounts) != 1 || accounts[0]["name"] != "bob" {
		t.Fatalf("account list --json = %v", accounts)
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
	table := c.ok("account", "list")
	if !strings.Contains(table, "ACCOUNT") || !strings.Contains(table, "4242:4343") || !strings.Contains(table, "2/2") {
		t.Errorf("account list does not show bob's owner and users of limit:\n%s", table)
	}

	c.ok("ftp", "password", "dev.bob", "N3w!Password", "bob")
	c.ok("ftp", "path", "dev.bob", "/example.com", "bob")
	if got := c.users("bob")[1].Path; got != "/example.com" {
		t.Errorf("path after ftp path = %q, want /example.com", got)
	}
	if out := c.ok("ftp", "disable", "dev.bob", "bob"); !strings.Contains(out, "disabled") {
		t.Errorf("ftp disable says %q", out)
	}
	if list := c.ok("ftp", "list"); !strings.Contains(list, "disabled") {
		t.Errorf("ftp list does not show the disabled user:\n%s", list)
	}
	c.ok("ftp", "enable", "dev.bob", "bob")

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

func TestAccountSettings(t *testing.T) {
	t.Parallel()
	c := newCmdline(t)
	c.addAccount("bob")
	if out := c.ok("account", "limit", "bob", "1"); !strings.Contains(out, "may now have 1 FTP sub-users") {
		t.Errorf("account limit says %q", out)
	}
	c.ok("ftp", "add", "web.bob", goodPassword, "/", "bob")
	if r := c.run("ftp", "add", "dev.bob", goodPassword, "/", "bob"); r.code != 1 || !strings.Contains(r.stderr, "limit of 1") {
		t.Errorf("ftp add over the limit: exit %d, %q", r.code, r.stderr)
	}
	c.ok("account", "disable", "bob")
	var accounts []struct {
		Enabled bool `json:"enabled"`
	}
	if c.jsonOf(&accounts, "account", "list", "--json"); len(accounts) != 1 || accounts[0].Enabled {
		t.Errorf("after account disable: %+v", accounts)
	}
	c.ok("account", "enable", "bob")
	if r := c.runStdin("Panel-Pass-77\n", "account", "password", "bob", "--password-stdin"); r.code != 0 {
		t.Errorf("account password --password-stdin: exit %d, %q", r.code, r.stderr)
	}
	for _, tc := range []struct {
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"", []string{"account", "password", "bob"}, 2, "missing password"},
		{"\n", []string{"account", "password", "bob", "-"}, 2, "empty"},
		{"x\n", []string{"account", "password", "bob", "Panel-Pass-77", "--password-stdin"}, 2, "not both"},
		{"", []string{"account", "password", "bob", "-"}, 1, "nothing was read"},
		{"", []string{"account", "password", "nobody", "Panel-Pass-77"}, 1, "does not exist"},
		{"", []string{"account", "limit", "bob", "many"}, 1, "whole number"},
	} {
		if r := c.runStdin(tc.stdin, tc.args...); r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("panelftp %s: exit %d, stderr %q; want exit %d saying %q", strings.Join(tc.args, " "), r.code, r.stderr, tc.code, tc.want)
		}
	}
}

func TestRefusalsChangeNothing(t *testing.T) {
	t.Parallel()
	c := newCmdline(t)
	home := filepath.Join(t.TempDir(), "bob")
	c.ok(append([]string{"account", "add", "bob", "--home", home, "--ftp-limit", "1"}, ownerFlags()...)...)
	c.ok("ftp", "add", "web.bob", goodPassword, "/site", "bob")
	before := c.ok("ftp", "list", "--json")
	accountsBefore := c.ok("account", "list", "--json")

	cases := []struct {
		name string
		args []string
		code int
		want string // in stderr
	}{
		{"wrong suffix", []string{"ftp", "add", "dev.alice", goodPassword, "/x", "bob"}, 1, "must end with .bob"},
		{"no digit", []string{"ftp", "add", "dev.bob", "NoDigits!here", "/x", "bob"}, 1, "at least one digit"},
		{"dot-dot path", []string{"ftp", "add", "dev.bob", goodPassword, "../../etc", "bob"}, 1, `".."`},
		{"limit", []string{"ftp", "add", "dev.bob", goodPassword, "/x", "bob"}, 1, "limit of 1"},
		{"duplicate", []string{"ftp", "add", "WEB.bob", goodPassword, "/x", "bob"}, 1, "already exists"},
		{"unknown account", []string{"ftp", "add", "dev.carol", goodPassword, "/x", "carol"}, 1, "account carol does not exist"},
		{"weak new password", []string{"ftp", "password", "web.bob", "short", "bob"}, 1, "too short"},
		{"path escape", []string{"ftp", "path", "web.bob", "/a/../../b", "bob"}, 1, `".."`},
		{"other account's user", []string{"ftp", "delete", "web.bob", "alice"}, 1, "account alice does not exist"},
		{"bad account name", []string{"account", "add", "Bo", "--home", "/tmp/x"}, 1, "uppercase"},
		{"relative home", []string{"account", "add", "carol", "--home", "carol"}, 1, "not absolute"},
		{"another account's home", []string{"account", "add", "bob2", "--home", home, "--uid", "5000", "--gid", "5000"}, 1, "already the home of account bob"},
		{"inside another home", []string{"account", "add", "bob2", "--home", home + "/blog", "--uid", "5000", "--gid", "5000"}, 1, "inside the home of account bob"},
		{"system home", []string{"account", "add", "carol", "--home", "/etc", "--uid", "5000", "--gid", "5000"}, 1, "system folder"},
		{"root owner", []string{"account", "add", "carol", "--home", filepath.Join(filepath.Dir(home), "carol"), "--uid", "0", "--gid", "0"}, 1, "--allow-root-owner"},
		{"host path outside the home", []string{"ftp", "path", "web.bob", filepath.Join(filepath.Dir(home), "zenith", "blog"), "bob"}, 1, "outside the home directory"},
		{"bad home mode", []string{"account", "add", "carol", "--home", filepath.Join(filepath.Dir(home), "carol"), "--home-mode", "0055"}, 2, "--home-mode"},
		{"quota not a number", []string{"ftp", "add", "dev.bob", goodPassword, "/x", "bob", "--quota", "lots"}, 2, "invalid value"},
		{"quota argument not a number", []string{"ftp", "quota", "web.bob", "lots", "bob"}, 1, "whole number of MB"},
		{"unknown user", []string{"ftp", "disable", "nobody.bob", "bob"}, 1, "does not exist"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.run(tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
				t.Errorf("exit %d (want %d), stdout %q, stderr %q (want %q)", r.code, tc.code, r.stdout, r.stderr, tc.want)
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

// A negative number is an argument, not an unknown flag: the command says
// what the number may be. --uid and --gid refuse one at once.
func TestNegativeNumbers(t *testing.T) {
	t.Parallel()
	c := newCmdline(t)
	home := c.addAccount("acme")
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
