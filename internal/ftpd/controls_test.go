package ftpd

import (
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/sessions"
)

// TestIPLists: a user's allow and deny lists, IPv4 and IPv6, refuse a
// log-in with the reply of a wrong password; the only log line is the
// service's, for fail2ban. An IPv4 client of a dual-stack socket is
// matched as IPv4.
func TestIPLists(t *testing.T) {
	needIPv6(t)
	e := newEnv(t, envOptions{cfg: Config{ListenAddr: "[::]:0"}})
	_, port, _ := net.SplitHostPort(e.Addr)
	v4, v6 := net.JoinHostPort("127.0.0.1", port), net.JoinHostPort("::1", port)
	for _, tc := range []struct {
		name        string
		allow, deny []string
		from        string
		ok          bool
	}{
		{"IPv4 outside the allow list", []string{"192.0.2.0/24"}, nil, v4, false},
		{"IPv4 in the allow list", []string{"192.0.2.0/24", "127.0.0.0/8"}, nil, v4, true},
		{"IPv4 denied although allowed", []string{"127.0.0.0/8"}, []string{"127.0.0.1"}, v4, false},
		{"IPv4 outside the deny list", nil, []string{"192.0.2.66", "::1"}, v4, true},
		{"IPv6 outside the allow list", []string{"2001:db8::/32", "127.0.0.1"}, nil, v6, false},
		{"IPv6 in the allow list", []string{"2001:db8::/32", "::1"}, nil, v6, true},
		{"IPv6 denied although allowed", []string{"::/0"}, []string{"::1/128"}, v6, false},
		{"IPv6 outside the deny list", nil, []string{"2001:db8::/32", "127.0.0.1"}, v6, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			allow, deny := append([]string{}, tc.allow...), append([]string{}, tc.deny...)
			e.setControls(testUser, domain.ControlsChange{AllowIPs: &allow, DenyIPs: &deny})
			before := strings.Count(e.logs.String(), "IP not allowed")
			r := dialRaw(t, tc.from, "220")
			r.must(331, "USER %s", testUser)
			code, msg := r.cmd("PASS %s", testPass)
			if tc.ok {
				if code != 230 {
					t.Fatalf("log-in: %d %q, want 230", code, msg)
				}
				return
			}
			if code != 530 || msg != msgLoginIncorrect {
				t.Fatalf("log-in: %d %q, want 530 %s", code, msg, msgLoginIncorrect)
			}
			if code, _ := r.read(); code != 0 {
				t.Errorf("the connection stayed open after the refusal (read %d)", code)
			}
			ip := strings.Trim(tc.from[:strings.LastIndex(tc.from, ":")], "[]")
			line := `msg="FTP login refused" ip=` + ip + ` user=dev.bob reason="IP not allowed for this user"`
			logs := e.waitLog(line)
			if n := strings.Count(logs, "IP not allowed") - before; n != 1 {
				t.Errorf("%d log lines about the refused IP, want the service's one:\n%s", n, logs)
			}
		})
	}
	if strings.Contains(e.logs.String(), `msg="FTP login failed"`) {
		t.Error("a refusal of the IP lists was logged as a failed password")
	}
}

// TestReadOnlyUser: every command that writes reads "550 Read-only
// account." and changes nothing; reading and listing work.
func TestReadOnlyUser(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.write("/f.txt", "original")
	e.write("/dir/inner.txt", "x")
	yes := true
	e.setControls(testUser, domain.ControlsChange{ReadOnly: &yes})
	r := e.raw()
	r.login(testUser, testPass)
	for _, cmd := range []string{"DELE f.txt", "MKD new", "RMD dir", "RNFR f.txt", "RNTO g.txt",
		"MFMT 20200102030405 f.txt", "XMKD new", "XRMD dir"} {
		if code, msg := r.cmd("%s", cmd); code != 550 || msg != "Read-only account." {
			t.Errorf("%s: %d %q, want 550 Read-only account.", cmd, code, msg)
		}
	}
	for _, verb := range []string{"STOR", "APPE"} {
		r.must(229, "EPSV")
		if code, msg := r.cmd("%s f.txt", verb); code != 550 || msg != "Read-only account." {
			t.Errorf("%s: %d %q, want 550 Read-only account.", verb, code, msg)
		}
	}
	if code, _ := r.cmd("STOU"); code != 502 {
		t.Errorf("STOU: %d, want 502 (not available on this server)", code)
	}
	if got := e.read("/f.txt"); got != "original" {
		t.Errorf("f.txt is now %q", got)
	}
	if _, err := os.Stat(e.file("/new")); !os.IsNotExist(err) {
		t.Errorf("a folder was created: %v", err)
	}

	c := e.dial("")
	if got := string(retr(t, c, "/f.txt", 0)); got != "original" {
		t.Errorf("RETR = %q", got)
	}
	entries, err := c.List("/")
	if err != nil || len(entries) != 3 {
		t.Fatalf("List = %d entries, %v", len(entries), err)
	}
	if err := c.Stor("/new.txt", strings.NewReader("x")); err == nil || !strings.Contains(err.Error(), "Read-only account") {
		t.Errorf("upload with a real client: %v", err)
	}
}

// TestReadOnlySessionMethods: the session's own write methods refuse too,
// whoever calls them, before touching the disk.
func TestReadOnlySessionMethods(t *testing.T) {
	reg := sessions.NewRegistry(sessions.Limits{})
	sess, err := reg.Open(netip.MustParseAddrPort("192.0.2.1:1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	u := &userState{login: domain.Login{User: domain.FTPUser{Username: testUser}, ReadOnly: true}}
	s := &session{cl: &client{srv: &Server{}, sess: sess, log: slog.New(slog.DiscardHandler)}, u: u}
	_, upErr := s.Upload("/f", 0, false)
	for name, err := range map[string]error{
		"Mkdir": s.Mkdir("/d"), "Remove": s.Remove("/f"), "RemoveDir": s.RemoveDir("/d"),
		"Rename": s.Rename("/f", "/g"), "Chtimes": s.Chtimes("/f", time.Now()), "Upload": upErr,
	} {
		if err != errReadOnly {
			t.Errorf("%s: %v, want the read-only refusal", name, err)
		}
	}
}

// TestTLSRequiredForOneUser: a user who needs TLS cannot log in over a
// plain control connection (530 saying to use AUTH TLS, on a connection
// that stays open) nor transfer without PROT P (521); another user of
// the same server still logs in without TLS.
func TestTLSRequiredForOneUser(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.write("/f.txt", "secret")
	e.addUser("plain.bob")
	yes := true
	e.setControls(testUser, domain.ControlsChange{TLSRequired: &yes})

	r := e.raw()
	r.must(331, "USER %s", testUser)
	if code, msg := r.cmd("PASS %s", testPass); code != 530 || msg != "TLS is required: use AUTH TLS, then log in." {
		t.Fatalf("log-in without TLS: %d %q", code, msg)
	}
	r.must(200, "NOOP")
	if list := e.Reg.List(); len(list) != 1 || list[0].Username != "" {
		t.Fatalf("the refused log-in shows in the registry: %+v", list)
	}
	r.authTLS()
	r.login(testUser, testPass)
	r.must(200, "PBSZ 0")
	r.must(229, "EPSV")
	if code, msg := r.cmd("RETR f.txt"); code != 521 || !strings.Contains(msg, "PROT P") {
		t.Fatalf("RETR without PROT P: %d %q, want 521", code, msg)
	}
	r.must(200, "PROT P")
	r.prot = true
	data := r.epsv()
	r.must(150, "RETR f.txt")
	if got := readAll(t, data); got != "secret" {
		t.Errorf("RETR over TLS: %q", got)
	}
	r.expect(226)

	wrong := e.raw()
	wrong.must(331, "USER %s", testUser)
	if code, msg := wrong.cmd("PASS Wrong-Pass1"); code != 530 || msg != msgLoginIncorrect {
		t.Errorf("wrong password without TLS: %d %q, want the usual refusal", code, msg)
	}
	if got := string(retr(t, e.dialAs("plain.bob", testPass), "/f.txt", 0)); got != "secret" {
		t.Errorf("plain.bob without TLS: %q", got)
	}
	if got := string(retr(t, e.dial("explicit"), "/f.txt", 0)); got != "secret" {
		t.Errorf("dev.bob with a real client over TLS: %q", got)
	}
}

// TestMaxSessionsForOneUser: a user's own limit of sessions replaces the
// server's per-user limit, higher or lower; the others keep the server's.
func TestMaxSessionsForOneUser(t *testing.T) {
	e := newEnv(t, envOptions{limits: sessions.Limits{MaxPerUser: 1}})
	e.addUser("one.bob")
	three := 3
	e.setControls(testUser, domain.ControlsChange{MaxSessions: &three})
	for range 3 {
		e.raw().login(testUser, testPass)
	}
	r := e.raw()
	r.must(331, "USER %s", testUser)
	if code, msg := r.cmd("PASS %s", testPass); code != 530 || !strings.Contains(msg, "limit 3") {
		t.Errorf("fourth session of dev.bob (own limit 3): %d %q", code, msg)
	}
	e.raw().login("one.bob", testPass)
	r = e.raw()
	r.must(331, "USER one.bob")
	if code, msg := r.cmd("PASS %s", testPass); code != 530 || !strings.Contains(msg, "limit 1") {
		t.Errorf("second session of one.bob (server limit 1): %d %q", code, msg)
	}
}

// TestExpiryEndsLiveSessions: when the user's access ends, its sessions
// end, one in the middle of an upload and an idle one, as a kick ends
// them. The user's last day is tomorrow; the server's clock stands still
// 3 seconds before the end of it, so each session ends 3 seconds after
// its log-in.
func TestExpiryEndsLiveSessions(t *testing.T) {
	now := time.Now().UTC()
	tomorrow := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
	end := tomorrow.AddDate(0, 0, 1)
	e := newEnv(t, envOptions{now: func() time.Time { return end.Add(-3 * time.Second) }})
	e.addUser("other.bob")
	day := tomorrow.Format(domain.DateLayout)
	e.setControls(testUser, domain.ControlsChange{Expires: &day})

	busy := e.raw()
	busy.login(testUser, testPass)
	slowStor(t, busy, "up.bin")
	idle := e.raw()
	idle.login(testUser, testPass)
	other := e.raw()
	other.login("other.bob", testPass)
	if n := len(e.Reg.List()); n != 3 {
		t.Fatalf("%d sessions before the end of the day, want 3", n)
	}

	eventually(t, 20*time.Second, "the expired user's sessions to end", func() bool {
		for _, s := range e.Reg.List() {
			if s.Username == testUser {
				return false
			}
		}
		return true
	})
	for name, r := range map[string]*raw{"idle": idle, "uploading": busy} {
		_ = r.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.Copy(io.Discard, r.conn); err != nil {
			t.Errorf("%s session: %v, want the connection closed", name, err)
		}
	}
	logs := e.waitLog("FTP session ended: the user's access expired")
	if n := strings.Count(logs, "FTP session ended: the user's access expired"); n != 2 {
		t.Errorf("%d expiry lines, want 2", n)
	}
	other.must(200, "NOOP") // another user is not touched
}

// TestExtendedExpiryKeepsSessions: a session checks the user's expiry
// again when the one it logged in with comes. Extending the date or
// removing it ends no session and so reaches no session; the sessions of
// those users go on, while a user whose date stayed is ended. The server's
// clock stands still 5 seconds before the end of the users' last day.
func TestExtendedExpiryKeepsSessions(t *testing.T) {
	now := time.Now().UTC()
	tomorrow := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
	end := tomorrow.AddDate(0, 0, 1)
	e := newEnv(t, envOptions{now: func() time.Time { return end.Add(-5 * time.Second) }})
	day := tomorrow.Format(domain.DateLayout)
	users := []string{testUser, "never.bob", "kept.bob"}
	conns := map[string]*raw{}
	for _, u := range users {
		if u != testUser {
			e.addUser(u)
		}
		e.setControls(u, domain.ControlsChange{Expires: &day})
		conns[u] = e.raw()
		conns[u].login(u, testPass)
	}
	later, never := tomorrow.AddDate(0, 0, 1).Format(domain.DateLayout), domain.Never
	e.setControls(testUser, domain.ControlsChange{Expires: &later})
	e.setControls("never.bob", domain.ControlsChange{Expires: &never})
	if n := len(e.Reg.List()); n != 3 {
		t.Fatalf("%d sessions after extending the dates, want 3 (extending ends none)", n)
	}

	eventually(t, 20*time.Second, "the session of the user whose date stayed to end", func() bool {
		for _, s := range e.Reg.List() {
			if s.Username == "kept.bob" {
				return false
			}
		}
		return true
	})
	eventually(t, 20*time.Second, "both extended sessions to check their expiry", func() bool {
		return strings.Count(e.logs.String(), "FTP session goes on: the user's access was extended") == 2
	})
	for _, u := range []string{testUser, "never.bob"} {
		conns[u].must(200, "NOOP")
	}
	if n := len(e.Reg.List()); n != 2 {
		t.Fatalf("%d sessions after the old expiry, want the 2 extended ones", n)
	}
	if n := strings.Count(e.logs.String(), "FTP session ended: the user's access expired"); n != 1 {
		t.Errorf("%d expiry lines, want 1 (kept.bob)", n)
	}
}

// TestServerNameHidden: with the server's name hidden, no reply names
// panelftp: greeting, SYST, STAT, HELP, FEAT, before and after log-in.
func TestServerNameHidden(t *testing.T) {
	e := newEnv(t, envOptions{})
	replies := func() string {
		r := e.raw()
		all := []string{r.greeting}
		for _, cmd := range []string{"SYST", "STAT", "HELP", "FEAT", "HELP SITE", "SITE HELP", "NOOP"} {
			_, msg := r.cmd("%s", cmd)
			all = append(all, msg)
		}
		r.login(testUser, testPass)
		for _, cmd := range []string{"SYST", "STAT", "HELP", "FEAT", "PWD", "STAT /", "XYZZY", "QUIT"} {
			_, msg := r.cmd("%s", cmd)
			all = append(all, msg)
		}
		return strings.Join(all, "\n")
	}
	if got := replies(); !strings.Contains(strings.ToLower(got), "panelftp") {
		t.Fatalf("the default greeting does not name the server:\n%s", got)
	}
	if err := e.Srv.SetLive(Live{Greeting: domain.Settings{HideServerName: true}.Greeting()}); err != nil {
		t.Fatal(err)
	}
	if got := replies(); strings.Contains(strings.ToLower(got), "panelftp") {
		t.Errorf("a reply names the server although its name is hidden:\n%s", got)
	}
}

// TestLiveStatusFollowsCommands: the registry learns TLS and the client's
// name when AUTH TLS, PROT and CLNT arrive, before and after log-in.
func TestLiveStatusFollowsCommands(t *testing.T) {
	e := newEnv(t, envOptions{})
	r := e.raw()
	status := func() domain.Session {
		t.Helper()
		list := e.Reg.List()
		if len(list) != 1 {
			t.Fatalf("%d sessions", len(list))
		}
		return list[0]
	}
	r.must(200, "CLNT Early Client 1.0")
	if s := status(); s.Client != "Early Client 1.0" || s.TLSControl {
		t.Errorf("after CLNT: client %q, TLS %v", s.Client, s.TLSControl)
	}
	r.authTLS()
	r.must(200, "NOOP") // the handshake is over once a reply arrives
	if s := status(); !s.TLSControl || s.TLSData {
		t.Errorf("after AUTH TLS: control %v, data %v", s.TLSControl, s.TLSData)
	}
	r.login(testUser, testPass)
	r.must(200, "PBSZ 0")
	r.must(200, "PROT P")
	if s := status(); !s.TLSData {
		t.Error("after PROT P the session shows clear data connections")
	}
	r.must(200, "CLNT FileZilla 3.69")
	if s := status(); s.Client != "FileZilla 3.69" {
		t.Errorf("after a second CLNT: client %q", s.Client)
	}
	r.must(200, "PROT C")
	if s := status(); s.TLSData {
		t.Error("after PROT C the session shows TLS data connections")
	}
}
