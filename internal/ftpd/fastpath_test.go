package ftpd

import (
	"bytes"
	"errors"
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
	"time"

	"github.com/panelftp/panelftp/internal/domain"
	engine "github.com/panelftp/panelftp/internal/ftp"
	"github.com/panelftp/panelftp/internal/sessions"
)

// testTransfer is an upload of a real temporary file holding size bytes,
// outside any server, for a user with a quota of quotaMB whose usage is
// the file.
func testTransfer(t *testing.T, quotaMB, size int64) (*transfer, *sessions.Session) {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := f.Write(make([]byte, size)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	reg := sessions.NewRegistry(sessions.Limits{})
	sess, err := reg.Open(netip.MustParseAddrPort("192.0.2.1:1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	st := newMemQuotas()
	if err := st.SetQuotaUsage(t.Context(), testUser, domain.QuotaUsage{Bytes: allocated(fi)}, domain.QuotaUsage{}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	q := &quota{book: newQuotaBook(st, "node", time.Hour, log), user: testUser, maxBytes: quotaMB << 20}
	u := &userState{login: domain.Login{User: domain.FTPUser{Username: testUser}, QuotaBytes: quotaMB << 20}, quota: q}
	s := &session{cl: &client{srv: &Server{}, sess: sess, log: log}, u: u}
	sess.Begin(domain.ActivityUpload, "/f", 0)
	return &transfer{f: f, s: s, name: "/f", upload: true, up: &upload{alloc0: allocated(fi)}, start: time.Now()}, sess
}

// write writes n bytes where the transfer's file is, as the engine does
// once Allow let it, and counts them.
func (t *transfer) write(tb testing.TB, n int64) {
	tb.Helper()
	if _, err := t.f.Write(make([]byte, n)); err != nil {
		tb.Fatal(err)
	}
	t.Progress(n)
}

// used is what the quota counts: the store's usage less what this node
// reserved and did not use.
func (q *quota) used() int64 {
	st := q.book.st.(*memQuotas)
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.m[q.user].Bytes - q.leaseBytes
}

// TestTransferKeepsQuota: Allow lets an upload write what fits in the
// quota, and says so with a 552 when it cuts; the session counts the
// bytes, the quota the blocks the file holds once closed; overwriting
// costs nothing.
func TestTransferKeepsQuota(t *testing.T) {
	tr, sess := testTransfer(t, 1, 0)
	if n, err := tr.Allow(512 << 10); n != 512<<10 || err != nil {
		t.Fatalf("Allow within the quota = %d, %v", n, err)
	}
	tr.write(t, 512<<10)
	n, err := tr.Allow(3 << 20)
	var reply *engine.Error
	if n != 512<<10 || !errors.As(err, &reply) || reply.Code != 552 || !strings.Contains(reply.Message, "Quota of 1 MB") {
		t.Fatalf("Allow past the quota = %d, %v; want 512 KiB and a 552", n, err)
	}
	tr.write(t, n)
	if n, err := tr.Allow(1); n != 0 || err == nil {
		t.Errorf("Allow with the quota full = %d, %v", n, err)
	}
	tr.Close(nil)
	if up, _ := sess.Totals(); up != 1<<20 {
		t.Errorf("counted %d bytes, want 1 MiB", up)
	}
	if used := tr.s.u.quota.used(); used != 1<<20 {
		t.Errorf("quota used %d once the file closed, want the 1 MiB it holds", used)
	}

	// Rewriting a file from its start (REST 0 without truncation) fits.
	over, _ := testTransfer(t, 1, 1<<20)
	if n, err := over.Allow(1 << 20); n != 1<<20 || err != nil {
		t.Errorf("overwriting within the file = %d, %v", n, err)
	}
	over.write(t, 1<<20)
	over.Close(nil)
}

// TestZeroCopy runs a download and an upload under strace and checks the
// server used sendfile(2) and splice(2), without a bandwidth limit and
// with one. It re-runs this test binary as the traced process.
func TestZeroCopy(t *testing.T) {
	if kbps := os.Getenv("PANELFTP_ZEROCOPY_CHILD"); kbps != "" {
		zeroCopyChild(t, kbps)
		return
	}
	if testing.Short() {
		t.Skip("-short: tracing re-runs the test binary under strace")
	}
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace is not installed")
	}
	for _, tc := range []struct{ name, kbps string }{{"no limit", "0"}, {"64 MiB/s limit", "65536"}} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "strace.txt")
			cmd := exec.Command(strace, "-f", "-c", "-e", "trace=sendfile,splice", "-o", out,
				os.Args[0], "-test.run=^TestZeroCopy$", "-test.count=1")
			cmd.Env = append(os.Environ(), "PANELFTP_ZEROCOPY_CHILD="+tc.kbps)
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
		})
	}
}

// zeroCopyChild downloads and uploads 32 MiB, at most kbps KiB/s each
// way ("0": no limit).
func zeroCopyChild(t *testing.T, kbps string) {
	e := newEnv(t, envOptions{})
	if rate, _ := strconv.ParseInt(kbps, 10, 64); rate > 0 {
		ch := domain.ControlsChange{UploadKBps: &rate, DownloadKBps: &rate}
		if _, _, err := e.Svc.SetFTPControls(t.Context(), "bob", testUser, ch); err != nil {
			t.Fatal(err)
		}
	}
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
