package ftpd

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/panelftp/panelftp/internal/xferlog"
	"github.com/panelftp/panelftp/internal/xferlog/xferlogtest"
)

// abort sends ABOR during a transfer and reads the replies: 426 for the
// transfer (unless it had just ended), then 226.
func (r *raw) abort() {
	r.t.Helper()
	code, msg := r.cmd("ABOR")
	if code == 426 {
		code, msg = r.read()
	}
	if code != 226 {
		r.t.Fatalf("ABOR: %d %s", code, msg)
	}
}

// TestTransferLog: every download, upload and append that ends, complete
// or aborted, and every deleted file, writes one xferlog line that a
// parser of the format reads back with its fields in order.
func TestTransferLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "xferlog")
	w, err := xferlog.Open(path, xferlog.XferLog, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	e := newEnv(t, envOptions{cfg: Config{TransferLog: w}})
	e.write("/site page.html", "<h1>hello</h1>\n")
	e.sparse("/big.bin", 64<<20)

	c := e.dial("")
	retr(t, c, "/site page.html", 0)
	if err := c.Stor("/up.txt", strings.NewReader("12345")); err != nil {
		t.Fatal(err)
	}
	if err := c.Append("/up.txt", strings.NewReader("678")); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete("/up.txt"); err != nil {
		t.Fatal(err)
	}

	r := e.raw()
	r.login(testUser, testPass)
	r.must(200, "TYPE A")
	data := r.epsv()
	r.must(150, "RETR site page.html")
	readAll(t, data)
	r.expect(226)
	r.must(200, "TYPE I")
	data = r.epsv()
	r.must(150, "RETR big.bin")
	if _, err := data.Read(make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	r.abort() // the client stopped reading: the download is stuck until ABOR
	data = r.epsv()
	r.must(150, "STOR part.bin")
	if _, err := data.Write(make([]byte, 100<<10)); err != nil {
		t.Fatal(err)
	}
	eventually(t, settle, "the upload to arrive", func() bool {
		temps := uploadTemps(t, e.Root) // uploads are atomic
		if len(temps) != 1 {
			return false
		}
		fi, err := os.Stat(temps[0])
		return err == nil && fi.Size() == 100<<10
	})
	r.abort()

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	want := []struct {
		file, kind, dir, state string
		size                   int64
	}{
		{"/site_page.html", "b", "o", "c", 15},
		{"/up.txt", "b", "i", "c", 5},
		{"/up.txt", "b", "i", "c", 3},
		{"/up.txt", "b", "d", "c", 8},
		{"/site_page.html", "a", "o", "c", 15}, // the file's bytes
		{"/big.bin", "b", "o", "i", -1},
		{"/part.bin", "b", "i", "i", 100 << 10},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), b)
	}
	for i, l := range lines {
		got, err := xferlogtest.Parse(l)
		if err != nil {
			t.Errorf("line %d does not parse: %v\n%s", i+1, err, l)
			continue
		}
		w := want[i]
		if got.File != w.file || got.Kind != w.kind || got.Dir != w.dir || got.State != w.state ||
			(w.size >= 0 && got.Size != w.size) || got.Host != "127.0.0.1" || got.User != testUser || got.Seconds < 1 {
			t.Errorf("line %d: %q\nparsed %+v, want %+v", i+1, l, got, w)
		}
	}
	if big, _ := xferlogtest.Parse(lines[5]); big.Size <= 0 || big.Size >= 64<<20 {
		t.Errorf("the aborted download logged %d bytes, want some but not all", big.Size)
	}
}
