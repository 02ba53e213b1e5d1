package ftpd

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// replyArgs fail in every way a path can: missing, escaping the folder
// or reaching out through a link, a folder where a file is wanted and
// the reverse, a FIFO, a name too long for the file system, ls options.
var replyArgs = []string{
	"", "f.txt", "missing", "../../etc/passwd", "link-passwd", "link-dir/secret.txt", "link-etc",
	"dir", "/", "pipe", strings.Repeat("x", 300), "-la", "*", "20200101000000 link-home",
}

// TestRepliesShowNoInternals runs every command with each of replyArgs,
// before log-in, logged in and during a transfer, and checks every reply:
// an FTP code and sentences of our own, never a Go error's text (a system
// call name, "no such file or directory", a format verb) nor a path of
// the server's disk.
func TestRepliesShowNoInternals(t *testing.T) {
	e := newEnv(t, envOptions{quiet: true, cfg: Config{DataConnTimeout: 300 * time.Millisecond}})
	plantEscapes(t, e)
	e.write("/f.txt", "file")
	e.write("/dir/g.txt", "in a folder")
	if err := mkfifo(e.file("/pipe")); err != nil {
		t.Fatal(err)
	}
	verbs := helpVerbs(t, e)
	verbs = append(verbs, "SITE", "STOU", "REIN", "SMNT", "LPSV", "LPRT", "XYZZY")
	hidden := []string{e.Home, e.Data, os.TempDir() + "/", "/tmp/"}
	check := func(state, line string, code int, msg string) {
		t.Helper()
		if code < 100 || code > 599 {
			t.Errorf("%s: %.60q: no reply (%d %q)", state, line, code, msg)
			return
		}
		if leak := internalText(msg, hidden); leak != "" {
			t.Errorf("%s: %.60q: %d %q shows %q", state, line, code, msg, leak)
		}
	}
	var lines []string
	for _, v := range verbs {
		for _, a := range replyArgs {
			switch v {
			case "QUIT", "PASS", "USER", "AUTH", "REIN":
				continue // they end or restart the session; checked on their own below
			}
			lines = append(lines, strings.TrimSpace(v+" "+a))
		}
	}

	t.Run("before log-in", func(t *testing.T) {
		r := e.raw()
		for _, line := range append(lines, "PASS x", "AUTH KERBEROS", "AUTH") {
			code, msg := r.cmd("%s", line)
			check("before log-in", line, code, msg)
		}
	})
	t.Run("logged in", func(t *testing.T) {
		r := e.raw()
		r.login(testUser, testPass)
		for _, line := range append(lines, "USER other.bob", "PASS x", "AUTH TLS-X") {
			code, msg := r.cmd("%s", line)
			check("logged in", line, code, msg)
		}
	})
	t.Run("during a transfer", func(t *testing.T) {
		r := e.raw()
		r.login(testUser, testPass)
		data := r.epsv()
		r.must(150, "STOR during.bin")
		data.Write([]byte("data"))
		go func() {
			for _, line := range lines {
				fmt.Fprintf(r.conn, "%s\r\n", line)
			}
			time.Sleep(100 * time.Millisecond)
			data.Close()
		}()
		for i := 0; i <= len(lines); i++ { // the transfer's 226 too
			code, msg := r.read()
			check("during a transfer", "reply "+fmt.Sprint(i), code, msg)
			if code == 0 {
				break
			}
		}
	})
	t.Run("failed log-in", func(t *testing.T) {
		r := e.raw()
		r.must(331, "USER nobody.bob")
		code, msg := r.cmd("PASS wrong")
		check("failed log-in", "PASS", code, msg)
	})
}

// helpVerbs returns the commands HELP lists.
func helpVerbs(t *testing.T, e *env) []string {
	t.Helper()
	msg := e.raw().must(214, "HELP")
	var verbs []string
	for _, line := range strings.Split(msg, "\n")[1:] {
		for _, v := range strings.Fields(line) {
			if v == strings.ToUpper(v) && !strings.HasSuffix(v, ".") {
				verbs = append(verbs, v)
			}
		}
	}
	if len(verbs) < 40 {
		t.Fatalf("HELP lists only %d commands:\n%s", len(verbs), msg)
	}
	return verbs
}

// internalText returns what in a reply comes from inside the server: a
// Go error's text or one of the hidden paths; "" when nothing does.
func internalText(reply string, hidden []string) string {
	lower := strings.ToLower(reply)
	for _, s := range []string{
		"%!", "%s", "%v", "%d", "openat", "statat", "lstat", "readdirent", "unlinkat", "mkdirat", "renameat",
		"fchownat", "fstatat", "no such file or directory", "invalid argument", "input/output error",
		"not a directory", "is a directory", "file exists", "directory not empty", "file name too long",
		"path escapes", "escapes from parent", "driver error", "<nil>", "errors.", "os.", "syscall",
		"operation not permitted", "bad file descriptor", "use of closed", "broken pipe", "connection reset",
		"i/o timeout", "tcp ", "127.0.0.1:", "jail:", "afero", "ftpserver",
	} {
		if strings.Contains(lower, s) {
			return s
		}
	}
	for _, p := range hidden {
		if p != "" && strings.Contains(reply, p) {
			return p
		}
	}
	return ""
}
