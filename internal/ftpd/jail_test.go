package ftpd

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// outside is what the jail must protect: files outside the user's folder.
type outside struct {
	secret  string // the owner's home, above the user's folder
	other   string // another account's home
	passwdB []byte
}

// plantEscapes creates, inside the user's folder, every kind of link a
// script of the account could plant, and returns the files they aim at.
func plantEscapes(t *testing.T, e *env) outside {
	t.Helper()
	o := outside{secret: filepath.Join(e.Home, "secret.txt"), other: filepath.Join(t.TempDir(), "ann.txt")}
	for _, f := range []string{o.secret, o.other} {
		if err := os.WriteFile(f, []byte("SECRET"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	o.passwdB, _ = os.ReadFile("/etc/passwd")
	links := map[string]string{
		"link-passwd": "/etc/passwd",
		"link-home":   "../secret.txt",
		"link-ann":    o.other,
		"link-dir":    "..",
		"link-etc":    "/etc",
	}
	for name, target := range links {
		if err := os.Symlink(target, e.file(name)); err != nil {
			t.Fatal(err)
		}
	}
	e.write("/inside.txt", "inside")
	return o
}

// attempt runs cmd, opening a passive data connection first for the
// commands that need one, and returns the final reply code and any data
// the server sent.
func attempt(r *raw, cmd string) (int, string) {
	verb := strings.Fields(cmd)[0]
	needsData := map[string]bool{"RETR": true, "STOR": true, "APPE": true, "LIST": true, "NLST": true, "MLSD": true}[verb]
	if !needsData {
		code, msg := r.cmd("%s", cmd)
		return code, msg
	}
	data := r.epsv()
	defer data.Close()
	code, msg := r.cmd("%s", cmd)
	if code != 150 {
		return code, msg
	}
	var got string
	if verb == "STOR" || verb == "APPE" {
		io.WriteString(data, "EVIL")
		data.Close()
	} else {
		_ = data.SetReadDeadline(time.Now().Add(5 * time.Second))
		b, _ := io.ReadAll(data)
		got = string(b)
	}
	code, msg = r.read()
	return code, msg + got
}

// TestJailEscapes tries every way out of the user's folder through FTP.
func TestJailEscapes(t *testing.T) {
	e := newEnv(t, envOptions{})
	o := plantEscapes(t, e)
	r := e.raw()
	r.login(testUser, testPass)
	refused := []string{
		"RETR ../secret.txt", "RETR ../../secret.txt", "RETR /../secret.txt",
		"RETR /etc/passwd", "RETR ../../../../../../etc/passwd",
		"SIZE ../secret.txt", "MDTM ../secret.txt", "MLST ../secret.txt", "DELE ../secret.txt",
		"RNFR ../secret.txt", "CWD ../../etc",
		"RETR link-passwd", "SIZE link-passwd", "MDTM link-passwd", "MLST link-passwd",
		"RETR link-home", "RETR link-ann", "RETR link-dir/secret.txt", "RETR link-etc/passwd",
		"CWD link-dir", "CWD link-etc", "LIST link-etc", "MLSD link-dir", "NLST link-etc",
		"STOR link-passwd", "APPE link-home", "STOR link-dir/evil.txt", "STOR link-ann",
		"MKD link-dir/newdir", "RMD link-etc", "MFMT 20000101000000 link-home",
	}
	for _, cmd := range refused {
		code, msg := attempt(r, cmd)
		if code < 400 || strings.Contains(msg, "SECRET") || strings.Contains(msg, "root:") {
			t.Errorf("%s: %d %q, want a refusal", cmd, code, msg)
		}
		r.must(257, "PWD") // the session survives every refusal
	}
	// RNTO through a link that leaves the folder.
	r.must(350, "RNFR inside.txt")
	if code, msg := r.cmd("RNTO link-dir/moved.txt"); code < 400 {
		t.Errorf("RNTO link-dir/moved.txt: %d %s", code, msg)
	}
	// ".." above the root stays at the root (as in a chroot).
	r.must(250, "CWD ..")
	if msg := r.must(257, "PWD"); !strings.Contains(msg, `"/"`) {
		t.Errorf("PWD after CWD .. = %q", msg)
	}
	if code, list := attempt(r, "LIST .."); code != 226 || strings.Contains(list, "secret.txt") || !strings.Contains(list, "inside.txt") {
		t.Errorf("LIST .. = %d %q, want the user's own folder", code, list)
	}
	for _, cmd := range []string{"STOR ../evil.txt", "MKD ../newdir"} {
		attempt(r, cmd)
	}
	checkOutsideUntouched(t, e, o)
}

func checkOutsideUntouched(t *testing.T, e *env, o outside) {
	t.Helper()
	for _, f := range []string{o.secret, o.other} {
		if b, err := os.ReadFile(f); err != nil || string(b) != "SECRET" {
			t.Errorf("%s changed: %q, %v", f, b, err)
		}
	}
	if b, _ := os.ReadFile("/etc/passwd"); string(b) != string(o.passwdB) {
		t.Error("/etc/passwd changed")
	}
	for _, f := range []string{"evil.txt", "newdir", "moved.txt"} {
		if _, err := os.Lstat(filepath.Join(e.Home, f)); !os.IsNotExist(err) {
			t.Errorf("%s was created in the owner's home, outside the user's folder", f)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(o.other), "evil.txt")); !os.IsNotExist(err) {
		t.Error("a file was created in another account's home")
	}
}

// TestJailSwapBetweenCWDAndRETR swaps a folder the client is in for a link
// to the owner's home: the next RETR must not follow it.
func TestJailSwapBetweenCWDAndRETR(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.write("/d/f.txt", "inside")
	if err := os.WriteFile(filepath.Join(e.Home, "f.txt"), []byte("SECRET"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.raw()
	r.login(testUser, testPass)
	r.must(250, "CWD d")
	if code, got := attempt(r, "RETR f.txt"); code != 226 || !strings.Contains(got, "inside") {
		t.Fatalf("RETR before the swap: %d %q", code, got)
	}
	if err := os.RemoveAll(e.file("/d")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(e.Home, e.file("/d")); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"RETR f.txt", "SIZE f.txt", "STOR new.txt", "LIST", "DELE f.txt"} {
		if code, got := attempt(r, cmd); code < 400 || strings.Contains(got, "SECRET") {
			t.Errorf("%s after the swap: %d %q, want a refusal", cmd, code, got)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(e.Home, "f.txt")); string(b) != "SECRET" {
		t.Error("the owner's file was changed or deleted")
	}
	if _, err := os.Stat(filepath.Join(e.Home, "new.txt")); !os.IsNotExist(err) {
		t.Error("STOR wrote into the owner's home")
	}
}

// TestJailRefusesFIFO: a FIFO planted in the folder must not hang RETR.
func TestJailRefusesFIFO(t *testing.T) {
	e := newEnv(t, envOptions{})
	if err := mkfifo(e.file("/pipe")); err != nil {
		t.Skip("mkfifo:", err)
	}
	r := e.raw()
	r.login(testUser, testPass)
	done := make(chan int, 1)
	go func() {
		code, _ := attempt(r, "RETR pipe")
		done <- code
	}()
	select {
	case code := <-done:
		if code < 400 {
			t.Errorf("RETR of a FIFO: %d, want a refusal", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("RETR of a FIFO hangs")
	}
}
