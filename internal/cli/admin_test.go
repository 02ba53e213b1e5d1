package cli_test

import (
	"strings"
	"testing"
	"time"
)

func TestBans(t *testing.T) {
	t.Parallel()
	c := newCmdline(t)
	c.ok("ban", "add", "203.0.113.7", "--for", "2h", "--reason", "scanner")
	var bans []struct {
		IP     string `json:"ip"`
		Reason string `json:"reason"`
		Until  string `json:"until"`
	}
	if c.jsonOf(&bans, "ban", "list", "--json"); len(bans) != 1 || bans[0].IP != "203.0.113.7" || bans[0].Reason != "scanner" {
		t.Fatalf("ban list --json = %+v", bans)
	}
	if out := c.ok("ban", "list"); !strings.Contains(out, "203.0.113.7") || !strings.Contains(out, "scanner") {
		t.Errorf("ban list:\n%s", out)
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
	c.env["PANELFTP_BAN_SAFE_LIST"] = "2001:db8::/32"
	if r := c.run("ban", "add", "2001:db8::7"); r.code != 1 || !strings.Contains(r.stderr, "safe list") {
		t.Errorf("ban add of an IP the variable makes safe: exit %d, %q", r.code, r.stderr)
	}
	if out := c.ok("ban", "list"); !strings.Contains(out, "no IP is banned") {
		t.Errorf("after refused bans: %s", out)
	}
}

func TestAdmins(t *testing.T) {
	t.Parallel()
	c := newCmdline(t)
	if out := c.ok("admin", "add", "root"); !strings.Contains(out, "root") {
		t.Errorf("admin add without a password says %q", out)
	}
	if r := c.runStdin("Admin-Pass-123\n", "admin", "add", "ops", "--password-stdin"); r.code != 0 {
		t.Fatalf("admin add --password-stdin: exit %d, %q", r.code, r.stderr)
	}
	var admins []struct {
		Name string `json:"name"`
	}
	if c.jsonOf(&admins, "admin", "list", "--json"); len(admins) != 2 {
		t.Errorf("admin list --json: %+v", admins)
	}
	c.ok("admin", "password", "ops", "Other-Pass-456")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"admin", "add", "ops", "--password", "Admin-Pass-123"}, 1, "exists"},
		{[]string{"admin", "password", "ops", "short"}, 1, "too short"},
		{[]string{"admin", "add", "x", "--password", "a", "--password-stdin"}, 2, "not both"},
	} {
		if r := c.run(tc.args...); r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("panelftp %s: exit %d, %q; want exit %d saying %q", strings.Join(tc.args, " "), r.code, r.stderr, tc.code, tc.want)
		}
	}
}

func TestAPITokens(t *testing.T) {
	t.Parallel()
	c := newCmdline(t)
	c.addAccount("bob")
	if out := c.ok("admin", "token", "billing"); !strings.Contains(out, "every account (administrator), never expires") || !strings.Contains(out, "Bearer pftp_") {
		t.Errorf("admin token billing: %q", out)
	}
	out := c.ok("admin", "token", "deploy", "--account", "bob", "--expires", "90d")
	if !strings.Contains(out, "account bob, expires "+time.Now().AddDate(0, 0, 90).UTC().Format("2006-01-02")) {
		t.Errorf("admin token --account --expires: %q", out)
	}
	c.ok("admin", "token", "old", "--expires", "2099-01-31")
	for _, args := range [][]string{
		{"admin", "token", "x", "--account", "nobody"},
		{"admin", "token", "x", "--expires", "2001-01-01"},
		{"admin", "token", "x", "--expires", "soon"},
	} {
		if r := c.run(args...); r.code != 1 || r.stderr == "" {
			t.Errorf("panelftp %v: exit %d %q, want 1 with a message", args, r.code, r.stderr)
		}
	}
	var tokens []struct {
		ID        string  `json:"id"`
		Label     string  `json:"name"`
		Account   *string `json:"account"`
		ExpiresAt *string `json:"expires_at"`
		Expired   bool    `json:"expired"`
	}
	if c.jsonOf(&tokens, "admin", "tokens", "--json"); len(tokens) != 3 {
		t.Fatalf("admin tokens --json: %+v", tokens)
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

// With no server running there is no session to list or kick.
func TestConnectionsWithoutServer(t *testing.T) {
	t.Parallel()
	c := newCmdline(t)
	if out := c.ok("ftp", "connections"); !strings.Contains(out, "no live FTP sessions") {
		t.Errorf("ftp connections: %q", out)
	}
	var list []any
	if c.jsonOf(&list, "ftp", "connections", "--json"); len(list) != 0 {
		t.Errorf("ftp connections --json: %v", list)
	}
	if r := c.run("ftp", "kick", "no-such-session"); r.code != 1 || r.stderr == "" {
		t.Errorf("ftp kick of an unknown session: exit %d, %q", r.code, r.stderr)
	}
}
