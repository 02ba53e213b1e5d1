package ftpd

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// The tests of this file show, as root, that an FTP session can do on
// disk exactly what its account's uid could do: the kernel refuses the
// rest, whatever the jail lets through.

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the server acts as the account only when it runs as root")
	}
}

// rootFile writes data to the site-relative name, owned by root with mode.
func (e *env) rootFile(name, data string, mode os.FileMode) string {
	e.t.Helper()
	p := e.file(name)
	if err := os.WriteFile(p, []byte(data), mode); err != nil {
		e.t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // whatever the umask
		e.t.Fatal(err)
	}
	return p
}

// assertRefused fails unless err is a 550 reply.
func assertRefused(t *testing.T, err error, what string) {
	t.Helper()
	if err == nil || !strings.HasPrefix(err.Error(), "550") {
		t.Errorf("%s: %v, want 550", what, err)
	}
}

func assertContent(t *testing.T, p, want string) {
	t.Helper()
	if b, err := os.ReadFile(p); err != nil || string(b) != want {
		t.Errorf("%s now holds %q (%v), want %q unchanged", p, b, err, want)
	}
}

// TestIsolationRootFile: a root:root 0600 file in the sub-user's own
// folder cannot be downloaded, overwritten or changed.
func TestIsolationRootFile(t *testing.T) {
	requireRoot(t)
	e := newEnv(t, envOptions{})
	p := e.rootFile("secret.conf", "DB_PASSWORD=root-only", 0o600)
	c := e.dial("")
	_, err := c.Retr("/secret.conf")
	assertRefused(t, err, "RETR of a root 0600 file")
	assertRefused(t, c.Stor("/secret.conf", strings.NewReader("mine now")), "STOR over it")
	assertRefused(t, c.Append("/secret.conf", strings.NewReader("more")), "APPE to it")
	assertContent(t, p, "DB_PASSWORD=root-only")
	if err := c.NoOp(); err != nil {
		t.Fatalf("the session ended: %v", err)
	}
}

// TestIsolationRootFolder: a root-owned 0755 folder can be listed and read
// but not written into, and its files not overwritten, renamed or deleted.
func TestIsolationRootFolder(t *testing.T) {
	requireRoot(t)
	e := newEnv(t, envOptions{})
	if err := os.Mkdir(e.file("locked"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := e.rootFile("locked/index.php", "<?php // root", 0o644)
	c := e.dial("")
	if _, err := c.List("/locked"); err != nil {
		t.Errorf("LIST of a 0755 folder: %v", err)
	}
	if r, err := c.Retr("/locked/index.php"); err != nil {
		t.Errorf("RETR of a 0644 file: %v", err)
	} else {
		io.Copy(io.Discard, r)
		r.Close()
	}
	assertRefused(t, c.Stor("/locked/new.php", strings.NewReader("x")), "STOR into the folder")
	assertRefused(t, c.Stor("/locked/index.php", strings.NewReader("x")), "STOR over its file")
	assertRefused(t, c.MakeDir("/locked/sub"), "MKD inside")
	assertRefused(t, c.Delete("/locked/index.php"), "DELE of its file")
	assertRefused(t, c.Rename("/locked/index.php", "/index.php"), "RNTO out of it")
	assertContent(t, p, "<?php // root")
	if _, err := os.Lstat(e.file("locked/new.php")); err == nil {
		t.Error("STOR created a file in the root folder")
	}
}

// TestIsolationHardLink: a hard link planted in the site to a root-owned
// file outside every home is neither read nor rewritten.
func TestIsolationHardLink(t *testing.T) {
	requireRoot(t)
	e := newEnv(t, envOptions{})
	target := filepath.Join(t.TempDir(), "shadow")
	const secret = "root:$y$j9T$secret:19000:0:99999:7:::\n"
	if err := os.WriteFile(target, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(target, e.file("innocent.txt")); err != nil {
		t.Skipf("cannot hard-link across these folders (%v)", err)
	}
	c := e.dial("")
	_, err := c.Retr("/innocent.txt")
	assertRefused(t, err, "RETR through the hard link")
	assertRefused(t, c.Stor("/innocent.txt", strings.NewReader("* * * * * root sh -c id\n")), "STOR through the hard link")
	assertContent(t, target, secret)
}

// TestIsolationListing: a folder the account may not read is not listed.
func TestIsolationListing(t *testing.T) {
	requireRoot(t)
	e := newEnv(t, envOptions{})
	if err := os.Mkdir(e.file("private"), 0o700); err != nil {
		t.Fatal(err)
	}
	e.rootFile("private/backup.sql", "DROP TABLE", 0o644)
	c := e.dial("")
	_, err := c.List("/private")
	if err == nil || !strings.HasPrefix(err.Error(), "5") {
		t.Errorf("LIST of a root 0700 folder: %v, want a 5xx refusal", err)
	}
	names, err := c.NameList("/private")
	if err == nil { // 550, as for LIST
		t.Errorf("NLST of a root 0700 folder: listed %q", names)
	}
	if _, err := c.Retr("/private/backup.sql"); err == nil {
		t.Error("RETR inside a folder the account cannot search succeeded")
	}
}

// TestNamesWithLineBreaks: CR or LF inside a file name is refused (the
// command line itself ends at CRLF, so a bare CR or LF is what a client
// can send), and nothing is created.
func TestNamesWithLineBreaks(t *testing.T) {
	e := newEnv(t, envOptions{})
	r := e.raw()
	r.login(testUser, testPass)
	for _, name := range []string{"a\rb.txt", "x\r226 fake"} {
		code, msg := r.cmd("MKD %s", name)
		if code != 550 && code != 553 {
			t.Errorf("MKD %q: %d %s, want 550 or 553", name, code, msg)
		}
	}
	entries, err := os.ReadDir(e.Root)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range entries {
		if strings.ContainsAny(d.Name(), "\r\n") {
			t.Errorf("created %q", d.Name())
		}
	}
}

// runAs runs a command as uid:gid with no other groups (util-linux
// setpriv): the kernel's answer to that account's own shell.
func runAs(t *testing.T, uid int, args ...string) error {
	t.Helper()
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("needs setpriv (util-linux) to act as another account")
	}
	id := strconv.Itoa(uid)
	cmd := exec.Command(setpriv, append([]string{"--reuid=" + id, "--regid=" + id, "--clear-groups", "--"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// TestIsolationBetweenAccounts: what a sub-user uploads into a folder the
// service created cannot be read by another account's uid, though it can
// by its own.
func TestIsolationBetweenAccounts(t *testing.T) {
	requireRoot(t)
	tmp := t.TempDir()
	// The test's temporary root is 0700: let other uids pass through, as
	// they can through /home.
	if err := os.Chmod(filepath.Dir(tmp), 0o711); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{home: filepath.Join(tmp, "bob")}) // created by the service
	c := e.dial("")
	const config = "<?php define('DB_PASSWORD', 'hunter2');"
	if err := c.Stor("/wp-config.php", strings.NewReader(config)); err != nil {
		t.Fatal(err)
	}
	p := e.file("wp-config.php")
	for path, want := range map[string]os.FileMode{e.Home: 0o711 | os.ModeDir, e.Root: 0o750 | os.ModeDir, p: 0o644} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if fi.Mode() != want || st.Uid != testUID || st.Gid != testUID {
			t.Errorf("%s: %v %d:%d, want %v %d:%d", path, fi.Mode(), st.Uid, st.Gid, want, testUID, testUID)
		}
	}
	if err := runAs(t, testUID, "cat", p); err != nil {
		t.Fatalf("the account itself cannot read its upload: %v", err)
	}
	const alice = testUID + 1
	if err := runAs(t, alice, "cat", p); err == nil || !strings.Contains(err.Error(), "Permission denied") {
		t.Errorf("another account's uid read the upload (%v)", err)
	}
	if err := runAs(t, alice, "ls", e.Home); err == nil {
		t.Error("another account's uid listed the home")
	}
}
