package ftpd

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestProtocolCommands covers the commands the jlaffaye client does not
// send, on a raw control connection.
func TestProtocolCommands(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.write("/f.txt", "hello")
	r := e.raw()
	feat := r.must(211, "FEAT")
	for _, f := range []string{"UTF8", "EPSV", "EPRT", "MLSD", "MLST", "MFMT", "SIZE", "MDTM", "REST STREAM", "AUTH TLS", "PBSZ", "PROT", "CLNT"} {
		if !strings.Contains(feat, "\n "+f) && !strings.Contains(feat, "\n"+f) {
			t.Errorf("FEAT does not list %s:\n%s", f, feat)
		}
	}
	r.must(215, "SYST")
	r.must(200, "OPTS UTF8 ON")
	r.must(200, "CLNT TestClient 1.0")
	r.must(530, "PWD") // not logged in yet
	r.login(testUser, testPass)
	if msg := r.must(257, "PWD"); !strings.Contains(msg, `"/"`) {
		t.Errorf("PWD = %q", msg)
	}
	stat := r.must(211, "STAT")
	if !strings.Contains(stat, "Logged in as "+testUser) {
		t.Errorf("STAT = %q", stat)
	}
	if msg := r.must(213, "STAT f.txt"); !strings.Contains(msg, "f.txt") {
		t.Errorf("STAT f.txt = %q", msg)
	}
	r.must(200, "TYPE I")
	r.must(213, "SIZE f.txt")
	r.must(257, "MKD d")
	if _, msg := r.cmd("DELE d"); !strings.Contains(msg, "use RMD") {
		t.Errorf("DELE of a folder: %q", msg)
	}
	if _, msg := r.cmd("RMD f.txt"); !strings.Contains(msg, "use DELE") {
		t.Errorf("RMD of a file: %q", msg)
	}
	r.must(250, "RMD d")
	// SITE is off: chown and friends are unreachable.
	before, _ := os.Stat(e.file("/f.txt"))
	r.must(502, "SITE CHOWN 0:0 f.txt")
	r.must(502, "SITE CHMOD 777 f.txt")
	after, _ := os.Stat(e.file("/f.txt"))
	if uid(before) != uid(after) || before.Mode() != after.Mode() {
		t.Error("SITE changed the file")
	}
	r.must(221, "QUIT")
}

func uid(fi os.FileInfo) uint32 { return fi.Sys().(*syscall.Stat_t).Uid }

// TestASCIIMode checks TYPE A converts line endings both ways.
func TestASCIIMode(t *testing.T) {
	e := newEnv(t, envOptions{})
	r := e.raw()
	r.login(testUser, testPass)
	r.must(200, "TYPE A")
	data := r.epsv()
	r.must(150, "STOR text.txt")
	fmt.Fprint(data, "one\r\ntwo\r\n")
	data.Close()
	r.expect(226)
	if got := e.read("/text.txt"); got != "one\ntwo\n" {
		t.Fatalf("ASCII upload stored %q, want LF line endings", got)
	}
	data = r.epsv()
	r.must(150, "RETR text.txt")
	if got := readAll(t, data); got != "one\r\ntwo\r\n" {
		t.Fatalf("ASCII download sent %q, want CRLF line endings", got)
	}
	r.expect(226)
}

// TestAbort aborts a running download with ABOR.
func TestAbort(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.sparse("/big.bin", 64<<20)
	r := e.raw()
	r.login(testUser, testPass)
	data := r.epsv()
	r.must(150, "RETR big.bin")
	buf := make([]byte, 1<<20)
	if _, err := data.Read(buf); err != nil {
		t.Fatal(err)
	}
	// The client stops reading: the transfer is stuck until ABOR.
	code, msg := r.cmd("ABOR")
	if code == 426 {
		code, msg = r.read()
	}
	if code != 226 {
		t.Fatalf("ABOR: %d %s", code, msg)
	}
	r.must(200, "NOOP") // the session goes on
	e.waitLog("status=interrupted")
}

// TestActiveMode transfers through PORT and EPRT, and refuses a
// connection to a privileged port or to another IP.
func TestActiveMode(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.write("/f.txt", "active data")
	r := e.raw()
	r.login(testUser, testPass)

	ln := listen(t, "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	r.must(200, "PORT 127,0,0,1,%d,%d", port/256, port%256)
	r.must(150, "RETR f.txt")
	if got := acceptAll(t, ln); got != "active data" {
		t.Fatalf("PORT RETR sent %q", got)
	}
	r.expect(226)
	r.must(200, "EPRT |1|127.0.0.1|%d|", port)
	r.must(150, "LIST")
	if got := acceptAll(t, ln); !strings.Contains(got, "f.txt") {
		t.Fatalf("EPRT LIST sent %q", got)
	}
	r.expect(226)

	// Another IP: refused when the command is given.
	r.must(501, "EPRT |1|127.0.0.2|%d|", port)
	r.must(501, "PORT 10,0,0,1,%d,%d", port/256, port%256)

	// A privileged port: refused when PORT or EPRT names it, so the
	// server never connects.
	var privileged net.Listener
	if os.Geteuid() == 0 {
		privileged = listen(t, "127.0.0.1:1021")
	}
	for _, cmd := range []string{"RETR f.txt", "LIST", "NLST", "MLSD", "STOR x.txt"} {
		if msg := r.must(501, "PORT 127,0,0,1,3,253"); !strings.Contains(msg, "below 1024") { // 1021
			t.Errorf("PORT to port 1021: %s", msg)
		}
		r.must(501, "EPRT |1|127.0.0.1|1021|")
		if code, msg := r.cmd("%s", cmd); code != 425 {
			t.Errorf("%s after the refused PORT: %d %s, want 425", cmd, code, msg)
		}
	}
	if privileged != nil {
		_ = privileged.(*net.TCPListener).SetDeadline(time.Now().Add(100 * time.Millisecond))
		if c, err := privileged.Accept(); err == nil {
			c.Close()
			t.Error("the server connected to a privileged port")
		}
	}
	if _, err := os.Stat(e.file("/x.txt")); !os.IsNotExist(err) {
		t.Error("STOR to a refused data connection created the file")
	}
}

// TestPassiveFromOtherIP refuses a passive data connection coming from
// another address than the control connection.
func TestPassiveFromOtherIP(t *testing.T) {
	e := newEnv(t, envOptions{cfg: Config{DataConnTimeout: time.Second}})
	e.write("/f.txt", "secret")
	r := e.raw()
	r.login(testUser, testPass)
	msg := r.must(229, "EPSV")
	var port int
	fmt.Sscanf(msg[strings.Index(msg, "(|||"):], "(|||%d|)", &port)
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: 5 * time.Second}
	thief, err := d.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer thief.Close()
	code, _ := r.cmd("RETR f.txt")
	if code == 150 {
		code, _ = r.read()
	}
	if code < 400 {
		t.Fatalf("RETR over a data connection from another IP: %d", code)
	}
	_ = thief.SetReadDeadline(time.Now().Add(2 * time.Second))
	if b, _ := readAllConn(thief); bytes.Contains(b, []byte("secret")) {
		t.Fatal("the file went to a data connection from another IP")
	}
}

func listen(t *testing.T, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func acceptAll(t *testing.T, ln net.Listener) string {
	t.Helper()
	_ = ln.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return readAll(t, c)
}

func readAllConn(c net.Conn) ([]byte, error) {
	var buf bytes.Buffer
	_, err := buf.ReadFrom(c)
	return buf.Bytes(), err
}

// TestPassivePortRange announces PublicHost and ports of the range, shared
// between clients.
func TestPassivePortRange(t *testing.T) {
	ports := freePortRange(t, 4)
	e := newEnv(t, envOptions{cfg: Config{PassivePorts: ports, PublicHost: "10.1.2.3"}})
	e.write("/f.txt", "data")
	r := e.raw()
	r.login(testUser, testPass)
	if msg := r.must(227, "PASV"); !strings.Contains(msg, "(10,1,2,3,") {
		t.Errorf("PASV announces %q, want the public host 10.1.2.3", msg)
	}
	for range 3 {
		c := e.dial("")
		for range 2 {
			msg := r.must(229, "EPSV")
			var port int
			fmt.Sscanf(msg[strings.Index(msg, "(|||"):], "(|||%d|)", &port)
			if port < ports.Start || port > ports.End {
				t.Fatalf("EPSV port %d outside %v", port, ports)
			}
		}
		if got := retr(t, c, "/f.txt", 0); string(got) != "data" {
			t.Fatalf("RETR through the range: %q", got)
		}
	}
}

// TestMissingFolder refuses a log-in whose folder has gone.
func TestMissingFolder(t *testing.T) {
	e := newEnv(t, envOptions{})
	if err := os.RemoveAll(e.Root); err != nil {
		t.Fatal(err)
	}
	r := e.raw()
	r.must(331, "USER %s", testUser)
	if code, msg := r.cmd("PASS %s", testPass); code != 530 || msg != msgNoFolder {
		t.Fatalf("log-in without a folder: %d %q", code, msg)
	}
}
