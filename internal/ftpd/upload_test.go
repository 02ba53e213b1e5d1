package ftpd

import (
	"bytes"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
)

// uploadTemps lists the temporary upload files under dir on disk.
func uploadTemps(t *testing.T, dir string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && isUploadTemp(d.Name()) {
			found = append(found, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// startUpload begins a STOR of name on a new session and sends 64 KiB,
// leaving the data connection open.
func startUpload(t *testing.T, e *env, name string) (*raw, net.Conn) {
	t.Helper()
	r := e.raw()
	r.login(testUser, testPass)
	data := r.epsv()
	r.must(150, "STOR %s", name)
	if _, err := data.Write(bytes.Repeat([]byte("n"), 64<<10)); err != nil {
		t.Fatal(err)
	}
	return r, data
}

// listed is what another session sees of the top folder: names and
// sizes from MLSD, and the names of NLST.
func listed(t *testing.T, c *ftp.ServerConn) (map[string]uint64, []string) {
	t.Helper()
	entries, err := c.List("/")
	if err != nil {
		t.Fatal(err)
	}
	sizes := map[string]uint64{}
	for _, en := range entries {
		if en.Name != "." && en.Name != ".." {
			sizes[en.Name] = en.Size
		}
	}
	names, err := c.NameList("/")
	if err != nil {
		t.Fatal(err)
	}
	return sizes, names
}

// TestAtomicUpload: while a STOR replaces a file, other sessions see the
// old file and never the new one half-written nor its temporary file; an
// aborted upload leaves the old file as it was and no temporary file; a
// complete one replaces it, keeping its permissions.
func TestAtomicUpload(t *testing.T) {
	e := newEnv(t, envOptions{})
	const old = "<html>old</html>"
	e.write("/index.html", old)
	if err := os.Chmod(e.file("/index.html"), 0o640); err != nil {
		t.Fatal(err)
	}
	other := e.dial("")

	r, data := startUpload(t, e, "index.html")
	eventually(t, settle, "the upload's temporary file", func() bool { return len(uploadTemps(t, e.Root)) == 1 })
	sizes, names := listed(t, other)
	if len(sizes) != 1 || sizes["index.html"] != uint64(len(old)) || len(names) != 1 {
		t.Fatalf("another session lists %v (MLSD), %v (NLST) during the upload; want the old index.html alone", sizes, names)
	}
	if got := retr(t, other, "/index.html", 0); string(got) != old {
		t.Fatalf("another session downloads %q during the upload, want the old file", got)
	}
	r.must(426, "ABOR")
	r.expect(226)
	data.Close()
	eventually(t, settle, "the temporary file removed", func() bool { return len(uploadTemps(t, e.Root)) == 0 })
	if got := e.read("/index.html"); got != old {
		t.Fatalf("after an aborted upload the file holds %d bytes, want the old file", len(got))
	}

	r, data = startUpload(t, e, "index.html")
	data.Close()
	r.expect(226)
	if got := e.read("/index.html"); got != strings.Repeat("n", 64<<10) {
		t.Fatalf("after a complete upload the file holds %d bytes, want the new 64 KiB", len(got))
	}
	if fi, err := os.Stat(e.file("/index.html")); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("replaced file: %v, %v; want the old mode 0640", fi.Mode(), err)
	}
	if left := uploadTemps(t, e.Root); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	// A new file appears only once complete, with the usual mode.
	if err := other.Stor("/new.txt", strings.NewReader("new")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(e.file("/new.txt")); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("new file: %v, %v; want 0644", fi, err)
	}
}

// TestAtomicUploadRefusedAsInPlace: a file the account may not write is
// not replaced by an atomic upload either (as root).
func TestAtomicUploadRefusedAsInPlace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to own a file the account cannot write")
	}
	e := newEnv(t, envOptions{})
	e.write("/locked.txt", "root's")
	if err := os.Chown(e.file("/locked.txt"), 0, 0); err != nil {
		t.Fatal(err)
	}
	c := e.dial("")
	if err := c.Stor("/locked.txt", strings.NewReader("mine")); err == nil || !strings.HasPrefix(err.Error(), "550") {
		t.Fatalf("STOR over a root-owned 0644 file: %v, want 550", err)
	}
	if got := e.read("/locked.txt"); got != "root's" {
		t.Errorf("file now holds %q", got)
	}
}

// TestAtomicUploadInPlaceWhereNoFileMayBeAdded: a file the account may
// write, in a folder where it may not create files, is written in place
// rather than refused (as root).
func TestAtomicUploadInPlaceWhereNoFileMayBeAdded(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to own a folder the account cannot write")
	}
	e := newEnv(t, envOptions{})
	e.write("/shared/data.txt", "old")
	if err := os.Chown(e.file("/shared"), 0, 0); err != nil {
		t.Fatal(err)
	}
	c := e.dial("")
	if err := c.Stor("/shared/data.txt", strings.NewReader("new")); err != nil {
		t.Fatalf("STOR of a writable file in a root-owned folder: %v", err)
	}
	if got := e.read("/shared/data.txt"); got != "new" {
		t.Errorf("file holds %q, want the upload", got)
	}
	if err := c.Stor("/shared/other.txt", strings.NewReader("x")); err == nil || !strings.HasPrefix(err.Error(), "550") {
		t.Errorf("STOR of a new file in a root-owned folder: %v, want 550", err)
	}
}

// TestDirectUpload: in direct mode a STOR writes the file itself, as
// before: another session sees it grow, and an aborted upload leaves the
// partial file; no temporary file is made.
func TestDirectUpload(t *testing.T) {
	e := newEnv(t, envOptions{cfg: Config{UploadMode: UploadDirect}})
	e.write("/index.html", "<html>old</html>")
	other := e.dial("")
	r, data := startUpload(t, e, "index.html")
	eventually(t, settle, "the bytes written in place", func() bool {
		sizes, _ := listed(t, other)
		return sizes["index.html"] == 64<<10
	})
	if left := uploadTemps(t, e.Root); len(left) != 0 {
		t.Errorf("temporary files in direct mode: %v", left)
	}
	r.must(426, "ABOR")
	r.expect(226)
	data.Close()
	if got := e.read("/index.html"); got != strings.Repeat("n", 64<<10) {
		t.Errorf("after an aborted direct upload the file holds %d bytes, want the partial 64 KiB", len(got))
	}
}

// TestResumesWriteInPlace: in atomic mode REST+STOR and APPE write the
// file itself: a resumed upload completes the partial file, and an
// aborted append keeps what arrived.
func TestResumesWriteInPlace(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.write("/part.bin", "first half;")
	c := e.dial("")
	if err := c.StorFrom("/part.bin", strings.NewReader("second half"), 11); err != nil {
		t.Fatal(err)
	}
	if got := e.read("/part.bin"); got != "first half;second half" {
		t.Fatalf("REST+STOR gave %q", got)
	}
	r := e.raw()
	r.login(testUser, testPass)
	data := r.epsv()
	r.must(150, "APPE part.bin")
	if _, err := data.Write([]byte(";more")); err != nil {
		t.Fatal(err)
	}
	eventually(t, settle, "the appended bytes in place", func() bool {
		b, _ := os.ReadFile(e.file("/part.bin"))
		return string(b) == "first half;second half;more"
	})
	r.must(426, "ABOR")
	r.expect(226)
	data.Close()
	if got := e.read("/part.bin"); got != "first half;second half;more" {
		t.Errorf("after an aborted APPE the file holds %q, want what arrived kept", got)
	}
	if left := uploadTemps(t, e.Root); len(left) != 0 {
		t.Errorf("temporary files left by resumes: %v", left)
	}
}

// TestUploadTempNamesHidden: temporary upload files are never listed
// (LIST, NLST, MLSD, STAT), no command may name them, and one left by a
// crash, older than an hour, is removed when its folder is listed.
func TestUploadTempNamesHidden(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.write("/site.txt", "x")
	const live, dead = uploadPrefix + "0123456789abcdef", uploadPrefix + "fedcba9876543210"
	e.write("/"+live, "being written")
	e.write("/"+dead, "left by a crash")
	hourAgo := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(e.file("/"+dead), hourAgo, hourAgo); err != nil {
		t.Fatal(err)
	}
	c := e.dial("")
	sizes, names := listed(t, c)
	raw, err := c.List("") // LIST of the current folder
	if err != nil {
		t.Fatal(err)
	}
	r := e.raw()
	r.login(testUser, testPass)
	stat := r.must(212, "STAT /")
	for _, shown := range []string{strings.Join(names, " "), stat, entryNames(raw)} {
		if strings.Contains(shown, uploadPrefix) {
			t.Errorf("a temporary file is listed: %s", shown)
		}
	}
	if len(sizes) != 1 {
		t.Errorf("MLSD lists %v, want site.txt alone", sizes)
	}
	if _, err := os.Stat(e.file("/" + dead)); !os.IsNotExist(err) {
		t.Errorf("the crash's leftover is still there after a listing: %v", err)
	}
	if _, err := os.Stat(e.file("/" + live)); err != nil {
		t.Errorf("the running upload's file was removed: %v", err)
	}
	for _, tc := range []struct {
		cmd  string
		code int
	}{
		{"MLST " + live, 550}, {"SIZE " + live, 550}, {"MDTM " + live, 550}, {"DELE " + live, 550},
		{"RNFR " + live, 550}, {"CWD " + live, 550}, {"MKD sub/" + uploadPrefix + "x", 550},
		{"MFMT 20240101000000 " + live, 550},
	} {
		if code, msg := r.cmd("%s", tc.cmd); code != tc.code {
			t.Errorf("%s: %d %s, want %d", tc.cmd, code, msg, tc.code)
		}
	}
	r.must(350, "RNFR site.txt")
	r.must(553, "RNTO %s", live)
	for _, verb := range []string{"STOR", "APPE", "RETR"} {
		data := r.epsv()
		code, msg := r.cmd("%s %s", verb, live)
		data.Close()
		if want := map[bool]int{true: 553, false: 550}[verb != "RETR"]; code != want {
			t.Errorf("%s of a temporary name: %d %s, want %d", verb, code, msg, want)
		}
	}
	if got := e.read("/" + live); got != "being written" {
		t.Errorf("the running upload's file was changed: %q", got)
	}
}

func entryNames(entries []*ftp.Entry) string {
	var b strings.Builder
	for _, en := range entries {
		b.WriteString(en.Name + " ")
	}
	return b.String()
}

// TestAtomicUploadGroup: the new file keeps the group of the file it
// replaces when the account is in that group (as root).
func TestAtomicUploadGroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files to groups")
	}
	e := newEnv(t, envOptions{})
	e.write("/wp-config.php", "secret")
	// The account's only group is its own: another group is not kept.
	if err := os.Chown(e.file("/wp-config.php"), testUID, 33); err != nil {
		t.Fatal(err)
	}
	c := e.dial("")
	if err := c.Stor("/wp-config.php", strings.NewReader("new secret")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(e.file("/wp-config.php"))
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != testUID || st.Gid != testUID {
		t.Errorf("owner %d:%d, want the account's %d:%d (it is not in group 33)", st.Uid, st.Gid, testUID, testUID)
	}
}

// TestUploadStopsWhenShortened: an upload whose file another session (or
// the website) shortens meanwhile stops with 554, and the file is cut
// back where the hole its next write made begins: no upload leaves a
// sparse file, in either mode.
func TestUploadStopsWhenShortened(t *testing.T) {
	for _, mode := range []UploadMode{UploadDirect, UploadAtomic} {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, envOptions{cfg: Config{UploadMode: mode}})
			r, data := startUpload(t, e, "grow.bin")
			var written string
			eventually(t, settle, "the first bytes written", func() bool {
				files := append(uploadTemps(t, e.Root), e.file("/grow.bin"))
				for _, f := range files {
					if fi, err := os.Stat(f); err == nil && fi.Size() >= 64<<10 {
						written = f
						return true
					}
				}
				return false
			})
			if err := os.Truncate(written, 0); err != nil {
				t.Fatal(err)
			}
			go func() {
				for range 64 { // more than the chunk in progress
					if _, err := data.Write(make([]byte, 64<<10)); err != nil {
						return
					}
				}
				data.Close()
			}()
			if msg := r.expect(554); !strings.Contains(msg, "shortened") {
				t.Errorf("554 %q does not say why", msg)
			}
			if fi, err := os.Stat(e.file("/grow.bin")); mode == UploadDirect && (err != nil || fi.Size() != 0) {
				t.Errorf("the shortened file: %v, %v; want it cut back to its 0 bytes", fi, err)
			} else if mode == UploadAtomic && err == nil {
				t.Errorf("an atomic upload whose file was shortened was saved: %d bytes", fi.Size())
			}
		})
	}
}
