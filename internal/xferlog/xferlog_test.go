package xferlog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/xferlog/xferlogtest"
)

func open(t *testing.T, format Format) (*Writer, string, *bytes.Buffer) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "xferlog")
	var logs bytes.Buffer
	w, err := Open(path, format, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w, path, &logs
}

func lines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 {
		return nil
	}
	if b[len(b)-1] != '\n' {
		t.Fatalf("%s does not end with a newline: %q", path, b)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func TestXferlogLine(t *testing.T) {
	w, path, _ := open(t, XferLog)
	end := time.Date(2026, 12, 3, 13, 14, 15, 0, time.Local)
	w.Log(Transfer{End: end, Duration: 1500 * time.Millisecond, RemoteIP: "203.0.113.7", Bytes: 1 << 20,
		Path: "/site/index.html", Direction: Upload, Username: "dev.bob", Complete: true})
	w.Log(Transfer{End: end.Add(time.Hour), Duration: time.Millisecond, RemoteIP: "2001:db8::7", Bytes: 12,
		Path: "/my report\t2026\n.txt", ASCII: true, Direction: Download, Username: "web.bob"})
	w.Log(Transfer{End: end.Add(2 * time.Hour), RemoteIP: "192.0.2.1", Path: "/old.zip", Direction: Delete, Username: "dev.bob", Complete: true})

	got := lines(t, path)
	want := []string{
		"Thu Dec  3 13:14:15 2026 2 203.0.113.7 1048576 /site/index.html b _ i r dev.bob ftp 0 * c",
		"Thu Dec  3 14:14:15 2026 1 2001:db8::7 12 /my_report_2026_.txt a _ o r web.bob ftp 0 * i",
		"Thu Dec  3 15:14:15 2026 1 192.0.2.1 0 /old.zip b _ d r dev.bob ftp 0 * c",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("xferlog:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, l := range got {
		e, err := xferlogtest.Parse(l)
		if err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		if e.Service != "ftp" || e.Mode != "r" || e.AuthUser != "*" || e.Method != "0" {
			t.Errorf("%q: fixed fields %+v", l, e)
		}
	}
	if e, _ := xferlogtest.Parse(got[0]); !e.When.Equal(end) || e.Size != 1<<20 || e.Seconds != 2 || e.Dir != "i" || e.State != "c" {
		t.Errorf("first line parsed as %+v", e)
	}
}

// TestXferlogFieldsNeverSplit: whatever a client names its file, a line
// keeps its 18 fields.
func TestXferlogFieldsNeverSplit(t *testing.T) {
	w, path, _ := open(t, XferLog)
	names := []string{"", " ", "a b", "tab\there", "cr\rlf\n", "nbsp\u00a0x", "ideographic\u3000space", "x\u2028y", "bad\xffutf8", "ok/é/日本.txt"}
	for _, n := range names {
		w.Log(Transfer{RemoteIP: "192.0.2.1", Path: n, Direction: Upload, Username: "dev.bob", Complete: true})
	}
	got := lines(t, path)
	if len(got) != len(names) {
		t.Fatalf("%d lines for %d transfers:\n%s", len(got), len(names), strings.Join(got, "\n"))
	}
	for i, l := range got {
		e, err := xferlogtest.Parse(l)
		if err != nil {
			t.Errorf("name %q: %q: %v", names[i], l, err)
		} else if strings.ContainsAny(e.File, " \t\r\n") {
			t.Errorf("name %q written as %q", names[i], e.File)
		}
	}
	if e, _ := xferlogtest.Parse(got[len(got)-1]); e.File != "ok/é/日本.txt" {
		t.Errorf("printable UTF-8 name changed to %q", e.File)
	}
}

func TestJSONLines(t *testing.T) {
	w, path, _ := open(t, JSON)
	end := time.Date(2026, 12, 3, 13, 14, 15, 250_000_000, time.UTC)
	w.Log(Transfer{End: end, Duration: 2500 * time.Millisecond, RemoteIP: "203.0.113.7", Bytes: 99, Path: "/a b.txt",
		Direction: Download, Username: "dev.bob", Account: "bob", Session: "s1"})
	got := lines(t, path)
	if len(got) != 1 {
		t.Fatalf("%d lines", len(got))
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(got[0]), &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"time": "2026-12-03T13:14:15.25Z", "duration_seconds": 2.5, "remote_ip": "203.0.113.7", "bytes": 99.0,
		"path": "/a b.txt", "type": "binary", "direction": "download", "username": "dev.bob", "account": "bob", "session": "s1", "complete": false}
	if fmt.Sprint(m) != fmt.Sprint(want) {
		t.Fatalf("JSON line %v\nwant %v", m, want)
	}
}

func TestConcurrentWritersNeverInterleave(t *testing.T) {
	for _, format := range []Format{XferLog, JSON} {
		t.Run(string(format), func(t *testing.T) {
			w, path, _ := open(t, format)
			const writers, each = 8, 250
			var wg sync.WaitGroup
			for g := range writers {
				wg.Go(func() {
					for i := range each {
						w.Log(Transfer{RemoteIP: "192.0.2.1", Bytes: int64(i), Path: fmt.Sprintf("/w%d/file%d with spaces.bin", g, i),
							Direction: Upload, Username: "dev.bob", Complete: true})
					}
				})
			}
			wg.Wait()
			got := lines(t, path)
			if len(got) != writers*each {
				t.Fatalf("%d lines, want %d", len(got), writers*each)
			}
			for _, l := range got {
				var err error
				if format == JSON {
					err = json.Unmarshal([]byte(l), new(map[string]any))
				} else {
					_, err = xferlogtest.Parse(l)
				}
				if err != nil {
					t.Fatalf("%q: %v", l, err)
				}
			}
		})
	}
}

func TestReopenAfterRename(t *testing.T) {
	w, path, _ := open(t, XferLog)
	log := func(name string) {
		w.Log(Transfer{RemoteIP: "192.0.2.1", Path: name, Direction: Upload, Username: "dev.bob", Complete: true})
	}
	log("/before")
	rotated := path + ".1"
	if err := os.Rename(path, rotated); err != nil {
		t.Fatal(err)
	}
	log("/between") // still the renamed file, as with any daemon before its SIGHUP
	if err := w.Reopen(); err != nil {
		t.Fatal(err)
	}
	log("/after")
	old, cur := lines(t, rotated), lines(t, path)
	if len(old) != 2 || !strings.Contains(old[0], " /before ") || !strings.Contains(old[1], " /between ") {
		t.Errorf("rotated file: %q", old)
	}
	if len(cur) != 1 || !strings.Contains(cur[0], " /after ") {
		t.Errorf("new file: %q", cur)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("new file mode %v, %v; want 0640", fi.Mode().Perm(), err)
	}
}

func TestReopenFailureKeepsTheOldFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "xferlog")
	var logs bytes.Buffer
	w, err := Open(path, XferLog, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	moved := dir + ".old"
	if err := os.Rename(dir, moved); err != nil { // the path cannot be opened now
		t.Fatal(err)
	}
	if err := w.Reopen(); err == nil {
		t.Fatal("Reopen of a path in a missing folder succeeded")
	}
	w.Log(Transfer{RemoteIP: "192.0.2.1", Path: "/kept", Direction: Upload, Username: "dev.bob", Complete: true})
	if got := lines(t, filepath.Join(moved, "xferlog")); len(got) != 1 || !strings.Contains(got[0], "/kept") {
		t.Fatalf("after a failed reopen: %q", got)
	}
}

func TestWriteErrorsAreLoggedOnce(t *testing.T) {
	w, _, logs := open(t, XferLog)
	w.mu.Lock()
	w.f.Close() // every write fails from now on
	w.mu.Unlock()
	for range 3 {
		w.Log(Transfer{RemoteIP: "192.0.2.1", Path: "/x", Direction: Upload, Username: "dev.bob"})
	}
	if n := strings.Count(logs.String(), "transfer log write failed"); n != 1 {
		t.Fatalf("%d error lines for 3 failed writes, want 1:\n%s", n, logs)
	}
	if err := w.Reopen(); err != nil {
		t.Fatal(err)
	}
	w.Log(Transfer{RemoteIP: "192.0.2.1", Path: "/x", Direction: Upload, Username: "dev.bob"})
	if !strings.Contains(logs.String(), "transfer log writes again") {
		t.Errorf("recovery not logged:\n%s", logs)
	}
	w.Log(Transfer{RemoteIP: "192.0.2.1", Path: "/x", Username: "dev.bob"})
	if !strings.Contains(logs.String(), "unknown direction") {
		t.Errorf("a transfer without direction was not reported:\n%s", logs)
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"xferlog": XferLog, " JSON ": JSON} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseFormat("clf"); err == nil || !strings.Contains(err.Error(), "use xferlog or json") {
		t.Errorf("ParseFormat(clf) = %v", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "x"), "csv", nil); err == nil {
		t.Error("Open with an unknown format succeeded")
	}
}
