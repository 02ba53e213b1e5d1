package ftp

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestReadOnlySession: every command that writes gets the backend's
// refusal before the Session is called or a data connection is used;
// reading and listing work, and the perm facts offer reading only.
func TestReadOnlySession(t *testing.T) {
	t.Parallel()
	ts := serve(t, &Server{})
	ts.be.mu.Lock()
	ts.be.readOnly = &Error{Code: 550, Message: "Read-only account."}
	ts.be.mu.Unlock()
	ts.write("/f.txt", "keep me")
	ts.write("/dir/inner.txt", "x")
	c := ts.dial()
	c.login()

	for _, cmd := range []string{"DELE f.txt", "MKD new", "XMKD new", "RMD dir", "XRMD dir",
		"RNFR f.txt", "RNTO g.txt", "MFMT 20200102030405 f.txt"} {
		if code, msg := c.cmd("%s", cmd); code != 550 || msg != "Read-only account." {
			t.Errorf("%s: %d %q, want 550 Read-only account.", cmd, code, msg)
		}
	}
	for _, verb := range []string{"STOR", "APPE"} {
		c.must(229, "EPSV")
		if code, msg := c.cmd("%s f.txt", verb); code != 550 || msg != "Read-only account." {
			t.Errorf("%s: %d %q, want 550 Read-only account.", verb, code, msg)
		}
		if n := ts.srv.PassivePortsInUse(); n != 0 {
			t.Errorf("%s refused: %d passive ports still held", verb, n)
		}
	}
	if code, _ := c.cmd("STOU"); code != 502 {
		t.Errorf("STOU: %d, want 502 (not available)", code)
	}
	if got := ts.read("/f.txt"); got != "keep me" {
		t.Errorf("f.txt is now %q", got)
	}
	if _, err := os.Stat(filepath.Join(ts.be.dir, "new")); !os.IsNotExist(err) {
		t.Errorf("MKD created a folder: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(ts.be.dir, "f.txt")); err != nil || fi.ModTime().Year() == 2020 {
		t.Errorf("MFMT changed the time: %v, %v", fi.ModTime(), err)
	}

	if got := c.retrieve("RETR f.txt"); got != "keep me" {
		t.Errorf("RETR: %q", got)
	}
	listing := c.retrieve("MLSD")
	for _, want := range []string{"perm=r;", "perm=el;"} {
		if !strings.Contains(listing, want) {
			t.Errorf("MLSD of a read-only session lacks %q:\n%s", want, listing)
		}
	}
	c.must(200, "OPTS MLST type;perm;")
	if msg := c.must(250, "MLST f.txt"); !strings.Contains(msg, "type=file;perm=r; /f.txt") {
		t.Errorf("MLST after OPTS MLST: %q", msg)
	}

	ts.be.mu.Lock()
	ts.be.readOnly = nil
	ts.be.mu.Unlock()
	w := ts.dial()
	w.login()
	if msg := w.must(250, "MLST f.txt"); !strings.Contains(msg, "perm=adfrw;") {
		t.Errorf("MLST in a session that may write: %q", msg)
	}
	w.must(250, "DELE f.txt")
}

// TestLoginAsksForTLS: ErrTLSRequired from Login asks for AUTH TLS on a
// connection that stays open, and Conn.RequireTLS from Login holds
// transfers until PROT P.
func TestLoginAsksForTLS(t *testing.T) {
	t.Parallel()
	ts := serve(t, &Server{TLSConfig: testTLS(t)})
	ts.write("/f.txt", "secret")
	ts.be.mu.Lock()
	ts.be.loginErr = ErrTLSRequired
	ts.be.mu.Unlock()
	c := ts.dial()
	c.must(331, "USER %s", testUser)
	if msg := c.must(530, "PASS %s", testPass); msg != msgTLSRequired {
		t.Errorf("PASS refused with ErrTLSRequired: %q", msg)
	}
	c.must(503, "PASS %s", testPass) // USER again, through TLS
	c.must(200, "NOOP")

	ts.be.mu.Lock()
	ts.be.loginErr = nil
	ts.be.onLogin = func(c *Conn) { c.RequireTLS() }
	ts.be.mu.Unlock()
	c.authTLS(clientTLS())
	c.login()
	c.must(229, "EPSV")
	if code, msg := c.cmd("RETR f.txt"); code != 521 || !strings.Contains(msg, "PROT P") {
		t.Fatalf("RETR without PROT P after RequireTLS: %d %q, want 521", code, msg)
	}
	c.must(200, "PBSZ 0")
	c.must(200, "PROT P")
	if got := c.retrieve("RETR f.txt"); got != "secret" {
		t.Errorf("RETR over TLS: %q", got)
	}
}

// TestStatusWatcher: the backend hears of CLNT, AUTH TLS and PROT when
// they arrive, and reads the new values from the Conn.
func TestStatusWatcher(t *testing.T) {
	t.Parallel()
	ts := serve(t, &Server{TLSConfig: testTLS(t)})
	c := ts.dial()
	c.must(200, "CLNT Example FTP 1.0")
	c.authTLS(clientTLS())
	c.login()
	c.must(200, "PBSZ 0")
	c.must(200, "PROT P")
	c.must(200, "PROT C")
	ts.be.mu.Lock()
	got := slices.Clone(ts.be.statuses)
	ts.be.mu.Unlock()
	want := []string{"false/false/Example FTP 1.0", "true/false/Example FTP 1.0", "true/true/Example FTP 1.0", "true/false/Example FTP 1.0"}
	if !slices.Equal(got, want) {
		t.Errorf("StatusChanged saw %q, want %q", got, want)
	}
}
