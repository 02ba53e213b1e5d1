package ftpd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/panelftp/panelftp/internal/domain"
	"github.com/panelftp/panelftp/internal/service"
	"github.com/panelftp/panelftp/internal/sessions"
)

// readerFromRecorder is a data connection that records what io.Copy hands
// to its ReadFrom, the way *net.TCPConn chooses sendfile.
type readerFromRecorder struct {
	bytes.Buffer
	readers []string
}

func (w *readerFromRecorder) ReadFrom(r io.Reader) (int64, error) {
	desc := fmt.Sprintf("%T", r)
	if lr, ok := r.(*io.LimitedReader); ok {
		desc += fmt.Sprintf("{%T}", lr.R)
	}
	w.readers = append(w.readers, desc)
	return w.Buffer.ReadFrom(r)
}

// openTemp writes data to a new file and opens it for reading.
func openTemp(t *testing.T, data []byte) *os.File {
	t.Helper()
	name := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// testTransfer opens a transfer of a real file outside any server.
func testTransfer(t *testing.T, f *os.File, upload bool) (*transfer, *sessions.Session) {
	t.Helper()
	reg := sessions.NewRegistry(sessions.Limits{})
	sess, err := reg.Open(netip.MustParseAddrPort("192.0.2.1:1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	c := &client{sess: sess, log: log}
	u := &userState{login: service.Login{User: domain.FTPUser{Username: testUser}}}
	a := domain.ActivityDownload
	if upload {
		a = domain.ActivityUpload
	}
	sess.Begin(a, "/f", 0)
	return newTransfer(f, c, u, "/f", upload), sess
}

// TestWriteToHandsTheFileToTheConnection: io.Copy(conn, transfer), as the
// engine calls it, must reach the connection's ReadFrom with an
// *io.LimitedReader over the *os.File, which is what makes *net.TCPConn
// use sendfile(2); and the session must count every chunk.
func TestWriteToHandsTheFileToTheConnection(t *testing.T) {
	data := randomBytes(t, 3<<20)
	f := openTemp(t, data)
	tr, sess := testTransfer(t, f, false)
	conn := &readerFromRecorder{}
	n, err := io.Copy(conn, tr)
	if err != nil || n != int64(len(data)) || !bytes.Equal(conn.Bytes(), data) {
		t.Fatalf("io.Copy = %d, %v", n, err)
	}
	if len(conn.readers) < 2 {
		t.Errorf("%d chunks, want several", len(conn.readers))
	}
	for _, r := range conn.readers {
		if r != "*io.LimitedReader{*os.File}" {
			t.Fatalf("the connection got %s, want *io.LimitedReader{*os.File}", r)
		}
	}
	if _, down := sess.Totals(); down != int64(len(data)) {
		t.Errorf("session counted %d bytes, want %d", down, len(data))
	}
	tr.Close()
}

// TestReadFromCountsAndKeepsQuota: io.Copy(transfer, conn) goes through
// ReadFrom, counts the bytes and stops at the quota.
func TestReadFromCountsAndKeepsQuota(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	tr, sess := testTransfer(t, f, true)
	tr.u.quota, tr.u.limit = &quota{}, 1<<20
	tr.u.login.User.QuotaMB = 1
	src := io.MultiReader(bytes.NewReader(make([]byte, 3<<20))) // hides WriterTo
	n, err := io.Copy(tr, src)
	if n != 1<<20 || err == nil || !strings.Contains(err.Error(), "quota") {
		t.Fatalf("io.Copy = %d, %v; want 1 MiB and the quota error", n, err)
	}
	if up, _ := sess.Totals(); up != 1<<20 || tr.u.quota.used.Load() != 1<<20 {
		t.Errorf("counted %d bytes, quota used %d", up, tr.u.quota.used.Load())
	}
	tr.Close()

	// Exactly filling the quota is fine.
	f2, _ := os.Create(filepath.Join(t.TempDir(), "g"))
	tr2, _ := testTransfer(t, f2, true)
	tr2.u.quota, tr2.u.limit = &quota{}, 1<<20
	if n, err := io.Copy(tr2, io.MultiReader(bytes.NewReader(make([]byte, 1<<20)))); n != 1<<20 || err != nil {
		t.Fatalf("upload of exactly the quota: %d, %v", n, err)
	}
	tr2.Close()
}

// TestZeroCopy runs a download and an upload under strace and checks the
// server used sendfile(2) and splice(2). It re-runs this test binary as
// the traced process.
func TestZeroCopy(t *testing.T) {
	if os.Getenv("PANELFTP_ZEROCOPY_CHILD") == "1" {
		zeroCopyChild(t)
		return
	}
	strace, err := exec.LookPath("strace")
	if err != nil || testing.Short() {
		t.Skip("strace is not installed")
	}
	out := filepath.Join(t.TempDir(), "strace.txt")
	cmd := exec.Command(strace, "-f", "-c", "-e", "trace=sendfile,splice", "-o", out,
		os.Args[0], "-test.run=^TestZeroCopy$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PANELFTP_ZEROCOPY_CHILD=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		if strings.Contains(string(b), "ptrace") {
			t.Skipf("strace cannot trace here: %s", b)
		}
		t.Fatalf("traced run failed: %v\n%s", err, b)
	}
	summary, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, call := range []string{"sendfile", "splice"} {
		m := regexp.MustCompile(`(?m)^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?` + call + `$`).FindSubmatch(summary)
		if m == nil {
			t.Errorf("no %s(2) calls: the transfer lost the zero-copy path\n%s", call, summary)
			continue
		}
		n, _ := strconv.Atoi(string(m[1]))
		t.Logf("%s(2): %d calls for 32 MiB", call, n)
	}
}

func zeroCopyChild(t *testing.T) {
	e := newEnv(t, envOptions{})
	data := randomBytes(t, 32<<20)
	e.write("/down.bin", string(data))
	c := e.dial("")
	if got := retr(t, c, "/down.bin", 0); !bytes.Equal(got, data) {
		t.Fatal("download differs")
	}
	if err := c.Stor("/up.bin", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if e.read("/up.bin") != string(data) {
		t.Fatal("upload differs")
	}
}

// TestTransferErrorsHideHostPaths: errors the engine sends to the client
// name the file as the client knows it, not where it is on the server.
func TestTransferErrorsHideHostPaths(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "f"))
	if err != nil {
		t.Fatal(err)
	}
	tr, _ := testTransfer(t, f, true)
	f.Close() // make the next write fail
	_, err = tr.Write([]byte("x"))
	if err == nil || strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "/f") {
		t.Fatalf("write error %q: want it to name /f and not %s", err, dir)
	}
	if !errors.Is(err, os.ErrClosed) {
		t.Errorf("scrubbed error lost its cause: %v", err)
	}
}
