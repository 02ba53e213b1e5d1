package ftpd

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/sessions"
)

// Bounds of one fuzz input, so each stays fast (well under 100 ms when
// the server answers at once).
const (
	fuzzMaxBytes = 8 << 10
	fuzzMaxLines = 64
	// fuzzReplyWait bounds reading the replies of one input: a command
	// that waits for a data connection the fuzzer never opens is cut off.
	fuzzReplyWait = 300 * time.Millisecond
	fuzzSentinel  = "XFUZZEND"
)

// fuzzTarget is the server FuzzCommands drives: one per fuzz process,
// with a jailed user whose home holds, above the jail, a folder
// "outside" with a marker file, and inside the jail symbolic links that
// point out of it.
type fuzzTarget struct {
	e       *env
	outside string
	marker  string
	stamp   time.Time
	home    []string // entries of the home, above the jail
}

const fuzzMarker = "must not change"

func newFuzzTarget(tb testing.TB) *fuzzTarget {
	e := newEnv(tb, envOptions{
		quiet:  true,
		cfg:    Config{LoginsPerIPPerMinute: -1, DataConnTimeout: time.Second, LoginTimeout: 5 * time.Second},
		limits: sessions.Limits{MaxPerIP: -1, MaxPerUser: -1, MaxConnections: -1},
	})
	f := &fuzzTarget{e: e, outside: filepath.Join(e.Home, "outside")}
	f.marker = filepath.Join(f.outside, "marker")
	if err := os.MkdirAll(f.outside, 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(f.marker, []byte(fuzzMarker), 0o644); err != nil {
		tb.Fatal(err)
	}
	e.write("/inside.txt", "inside")
	for name, target := range map[string]string{"up": "../outside", "abs": f.outside, "markerlink": f.marker, "root": "/"} {
		if err := os.Symlink(target, e.file(name)); err != nil {
			tb.Fatal(err)
		}
	}
	fi, err := os.Stat(f.marker)
	if err != nil {
		tb.Fatal(err)
	}
	f.stamp = fi.ModTime()
	f.home = names(tb, e.Home)
	return f
}

func names(tb testing.TB, dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var list []string
	for _, d := range entries {
		list = append(list, d.Name())
	}
	return list
}

// run sends input as command lines after logging in, and reads replies
// until the sentinel's or fuzzReplyWait.
func (f *fuzzTarget) run(t *testing.T, input []byte) {
	conn, err := net.DialTimeout("tcp", f.e.Addr, 2*time.Second)
	if err != nil {
		t.Fatalf("server not accepting: %v", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	br := bufio.NewReader(conn)
	expect := func(prefix string) {
		line, err := readReply(br)
		if err != nil || !strings.HasPrefix(line, prefix) {
			t.Fatalf("want %s, got %q, %v", prefix, line, err)
		}
	}
	expect("220 ")
	fmt.Fprintf(conn, "USER %s\r\nPASS %s\r\n", testUser, testPass)
	expect("331 ")
	expect("230 ")

	var buf bytes.Buffer
	lines := bytes.Split(input, []byte("\n"))
	for _, l := range lines[:min(len(lines), fuzzMaxLines)] {
		buf.Write(bytes.TrimSuffix(l, []byte("\r")))
		buf.WriteString("\r\n")
	}
	buf.WriteString(fuzzSentinel + "\r\n")
	_ = conn.SetDeadline(time.Now().Add(fuzzReplyWait))
	go func() { _, _ = conn.Write(buf.Bytes()) }()
	for {
		line, err := readReply(br)
		if err != nil || strings.Contains(line, fuzzSentinel) {
			break
		}
		if strings.Contains(line, "Internal error") {
			t.Fatalf("panic in a command: %q", line)
		}
	}
}

// readReply reads one reply line (continuation lines included).
func readReply(br *bufio.Reader) (string, error) {
	line, err := br.ReadString('\n')
	return line, err
}

// check fails unless the server still serves a fresh log-in and nothing
// outside the jail changed.
func (f *fuzzTarget) check(t *testing.T) {
	conn, err := textprotoDial(f.e.Addr)
	if err != nil {
		t.Fatalf("server no longer greets: %v", err)
	}
	defer conn.Close()
	if code := loginCode(conn, testUser, testPass); code != 230 {
		t.Fatalf("server no longer logs in: reply %d", code)
	}
	b, err := os.ReadFile(f.marker)
	if err != nil || string(b) != fuzzMarker {
		t.Fatalf("marker outside the jail changed: %q, %v", b, err)
	}
	if fi, err := os.Stat(f.marker); err != nil || !fi.ModTime().Equal(f.stamp) || fi.Mode().Perm() != 0o644 {
		t.Fatalf("marker outside the jail touched: %v, %v", fi, err)
	}
	if got := names(t, f.outside); !slices.Equal(got, []string{"marker"}) {
		t.Fatalf("outside folder now holds %q", got)
	}
	if got := names(t, f.e.Home); !slices.Equal(got, f.home) {
		t.Fatalf("home above the jail now holds %q, was %q", got, f.home)
	}
	if n := f.e.logs.Panics(); n > 0 {
		t.Fatalf("%d panics logged:\n%s", n, f.e.logs.String())
	}
}

// FuzzCommands sends fuzzed command lines to a real server as a
// logged-in jailed user, and checks that the server keeps serving and
// that nothing outside the jail changes. One server serves every input
// of a fuzz process (and of the seed corpus, testdata/fuzz/FuzzCommands,
// under plain go test). Run it with
//
//	go test -run '^$' -fuzz FuzzCommands -fuzztime 10m ./internal/ftpd/
func FuzzCommands(f *testing.F) {
	target := newFuzzTarget(f)
	f.Fuzz(func(t *testing.T, input []byte) {
		if len(input) > fuzzMaxBytes {
			input = input[:fuzzMaxBytes]
		}
		target.run(t, input)
		target.check(t)
	})
}
