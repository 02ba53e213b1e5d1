package ftpd

import (
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
)

// freePortRange finds n consecutive ports that are free now, below the
// system's ephemeral range (32768 and up on Linux), where the outgoing
// connections of other tests and programs would take them meanwhile.
func freePortRange(t *testing.T, n int) PortRange {
	t.Helper()
	for range 100 {
		base := 20000 + mrand.IntN(12000-n)
		var lns []net.Listener
		for p := base; p < base+n; p++ {
			ln, err := net.Listen("tcp", fmt.Sprintf(":%d", p))
			if err != nil {
				break
			}
			lns = append(lns, ln)
		}
		for _, ln := range lns {
			ln.Close()
		}
		if len(lns) == n {
			return PortRange{Start: base, End: base + n - 1}
		}
	}
	t.Fatalf("no %d free consecutive ports", n)
	return PortRange{}
}

// TestLargeListing lists a folder far larger than one gathered write, in
// every mode and through a passive port range, and checks each entry:
// type, size and time of files and folders, and links inside the folder.
func TestLargeListing(t *testing.T) {
	e := newEnv(t, envOptions{cfg: Config{PassivePorts: freePortRange(t, 8)}})
	const files = 3000
	dir := e.file("/big")
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2024, 2, 29, 13, 14, 15, 0, time.UTC)
	for i := range files {
		p := filepath.Join(dir, fmt.Sprintf("file-%04d.html", i))
		if err := os.WriteFile(p, make([]byte, i), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("file-0007.html", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			e.t = t
			c := e.dial(m.tls, m.opts...)
			all, err := c.List("/big") // MLSD
			if err != nil {
				t.Fatalf("MLSD: %v", err)
			}
			var entries []*ftp.Entry
			for _, en := range all {
				if en.Name != "." && en.Name != ".." { // RFC 3659's cdir and pdir
					entries = append(entries, en)
				}
			}
			if len(entries) != files+2 {
				t.Fatalf("MLSD gave %d entries, want %d", len(entries), files+2)
			}
			seen := map[string]bool{}
			for _, en := range entries {
				seen[en.Name] = true
				var i int
				switch {
				case en.Name == "sub":
					if en.Type != ftp.EntryTypeFolder {
						t.Errorf("sub: %+v, want a folder", en)
					}
				case en.Name == "link":
					if en.Type != ftp.EntryTypeFile || en.Size != uint64(len("file-0007.html")) {
						t.Errorf("link: %+v, want the link itself", en)
					}
				default:
					fmt.Sscanf(en.Name, "file-%04d.html", &i)
					if en.Type != ftp.EntryTypeFile || en.Size != uint64(i) || !en.Time.Equal(mtime) {
						t.Fatalf("%s: %+v, want a file of %d bytes from %v", en.Name, en, i, mtime)
					}
				}
			}
			if len(seen) != files+2 || !seen["file-0000.html"] || !seen[fmt.Sprintf("file-%04d.html", files-1)] {
				t.Errorf("MLSD names are not all there: %d distinct", len(seen))
			}
			names, err := c.NameList("/big")
			if err != nil || len(names) != files+2 {
				t.Errorf("NLST gave %d names, %v", len(names), err)
			}
			// The session goes on: the next transfer works.
			if got := retr(t, c, "/big/link", 0); len(got) != 7 {
				t.Errorf("RETR of the link gave %d bytes, want 7", len(got))
			}
		})
	}
}

// TestPassivePortReleased: with a range of one port, the port serves
// transfer after transfer, and is released when a client that took it
// never connects (at the data timeout) and when its session ends.
func TestPassivePortReleased(t *testing.T) {
	e := newEnv(t, envOptions{cfg: Config{PassivePorts: freePortRange(t, 1), DataConnTimeout: time.Second}})
	e.write("/f.txt", "hello")
	c := e.dial("")
	download := func() bool {
		r, err := c.Retr("/f.txt")
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(r)
		return r.Close() == nil && string(b) == "hello"
	}
	for i := range 3 {
		if !download() {
			t.Fatalf("download %d failed: the port was not released", i)
		}
	}
	r := e.raw()
	r.login(testUser, testPass)
	r.must(229, "EPSV")
	if download() {
		t.Fatal("downloaded while the only port was held")
	}
	r.must(425, "LIST") // the client never connects
	if !download() {
		t.Fatal("the port was not released at the data timeout")
	}
	r.must(229, "EPSV")
	r.must(221, "QUIT")
	eventually(t, settle, "port released at the end of the session", download)
}
