package harness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"1GiB": 1 << 30, "256MiB": 256 << 20, "64KiB": 64 << 10, "4K": 4 << 10, "2M": 2 << 20,
		"512": 512, "4096": 4096, "12B": 12, " 3 MiB ": 3 << 20,
	} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "2MB", "-1", "lots", "1.5GiB"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q): no error", in)
		}
	}
	for n, want := range map[int64]string{1 << 30: "1GiB", 3 << 20: "3MiB", 4096: "4KiB", 1000: "1000B"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestParseListings(t *testing.T) {
	for _, tc := range []struct {
		parse func(string) (Entry, error)
		line  string
		want  Entry
	}{
		{parseMLSD, "type=file;size=1234;modify=20261203120000;perm=adfrw; f00001.bin", Entry{Name: "f00001.bin", Size: 1234}},
		{parseMLSD, "type=cdir;modify=20261203120000; .", Entry{Name: ".", Dir: true}},
		{parseMLSD, "Type=dir;Size=4096; my folder", Entry{Name: "my folder", Size: 4096, Dir: true}},
		{parseLIST, "-rw-r--r-- 1 ftp ftp         1234 Dec  3 12:00 f00001.bin", Entry{Name: "f00001.bin", Size: 1234}},
		{parseLIST, "drwxr-xr-x 1 ftp ftp         4096 Jan 10  2025 a folder", Entry{Name: "a folder", Size: 4096, Dir: true}},
		{parseLIST, "lrwxrwxrwx 1 ftp ftp            6 Dec  3 12:00 link -> target", Entry{Name: "link", Size: 6}},
	} {
		got, err := tc.parse(tc.line)
		if err != nil || got != tc.want {
			t.Errorf("parse %q = %+v, %v; want %+v", tc.line, got, err, tc.want)
		}
	}
	for _, bad := range []string{"type=file;size=x; name", "nospace"} {
		if _, err := parseMLSD(bad); err == nil {
			t.Errorf("parseMLSD(%q): no error", bad)
		}
	}
	for _, bad := range []string{"-rw-r--r-- 1 ftp ftp 12 Dec 3", "-rw-r--r-- 1 ftp ftp big Dec 3 12:00 name"} {
		if _, err := parseLIST(bad); err == nil {
			t.Errorf("parseLIST(%q): no error", bad)
		}
	}
}

// fakeServer answers one FTP client with handle, which gets each command
// line and writes the replies; it returns the server's address.
func fakeServer(t *testing.T, handle func(cmd string, w *textproto.Writer, conn net.Conn) bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		w := textproto.NewWriter(bufio.NewWriter(conn))
		w.PrintfLine("220 fake")
		r := bufio.NewReader(conn)
		for {
			line, err := r.ReadString('\n')
			if err != nil || !handle(strings.TrimSpace(line), w, conn) {
				return
			}
		}
	}()
	return ln.Addr().String()
}

// TestLoginBusy: a refused log-in carries its reply code, which the load
// test reads to try a busy server again.
func TestLoginBusy(t *testing.T) {
	addr := fakeServer(t, func(cmd string, w *textproto.Writer, _ net.Conn) bool {
		switch {
		case strings.HasPrefix(cmd, "USER"):
			w.PrintfLine("331 password please")
		case strings.HasPrefix(cmd, "PASS"):
			w.PrintfLine("421 Server busy, please try again in a moment.")
		}
		return true
	})
	c, err := Dial(t.Context(), addr, nil, nil, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Login("u", "p")
	var te *textproto.Error
	if !errors.As(err, &te) || te.Code != 421 {
		t.Fatalf("Login = %v; want a 421 *textproto.Error", err)
	}
}

// TestWaitClosedAndAbort: WaitClosed returns once the server closes the
// session; Abort ends a command stuck on a server that never answers.
func TestWaitClosedAndAbort(t *testing.T) {
	kicked := fakeServer(t, func(cmd string, w *textproto.Writer, _ net.Conn) bool {
		if strings.HasPrefix(cmd, "NOOP") {
			w.PrintfLine("421 Disconnected by the administrator.")
			return false
		}
		return true
	})
	c, err := Dial(t.Context(), kicked, nil, nil, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.tp.PrintfLine("NOOP")
	if err := c.WaitClosed(10 * time.Second); err != nil {
		t.Errorf("WaitClosed = %v", err)
	}

	got := make(chan struct{}, 1)
	silent := fakeServer(t, func(cmd string, _ *textproto.Writer, _ net.Conn) bool {
		got <- struct{}{} // and never answer
		return true
	})
	c, err = Dial(t.Context(), silent, nil, nil, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.NoOp() }()
	<-got
	c.Abort()
	select {
	case err := <-done:
		if err == nil {
			t.Error("NOOP on an aborted connection succeeded")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Abort did not end the stuck command")
	}
}

// TestEntries lists over a passive data connection and parses MLSD.
func TestEntries(t *testing.T) {
	data, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer data.Close()
	port := data.Addr().(*net.TCPAddr).Port
	addr := fakeServer(t, func(cmd string, w *textproto.Writer, _ net.Conn) bool {
		switch {
		case cmd == "EPSV":
			w.PrintfLine("229 Entering Extended Passive Mode (|||%d|)", port)
		case cmd == "MLSD":
			dc, err := data.Accept()
			if err != nil {
				return false
			}
			w.PrintfLine("150 listing")
			fmt.Fprint(dc, "type=cdir; .\r\ntype=file;size=7; a b.txt\r\ntype=dir; sub\r\n")
			dc.Close()
			w.PrintfLine("226 done")
		default:
			w.PrintfLine("502 no")
		}
		return true
	})
	c, err := Dial(t.Context(), addr, nil, nil, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := c.Entries(t.Context(), "MLSD", "")
	want := []Entry{{Name: ".", Dir: true}, {Name: "a b.txt", Size: 7}, {Name: "sub", Dir: true}}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("Entries = %+v, %v; want %+v", got, err, want)
	}
}

func TestChildEnv(t *testing.T) {
	t.Setenv("PANELFTP_DATA", "/elsewhere")
	t.Setenv("LD_LIBRARY_PATH", "/opt/lib")
	env := ChildEnv()
	if !slices.Contains(env, "PANELFTP_ENV_FILE="+os.DevNull) {
		t.Error("no PANELFTP_ENV_FILE=/dev/null: an installed package's settings would apply")
	}
	for _, kv := range env {
		if strings.HasPrefix(kv, "PANELFTP_DATA=") || strings.HasPrefix(kv, "LD_LIBRARY_PATH=") {
			t.Errorf("ChildEnv keeps %s", kv)
		}
	}
}

// TestStop: Stop ends a process that ignores SIGTERM with SIGKILL and
// says so, and kills the children left behind.
func TestStop(t *testing.T) {
	dir := t.TempDir()
	childPID := filepath.Join(dir, "child")
	script := fmt.Sprintf(`trap "" TERM; sleep 300 & echo $! > %s; echo started; wait`, childPID)
	p, err := Start([]string{"sh", "-c", script}, nil, filepath.Join(dir, "out.log"))
	if err != nil {
		t.Fatal(err)
	}
	var child int
	for deadline := time.Now().Add(30 * time.Second); child == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the child's pid never appeared")
		}
		b, _ := os.ReadFile(childPID)
		child, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		time.Sleep(10 * time.Millisecond)
	}
	if !slices.Contains(ProcessTree(p.PID()), child) {
		t.Errorf("ProcessTree(%d) lacks the child %d", p.PID(), child)
	}
	err = p.Stop(200 * time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Stop = %v; want a note that it was killed", err)
	}
	if !p.Exited() {
		t.Error("not exited after Stop")
	}
	if !strings.Contains(p.LogTail(5), "started") {
		t.Errorf("log tail %q lacks the output", p.LogTail(5))
	}
	for deadline := time.Now().Add(30 * time.Second); alive(child); {
		if time.Now().After(deadline) {
			t.Fatalf("child %d still running after Stop", child)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i > 0 && !strings.HasPrefix(string(b[i+1:]), " Z")
}

func TestSampling(t *testing.T) {
	m := StartCPU(os.Getpid())
	for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
	}
	u := m.Stop()
	if u.Wall < 50*time.Millisecond || u.Client <= 0 {
		t.Errorf("CPU meter saw %+v after 50 ms of work", u)
	}
	if mem := TreeMemory(os.Getpid()); mem.RSS <= 0 || mem.Procs < 1 {
		t.Errorf("TreeMemory = %+v", mem)
	}
	if rss, ok := StatusKiB(os.Getpid(), "VmRSS:"); !ok || rss <= 0 {
		t.Errorf("StatusKiB VmRSS = %d, %v", rss, ok)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	sockets := TCPSockets(os.Getpid())
	found := false
	for _, fd := range FDs(os.Getpid()) {
		if ino, ok := SocketInode(fd); ok && sockets[ino] == (Socket{Port: port, State: "LISTEN"}) {
			found = true
		}
	}
	if !found {
		t.Errorf("no descriptor of the listener on port %d among the sockets", port)
	}
	if n := CountFDs(os.Getpid()); n < 1 {
		t.Errorf("CountFDs = %d", n)
	}
}

func TestWaitFTPProcessExits(t *testing.T) {
	p, err := Start([]string{"sh", "-c", "exit 3"}, nil, filepath.Join(t.TempDir(), "out.log"))
	if err != nil {
		t.Fatal(err)
	}
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	err = p.WaitFTP(ctx, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), nil)
	if err == nil || !strings.Contains(err.Error(), "exited") {
		t.Errorf("WaitFTP = %v; want that the process exited", err)
	}
}
