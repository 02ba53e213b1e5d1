package ftpd

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"

	"github.com/panelftp/panelftp/internal/defender"
	"github.com/panelftp/panelftp/internal/domain"
	engine "github.com/panelftp/panelftp/internal/ftp"
	"github.com/panelftp/panelftp/internal/sessions"
)

// TestLoginRefusalsLookAlike checks that an unknown user, a wrong password
// and a disabled user all read the same reply, and that each is logged in
// the fail2ban line without the password.
func TestLoginRefusalsLookAlike(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := t.Context()
	if _, err := e.Svc.AddFTPUser(ctx, domain.NewFTPUser{Account: "bob", Username: "off.bob", Password: "Other-Pass2", Path: "/"}); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.SetFTPUserEnabled(ctx, "bob", "off.bob", false); err != nil {
		t.Fatal(err)
	}
	attempts := []struct{ user, pass, reason string }{
		{"nobody.bob", "Wrong-Pass9", "unknown user or wrong password"},
		{testUser, "Wrong-Pass9", "unknown user or wrong password"},
		{"off.bob", "Other-Pass2", "user disabled"},
	}
	var replies []string
	for _, a := range attempts {
		r := e.raw()
		r.must(331, "USER %s", a.user)
		code, msg := r.cmd("PASS %s", a.pass)
		if code != 530 {
			t.Fatalf("%s: PASS got %d %s, want 530", a.user, code, msg)
		}
		replies = append(replies, msg)
		if code, _ := r.read(); code != 0 {
			t.Errorf("%s: connection still open after a failed log-in", a.user)
		}
		e.waitLog(`msg="FTP login failed" ip=127.0.0.1 user=` + a.user + ` reason="` + a.reason + `"`)
	}
	for _, msg := range replies {
		if msg != msgLoginIncorrect {
			t.Errorf("refusal reads %q, want %q for all", msg, msgLoginIncorrect)
		}
	}
	for _, p := range []string{"Wrong-Pass9", "Other-Pass2", testPass} {
		if strings.Contains(e.logs.String(), p) {
			t.Errorf("a password (%s) is in the log", p)
		}
	}
	e.dial("") // the right password still works
}

// TestTLSRequired refuses USER before AUTH TLS with a 530 that says what
// to do, on a connection that stays open and then takes AUTH TLS; and
// refuses transfers with PROT C (521).
func TestTLSRequired(t *testing.T) {
	e := newEnv(t, envOptions{cfg: Config{TLSRequired: true}})
	e.write("/f.txt", "secret")
	r := e.raw()
	if code, msg := r.cmd("USER %s", testUser); code != 530 || msg != "TLS is required: use AUTH TLS, then log in." {
		t.Fatalf("USER without TLS: %d %s", code, msg)
	}
	r.authTLS()
	r.login(testUser, testPass)
	r.must(200, "PBSZ 0")
	r.must(200, "PROT C")
	data := r.epsv()
	code, msg := r.cmd("RETR f.txt")
	if code != 521 || !strings.Contains(msg, "PROT P") {
		t.Fatalf("RETR with PROT C: %d %s", code, msg)
	}
	_ = data.SetReadDeadline(time.Now().Add(time.Second))
	if b, _ := io.ReadAll(data); bytes.Contains(b, []byte("secret")) {
		t.Fatal("file sent in clear")
	}
	r.must(200, "PROT P")
	r.prot = true
	data = r.epsv()
	r.must(150, "RETR f.txt")
	if got := readAll(t, data); got != "secret" {
		t.Fatalf("RETR with PROT P: %q", got)
	}
	r.expect(226)
}

// TestImplicitTLS serves FTPS on its own port.
func TestImplicitTLS(t *testing.T) {
	e := newEnv(t, envOptions{cfg: Config{ImplicitTLSAddr: "127.0.0.1:0"}})
	c, err := ftp.Dial(e.Srv.ImplicitTLSAddr().String(), ftp.DialWithTimeout(5*time.Second),
		ftp.DialWithTLS(&tls.Config{InsecureSkipVerify: true}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Quit()
	if err := c.Login(testUser, testPass); err != nil {
		t.Fatal(err)
	}
	if err := c.Stor("/tls.txt", strings.NewReader("over TLS")); err != nil {
		t.Fatal(err)
	}
	if e.read("/tls.txt") != "over TLS" {
		t.Fatal("implicit TLS upload differs")
	}
	list := e.Reg.List()
	if len(list) != 1 || !list[0].TLSControl || !list[0].TLSData {
		t.Errorf("session = %+v, want TLS on control and data", list)
	}
}

// TestLimits checks the 421 replies of MaxPerIP and MaxConnections and the
// 530 of MaxPerUser.
func TestLimits(t *testing.T) {
	t.Run("per IP", func(t *testing.T) {
		e := newEnv(t, envOptions{limits: sessions.Limits{MaxPerIP: 2}})
		e.raw()
		e.raw()
		r := dialRaw(t, e.Addr, "421")
		if want := "Too many connections from your IP address (limit 2); try again later."; r.greeting != want {
			t.Errorf("reply %q, want %q", r.greeting, want)
		}
		e.waitLog(`msg="FTP connection refused" ip=127.0.0.1 reason="too many connections from your IP address (limit 2)"`)
	})
	t.Run("total", func(t *testing.T) {
		e := newEnv(t, envOptions{limits: sessions.Limits{MaxConnections: 1}})
		e.raw()
		r := dialRaw(t, e.Addr, "421")
		if want := "Too many connections to this server (limit 1); try again later."; r.greeting != want {
			t.Errorf("reply %q, want %q", r.greeting, want)
		}
	})
	t.Run("per user", func(t *testing.T) {
		e := newEnv(t, envOptions{limits: sessions.Limits{MaxPerUser: 1}})
		e.dial("")
		r := e.raw()
		r.must(331, "USER %s", testUser)
		if code, msg := r.cmd("PASS %s", testPass); code != 530 || msg != "Too many sessions for this user (limit 1)." {
			t.Errorf("second session: %d %q", code, msg)
		}
	})
}

// TestIdleTimeout disconnects a silent client.
func TestIdleTimeout(t *testing.T) {
	const idle = time.Second
	e := newEnv(t, envOptions{cfg: Config{IdleTimeout: idle}})
	r := e.raw()
	r.must(331, "USER %s", testUser)
	start := time.Now() // the server waits for the next command after its reply to PASS
	r.must(230, "PASS %s", testPass)
	code, msg := r.read()
	if code != 421 || !strings.Contains(msg, "timeout") {
		t.Fatalf("idle connection got %d %s, want a 421 timeout", code, msg)
	}
	checkFired(t, "idle timeout", time.Since(start), idle)
	if code, _ := r.read(); code != 0 {
		t.Error("connection still open after the idle timeout")
	}
}

// TestQuota refuses writes past the quota with 552, keeps the partial
// file of a direct upload, and frees space on DELE.
func TestQuota(t *testing.T) {
	e := newEnv(t, envOptions{quota: 1, cfg: Config{UploadMode: UploadDirect}})
	e.write("/old.bin", string(make([]byte, 300<<10))) // measured at log-in
	c := e.dial("")
	if err := c.Stor("/a.bin", bytes.NewReader(make([]byte, 500<<10))); err != nil {
		t.Fatalf("upload within the quota: %v", err)
	}
	err := c.Stor("/b.bin", bytes.NewReader(make([]byte, 500<<10)))
	if err == nil || !strings.Contains(err.Error(), "552") {
		t.Fatalf("upload past the quota: err = %v, want 552", err)
	}
	fi, statErr := os.Stat(e.file("/b.bin"))
	if statErr != nil || fi.Size() != (1<<20)-(800<<10) {
		t.Fatalf("partial file: %v, %v; want the %d bytes that fit", fi, statErr, (1<<20)-(800<<10))
	}
	if err := c.Delete("/a.bin"); err != nil {
		t.Fatal(err)
	}
	if err := c.Stor("/c.bin", bytes.NewReader(make([]byte, 400<<10))); err != nil {
		t.Fatalf("upload after DELE freed space: %v", err)
	}
	e.waitLog(`msg="FTP quota exceeded"`)
}

// TestOwnership checks, as root, that what clients create belongs to the
// account with the umask applied.
func TestOwnership(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files to another uid")
	}
	e := newEnv(t, envOptions{})
	c := e.dial("")
	if err := c.Stor("/owned.txt", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	if err := c.MakeDir("/owned-dir"); err != nil {
		t.Fatal(err)
	}
	for name, mode := range map[string]os.FileMode{"/owned.txt": 0o644, "/owned-dir": 0o755 | os.ModeDir} {
		fi, err := os.Stat(e.file(name))
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid != testUID || st.Gid != testUID || fi.Mode() != mode {
			t.Errorf("%s: owner %d:%d mode %v, want %d:%d %v", name, st.Uid, st.Gid, fi.Mode(), testUID, testUID, mode)
		}
	}
}

// panicAuth is an Authenticator with a bug.
type panicAuth struct{}

func (panicAuth) Authenticate(context.Context, string, string, string) (domain.Login, error) {
	panic("boom")
}

// TestPanicDoesNotStopServer logs in against a panicking authenticator:
// the client reads a 421, the panic is logged with its stack, and the
// server keeps serving.
func TestPanicDoesNotStopServer(t *testing.T) {
	logs := &syncBuffer{}
	srv, err := New(Config{ListenAddr: "127.0.0.1:0"}, panicAuth{}, sessions.NewRegistry(sessions.Limits{}),
		slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	for range 2 {
		r := dialRaw(t, srv.Addr().String(), "220")
		r.must(331, "USER x.bob")
		r.must(421, "PASS y")
	}
	if !strings.Contains(logs.String(), `msg="panic in FTP connection"`) || !strings.Contains(logs.String(), "panic=boom stack=") ||
		!strings.Contains(logs.String(), "panicAuth.Authenticate") {
		t.Errorf("panic not logged with its stack:\n%s", logs)
	}
	if err := srv.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

// TestBusyReply: a log-in the service cannot check in time says so, and
// a fault of the store reads as such, both with a 421.
func TestBusyReply(t *testing.T) {
	c := &client{srv: &Server{log: slog.New(slog.DiscardHandler)}, log: slog.New(slog.DiscardHandler)}
	c.sess, _ = sessions.NewRegistry(sessions.Limits{}).Open(netip.MustParseAddrPort("127.0.0.1:1"), nil)
	for _, tc := range []struct {
		err  error
		want string
	}{
		{domain.ErrBusy, msgBusy},
		{errors.New("database is locked"), msgUnavailable},
	} {
		var reply *engine.Error
		if err := c.authFailed("dev.bob", tc.err); !errors.As(err, &reply) || reply.Code != 421 || reply.Message != tc.want {
			t.Errorf("%v: reply %v, want 421 %q", tc.err, err, tc.want)
		}
	}
}

// TestTLSDataReuse: with TLSDataReuse, a client that resumes its control
// connection's TLS session on data connections transfers as usual; one
// that does not is refused with 522 and its session goes on.
func TestTLSDataReuse(t *testing.T) {
	e := newEnv(t, envOptions{cfg: Config{TLSDataReuse: true}})
	e.write("/f.txt", "hello")
	conf := &tls.Config{InsecureSkipVerify: true, ServerName: "ftp.test", ClientSessionCache: tls.NewLRUClientSessionCache(8)}
	resumes := e.dial("", ftp.DialWithExplicitTLS(conf))
	for range 3 {
		if got := retr(t, resumes, "/f.txt", 0); string(got) != "hello" {
			t.Fatalf("download with session reuse: %q", got)
		}
	}
	if err := resumes.Stor("/up.txt", strings.NewReader("up")); err != nil || e.read("/up.txt") != "up" {
		t.Fatalf("upload with session reuse: %v", err)
	}
	plain := e.dial("explicit")    // no session cache: a new session per connection
	r, err := plain.Retr("/f.txt") // the 522 comes after the 150
	if err == nil {
		b, _ := io.ReadAll(r)
		if len(b) > 0 {
			t.Errorf("data sent without session reuse: %q", b)
		}
		err = r.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "522") {
		t.Fatalf("download without session reuse: %v, want 522", err)
	}
	if err := plain.NoOp(); err != nil {
		t.Fatalf("session after the refusal: %v", err)
	}
	e.waitLog("did not resume the control connection's TLS session")
}

// TestControlRefusals: a user's IP lists refuse the log-in as an
// incorrect one, without counting it towards a ban; an expired user
// learns so once the password is right.
func TestControlRefusals(t *testing.T) {
	e := newEnv(t, envOptions{ban: &defender.Config{Threshold: 2}})
	set := func(ch domain.ControlsChange) {
		t.Helper()
		if _, _, err := e.Svc.SetFTPControls(t.Context(), "bob", testUser, ch); err != nil {
			t.Fatal(err)
		}
	}
	deny := []string{"127.0.0.1"}
	set(domain.ControlsChange{DenyIPs: &deny})
	for range 3 {
		r := e.raw()
		r.must(331, "USER %s", testUser)
		if code, msg := r.cmd("PASS %s", testPass); code != 530 || msg != msgLoginIncorrect {
			t.Fatalf("log-in from a denied IP: %d %q", code, msg)
		}
	}
	if _, banned := e.Def.Banned(loopback); banned {
		t.Error("log-ins refused by the IP lists banned the IP")
	}
	none, past := []string{}, "2001-02-03"
	set(domain.ControlsChange{DenyIPs: &none, Expires: &past})
	r := e.raw()
	r.must(331, "USER %s", testUser)
	if code, msg := r.cmd("PASS %s", testPass); code != 530 || !strings.Contains(msg, "expired on 2001-02-03") {
		t.Errorf("log-in of an expired user: %d %q", code, msg)
	}
}
