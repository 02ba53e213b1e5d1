package cli_test

import (
	"reflect"
	"strings"
	"testing"
)

// controls is the part of `ftp list --json` that `ftp set` changes.
type controls struct {
	QuotaMB      int64    `json:"quota_mb"`
	MaxFiles     int64    `json:"max_files"`
	UploadKBps   int64    `json:"upload_kbps"`
	DownloadKBps int64    `json:"download_kbps"`
	AllowIPs     []string `json:"allow_ips"`
	DenyIPs      []string `json:"deny_ips"`
	ReadOnly     bool     `json:"read_only"`
	TLSRequired  bool     `json:"tls_required"`
	Expires      *string  `json:"expires"`
	ExpiresAt    *string  `json:"expires_at"`
	Expired      bool     `json:"expired"`
	MaxSessions  int      `json:"max_sessions"`
}

func (c *cmdline) controls(username string) controls {
	c.t.Helper()
	var list []struct {
		Username string `json:"username"`
		controls
	}
	c.jsonOf(&list, "ftp", "list", "--json")
	for _, u := range list {
		if u.Username == username {
			return u.controls
		}
	}
	c.t.Fatalf("%s not in ftp list --json: %+v", username, list)
	return controls{}
}

func TestSetsControls(t *testing.T) {
	t.Parallel()
	c := newCmdline(t)
	c.addAccount("bob")
	c.ok("ftp", "add", "dev.bob", goodPassword, "/", "bob")
	c.ok("ftp", "add", "web.bob", goodPassword, "/", "bob")
	if got, want := c.controls("dev.bob"), (controls{AllowIPs: []string{}, DenyIPs: []string{}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("new user: %+v, want no controls", got)
	}

	out := c.ok("ftp", "set", "Dev.Bob", "bob", "--quota", "300", "--max-files", "5000", "--upload-kbps", "200",
		"--download-kbps", "400", "--allow-ip", "192.0.2.0/24, 2001:db8::/32", "--deny-ip", "192.0.2.66",
		"--read-only", "--tls-required=true", "--expires", "2001-02-03", "--max-sessions", "2")
	for _, want := range []string{"FTP user dev.bob", "quota 300 MB", "upload 200 KiB/s", "allow 192.0.2.0/24,2001:db8::/32",
		"read-only yes", "expired on 2001-02-03", "sessions 2", "live sessions are disconnected"} {
		if !strings.Contains(out, want) {
			t.Errorf("ftp set output lacks %q:\n%s", want, out)
		}
	}
	day, end := "2001-02-03", "2001-02-04T00:00:00Z"
	want := controls{QuotaMB: 300, MaxFiles: 5000, UploadKBps: 200, DownloadKBps: 400,
		AllowIPs: []string{"192.0.2.0/24", "2001:db8::/32"}, DenyIPs: []string{"192.0.2.66"},
		ReadOnly: true, TLSRequired: true, Expires: &day, ExpiresAt: &end, Expired: true, MaxSessions: 2}
	if got := c.controls("dev.bob"); !reflect.DeepEqual(got, want) {
		t.Fatalf("after ftp set:\n got  %+v\n want %+v", got, want)
	}
	if got := c.controls("web.bob"); got.QuotaMB != 0 || got.ReadOnly {
		t.Fatalf("ftp set changed another user: %+v", got)
	}
	list := c.ok("ftp", "list")
	for _, want := range []string{"STATUS", "CONTROLS", "expired", "read-only yes", "deny 192.0.2.66"} {
		if !strings.Contains(list, want) {
			t.Errorf("ftp list lacks %q:\n%s", want, list)
		}
	}

	// Only the flags given change; 0, empty and never clear.
	out = c.ok("ftp", "set", "dev.bob", "bob", "--upload-kbps", "0", "--expires", "never", "--read-only=false")
	if strings.Contains(out, "disconnected") {
		t.Errorf("relaxing the rules disconnected the user: %s", out)
	}
	c.ok("ftp", "set", "dev.bob", "bob", "--allow-ip", "")
	want.UploadKBps, want.AllowIPs, want.Expires, want.ExpiresAt, want.Expired, want.ReadOnly = 0, []string{}, nil, nil, false, false
	if got := c.controls("dev.bob"); !reflect.DeepEqual(got, want) {
		t.Fatalf("after relaxing:\n got  %+v\n want %+v", got, want)
	}
	// ftp quota is the same as ftp set --quota.
	c.ok("ftp", "quota", "dev.bob", "75", "bob")
	if got := c.controls("dev.bob").QuotaMB; got != 75 {
		t.Errorf("ftp quota: %d MB, want 75", got)
	}
}

func TestSetRefusalsChangeNothing(t *testing.T) {
	t.Parallel()
	c := newCmdline(t)
	c.addAccount("bob")
	c.addAccount("alice")
	c.ok("ftp", "add", "dev.bob", goodPassword, "/", "bob")
	c.ok("ftp", "add", "dev.alice", goodPassword, "/", "alice")
	c.ok("ftp", "set", "dev.bob", "bob", "--max-files", "10", "--allow-ip", "198.51.100.0/24")
	before := c.ok("ftp", "list", "--json")

	cases := []struct {
		name string
		args []string
		code int
		want string // in stderr
	}{
		{"bad CIDR", []string{"--read-only", "--allow-ip", "192.0.2.0/24,192.0.2.0/40"}, 1, `IP allow list entry "192.0.2.0/40" is not a valid network`},
		{"host bits", []string{"--deny-ip", "10.1.2.3/8"}, 1, "did you mean 10.0.0.0/8?"},
		{"bad date", []string{"--expires", "2026-13-01"}, 1, "write it as YYYY-MM-DD"},
		{"negative", []string{"--upload-kbps", "-5"}, 1, "upload bandwidth (KiB/s) -5 is out of range"},
		{"not a number", []string{"--max-files", "lots"}, 1, `--max-files must be a whole number (0 or empty for no limit), not "lots"`},
		{"not a bool", []string{"--read-only=maybe"}, 2, "read-only"},
		{"nothing to change", nil, 2, "nothing to change"},
		{"unknown flag", []string{"--bandwidth", "5"}, 2, "bandwidth"},
		{"another account's user", []string{"--read-only"}, 1, "FTP user dev.alice does not exist in account bob"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			user := "dev.bob"
			if tc.name == "another account's user" {
				user = "dev.alice"
			}
			r := c.run(append([]string{"ftp", "set", user, "bob"}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)", r.code, tc.code, r.stderr, tc.want)
			}
		})
	}
	if after := c.ok("ftp", "list", "--json"); after != before {
		t.Errorf("a refused ftp set changed the store:\nbefore %s\nafter %s", before, after)
	}
}

// TestSetIgnoresServeVariables: a PANELFTP_TLS_REQUIRED exported for
// serve must not turn TLS on for a user changed with ftp set.
func TestSetIgnoresServeVariables(t *testing.T) {
	t.Parallel()
	c := newCmdline(t)
	c.addAccount("bob")
	c.ok("ftp", "add", "dev.bob", goodPassword, "/", "bob")
	c.env["PANELFTP_TLS_REQUIRED"], c.env["PANELFTP_QUOTA"] = "true", "1"
	c.ok("ftp", "set", "dev.bob", "bob", "--max-files", "9")
	if got := c.controls("dev.bob"); got.TLSRequired || got.QuotaMB != 0 || got.MaxFiles != 9 {
		t.Fatalf("after ftp set with serve's variables exported: %+v", got)
	}
	c.ok("settings", "set", "--max-per-user", "4")
	var set struct {
		TLSRequired bool `json:"tls_required"`
	}
	if c.jsonOf(&set, "settings", "show", "--json"); set.TLSRequired {
		t.Fatalf("settings set took tls_required from the environment: %+v", set)
	}
}

func TestBanner(t *testing.T) {
	t.Parallel()
	c := newCmdline(t)
	type shown struct {
		Banner         string `json:"banner"`
		HideServerName bool   `json:"hide_server_name"`
		Greeting       string `json:"greeting"`
	}
	show := func() shown {
		var s shown
		c.jsonOf(&s, "settings", "show", "--json")
		return s
	}
	if got := show(); got != (shown{Greeting: "panelftp ready."}) {
		t.Fatalf("fresh settings: %+v", got)
	}
	c.ok("settings", "set", "--hide-server-name")
	if got := show(); got != (shown{HideServerName: true, Greeting: "FTP server ready."}) {
		t.Fatalf("after --hide-server-name: %+v", got)
	}
	c.ok("settings", "set", "--banner", "  Welcome to Example Hosting — files only  ")
	want := shown{Banner: "Welcome to Example Hosting — files only", HideServerName: true, Greeting: "Welcome to Example Hosting — files only"}
	if got := show(); got != want {
		t.Fatalf("after --banner: %+v", got)
	}
	if out := c.ok("settings", "show"); !strings.Contains(out, "220 Welcome to Example Hosting") {
		t.Errorf("settings show lacks the greeting:\n%s", out)
	}
	for _, bad := range []struct{ banner, want string }{
		{strings.Repeat("x", 201), "at most 200"},
		{"two\nlines", "one line"},
	} {
		if r := c.run("settings", "set", "--banner", bad.banner); r.code != 1 || !strings.Contains(r.stderr, bad.want) {
			t.Errorf("banner %q: exit %d, %q; want a refusal saying %q", bad.banner, r.code, r.stderr, bad.want)
		}
	}
	if got := show(); got != want {
		t.Fatalf("a refused banner changed the settings: %+v", got)
	}
}

func TestLiveSettings(t *testing.T) {
	t.Parallel()
	c := newCmdline(t)
	if out := c.ok("settings", "show"); !strings.Contains(out, "no live settings saved") {
		t.Errorf("settings show before any is saved:\n%s", out)
	}
	c.ok("settings", "set", "--max-per-ip", "3", "--public-host", "192.0.2.10", "--tls-required")
	var set struct {
		Saved       bool   `json:"saved"`
		PublicHost  string `json:"public_host"`
		TLSRequired bool   `json:"tls_required"`
		MaxPerIP    int    `json:"max_per_ip"`
		MaxPerUser  int    `json:"max_per_user"`
	}
	if c.jsonOf(&set, "settings", "show", "--json"); !set.Saved || set.PublicHost != "192.0.2.10" || !set.TLSRequired || set.MaxPerIP != 3 {
		t.Fatalf("after settings set: %+v", set)
	}
	// Flags not given keep their saved value.
	c.ok("settings", "set", "--max-per-user", "2")
	if c.jsonOf(&set, "settings", "show", "--json"); set.MaxPerIP != 3 || set.MaxPerUser != 2 || !set.TLSRequired {
		t.Fatalf("a second settings set lost the first: %+v", set)
	}
	if out := c.ok("settings", "show"); !strings.Contains(out, "max per IP") || !strings.Contains(out, "192.0.2.10") {
		t.Errorf("settings show:\n%s", out)
	}
	if r := c.run("settings", "set", "--public-host", "ftp.example.com"); r.code != 1 || !strings.Contains(r.stderr, "IPv4") {
		t.Errorf("settings set with a host name: exit %d, %q", r.code, r.stderr)
	}
	if r := c.run("settings", "set"); r.code != 2 {
		t.Errorf("settings set with nothing: exit %d, want 2", r.code)
	}
	c.ok("settings", "reset")
	if out := c.ok("settings", "show"); !strings.Contains(out, "no live settings saved") {
		t.Errorf("settings show after reset:\n%s", out)
	}
}
