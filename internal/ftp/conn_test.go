package ftp

import (
	"context"
	"crypto/tls"
	"fmt"
	"io/fs"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRefusedAtConnect: a connection the backend refuses reads its
// reply, plain or implicit TLS, and is closed.
func TestRefusedAtConnect(t *testing.T) {
	t.Parallel()
	be := &testBackend{dir: t.TempDir(), refuse: &Error{421, "Your IP address is banned until 18:00 UTC."}}
	ts := serve(t, &Server{Backend: be, TLSConfig: testTLS(t)})
	c := dialClient(t, ts.addr, 421)
	if c.greeting != "Your IP address is banned until 18:00 UTC." {
		t.Errorf("greeting %q", c.greeting)
	}
	if code, _ := c.read(); code != 0 {
		t.Error("refused connection still open")
	}
	ln := listenLocal(t)
	go ts.srv.ServeTLS(ln)
	conn, err := tls.Dial("tcp", ln.Addr().String(), clientTLS())
	if err != nil {
		t.Fatal(err)
	}
	if c := wrapClient(t, conn, 421); !strings.Contains(c.greeting, "banned") {
		t.Errorf("implicit TLS greeting %q", c.greeting)
	}
}

// TestLoginRefused: a refused log-in reads the backend's reply (530
// "Login incorrect." for a plain error) and the connection closes.
func TestLoginRefused(t *testing.T) {
	t.Parallel()
	ts := serve(t, &Server{})
	for _, tc := range []struct {
		err  error
		code int
		msg  string
	}{
		{nil, 530, "Login incorrect."}, // wrong password
		{&Error{421, "Server busy, please try again in a moment."}, 421, "Server busy, please try again in a moment."},
		{&Error{530, "Too many sessions for this user (limit 1)."}, 530, "Too many sessions for this user (limit 1)."},
	} {
		ts.be.mu.Lock()
		ts.be.loginErr = tc.err
		ts.be.mu.Unlock()
		c := ts.dial()
		c.must(331, "USER %s", testUser)
		pass := testPass
		if tc.err == nil {
			pass = "wrong"
		}
		if code, msg := c.cmd("PASS %s", pass); code != tc.code || msg != tc.msg {
			t.Errorf("PASS: %d %q, want %d %q", code, msg, tc.code, tc.msg)
		}
		if code, _ := c.read(); code != 0 {
			t.Errorf("connection open after %d", tc.code)
		}
	}
}

// TestPanicRecovered: a panic in a connection is logged with its stack
// and answered 421; the server goes on serving.
func TestPanicRecovered(t *testing.T) {
	t.Parallel()
	ts := serve(t, &Server{})
	ts.be.panicLogin = true
	c := ts.dial()
	c.must(331, "USER %s", testUser)
	if code, msg := c.cmd("PASS %s", testPass); code != 421 || msg != "Internal error; closing the connection." {
		t.Errorf("PASS to a panicking backend: %d %q", code, msg)
	}
	logs := ts.logs.String()
	if !strings.Contains(logs, `msg="panic in FTP connection" remote=127.0.0.1:`) || !strings.Contains(logs, "panic=boom stack=") ||
		!strings.Contains(logs, "testClient).Login") {
		t.Errorf("panic not logged with its stack:\n%s", logs)
	}
	ts.be.mu.Lock()
	ts.be.panicLogin = false
	ts.be.mu.Unlock()
	ts.dial().login()
	eventually(t, 5*time.Second, "Client.Close after the panic", func() bool { return ts.be.closedCount() >= 1 })
}

// TestTimeouts: a client that does not log in within LoginTimeout is
// closed even while it sends commands; a silent one after IdleTimeout.
func TestTimeouts(t *testing.T) {
	t.Parallel()
	ts := serve(t, &Server{LoginTimeout: time.Second, IdleTimeout: time.Second, TLSConfig: testTLS(t)})
	for _, useTLS := range []bool{false, true} {
		c := ts.dial()
		if useTLS {
			c.authTLS(clientTLS())
		}
		start := time.Now()
		var code int
		var msg string
		for code, msg = c.cmd("NOOP"); code == 200; code, msg = c.cmd("NOOP") {
			if time.Since(start) > 10*time.Second {
				t.Fatal("still connected after 10s")
			}
			time.Sleep(50 * time.Millisecond)
		}
		if code != 421 || msg != "Log-in timeout: log in within 1 seconds of connecting." {
			t.Errorf("TLS %v: %d %q, want the log-in timeout", useTLS, code, msg)
		}
		if code, _ := c.read(); code != 0 {
			t.Error("connection open after the log-in timeout")
		}
	}
	c := ts.dial()
	c.login()
	start := time.Now()
	if code, msg := c.read(); code != 421 || !strings.Contains(msg, "Idle timeout") {
		t.Errorf("idle: %d %q", code, msg)
	}
	if took := time.Since(start); took < 900*time.Millisecond {
		t.Errorf("idle timeout after %v, want 1s", took)
	}
}

// TestLineTooLong: a command line of MaxCommandLine bytes is served; one
// byte more reads 500 and closes the connection, plain or over TLS.
func TestLineTooLong(t *testing.T) {
	t.Parallel()
	ts := serve(t, &Server{TLSConfig: testTLS(t)})
	for _, useTLS := range []bool{false, true} {
		c := ts.dial()
		if useTLS {
			c.authTLS(clientTLS())
		}
		c.must(200, "NOOP %s", strings.Repeat("x", MaxCommandLine-len("NOOP ")-2))
		go fmt.Fprintf(c.conn, "NOOP\r\nNOOP %s\r\n", strings.Repeat("x", 10<<20))
		c.expect(200)
		if msg := c.expect(500); msg != "Command line too long (limit 4096 bytes)." {
			t.Errorf("reply %q", msg)
		}
		if code, _ := c.read(); code != 0 {
			t.Errorf("TLS %v: connection open after the 500", useTLS)
		}
	}
}

// TestAuthTLSDropsPlainText: commands sent in clear after AUTH TLS, in
// the same packet, never run: a man in the middle cannot inject them into
// the protected session.
func TestAuthTLSDropsPlainText(t *testing.T) {
	t.Parallel()
	ts := serve(t, &Server{TLSConfig: testTLS(t)})
	c := ts.dial()
	fmt.Fprintf(c.conn, "AUTH TLS\r\nUSER %s\r\n", testUser)
	c.expect(234)
	tc := tls.Client(c.conn, clientTLS())
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.conn, c.tp = tc, textproto.NewConn(tc)
	c.must(503, "PASS %s", testPass) // the USER was dropped
}

// TestErrorsNeverLeak: errors a backend does not classify, with system
// call names and host paths in their text, reach the client as plain
// sentences.
func TestErrorsNeverLeak(t *testing.T) {
	t.Parallel()
	ts := serve(t, &Server{})
	ts.write("/d/f.txt", "x")
	secret := "/srv/host/secret-path"
	ts.be.rawErrors = map[string]error{
		"/weird": &fs.PathError{Op: "openat", Path: secret, Err: syscall.EINVAL},
		"/gone":  &fs.PathError{Op: "statat", Path: secret, Err: syscall.ENOENT},
	}
	ts.be.failDir = map[string]error{"/d": fmt.Errorf("readdirent %s: %w", secret, syscall.EIO)}
	ts.be.downloadFn = func(string) error {
		return fmt.Errorf("driver error: calling GetHandle: openat %s: path escapes", secret)
	}
	c := ts.dial()
	c.login()
	for _, cmd := range []string{"SIZE weird", "SIZE gone", "CWD weird", "MDTM weird", "MLST weird", "STAT weird", "LIST d", "RETR d/f.txt"} {
		if strings.HasPrefix(cmd, "LIST") || strings.HasPrefix(cmd, "RETR") {
			c.must(229, "EPSV")
		}
		code, msg := c.cmd("%s", cmd)
		if leak := goErrorText(msg, secret); code < 400 || leak != "" {
			t.Errorf("%s: %d %q shows %q", cmd, code, msg, leak)
		}
	}
}

// TestShutdown: Shutdown closes idle connections with a 421, lets a
// running upload finish and returns when it has.
func TestShutdown(t *testing.T) {
	t.Parallel()
	be := &testBackend{dir: t.TempDir()}
	srv := &Server{Backend: be}
	ln := listenLocal(t)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	idle := dialClient(t, ln.Addr().String(), 220)
	idle.login()
	busy := dialClient(t, ln.Addr().String(), 220)
	busy.login()
	data := busy.epsv()
	busy.must(150, "STOR up.bin")
	data.Write([]byte("before"))
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(context.Background()) }()
	if code, msg := idle.read(); code != 421 || !strings.Contains(msg, "shutting down") {
		t.Errorf("idle connection: %d %q", code, msg)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("new connections still accepted")
	}
	data.Write([]byte(" after"))
	data.Close()
	busy.expect(226)
	select {
	case err := <-shut:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown did not return after the transfer")
	}
	if b, _ := os.ReadFile(filepath.Join(be.dir, "up.bin")); string(b) != "before after" {
		t.Errorf("upload cut by Shutdown: %q", b)
	}
	if err := <-served; err != ErrServerClosed {
		t.Errorf("Serve: %v", err)
	}
}

// goErrorText returns what in a reply looks like a Go error's text or a
// host path, "" if nothing.
func goErrorText(reply string, hostPaths ...string) string {
	for _, s := range append([]string{
		"%!", "%s", "%v", "openat", "statat", "readdirent", "lstat", "unlinkat", "mkdirat", "renameat",
		"no such file or directory", "invalid argument", "input/output error",
		"file exists", "not a directory", "is a directory", "path escapes", "driver error", "<nil>", "os.", "errors.",
	}, hostPaths...) {
		if strings.Contains(strings.ToLower(reply), strings.ToLower(s)) {
			return s
		}
	}
	return ""
}
