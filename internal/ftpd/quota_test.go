package ftpd

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/panelftp/panelftp/internal/jail"
)

// storedUsage waits until no session holds dev.bob's quota on e's server
// (the last one gave back what it had reserved and not used), then reads
// the usage the store keeps.
func storedUsage(t *testing.T, e *env) (bytes, files int64) {
	t.Helper()
	eventually(t, settle, "the quota released", func() bool { return e.Srv.quotas.held() == 0 })
	u, found, _, err := e.Store.HoldQuota(t.Context(), testUser, "probe", time.Minute)
	if err != nil || !found {
		t.Fatalf("stored usage: found %v, %v", found, err)
	}
	if err := e.Store.ReleaseQuotaHold(t.Context(), testUser, "probe", 0, 0); err != nil {
		t.Fatal(err)
	}
	return u.Bytes, u.Files
}

// onDisk measures the user's folder as the quota does.
func onDisk(t *testing.T, e *env) (bytes, files int64) {
	t.Helper()
	u, err := jail.MeasureUsage(t.Context(), e.Home, "site", 0)
	if err != nil {
		t.Fatal(err)
	}
	return u.Allocated, u.Files + u.Folders
}

// sameAsDisk fails t unless the usage the store counts is what the disk
// holds.
func sameAsDisk(t *testing.T, e *env) {
	t.Helper()
	gotBytes, gotFiles := storedUsage(t, e)
	diskBytes, diskFiles := onDisk(t, e)
	if gotBytes != diskBytes || gotFiles != diskFiles {
		t.Errorf("the quota counts %d bytes and %d entries; the folder holds %d bytes (allocated) and %d entries",
			gotBytes, gotFiles, diskBytes, diskFiles)
	}
}

// TestQuotaRenameOntoItself: renaming a file onto itself (or onto another
// hard link of it) frees nothing. Before, each of 20 renames of a.bin
// onto itself credited its size, and 9.7 MB fit under a 1 MB quota.
func TestQuotaRenameOntoItself(t *testing.T) {
	e := newEnv(t, envOptions{quota: 1})
	c := e.dial("")
	if err := c.Stor("/a.bin", bytes.NewReader(make([]byte, 500<<10))); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if err := c.Rename("/a.bin", "/a.bin"); err != nil {
			t.Fatalf("RNFR/RNTO a.bin a.bin: %v", err)
		}
	}
	if err := os.Link(e.file("/a.bin"), e.file("/link.bin")); err != nil {
		t.Fatal(err)
	}
	if err := c.Rename("/link.bin", "/a.bin"); err != nil {
		t.Fatalf("RNTO onto a hard link of the same file: %v", err)
	}
	err := c.Stor("/b.bin", bytes.NewReader(make([]byte, 600<<10)))
	if err == nil || !strings.HasPrefix(err.Error(), "552") {
		t.Fatalf("600 KiB more after the renames: %v, want 552 (500 KiB of 1 MiB used)", err)
	}
	c.Quit()
	sameAsDisk(t, e)
	if used, _ := storedUsage(t, e); used > 1<<20 {
		t.Errorf("%d bytes stored under a 1 MiB quota", used)
	}
}

// TestRestPastEnd: REST beyond the end of a file, then STOR, is refused
// with 554 and writes nothing: a client cannot make a sparse file (before,
// REST 1000000000000 made a 931 GB file under a 1 MB quota).
func TestRestPastEnd(t *testing.T) {
	e := newEnv(t, envOptions{quota: 1})
	e.write("/small.txt", "12345")
	r := e.raw()
	r.login(testUser, testPass)
	for _, name := range []string{"new.bin", "small.txt"} {
		r.must(350, "REST 1000000000000")
		data := r.epsv()
		msg := r.must(554, "STOR %s", name)
		data.Close()
		if !strings.Contains(msg, "REST") {
			t.Errorf("554 %q does not say what to change", msg)
		}
	}
	r.must(350, "REST 6")
	data := r.epsv()
	r.must(554, "STOR small.txt")
	data.Close()
	if _, err := os.Stat(e.file("/new.bin")); !os.IsNotExist(err) {
		t.Errorf("new.bin exists after a refused REST: %v", err)
	}
	if got := e.read("/small.txt"); got != "12345" {
		t.Errorf("small.txt holds %q after a refused REST", got)
	}
	// At the end exactly is a resume.
	r.must(350, "REST 5")
	data = r.epsv()
	r.must(150, "STOR small.txt")
	data.Write([]byte("678"))
	data.Close()
	r.expect(226)
	if got := e.read("/small.txt"); got != "12345678" {
		t.Errorf("resumed file holds %q", got)
	}
	r.must(221, "QUIT")
	sameAsDisk(t, e)
}

// TestQuotaCountsFoldersAndEmptyFiles: folders and empty files count
// against the file limit, and folders their blocks against the quota
// (before, 500 MKDs used 2 MB of disk and counted nothing).
func TestQuotaCountsFoldersAndEmptyFiles(t *testing.T) {
	e := newEnv(t, envOptions{quota: 1, maxFiles: 100})
	r := e.raw()
	r.login(testUser, testPass)
	made := 0
	for i := range 500 {
		code, msg := r.cmd("MKD d%03d", i)
		if code != 257 {
			if code != 552 || msg != "Limit of 100 files and folders reached: delete some to make room." {
				t.Fatalf("MKD %d: %d %q, want 552 and the file limit", i, code, msg)
			}
			break
		}
		made++
	}
	if made != 100 {
		t.Fatalf("%d folders made under a limit of 100 entries", made)
	}
	r.must(250, "RMD d099")
	c := e.dial("")
	if err := c.Stor("/empty.txt", bytes.NewReader(nil)); err != nil {
		t.Fatalf("an empty file in the entry freed: %v", err)
	}
	if err := c.Stor("/empty2.txt", bytes.NewReader(nil)); err == nil || !strings.HasPrefix(err.Error(), "552") {
		t.Fatalf("a second empty file past the limit: %v, want 552", err)
	}
	r.must(221, "QUIT")
	c.Quit()
	sameAsDisk(t, e)
	if bytes, _ := onDisk(t, e); bytes == 0 {
		t.Log("this filesystem gives folders no blocks: only the file limit holds them")
	}
}

// TestQuotaFoldersUseSpace: without a file limit, folders fill the quota
// with their blocks.
func TestQuotaFoldersUseSpace(t *testing.T) {
	e := newEnv(t, envOptions{quota: 1})
	probe := filepath.Join(t.TempDir(), "probe")
	if err := os.Mkdir(probe, 0o755); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(probe)
	block := fi.Sys().(*syscall.Stat_t).Blocks * 512
	if block == 0 {
		t.Skip("folders use no blocks on this filesystem")
	}
	r := e.raw()
	r.login(testUser, testPass)
	made := 0
	for i := range 2 * (1 << 20) / int(block) {
		code, msg := r.cmd("MKD d%04d", i)
		if code != 257 {
			if code != 552 || !strings.HasPrefix(msg, "Quota of 1 MB reached") {
				t.Fatalf("MKD %d: %d %q, want 552 and the quota", i, code, msg)
			}
			break
		}
		made++
	}
	if want := (1 << 20) / int(block); made != want {
		t.Errorf("%d folders of %d bytes made under 1 MiB, want %d", made, block, want)
	}
	r.must(221, "QUIT")
	sameAsDisk(t, e)
}

// TestQuotaCountsBlocks: usage is the blocks files hold: a sparse file
// made outside FTP counts what it uses, not its length; an atomic
// upload replacing a file counts once, not twice; and every upload,
// overwrite, deletion, folder and rename leaves the count equal to what
// the folder holds.
func TestQuotaCountsBlocks(t *testing.T) {
	e := newEnv(t, envOptions{quota: 1})
	e.sparse("/sparse.img", 10<<30) // 10 GiB long, no block
	c := e.dial("")
	if err := c.Stor("/a.bin", bytes.NewReader(make([]byte, 700<<10))); err != nil {
		t.Fatalf("700 KiB beside a sparse 10 GiB file: %v", err)
	}
	if err := c.Stor("/a.bin", bytes.NewReader(make([]byte, 700<<10))); err != nil {
		t.Fatalf("replacing the 700 KiB file with another under a 1 MiB quota: %v", err)
	}
	if err := c.Stor("/odd.txt", strings.NewReader("not a whole block")); err != nil {
		t.Fatal(err)
	}
	if err := c.MakeDir("/d"); err != nil {
		t.Fatal(err)
	}
	if err := c.Stor("/d/x.bin", bytes.NewReader(make([]byte, 100<<10))); err != nil {
		t.Fatal(err)
	}
	if err := c.Rename("/d/x.bin", "/odd.txt"); err != nil { // replaces odd.txt
		t.Fatal(err)
	}
	if err := c.RemoveDir("/d"); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete("/sparse.img"); err != nil {
		t.Fatal(err)
	}
	c.Quit()
	sameAsDisk(t, e)
}

// TestQuotaSeesChangesOutsideFTP: files a website writes count from the
// next log-in once every session of the user has ended.
func TestQuotaSeesChangesOutsideFTP(t *testing.T) {
	e := newEnv(t, envOptions{quota: 1})
	c := e.dial("")
	e.write("/cache.bin", string(make([]byte, 900<<10))) // written by the website
	if err := c.Stor("/a.bin", bytes.NewReader(make([]byte, 100<<10))); err != nil {
		t.Fatalf("the session measured before the website wrote: %v", err)
	}
	c.Quit()
	eventually(t, settle, "the quota released", func() bool { return e.Srv.quotas.held() == 0 })
	c = e.dial("")
	if err := c.Stor("/b.bin", bytes.NewReader(make([]byte, 100<<10))); err == nil || !strings.HasPrefix(err.Error(), "552") {
		t.Fatalf("upload past the quota once the website's file is counted: %v, want 552", err)
	}
	c.Quit()
	sameAsDisk(t, e)
}

// TestQuotaAtomicAbortGivesBack: an aborted atomic upload gives back all
// it reserved, and a DELE what the file held.
func TestQuotaAtomicAbortGivesBack(t *testing.T) {
	e := newEnv(t, envOptions{quota: 1})
	r, data := startUpload(t, e, "big.bin")
	for range 8 {
		if _, err := data.Write(make([]byte, 64<<10)); err != nil {
			t.Fatal(err)
		}
	}
	r.must(426, "ABOR")
	r.expect(226)
	data.Close()
	r.must(221, "QUIT")
	sameAsDisk(t, e)
	c := e.dial("")
	if err := c.Stor("/full.bin", bytes.NewReader(make([]byte, 1<<20))); err != nil {
		t.Fatalf("the whole quota after an aborted upload: %v", err)
	}
	if err := c.Delete("/full.bin"); err != nil {
		t.Fatal(err)
	}
	if err := c.Stor("/again.bin", bytes.NewReader(make([]byte, 1<<20))); err != nil {
		t.Fatalf("the whole quota after DELE: %v", err)
	}
	c.Quit()
	sameAsDisk(t, e)
}

// TestQuotaManySessions: the sessions of a user on one node share its
// quota: together they store no more than it.
func TestQuotaManySessions(t *testing.T) {
	e := newEnv(t, envOptions{quota: 1, cfg: Config{UploadMode: UploadDirect}})
	errs := make(chan error, 4)
	for i := range 4 {
		c := e.dial("")
		go func() { errs <- c.Stor(fmt.Sprintf("/f%d.bin", i), bytes.NewReader(make([]byte, 400<<10))) }()
	}
	refused := 0
	for range 4 {
		if err := <-errs; err != nil {
			refused++
		}
	}
	if refused == 0 {
		t.Error("four uploads of 400 KiB all fit in 1 MiB")
	}
	if used, _ := onDisk(t, e); used > 1<<20 {
		t.Errorf("%d bytes stored under a 1 MiB quota", used)
	}
}
