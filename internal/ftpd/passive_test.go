package ftpd

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
)

// TestPassivePorts: every port offered lies in the range, the exposed and
// listened ports agree, a PASV tries few ports when most are free and up
// to passiveCandidates when most are held, and the choice is spread over
// the range.
func TestPassivePorts(t *testing.T) {
	for _, r := range []PortRange{{21000, 21000}, {21000, 21003}, {21000, 21100}, {30000, 33999}} {
		t.Run(r.String(), func(t *testing.T) {
			p := newPassivePorts(r)
			count := r.End - r.Start + 1
			most := min(4*count, passiveCandidates)
			if got, want := p.NumberAttempts(), min(most, minCandidates); got != want {
				t.Errorf("NumberAttempts with no port held = %d, want %d", got, want)
			}
			p.held.Store(int64(count))
			if got := p.NumberAttempts(); got != most {
				t.Errorf("NumberAttempts with every port held = %d, want %d", got, most)
			}
			if count > 2 {
				p.held.Store(int64(count - 2))
				if got := p.NumberAttempts(); got != most {
					t.Errorf("NumberAttempts with 2 ports free = %d, want %d", got, most)
				}
			}
			p.held.Store(0)
			seen := map[int]bool{}
			for range 2000 {
				exposed, listened, ok := p.FetchNext()
				if !ok || exposed != listened || exposed < r.Start || exposed > r.End {
					t.Fatalf("FetchNext = %d, %d, %v; want a port of %v twice", exposed, listened, ok, r)
				}
				seen[exposed] = true
			}
			if want := min(count, 100); len(seen) < want {
				t.Errorf("2000 draws gave %d distinct ports, want at least %d", len(seen), want)
			}
		})
	}
}

// connRecorder is a net.Conn that records each Write that reaches it, and
// each reader its ReadFrom is given, as *net.TCPConn would use sendfile.
type connRecorder struct {
	net.Conn // nil: only the methods below are used
	writes   []string
	readers  []string
	closed   bool
	deadline time.Time
}

func (c *connRecorder) Write(p []byte) (int, error) {
	if c.closed {
		return 0, net.ErrClosed
	}
	c.writes = append(c.writes, string(p))
	return len(p), nil
}

func (c *connRecorder) ReadFrom(r io.Reader) (int64, error) {
	desc := fmt.Sprintf("%T", r)
	if lr, ok := r.(*io.LimitedReader); ok {
		desc += fmt.Sprintf("{%T}", lr.R)
	}
	c.readers = append(c.readers, desc)
	var b bytes.Buffer
	n, err := b.ReadFrom(r)
	c.writes = append(c.writes, b.String())
	return n, err
}

func (c *connRecorder) Read([]byte) (int, error)           { return 0, io.EOF }
func (c *connRecorder) Close() error                       { c.closed = true; return nil }
func (c *connRecorder) SetWriteDeadline(t time.Time) error { c.deadline = t; return nil }

// TestDataConnGathersSmallWrites: listing lines are sent in a few large
// writes, in order, with nothing left behind at Read, Flush or Close.
func TestDataConnGathersSmallWrites(t *testing.T) {
	line := "Type=file;Size=4096;Modify=20260101000000; some-file-name.html\r\n"
	tests := []struct {
		name   string
		finish func(*dataConn) error
	}{
		{"Flush", func(d *dataConn) error { return d.Flush() }},
		{"Close", func(d *dataConn) error { return d.Close() }},
		{"Read", func(d *dataConn) error { _, err := d.Read(make([]byte, 1)); return ignoreEOF(err) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &connRecorder{}
			d := &dataConn{Conn: rec}
			var want strings.Builder
			for range 2000 {
				if n, err := d.Write([]byte(line)); n != len(line) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
				want.WriteString(line)
			}
			if err := tt.finish(d); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(rec.writes, ""); got != want.String() {
				t.Fatalf("the connection got %d bytes, want %d in the same order", len(got), want.Len())
			}
			if max := want.Len()/dataBufSize + 1; len(rec.writes) > max {
				t.Errorf("%d writes reached the connection, want at most %d", len(rec.writes), max)
			}
		})
	}
}

// TestDataConnLargeWritesGoStraight: a large write is not copied, and
// comes after what was gathered before it.
func TestDataConnLargeWritesGoStraight(t *testing.T) {
	rec := &connRecorder{}
	d := &dataConn{Conn: rec}
	big := strings.Repeat("x", smallWrite)
	d.Write([]byte("a"))
	d.Write([]byte(big))
	d.Write([]byte("b"))
	d.Close()
	if want := []string{"a", big, "b"}; !slices.Equal(rec.writes, want) || !rec.closed {
		t.Fatalf("writes %q, closed %v; want a, the large write, b, closed", rec.writes, rec.closed)
	}
}

// TestDataConnCloseDoesNotWaitForABlockedWrite: when the engine closes
// the connection while the transfer goroutine is stuck writing to a
// client that stopped reading, Close must not wait for that write.
func TestDataConnCloseDoesNotWaitForABlockedWrite(t *testing.T) {
	rec := &connRecorder{}
	d := &dataConn{Conn: rec}
	d.Write([]byte("gathered"))
	d.mu.Lock() // a Write blocked in the kernel holds the lock
	done := make(chan error, 1)
	go func() { done <- d.Close() }()
	select {
	case err := <-done:
		if err != nil || !rec.closed {
			t.Fatalf("Close = %v, closed %v", err, rec.closed)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for the blocked Write")
	}
	d.mu.Unlock()
}

// TestWriteToThroughDataConn: a download through the passive wrapper still
// hands the *os.File to the connection's ReadFrom (sendfile), after what
// the wrapper had gathered.
func TestWriteToThroughDataConn(t *testing.T) {
	data := randomBytes(t, 1<<20)
	f := openTemp(t, data)
	tr, _ := testTransfer(t, f, false)
	rec := &connRecorder{}
	d := &dataConn{Conn: rec}
	d.Write([]byte("gathered"))
	if n, err := io.Copy(d, tr); err != nil || n != int64(len(data)) {
		t.Fatalf("io.Copy = %d, %v", n, err)
	}
	tr.Close()
	if got := strings.Join(rec.writes, ""); got != "gathered"+string(data) {
		t.Fatal("the connection did not get the gathered bytes, then the file")
	}
	for _, r := range rec.readers {
		if r != "*io.LimitedReader{*os.File}" {
			t.Fatalf("the connection got %s, want *io.LimitedReader{*os.File}", r)
		}
	}
}

// freePortRange finds n consecutive ports that are free now, below the
// system's ephemeral range (32768 and up on Linux), where the outgoing
// connections of other tests and programs would take them meanwhile.
func freePortRange(t *testing.T, n int) PortRange {
	t.Helper()
	for range 100 {
		base := 20000 + mrand.IntN(12000-n)
		var lns []net.Listener
		for p := base; p < base+n; p++ {
			ln, err := net.Listen("tcp", fmt.Sprintf(":%d", p))
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

func ignoreEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// TestLargeListing lists a folder far larger than one gathered write, in
// every mode and through a passive port range, and checks each entry:
// type, size and time of files and folders, and links inside the folder.
func TestLargeListing(t *testing.T) {
	e := newEnv(t, envOptions{cfg: Config{PassivePorts: freePortRange(t, 8)}})
	const files = 3000
	dir := e.file("/big")
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2024, 2, 29, 13, 14, 15, 0, time.UTC)
	for i := range files {
		p := filepath.Join(dir, fmt.Sprintf("file-%04d.html", i))
		if err := os.WriteFile(p, make([]byte, i), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("file-0007.html", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			e.t = t
			c := e.dial(m.tls, m.opts...)
			entries, err := c.List("/big") // MLSD
			if err != nil {
				t.Fatalf("MLSD: %v", err)
			}
			if len(entries) != files+2 {
				t.Fatalf("MLSD gave %d entries, want %d", len(entries), files+2)
			}
			seen := map[string]bool{}
			for _, en := range entries {
				seen[en.Name] = true
				var i int
				switch {
				case en.Name == "sub":
					if en.Type != ftp.EntryTypeFolder {
						t.Errorf("sub: %+v, want a folder", en)
					}
				case en.Name == "link":
					if en.Type != ftp.EntryTypeFile || en.Size != uint64(len("file-0007.html")) {
						t.Errorf("link: %+v, want the link itself", en)
					}
				default:
					fmt.Sscanf(en.Name, "file-%04d.html", &i)
					if en.Type != ftp.EntryTypeFile || en.Size != uint64(i) || !en.Time.Equal(mtime) {
						t.Fatalf("%s: %+v, want a file of %d bytes from %v", en.Name, en, i, mtime)
					}
				}
			}
			if len(seen) != files+2 || !seen["file-0000.html"] || !seen[fmt.Sprintf("file-%04d.html", files-1)] {
				t.Errorf("MLSD names are not all there: %d distinct", len(seen))
			}
			names, err := c.NameList("/big")
			if err != nil || len(names) != files+2 {
				t.Errorf("NLST gave %d names, %v", len(names), err)
			}
			// The session goes on: the next transfer works.
			if got := retr(t, c, "/big/link", 0); len(got) != 7 {
				t.Errorf("RETR of the link gave %d bytes, want 7", len(got))
			}
		})
	}
}

// writeCounter counts the writes that reach a real connection.
type writeCounter struct {
	net.Conn
	writes atomic.Int64
}

func (c *writeCounter) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// TestTLSDownloadGathersRecords: a download over TLS reaches the socket
// in writes of many records each (crypto/tls writes every 16 KiB record
// on its own), arrives whole, and leaves no big buffer behind.
func TestTLSDownloadGathersRecords(t *testing.T) {
	data := randomBytes(t, 8<<20)
	f := openTemp(t, data)
	tr, _ := testTransfer(t, f, false)
	cert, err := selfSigned("127.0.0.1", time.Now())
	if err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	received := make(chan []byte, 1)
	go func() {
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			received <- nil
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		received <- b
	}()
	raw, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	counter := &writeCounter{Conn: raw}
	d := &dataConn{Conn: counter}
	conn := tls.Server(d, &tls.Config{Certificates: []tls.Certificate{cert}})
	if err := conn.Handshake(); err != nil {
		t.Fatal(err)
	}
	before := counter.writes.Load()
	if n, err := io.Copy(conn, tr); err != nil || n != int64(len(data)) {
		t.Fatalf("io.Copy = %d, %v", n, err)
	}
	tr.Close()
	writes := counter.writes.Load() - before
	if d.bulk != nil || d.buf != nil {
		t.Error("the connection still gathers or holds its big buffer after the download")
	}
	conn.Close()
	if got := <-received; !bytes.Equal(got, data) {
		t.Fatalf("the client got %d bytes, not the file of %d", len(got), len(data))
	}
	// One write per record would be 512; gathering makes about 64.
	if max := int64(len(data) / (64 << 10)); writes > max {
		t.Errorf("%d writes for %d MiB, want at most %d", writes, len(data)>>20, max)
	}
	t.Logf("%d writes for %d MiB", writes, len(data)>>20)
}

// TestPassivePortsHeld: the server counts the passive ports it holds,
// through transfers, a PASV the client never used and a session's end,
// and is back to zero afterwards.
func TestPassivePortsHeld(t *testing.T) {
	e := newEnv(t, envOptions{cfg: Config{PassivePorts: freePortRange(t, 8), DataConnTimeout: time.Second}})
	held := func() int64 { return e.Srv.passive.held.Load() }
	e.write("/f.txt", "hello")
	c := e.dial("")
	for range 3 {
		if got := string(retr(t, c, "/f.txt", 0)); got != "hello" {
			t.Fatalf("download = %q", got)
		}
	}
	eventually(t, 2*time.Second, "ports released after the transfers", func() bool { return held() == 0 })

	r := e.raw()
	r.must(331, "USER %s", testUser)
	r.must(230, "PASS %s", testPass)
	r.must(229, "EPSV")
	if n := held(); n != 1 {
		t.Fatalf("%d ports held after EPSV, want 1", n)
	}
	// The client asks for a listing but never connects: the port is
	// released when the wait for the data connection ends.
	r.must(425, "LIST")
	eventually(t, 2*time.Second, "port released after the data timeout", func() bool { return held() == 0 })
	r.must(229, "EPSV")
	r.cmd("QUIT")
	eventually(t, 5*time.Second, "port released at the end of the session", func() bool { return held() == 0 })
	c.Quit()
}

// TestDroppedPassiveListenerIsFreed: a wrapped passive listener the engine
// drops without closing it (ftpserverlib does so when PASV fails after
// wrapping) gives back its port and its count once it is garbage.
func TestDroppedPassiveListenerIsFreed(t *testing.T) {
	r := freePortRange(t, 1)
	e := newEnv(t, envOptions{cfg: Config{PassivePorts: r}})
	addr := fmt.Sprintf("127.0.0.1:%d", r.Start)
	func() {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := (&mainDriver{srv: e.Srv}).WrapPassiveListener(ln); err != nil {
			t.Fatal(err)
		}
	}()
	if n := e.Srv.passive.held.Load(); n != 1 {
		t.Fatalf("%d ports held after the wrap, want 1", n)
	}
	eventually(t, 5*time.Second, "dropped listener freed", func() bool {
		runtime.GC()
		return e.Srv.passive.held.Load() == 0
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the port is still taken: %v", err)
	}
	ln.Close()
}
