package ftpd

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
)

// modes are the ways a real client talks to the service.
var modes = []struct {
	name string
	tls  string
	opts []ftp.DialOption
}{
	{"plain EPSV", "", nil},
	{"plain PASV", "", []ftp.DialOption{ftp.DialWithDisabledEPSV(true)}},
	{"explicit TLS EPSV", "explicit", nil},
	{"explicit TLS PASV", "explicit", []ftp.DialOption{ftp.DialWithDisabledEPSV(true)}},
}

// TestCommands drives every everyday command with a real client in each
// mode and checks the result on disk.
func TestCommands(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			e.t = t
			c := e.dial(m.tls, m.opts...)
			dir := "/" + strings.ReplaceAll(m.name, " ", "-")
			checkDirs(t, e, c, dir)
			checkFiles(t, e, c, dir)
			checkListings(t, c, dir)
		})
	}
}

func checkDirs(t *testing.T, e *env, c *ftp.ServerConn, dir string) {
	if pwd, err := c.CurrentDir(); err != nil || pwd != "/" {
		t.Fatalf("PWD = %q, %v; want /", pwd, err)
	}
	if err := c.MakeDir(dir); err != nil {
		t.Fatalf("MKD: %v", err)
	}
	if err := c.MakeDir(dir + "/sub"); err != nil {
		t.Fatalf("MKD sub: %v", err)
	}
	if fi, err := os.Stat(e.file(dir + "/sub")); err != nil || !fi.IsDir() {
		t.Fatalf("MKD did not create the folder on disk: %v", err)
	}
	if err := c.ChangeDir(dir + "/sub"); err != nil {
		t.Fatalf("CWD: %v", err)
	}
	if err := c.ChangeDirToParent(); err != nil {
		t.Fatalf("CDUP: %v", err)
	}
	if pwd, _ := c.CurrentDir(); pwd != dir {
		t.Fatalf("PWD after CDUP = %q, want %q", pwd, dir)
	}
	if err := c.RemoveDir("sub"); err != nil {
		t.Fatalf("RMD: %v", err)
	}
	if _, err := os.Stat(e.file(dir + "/sub")); !os.IsNotExist(err) {
		t.Fatalf("RMD left the folder: %v", err)
	}
	if err := c.ChangeDir("/"); err != nil {
		t.Fatal(err)
	}
}

func checkFiles(t *testing.T, e *env, c *ftp.ServerConn, dir string) {
	// 0-byte file, both ways.
	if err := c.Stor(dir+"/empty", bytes.NewReader(nil)); err != nil {
		t.Fatalf("STOR empty: %v", err)
	}
	if got := retr(t, c, dir+"/empty", 0); len(got) != 0 || e.read(dir+"/empty") != "" {
		t.Fatalf("0-byte file came back with %d bytes", len(got))
	}
	// UTF-8 name, SIZE, MDTM, MFMT.
	name := dir + "/résumé-日本.txt"
	if err := c.Stor(name, strings.NewReader("héllo")); err != nil {
		t.Fatalf("STOR UTF-8 name: %v", err)
	}
	if e.read(name) != "héllo" {
		t.Fatal("UTF-8 file content differs on disk")
	}
	if n, err := c.FileSize(name); err != nil || n != int64(len("héllo")) {
		t.Fatalf("SIZE = %d, %v", n, err)
	}
	mtime := time.Date(2020, 5, 17, 8, 30, 0, 0, time.UTC)
	if err := c.SetTime(name, mtime); err != nil {
		t.Fatalf("MFMT: %v", err)
	}
	if got, err := c.GetTime(name); err != nil || !got.Equal(mtime) {
		t.Fatalf("MDTM = %v, %v; want %v", got, err, mtime)
	}
	if fi, _ := os.Stat(e.file(name)); !fi.ModTime().Equal(mtime) {
		t.Fatalf("mtime on disk = %v, want %v", fi.ModTime(), mtime)
	}
	// RNFR/RNTO, DELE.
	if err := c.Rename(name, dir+"/renamed.txt"); err != nil {
		t.Fatalf("RNFR/RNTO: %v", err)
	}
	if e.read(dir+"/renamed.txt") != "héllo" {
		t.Fatal("renamed file content differs")
	}
	if err := c.Delete(dir + "/renamed.txt"); err != nil {
		t.Fatalf("DELE: %v", err)
	}
	if _, err := os.Stat(e.file(dir + "/renamed.txt")); !os.IsNotExist(err) {
		t.Fatalf("DELE left the file: %v", err)
	}
	checkResume(t, e, c, dir)
	if err := c.NoOp(); err != nil {
		t.Fatalf("NOOP: %v", err)
	}
}

// checkResume resumes a download (REST+RETR) and an upload both with
// REST+STOR and with APPE.
func checkResume(t *testing.T, e *env, c *ftp.ServerConn, dir string) {
	data := randomBytes(t, 300_000)
	e.write(dir+"/down.bin", string(data))
	if got := retr(t, c, dir+"/down.bin", 123_456); !bytes.Equal(got, data[123_456:]) {
		t.Fatalf("REST+RETR returned %d bytes, not the tail of the file", len(got))
	}
	e.write(dir+"/up.bin", string(data[:100_000]))
	if err := c.StorFrom(dir+"/up.bin", bytes.NewReader(data[100_000:]), 100_000); err != nil {
		t.Fatalf("REST+STOR: %v", err)
	}
	if e.read(dir+"/up.bin") != string(data) {
		t.Fatal("REST+STOR did not produce the whole file")
	}
	e.write(dir+"/app.bin", string(data[:5]))
	if err := c.Append(dir+"/app.bin", bytes.NewReader(data[5:])); err != nil {
		t.Fatalf("APPE: %v", err)
	}
	if e.read(dir+"/app.bin") != string(data) {
		t.Fatal("APPE did not produce the whole file")
	}
}

func checkListings(t *testing.T, c *ftp.ServerConn, dir string) {
	entries, err := c.List(dir) // MLSD
	if err != nil {
		t.Fatalf("MLSD: %v", err)
	}
	var names []string
	for _, en := range entries {
		if en.Name == "." || en.Name == ".." { // RFC 3659's cdir and pdir
			continue
		}
		names = append(names, en.Name)
		if en.Name == "down.bin" && (en.Size != 300_000 || en.Type != ftp.EntryTypeFile) {
			t.Errorf("MLSD entry %+v", en)
		}
	}
	slices.Sort(names)
	if want := []string{"app.bin", "down.bin", "empty", "up.bin"}; !slices.Equal(names, want) {
		t.Errorf("MLSD names = %v, want %v", names, want)
	}
	nl, err := c.NameList(dir)
	if err != nil || len(nl) != 4 {
		t.Errorf("NLST = %v, %v", nl, err)
	}
	en, err := c.GetEntry(dir + "/down.bin") // MLST
	if err != nil || en.Size != 300_000 {
		t.Errorf("MLST = %+v, %v", en, err)
	}
}

// TestLargeFileBothWays moves 50 MiB up and down and compares SHA-256.
func TestLargeFileBothWays(t *testing.T) {
	e := newEnv(t, envOptions{})
	data := randomBytes(t, 50<<20)
	want := sha256.Sum256(data)
	for _, m := range []struct{ name, tls string }{{"plain", ""}, {"explicit TLS", "explicit"}} {
		t.Run(m.name, func(t *testing.T) {
			e.t = t
			c := e.dial(m.tls)
			start := time.Now()
			if err := c.Stor("/big.bin", bytes.NewReader(data)); err != nil {
				t.Fatalf("STOR: %v", err)
			}
			up := time.Since(start)
			if got := sha256.Sum256([]byte(e.read("/big.bin"))); got != want {
				t.Fatal("uploaded file differs on disk")
			}
			start = time.Now()
			r, err := c.Retr("/big.bin")
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			if _, err := io.Copy(h, r); err != nil {
				t.Fatal(err)
			}
			if err := r.Close(); err != nil {
				t.Fatalf("RETR: %v", err)
			}
			if !bytes.Equal(h.Sum(nil), want[:]) {
				t.Fatal("downloaded file differs")
			}
			t.Logf("50 MiB: upload %v, download %v", up.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
		})
	}
	e.t = t
	e.waitLog(`msg="FTP transfer"`)
	if !strings.Contains(e.logs.String(), "direction=download bytes=52428800") {
		t.Error("no transfer log line with the download's byte count")
	}
}

func retr(t *testing.T, c *ftp.ServerConn, name string, offset uint64) []byte {
	t.Helper()
	r, err := c.RetrFrom(name, offset)
	if err != nil {
		t.Fatalf("RETR %s: %v", name, err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("RETR %s: %v", name, err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("RETR %s: %v", name, err)
	}
	return b
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}
