package ftp

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The engine's tests run it against this small backend: one user
// ("alice", password "secret") whose session is a folder opened with
// os.Root, and switches for the refusals and faults a real backend has.

const (
	testUser = "alice"
	testPass = "secret"
)

type testBackend struct {
	dir string

	mu         sync.Mutex
	conns      []*Conn
	refuse     error              // Connect's answer
	loginErr   error              // Login's answer
	panicLogin bool               // Login panics
	quota      int64              // bytes an upload may write; 0: no limit
	closed     int                // Client.Close calls
	transfers  []transferRecord   // Transfer.Close calls
	onLogin    func(c *Conn)      // called at each log-in
	failDir    map[string]error   // ReadDir fails for these paths
	rawErrors  map[string]error   // Stat fails with these (unmapped) errors
	loginCtxs  []context.Context  // contexts Login received
	sessions   []*testSession     //
	downloadFn func(string) error // Download fails with its error
	readOnly   error              // ReadOnlySession's answer
	statuses   []string           // what Conn reported at each StatusChanged
	closeReply *Error             // Transfer.Close's answer to a failed transfer
}

type transferRecord struct {
	name string
	err  error
}

func (b *testBackend) Connect(c *Conn) (Client, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.refuse != nil {
		return nil, b.refuse
	}
	b.conns = append(b.conns, c)
	return &testClient{b: b, c: c}, nil
}

func (b *testBackend) lastConn() *Conn {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.conns[len(b.conns)-1]
}

func (b *testBackend) records() []transferRecord {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]transferRecord(nil), b.transfers...)
}

func (b *testBackend) closedCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

type testClient struct {
	b *testBackend
	c *Conn
}

func (cl *testClient) Login(ctx context.Context, user, pass string) (Session, error) {
	b := cl.b
	b.mu.Lock()
	panicLogin, loginErr, onLogin := b.panicLogin, b.loginErr, b.onLogin
	b.loginCtxs = append(b.loginCtxs, ctx)
	b.mu.Unlock()
	if panicLogin {
		panic("boom")
	}
	if loginErr != nil {
		return nil, loginErr
	}
	if user != testUser || pass != testPass {
		return nil, errors.New("wrong password")
	}
	root, err := os.OpenRoot(b.dir)
	if err != nil {
		return nil, err
	}
	if onLogin != nil {
		onLogin(cl.c)
	}
	s := &testSession{b: b, root: root}
	b.mu.Lock()
	b.sessions = append(b.sessions, s)
	b.mu.Unlock()
	return s, nil
}

// StatusChanged implements StatusWatcher: it records what the Conn
// reports, as "control/data/client".
func (cl *testClient) StatusChanged() {
	control, data := cl.c.TLS()
	cl.b.mu.Lock()
	cl.b.statuses = append(cl.b.statuses, fmt.Sprintf("%v/%v/%s", control, data, cl.c.ClientName()))
	cl.b.mu.Unlock()
}

func (cl *testClient) Close() {
	cl.b.mu.Lock()
	cl.b.closed++
	cl.b.mu.Unlock()
}

// testSession is the file system of a log-in: the backend's folder.
type testSession struct {
	b    *testBackend
	root *os.Root
}

func rel(name string) string {
	if name == "/" {
		return "."
	}
	return strings.TrimPrefix(name, "/")
}

func (s *testSession) Stat(name string) (fs.FileInfo, error) {
	s.b.mu.Lock()
	raw := s.b.rawErrors[name]
	s.b.mu.Unlock()
	if raw != nil {
		return nil, raw
	}
	return s.root.Stat(rel(name))
}
func (s *testSession) ReadOnly() error {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	return s.b.readOnly
}
func (s *testSession) Lstat(name string) (fs.FileInfo, error) { return s.root.Lstat(rel(name)) }
func (s *testSession) ReadDir(name string) (Dir, error) {
	s.b.mu.Lock()
	fail := s.b.failDir[name]
	s.b.mu.Unlock()
	if fail != nil {
		return nil, fail
	}
	return s.root.Open(rel(name))
}
func (s *testSession) Mkdir(name string) error     { return s.root.Mkdir(rel(name), 0o755) }
func (s *testSession) Remove(name string) error    { return s.root.Remove(rel(name)) }
func (s *testSession) RemoveDir(name string) error { return s.root.Remove(rel(name)) }
func (s *testSession) Rename(from, to string) error {
	return s.root.Rename(rel(from), rel(to))
}
func (s *testSession) Chtimes(name string, mtime time.Time) error {
	return s.root.Chtimes(rel(name), mtime, mtime)
}

func (s *testSession) Download(name string, offset int64) (Transfer, int64, error) {
	s.b.mu.Lock()
	fn := s.b.downloadFn
	s.b.mu.Unlock()
	if fn != nil {
		if err := fn(name); err != nil {
			return nil, 0, err
		}
	}
	f, err := s.root.Open(rel(name))
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s: %w", name, fs.ErrPermission)
	}
	if err == nil {
		_, err = f.Seek(offset, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return &testTransfer{s: s, f: f, name: name, limit: -1}, max(0, fi.Size()-offset), nil
}

func (s *testSession) Upload(name string, offset int64, appendMode bool) (Transfer, error) {
	flags := os.O_WRONLY | os.O_CREATE
	switch {
	case appendMode:
		flags |= os.O_APPEND
	case offset == 0:
		flags |= os.O_TRUNC
	}
	f, err := s.root.OpenFile(rel(name), flags, 0o644)
	if err != nil {
		return nil, err
	}
	if !appendMode && offset > 0 {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			f.Close()
			return nil, err
		}
	}
	s.b.mu.Lock()
	limit := s.b.quota
	s.b.mu.Unlock()
	if limit == 0 {
		limit = -1
	}
	return &testTransfer{s: s, f: f, name: name, limit: limit}, nil
}

// testTransfer counts what moved; limit (when not -1) caps the bytes.
type testTransfer struct {
	s     *testSession
	f     *os.File
	name  string
	limit int64
	moved int64
}

func (t *testTransfer) File() *os.File { return t.f }

func (t *testTransfer) Allow(n int64) (int64, error) {
	if t.limit < 0 {
		return n, nil
	}
	if room := t.limit - t.moved; room < n {
		return room, ErrQuotaExceeded
	}
	return n, nil
}

func (t *testTransfer) Progress(n int64) { t.moved += n }

func (t *testTransfer) Close(err error) error {
	t.s.b.mu.Lock()
	t.s.b.transfers = append(t.s.b.transfers, transferRecord{t.name, err})
	reply := t.s.b.closeReply
	t.s.b.mu.Unlock()
	if cerr := t.f.Close(); cerr != nil || err == nil || reply == nil {
		return cerr
	}
	return reply
}

var (
	_ Backend         = (*testBackend)(nil)
	_ StatusWatcher   = (*testClient)(nil)
	_ ReadOnlySession = (*testSession)(nil)
)

// testServer is a Server on 127.0.0.1:0 over a testBackend.
type testServer struct {
	t    testing.TB
	srv  *Server
	be   *testBackend
	addr string
	logs *syncBuffer
}

// serve starts srv (fields already set, Backend defaulting to a new
// testBackend over a temporary folder) on 127.0.0.1:0.
func serve(t testing.TB, srv *Server) *testServer {
	t.Helper()
	ts := &testServer{t: t, srv: srv, logs: &syncBuffer{}}
	if srv.Backend == nil {
		srv.Backend = &testBackend{dir: t.TempDir()}
	}
	ts.be, _ = srv.Backend.(*testBackend)
	if srv.Logger == nil {
		srv.Logger = slog.New(slog.NewTextHandler(ts.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = ln.Addr().String()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", ts.logs.String())
		}
	})
	return ts
}

// write puts a file into the backend's folder.
func (ts *testServer) write(name, content string) {
	ts.t.Helper()
	p := filepath.Join(ts.be.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		ts.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		ts.t.Fatal(err)
	}
}

func (ts *testServer) read(name string) string {
	ts.t.Helper()
	b, err := os.ReadFile(filepath.Join(ts.be.dir, filepath.FromSlash(name)))
	if err != nil {
		ts.t.Fatal(err)
	}
	return string(b)
}

// syncBuffer is a log destination safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// client is a hand-driven control connection.
type client struct {
	t    testing.TB
	conn net.Conn
	tp   *textproto.Conn
	tls  *tls.Config // for data connections after PROT P; nil: plain
	// greeting is the first reply.
	greeting string
}

func (ts *testServer) dial() *client {
	ts.t.Helper()
	return dialClient(ts.t, ts.addr, 220)
}

func dialClient(t testing.TB, addr string, want int) *client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return wrapClient(t, conn, want)
}

// wrapClient reads the greeting on conn, which must have code want.
func wrapClient(t testing.TB, conn net.Conn, want int) *client {
	t.Helper()
	t.Cleanup(func() { conn.Close() })
	c := &client{t: t, conn: conn, tp: textproto.NewConn(conn)}
	code, msg := c.read()
	if code != want {
		t.Fatalf("greeting %d %q, want %d", code, msg, want)
	}
	c.greeting = msg
	return c
}

// read reads one reply; code 0 means the connection ended.
func (c *client) read() (int, string) {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	code, msg, err := c.tp.ReadResponse(0)
	if err != nil && code == 0 {
		return 0, err.Error()
	}
	return code, msg
}

func (c *client) cmd(format string, args ...any) (int, string) {
	c.t.Helper()
	if err := c.tp.PrintfLine(format, args...); err != nil {
		return 0, err.Error()
	}
	return c.read()
}

func (c *client) must(want int, format string, args ...any) string {
	c.t.Helper()
	code, msg := c.cmd(format, args...)
	if code != want {
		c.t.Fatalf("%s: got %d %q, want %d", fmt.Sprintf(format, args...), code, msg, want)
	}
	return msg
}

func (c *client) expect(want int) string {
	c.t.Helper()
	code, msg := c.read()
	if code != want {
		c.t.Fatalf("got %d %q, want %d", code, msg, want)
	}
	return msg
}

func (c *client) login() {
	c.t.Helper()
	c.must(331, "USER %s", testUser)
	c.must(230, "PASS %s", testPass)
}

// authTLS upgrades the control connection; conf is also used for data
// connections once PROT P is sent.
func (c *client) authTLS(conf *tls.Config) {
	c.t.Helper()
	c.must(234, "AUTH TLS")
	tc := tls.Client(c.conn, conf)
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("TLS handshake: %v", err)
	}
	c.conn, c.tp, c.tls = tc, textproto.NewConn(tc), conf
}

// epsv asks for a passive port and connects to it, over TLS after PROT P
// (the handshake runs when the connection is first used).
func (c *client) epsv() net.Conn {
	c.t.Helper()
	port := c.epsvPort()
	return c.dialData(port)
}

func (c *client) epsvPort() int {
	c.t.Helper()
	msg := c.must(229, "EPSV")
	var port int
	if _, err := fmt.Sscanf(msg[strings.Index(msg, "(|||"):], "(|||%d|)", &port); err != nil {
		c.t.Fatalf("EPSV reply %q: %v", msg, err)
	}
	return port
}

func (c *client) dialData(port int) net.Conn {
	c.t.Helper()
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { conn.Close() })
	if c.tls != nil {
		return tls.Client(conn, c.tls)
	}
	return conn
}

func readAll(t testing.TB, c net.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading the data connection: %v", err)
	}
	return string(b)
}

func listenLocal(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// eventually polls cond for up to d.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
