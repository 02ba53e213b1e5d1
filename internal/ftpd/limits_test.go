package ftpd

import (
	"crypto/tls"
	"log/slog"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/auth"
	"github.com/panelftp/panelftp/internal/defender"
	"github.com/panelftp/panelftp/internal/sessions"
)

// TestLoginTimeout: a client that does not log in within LoginTimeout is
// disconnected with a 421, even while it keeps sending commands, plain
// or over TLS.
func TestLoginTimeout(t *testing.T) {
	const timeout = time.Second
	e := newEnv(t, envOptions{cfg: Config{LoginTimeout: timeout}})
	// busy keeps r sending commands until the 421 and returns it and how
	// long after start it came.
	busy := func(t *testing.T, r *raw, start time.Time) (int, string, time.Duration) {
		for time.Since(start) < settle {
			code, msg := r.cmd("NOOP")
			if code != 200 {
				return code, msg, time.Since(start)
			}
			// The timeout can as well fall between the NOOP and this.
			if code, msg := r.cmd("JUNK %d", time.Now().UnixNano()); code == 421 {
				return code, msg, time.Since(start)
			} else if code != 500 {
				t.Fatalf("junk command: %d", code)
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("still connected after %v", settle)
		return 0, "", 0
	}
	t.Run("plain", func(t *testing.T) {
		start := time.Now() // the timer starts when the server accepts
		r := e.raw()
		r.must(331, "USER %s", testUser)
		code, msg, took := busy(t, r, start)
		if code != 421 || msg != "Log-in timeout: log in within 1 seconds of connecting." {
			t.Fatalf("got %d %q, want the 421 log-in timeout", code, msg)
		}
		if code, _ := r.read(); code != 0 {
			t.Error("connection still open after the log-in timeout")
		}
		checkFired(t, "log-in timeout", took, timeout)
	})
	t.Run("TLS", func(t *testing.T) {
		start := time.Now()
		r := e.raw()
		r.authTLS()
		r.must(331, "USER %s", testUser)
		code, msg, took := busy(t, r, start)
		if code != 421 || !strings.HasPrefix(msg, "Log-in timeout") {
			t.Fatalf("got %d %q, want the 421 log-in timeout", code, msg)
		}
		checkFired(t, "log-in timeout", took, timeout)
	})
	t.Run("TLS without USER", func(t *testing.T) {
		start := time.Now()
		r := e.raw()
		r.authTLS()
		code, msg, took := busy(t, r, start)
		if code != 421 || !strings.HasPrefix(msg, "Log-in timeout") {
			t.Fatalf("got %d %q, want the 421 log-in timeout", code, msg)
		}
		checkFired(t, "log-in timeout", took, timeout)
	})
	t.Run("logged in", func(t *testing.T) {
		r := e.raw()
		r.login(testUser, testPass)
		time.Sleep(timeout + timeout/2)
		r.must(200, "NOOP")
	})
}

// TestCommandLineTooLong: a line longer than MaxCommandLine gets a 500
// and the connection is closed, after the replies to the lines before
// it; a line of exactly the limit is served.
func TestCommandLineTooLong(t *testing.T) {
	e := newEnv(t, envOptions{})
	t.Run("at the limit", func(t *testing.T) {
		r := e.raw()
		defer r.conn.Close()
		line := "NOOP " + strings.Repeat("x", MaxCommandLine-len("NOOP ")-2)
		r.must(200, "%s", line)
	})
	for _, tc := range []struct {
		name  string
		bytes int
	}{
		{"one byte over", MaxCommandLine - len("NOOP ") - 1},
		{"10 MB", 10 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.raw()
			r.login(testUser, testPass)
			long := "NOOP\r\nPWD\r\nNOOP " + strings.Repeat("x", tc.bytes) + "\r\n"
			go func() { _, _ = r.conn.Write([]byte(long)) }() // fails once the server closes
			r.expect(200)
			r.expect(257)
			if msg := r.expect(500); msg != "Command line too long (limit 4096 bytes)." {
				t.Errorf("reply %q", msg)
			}
			if code, _ := r.read(); code != 0 {
				t.Error("connection still open after the 500")
			}
		})
	}
	t.Run("after AUTH TLS", func(t *testing.T) {
		r := e.raw()
		r.authTLS()
		r.login(testUser, testPass)
		go func() { _, _ = r.conn.Write([]byte("NOOP " + strings.Repeat("x", 1<<20) + "\r\n")) }()
		if msg := r.expect(500); msg != "Command line too long (limit 4096 bytes)." {
			t.Errorf("reply %q", msg)
		}
		if code, msg := r.read(); code != 0 {
			t.Fatalf("got %d %q, want the connection closed", code, msg)
		}
	})
	eventually(t, settle, "sessions gone", func() bool { return e.Reg.Len() == 0 })
}

// TestPathTooLong: a path longer than MaxPathLength, which the current
// folder can make of a short argument, is refused: 553 for uploads and
// renames, 550 otherwise.
func TestPathTooLong(t *testing.T) {
	e := newEnv(t, envOptions{})
	seg := strings.Repeat("d", 200)
	deep := strings.Repeat("/"+seg, 18) // 3618 bytes
	if err := os.MkdirAll(filepath.Join(e.Root, deep), 0o755); err != nil {
		t.Fatal(err)
	}
	e.write(deep+"/f.txt", "x")
	r := e.raw()
	r.login(testUser, testPass)
	r.must(250, "CWD %s", deep)
	long := strings.Repeat("n", 250) + "/" + strings.Repeat("m", 250) // 4120 bytes once absolute
	for _, tc := range []struct {
		cmd  string
		code int
	}{
		{"MKD " + long, 550},
		{"CWD " + long, 550},
		{"SIZE " + long, 550},
		{"DELE " + long, 550},
		{"STOR " + long, 553},
	} {
		code, msg := r.cmd("%s", tc.cmd)
		if code != tc.code || !strings.Contains(msg, "path is longer than 4096 bytes") {
			t.Errorf("%.4s: %d %q, want %d path too long", tc.cmd, code, msg, tc.code)
		}
	}
	r.must(350, "RNFR f.txt")
	if code, msg := r.cmd("RNTO %s", long); code != 553 || !strings.Contains(msg, "path is longer") {
		t.Errorf("RNTO: %d %q, want 553", code, msg)
	}
	r.must(213, "SIZE f.txt") // short paths in the deep folder still work
}

// TestLoginsPerIPPerMinute: past the cap, PASS reads 421 and the
// connection closes, without a password check.
func TestLoginsPerIPPerMinute(t *testing.T) {
	e := newEnv(t, envOptions{cfg: Config{LoginsPerIPPerMinute: 3}})
	for range 2 {
		c := e.dial("")
		_ = c.Quit()
	}
	r := e.raw()
	r.must(331, "USER %s", testUser)
	r.must(530, "PASS Wrong-Pass9") // failures count too
	checks := e.Hasher.Checks()
	r = e.raw()
	r.must(331, "USER %s", testUser)
	code, msg := r.cmd("PASS %s", testPass)
	if code != 421 || msg != "Too many log-ins from your IP address (limit 3 a minute); try again later." {
		t.Fatalf("4th log-in: %d %q", code, msg)
	}
	if code, _ := r.read(); code != 0 {
		t.Error("connection still open after the 421")
	}
	if n := e.Hasher.Checks(); n != checks {
		t.Errorf("refused log-in cost %d hashes", n-checks)
	}
}

// TestBusyHasherDoesNotQueue: with one hash slot taken, a burst of
// parallel log-ins is answered "421 Server busy" once the log-in's
// deadline passes, while the slot is still taken: they do not queue for
// it, none of them runs a hash, and busy is no failed log-in for the
// Guard. Once the slot is free, log-ins work again. The deadline is the
// product's own, shortened; the test judges by the replies, and waits
// for them as long as it takes.
func TestBusyHasherDoesNotQueue(t *testing.T) {
	const n = 40
	h := auth.NewHasher(auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1)
	// The first log-in to get the slot holds it until free is closed:
	// the observer runs once the slot is taken, before the hash.
	held, free := make(chan struct{}), make(chan struct{})
	var armed atomic.Bool
	var first sync.Once
	h.ObserveWait(func(waited time.Duration) {
		if waited == 0 && armed.Load() {
			first.Do(func() { close(held); <-free })
		}
	})
	e := newEnv(t, envOptions{
		hasher: h, authWait: time.Second, ban: &defender.Config{Threshold: 2},
		cfg:    Config{LoginsPerIPPerMinute: -1},
		limits: sessions.Limits{MaxPerIP: -1, MaxPerUser: -1},
	})
	armed.Store(true) // the test user's hash is made
	holder := make(chan int, 1)
	go func() {
		conn, err := textprotoDial(e.Addr)
		if err != nil {
			holder <- 0
			return
		}
		defer conn.Close()
		holder <- loginCode(conn, testUser, testPass)
	}()
	<-held
	checks := h.Checks()

	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			conn, err := textprotoDial(e.Addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			code := loginCode(conn, testUser, testPass)
			mu.Lock()
			codes[code]++
			mu.Unlock()
		})
	}
	answered := make(chan struct{})
	go func() { wg.Wait(); close(answered) }()
	select {
	case <-answered:
	case <-time.After(settle):
		close(free)
		t.Fatalf("after %v, %d log-ins still wait for the hash slot: log-ins queue", settle, n-len(codes))
	}
	ran := h.Checks() - checks
	close(free)
	if codes[421] != n {
		t.Errorf("replies while the slot was taken: %v, want %d × 421 busy", codes, n)
	}
	if ran != 0 {
		t.Errorf("%d hashes ran while the slot was taken", ran)
	}
	<-holder // its reply depends on how long it held the slot
	if _, banned := e.Def.Banned(loopback); banned {
		t.Error("busy replies banned the IP")
	}
	e.dial("") // the slot is free again
}

// textprotoDial connects and reads the greeting.
func textprotoDial(addr string) (*textproto.Conn, error) {
	c, err := textproto.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	if _, _, err := c.ReadResponse(220); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// loginCode sends USER and PASS and returns the reply code to PASS (0 if
// the connection broke).
func loginCode(c *textproto.Conn, user, pass string) int {
	if _, err := c.Cmd("USER %s", user); err != nil {
		return 0
	}
	if _, _, err := c.ReadResponse(331); err != nil {
		return 0
	}
	if _, err := c.Cmd("PASS %s", pass); err != nil {
		return 0
	}
	code, _, _ := c.ReadResponse(0)
	return code
}

// TestTLSReload: ReloadTLS serves replaced certificate files to new
// connections while a TLS session opened before keeps working, and a
// broken replacement keeps the certificate in service.
func TestTLSReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeCert := func() {
		t.Helper()
		_ = os.Remove(certFile)
		_ = os.Remove(keyFile)
		if err := ensureSelfSigned(certFile, keyFile, "", discardLog()); err != nil {
			t.Fatal(err)
		}
	}
	writeCert()
	e := newEnv(t, envOptions{cfg: Config{TLSCertFile: certFile, TLSKeyFile: keyFile}})
	e.write("/f.txt", "file")
	serial := func(r *raw) string {
		return r.conn.(*tls.Conn).ConnectionState().PeerCertificates[0].SerialNumber.String()
	}

	old := e.raw()
	old.authTLS()
	old.login(testUser, testPass)
	old.must(200, "PBSZ 0")
	old.must(200, "PROT P")
	old.prot = true
	first := serial(old)

	writeCert()
	if err := e.Srv.ReloadTLS(); err != nil {
		t.Fatal(err)
	}
	r := e.raw()
	r.authTLS()
	r.login(testUser, testPass)
	second := serial(r)
	if second == first {
		t.Fatal("new connection still gets the old certificate")
	}
	// The session opened before goes on, transfers included.
	data := old.epsv()
	old.must(150, "RETR f.txt")
	if got := readAll(t, data); got != "file" {
		t.Fatalf("download on the old session: %q", got)
	}
	old.expect(226)

	if err := os.WriteFile(keyFile, []byte("broken"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.Srv.ReloadTLS(); err == nil {
		t.Fatal("ReloadTLS accepted a broken key")
	}
	r = e.raw()
	r.authTLS()
	r.must(331, "USER %s", testUser)
	if serial(r) != second {
		t.Error("a broken renewal replaced the certificate in service")
	}
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestTransferLongerThanIdleTimeout: a transfer outlasting IdleTimeout is
// not idle, and the session is still usable after it; then the idle
// timeout applies again. (An upload: the client decides when it ends.)
func TestTransferLongerThanIdleTimeout(t *testing.T) {
	e := newEnv(t, envOptions{cfg: Config{IdleTimeout: time.Second}})
	r := e.raw()
	r.login(testUser, testPass)
	data := r.epsv()
	r.must(150, "STOR up.bin")
	start := time.Now()
	chunk := make([]byte, 64<<10)
	sent := 0
	for time.Since(start) < 2500*time.Millisecond {
		n, err := data.Write(chunk)
		sent += n
		if err != nil {
			t.Fatalf("upload cut after %v: %v", time.Since(start), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	data.Close()
	r.expect(226)
	r.must(200, "NOOP")
	if fi, err := os.Stat(e.file("/up.bin")); err != nil || fi.Size() != int64(sent) {
		t.Fatalf("uploaded file: %v, %v; want %d bytes", fi, err, sent)
	}
	if code, msg := r.read(); code != 421 || !strings.Contains(msg, "timeout") {
		t.Fatalf("idle after the transfer: %d %q, want the 421 timeout", code, msg)
	}
}
