package ftpd

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"

	"github.com/panelftp/panelftp/internal/auth"
	"github.com/panelftp/panelftp/internal/defender"
	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/service"
	"github.com/panelftp/panelftp/internal/sessions"
	"github.com/panelftp/panelftp/internal/store"
	"github.com/panelftp/panelftp/internal/store/sqlstore"
)

const (
	testUser = "dev.bob"
	testPass = "Secret-Pass1"
	// testUID owns what clients create when the tests run as root.
	testUID = 4242
)

// env is a real FTP service on 127.0.0.1:0 over a real SQLite store and
// service: account "bob" with home Home and sub-user dev.bob locked into
// Home/site (= Root).
type env struct {
	t      testing.TB
	Svc    *service.Service
	Store  *sqlstore.Store
	Hasher *auth.Hasher
	Def    *defender.Defender // nil unless envOptions.ban
	Reg    *sessions.Registry
	Srv    *Server
	Addr   string
	Home   string
	Root   string
	Data   string
	logs   *syncBuffer
	served chan error
}

type envOptions struct {
	cfg    Config
	limits sessions.Limits
	quota  int64 // MB
	// maxFiles is dev.bob's file limit.
	maxFiles int64
	// hasher replaces the cheap test hasher.
	hasher *auth.Hasher
	// ban, when set, makes a defender with it on the env's store the
	// server's Guard.
	ban *defender.Config
	// wrap, when set, wraps the store the service uses.
	wrap func(store.Store) store.Store
	// home, when set, is the account's home instead of a new temporary
	// folder.
	home string
	// authWait replaces authTimeout.
	authWait time.Duration
	// now replaces the server's clock of the users' expiry.
	now func() time.Time
	// quiet logs warnings and errors only, keeping the last 1 MB.
	quiet bool
}

func newEnv(t testing.TB, opts envOptions) *env {
	t.Helper()
	e := &env{t: t, Data: t.TempDir(), Home: opts.home, logs: &syncBuffer{}}
	if e.Home == "" {
		e.Home = t.TempDir()
	}
	st, err := sqlstore.OpenSQLite(e.Data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.Store = st
	level := slog.LevelDebug
	if opts.quiet {
		level, e.logs.limit = slog.LevelWarn, 1<<20
	}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: level}))
	// Cheap hashing: the tests log in often, under the race detector.
	e.Hasher = opts.hasher
	if e.Hasher == nil {
		e.Hasher = auth.NewHasher(auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 4)
	}
	var svcStore store.Store = st
	if opts.wrap != nil {
		svcStore = opts.wrap(st)
	}
	e.Svc = service.New(svcStore, e.Hasher, service.Options{Logger: log})
	uid := domain.NoID
	if os.Geteuid() == 0 {
		uid = testUID
	}
	ctx := t.Context()
	if _, err := e.Svc.AddAccount(ctx, domain.NewAccount{Name: "bob", Home: e.Home, UID: uid, GID: uid}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.AddFTPUser(ctx, domain.NewFTPUser{Account: "bob", Username: testUser, Password: testPass, Path: "/site", QuotaMB: opts.quota}); err != nil {
		t.Fatal(err)
	}
	if opts.maxFiles > 0 {
		if _, _, err := e.Svc.SetFTPControls(ctx, "bob", testUser, domain.ControlsChange{MaxFiles: &opts.maxFiles}); err != nil {
			t.Fatal(err)
		}
	}
	e.Root = filepath.Join(e.Home, "site")

	cfg := opts.cfg
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = "127.0.0.1:0"
	}
	if cfg.Quotas == nil {
		cfg.Quotas = st
	}
	if opts.ban != nil {
		e.Def = defender.New(*opts.ban, st, log)
		cfg.Guard = e.Def
	}
	e.Reg = sessions.NewRegistry(opts.limits)
	e.Srv, err = New(cfg, e.Svc, e.Reg, log)
	if err != nil {
		t.Fatal(err)
	}
	if opts.authWait > 0 {
		e.Srv.authWait = opts.authWait
	}
	if opts.now != nil {
		e.Srv.now = opts.now
	}
	e.Addr = e.Srv.Addr().String()
	e.served = make(chan error, 1)
	go func() { e.served <- e.Srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.Srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-e.served; err != nil {
			t.Errorf("Serve: %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", e.logs.String())
		}
	})
	return e
}

// setControls changes the controls of username, a sub-user of bob.
func (e *env) setControls(username string, ch domain.ControlsChange) {
	e.t.Helper()
	if _, _, err := e.Svc.SetFTPControls(context.Background(), "bob", username, ch); err != nil {
		e.t.Fatal(err)
	}
}

// addUser adds username, another sub-user of bob locked into Root, with
// dev.bob's password.
func (e *env) addUser(username string) {
	e.t.Helper()
	if _, err := e.Svc.AddFTPUser(context.Background(), domain.NewFTPUser{Account: "bob", Username: username, Password: testPass, Path: "/site"}); err != nil {
		e.t.Fatal(err)
	}
}

// dial logs dev.bob in with the jlaffaye client; tlsMode "explicit" uses
// AUTH TLS and PROT P.
func (e *env) dial(tlsMode string, opts ...ftp.DialOption) *ftp.ServerConn {
	e.t.Helper()
	opts = append([]ftp.DialOption{ftp.DialWithTimeout(10 * time.Second)}, opts...)
	if tlsMode == "explicit" {
		opts = append(opts, ftp.DialWithExplicitTLS(&tls.Config{InsecureSkipVerify: true}))
	}
	c, err := ftp.Dial(e.Addr, opts...)
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	if err := c.Login(testUser, testPass); err != nil {
		e.t.Fatalf("login: %v", err)
	}
	e.t.Cleanup(func() { c.Quit() })
	return c
}

// file returns the path of name under the user's root on disk.
func (e *env) file(name string) string { return filepath.Join(e.Root, filepath.FromSlash(name)) }

func (e *env) write(name, content string) {
	e.t.Helper()
	p := e.file(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
	e.give(p)
}

// give makes p, and the folders above it up to the user's root, the
// account's when the tests run as root: files a website's owner put there.
func (e *env) give(p string) {
	if os.Geteuid() != 0 {
		return
	}
	for ; strings.HasPrefix(p, e.Root+string(filepath.Separator)); p = filepath.Dir(p) {
		if err := os.Lchown(p, testUID, testUID); err != nil {
			e.t.Fatal(err)
		}
	}
}

// sparse creates a file of size zero bytes without writing them.
func (e *env) sparse(name string, size int64) {
	e.t.Helper()
	e.write(name, "")
	if err := os.Truncate(e.file(name), size); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) read(name string) string {
	e.t.Helper()
	b, err := os.ReadFile(e.file(name))
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

// waitLog waits until the server log contains s.
func (e *env) waitLog(s string) string {
	e.t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		logs := e.logs.String()
		if strings.Contains(logs, s) {
			return logs
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("server log never contained %q", s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's goroutines. With a
// limit it keeps only about the last limit bytes (for long fuzz runs),
// and it counts the lines that report a recovered panic either way.
type syncBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	limit  int
	panics int
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if bytes.Contains(p, []byte("panic")) || bytes.Contains(p, []byte("Internal command handling error")) {
		s.panics++
	}
	if s.limit > 0 && s.b.Len()+len(p) > s.limit {
		keep := append([]byte(nil), s.b.Bytes()[s.b.Len()/2:]...)
		s.b.Reset()
		s.b.Write(keep)
	}
	return s.b.Write(p)
}

// Panics counts the log lines about a recovered panic.
func (s *syncBuffer) Panics() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.panics
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// raw is a hand-driven FTP control connection, for what the jlaffaye
// client cannot send.
type raw struct {
	t    testing.TB
	conn net.Conn
	tp   *textproto.Conn
	prot bool // PROT P: data connections use TLS
	// greeting is the text of the first reply.
	greeting string
}

func (e *env) raw() *raw {
	e.t.Helper()
	return dialRaw(e.t, e.Addr, "220")
}

func dialRaw(t testing.TB, addr, wantGreeting string) *raw {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	r := &raw{t: t, conn: conn, tp: textproto.NewConn(conn)}
	t.Cleanup(func() { conn.Close() })
	code, msg := r.read()
	if !strings.HasPrefix(fmt.Sprint(code), wantGreeting) {
		t.Fatalf("greeting %d %s, want %s", code, msg, wantGreeting)
	}
	r.greeting = msg
	return r
}

// read reads one (possibly multi-line) reply; code 0 means the
// connection was closed.
func (r *raw) read() (int, string) {
	r.t.Helper()
	_ = r.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	code, msg, err := r.tp.ReadResponse(0)
	if err != nil && code == 0 {
		return 0, err.Error()
	}
	return code, msg
}

// cmd sends a command and returns the reply.
func (r *raw) cmd(format string, args ...any) (int, string) {
	r.t.Helper()
	if err := r.tp.PrintfLine(format, args...); err != nil {
		return 0, err.Error()
	}
	return r.read()
}

// must sends a command and fails the test unless the reply has code want.
func (r *raw) must(want int, format string, args ...any) string {
	r.t.Helper()
	code, msg := r.cmd(format, args...)
	if code != want {
		r.t.Fatalf("%s: got %d %q, want %d", fmt.Sprintf(format, args...), code, msg, want)
	}
	return msg
}

// expect reads the next reply and fails the test unless it has code want.
func (r *raw) expect(want int) string {
	r.t.Helper()
	code, msg := r.read()
	if code != want {
		r.t.Fatalf("got reply %d %q, want %d", code, msg, want)
	}
	return msg
}

func (r *raw) login(user, pass string) {
	r.t.Helper()
	r.must(331, "USER %s", user)
	r.must(230, "PASS %s", pass)
}

// authTLS upgrades the control connection.
func (r *raw) authTLS() {
	r.t.Helper()
	r.must(234, "AUTH TLS")
	tc := tls.Client(r.conn, &tls.Config{InsecureSkipVerify: true})
	r.conn, r.tp = tc, textproto.NewConn(tc)
}

// epsv opens a passive data connection.
func (r *raw) epsv() net.Conn {
	r.t.Helper()
	msg := r.must(229, "EPSV")
	var port int
	if _, err := fmt.Sscanf(msg[strings.Index(msg, "(|||"):], "(|||%d|)", &port); err != nil {
		r.t.Fatalf("EPSV reply %q: %v", msg, err)
	}
	host, _, _ := net.SplitHostPort(r.conn.RemoteAddr().String())
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(host, fmt.Sprint(port)), 5*time.Second)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { conn.Close() })
	if r.prot {
		return tls.Client(conn, &tls.Config{InsecureSkipVerify: true})
	}
	return conn
}

// readAll reads a data connection to its end.
func readAll(t testing.TB, c net.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading data connection: %v", err)
	}
	return string(b)
}

// settle is how long a test waits for what must happen when how soon it
// happens is not what the test checks: generous, so that only a real
// failure, never a loaded machine, turns a run red.
const settle = 30 * time.Second

// checkFired checks that a timeout of d fired when it should: took is
// measured from before the client's step that starts the product's timer
// (connecting, sending a command), so it is at least d however loaded
// the machine, timers never firing early. It must stay under 2.9 d: a
// timer three times too long fails even on an idle machine, and a loaded
// one has 1.9 d for the step and its own delays.
func checkFired(t testing.TB, what string, took, d time.Duration) {
	t.Helper()
	if lo, hi := d, 3*d-d/10; took < lo || took > hi {
		t.Errorf("%s after %v, want between %v and %v (a timeout of %v)", what, took, lo, hi, d)
	}
}

// eventually polls cond for up to d.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
