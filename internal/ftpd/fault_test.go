package ftpd

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"

	"github.com/panelftp/panelftp/internal/defender"
	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/sessions"
	"github.com/panelftp/panelftp/internal/store"
)

// openFDs counts this process's open file descriptors, except the
// database's files, which its connection pool opens and keeps as it likes.
func openFDs(t *testing.T, e *env) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd to count open files")
	}
	n := 0
	for _, d := range entries {
		if target, err := os.Readlink("/proc/self/fd/" + d.Name()); err == nil && strings.HasPrefix(target, e.Data) {
			continue
		}
		n++
	}
	return n
}

func heapMB() float64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return float64(m.HeapInuse) / (1 << 20)
}

// settled waits until the server has no connection left and the
// goroutines and open files are back to their baseline, and reports how
// long that took.
func settled(t *testing.T, e *env, goroutines, fds int) time.Duration {
	t.Helper()
	start := time.Now()
	eventually(t, settle, "registry empty", func() bool { return e.Reg.Len() == 0 && e.Srv.drained() })
	var g, f int
	for g, f = runtime.NumGoroutine(), openFDs(t, e); g > goroutines || f > fds; g, f = runtime.NumGoroutine(), openFDs(t, e) {
		if time.Since(start) > settle {
			buf := make([]byte, 1<<20)
			t.Fatalf("after %v: goroutines %d (baseline %d), open files %d (baseline %d)\n%s",
				time.Since(start), g, goroutines, f, fds, buf[:runtime.Stack(buf, true)])
		}
		// Go keeps the pipes of splice(2) in a pool the GC empties.
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(start)
	t.Logf("settled in %v: goroutines %d (baseline %d), open files %d (baseline %d)", took, g, goroutines, f, fds)
	return took
}

// warmUp logs in once, so that goroutines started lazily (the database
// pool...) exist before a baseline is taken.
func warmUp(t *testing.T, e *env) (goroutines, fds int) {
	t.Helper()
	r := e.raw()
	r.login(testUser, testPass)
	r.must(221, "QUIT")
	eventually(t, settle, "warm-up session gone", func() bool { return e.Reg.Len() == 0 })
	runtime.GC()
	return runtime.NumGoroutine(), openFDs(t, e)
}

// TestFaultPassiveNeverConnected: a client that asks for passive mode and
// starts a transfer but never opens the data connection gets a 425 after
// DataConnTimeout; the passive port and the file are released and the
// session goes on.
func TestFaultPassiveNeverConnected(t *testing.T) {
	const wait = time.Second
	e := newEnv(t, envOptions{cfg: Config{DataConnTimeout: wait}})
	e.write("/f.txt", "file")
	_, fds := warmUp(t, e)
	r := e.raw()
	r.login(testUser, testPass)
	for _, cmd := range []string{"RETR f.txt", "LIST", "STOR new.txt"} {
		msg := r.must(229, "EPSV")
		var port int
		if _, err := fmt.Sscanf(msg[strings.Index(msg, "(|||"):], "(|||%d|)", &port); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		code, reply := r.cmd("%s", cmd)
		took := time.Since(start)
		if code != 425 {
			t.Fatalf("%s without a data connection: %d %q, want 425", cmd, code, reply)
		}
		checkFired(t, cmd+": 425", took, wait)
		t.Logf("%s: 425 after %v", cmd, took)
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
			c.Close()
			t.Errorf("%s: passive port %d still accepts after the 425", cmd, port)
		}
	}
	r.must(200, "NOOP")
	// The baseline, the control connection's two ends and the session's
	// folder (the jail's root), nothing else.
	if n := openFDs(t, e); n > fds+3 {
		t.Errorf("%d open files, want %d + 3 for the session: a file or port leaked", n, fds)
	}
}

// TestFaultDisconnectMidTransfer: clients that vanish in the middle of
// downloads and uploads (control and data connections dropped, in either
// order) leave nothing behind: sessions, goroutines, open files (files,
// sockets, the jail's root), quota counters, memory; and the transfers
// are logged as interrupted.
func TestFaultDisconnectMidTransfer(t *testing.T) {
	e := newEnv(t, envOptions{quota: 1 << 20})
	e.sparse("/big.bin", 64<<20)
	goroutines, fds := warmUp(t, e)
	heap := heapMB()
	for i := range 10 {
		r := e.raw()
		r.login(testUser, testPass)
		var data net.Conn
		if i%2 == 0 {
			data = slowRetr(t, r, "big.bin")
			liveSession(t, e.Reg, domain.ActivityDownload)
		} else {
			data = slowStor(t, r, fmt.Sprintf("up%d.bin", i))
			liveSession(t, e.Reg, domain.ActivityUpload)
		}
		if i%4 < 2 {
			r.conn.Close() // control first
			data.Close()
		} else {
			data.Close() // data first
			r.conn.Close()
		}
	}
	settled(t, e, goroutines, fds)
	t.Logf("heap in use %.1f MB before, %.1f MB after", heap, heapMB())
	// A STOR cut short can look like a complete one (FTP sends no
	// length), so only the downloads are sure to be logged as interrupted.
	logs := e.logs.String()
	if n := len(regexp.MustCompile(`direction=download bytes=\d+ seconds=[\d.]+ status=interrupted`).FindAllString(logs, -1)); n != 5 {
		t.Errorf("%d downloads logged as interrupted, want 5", n)
	}
	if n := len(e.Srv.quotas.m); n != 0 {
		t.Errorf("%d quota counters still held", n)
	}
	e.dial("") // still serving
}

// TestFaultDiskFull: an upload that fills the disk gets 552 with a clear
// message; an atomic one leaves no file, a direct one a partial file that
// can be deleted; and another account's user keeps being served. It
// needs root to mount a 1 MB tmpfs as the home.
func TestFaultDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs as the account's home; run the tests as root to check a full disk")
	}
	for _, mode := range []UploadMode{UploadAtomic, UploadDirect} {
		t.Run(string(mode), func(t *testing.T) { testDiskFull(t, mode) })
	}
}

func testDiskFull(t *testing.T, mode UploadMode) {
	home := filepath.Join(t.TempDir(), "home")
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", home).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (%v: %s); a full disk is not tested", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", home).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", home, err, out)
		}
	})
	e := newEnv(t, envOptions{home: home, cfg: Config{UploadMode: mode}})
	ann := addOtherUser(t, e)

	other := e.dialAs("web.ann", annPass)
	c := e.dial("")
	start := time.Now()
	err := c.Stor("/big.bin", bytes.NewReader(make([]byte, 2<<20)))
	t.Logf("upload to a full disk answered in %v: %v", time.Since(start), err)
	if err == nil || !strings.HasPrefix(err.Error(), "552") || !strings.Contains(err.Error(), "disk is full") {
		t.Fatalf("upload to a full disk: %v, want 552 disk full", err)
	}
	if strings.Contains(err.Error(), home) {
		t.Errorf("reply shows the host path: %v", err)
	}
	fi, statErr := os.Stat(e.file("/big.bin"))
	switch {
	case mode == UploadAtomic && (statErr == nil || !strings.Contains(err.Error(), "not saved")):
		t.Fatalf("atomic upload to a full disk: reply %v, file %v; want no file and a reply that says so", err, fi)
	case mode == UploadAtomic:
		if left := uploadTemps(t, e.Root); len(left) > 0 {
			t.Fatalf("temporary files left: %v", left)
		}
	case statErr != nil:
		t.Fatalf("partial file: %v", statErr)
	case fi.Size() == 0 || fi.Size() > 1<<20:
		t.Fatalf("partial file of %d bytes, want the part that fitted: more than 0, at most the 1 MiB disk", fi.Size())
	default:
		t.Logf("partial file kept: %d bytes", fi.Size())
		if err := c.Delete("/big.bin"); err != nil {
			t.Fatalf("deleting the partial file: %v", err)
		}
	}

	// Another user, on another disk, is served meanwhile.
	if err := other.Stor("/ok.bin", bytes.NewReader(make([]byte, 1<<20))); err != nil {
		t.Fatalf("other user's upload: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(ann, "ok.bin")); err != nil || fi.Size() != 1<<20 {
		t.Fatalf("other user's file: %v %v", fi, err)
	}
	// With the space free again, the user can upload.
	if err := c.Stor("/small.txt", strings.NewReader("fits")); err != nil {
		t.Fatalf("upload after freeing space: %v", err)
	}
	e.waitLog(`msg="FTP upload failed: disk full"`)
}

const annPass = "Ann-Secret-9"

// addOtherUser adds account ann with home on another disk (a temporary
// folder) and its user web.ann, and returns that user's folder.
func addOtherUser(t *testing.T, e *env) string {
	t.Helper()
	home := filepath.Join(t.TempDir(), "ann") // created for the account
	uid := domain.NoID
	if os.Geteuid() == 0 {
		uid = testUID
	}
	if _, err := e.Svc.AddAccount(t.Context(), domain.NewAccount{Name: "ann", Home: home, UID: uid, GID: uid}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.AddFTPUser(t.Context(), domain.NewFTPUser{Account: "ann", Username: "web.ann", Password: annPass, Path: "/"}); err != nil {
		t.Fatal(err)
	}
	return home
}

func (e *env) dialAs(user, pass string) *ftp.ServerConn {
	e.t.Helper()
	c, err := ftp.Dial(e.Addr, ftp.DialWithTimeout(10*time.Second))
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	if err := c.Login(user, pass); err != nil {
		e.t.Fatalf("login %s: %v", user, err)
	}
	e.t.Cleanup(func() { c.Quit() })
	return c
}

// flakyStore is a store whose log-in reads fail while down is set.
type flakyStore struct {
	store.Store
	down atomic.Bool
}

var errStoreDown = errors.New("database unreachable")

func (f *flakyStore) GetFTPUser(ctx context.Context, name string) (domain.FTPUser, error) {
	if f.down.Load() {
		return domain.FTPUser{}, errStoreDown
	}
	return f.Store.GetFTPUser(ctx, name)
}

func (f *flakyStore) GetAccount(ctx context.Context, name string) (domain.Account, error) {
	if f.down.Load() {
		return domain.Account{}, errStoreDown
	}
	return f.Store.GetAccount(ctx, name)
}

func (f *flakyStore) RecordLogin(ctx context.Context, user string, at time.Time, ip string) error {
	if f.down.Load() {
		return errStoreDown
	}
	return f.Store.RecordLogin(ctx, user, at, ip)
}

// TestFaultStoreDown: while the database is unreachable, log-ins are
// refused with a 421 that says to try later (and never count as failed
// log-ins), and the sessions already logged in go on transferring: a
// session needs no database after its log-in.
func TestFaultStoreDown(t *testing.T) {
	var flaky *flakyStore
	e := newEnv(t, envOptions{
		ban:  &defender.Config{Threshold: 2},
		wrap: func(s store.Store) store.Store { flaky = &flakyStore{Store: s}; return flaky },
	})
	e.write("/f.txt", "file")
	c := e.dial("")
	flaky.down.Store(true)

	for range 3 {
		r := e.raw()
		r.must(331, "USER %s", testUser)
		start := time.Now()
		code, msg := r.cmd("PASS %s", testPass)
		if code != 421 || msg != msgUnavailable {
			t.Fatalf("log-in with the store down: %d %q, want 421 %q", code, msg, msgUnavailable)
		}
		t.Logf("log-in refused in %v", time.Since(start))
	}
	if _, banned := e.Def.Banned(loopback); banned {
		t.Error("store outage counted as failed log-ins: IP banned")
	}
	if err := c.Stor("/up.txt", strings.NewReader("during the outage")); err != nil {
		t.Fatalf("upload on a running session: %v", err)
	}
	if got := retr(t, c, "/f.txt", 0); string(got) != "file" {
		t.Fatalf("download on a running session: %q", got)
	}
	if _, err := c.List("/"); err != nil {
		t.Fatalf("listing on a running session: %v", err)
	}
	e.waitLog(`msg="FTP login error"`)

	flaky.down.Store(false)
	e.dial("")
}

// TestFaultConnectionFlood opens 1,000 connections at once and drops
// them: the server admits as many as its limits allow (all of them with
// room for 2,000; 20, the default per IP, with the default limits) and
// answers the others 421 or closes them; it keeps serving, and goroutines,
// open files and the registry go back to where they were.
func TestFaultConnectionFlood(t *testing.T) {
	const conns = 1000
	for _, tc := range []struct {
		name     string
		limits   sessions.Limits
		admitted int
	}{
		{"admitted", sessions.Limits{MaxConnections: 2 * conns, MaxPerIP: -1}, conns},
		{"over the limits", sessions.Limits{}, sessions.DefaultMaxPerIP},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{limits: tc.limits, quiet: true})
			goroutines, fds := warmUp(t, e)
			heap := heapMB()

			start := time.Now()
			open := make([]net.Conn, conns)
			var failed atomic.Int64
			var mu sync.Mutex
			replies := map[string]int{} // of the half that reads: the first reply's code, or "closed"
			var wg sync.WaitGroup
			for w := range 50 {
				wg.Go(func() {
					for i := w; i < conns; i += 50 {
						c, err := net.DialTimeout("tcp", e.Addr, settle)
						if err != nil {
							failed.Add(1)
							continue
						}
						open[i] = c
						if i%2 == 0 { // half read the greeting, half never read
							got := firstReply(c)
							mu.Lock()
							replies[got]++
							mu.Unlock()
						}
					}
				})
			}
			wg.Wait()
			opened := time.Since(start)
			// The accept loop may still be registering the last ones.
			eventually(t, settle, fmt.Sprintf("%d sessions admitted", tc.admitted), func() bool { return e.Reg.Len() >= tc.admitted })
			peakG, peakReg := runtime.NumGoroutine(), e.Reg.Len()
			peakHeap := heapMB()
			for _, c := range open {
				if c != nil {
					c.Close()
				}
			}
			t.Logf("%d connections opened in %v (%d failed); the half that read got %v; peak: %d goroutines, %d sessions, heap %.1f MB (%.1f before)",
				conns, opened, failed.Load(), replies, peakG, peakReg, peakHeap, heap)
			if failed.Load() > 0 {
				t.Errorf("%d connections failed to open", failed.Load())
			}
			if peakReg != tc.admitted {
				t.Errorf("%d sessions admitted, want %d", peakReg, tc.admitted)
			}
			if replies["220"] > tc.admitted || replies["220"]+replies["421"]+replies["closed"] != conns/2 {
				t.Errorf("the %d that read got %v: want at most %d greetings, the others 421 or closed", conns/2, replies, tc.admitted)
			}
			if tc.admitted == conns && replies["220"] != conns/2 {
				t.Errorf("the %d that read got %v, want all greeted", conns/2, replies)
			}
			settled(t, e, goroutines, fds)
			e.dial("")
		})
	}
}

// firstReply reads the first reply on c and returns its code, "closed"
// when the server closed c first, or the read error.
func firstReply(c net.Conn) string {
	_ = c.SetReadDeadline(time.Now().Add(settle))
	line, err := bufio.NewReader(c).ReadString('\n')
	switch {
	case len(line) >= 3:
		return line[:3]
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
		return "closed"
	case err != nil:
		return err.Error()
	}
	return line
}
