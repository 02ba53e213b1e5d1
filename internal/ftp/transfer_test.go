package ftp

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// store uploads content as name over a new passive connection.
func (c *client) store(verb, name string, content []byte) {
	c.t.Helper()
	data := c.epsv()
	c.must(150, "%s %s", verb, name)
	if _, err := data.Write(content); err != nil {
		c.t.Fatal(err)
	}
	data.Close()
	c.expect(226)
}

// retrieve downloads name (or runs a listing command) over a new
// passive connection.
func (c *client) retrieve(command string) string {
	c.t.Helper()
	data := c.epsv()
	c.must(150, "%s", command)
	got := readAll(c.t, data)
	c.expect(226)
	return got
}

// TestTransfers: downloads and uploads, resumed ones and appends, in
// binary and in ASCII, arrive whole; the backend sees each transfer end.
func TestTransfers(t *testing.T) {
	t.Parallel()
	ts := serve(t, &Server{})
	content := randomBytes(t, 3<<20+7)
	ts.write("/big.bin", string(content))
	c := ts.dial()
	c.login()

	if got := c.retrieve("RETR big.bin"); got != string(content) {
		t.Fatalf("RETR: %d bytes, want the file of %d", len(got), len(content))
	}
	c.must(350, "REST 1000000")
	if got := c.retrieve("RETR big.bin"); got != string(content[1000000:]) {
		t.Fatalf("REST+RETR: %d bytes, want the tail", len(got))
	}
	c.store("STOR", "up.bin", content)
	if ts.read("/up.bin") != string(content) {
		t.Fatal("STOR: the file differs")
	}
	c.store("STOR", "part.bin", content[:100])
	c.must(350, "REST 100")
	c.store("STOR", "part.bin", content[100:])
	if ts.read("/part.bin") != string(content) {
		t.Fatal("REST+STOR: the file differs")
	}
	c.store("APPE", "part.bin", []byte("tail"))
	if ts.read("/part.bin") != string(content)+"tail" {
		t.Fatal("APPE: the file differs")
	}
	c.store("STOR", "empty", nil)
	if got := c.retrieve("RETR empty"); got != "" || ts.read("/empty") != "" {
		t.Fatal("an empty file is not empty")
	}
	c.must(200, "TYPE A")
	c.store("STOR", "text.txt", []byte("one\r\ntwo\r\nlone\rcr\r\n"))
	if got := ts.read("/text.txt"); got != "one\ntwo\nlone\rcr\n" {
		t.Fatalf("ASCII upload stored %q", got)
	}
	ts.write("/unix.txt", "a\nb\r\nc\n")
	if got := c.retrieve("RETR unix.txt"); got != "a\r\nb\r\nc\r\n" {
		t.Fatalf("ASCII download sent %q", got)
	}
	c.must(200, "TYPE I")
	if got := c.retrieve("RETR unix.txt"); got != "a\nb\r\nc\n" {
		t.Fatalf("binary download sent %q", got)
	}
	for _, r := range ts.be.records() {
		if r.err != nil {
			t.Errorf("transfer of %s ended with %v", r.name, r.err)
		}
	}
	if n := len(ts.be.records()); n != 11 {
		t.Errorf("%d transfers recorded, want 11", n)
	}
}

// TestListings checks the formats of LIST, NLST and MLSD, MLSD's cdir
// and pdir entries, and the type of links and folders.
func TestListings(t *testing.T) {
	t.Parallel()
	ts := serve(t, &Server{})
	ts.write("/d/file.txt", "12345")
	if err := os.Mkdir(filepath.Join(ts.be.dir, "d", "sub"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("file.txt", filepath.Join(ts.be.dir, "d", "link")); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2024, 2, 29, 13, 14, 15, 0, time.UTC)
	os.Chtimes(filepath.Join(ts.be.dir, "d", "file.txt"), mtime, mtime)
	c := ts.dial()
	c.login()

	mlsd := c.retrieve("MLSD d")
	for _, want := range []string{
		"type=cdir;modify=", "; .\r\n",
		"type=pdir;", "; ..\r\n",
		"type=file;size=5;modify=20240229131415;perm=adfrw;unix.mode=0644; file.txt\r\n",
		"type=dir;modify=", "perm=cmpdfel;unix.mode=0750; sub\r\n",
		"type=OS.unix=symlink;size=8;", "; link\r\n",
	} {
		if !strings.Contains(mlsd, want) {
			t.Errorf("MLSD lacks %q:\n%s", want, mlsd)
		}
	}
	if root := c.retrieve("MLSD /"); strings.Contains(root, "type=pdir") {
		t.Errorf("MLSD of the top folder has a parent:\n%s", root)
	}
	nlst := strings.Fields(c.retrieve("NLST d"))
	if strings.Join(sorted(nlst), " ") != "file.txt link sub" {
		t.Errorf("NLST = %q", nlst)
	}
	list := c.retrieve("LIST -la d")
	for _, want := range []string{
		"-rw-r--r-- 1 ftp ftp            5 Feb 29  2024 file.txt\r\n",
		"drwxr-x--- 1 ftp ftp ", " sub\r\n",
		"lrwxrwxrwx 1 ftp ftp            8 ", " link\r\n",
	} {
		if !strings.Contains(list, want) {
			t.Errorf("LIST lacks %q:\n%s", want, list)
		}
	}
	if got := c.retrieve("LIST d/file.txt"); !strings.HasSuffix(got, " file.txt\r\n") || strings.Count(got, "\n") != 1 {
		t.Errorf("LIST of a file = %q", got)
	}
	c.must(229, "EPSV")
	c.must(501, "MLSD d/file.txt")
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// countingListener records every write to the control connections it
// accepts.
type countingListener struct {
	net.Listener
	mu     sync.Mutex
	writes []string
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, l: l}, nil
}

func (l *countingListener) since(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.writes[n:]...)
}

func (l *countingListener) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.writes)
}

type countingConn struct {
	net.Conn
	l *countingListener
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.l.mu.Lock()
	c.l.writes = append(c.l.writes, string(p))
	c.l.mu.Unlock()
	return c.Conn.Write(p)
}

// TestRepliesInOneWrite: the 150 and 226 of a small download or listing
// leave in one write, and so do the replies to pipelined commands.
func TestRepliesInOneWrite(t *testing.T) {
	t.Parallel()
	srv := &Server{Backend: &testBackend{dir: t.TempDir()}, watchAfter: time.Minute}
	ln := &countingListener{Listener: listenLocal(t)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	os.WriteFile(filepath.Join(srv.Backend.(*testBackend).dir, "f.txt"), []byte("small"), 0o644)
	c := dialClient(t, ln.Addr().String(), 220)
	c.login()
	for _, cmd := range []string{"RETR f.txt", "LIST", "MLSD", "NLST"} {
		port := c.epsvPort()
		data := c.dialData(port)
		before := ln.count()
		c.must(150, "%s", cmd)
		readAll(t, data)
		c.expect(226)
		if w := ln.since(before); len(w) != 1 || !strings.HasPrefix(w[0], "150 ") || !strings.Contains(w[0], "\r\n226 ") {
			t.Errorf("%s: replies in %d writes %q, want 150 and 226 in one", cmd, len(w), w)
		}
	}
	before := ln.count()
	fmt.Fprintf(c.conn, "NOOP\r\nPWD\r\nTYPE I\r\n")
	c.expect(200)
	c.expect(257)
	c.expect(200)
	if w := ln.since(before); len(w) != 1 {
		t.Errorf("3 pipelined commands answered in %d writes %q, want 1", len(w), w)
	}
}

// TestAbort: ABOR during a download the client stopped reading closes
// the data connection: 426 for the RETR, 226 for the ABOR, and the
// session goes on.
func TestAbort(t *testing.T) {
	t.Parallel()
	ts := serve(t, &Server{})
	f, _ := os.Create(filepath.Join(ts.be.dir, "big.bin"))
	f.Truncate(256 << 20)
	f.Close()
	c := ts.dial()
	c.login()
	data := c.epsv()
	c.must(150, "RETR big.bin")
	buf := make([]byte, 1<<20)
	if _, err := io.ReadFull(data, buf); err != nil {
		t.Fatal(err)
	}
	c.must(426, "ABOR")
	c.expect(226)
	c.must(200, "NOOP")
	rec := ts.be.records()
	if len(rec) != 1 || !errors.Is(rec[0].err, ErrAborted) {
		t.Errorf("transfers %+v, want one ended with ErrAborted", rec)
	}
}

// TestQueuedDuringTransfer: during an upload, STAT is answered at once
// and other commands, QUIT included, after the transfer, in order.
func TestQueuedDuringTransfer(t *testing.T) {
	t.Parallel()
	ts := serve(t, &Server{})
	c := ts.dial()
	c.login()
	data := c.epsv()
	c.must(150, "STOR up.bin")
	data.Write([]byte("first"))
	fmt.Fprintf(c.conn, "NOOP\r\nBOGUS\r\nSTAT\r\nQUIT\r\n")
	if msg := c.expect(211); !strings.Contains(msg, "Transfer in progress: STOR /up.bin, ") {
		t.Errorf("STAT during the upload: %q", msg)
	}
	data.Write([]byte(" second"))
	data.Close()
	c.expect(226)
	c.expect(200)
	c.expect(500)
	c.expect(221)
	if code, _ := c.read(); code != 0 {
		t.Error("connection open after QUIT")
	}
	if got := ts.read("/up.bin"); got != "first second" {
		t.Errorf("uploaded %q", got)
	}
}

// TestKick: Conn.Close during a transfer ends the control and the data
// connection at once.
func TestKick(t *testing.T) {
	t.Parallel()
	ts := serve(t, &Server{})
	c := ts.dial()
	c.login()
	data := c.epsv()
	c.must(150, "STOR up.bin")
	data.Write([]byte("some"))
	eventually(t, 5*time.Second, "bytes written", func() bool {
		fi, err := os.Stat(filepath.Join(ts.be.dir, "up.bin"))
		return err == nil && fi.Size() == 4
	})
	ts.be.lastConn().Close()
	for name, conn := range map[string]net.Conn{"control": c.conn, "data": data} {
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadAll(conn); err != nil {
			t.Errorf("%s connection not closed: %v", name, err)
		}
	}
	eventually(t, 5*time.Second, "transfer closed", func() bool { return len(ts.be.records()) == 1 })
	if err := ts.be.records()[0].err; !errors.Is(err, ErrAborted) {
		t.Errorf("Transfer.Close got %v, want ErrAborted", err)
	}
	eventually(t, 5*time.Second, "client closed", func() bool { return ts.be.closedCount() == 1 })
}

// TestQuota: an upload past what Allow permits ends with 552 after the
// bytes that fit; one that ends exactly there succeeds.
func TestQuota(t *testing.T) {
	t.Parallel()
	ts := serve(t, &Server{})
	ts.be.quota = 1000
	c := ts.dial()
	c.login()
	data := c.epsv()
	c.must(150, "STOR over.bin")
	go func() { data.Write(make([]byte, 5000)); data.Close() }()
	if msg := c.expect(552); !strings.Contains(msg, "Quota") {
		t.Errorf("552 %q", msg)
	}
	if got := len(ts.read("/over.bin")); got != 1000 {
		t.Errorf("partial file of %d bytes, want 1000", got)
	}
	c.store("STOR", "exact.bin", make([]byte, 1000))

	// The backend's Close says what became of the file of a failed
	// upload; a complete one is not touched.
	ts.be.mu.Lock()
	ts.be.closeReply = &Error{Code: 552, Message: "Quota reached; the upload was not saved."}
	ts.be.mu.Unlock()
	again := c.epsv()
	c.must(150, "STOR over.bin")
	go func() { again.Write(make([]byte, 5000)); again.Close() }()
	if msg := c.expect(552); msg != "Quota reached; the upload was not saved." {
		t.Errorf("reply %q, want the backend's", msg)
	}
	c.store("STOR", "exact.bin", make([]byte, 1000))
}

// TestPassiveStranger: a connection from another address that reaches a
// passive port first is closed, and the client's own connection still
// gets its data, five times out of five.
func TestPassiveStranger(t *testing.T) {
	t.Parallel()
	ts := serve(t, &Server{})
	ts.write("/f.txt", "for the client only")
	c := ts.dial()
	c.login()
	for i := range 5 {
		port := c.epsvPort()
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: 5 * time.Second}
		stranger, err := d.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		data := c.dialData(port)
		c.must(150, "RETR f.txt")
		if got := readAll(t, data); got != "for the client only" {
			t.Fatalf("round %d: the client got %q", i, got)
		}
		c.expect(226)
		_ = stranger.SetReadDeadline(time.Now().Add(5 * time.Second))
		if b, _ := io.ReadAll(stranger); len(b) > 0 {
			t.Fatalf("round %d: the stranger got %q", i, b)
		}
		stranger.Close()
	}
	if n := strings.Count(ts.logs.String(), "refused connections from another address"); n != 5 {
		t.Errorf("%d log lines about strangers, want 5", n)
	}
}

// TestPassivePortsReleased: ports of the range are held while a passive
// connection waits and released after its transfer, at the data timeout
// and at the end of the session.
func TestPassivePortsReleased(t *testing.T) {
	t.Parallel()
	r := freeRange(t, 4)
	ts := serve(t, &Server{PassivePorts: r, DataTimeout: time.Second})
	ts.write("/f.txt", "x")
	held := ts.srv.PassivePortsInUse
	c := ts.dial()
	c.login()
	for range 8 {
		port := c.epsvPort()
		if port < r.Start || port > r.End {
			t.Fatalf("EPSV gave port %d, outside the range", port)
		}
		data := c.dialData(port)
		c.must(150, "RETR f.txt")
		readAll(t, data)
		c.expect(226)
	}
	if n := held(); n != 0 {
		t.Errorf("%d ports held after the transfers", n)
	}
	c.must(229, "EPSV")
	c.must(229, "EPSV") // replaces the first
	if n := held(); n != 1 {
		t.Errorf("%d ports held after two EPSV, want 1", n)
	}
	start := time.Now()
	if code, _ := c.cmd("LIST"); code != 425 {
		t.Fatalf("LIST without a data connection: %d, want 425", code)
	}
	if took := time.Since(start); took < 900*time.Millisecond {
		t.Errorf("425 after %v, want the data timeout of 1s", took)
	}
	if n := held(); n != 0 {
		t.Errorf("%d ports held after the data timeout", n)
	}
	c.must(229, "EPSV")
	c.must(221, "QUIT")
	eventually(t, 5*time.Second, "port released at the end of the session", func() bool { return held() == 0 })
}

// TestActiveMode transfers through PORT and EPRT to the client's own
// port.
func TestActiveMode(t *testing.T) {
	t.Parallel()
	ts := serve(t, &Server{})
	ts.write("/f.txt", "active")
	c := ts.dial()
	c.login()
	ln := listenLocal(t)
	port := ln.Addr().(*net.TCPAddr).Port
	accept := func() string {
		conn, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return readAll(t, conn)
	}
	c.must(200, "PORT 127,0,0,1,%d,%d", port>>8, port&0xff)
	c.must(150, "RETR f.txt")
	if got := accept(); got != "active" {
		t.Fatalf("PORT RETR: %q", got)
	}
	c.expect(226)
	c.must(200, "EPRT |1|127.0.0.1|%d|", port)
	c.must(150, "NLST")
	if got := accept(); got != "f.txt\r\n" {
		t.Fatalf("EPRT NLST: %q", got)
	}
	c.expect(226)
}

// freeRange finds n consecutive ports that are free now, below the
// system's ephemeral range, where outgoing connections would take them.
func freeRange(t *testing.T, n int) PortRange {
	t.Helper()
	for range 100 {
		base := 20000 + mrand.IntN(12000-n)
		var lns []net.Listener
		for p := base; p < base+n; p++ {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				break
			}
			lns = append(lns, ln)
		}
		for _, ln := range lns {
			ln.Close()
		}
		if len(lns) == n {
			return PortRange{Start: base, End: base + n - 1}
		}
	}
	t.Fatalf("no %d free consecutive ports", n)
	return PortRange{}
}

// TestOpeningReplyOfLateDataConnection: when the data connection of a
// download opens after the watcher started reading the
// control connection, the 150 still reaches the client at once, not
// after the transfer: a client that waits for it before reading the data
// would otherwise wait for ever behind a full socket buffer.
func TestOpeningReplyOfLateDataConnection(t *testing.T) {
	t.Parallel()
	srv := &Server{Backend: &testBackend{dir: t.TempDir()}, watchAfter: time.Nanosecond}
	ts := serve(t, srv)
	f, err := os.Create(filepath.Join(ts.be.dir, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(64 << 20) // far more than the socket buffers hold
	f.Close()
	c := ts.dial()
	c.login()
	port := c.epsvPort()
	if err := c.tp.PrintfLine("RETR big.bin"); err != nil {
		t.Fatal(err)
	}
	// Late enough for the watcher to be running; the reply must come
	// whatever the order.
	time.Sleep(50 * time.Millisecond)
	data := c.dialData(port)
	if code, msg := c.read(); code != 150 {
		t.Fatalf("%d %q before reading any data, want the 150", code, msg)
	}
	if n := len(readAll(t, data)); n != 64<<20 {
		t.Fatalf("downloaded %d bytes, want %d", n, 64<<20)
	}
	c.expect(226)
}
